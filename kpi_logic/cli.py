"""The command line: `python -m kpi_logic [--db PATH] COMMAND`.

Thin on purpose: each command parses its arguments, calls one engine
function and prints a table (or JSON with --json). Exit codes: 0 ok,
2 refused input (the message goes to stderr), 1 anything else, always as a
one-line message and never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import store
from .errors import DatabaseBusyError, InputError
from .formatting import format_change, format_progress, format_value, status_word

EXIT_OK, EXIT_ERROR, EXIT_REFUSED = 0, 1, 2
IMPORT_FIELDS = ("file", "sheet", "kind", "batch", "rows", "inserted", "updated", "unchanged")
METRIC_FIELDS = ("metric", "department", "unit", "direction", "aggregation", "formula",
                 "current", "current_date", "linked")


class Refused(InputError):
    """A bad command-line argument (exit 2), worded like any other refusal."""


# ---- output helpers -------------------------------------------------------

def jsonable(value):
    """`value` with dates as ISO text, NaN/NaT as None and numpy/pandas scalars
    as plain Python, so json.dumps writes valid JSON. Does not mutate it."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()        # a DATE column read through pandas
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def json_text(value) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False)


def table_text(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Rows as an aligned plain-text table under a header of the column names;
    numbers right-aligned, missing values as "—"."""
    headers = list(columns)
    cells = [[_cell_text(row.get(c)) for c in columns] for row in rows]
    numeric = [all(_is_number(row.get(c)) for row in rows if _cell_text(row.get(c)) != "—")
               for c in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
    return "\n".join(out)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell_text(value) -> str:
    value = jsonable(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _emit(args, value, text: Callable[[], str]) -> int:
    print(json_text(value) if args.json else text())
    return EXIT_OK


def _date(text: str | None, flag: str = "--as-of") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{flag} '{text}' is not a date; write it as YYYY-MM-DD") from None


# ---- commands -------------------------------------------------------------
def _reading(db):
    """Open an existing database to read; a path with no database is refused
    (a mistyped --db must not quietly create an empty one)."""
    path = store.database_path(db)
    if not path.exists():
        raise InputError(f"there is no Lodestar database at {path}: check --db or LODESTAR_DB, "
                         "or create it with `python -m kpi_logic demo` or `import`")
    return store.connect(path, read_only=True)


# Each command imports its engine module when it runs, so `--help` and the
# light commands start fast (reports pull in Altair, imports the readers).

def cmd_demo(args) -> int:
    from .demo import load_demo
    with store.connect(args.db) as con:
        results = load_demo(con, end=_date(args.end, "--end"))
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
    from .importing import import_files
    order = "dmy" if args.dayfirst else "mdy" if args.monthfirst else None
    with ExitStack() as stack:
        files = [(_opened(stack, p), Path(p).name) for p in args.files]
        with store.connect(args.db) as con:
            results = import_files(con, files, sheet=args.sheet, department=args.department,
                                   date_order=order, dry_run=args.dry_run)
    return _print_imports(args, results)


def _print_imports(args, results) -> int:
    if args.json:
        for r in results:
            print(json_text(r))
        return EXIT_OK
    rows = [{**jsonable(r), "notes": "; ".join(r.notes)} for r in results]
    print(table_text(rows, IMPORT_FIELDS + ("notes",)))
    if getattr(args, "dry_run", False):
        print("Dry run: nothing was written.")
    return EXIT_OK


def cmd_undo(args) -> int:
    from .undo import undo_batch
    with store.connect(args.db) as con:
        result = undo_batch(con, args.batch)
    return _emit(args, result, lambda: (
        f"Undid batch {result['batch']} ({result['file']}): "
        f"{result.get('deleted', 0)} rows removed, {result.get('restored', 0)} restored."))


def cmd_batches(args) -> int:
    from .undo import list_batches
    with _reading(args.db) as con:
        frame = list_batches(con)
    rows = [{**r, "time": r.get("imported_at")} for r in jsonable(frame.to_dict("records"))]
    columns = ("id", "file", "sheet", "kind", "time", "rows", "inserted", "updated",
               "unchanged", "undone_at")
    return _emit(args, rows, lambda: table_text(rows, columns))


def cmd_metrics(args) -> int:
    from .catalogue import metric_catalogue
    with _reading(args.db) as con:
        frame = metric_catalogue(con, args.department)
    rows = jsonable(frame.to_dict("records"))
    shown = [{**r, "current": format_value(r.get("current"), r.get("unit") or "number")}
             for r in rows]
    return _emit(args, rows, lambda: table_text(shown, METRIC_FIELDS))


def cmd_history(args) -> int:
    from .rollups import rolled_up
    with _reading(args.db) as con:
        metric = _known_metric(con, args.metric)
        frame = rolled_up(con, metric.name, args.grain, dimension=args.dimension)
        if args.dimension and frame.empty:
            raise InputError(f"metric '{metric.name}' has no history for dimension value "
                             f"'{args.dimension}'", column="dimension")
    rows = [{"period": r["label"], "value": r["value"]}
            for r in jsonable(frame.to_dict("records"))]
    shown = [{**r, "value": format_value(r["value"], metric.unit)} for r in rows]
    return _emit(args, rows, lambda: table_text(shown, ("period", "value")))


def _known_metric(con, name: str):
    """The metric's definition; refuses a name no metric has (InputError)."""
    from .store.definitions import load_metrics
    metrics = load_metrics(con)
    wanted = name.strip().lower().replace(" ", "_")
    if wanted not in metrics:
        close = ", ".join(sorted(m for m in metrics if wanted[:3] in m)[:5])
        raise InputError(f"no metric named '{name}'" + (f"; did you mean: {close}?" if close else
                         "; `metrics` lists them"), column="metric")
    return metrics[wanted]


def cmd_scorecard(args) -> int:
    from .kpis import scorecard
    with _reading(args.db) as con:
        card = scorecard(con, args.department, period=args.period, as_of=_date(args.as_of))
    return _emit(args, card, lambda: scorecard_text(jsonable(card)))


def scorecard_text(card: dict) -> str:
    partial = " (incomplete: compared like-for-like)" if card.get("partial") else ""
    rows = []
    for k in card.get("kpis", []):
        unit = k.get("unit") or "number"
        rule = "at least" if k.get("target_kind") == "min" else "at most"
        rows.append({"kpi": k.get("title"), "period": k.get("period"),
                     "value": format_value(k.get("value"), unit),
                     "target": f"{rule} {format_value(k.get('target'), unit)}",
                     "status": status_word(k.get("status")),
                     "missed": k.get("missed_in_a_row"),
                     "vs previous": format_change(k.get("vs_previous"), unit),
                     "vs last year": format_change(k.get("vs_last_year"), unit)})
    out = [f"{card.get('department')} scorecard, {card.get('period')}{partial}", "",
           table_text(rows, ("kpi", "period", "value", "target", "status", "missed",
                             "vs previous", "vs last year"))]
    metrics = [{"metric": m.get("metric"),
                "value": format_value(m.get("value"), m.get("unit") or "number"),
                "vs previous": format_change(m.get("vs_previous"), m.get("unit") or "number")}
               for m in card.get("metrics", [])]
    if metrics:
        out += ["", "Plain metrics (not linked to a KPI or key result)", "",
                table_text(metrics, ("metric", "value", "vs previous"))]
    return "\n".join(out)


def cmd_okrs(args) -> int:
    from .okrs import okr_report
    with _reading(args.db) as con:
        report = okr_report(con, department=args.department, as_of=_date(args.as_of))
    return _emit(args, report, lambda: okrs_text(jsonable(report)))


def okrs_text(report: dict) -> str:
    out = [f"Objectives and key results as of {report.get('as_of')}"]
    for o in report.get("objectives", []):
        out += ["", f"{o.get('objective')} ({o.get('department') or 'no department'}): "
                    f"{format_progress(o.get('progress'))}"]
        rows = [{"key result": k.get("title"),
                 "current": format_value(k.get("current"), k.get("unit") or "number"),
                 "progress": format_progress(k.get("progress")),
                 "expected": format_progress(k.get("expected")),
                 "status": status_word(k.get("status")), "deadline": k.get("deadline"),
                 "owner": k.get("owner")} for k in o.get("key_results", [])]
        out.append(table_text(rows, ("key result", "current", "progress", "expected",
                                     "status", "deadline", "owner")))
    return "\n".join(out)


def cmd_report(args) -> int:
    if args.page == "launch":
        png = _launch_png(args)
    else:
        from .report import render_report
        with _reading(args.db) as con:
            data = _report_data(con, args)
        png = render_report(args.page, data)
    try:
        Path(args.out).write_bytes(png)
    except OSError as exc:
        raise Refused(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"Wrote {args.out} ({len(png):,} bytes).")
    return EXIT_OK


def _launch_png(args) -> bytes:
    """The launch page's report: the launch, and saved scenarios compared with the actual."""
    from .launch import compared_scenarios, launch_analysis, scenario_splits
    from .launch_report import render_launch_report
    promotion = _date(args.promotion, "--promotion")
    names = [n.strip() for n in (args.compare or "").split(",") if n.strip()]
    comparison = splits = None
    with _reading(args.db) as con:
        found = launch_analysis(con, args.launch)
        if names:
            comparison = compared_scenarios(con, names, args.launch)
            splits = scenario_splits(con, names, args.launch)
    return render_launch_report(found, comparison, promotion=promotion, splits=splits)


def _report_data(con, args) -> dict:
    as_of = _date(args.as_of)
    if args.page == "scorecard":
        if not args.department:
            raise Refused("the scorecard report needs --department")
        from .kpis import scorecard
        return scorecard(con, args.department, period=args.period, as_of=as_of)
    if args.page == "okrs":
        from .okrs import okr_report
        return okr_report(con, department=args.department, as_of=as_of)
    from .overview import overview
    return overview(con, as_of=as_of)


def cmd_launch(args) -> int:
    from .launch import launch_summary
    with _reading(args.db) as con:
        summary = launch_summary(con, args.launch)
    return _emit(args, summary, lambda: launch_text(jsonable(summary)))


def launch_text(summary: dict) -> str:
    rows = [{**_launch_row(c), "curve": _curve_text(c.get("curve"))}
            for c in summary.get("channels", [])]
    total = summary.get("total", {})
    lines = [
        f"{summary.get('launch')} (launched {summary.get('launch_date')}), totals since launch", "",
        table_text(rows, ("channel", "spend", "visitors", "purchases", "new_customers",
                          "conversion_rate", "cac", "curve")), ""]
    campaigns = [{**_launch_row(c), "campaign": c.get("campaign") or "—"}
                 for c in summary.get("campaigns", [])]
    if campaigns:
        lines += [table_text(campaigns, ("channel", "campaign", "spend", "new_customers",
                                         "conversion_rate", "cac")), ""]
    lines.append(f"Total: spend {format_value(total.get('spend'), 'currency')}, "
                 f"{format_value(total.get('new_customers'))} new customers, "
                 f"conversion {format_value(total.get('conversion_rate'), 'percent')}, "
                 f"CAC {format_value(total.get('cac'), 'currency')}")
    return "\n".join(lines)


def _launch_row(row: dict) -> dict:
    return {**row, "spend": format_value(row.get("spend"), "currency"),
            "conversion_rate": format_value(row.get("conversion_rate"), "percent"),
            "cac": format_value(row.get("cac"), "currency")}


def _curve_text(curve: dict | None) -> str:
    if not curve:
        return "—"
    if curve.get("model") == "power":
        return (f"{curve.get('a', 0):.3g} x spend^{curve.get('b', 0):.2f} "
                f"(R² {curve.get('r2') or 0:.2f})")
    return "constant CAC"


def _bounds(pairs: Sequence[str] | None, flag: str) -> dict[str, float]:
    out = {}
    for pair in pairs or []:
        channel, _, amount = pair.partition("=")
        try:
            out[channel.strip()] = float(amount)
        except ValueError:
            raise Refused(f"{flag} {pair}: write CHANNEL=AMOUNT, e.g. {flag} social=500") from None
        if not channel.strip():
            raise Refused(f"{flag} {pair}: the channel name is missing")
    return out


def cmd_launch_optimise(args) -> int:
    from .launch import optimised_launch
    minimums, maximums = _bounds(args.min, "--min"), _bounds(args.max, "--max")
    with _reading(args.db) as con:
        result = optimised_launch(con, args.budget, args.launch, minimums, maximums)
    return _emit(args, result, lambda: optimise_text(jsonable(result)))


def optimise_text(result: dict) -> str:
    rows = [{**a, "spend": format_value(a.get("spend"), "currency"),
             "actual_spend": format_value(a.get("actual_spend"), "currency")}
            for a in result.get("allocation", [])]
    return "\n".join(
        [f"Best split of {format_value(result.get('budget'), 'currency')} a day for "
         f"{result.get('launch')}", "",
         table_text(rows, ("channel", "spend", "projected_new_customers", "actual_spend")), "",
         f"Projected: {result.get('projected_new_customers') or 0:,.1f} new customers a day, "
         f"CAC {format_value(result.get('projected_cac'), 'currency')}"]
        + [f"- {m}" for m in result.get("moves", [])])


# ---- parser ---------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    # argparse itself answers a usage error with exit 2 and no traceback.
    parser = argparse.ArgumentParser(
        prog="python -m kpi_logic",
        description="Lodestar: metrics, KPIs and key results from your spreadsheets.")
    parser.add_argument("--db", help="database file "
                                     "(default: $LODESTAR_DB, else data/lodestar.duckdb)")
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
    p = command("history", cmd_history, "a metric rolled up by period")
    p.add_argument("--metric", required=True)
    p.add_argument("--grain", default="month",
                   choices=("day", "week", "month", "quarter", "year"))
    p.add_argument("--dimension", help="one dimension value, e.g. a channel")
    p = command("scorecard", cmd_scorecard, "a department's KPIs against their targets")
    p.add_argument("--department", required=True)
    p.add_argument("--period", help='e.g. "2025-03", "2025-Q1", "2025" (default: latest complete)')
    p.add_argument("--as-of", help="look from this day, YYYY-MM-DD (default today)")
    p = command("okrs", cmd_okrs, "objectives and key results with progress")
    p.add_argument("--department")
    p.add_argument("--as-of", help="YYYY-MM-DD (default today)")
    p = command("report", cmd_report, "write a PNG report", json_flag=False)
    p.add_argument("--page", required=True, choices=("overview", "scorecard", "okrs", "launch"))
    p.add_argument("--department")
    p.add_argument("--period")
    p.add_argument("--as-of")
    p.add_argument("--launch", help="launch page: the launch (default: the latest)")
    p.add_argument("--compare", metavar="A,B", help="launch page: saved scenarios to compare")
    p.add_argument("--promotion", metavar="YYYY-MM-DD",
                   help="launch page: the promotion date (default: the launch's own)")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p = command("launch", cmd_launch, "a marketing launch per channel since its launch date")
    p.add_argument("--launch", help="launch name (default: the latest)")
    p = command("launch-optimise", cmd_launch_optimise,
                "best split of a daily budget across the launch's channels")
    p.add_argument("--budget", required=True, type=float, help="daily budget")
    p.add_argument("--launch")
    p.add_argument("--min", action="append", metavar="CHANNEL=AMOUNT")
    p.add_argument("--max", action="append", metavar="CHANNEL=AMOUNT")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"Refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except DatabaseBusyError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) left early; silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the user gets one line, never a traceback
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"Error: {type(exc).__name__}: {first}", file=sys.stderr)
        return EXIT_ERROR
