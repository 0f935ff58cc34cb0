"""Calendar periods and their labels.

Grains and labels: day "2025-03-01", ISO week "2025-W09" (weeks start on
Monday; the week belongs to the year of its Thursday), month "2025-03",
quarter "2025-Q1", year "2025". A period is identified by its first day.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import FIRST_DATE, GRAINS, LAST_DATE

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_LABEL_FORMS = ("use 2025-03-01 (day), 2025-W09 (week), 2025-03 (month), "
                "2025-Q1 (quarter) or 2025 (year)")
_PATTERNS = (
    ("day", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("week", re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)),
    ("month", re.compile(r"(\d{4})-(\d{1,2})")),
    ("quarter", re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)),
    ("year", re.compile(r"(\d{4})")),
)


def as_date(value) -> date:
    """A datetime.date from a date, datetime, pandas Timestamp or ISO text."""
    if isinstance(value, datetime):     # a pandas Timestamp is a datetime
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def in_range(value, what: str = "the date") -> date:
    """`value` as a date, refused (InputError) outside the one accepted range,
    FIRST_DATE to LAST_DATE: every period, comparison and chart is defined inside it."""
    day = as_date(value)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InputError(f"{what} {day.isoformat()}: outside the dates Lodestar works with, "
                         f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}.")
    return day


def as_of_or_today(as_of=None) -> date:
    """The day a report is looked from: `as_of` (refused outside the accepted range),
    default today."""
    return in_range(as_of, "the as-of date") if as_of else date.today()


def _checked(grain: str) -> str:
    if grain not in GRAINS:
        raise InputError(f"'{grain}' is not a period length: use one of {', '.join(GRAINS)}.")
    return grain


def _months_later(d: date, months: int) -> date:
    """The first of the month `months` after d's month (negative goes back)."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(d, grain: str) -> date:
    """The first day of the period of length `grain` that contains d."""
    d, grain = as_date(d), _checked(grain)
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    return date(d.year, 1, 1)


def next_period(d, grain: str) -> date:
    """The first day of the period after the one containing d."""
    start = period_start(d, grain)
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    return _months_later(start, _MONTHS_PER[grain])


def period_end(d, grain: str) -> date:
    """The last day of the period containing d (31 March for 2025-Q1)."""
    return next_period(d, grain) - timedelta(days=1)


def previous_period(d, grain: str) -> date:
    """The first day of the period before the one containing d."""
    start = period_start(d, grain)
    if grain == "day":
        return start - timedelta(days=1)
    if grain == "week":
        return start - timedelta(days=7)
    return _months_later(start, -_MONTHS_PER[grain])


def same_period_last_year(d, grain: str) -> date:
    """The first day of the same period one year earlier.

    A day keeps its month and day (29 February falls back to the 28th); a
    week keeps its ISO week number (week 53 becomes week 52 in a year
    without one), so Mondays compare with Mondays.
    """
    start = period_start(d, grain)
    if grain == "day":
        if start.month == 2 and start.day == 29:
            return date(start.year - 1, 2, 28)
        return start.replace(year=start.year - 1)
    if grain == "week":
        year, week, _ = start.isocalendar()
        return _iso_monday(year - 1, min(week, _weeks_in(year - 1)))
    return start.replace(year=start.year - 1)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def _iso_monday(year: int, week: int) -> date:
    return date.fromisocalendar(year, week, 1)


def period_label(d, grain: str) -> str:
    """The label of the period containing d: "2025-03-01", "2025-W09", "2025-03", "2025-Q1", "2025"."""
    start = period_start(d, grain)
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _start_from(grain: str, numbers: tuple[int, ...]) -> date:
    """Raises ValueError when the numbers do not name a real period."""
    if grain == "day":
        return date(*numbers)
    if grain == "week":
        year, week = numbers
        if not 1 <= week <= _weeks_in(year):
            raise ValueError(f"{year} has {_weeks_in(year)} ISO weeks")
        return _iso_monday(year, week)
    if grain == "month":
        return date(numbers[0], numbers[1], 1)
    if grain == "quarter":
        return date(numbers[0], (numbers[1] - 1) * 3 + 1, 1)
    return date(numbers[0], 1, 1)


def parse_period(label: str) -> tuple[str, date, date]:
    """(grain, first day, last day) of a period label. Refuses (InputError) anything else."""
    text = str(label).strip()
    for grain, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                start = _start_from(grain, tuple(int(g) for g in match.groups()))
            except ValueError as exc:
                raise InputError(f"period '{text}' does not exist ({exc}): {_LABEL_FORMS}.") from None
            in_range(start, f"period '{text}' starts on")
            return grain, start, in_range(period_end(start, grain), f"period '{text}' ends on")
    raise InputError(f"'{text}' is not a period: {_LABEL_FORMS}.")


def period_starts(start, end, grain: str) -> list[date]:
    """First days of every period of length `grain` overlapping [start, end], in order."""
    current, last = period_start(start, grain), as_date(end)
    out = []
    while current <= last:
        out.append(current)
        current = next_period(current, grain)
    return out


# The calendar step a typical gap between dates stands for, in days (a month runs
# 28 to 31 days, a late or early value moves a gap by a few more).
_CALENDAR_STEPS = (("day", 1, 1), ("week", 6, 8), ("month", 26, 35), ("quarter", 85, 95),
                   ("year", 360, 370))


def calendar_step(gap_days: float | None) -> str | None:
    """"day", "week", "month", "quarter" or "year" for a typical gap of that many days
    (rounded), None for any other gap or none. The one reading of a metric's
    cadence: metrics.coverage builds on it, and so does the importer's level/flow note."""
    if gap_days is None:
        return None
    days = round(gap_days)
    return next((name for name, low, high in _CALENDAR_STEPS if low <= days <= high), None)
