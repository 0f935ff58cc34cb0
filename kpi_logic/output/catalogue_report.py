"""The metrics catalogue as one PNG: every metric (of one department, or all),
grouped by department, with its current value and period, what it serves
(the KPIs and key results, or "plain") and how it is calculated. Drawn on
the reports' canvas and rasterised by vl-convert like the other pages.
"""
from __future__ import annotations

from datetime import date

import vl_convert

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts
from kpi_logic.output.report import parts_spec
from kpi_logic.output.report_blocks import LINE, MUTED, WIDTH, Canvas, header, note

ROW = 20                 # one line of a row, in pixels
MAX_USES = 3             # uses listed per metric; the rest are counted
# (x, header, width limit) of each column
COLUMNS = ((0, "Metric", 250), (260, "Current", 115), (385, "Period", 75),
           (470, "Linked to", 320), (800, "Definition", WIDTH - 800))


def _text(value) -> str:
    return "" if value is None or value != value else str(value)


def linked_words(row: dict) -> list[str]:
    """What a catalogue row serves, one line per KPI or key result; a plain
    metric says so (and that it may be a vanity metric)."""
    if row.get("linked"):
        return list(row.get("used_by") or [])
    if row.get("vanity_candidate"):
        return ["plain · vanity candidate: not linked to any goal"]
    return ["plain"]


def current_text(row: dict) -> str:
    """The current value in its unit, "so far" when its data leave the period early."""
    return (fmt.format_value(row.get("current"), row.get("unit") or "number")
            + (" so far" if row.get("current_partial") else ""))


def _uses(row: dict) -> list[str]:
    uses = linked_words(row)
    if len(uses) > MAX_USES:
        uses = uses[:MAX_USES - 1] + [f"and {len(uses) - MAX_USES + 1} more"]
    return uses


def catalogue_table(rows: list[dict]) -> dict:
    """The rows under their department's name, one to MAX_USES lines each."""
    departments = [_text(r.get("department")) for r in rows]
    groups = sum(1 for i, d in enumerate(departments) if i == 0 or d != departments[i - 1])
    height = 30 + groups * 34 + sum(len(_uses(r)) * ROW + 6 for r in rows)
    canvas = Canvas(height)
    for x, name, _ in COLUMNS:
        canvas.text(x, 16, name, size=12, colour=MUTED, weight="bold")
    y, previous = 26, None
    for row, department in zip(rows, departments, strict=True):
        if department != previous:
            canvas.text(0, y + 24, department or "No department", size=15, weight="bold")
            canvas.rect(0, y + 30, WIDTH, 1, LINE)
            y, previous = y + 34, department
        y += ROW
        cells = (row.get("metric_label") or row.get("metric"), current_text(row), fmt.human_period(row.get("current_period")),
                 None, row.get("definition"))
        for (x, _, limit), text in zip(COLUMNS, cells, strict=True):
            if text is not None:
                canvas.text(x, y - 4, _text(text), size=13, limit=limit,
                            weight="bold" if x == 0 else "normal")
        for line, use in enumerate(_uses(row)):
            canvas.text(COLUMNS[3][0], y - 4 + line * ROW, use, size=13, limit=COLUMNS[3][2],
                        colour=charts.INK if row.get("linked") else MUTED)
        y += (len(_uses(row)) - 1) * ROW + 6
    return canvas.spec()


def catalogue_spec(rows: list[dict], *, department: str | None = None,
                   as_of: date | None = None) -> dict:
    """The catalogue page as one Vega-Lite spec; `rows` are
    catalogue.metric_catalogue records (as the page filters them). Pure."""
    linked = sum(1 for r in rows if r.get("linked"))
    facts = [("Department", department or "All departments"),
             ("Metrics", f"{len(rows)} · {linked} linked to a KPI or key result · "
                         f"{len(rows) - linked} plain"),
             ("As of", fmt.human_date(as_of or date.today()))]
    parts = [header("Metrics catalogue", facts)]
    parts.append(catalogue_table(rows) if rows else note("No metrics yet."))
    return parts_spec(parts)


def render_catalogue(rows: list[dict], *, department: str | None = None,
                     as_of: date | None = None, scale: float = 2.0) -> bytes:
    """The catalogue as PNG bytes (see catalogue_spec). Does not mutate `rows`."""
    return vl_convert.vegalite_to_png(catalogue_spec(rows, department=department, as_of=as_of),
                                      scale=scale)
