"""Key results and objectives: progress, pace and status, and the OKR report.

Progress = (current - start) / (target - start), so a decreasing key result
("cut response time from 10 h to 4 h") needs no special case. The report's
values are JSON-ready: dates as ISO strings, missing numbers as None.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formatting import display_name
from kpi_logic.domain.formulas import formula_metrics, formula_values, parse_formula
from kpi_logic.domain.model import KeyResult, Metric, Objective
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import as_date, as_of_or_today, period_start
from kpi_logic.metrics import goals
from kpi_logic.metrics.catalogue import (
    formula_components,
    known_departments,
    kpi_department,
    resolved_department,
    with_components,
)
from kpi_logic.metrics.coverage import Coverage, coverages, is_flow
from kpi_logic.metrics.forecast import Series, earlier_windows, kr_forecast, metric_parts
from kpi_logic.metrics.results import (
    CheckinEntry,
    Forecast,
    KeyResultEntry,
    MeasuredSpan,
    ObjectiveEntry,
    OkrReport,
    ValuePoint,
)
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

TRAILING_DAYS = 28          # a rate or mean stands at its value over this many days of data
IMPLAUSIBLE_PROGRESS = 10   # raw progress past +-1000% asks to check the metric's aggregation
ON_TRACK_SLACK = 0.05       # up to 5 points behind expected progress still counts as on track
AT_RISK_BAND = 0.15         # 5 to 15 points behind is at risk; further behind is off track
HISTORY_POINTS = 60         # a key result's line gets weekly points beyond this many dates
_EPSILON = 1e-9             # float noise must not turn a reached target into "not achieved"


def kr_progress(current: float | None, start: float, target: float) -> tuple[float | None, float | None]:
    """(progress clamped to 0..1, raw progress) of a key result; (None, None) without a current value.

    Refuses start == target (InputError): such a key result has no distance to cover.
    """
    if start == target:
        raise InputError(f"A key result's start value and target are both {start}: "
                         "give it a target different from where it starts.")
    if is_missing(current):
        return None, None
    raw = (current - start) / (target - start)
    return min(max(raw, 0.0), 1.0), raw


def expected_progress(start_date: date, deadline: date, as_of: date) -> float:
    """The share of [start_date, deadline] elapsed at as_of, clamped to 0..1."""
    total = (deadline - start_date).days
    if total <= 0:
        return 1.0 if as_of >= deadline else 0.0
    elapsed = (as_of - start_date).days
    return min(max(elapsed / total, 0.0), 1.0)


def kr_status(progress_raw: float | None, expected: float, ended: bool = False) -> str:
    """achieved | on_track | at_risk | off_track | missed | no_data.

    Achieved when the target is reached in the right direction (raw >= 1).
    A key result past its deadline is finished: achieved or missed, judged on
    its value at the deadline. Before that it is compared with the expected
    progress using ON_TRACK_SLACK and AT_RISK_BAND.
    """
    if is_missing(progress_raw):
        return "no_data"
    if progress_raw >= 1 - _EPSILON:
        return "achieved"
    if ended:
        return "missed"
    behind = expected - progress_raw
    if behind <= ON_TRACK_SLACK + _EPSILON:
        return "on_track"
    if behind <= AT_RISK_BAND + _EPSILON:
        return "at_risk"
    return "off_track"


def objective_progress(progress: Sequence[float | None],
                       weights: Sequence[float] | None = None) -> float | None:
    """Weighted mean of the key results' clamped progress; None when none has data.

    Key results without data are left out rather than counted as 0. When the
    weights of the rest add up to 0 the plain mean is used. Refuses negative
    weights and a weights list of another length (ValueError).
    """
    weights = [1.0] * len(progress) if weights is None else list(weights)
    if len(weights) != len(progress):
        raise ValueError("objective_progress needs one weight per key result")
    if any(w < 0 for w in weights):
        raise ValueError("key result weights must be 0 or more")
    pairs = [(min(max(p, 0.0), 1.0), w) for p, w in zip(progress, weights, strict=True) if not is_missing(p)]
    if not pairs:
        return None
    total = sum(w for _, w in pairs)
    if total <= 0:
        return sum(p for p, _ in pairs) / len(pairs)
    return sum(p * w for p, w in pairs) / total


# ---------------------------------------------------------------- current values
# DOMAIN: a key result on a summed metric stands at the total over its window
# so far; on any other metric (rates, means, balances) where it stands now: its
# value over the last TRAILING_DAYS days of data in the window, which for a
# balance ("last") is its latest value. measure_kind says which, and the card
# says it too.

def measure_kind(name: str, metrics: Mapping[str, Metric]) -> str:
    """total (a flow: summed, or a formula that adds up), latest (a balance) or trailing."""
    metric = metrics.get(name) or Metric(name)
    if is_flow(name, metrics) or (name not in metrics and metric.aggregation == "sum"):
        return "total"
    if not metric.formula and metric.aggregation == "last":
        return "latest"
    return "trailing"


def running_values(name: str, daily: Mapping[str, pd.DataFrame], metrics: Mapping[str, Metric],
                   start: date, end: date, days: int | None = None) -> pd.Series:
    """The metric measured over [start, d] for every date d with data in the window
    (over its last `days` days up to d when `days` is given): a float Series indexed
    by date, oldest first (NaN where a formula is undefined).

    sum adds the days, last is the latest day's value, mean/min/max work on the
    daily values; a formula metric is computed from its components' values over
    the same days (a rate from summed parts, never a mean of daily rates).
    `daily` maps metric -> DataFrame[period (date), value]. Does not mutate it.
    """
    metric = metrics.get(name) or Metric(name)
    if metric.formula:
        formula = parse_formula(metric.formula)
        parts = pd.DataFrame({c: running_values(c, daily, metrics, start, end, days)
                              for c in formula_metrics(formula)}).sort_index().ffill()
        return formula_values(formula, {c: parts[c] for c in parts.columns})
    rows = daily.get(name)
    if rows is None:
        return pd.Series(dtype="float64")
    inside = rows[(rows["period"] >= start) & (rows["period"] <= end) & rows["value"].notna()]
    dates = list(inside["period"])
    values = pd.Series(inside["value"].to_numpy(dtype="float64"),
                       index=pd.DatetimeIndex(pd.to_datetime(dates))).sort_index()
    if metric.aggregation == "last":
        measured = values.copy()
    elif days:
        measured = getattr(values.rolling(f"{days}D"), metric.aggregation)()
    else:
        measured = {"sum": values.cumsum, "min": values.cummin, "max": values.cummax,
                    "mean": values.expanding().mean}[metric.aggregation]()
    measured.index = [d.date() for d in measured.index]
    return measured


def _days_for(kind: str) -> int | None:
    return TRAILING_DAYS if kind == "trailing" else None


def window_value(name: str, daily: Mapping[str, pd.DataFrame], metrics: Mapping[str, Metric],
                 start: date, end: date) -> float | None:
    """The key result's value over [start, end] as measure_kind says; None without data."""
    values = running_values(name, daily, metrics, start, end,
                            _days_for(measure_kind(name, metrics)))
    return None if values.empty or is_missing(values.iloc[-1]) else float(values.iloc[-1])


