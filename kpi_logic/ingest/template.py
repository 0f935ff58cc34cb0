"""The tabular form of Lodestar's inputs: the template workbook analysts
download (one sheet per kind of input: history, metrics, kpis, targets,
objectives, key_results, launches, checkins, each filled with a small worked example that imports
cleanly, every column explained), and the current definitions as the same
tables for editing in the dashboard.

The example is a web shop's marketing team over January to June 2025:
conversion rate and CAC are formula metrics watched by KPIs (one with
per-period targets), NPS and CAC are moved by key results (CAC downwards).
"""
from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from kpi_logic.domain.model import KPI, KeyResult, Launch, Metric, Objective, Target
from kpi_logic.domain.safe_text import spreadsheet_safe_workbook

FILE_NAME = "lodestar_template.xlsx"
README_SHEET = "README"
# The importer reads only sheets whose header it recognises; the explanation
# lives in header-cell comments and in a line above each header (which the
# importer skips while looking for the header row).
HEADER_ROW = 3

_MONTHS = [date(2025, m, 1) for m in range(1, 7)]
_HISTORY = {
    "website_visitors": (10_000, 11_000, 12_500, 12_000, 13_000, 14_000),
    "purchases": (250, 280, 330, 350, 400, 455),
    "marketing_spend": (12_000, 12_500, 13_000, 13_000, 14_000, 14_500),
    "new_customers": (240, 270, 310, 330, 370, 420),
    "nps": (20, 22, 25, 28, 31, 33),
}

# sheet -> (what one row is, {column: what to write}); "*" marks a required column.
SHEETS: dict[str, tuple[str, dict[str, str]]] = {
    "history": ("Metric history: one row per date and metric (long format). A wide sheet "
                "also works: a date column and one column per metric.", {
        "date*": "The day the value belongs to (2025-03-01). Monthly values: the first "
                 "of the month, or write 2025-03. Quarters: 2025-Q1.",
        "metric*": "The metric's name, as on the metrics sheet (spaces become _).",
        "value*": "The number: 1200, 1,200, $40 and 3% are all read. An empty "
                  "cell is missing, never zero.",
    }),
    "metrics": ("Metric definitions: how each number is calculated.", {
        "metric*": "A short name (website_visitors). Formulas refer to metrics by this name.",
        "label": "What pages and reports call it (Website visitors). Empty: made from the "
                 "name.",
        "department": "The team that owns it (Marketing, Sales, ...).",
        "unit": "number, currency, percent, duration (hours) or minutes.",
        "direction": "up (higher is better) or down (lower is better: costs, churn).",
        "aggregation": "How days add up to a month: sum (counts, money), last (balances "
                       "such as MRR), mean, min, max. Leave empty for a formula.",
        "formula": "For a computed metric: other metrics with + - * / and parentheses "
                   "(purchases / website_visitors). Rates come from the period's summed parts.",
        "description": "The definition in words, shown next to the number.",
        "dimension": "The breakdown its history has (channel, region, product), if any.",
    }),
    "kpis": ("KPIs: a metric watched against a target, every period.", {
        "title": "What the card says (Conversion at least 3%). Empty: made from the target.",
        "metric*": "The metric it watches.",
        "target*": "The target value (3% or 0.03 for percentages; 40 for $40).",
        "target_kind*": "min (at least: a floor) or max (at most: a ceiling). Meeting "
                        "the target exactly counts as met.",
        "period": "The period it is judged on: month (default), quarter or year.",
        "department": "Empty: the metric's department.",
        "objective": "The business objective it serves.",
        "owner": "Who answers for it.",
        "tolerance": "How far from the target still counts as at risk rather than "
                     "unhealthy: 10% (the default) or 0.1.",
        "supporting": "Metrics that explain it, separated by commas.",
        "pinned": "yes to open the overview with it (the company's most important KPIs).",
    }),
    "targets": ("Per-period targets: override a KPI's target for one period.", {
        "kpi*": "The KPI's title (or its metric, when one KPI watches it).",
        "period*": "2025-03 (month), 2025-Q1 (quarter) or 2025 (year).",
        "target*": "The target for that period.",
    }),
    "objectives": ("Objectives: the qualitative goals key results belong to.", {
        "objective*": "Its name (Delight customers); key results name it.",
        "owner": "Who answers for it.",
        "department": "The team it belongs to.",
        "cycle": "The stretch it runs for: 2025-Q2, 2025-H1, 2025 or 2025-04.",
        "description": "What it means, in a sentence.",
        "parent": "The objective it aligns to, if any.",
    }),
    "key_results": ("Key results: move a metric from a start value to a target by a "
                    "deadline. Each belongs to an objective.", {
        "objective*": "The qualitative goal (Delight customers); 2 to 3 key results each.",
        "title": "Says it all: Increase NPS from 20 to 40. Empty: made for you.",
        "metric*": "The metric it moves.",
        "start*": "The baseline value.",
        "target*": "Where it should get to; must differ from start (lower is fine: "
                   "a decreasing key result).",
        "start_date*": "When the work starts (2025-04-01).",
        "deadline*": "When the target is due; after start_date.",
        "owner": "Who answers for it.",
        "department": "Empty: the metric's department.",
        "weight": "Its weight in the objective's progress (default 1).",
    }),
    "launches": ("Marketing launches: the date a product or campaign went live.", {
        "launch*": "The launch's name.",
        "launch_date*": "The day it went live.",
        "department": "Default Marketing.",
        "conversion_target": "The conversion rate to reach (at least), e.g. 3%.",
        "cac_target": "The customer acquisition cost to stay under (at most), e.g. 40.",
        "promotion_date": "The first day of a social promotion, if any: engagement is "
                          "compared before and after it.",
    }),
    "checkins": ("Check-ins: a note on a KPI or a key result for one period.", {
        "kpi": "The KPI's title (or leave empty and name a key result).",
        "key_result": "The key result's title.",
        "objective": "The key result's objective, when two objectives share its title.",
        "period*": "A KPI's own period (2025-05); a key result's week (2025-W20), month "
                   "or quarter. A date stands for its period.",
        "note*": "What happened and what comes next.",
        "confidence": "Key results only: low, medium, high or 1 to 10.",
        "by": "Who checks in.",
        "at": "When (2025-05-16 09:30); empty: the time of the import.",
    }),
}
_PERCENT_COLUMNS = {("kpis", "target"), ("kpis", "tolerance"),
                    ("launches", "conversion_target")}


