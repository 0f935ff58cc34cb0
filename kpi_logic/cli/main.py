"""The command line: `python -m kpi_logic [--db PATH] COMMAND`.

Thin on purpose: each command parses its arguments, calls one engine
function and prints a table (or JSON with --json). Exit codes: 0 ok,
2 refused input (the message goes to stderr), 1 anything else, 130 stopped
by Ctrl-C, always as a one-line message; the traceback (and the engine's
log from DEBUG up) only with --debug.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from kpi_logic.cli.alert_commands import cmd_alerts, cmd_digest
from kpi_logic.cli.common import (
    EXIT_OK,
    Refused,
    emit,
    engine_log_on_stderr,
    failure_code,
    json_text,
    jsonable,
    parsed_date,
    reading,
    table_text,
)
from kpi_logic.cli.explain_commands import cmd_explain
from kpi_logic.cli.launch_commands import cmd_launch, cmd_launch_optimise, launch_png
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formatting import (
    checkin_line,
    format_change,
    format_exact,
    format_progress,
    kr_forecast_line,
    measured_note,
    partial_note,
    period_note,
    status_word,
)

IMPORT_FIELDS = ("file", "sheet", "kind", "batch", "rows", "inserted", "updated", "unchanged")
METRIC_FIELDS = ("metric", "department", "unit", "direction", "aggregation", "definition",
                 "current", "current_date", "data_through", "cadence", "linked")


# Each command imports its engine module when it runs, so `--help` and the
# light commands start fast (reports pull in Altair, imports the readers, the
# store DuckDB and pandas); tests/test_cli.py holds `--help` to that.

def cmd_demo(args) -> int:
    from kpi_logic.demo.company import load_demo
    from kpi_logic.store import open_store
    with open_store(args.db) as store:
        results = load_demo(store, end=parsed_date(args.end, "--end"))
    return _print_imports(args, results)


def _opened(stack: ExitStack, path: str):
    """The file open for reading (the importer reads it from disk, not from memory)."""
    try:
        return stack.enter_context(open(path, "rb"))
    except FileNotFoundError:
        raise Refused(f"cannot find the file {path}; check the path") from None
    except IsADirectoryError:
        raise Refused(f"{path} is a folder; name the files to import") from None
    except PermissionError:
        raise Refused(f"cannot read {path}: permission denied") from None


def cmd_import(args) -> int:
    from kpi_logic.ingest.importing import import_files
    from kpi_logic.store import open_store
    order = "dmy" if args.dayfirst else "mdy" if args.monthfirst else None
    with ExitStack() as stack:
        files = [(_opened(stack, p), Path(p).name) for p in args.files]
        with open_store(args.db) as store:
            results = import_files(store, files, sheet=args.sheet, department=args.department,
                                   date_order=order, dry_run=args.dry_run)
    return _print_imports(args, results)


def _print_imports(args, results) -> int:
    if args.json:
        for r in results:
            print(json_text(r))
        return EXIT_OK
    rows = [{**jsonable(r), "notes": "; ".join(r.notes)} for r in results]
    print(table_text(rows, IMPORT_FIELDS + ("notes",)))
    for title, key in (("Metrics defined from history", "inferred"),
                       ("Changed fields", "changes")):
        for r in results:
            if r.details.get(key):
                print(f"\n{title} ({r.file}{f', sheet {r.sheet}' if r.sheet else ''}):")
                print("\n".join(f"  {item['text']}" for item in r.details[key]))
    if getattr(args, "dry_run", False):
        print("Dry run: nothing was written.")
    return EXIT_OK


def cmd_undo(args) -> int:
    from kpi_logic.ingest.undo import undo_batch
    from kpi_logic.store import open_store
    with open_store(args.db) as store:
        result = undo_batch(store, args.batch)
    return emit(args, result, lambda result: (
        f"Undid batch {result['batch']} ({result['file']}): "
        f"{result.get('deleted', 0)} rows removed, {result.get('restored', 0)} restored."))


def cmd_batches(args) -> int:
    from kpi_logic.ingest.undo import list_batches
    with reading(args.db) as store:
        frame = list_batches(store)
    rows = [{**r, "time": r.get("imported_at")} for r in jsonable(frame.to_dict("records"))]
    columns = ("id", "file", "sheet", "kind", "time", "rows", "inserted", "updated",
               "unchanged", "undone_at")
    return emit(args, rows, lambda rows: table_text(rows, columns))


def cmd_metrics(args) -> int:
    from kpi_logic.metrics.catalogue import metric_catalogue
    with reading(args.db) as store:
        frame = metric_catalogue(store, args.department)
    rows = jsonable(frame.to_dict("records"))
    shown = [{**r, "current": format_exact(r.get("current"), r.get("unit") or "number")
              + (" (so far)" if r.get("current_partial") else "")} for r in rows]
    return emit(args, rows, lambda _: table_text(shown, METRIC_FIELDS))


def cmd_history(args) -> int:
    from kpi_logic.metrics.history import metric_history
    with reading(args.db) as store:
        metric = _known_metric(store, args.metric).name if args.metric is not None else None
        history = metric_history(store, metric, formula=args.formula, grain=args.grain,
                                 start=parsed_date(args.start, "--from"),
                                 end=parsed_date(args.end, "--to"), dimension=args.dimension,
                                 by_dimension=args.split)
    rows = history["split"] if args.split else history["rows"]
    if args.dimension and not rows:
        what = f"metric '{metric}'" if metric else f"formula '{args.formula}'"
        raise InputError(f"{what} has no history for dimension value '{args.dimension}'",
                         column="dimension")
    return emit(args, rows, lambda rows: history_text(history, rows))


def history_text(history: dict, rows: list[dict]) -> str:
    """The history as a table: period, [dimension value,] value with its unit, and
    why a period is partial ("so far: data through 6 Dec", "from 15 Mar")."""
    split = history.get("dimension_name") or "dimension"
    shown = [{"period": r["period"], split: r.get("dimension") or "(none)",
              "value": format_exact(r["value"], history["unit"]),
              "data": partial_note(r["period"], history.get("start"),
                                   history.get("covered_through")) if r["partial"] else ""}
             for r in rows]
    columns = ("period", split, "value", "data") if rows and "dimension" in rows[0] \
        else ("period", "value", "data")
    return table_text(shown, columns)


def _known_metric(store, name: str):
    """The metric's definition; refuses a name no metric has (InputError)."""
    from kpi_logic.domain.formulas import metric_name
    metrics = store.definitions.metrics()
    wanted = metric_name(name)      # the importer's rule: "Conversion-rate" is conversion_rate
    if wanted not in metrics:
        close = ", ".join(sorted(m for m in metrics if wanted[:3] in m)[:5])
        raise InputError(f"no metric named '{name}'" + (f"; did you mean: {close}?" if close else
                         "; `metrics` lists them"), column="metric")
    return metrics[wanted]


