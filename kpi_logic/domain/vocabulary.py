"""Which header names mean what, for every kind of input table.

Headers are matched after `normalise_header` (case, spaces, dashes and dots
do not matter). A table's kind is recognised from its header alone; a sheet
or file name only breaks ties, so "kpis.csv" holding history is still history.
"""
from __future__ import annotations

from pathlib import PurePath

from kpi_logic.domain.formulas import metric_name

# Columns that hold the date of a history row; the first one found is used.
DATE_COLUMNS = ("date", "day", "week", "month", "period", "quarter", "year")
# Numeric Excel cells in these columns are date serials, not amounts. "year"
# and "quarter" are left out on purpose: 2025 in a year column is a year.
SERIAL_DATE_COLUMNS = ("date", "day", "week", "month", "period",
                       "start_date", "deadline", "launch_date", "promotion_date")
DIMENSION_COLUMNS = ("channel", "region", "product", "segment", "dimension")
# A second breakdown under the dimension: campaigns within a channel.
CAMPAIGN_COLUMNS = ("campaign",)

# Synonyms map a written header (normalised) to the name the engine uses.
SYNONYMS = {
    "metric_name": "metric",
    "kpi_name": "kpi",
    "dept": "department",
    "team": "department",
    "amount": "value",
    "start_value": "start",
    "baseline": "start",
    "target_value": "target",
    "due_date": "deadline",
    "due": "deadline",
    "end_date": "deadline",
    "campaign_name": "campaign",
    "ad_campaign": "campaign",
    "kr": "key_result",
    "key_result_title": "key_result",
    "kpi_title": "kpi",
    "parent_objective": "parent",
    "aligned_to": "parent",
    "checked_by": "by",
    "checked_at": "at",
    "pin": "pinned",
}

LONG_COLUMNS = ("metric", "value", "department") + CAMPAIGN_COLUMNS + DIMENSION_COLUMNS
DEFINITION_COLUMNS = {
    "metrics": ("metric", "label", "department", "unit", "direction", "aggregation", "formula",
                "description"),
    "kpis": ("title", "metric", "target", "target_kind", "period", "department", "objective",
             "owner", "tolerance", "supporting", "pinned"),
    "targets": ("kpi", "metric", "period", "target"),
    "key_results": ("objective", "title", "metric", "start", "target", "start_date",
                    "deadline", "owner", "department", "weight"),
    "launches": ("launch", "launch_date", "department", "conversion_target", "cac_target",
                 "promotion_date"),
    "objectives": ("objective", "owner", "department", "cycle", "description", "parent"),
    "checkins": ("kpi", "key_result", "objective", "period", "note", "confidence", "by", "at"),
}
# The columns whose presence identifies a definition table.
IDENTIFYING = {
    "launches": ({"launch", "launch_date"},),
    "key_results": ({"objective", "metric", "start", "target"},),
    "kpis": ({"metric", "target", "target_kind"},),
    "targets": ({"kpi", "period", "target"}, {"metric", "period", "target"}),
    "metrics": ({"metric", "unit"}, {"metric", "direction"}, {"metric", "aggregation"},
                {"metric", "formula"}, {"metric", "description"}, {"metric", "label"}),
    "checkins": ({"kpi", "note"}, {"key_result", "note"}),
    "objectives": ({"objective", "cycle"}, {"objective", "parent"}, {"objective", "description"}),
}
# Numeric columns of each definition kind (decimal-comma detection looks at these).
DEFINITION_NUMBERS = {
    "metrics": (),
    "kpis": ("target", "tolerance"),
    "targets": ("target",),
    "key_results": ("start", "target", "weight"),
    "launches": ("conversion_target", "cac_target"),
    "objectives": (),
    "checkins": (),
}
# Sheets of explanation rather than data: skipped with a note, never refused.
NOTES_SHEETS = ("readme", "read_me", "notes", "instructions", "about", "help")
# A headerless sheet whose first filled cell starts with one of these is notes too.
# ("about" and "help" open ordinary sentences too often to count here.)
NOTES_OPENINGS = ("readme", "read_me", "notes", "note", "instructions", "how_to")
KINDS = ("history_long", "history_wide", "metrics", "kpis", "targets", "key_results",
         "launches", "objectives", "checkins", "unknown")


