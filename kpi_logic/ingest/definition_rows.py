"""Definition rows (metrics, KPIs, targets, key results, launches) turned into
validated model dataclasses.

The importer hands over one DataFrame per file or sheet: canonical column
names, a "_line" column (the row as the user sees it), numbers already parsed
to floats (NaN when empty) and dates to `datetime.date`. Everything here is
pure: frames are read, never changed, and every refusal is an InputError that
lists each bad row and column.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.domain.formatting import metric_label, metric_words
from kpi_logic.domain.formulas import metric_name
from kpi_logic.domain.limits import MAX_LABEL_CHARS, MAX_NAME_CHARS
from kpi_logic.domain.model import (
    AGGREGATIONS,
    DIRECTIONS,
    FIRST_DATE,
    KPI,
    KPI_PERIODS,
    LAST_DATE,
    TARGET_KINDS,
    UNITS,
    KeyResult,
    Launch,
    Metric,
    Target,
)

# Column types per kind: the importer parses "number" and "date" columns in SQL
# with the same rules as history values, so "3%" and "100,000" mean one thing.
COLUMNS: dict[str, dict[str, str]] = {
    "metrics": {"metric": "text", "department": "text", "unit": "text", "direction": "text",
                "aggregation": "text", "formula": "text", "description": "text",
                "dimension": "text", "label": "text"},
    "kpis": {"title": "text", "metric": "text", "target": "number", "target_kind": "text",
             "period": "text", "department": "text", "objective": "text", "owner": "text",
             "tolerance": "number", "supporting": "text", "pinned": "text"},
    "targets": {"kpi": "text", "period": "text", "target": "number"},
    "key_results": {"objective": "text", "title": "text", "metric": "text", "start": "number",
                    "target": "number", "start_date": "date", "deadline": "date",
                    "owner": "text", "department": "text", "weight": "number"},
    "launches": {"launch": "text", "launch_date": "date", "department": "text",
                 "conversion_target": "number", "cac_target": "number",
                 "promotion_date": "date"},
    "objectives": {"objective": "text", "owner": "text", "department": "text", "cycle": "text",
                   "description": "text", "parent": "text"},
    "checkins": {"kpi": "text", "key_result": "text", "objective": "text", "period": "text",
                 "note": "text", "confidence": "text", "by": "text", "at": "text"},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "metrics": ("metric",),
    "kpis": ("metric", "target", "target_kind"),
    "targets": ("kpi", "period", "target"),
    "key_results": ("objective", "metric", "start", "target", "start_date", "deadline"),
    "launches": ("launch", "launch_date"),
    "objectives": ("objective",),
    "checkins": ("period", "note"),
}

# A cell that says "none": in a definition file an empty cell keeps what is
# stored (nothing said), one of these clears it (a setting goes back to its
# default). Any case; "na" is left out, it is also North America.
CLEAR_MARKS = ("-", "none", "(none)", "n/a", "null")

# Words people write instead of the canonical value.
_ALIASES = {
    "unit": {"#": "number", "count": "number", "money": "currency", "%": "percent",
             "pct": "percent", "percentage": "percent", "time": "duration",
             "hours": "duration", "h": "duration", "hrs": "duration",
             "min": "minutes", "mins": "minutes", "minute": "minutes"},
    "direction": {"higher": "up", "higher is better": "up", "increase": "up",
                  "lower": "down", "lower is better": "down", "decrease": "down"},
    "aggregation": {"avg": "mean", "average": "mean", "total": "sum", "latest": "last"},
    "target_kind": {"at least": "min", "floor": "min", ">=": "min", "minimum": "min",
                    "at most": "max", "ceiling": "max", "<=": "max", "maximum": "max"},
    "period": {"monthly": "month", "quarterly": "quarter", "yearly": "year", "annual": "year"},
}
# A pinned KPI is marked in its column with any of these (any case); empty or
# anything in _UNPINNED leaves it off the overview's top row.
_PINNED = ("yes", "y", "true", "1", "x", "pinned", "pin")
_UNPINNED = ("no", "n", "false", "0", "")
_ALLOWED = {"unit": UNITS, "direction": DIRECTIONS, "aggregation": AGGREGATIONS,
            "target_kind": TARGET_KINDS, "period": KPI_PERIODS}
_PERIOD_LABEL = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}")


@dataclass(frozen=True)
class Source:
    """Where definition rows came from, for refusal messages."""
    file: str
    sheet: str | None = None


class _Problems:
    """Collects located problems so one refusal lists every bad row."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line: int, column: str, text: str) -> None:
        self.items.append(f"row {line}, column '{column}': {text}")

    def raise_if_any(self, source: Source, what: str) -> None:
        if self.items:
            raise InputError(f"{len(self.items)} problem(s) in the {what}; fix them and "
                             "import again", file=source.file, sheet=source.sheet,
                             problems=self.items)


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