def cmd_scorecard(args) -> int:
    from kpi_logic.metrics.kpis import scorecard
    from kpi_logic.metrics.overview import every_scorecard
    as_of = parsed_date(args.as_of)
    with reading(args.db) as store:
        if args.department is not None:
            card = scorecard(store, args.department, period=args.period, as_of=as_of)
            return emit(args, card, scorecard_text)
        cards = every_scorecard(store, period=args.period, as_of=as_of)
    return emit(args, cards, lambda cards: "\n\n\n".join(scorecard_text(c) for c in cards)
                or "No department has KPIs or metrics to show yet.")


def scorecard_text(card: dict) -> str:
    partial = " (incomplete: partial periods are compared like-for-like)" if card.get("partial") else ""
    rows = []
    for k in card.get("kpis", []):
        unit = k.get("unit") or "number"
        rule = "at least" if k.get("target_kind") == "min" else "at most"
        rows.append({"kpi": ("* " if k.get("pinned") else "") + str(k.get("title")),
                     "period": k.get("period"),
                     "value": format_exact(k.get("value"), unit),
                     "target": f"{rule} {format_exact(k.get('target'), unit)}",
                     "status": status_word(k.get("status")),
                     "data": period_note(k),
                     "missed": k.get("missed_in_a_row"),
                     "vs previous": format_change(k.get("vs_previous"), unit),
                     "vs last year": format_change(k.get("vs_last_year"), unit)})
    out = [f"{card.get('department')} scorecard, {card.get('period')}{partial}", "",
           table_text(rows, ("kpi", "period", "value", "target", "status", "data", "missed",
                             "vs previous", "vs last year"))]
    notes = [f"  > {checkin_line(c, k['title'])}" for k in card.get("kpis", [])
             for c in k.get("checkins", [])[:1]]
    notes += [f"  ? {k['title']} has missed {k['missed_in_a_row']} periods in a row: check in "
              f"(checkin --kpi ... --period {k['period']})" for k in card.get("kpis", [])
              if k.get("checkin_requested")]
    if notes:
        out += ["", "Check-ins (* = pinned to the overview)", *notes]
    metrics = [{"metric": m.get("metric"),
                "value": format_exact(m.get("value"), m.get("unit") or "number"),
                "vs previous": format_change(m.get("vs_previous"), m.get("unit") or "number")}
               for m in card.get("metrics", [])]
    if metrics:
        out += ["", "Plain metrics (not linked to a KPI or key result)", "",
                table_text(metrics, ("metric", "value", "vs previous"))]
    return "\n".join(out)