def normalise_header(text: object) -> str:
    """The header as matched: lowercase, trimmed, spaces/dashes/dots as "_", synonyms resolved."""
    # A header is matched by the metric-name rule: a wide table's headers are metric names.
    name = metric_name(str(text if text is not None else "").replace("\ufeff", ""))
    return SYNONYMS.get(name, name)


def is_notes_sheet(sheet_name: str) -> bool:
    """True for a sheet named as notes (README, Read me, Instructions, Help, ...)."""
    return normalise_header(sheet_name) in NOTES_SHEETS


def is_notes_text(first_cell: str) -> bool:
    """True when a sheet's first filled cell says the sheet is instructions ("Read me: ...")."""
    words = normalise_header(first_cell)
    return any(words == w or words.startswith(w + "_") or words.startswith(w + ":")
               for w in NOTES_OPENINGS)


def date_column(columns) -> str | None:
    """The first column naming a history date, or None."""
    for name in DATE_COLUMNS:
        if name in columns:
            return name
    return None


def dimension_column(columns) -> str | None:
    """The dimension column of long history (channel, region, ...), or None."""
    return next((c for c in columns if c in DIMENSION_COLUMNS), None)


def campaign_column(columns) -> str | None:
    """The campaign column of long history, or None."""
    return next((c for c in columns if c in CAMPAIGN_COLUMNS), None)


def _definition_kinds(cols: set[str]) -> list[str]:
    return [kind for kind, sets in IDENTIFYING.items() if any(s <= cols for s in sets)]


def classify_columns(columns, name: str | None = None) -> str:
    """The kind of table this header belongs to (one of KINDS).

    `columns` are header cells, normalised here; `name` (file or sheet name)
    breaks ties between definition kinds. Pure; does not mutate its input.
    """
    cols = {normalise_header(c) for c in columns if normalise_header(c)}
    found = _definition_kinds(cols)
    stem = normalise_header(PurePath(name).stem) if name else ""
    if stem in found:
        return stem
    # A file or sheet named for a definition kind may leave out the optional columns.
    if stem in DEFINITION_COLUMNS and cols <= set(DEFINITION_COLUMNS[stem]) and \
            cols & {"metric", "kpi", "objective", "launch", "key_result"}:
        return stem
    if found:
        return found[0]
    date = date_column(cols)
    if date and {"metric", "value"} <= cols:
        return "history_long"
    if date and len(cols - set(DATE_COLUMNS) - set(LONG_COLUMNS)) >= 1:
        return "history_wide"
    return "unknown"


def number_columns(kind: str, columns) -> tuple[str, ...]:
    """The columns of a table of `kind` that hold numbers (normalised names)."""
    cols = tuple(columns)
    if kind == "history_long":
        return tuple(c for c in cols if c == "value")
    if kind == "history_wide":
        text = set(DATE_COLUMNS) | set(LONG_COLUMNS)
        return tuple(c for c in cols if c not in text)
    return tuple(c for c in cols if c in DEFINITION_NUMBERS.get(kind, ()))


def describe_kinds() -> str:
    """One line per kind with the headers that identify it (for error messages)."""
    return ("history (long): date, metric, value [, department, channel/region/product]; "
            "history (wide): a date column (date, month, period, ...) and one column per metric; "
            "metrics: metric, unit/direction/aggregation/formula/label; kpis: metric, target, target_kind; "
            "targets: kpi or metric, period, target; key_results: objective, metric, start, target; "
            "launches: launch, launch_date; objectives: objective, cycle/parent/description; "
            "checkins: kpi or key_result, period, note")