def measured_span(kind: str, start: date, values: pd.Series) -> MeasuredSpan | None:
    """{kind, from, to} (ISO dates): the days the key result's value speaks for."""
    values = values.dropna()
    if values.empty:
        return None
    last = values.index[-1]
    if kind == "trailing":      # the first date with data in the last TRAILING_DAYS days
        first = min(d for d in values.index if d > last - timedelta(TRAILING_DAYS))
    else:
        first = start if kind == "total" else last
    return {"kind": kind, "from": first.isoformat(), "to": last.isoformat()}


def kr_value_history(name: str, daily: Mapping[str, pd.DataFrame], metrics: Mapping[str, Metric],
                     start: date, end: date) -> list[ValuePoint]:
    """[{date, value}] oldest first: the key result's value as it stood at each date
    with data (the last date of each week when there are more than HISTORY_POINTS),
    as the pace chart draws it. Does not mutate `daily`."""
    return history_points(running_values(name, daily, metrics, start, end,
                                         _days_for(measure_kind(name, metrics))))


def history_points(values: pd.Series) -> list[ValuePoint]:
    """[{date, value}] of a running_values series, thinned to the last date of each
    week past HISTORY_POINTS dates."""
    values = values.dropna()
    if len(values) > HISTORY_POINTS:
        weeks = [period_start(d, "week") for d in values.index]
        values = values[~pd.Series(weeks).duplicated(keep="last").to_numpy()]
    return [{"date": d.isoformat(), "value": float(v)} for d, v in values.items()]