def cmd_okrs(args) -> int:
    from kpi_logic.metrics.okrs import okr_report
    with reading(args.db) as store:
        report = okr_report(store, department=args.department, as_of=parsed_date(args.as_of))
    return emit(args, report, okrs_text)


def okrs_text(report: dict) -> str:
    out = [f"Objectives and key results as of {report.get('as_of')}", "",
           goal_summary_text(report.get("summary") or {})]
    for o in report.get("objectives", []):
        about = ", ".join(x for x in (o.get("department") or "no department", o.get("cycle"),
                                      o.get("owner") and f"owner {o['owner']}",
                                      o.get("parent") and f"aligned to {o['parent']}") if x)
        out += ["", f"{o.get('objective')} ({about}): {format_progress(o.get('progress'))}"]
        out += [f"  ? {f['text']}" for f in o.get("flags", [])]
        rows = [{"key result": k.get("title"),
                 "current": format_exact(k.get("current"), k.get("unit") or "number"),
                 "measured": measured_note(k) or "", "progress": format_progress(k.get("progress")),
                 "expected": format_progress(k.get("expected")),
                 "status": status_word(k.get("status"))
                 + (f" (data through {k.get('data_through')})" if k.get("partial") else ""),
                 "deadline": k.get("deadline"), "owner": k.get("owner")}
                for k in o.get("key_results", [])]
        out.append(table_text(rows, ("key result", "current", "measured", "progress", "expected",
                                     "status", "deadline", "owner")))
        out += [f"  ! {k['title']}: {k['warning']}" for k in o.get("key_results", [])
                if k.get("warning")]
        out += [f"  ~ {k['title']}: {kr_forecast_line(k)}" for k in o.get("key_results", [])
                if k.get("forecast")]
        out += [f"  > {checkin_line(c, c['key_result'])}" for c in o.get("checkins", [])[:3]]
    return "\n".join(out)


def goal_summary_text(summary: dict) -> str:
    """"Completed 60% of 5 finished key results; met by the deadline 60%; ..."."""
    def rate(key: str) -> str:
        return format_progress(summary.get(key)) if summary.get(key) is not None else "-"
    return (f"Completion {rate('completion_rate')} · met by deadline "
            f"{rate('met_by_deadline_rate')} · on pace {rate('timeline_adherence')} · "
            f"checked in this week {rate('checkin_rate')} "
            f"({summary.get('running', 0)} running, {summary.get('ended', 0)} ended)")