def _label(row, problems: _Problems) -> str | None:
    """A metric's display name: one line of at most MAX_LABEL_CHARS characters."""
    label = _text(row.get("label"))
    if label is None:
        return None
    if len(label) > MAX_LABEL_CHARS or "\n" in label or "\r" in label:
        problems.add(row["_line"], "label",
                     f"a label is one line of at most {MAX_LABEL_CHARS} characters (this one: "
                     f"'{shortened(label, 40)}'); put the rest in the description")
        return None
    return label


def _number(value) -> float | None:
    if value is None or value is pd.NaT:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _date(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.date() if isinstance(value, pd.Timestamp) else value


def _metric(row, column: str = "metric") -> str | None:
    text = _text(row.get(column))
    return metric_name(text) if text else None


def _choice(row, column: str, default: str, problems: _Problems) -> str:
    raw = _text(row.get(column))
    if raw is None:
        return default
    word = " ".join(raw.lower().split())
    word = _ALIASES.get(column, {}).get(word, word)
    if word not in _ALLOWED[column]:
        problems.add(row["_line"], column,
                     f"'{raw}' is not one of {', '.join(_ALLOWED[column])}")
        return default
    return word


def _check_columns(frame: pd.DataFrame, kind: str, source: Source) -> None:
    missing = [c for c in REQUIRED[kind] if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {kind} table needs the column(s) {', '.join(missing)}; add them to the "
            "header row", file=source.file, sheet=source.sheet, column=missing[0])


def _required(row, columns: tuple[str, ...], problems: _Problems,
              read: Callable = _text) -> bool:
    ok = True
    for column in columns:
        if read(row.get(column)) is None:
            problems.add(row["_line"], column, "is empty; it is required")
            ok = False
    return ok


def _unique(items: list, key: Callable, lines: list[int], label: str, source: Source) -> None:
    seen: dict = {}
    problems = []
    for item, line in zip(items, lines, strict=True):
        k = key(item)
        if k in seen:
            problems.append(f"rows {seen[k]} and {line} both define {label} {k!r}; keep one")
        else:
            seen[k] = line
    if problems:
        raise InputError(f"the same {label} is defined twice", file=source.file,
                         sheet=source.sheet, problems=problems)


def _rows(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def metric_definitions(frame: pd.DataFrame, source: Source) -> list[Metric]:
    """Metrics from definition rows. Refuses unknown units, directions,
    aggregations, empty names and names defined twice. Does not mutate frame."""
    _check_columns(frame, "metrics", source)
    problems, metrics, lines = _Problems(), [], []
    for row in _rows(frame):
        if not _required(row, ("metric",), problems):
            continue
        if problem := name_problem(_metric(row)):
            problems.add(row["_line"], "metric",
                         f"'{shortened(_text(row['metric']), 60)}' is not a metric name: {problem}")
            continue
        metrics.append(Metric(
            name=_metric(row), department=_text(row.get("department")),
            unit=_choice(row, "unit", "number", problems),
            direction=_choice(row, "direction", "up", problems),
            aggregation=_choice(row, "aggregation", "sum", problems),
            formula=_text(row.get("formula")), description=_text(row.get("description")) or "",
            dimension_name=_text(row.get("dimension")), label=_label(row, problems)))
        lines.append(row["_line"])
    problems.raise_if_any(source, "metric definitions")
    _unique(metrics, lambda m: m.name, lines, "metric", source)
    return metrics


def _known_metric(row, column: str, metrics: Mapping[str, Metric], problems: _Problems) -> bool:
    name = _metric(row, column)
    if name is not None and name not in metrics:
        problems.add(row["_line"], column,
                     f"unknown metric '{name}'; define it in a metrics file or import its "
                     "history first")
        return False
    return True


def has_letter(name: str) -> bool:
    """True when a metric name holds a letter (of any alphabet): "-1" or "3.5" would
    lose their meaning as keys ("1", "3_5"), so they are no metric names."""
    return any(character.isalpha() for character in name)


def name_problem(key: str) -> str | None:
    """Why the metric key `key` (a name made a key) is no metric name, or None.
    Without a letter it has lost its meaning; past MAX_NAME_CHARS it is a
    description, not a key (and past some 2,700 bytes a server cannot index it)."""
    if not has_letter(key):
        return ("it has no letter (signs, dots and spaces separate words, so it would be "
                f"stored as '{key}')")
    if len(key) > MAX_NAME_CHARS:
        return (f"it is {len(key):,} characters long, and a metric name is at most "
                f"{MAX_NAME_CHARS} (put the rest in the metric's description)")
    return None


def value_text(value: float, unit: str) -> str:
    """A number as written in a title: 0.08 percent -> "8%", 100000 -> "100,000",
    40 currency -> "$40", 4 duration (hours) -> "4 h"."""
    if unit == "percent":
        value = value * 100
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    if text in ("0", ""):
        return "$0" if unit == "currency" else "0%" if unit == "percent" else "0"
    sign = "-" if value < 0 else ""
    if unit == "currency":
        return f"{sign}${text}"
    if unit in ("duration", "minutes"):
        return f"{sign}{text} {'h' if unit == 'duration' else 'min'}"
    return sign + text + ("%" if unit == "percent" else "")


def kr_title(metric: Metric, start: float, target: float) -> str:
    """"Increase NPS from 20 to 40", "Reduce churn rate from 8% to 5%"."""
    verb = "Increase" if target > start else "Reduce"
    return (f"{verb} {metric_words(metric.name)} from {value_text(start, metric.unit)} "
            f"to {value_text(target, metric.unit)}")


def kpi_title(metric: Metric, target: float, target_kind: str) -> str:
    """"Conversion rate at least 3%" when the KPI row has no title."""
    label = metric_label(metric.name)
    bound = "at least" if target_kind == "min" else "at most"
    return f"{label} {bound} {value_text(target, metric.unit)}"


def _supporting(row, metrics: Mapping[str, Metric], problems: _Problems) -> tuple[str, ...]:
    names = tuple(metric_name(n) for n in (_text(row.get("supporting")) or "").split(",")
                  if n.strip())
    for name in names:
        if name not in metrics:
            problems.add(row["_line"], "supporting", f"unknown metric '{name}'")
    return names


def _pinned(row, problems: _Problems) -> bool:
    word = (_text(row.get("pinned")) or "").lower()
    if word in _PINNED:
        return True
    if word not in _UNPINNED:
        problems.add(row["_line"], "pinned", f"'{shortened(word, 20)}' is neither yes nor no")
    return False


def kpi_definitions(frame: pd.DataFrame, source: Source,
                    metrics: Mapping[str, Metric]) -> list[KPI]:
    """KPIs from definition rows, checked against the metrics known after the
    run. Refuses missing values, unknown metrics or kinds, titles defined twice."""
    _check_columns(frame, "kpis", source)
    problems, kpis, lines = _Problems(), [], []
    for row in _rows(frame):
        ok = _required(row, ("metric", "target_kind"), problems)
        ok = _required(row, ("target",), problems, _number) and ok
        ok = _known_metric(row, "metric", metrics, problems) and ok
        kind = _choice(row, "target_kind", "min", problems)
        period = _choice(row, "period", "month", problems)
        tolerance = _number(row.get("tolerance"))
        if tolerance is not None and not 0 <= tolerance < 1:
            problems.add(row["_line"], "tolerance", "must be a share between 0 and 1 (10% or 0.1)")
        supporting = _supporting(row, metrics, problems)
        pinned = _pinned(row, problems)
        if not ok:
            continue
        metric, target = metrics[_metric(row)], _number(row["target"])
        kpis.append(KPI(
            title=_text(row.get("title")) or kpi_title(metric, target, kind), metric=metric.name,
            target=target, target_kind=kind, period=period,
            department=_text(row.get("department")) or metric.department,
            objective=_text(row.get("objective")), owner=_text(row.get("owner")),
            tolerance=0.10 if tolerance is None else tolerance, supporting=supporting,
            pinned=pinned))
        lines.append(row["_line"])
    problems.raise_if_any(source, "KPI definitions")
    _unique(kpis, lambda k: k.title, lines, "KPI title", source)
    return kpis


def _period_label(text: str, grain: str) -> str | None:
    """A target period label; an ISO date becomes the label of its KPI's period."""
    text = text.strip().upper()
    if _PERIOD_LABEL.match(text):
        return text
    match = _ISO_DATE.match(text)
    if not match:
        return None
    year, month = match.group(1), int(match.group(2))
    if grain == "year":
        return year
    if grain == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def target_definitions(frame: pd.DataFrame, source: Source, kpis: list[KPI]) -> list[Target]:
    """Per-period targets. The kpi column names a KPI title, or a metric watched
    by exactly one KPI. Refuses unknown KPIs, bad period labels, duplicates."""
    _check_columns(frame, "targets", source)
    by_title = {k.title: k for k in kpis}
    by_metric: dict[str, list[KPI]] = {}
    for k in kpis:
        by_metric.setdefault(k.metric, []).append(k)
    problems, targets, lines = _Problems(), [], []
    for row in _rows(frame):
        ok = _required(row, ("kpi", "period"), problems)
        ok = _required(row, ("target",), problems, _number) and ok
        if not ok:
            continue
        name = _text(row["kpi"])
        watching = by_metric.get(metric_name(name), [])
        kpi = by_title.get(name) or (watching[0] if len(watching) == 1 else None)
        if kpi is None:
            problems.add(row["_line"], "kpi", f"'{name}' is neither a KPI title nor the metric "
                         "of exactly one KPI")
            continue
        label = _period_label(_text(row["period"]), kpi.period)
        if label is None:
            problems.add(row["_line"], "period",
                         f"'{_text(row['period'])}' is not a period like 2025-03, 2025-Q1 or 2025")
            continue
        if not FIRST_DATE.year <= int(label[:4]) <= LAST_DATE.year:
            problems.add(row["_line"], "period", f"'{_text(row['period'])}' is outside the years "
                         f"Lodestar accepts ({FIRST_DATE.year} to {LAST_DATE.year})")
            continue
        targets.append(Target(kpi=kpi.title, period=label, target=_number(row["target"])))
        lines.append(row["_line"])
    problems.raise_if_any(source, "targets")
    _unique(targets, lambda t: (t.kpi, t.period), lines, "KPI and period", source)
    return targets


def key_result_definitions(frame: pd.DataFrame, source: Source,
                           metrics: Mapping[str, Metric]) -> list[KeyResult]:
    """Key results. Refuses missing values, unknown metrics, start equal to
    target, a deadline before the start; generates a missing title."""
    _check_columns(frame, "key_results", source)
    problems, results, lines = _Problems(), [], []
    for row in _rows(frame):
        ok = _required(row, ("objective", "metric"), problems)
        ok = _required(row, ("start", "target"), problems, _number) and ok
        ok = _required(row, ("start_date", "deadline"), problems, _date) and ok
        ok = _known_metric(row, "metric", metrics, problems) and ok
        if not ok:
            continue
        start, target = _number(row["start"]), _number(row["target"])
        start_date, deadline = _date(row["start_date"]), _date(row["deadline"])
        if start == target:
            problems.add(row["_line"], "target", "equals the start value; a key result must "
                         "move its metric somewhere else")
            continue
        if deadline <= start_date:
            problems.add(row["_line"], "deadline", "must come after start_date")
            continue
        metric = metrics[_metric(row)]
        weight = _number(row.get("weight"))
        results.append(KeyResult(
            objective=_text(row["objective"]),
            title=_text(row.get("title")) or kr_title(metric, start, target),
            metric=metric.name, start=start, target=target, start_date=start_date,
            deadline=deadline, owner=_text(row.get("owner")),
            department=_text(row.get("department")) or metric.department,
            weight=1.0 if weight is None else weight))
        lines.append(row["_line"])
    problems.raise_if_any(source, "key results")
    _unique(results, lambda r: (r.objective, r.title), lines, "objective and title", source)
    return results


def _launch_targets_ok(row, problems: _Problems) -> bool:
    """A conversion target is a share above 0 and at most 1 (100%); a CAC target an
    amount above 0. Adds a problem for each that is not."""
    conversion, cac = _number(row.get("conversion_target")), _number(row.get("cac_target"))
    if conversion is not None and not 0 < conversion <= 1:
        problems.add(row["_line"], "conversion_target", "must be a share above 0% and at most "
                     "100%, written like 3% or 0.03")
    if cac is not None and not cac > 0:
        problems.add(row["_line"], "cac_target", "must be an amount above 0: the most a new "
                     "customer may cost")
    return (conversion is None or 0 < conversion <= 1) and (cac is None or cac > 0)


def launch_definitions(frame: pd.DataFrame, source: Source) -> list[Launch]:
    """Marketing launches. Refuses a missing name or date, a conversion target
    outside (0, 1], a CAC target not above 0, and names used twice."""
    _check_columns(frame, "launches", source)
    problems, launches, lines = _Problems(), [], []
    for row in _rows(frame):
        ok = _required(row, ("launch",), problems)
        if not (_required(row, ("launch_date",), problems, _date) and ok):
            continue
        if not _launch_targets_ok(row, problems):
            continue
        launches.append(Launch(
            launch=_text(row["launch"]), launch_date=_date(row["launch_date"]),
            department=_text(row.get("department")) or "Marketing",
            conversion_target=_number(row.get("conversion_target")),
            cac_target=_number(row.get("cac_target")),
            promotion_date=_date(row.get("promotion_date"))))
        lines.append(row["_line"])
    problems.raise_if_any(source, "launches")
    _unique(launches, lambda x: x.launch, lines, "launch", source)
    return launches
