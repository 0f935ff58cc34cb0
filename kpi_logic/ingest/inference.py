"""What a metric known only from its history gets: a unit from how its
values are written, and an aggregation from the shape of its history.

The rules (also in README, Importing your files > History):
- unit: percent when more than half of its non-empty cells carry a % sign,
  currency when more than half carry a currency sign, else number; a
  minority of marks is named in a note, never silently obeyed or dropped.
  A plain-number metric whose name ends in its time unit (chat_minutes,
  first_response_hours) is a duration in that unit: minutes or hours.
- aggregation: a percent takes mean. A level (a stock: headcount, balance,
  MRR, employment) takes last: its values are all of one sign, none is 0,
  and from one date to the next a series typically (median) moves by at
  most LEVEL_CHANGE_MAX of its value. Anything else is a flow (counts,
  money in a period, net amounts of both signs) and takes sum. With values
  on fewer than MIN_DATES dates the shape cannot be told: sum until a later
  import brings enough dates, then decided once and never flipped.

Pure: facts in (from store/history_shapes.py and writes_history.metric_hints),
choices and sentences out.
"""
from __future__ import annotations

from dataclasses import dataclass

from kpi_logic.domain.formatting import format_value
from kpi_logic.domain.periods import calendar_step

LEVEL_CHANGE_MAX = 0.05   # a level's typical change between consecutive dates, as a share of it
MIN_DATES = 3             # three dates give two changes: fewer cannot show what is typical


@dataclass(frozen=True)
class Marks:
    """How a metric's value cells were written: non-empty cells, those with a
    % sign, those with a currency sign, and one example (row, text) of a
    cell with %, with a currency sign, and with neither."""
    cells: int
    percent: int = 0
    currency: int = 0
    percent_example: tuple[int, str] | None = None
    currency_example: tuple[int, str] | None = None
    plain_example: tuple[int, str] | None = None


@dataclass(frozen=True)
class Shape:
    """A metric's stored history in numbers (store.history_shapes)."""
    values: int
    dates: int
    low: float
    high: float
    zeros: int
    steps: int = 0                  # changes measured between consecutive dates of a series
    change: float | None = None     # their median, as a share of the value before
    gap_days: float | None = None   # median days between consecutive dates


@dataclass(frozen=True)
class Choice:
    """The aggregation chosen for a metric, and why, in words."""
    metric: str
    unit: str
    aggregation: str
    shape: str        # level | flow | percent | too little history
    reason: str
    final: bool       # False: too little history, decided again by a later import


def _example(example: tuple[int, str] | None) -> str:
    return f" (row {example[0]}: '{example[1]}')" if example else ""


def unit_choice(name: str, marks: Marks) -> tuple[str, str | None]:
    """(unit, a note when the marks are mixed, else None) for a metric's cells."""
    if marks.percent * 2 > marks.cells:
        plain = marks.cells - marks.percent
        return "percent", (None if not plain else
                           f"{name}: {marks.percent} of {marks.cells} values are written with %, "
                           f"so it is a percent; {plain} are not{_example(marks.plain_example)} "
                           "and are stored as written (7.5 stays 7.5, not 7.5%): check them")
    if marks.currency * 2 > marks.cells:
        return "currency", None
    notes = []
    if marks.currency:
        notes.append(f"{marks.currency} of {marks.cells} values carry a currency sign"
                     f"{_example(marks.currency_example)}")
    if marks.percent:
        notes.append(f"{marks.percent} of {marks.cells} values are written with %"
                     f"{_example(marks.percent_example)}, stored as fractions (12.5% as 0.125)")
    if not notes:
        return _time_unit(name), None
    return "number", (f"{name}: {' and '.join(notes)}; a unit needs more than half of the "
                      "values to carry its sign, so it is a plain number: check those values")


# the name's last word that says its values are time, and the unit they are kept in
_TIME_WORDS = {"minutes": "minutes", "mins": "minutes", "min": "minutes",
               "hours": "duration", "hrs": "duration", "hr": "duration"}


def _time_unit(name: str) -> str:
    """"minutes" for chat_duration_minutes, "duration" (hours) for first_response_hours,
    else "number"."""
    last = name.replace("-", "_").replace(" ", "_").lower().rsplit("_", 1)[-1]
    return _TIME_WORDS.get(last, "number") if "_" in name or " " in name else "number"


def _cadence(gap_days: float | None) -> str:
    """"month-to-month" for monthly data (periods.calendar_step, the cadence's one rule),
    "date-to-date" for a gap no calendar step has."""
    step = calendar_step(gap_days)
    return f"{step}-to-{step}" if step else "date-to-date"


def _share(change: float) -> str:
    pct = change * 100
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.1f}%" if pct >= 1 else f"{pct:.2f}%"


def _span(low: float, high: float, unit: str) -> str:
    """"139k to 143k"; in full when rounding would show one number twice."""
    texts = [format_value(low, unit), format_value(high, unit)]
    if texts[0] == texts[1] and low != high:
        sign = "$" if unit == "currency" else ""
        texts = [f"{'-' if v < 0 else ''}{sign}{abs(v):,.10g}" for v in (low, high)]
    return " to ".join(texts)


def aggregation_choice(name: str, unit: str, shape: Shape) -> Choice:
    """How a metric known only from its history aggregates (the module's rule)."""
    def chose(aggregation: str, kind: str, reason: str, final: bool = True) -> Choice:
        return Choice(name, unit, aggregation, kind, reason, final)
    if unit == "percent":
        return chose("mean", "percent", "values written with %")
    if shape.dates < MIN_DATES:
        return chose("sum", "too little history",
                     f"values on {shape.dates} date{'s' if shape.dates != 1 else ''} only, too "
                     f"few to tell a level from a flow; decided when it has {MIN_DATES}", False)
    span = f"values {_span(shape.low, shape.high, unit)}"
    if shape.zeros:
        verb = "is" if shape.zeros == 1 else "are"
        return chose("sum", "flow", f"{shape.zeros} of {shape.values} values {verb} 0")
    if shape.low < 0 < shape.high:
        return chose("sum", "flow", f"{span}, of both signs")
    if shape.steps < 2 or shape.change is None:
        return chose("sum", "flow", "no series has values on consecutive dates to compare")
    moves = f"{_cadence(shape.gap_days)} changes typically {_share(shape.change)} of the value"
    if shape.change <= LEVEL_CHANGE_MAX:
        return chose("last", "level", f"{span}, {moves}")
    return chose("sum", "flow", f"{span}, {moves}")


def choice_note(choice: Choice, was: str | None = None) -> str:
    """"payrolls: a level (values 139k to 143k, ...): aggregation last"."""
    if not choice.final:
        return f"{choice.metric}: {choice.reason}: aggregation sum for now"
    kind = {"level": "a level", "flow": "a flow", "percent": "a percent"}[choice.shape]
    text = f"{choice.metric}: {kind} ({choice.reason}): aggregation {choice.aggregation}"
    if was is not None:
        text += f" (it was {was} while its history was too short)"
    return text


def override_note(choices: list[Choice]) -> str:
    """How to change an inferred aggregation, with the first choice as the example."""
    first = choices[0]
    other = "sum" if first.aggregation != "sum" else "last"
    return (f"to change one, import a metrics table with the columns metric,aggregation "
            f"(e.g. {first.metric},{other}) or edit it on Import and define; it is decided "
            "once: later history imports keep it")
