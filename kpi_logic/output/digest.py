"""The daily digest: the alerts (overview.alert_list) as an e-mail's subject, plain
text and HTML, and as a webhook's JSON body. Pure: output/delivery.py sends them.

Text from data (titles, departments, metric names) is escaped wherever it meets
markup: in the HTML part (html.escape) and in the webhook's Slack-compatible
`text` (&, < and > as Slack asks, so a title cannot mention @channel or link).
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from kpi_logic.domain import formatting as fmt
from kpi_logic.metrics.results import Alert

SEVERITIES = (("high", "Needs attention"), ("medium", "Keep an eye on"), ("low", "For the record"))


class DigestPayload(TypedDict):
    """The webhook's JSON body."""
    as_of: str
    since: str
    alerts: list[Alert]          # as the `alerts --json` command prints them
    text: str                    # the digest as one message (Slack's incoming webhooks read this)


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str                    # the e-mail's plain-text body
    html: str                    # its HTML part, every piece of data escaped
    payload: DigestPayload


def counts_words(alerts: Sequence[Alert]) -> str:
    """"2 high, 1 medium" (severities with none left out); "all clear" for no alerts."""
    counts = [(sum(a["severity"] == s for a in alerts), s) for s, _ in SEVERITIES]
    return ", ".join(f"{n} {s}" for n, s in counts if n) or "all clear"


def digest(alerts: Sequence[Alert], as_of: date, since: date) -> Digest:
    """The digest of `alerts` (most severe first) looked at from as_of, changes since `since`."""
    subject = f"Lodestar digest {fmt.human_date(as_of)}: {counts_words(alerts)}"
    opening = f"Lodestar alerts as of {fmt.human_date(as_of)}, changes since {fmt.human_date(since)}."
    groups = [(heading, [a for a in alerts if a["severity"] == severity])
              for severity, heading in SEVERITIES]
    groups = [(heading, found) for heading, found in groups if found]
    text = "\n".join([opening, ""] + [line for heading, found in groups for line in (
        [f"{heading} ({len(found)})"] + [f"- {a['text']}" for a in found] + [""])]
        + ([] if alerts else ["Nothing needs attention.", ""]))
    return Digest(subject, text, _html(opening, groups),
                  {"as_of": as_of.isoformat(), "since": since.isoformat(), "alerts": list(alerts),
                   "text": _slack_text(subject, groups)})


def _html(opening: str, groups: list[tuple[str, list[Alert]]]) -> str:
    parts = [f"<p>{html.escape(opening)}</p>"]
    for heading, found in groups:
        items = "".join(f"<li>{html.escape(a['text'])}</li>" for a in found)
        parts.append(f"<h3>{html.escape(heading)} ({len(found)})</h3><ul>{items}</ul>")
    if not groups:
        parts.append("<p>Nothing needs attention.</p>")
    return "<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>"


def _slack_text(subject: str, groups: list[tuple[str, list[Alert]]]) -> str:
    """Slack's mrkdwn reads &, < and > as markup (links, @mentions): escaped as it asks."""
    def escaped(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = [escaped(subject)]
    for heading, found in groups:
        lines += ["", f"{heading} ({len(found)})"] + [f"• {escaped(a['text'])}" for a in found]
    return "\n".join(lines)
