"""The shapes of what the metrics part returns: the scorecard (kpis.scorecard),
the OKR report (okrs.okr_report), the overview (overview.overview), its
alerts (overview.alert_list) and a metric's history (history.metric_history).

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


class CheckinEntry(TypedDict):
    """A note on a KPI or key result for one period (goals.checkin_entry)."""
    period: str                   # the KPI's period label, or a key result's week/month/quarter
    note: str
    confidence: str | None        # key results only: low | medium | high | "1".."10"
    by: str | None
    at: str | None                # "2026-12-07 14:05:00"


class Forecast(TypedDict):
    """Where a KPI in a running period will land (forecast.period_forecast), or a
    running key result at its deadline (forecast.kr_forecast)."""
    value: float                  # the estimate, corrected by its backtest's mean error
    low: float | None             # the 80% range, from the backtest's errors
    high: float | None            # (None with fewer than 4 past periods to try it on)
    chance_of_target: float | None   # 0..1 under the same errors; None without a range or target
    method: str                   # pace | pace_weekday | so_far
    backtested_periods: int       # past periods (a key result's: equally long windows) tried on


class KpiCard(CoverageFields):
    """One KPI on a scorecard (kpis.kpi_card); the judged period is its history's last."""
    title: str
    metric: str
    metric_label: str             # the metric's display name (its label, else made from its name)
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
    pinned: bool                  # among the company's most important: on top of the overview
    checkins: list[CheckinEntry]  # newest first
    checkin_requested: bool       # flagged for review and no check-in for the judged period
    forecast: Forecast | None     # the judged period still running (or its data end early); else None


class PinnedKpi(KpiCard):
    """A pinned KPI's card on the overview (overview.pinned_cards)."""
    department: str


class MetricEntry(CoverageFields):
    """A department's metric used by no KPI or key result (kpis.metric_entry)."""
    metric: str
    metric_label: str
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
    metric_label: str
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
    checkins: list[CheckinEntry]   # newest first
    confidence: str | None         # the latest check-in's confidence
    forecast: Forecast | None      # at the deadline, while it runs with data; else None


class Flag(TypedDict):
    """Something to fix in how an objective is set up (goals.objective_flags)."""
    code: str                      # no_key_results | one_key_result | too_many_key_results |
                                   # kr_without_owner | vanity_metric
    text: str


class ObjectiveCheckin(CheckinEntry):
    key_result: str                # which of the objective's key results it is about


class ObjectiveEntry(TypedDict):
    """An objective and its key results (okrs.objective_entries)."""
    objective: str
    department: str | None         # its own, else its key results' first department
    owner: str | None
    cycle: str | None              # "2026-Q4", "2026-H2", "2026"...
    parent: str | None             # the objective it aligns to
    description: str
    progress: float | None         # weighted over its key results
    expected: float | None
    flags: list[Flag]
    checkins: list[ObjectiveCheckin]   # its key results' check-ins, newest first
    key_results: list[KeyResultEntry]


class GoalSummary(TypedDict):
    """Goal-management KPIs of some key results (goals.goal_summary): fractions, None
    when there is nothing to count."""
    key_results: int
    running: int                   # started and not past the deadline
    ended: int                     # past the deadline
    completion_rate: float | None  # achieved / finished (achieved early, or ended)
    met_by_deadline_rate: float | None   # of the ended, achieved by the deadline
    timeline_adherence: float | None     # of the running with data, on pace
    checkin_rate: float | None     # of the running, checked in within the last 7 days


class DepartmentGoals(GoalSummary):
    department: str


class OkrReport(TypedDict):
    as_of: str
    department: str | None         # the department asked for; None for every department
    summary: GoalSummary           # of every key result in the report
    departments: list[DepartmentGoals]
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
    """Something that needs attention or changed since a day (metrics/alerts.py holds
    the rules); the `alerts` command prints a list of these."""
    kind: str                      # kpi_worse | kpi_better | kpi_review | kr_behind |
                                   # kr_off_track | kr_missed | stale | unassigned
    severity: str                  # high | medium | low
    department: str | None
    title: str                     # the KPI's or key result's title; a stale group's department
    since: str | None              # the period or ISO date from which it holds; None for unassigned
    text: str                      # one sentence a person reads


class Overview(TypedDict):
    """The home page's company health (overview.overview)."""
    as_of: str
    since: str                            # changes among the alerts are counted from this day
    data_through: str | None
    departments: list[DepartmentHealth]   # departments with KPIs only
    pinned: list[PinnedKpi]               # the pinned KPIs' cards, in title order
    goals: GoalSummary                    # the company's goal-management KPIs
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
    metric_label: str | None      # its display name; None for a typed formula
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


class Driver(TypedDict):
    """One component's share of a KPI's change (explain.explanation): Shapley over the
    formula's components; a plain metric is its own one driver."""
    component: str                # the metric's name
    label: str                    # its display name
    unit: str                     # its own unit (before and after are in it)
    before: float | None
    after: float | None
    contribution: float           # the drivers' contributions add up to change.abs


class DimensionShare(TypedDict):
    """One dimension value's (or campaign's) share of a KPI's change
    (drivers.dimension_contributions)."""
    dimension: str                # the stored value ("search_ads", "Brand terms"; "" for none)
    label: str                    # in words ("Search ads")
    value: float | None           # the KPI's own value within it, this period
    previous: float | None        # and in the period compared with
    contribution: float           # the values' contributions add up to change.abs
    mix: float | None             # a ratio: its share of the denominator moving
    rate: float | None            # a ratio: its own ratio moving (mix + rate = contribution)


class ExplainedChange(TypedDict):
    abs: float | None
    pct: float | None


class Explanation(TypedDict):
    """Why a KPI moved (explain.explanation; the CLI's `explain --json`)."""
    kpi: str
    metric: str
    metric_label: str
    unit: str
    direction: str
    period: str                   # the KPI's period, e.g. "2026-11"
    compared_with: str            # the previous period's label, or the same period last year
    vs: str                       # previous | last_year
    partial: bool                 # the data end inside the period: days so far vs as many days
    value: float | None
    previous: float | None
    change: ExplainedChange
    drivers: list[Driver]         # largest contribution first
    by_dimension: list[DimensionShare]   # largest contribution first; [] when it does not split
    dimension_name: str | None    # "channel"
    by_campaign: list[DimensionShare]    # the same per campaign (`dimension` holds the campaign)
    note: str | None              # why something is missing (no data, undefined, no split)