def template_frames() -> dict[str, pd.DataFrame]:
    """The worked example, one frame per sheet, columns as on SHEETS (without '*')."""
    history = pd.DataFrame(
        [(month, metric, value) for metric, values in _HISTORY.items()
         for month, value in zip(_MONTHS, values, strict=True)], columns=["date", "metric", "value"])
    none = None
    frames = {
        "history": history,
        "metrics": [
            ("website_visitors", "Marketing", "number", "up", "sum", none,
             "Visitors of the product page"),
            ("purchases", "Marketing", "number", "up", "sum", none,
             "Orders placed on the product page"),
            ("conversion_rate", "Marketing", "percent", "up", none, "purchases / website_visitors",
             "Buyers per product-page visitor"),
            ("marketing_spend", "Marketing", "currency", "down", "sum", none,
             "All marketing costs (USD)"),
            ("new_customers", "Marketing", "number", "up", "sum", none, "First-time buyers"),
            ("cac", "Marketing", "currency", "down", none, "marketing_spend / new_customers",
             "Customer acquisition cost: marketing spend per new customer"),
            ("nps", "Product", "number", "up", "last", none, "Net promoter score, monthly survey"),
        ],
        "kpis": [
            ("Conversion at least 3%", "conversion_rate", 0.03, "min", "month", "Marketing",
             "Grow online sales", "Mia", 0.1, "website_visitors, purchases", none),
            ("CAC at most $40", "cac", 40, "max", "month", "Marketing", "Grow online sales",
             "Mia", 0.1, "marketing_spend, new_customers", "yes"),
        ],
        "targets": [("CAC at most $40", "2025-05", 42), ("CAC at most $40", "2025-06", 38)],
        "objectives": [
            ("Delight customers", "Leo", "Product", "2025-Q2",
             "Customers recommend us to their friends", none),
            ("Grow online sales", "Mia", "Marketing", "2025-Q2",
             "More buyers at a lower cost per buyer", none),
        ],
        "key_results": [
            ("Delight customers", "Increase NPS from 20 to 40", "nps", 20, 40,
             date(2025, 4, 1), date(2025, 6, 30), "Leo", "Product", 1),
            ("Grow online sales", "Cut CAC from $50 to $35", "cac", 50, 35,
             date(2025, 4, 1), date(2025, 6, 30), "Mia", "Marketing", 1),
        ],
        "launches": [("Spring campaign", date(2025, 3, 10), "Marketing", 0.03, 40,
                      date(2025, 3, 24))],
        "checkins": [
            ("CAC at most $40", none, none, "2025-05", "Spend moved to search ads; CAC back "
             "under target", none, "Mia", "2025-06-02 09:30"),
            (none, "Increase NPS from 20 to 40", "Delight customers", "2025-W20",
             "Survey now goes to every new customer", "medium", "Leo", "2025-05-16 10:00"),
        ],
    }
    labels = {"cac": "CAC", "nps": "NPS"}     # the others read well made from their names
    frames["metrics"] = [(row[0], labels.get(row[0]), *row[1:], none)   # no dimension
                         for row in frames["metrics"]]
    return {sheet: rows if isinstance(rows, pd.DataFrame)
            else pd.DataFrame(rows, columns=columns(sheet)) for sheet, rows in frames.items()}


def columns(sheet: str) -> list[str]:
    """The column names of a template sheet, in order."""
    return [c.rstrip("*") for c in SHEETS[sheet][1]]


