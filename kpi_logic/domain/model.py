"""The domain's concepts, one frozen dataclass each (see shared DOMAIN.md).

Metric, KPI, key result and objective are kept apart on purpose: a metric
measures, a KPI watches a metric against a target, a key result moves a
metric from a start value to a target by a deadline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

UNITS = ("number", "currency", "percent", "duration", "minutes")   # duration: hours
DIRECTIONS = ("up", "down")
AGGREGATIONS = ("sum", "mean", "last", "min", "max")
TARGET_KINDS = ("min", "max")          # min = at least (floor), max = at most (ceiling)
KPI_PERIODS = ("month", "quarter", "year")
GRAINS = ("day", "week", "month", "quarter", "year")
KPI_STATUSES = ("healthy", "at_risk", "unhealthy", "no_data")
KR_STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data")
DEFAULT_TOLERANCE = 0.10
TOO_MANY_KPIS = 7                      # more than this many KPIs in a department is flagged
# The one range of dates Lodestar accepts, in history and in definitions. No real
# export reaches past it, and every period, comparison and chart inside it (a year
# back, a period ahead) stays inside what Python's date and DuckDB can represent.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)


@dataclass(frozen=True)
class Metric:
    name: str
    department: str | None = None
    unit: str = "number"
    direction: str = "up"
    aggregation: str = "sum"
    formula: str | None = None          # e.g. "purchases / website_visitors"
    description: str = ""
    dimension_name: str | None = None   # e.g. "channel" when history has a dimension
    label: str | None = None            # the name people read ("Chat duration"); None: made from name


@dataclass(frozen=True)
class KPI:
    title: str
    metric: str
    target: float
    target_kind: str                    # "min" | "max"
    period: str = "month"
    department: str | None = None
    objective: str | None = None
    owner: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    supporting: tuple[str, ...] = ()    # supporting metric names
    pinned: bool = False                # among the company's most important: the overview opens with it


@dataclass(frozen=True)
class Target:
    """A per-period target overriding a KPI's default target."""
    kpi: str                            # KPI title
    period: str                         # label: "2025-03", "2025-Q1", "2025"
    target: float


@dataclass(frozen=True)
class KeyResult:
    objective: str
    title: str
    metric: str
    start: float
    target: float
    start_date: date
    deadline: date
    owner: str | None = None
    department: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class Objective:
    """A qualitative goal, usually for a quarter, that key results refer to by name.

    A key result may name an objective that is not defined (yet): it then has
    no owner, cycle or description."""
    name: str
    owner: str | None = None
    department: str | None = None
    cycle: str | None = None            # "2026-Q4", "2026-H2", "2026", "2026-11"
    description: str = ""
    parent: str | None = None           # the objective it aligns to


CHECKIN_KINDS = ("kpi", "key_result")
CONFIDENCE_WORDS = ("low", "medium", "high")


@dataclass(frozen=True)
class CheckIn:
    """A note on a KPI or a key result for one period: what happened, what is next.

    A key result's check-in may carry a confidence (low/medium/high or 1 to 10)
    that it will be achieved."""
    kind: str                           # "kpi" | "key_result"
    objective: str                      # the key result's objective; "" for a KPI
    title: str                          # the KPI's or key result's title
    period: str                         # a KPI's period label; a key result's week, month or quarter
    note: str
    confidence: str | None = None       # "low" | "medium" | "high" | "1".."10"
    checked_by: str | None = None
    checked_at: datetime | None = None


@dataclass(frozen=True)
class Launch:
    launch: str
    launch_date: date
    department: str = "Marketing"
    conversion_target: float | None = None   # at least
    cac_target: float | None = None          # at most
    promotion_date: date | None = None       # the social promotion's first day, if any