@dataclass(frozen=True)
class Standing:
    """Where a key result stands at as_of: its value and what the data say of it."""
    current: float | None
    measured: MeasuredSpan | None    # measured_span: the days the value speaks for
    coverage: Coverage               # how far the metric's data reach, seen from as_of
    history: list = field(default_factory=list)
    forecast: Forecast | None = None  # where it will stand at the deadline (running ones)


def kr_entry(kr: KeyResult, metric: Metric, standing: Standing, as_of: date,
             checkins: Sequence[CheckinEntry] = ()) -> KeyResultEntry:
    """One key result's report entry (JSON-ready: dates as ISO strings).

    Past its deadline it is achieved or missed on its value at the deadline.
    When the metric's data stop before the last day they could reach (the day
    before as_of, or the deadline), the entry is partial and its pace is judged
    on the day after the data end, not on as_of. The key result's department
    should already be filled in (see catalogue.kpi_department).
    """
    ended = as_of > kr.deadline
    due = min(as_of - timedelta(days=1), kr.deadline)
    covered = standing.coverage.covered_through
    partial = covered is not None and kr.start_date <= covered < due
    pace_day = min(as_of, covered + timedelta(days=1)) if partial else as_of
    progress, raw = kr_progress(standing.current, kr.start, kr.target)
    expected = expected_progress(kr.start_date, kr.deadline, pace_day)
    return {"title": kr.title, "metric": kr.metric, "metric_label": display_name(metric),
            "start": kr.start, "target": kr.target,
            "current": standing.current, "measured": standing.measured,
            "progress": progress, "progress_raw": raw, "expected": expected,
            "status": kr_status(raw, expected, ended), "ended": ended, "partial": partial,
            **standing.coverage.as_json(), "warning": progress_warning(raw, metric),
            "start_date": kr.start_date.isoformat(), "deadline": kr.deadline.isoformat(),
            "owner": kr.owner, "department": kr.department, "weight": kr.weight,
            "unit": metric.unit, "direction": metric.direction, "history": standing.history,
            "checkins": list(checkins), "forecast": standing.forecast,
            "confidence": next((c["confidence"] for c in checkins if c["confidence"]), None)}


def progress_warning(raw: float | None, metric: Metric) -> str | None:
    """A note when raw progress passes +-1000%: usually the metric's aggregation is wrong
    (twelve monthly levels summed instead of the latest taken)."""
    if is_missing(raw) or abs(raw) <= IMPLAUSIBLE_PROGRESS:
        return None
    return (f"Raw progress is {raw:,.0%}: check that {metric.name}'s aggregation "
            f"({metric.aggregation}) suits it. A level such as headcount or a balance takes "
            "'last'; change it on Import and define.")