def readme_rows() -> list[tuple[str, str, str, str]]:
    """(sheet, column, required, what to write) for every column of every sheet."""
    return [(sheet, column.rstrip("*"), "required" if column.endswith("*") else "optional", text)
            for sheet, (_, described) in SHEETS.items() for column, text in described.items()]


def template_workbook(*, readme: bool = True) -> bytes:
    """The template as xlsx bytes: each example sheet with a purpose line, the
    header on HEADER_ROW (cells commented) and the example rows. `readme` adds
    a README sheet listing every column (first); see the module note."""
    book = Workbook()
    book.remove(book.active)
    if readme:
        _readme_sheet(book)
    for sheet, frame in template_frames().items():
        _example_sheet(book, sheet, frame)
    spreadsheet_safe_workbook(book)     # openpyxl would write text starting "=" as a formula
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def _example_sheet(book: Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(name)
    purpose, described = SHEETS[name]
    sheet.cell(row=1, column=1, value=purpose + " Replace the example rows with yours; "
               "hover a column name for what to write.").font = Font(italic=True)
    bold, required = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for position, (column, text) in enumerate(described.items(), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=position, value=column.rstrip("*"))
        cell.font, cell.comment = bold, Comment(text, "Lodestar", width=320, height=120)
        if column.endswith("*"):
            cell.fill = required
        sheet.column_dimensions[get_column_letter(position)].width = max(14, len(column) + 4)
    for offset, row in enumerate(frame.itertuples(index=False), start=HEADER_ROW + 1):
        for position, (column, value) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = sheet.cell(row=offset, column=position, value=_cell(value))
            if (name, column) in _PERCENT_COLUMNS:
                cell.number_format = "0%"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)


def _readme_sheet(book: Workbook) -> None:
    sheet = book.create_sheet(README_SHEET)
    sheet.append(["Lodestar import template. Each sheet is one kind of input; fill the ones "
                  "you need, delete the others, and upload the workbook on 'Import and define'."])
    sheet.append([])
    sheet.append(["sheet", "column", "required", "what to write"])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in readme_rows():
        sheet.append(list(row))
    for letter, width in zip("ABCD", (14, 20, 10, 100), strict=True):
        sheet.column_dimensions[letter].width = width


def _cell(value):
    """A frame value as an openpyxl cell value: dates as Excel dates, missing as empty."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value.item() if hasattr(value, "item") else value


# --- the current definitions as editable tables ----------------------------------

EDITABLE = ("metrics", "kpis", "targets", "objectives", "key_results", "launches")
# The columns that name a definition: a row with a new key is a new definition.
KEYS = {"metrics": ("metric",), "kpis": ("title",), "targets": ("kpi", "period"),
        "key_results": ("objective", "title"), "launches": ("launch",),
        "objectives": ("objective",)}


def editable_frame(kind: str, items) -> pd.DataFrame:
    """Definitions of `kind` (load_metrics' dict values or a load_* list) as a
    table with the template's columns, which import_frames reads back as is.
    Dates become datetime64 (what st.data_editor edits). Does not mutate items."""
    rows = [_editable_row(item) for item in items]
    frame = pd.DataFrame(rows, columns=columns(kind))
    for column in ("start_date", "deadline", "launch_date", "promotion_date"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def _editable_row(item) -> tuple:
    if isinstance(item, Metric):
        return (item.name, item.label, item.department, item.unit, item.direction,
                item.aggregation, item.formula, item.description, item.dimension_name)
    if isinstance(item, KPI):
        return (item.title, item.metric, item.target, item.target_kind, item.period,
                item.department, item.objective, item.owner, item.tolerance,
                ", ".join(item.supporting) or None, item.pinned)
    if isinstance(item, Target):
        return (item.kpi, item.period, item.target)
    if isinstance(item, KeyResult):
        return (item.objective, item.title, item.metric, item.start, item.target,
                item.start_date, item.deadline, item.owner, item.department, item.weight)
    if isinstance(item, Objective):
        return (item.name, item.owner, item.department, item.cycle, item.description,
                item.parent)
    if isinstance(item, Launch):
        return (item.launch, item.launch_date, item.department, item.conversion_target,
                item.cac_target, item.promotion_date)
    raise TypeError(f"not an editable definition: {item!r}")


def removed_keys(kind: str, original: pd.DataFrame, edited: pd.DataFrame) -> list[str]:
    """Keys (as text, "a / b" for two parts) of definitions in `original` that
    `edited` no longer has: deleted or renamed rows. Mutates neither frame."""
    def keys(frame: pd.DataFrame) -> list[str]:
        parts = frame[list(KEYS[kind])].astype(object).where(frame[list(KEYS[kind])].notna(), "")
        return [" / ".join(str(p).strip() for p in row) for row in parts.itertuples(index=False)]
    kept = set(keys(edited))
    return [key for key in keys(original) if key not in kept]
