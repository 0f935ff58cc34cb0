"""The shapes of what the metrics part returns: the scorecard (kpis.scorecard),
the OKR report (okrs.okr_report), the overview (overview.overview) and a
metric's history (history.metric_history).

TypedDicts, not classes: the engine builds plain dicts and the CLI prints them
as JSON (cli/common.py: jsonable), so writing the shapes down changes nothing
at run time. Dates are ISO text ("2025-03-31"), periods their labels
("2025-03", "2025-Q1", "2025"), missing numbers None. tests/test_results.py
holds the CLI's JSON of the demo to exactly these keys.
"""
# No `from __future__ import annotations` here: with it, Python 3.11's TypedDict
# cannot see NotRequired in the (then textual) annotations and requires every key.
from typing import NotRequired, TypedDict


class CoverageFields(TypedDict):
    """How far a metric's data reach (coverage.Coverage.as_json), spread into an entry."""
    data_through: str | None      # the latest date with data, up to as_of
    covered_through: str | None   # the last day that date speaks for (a month dated the 1st: its end)
    cadence: str | None           # "daily", "weekly", "every 9 days"...; None when unknown


class Change(TypedDict):
    """A value against an earlier one (kpis.change)."""
    abs: float | None
    pct: float | None             # None when the base is 0 or on the other side of zero
    label: str | None             # the period compared with
    base: float | None            # the earlier value


class Pace(TypedDict):
    """A partial period of a flow judged against the target pro-rated to its data."""
    share: float                  # the part of the period the data cover, 0..1
    target: float                 # the target times share
    projected: float | None       # the value at this pace over the whole period


class KpiPeriod(TypedDict):
    """One period of a KPI's history (kpis.judged_entry)."""
    period: str
    value: float | None
    target: float
    status: str                   # healthy | at_risk | unhealthy | no_data
    partial: bool                 # the data end inside the period
    pace: NotRequired[Pace]       # only when a partial period of a flow is judged on pace


class MetricPoint(TypedDict):
    """One period of a plain metric's history."""
    period: str
    value: float | None


class Definition(TypedDict):
    formula: str | None
    aggregation: str
    description: str


class KpiCard(CoverageFields):
    """One KPI on a scorecard (kpis.kpi_card); the judged period is its history's last."""
    title: str
    metric: str
    period: str
    partial: bool
    stale: bool                   # the data end before the period: no value, status no_data
    value: float | None
    target: float
    pace: Pace | None             # the last history entry's pace, None when not judged on pace
    target_kind: str              # min (at least) | max (at most)
    tolerance: float
    status: str
    missed_in_a_row: int          # complete periods missed up to the judged one
    review: bool                  # missed often enough in a row to review the target
    unit: str
    direction: str
    owner: str | None
    objective: str | None
    supporting: list[str]         # metric names shown beside it
    vs_previous: Change
    vs_last_year: Change
    history: list[KpiPeriod]      # oldest first, the judged period last
    definition: Definition


class MetricEntry(CoverageFields):
    """A department's metric used by no KPI or key result (kpis.metric_entry)."""
    metric: str
    period: str
    partial: bool
    stale: bool
    value: float | None
    unit: str
    direction: str
    vs_previous: Change
    vs_last_year: Change
    history: list[MetricPoint]
    definition: Definition


class Scorecard(TypedDict):
    """A department's scorecard (kpis.scorecard)."""
    department: str
    period: str
    partial: bool                 # the period or any entry's data are incomplete
    as_of: str
    data_through: str | None
    kpis: list[KpiCard]
    metrics: list[MetricEntry]
    too_many_kpis: bool
    kpi_count: int


# The span's "from" is a Python keyword, hence the functional form.
MeasuredSpan = TypedDict("MeasuredSpan", {"kind": str, "from": str, "to": str})
"""The days a key result's value speaks for (okrs.measured_span); kind is
total, trailing or latest."""


class ValuePoint(TypedDict):
    """A key result's value as it stood on a date (okrs.history_points)."""
    date: str
    value: float


class KeyResultEntry(CoverageFields):
    """One key result in the OKR report (okrs.kr_entry)."""
    title: str
    metric: str
    start: float
    target: float
    current: float | None
    measured: MeasuredSpan | None  # None when the metric has no data in the span
    progress: float | None         # 0..1, clipped
    progress_raw: float | None     # unclipped: below 0 is going backwards, above 1 beyond target
    expected: float                # the share of the time to the deadline gone by
    status: str                    # on_track | at_risk | off_track | achieved | missed | no_data
    ended: bool                    # past its deadline
    partial: bool                  # the data stop before the last day they could reach
    warning: str | None
    start_date: str
    deadline: str
    owner: str | None
    department: str | None
    weight: float
    unit: str
    direction: str
    history: list[ValuePoint]


class ObjectiveEntry(TypedDict):
    """An objective and its key results (okrs.objective_entries)."""
    objective: str
    department: str | None         # its key results' first department
    progress: float | None         # weighted over its key results
    expected: float | None
    key_results: list[KeyResultEntry]


class OkrReport(TypedDict):
    as_of: str
    department: str | None         # the department asked for; None for every department
    objectives: list[ObjectiveEntry]


class DepartmentHealth(TypedDict):
    """How many of a department's KPIs stand where (overview.department_health)."""
    department: str
    period: str
    kpis: int
    healthy: int
    at_risk: int
    unhealthy: int
    no_data: int


class Alert(TypedDict):
    kind: str                      # kpi_missed | kpi_recovered | kpi_review | kr_missed |
                                   # kr_off_track | stale | unassigned
    severity: str                  # high | medium | low
    text: str
    department: str | None


class Overview(TypedDict):
    """The home page's company health (overview.overview)."""
    as_of: str
    data_through: str | None
    departments: list[DepartmentHealth]   # departments with KPIs only
    objectives: list[ObjectiveEntry]
    alerts: list[Alert]                   # most severe first


class HistoryRow(TypedDict):
    """One period of a metric's or a formula's history (history.metric_history);
    the CLI's `history --json` prints a list of them."""
    period: str
    value: float | None           # None when a formula divides by zero
    partial: bool                 # its data end inside it, or the range starts after its first day
    dimension: NotRequired[str]   # split by dimension: the dimension value ("" for rows without one)


class MetricHistory(CoverageFields):
    """A metric or a typed formula by period, whole and split (history.metric_history);
    coverage as seen from the range's last day."""
    metric: str | None            # the metric's name; None for a typed formula
    formula: str | None           # the metric's formula or the typed one; None for a recorded metric
    unit: str                     # a typed formula's is read from its parts (formulas.formula_unit)
    direction: str
    aggregation: str | None       # None for a formula: each period's parts are aggregated
    grain: str                    # day | week | month | quarter | year
    start: str | None             # the range asked for (None: from the first data / to the last)
    end: str | None
    dimension_name: str | None    # "channel" when every part is broken down by the same dimension
    rows: list[HistoryRow]        # the whole metric per period, oldest first
    split: list[HistoryRow]       # with by_dimension: per dimension value, then period; else []