def objective_entries(key_results: Sequence[KeyResult], entries: Sequence[KeyResultEntry],
                      objectives: Sequence[Objective] = ()) -> list[ObjectiveEntry]:
    """Objectives in name order, each with its key results' entries, progress and
    expected progress (both weighted means), what is defined of it (owner, cycle,
    parent, description), its hygiene flags and its key results' check-ins. A
    defined objective without key results is listed too (flagged)."""
    grouped: dict[str, list[tuple[KeyResult, KeyResultEntry]]] = {o.name: [] for o in objectives}
    for kr, entry in zip(key_results, entries, strict=True):
        grouped.setdefault(kr.objective, []).append((kr, entry))
    defined = {o.name: o for o in objectives}
    out = []
    for name in sorted(grouped):
        pairs, objective = grouped[name], defined.get(name, Objective(name))
        weights = [kr.weight if not is_missing(kr.weight) else 1.0 for kr, _ in pairs]
        entries = [entry for _, entry in pairs]
        departments = [kr.department for kr, _ in pairs if kr.department]
        checkins = [{**c, "key_result": e["title"]} for e in entries for c in e["checkins"]]
        checkins.sort(key=lambda c: c["at"] or "", reverse=True)
        out.append({"objective": name,
                    "department": objective.department or (departments[0] if departments else None),
                    "owner": objective.owner, "cycle": objective.cycle,
                    "parent": objective.parent, "description": objective.description,
                    "progress": objective_progress([e["progress"] for e in entries], weights),
                    "expected": objective_progress([e["expected"] for e in entries], weights),
                    "flags": goals.objective_flags([kr for kr, _ in pairs]),
                    "checkins": checkins, "key_results": entries})
    return out


def okr_report(store: Store, department: str | None = None,
               as_of: date | None = None) -> OkrReport:
    """{as_of, department, summary, departments, objectives: [...]} for all objectives
    or one department's (JSON-ready).

    Each key result's current value is its metric over [start_date, as_of],
    cut at the deadline (a Q2 key result is judged on Q2); its history is that
    value over time. A key result's department is its own, else its objective's,
    else its metric's. A key result not started yet has no data. `summary` holds
    the goal-management KPIs of the report's key results, `departments` the same
    per department. Refuses an unknown department (InputError listing the known ones).
    """
    as_of = as_of_or_today(as_of)
    metrics = store.definitions.metrics()
    objectives = store.definitions.objectives()
    key_results = key_results_placed(store.definitions.key_results(), objectives, metrics)
    if department is not None:
        department = resolved_department(department, known_departments(
            metrics, store.definitions.kpis(), key_results))
        key_results = [kr for kr in key_results if kr.department == department]
        keep = {kr.objective for kr in key_results}
        objectives = [o for o in objectives if o.name in keep or o.department == department]
    daily = _daily_values(store, [kr for kr in key_results if kr.start_date <= as_of], metrics,
                          as_of, min((_reads_from(kr, as_of) for kr in key_results), default=None))
    covered = coverages(store, sorted({kr.metric for kr in key_results}), as_of, metrics=metrics)
    checkins = store.definitions.checkins()
    entries = [kr_entry(kr, metrics.get(kr.metric) or Metric(kr.metric),
                        standing(kr, daily, metrics, covered[kr.metric], as_of), as_of,
                        goals.checkins_of(checkins, "key_result", kr.title, kr.objective))
               for kr in key_results]
    return {"as_of": as_of.isoformat(), "department": department,
            "summary": goals.goal_summary(entries, as_of),
            "departments": goals.department_summaries(entries, as_of),
            "objectives": objective_entries(key_results, entries, objectives)}


def key_results_placed(key_results: Sequence[KeyResult], objectives: Sequence[Objective],
                       metrics: Mapping[str, Metric]) -> list[KeyResult]:
    """The key results, each with its department filled in: its own, else its
    objective's, else its metric's."""
    departments = {o.name: o.department for o in objectives if o.department}
    return [replace(kr, department=kr.department or departments.get(kr.objective)
                    or kpi_department(kr, metrics)) for kr in key_results]