def cmd_checkin(args) -> int:
    from kpi_logic.ingest.edits import record_checkin
    from kpi_logic.store import open_store
    with open_store(args.db) as store:
        result = record_checkin(store, kpi=args.kpi, key_result=args.kr, objective=args.objective,
                                period=args.period, note=args.note, confidence=args.confidence,
                                by=args.by or checkin_author())
    return emit(args, result, lambda r: (
        f"Checked in on {args.kpi or args.kr} for {args.period} (batch {r['batch']}; "
        f"undo {r['batch']} takes it back)." if r["batch"] is not None
        else "The same check-in is already stored: nothing changed."))


def checkin_author() -> str | None:
    """Who a check-in from this command is by: $LODESTAR_USER, else the login name."""
    import getpass
    import os
    try:
        return os.environ.get("LODESTAR_USER") or getpass.getuser()
    except (KeyError, OSError):     # no name for this user id (a container)
        return None


def cmd_pin(args) -> int:
    from kpi_logic.ingest.edits import pin_kpi
    from kpi_logic.store import open_store
    with open_store(args.db) as store:
        result = pin_kpi(store, args.kpi, pinned=not args.off)
    state = "unpinned" if args.off else "pinned"
    return emit(args, result, lambda r: f"{args.kpi} is {state}" + (
        f" (batch {r['batch']})." if r["batch"] is not None else " already: nothing changed."))


def cmd_report(args) -> int:
    if args.pdf is not None:
        return write_board_pack(args)
    if args.out is None:
        raise Refused("--page needs --out FILE.png, the file to write")
    if args.page == "launch":
        png = launch_png(args)
    elif args.page == "catalogue":
        png = catalogue_png(args)
    else:
        from kpi_logic.output.report import render_report
        with reading(args.db) as store:
            data = _report_data(store, args)
        png = render_report(args.page, data)
    _write(args.out, png)
    print(f"Wrote {args.out} ({len(png):,} bytes).")
    return EXIT_OK


def catalogue_png(args) -> bytes:
    """`report --page catalogue [--department D]`: every metric (of D) as one PNG."""
    from kpi_logic.metrics.catalogue import metric_catalogue
    from kpi_logic.output.catalogue_report import render_catalogue
    as_of = parsed_date(args.as_of)
    with reading(args.db) as store:
        rows = metric_catalogue(store, args.department, as_of=as_of).to_dict("records")
    # The department as the definitions write it, not as typed.
    shown = rows[0]["department"] if args.department and rows else args.department
    return render_catalogue(rows, department=shown, as_of=as_of)


# The options of one PNG page; the board pack holds every page.
PAGE_OPTIONS = ("department", "period", "launch", "compare", "promotion", "step", "out")


def write_board_pack(args) -> int:
    """`report --pdf FILE [--as-of DATE]`: the board pack. The database is read in
    one short unit of work and closed before the pages are drawn (seconds each)."""
    given = [f"--{name}" for name in PAGE_OPTIONS if getattr(args, name) is not None]
    if given:
        raise Refused(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for one PNG "
                      "page (--page); the board pack (--pdf) holds every department's "
                      "scorecard, the OKRs and each launch, and takes only --as-of")
    as_of = parsed_date(args.as_of)
    _writable(args.pdf)         # before the seconds of drawing, not after them
    from kpi_logic.output.board_pack import board_pack_data, board_pack_pdf
    with reading(args.db) as store:
        data = board_pack_data(store, as_of)
    pdf = board_pack_pdf(data)
    _write(args.pdf, pdf)
    print(f"Wrote {args.pdf} ({data.page_count} pages, {len(pdf):,} bytes).")
    return EXIT_OK


