"""The alerts' commands: `alerts` (the overview's list, as a table or JSON) and
`digest` (the same list sent by e-mail and/or to a webhook, for a daily cron line;
off until configured through the environment)."""
from __future__ import annotations

import os
import sys
from datetime import date

from kpi_logic.cli.common import EXIT_ERROR, EXIT_OK, emit, parsed_date, reading, table_text
from kpi_logic.domain.periods import as_of_or_today


def _days(args) -> tuple[date, date]:
    """(as_of, since) from --as-of and --since; refuses bad dates (exit 2)."""
    from kpi_logic.metrics.overview import since_day
    as_of = as_of_or_today(parsed_date(args.as_of))
    return as_of, since_day(parsed_date(args.since, "--since"), as_of)


def _alerts(args) -> tuple[list, date, date]:
    """(alerts, as_of, since) for the command's --as-of, --since and --department."""
    from kpi_logic.metrics.overview import alert_list
    as_of, since = _days(args)
    with reading(args.db) as store:
        return alert_list(store, as_of=as_of, since=since, department=args.department), as_of, since


def cmd_alerts(args) -> int:
    found, as_of, since = _alerts(args)
    return emit(args, found, lambda rows: alerts_text(rows, as_of, since))


def alerts_text(alerts: list[dict], as_of: date, since: date) -> str:
    heading = f"Alerts as of {as_of.isoformat()}, changes since {since.isoformat()}"
    if not alerts:
        return f"{heading}: nothing needs attention."
    return "\n".join([heading, "", table_text(alerts, ("severity", "kind", "since", "text"))])


def cmd_digest(args) -> int:
    from kpi_logic.output import delivery
    from kpi_logic.output.digest import digest
    settings = delivery.digest_settings(os.environ)
    if not (args.dry_run or settings.email or settings.webhook):
        _days(args)     # a cron line with a bad date fails the day it is written, configured or not
        print("The digest is off: set LODESTAR_SMTP_HOST and LODESTAR_DIGEST_TO, or "
              "LODESTAR_DIGEST_WEBHOOK_URL, to send it (README: Daily digest). Nothing was sent.",
              file=sys.stderr)
        return EXIT_OK
    found, as_of, since = _alerts(args)
    content = digest(found, as_of, since)
    if args.dry_run:
        print(f"Subject: {content.subject}\n\n{content.text}")
        print(f"Dry run: nothing was sent; {destinations(settings) or 'nothing is configured'}.")
        return EXIT_OK
    if not found and not args.all_clear:
        print(f"Nothing needs attention as of {as_of.isoformat()}: nothing was sent "
              "(--all-clear sends a message anyway).")
        return EXIT_OK
    failed = 0
    for configured, send in ((settings.email, delivery.send_email),
                             (settings.webhook, delivery.post_webhook)):
        if configured:
            try:
                send(settings, content)
            except delivery.DeliveryError as exc:
                print(f"Error: {exc}" + ("" if args.debug else " (--debug shows the traceback)"),
                      file=sys.stderr)
                failed += 1
    if failed:
        return EXIT_ERROR
    print(f"Sent the digest ({content.subject.split(': ', 1)[1]}): {destinations(settings)}.")
    return EXIT_OK


def destinations(settings) -> str:
    """Where the digest goes, secrets left out: "by e-mail to a@x through smtp:587 and to
    the webhook https://hooks.example.com/…"."""
    from kpi_logic.output.delivery import redacted_url
    found = []
    if settings.email:
        found.append(f"by e-mail to {', '.join(settings.recipients)} through "
                     f"{settings.smtp_host}:{settings.smtp_port}")
    if settings.webhook:
        found.append(f"to the webhook {redacted_url(settings.webhook_url)}")
    return " and ".join(found)