def standing(kr: KeyResult, daily: Mapping[str, pd.DataFrame], metrics: Mapping[str, Metric],
             coverage: Coverage, as_of: date) -> Standing:
    """The key result's value over its window up to as_of (cut at the deadline: a Q2
    key result is judged on Q2), the days it speaks for, its history and, while it
    runs, its forecast for the deadline (kr_deadline_forecast)."""
    if kr.start_date > as_of:
        return Standing(None, None, coverage)
    end = min(as_of, kr.deadline)
    kind = measure_kind(kr.metric, metrics)
    values = running_values(kr.metric, daily, metrics, kr.start_date, end, _days_for(kind))
    current = None if values.empty or is_missing(values.iloc[-1]) else float(values.iloc[-1])
    return Standing(current, measured_span(kind, kr.start_date, values) if current is not None
                    else None, coverage, history_points(values),
                    kr_deadline_forecast(kr, daily, metrics, coverage, as_of))


def kr_deadline_forecast(kr: KeyResult, daily: Mapping[str, pd.DataFrame],
                         metrics: Mapping[str, Metric], coverage: Coverage,
                         as_of: date) -> Forecast | None:
    """Where a running key result will stand at its deadline (forecast.kr_forecast),
    from its data through the last day they cover, up to as_of; None once it has
    ended, before it starts, or without data in its window. `daily` as for
    running_values; it should reach back over the windows the forecast is tried on
    (_reads_from). Does not mutate it."""
    if not kr.start_date <= as_of <= kr.deadline or coverage.covered_through is None:
        return None
    through = min(coverage.covered_through, as_of, kr.deadline)
    if through < kr.start_date:
        return None
    metric = metrics.get(kr.metric) or Metric(kr.metric)
    parts = {p: daily[p].set_index("period")["value"] for p in metric_parts(metric) if p in daily}
    kind = measure_kind(kr.metric, metrics)
    return kr_forecast(Series(pd.DataFrame(parts), metric, metrics), kr.start_date, kr.deadline,
                       through, kind=kind, daily=coverage.cadence in ("day", "business_day"),
                       start=kr.start, target=kr.target, trailing_days=_days_for(kind))


def _reads_from(kr: KeyResult, as_of: date) -> date:
    """The first day a key result's numbers need: its start date, or for a running
    one the start of the earliest window its forecast is tried on."""
    windows = earlier_windows(kr.start_date, kr.deadline)
    if not kr.start_date <= as_of <= kr.deadline or not windows:
        return kr.start_date
    return windows[-1][0]


def _daily_values(store: Store, key_results: Sequence[KeyResult], metrics: Mapping[str, Metric],
                  as_of: date, first: date | None = None) -> dict[str, pd.DataFrame]:
    """{metric: DataFrame[period, value]} by day for the key results' metrics and
    their formula components, in one roll-up from `first` (else the earliest start)
    to as_of."""
    components = formula_components(metrics)
    names = sorted({c for kr in key_results for c in with_components(kr.metric, components)
                    if c in metrics})
    if not names:
        return {}
    first = min([kr.start_date for kr in key_results] + ([first] if first else []))
    rolled = rolled_up(store, names, "day", start=first, end=as_of)
    rolled = rolled.assign(period=[as_date(p) for p in rolled["period"]])
    return {name: group[["period", "value"]].reset_index(drop=True)
            for name, group in rolled.groupby("metric")}


def kr_history(store: Store, objective: str, title: str,
               as_of: date | None = None) -> list[dict]:
    """[{date, value}] of one key result (see kr_value_history); [] when there is none."""
    for entry in okr_report(store, as_of=as_of)["objectives"]:
        if entry["objective"] == objective:
            for kr in entry["key_results"]:
                if kr["title"] == title:
                    return kr["history"]
    return []