def _writable(path: str) -> None:
    """Refuses a file that cannot be written; changes nothing (a file the check
    creates is removed again)."""
    out = Path(path)
    if out.is_dir():
        raise Refused(f"cannot write {path}: it is a folder; name the file to write")
    existed = out.exists()
    try:
        with open(out, "ab"):       # appends nothing: an existing file keeps its bytes
            pass
    except OSError as exc:
        raise Refused(f"cannot write {path}: {exc.strerror}") from None
    if not existed:
        out.unlink(missing_ok=True)


def _write(path: str, content: bytes) -> None:
    try:
        Path(path).write_bytes(content)
    except OSError as exc:
        raise Refused(f"cannot write {path}: {exc.strerror}") from None


def _report_data(store, args) -> dict:
    as_of = parsed_date(args.as_of)
    if args.page == "scorecard":
        if not args.department:
            raise Refused("the scorecard report needs --department")
        from kpi_logic.metrics.explain import explained_scorecard
        return explained_scorecard(store, args.department, period=args.period, as_of=as_of)
    if args.page == "okrs":
        from kpi_logic.metrics.okrs import okr_report
        return okr_report(store, department=args.department, as_of=as_of)
    from kpi_logic.metrics.overview import overview
    return overview(store, as_of=as_of)


# ---- parser ---------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    # argparse itself answers a usage error with exit 2 and no traceback.
    parser = argparse.ArgumentParser(
        prog="python -m kpi_logic",
        description="Lodestar: metrics, KPIs and key results from your spreadsheets.")
    parser.add_argument("--db", help="a DuckDB file or a postgresql:// URL (default: "
                                     "$LODESTAR_DATABASE_URL, else $LODESTAR_DB, else "
                                     "data/lodestar.duckdb)")
    parser.add_argument("--debug", action="store_true",
                        help="on a failure print the traceback; show the engine's log on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler, help_text: str, json_flag: bool = True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.set_defaults(handler=handler)
        return p

    p = command("demo", cmd_demo, "load the demo company (Brightpath) into the database")
    p.add_argument("--end", help="last day of history, YYYY-MM-DD (default yesterday)")
    p = command("import", cmd_import, "import CSV/Excel files of history or definitions")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--sheet", help="only this sheet of a workbook")
    p.add_argument("--department", help="department for wide history without one")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true", help="dates are day/month/year")
    order.add_argument("--monthfirst", action="store_true", help="dates are month/day/year")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p = command("undo", cmd_undo, "undo one import batch")
    p.add_argument("batch", type=int, metavar="BATCH")
    command("batches", cmd_batches, "list import batches")
    p = command("metrics", cmd_metrics, "the metrics catalogue")
    p.add_argument("--department")
    p = command("history", cmd_history, "a metric, or a formula over metrics, by period")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--metric")
    what.add_argument("--formula", help='e.g. "purchases / website_visitors": computed from '
                                        "each period's summed parts")
    p.add_argument("--grain", default="month",
                   choices=("day", "week", "month", "quarter", "year"))
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: "
                   "the first data)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: the "
                   "latest data)")
    p.add_argument("--dimension", help="one dimension value, e.g. a channel")
    p.add_argument("--split", action="store_true",
                   help="one series per dimension value (channel, region...)")
    p = command("scorecard", cmd_scorecard, "KPIs against their targets, per department")
    p.add_argument("--department", help="one department (default: every department, in turn)")
    p.add_argument("--period", help='e.g. "2025-03", "2025-Q1", "2025" (default: latest complete)')
    p.add_argument("--as-of", help="look from this day, YYYY-MM-DD (default today)")
    p = command("okrs", cmd_okrs, "objectives and key results with progress")
    p.add_argument("--department")
    p.add_argument("--as-of", help="YYYY-MM-DD (default today)")
    p = command("checkin", cmd_checkin, "note how a KPI or key result is doing in a period")
    subject = p.add_mutually_exclusive_group(required=True)
    subject.add_argument("--kpi", metavar="TITLE", help="the KPI's title")
    subject.add_argument("--kr", metavar="TITLE", help="the key result's title")
    p.add_argument("--objective", help="the key result's objective, when two hold its title")
    p.add_argument("--period", required=True,
                   help="the KPI's period (2026-11, 2026-Q4, 2026) or the key result's week "
                        "(2026-W49), month or quarter; a date stands for its period")
    p.add_argument("--note", required=True, help="what happened and what comes next")
    p.add_argument("--confidence", help="key results: low, medium, high or 1 to 10")
    p.add_argument("--by", help="who checks in (default: $LODESTAR_USER, else your login)")
    p = command("pin", cmd_pin, "pin a KPI to the top of the overview (--off unpins it)")
    p.add_argument("--kpi", required=True, metavar="TITLE")
    p.add_argument("--off", action="store_true", help="unpin it")
    p = command("explain", cmd_explain, "why a KPI moved: its change split into its formula's "
                                        "components, its dimension values and its campaigns")
    p.add_argument("--kpi", required=True, help="the KPI's title")
    p.add_argument("--period", help="the KPI's period (2026-11, 2026-Q4); default its latest "
                                    "complete one")
    p.add_argument("--vs", choices=("previous", "last_year"), default="previous",
                   help="compare with the previous period (default) or the same period last year")
    p.add_argument("--as-of", help="the day to look from, YYYY-MM-DD (default today)")
    p = command("alerts", cmd_alerts, "what needs attention, and status changes since a day "
                                      "(the overview's list)")
    _alert_arguments(p)
    p = command("digest", cmd_digest, "send the alerts by e-mail and/or to a webhook (off until "
                                      "configured: README, Daily digest)", json_flag=False)
    _alert_arguments(p)
    p.add_argument("--dry-run", action="store_true", help="print the digest, send nothing")
    p.add_argument("--all-clear", action="store_true",
                   help="send a message even when nothing needs attention")
    p = command("report", cmd_report, "write a PNG report of one page (--page), or the "
                "board pack of every page as one PDF (--pdf)", json_flag=False)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--page", choices=("overview", "scorecard", "okrs", "launch", "catalogue"))
    what.add_argument("--pdf", metavar="FILE.pdf",
                      help="the board pack: a cover, the overview, every department's "
                           "scorecard, the OKRs and each launch, one page each")
    p.add_argument("--department")
    p.add_argument("--period")
    p.add_argument("--as-of", help="YYYY-MM-DD (default today)")
    p.add_argument("--launch", help="launch page: the launch (default: the latest)")
    p.add_argument("--compare", metavar="A,B", help="launch page: saved scenarios to compare")
    p.add_argument("--promotion", metavar="YYYY-MM-DD",
                   help="launch page: the promotion date (default: the launch's own)")
    p.add_argument("--step", choices=("measure", "analyse", "improve", "scenarios"),
                   help="launch page: one step's PNG, as the page's download of that step "
                        "(default: the whole launch)")
    p.add_argument("--out", metavar="FILE.png", help="the PNG to write (with --page)")
    p = command("launch", cmd_launch, "a marketing launch per channel since its launch date")
    p.add_argument("--launch", help="launch name (default: the latest)")
    p = command("launch-optimise", cmd_launch_optimise,
                "best split of a daily budget across the launch's channels")
    p.add_argument("--budget", required=True, type=float, help="daily budget")
    p.add_argument("--launch")
    p.add_argument("--min", action="append", metavar="CHANNEL=AMOUNT")
    p.add_argument("--max", action="append", metavar="CHANNEL=AMOUNT")
    p.add_argument("--anywhere", action="store_true",
                   help="allow spend outside each channel's daily range seen (the curves "
                        "then extrapolate; warned about in the result)")
    return parser


def _alert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="count changes from this day, YYYY-MM-DD (default: a week "
                                   "before --as-of)")
    p.add_argument("--as-of", help="look from this day, YYYY-MM-DD (default today)")
    p.add_argument("--department", help="one department's alerts only")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with engine_log_on_stderr(args.debug):
        try:
            return args.handler(args)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the command's edge: one line and an exit code, the traceback only with --debug
            return failure_code(exc, debug=args.debug)
