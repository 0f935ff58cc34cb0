"""KPIs: the status rules and the department scorecard built on them.

The rules (kpi_status, missed_in_a_row, target_for) are pure and work on one
value at a time; scorecard() rolls up all of a department's metrics in one
query per grain and applies the rules to the result.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formatting import display_name
from kpi_logic.domain.model import (
    DEFAULT_TOLERANCE,
    KPI,
    KPI_PERIODS,
    TARGET_KINDS,
    TOO_MANY_KPIS,
    Metric,
    Target,
)
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import (
    as_of_or_today,
    parse_period,
    period_end,
    period_label,
    period_start,
    previous_period,
    same_period_last_year,
)
from kpi_logic.metrics.catalogue import (
    formula_components,
    known_departments,
    kpi_department,
    metric_uses,
    resolved_department,
)
from kpi_logic.metrics.changes import like_for_like, relative_change
from kpi_logic.metrics.coverage import Coverage, coverages, is_flow, period_coverage
from kpi_logic.metrics.forecast import card_forecasts
from kpi_logic.metrics.goals import checkins_of
from kpi_logic.metrics.results import (
    Change,
    CheckinEntry,
    Definition,
    Forecast,
    KpiCard,
    KpiPeriod,
    MetricEntry,
    Scorecard,
)
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

REVIEW_AFTER_MISSES = 3     # missed this many latest periods in a row: flag the KPI for review
MISSED_STATUSES = ("at_risk", "unhealthy")
HISTORY_PERIODS = 13        # a year of months plus the one being judged, for sparklines and vs last year
_EPSILON = 1e-9             # float noise: 2.7 vs 3.0 with 10% tolerance must count as "within"


def kpi_status(value: float | None, target: float | None, target_kind: str,
               tolerance: float = DEFAULT_TOLERANCE) -> str:
    """healthy | at_risk | unhealthy | no_data for one value against one target.

    min = at least, max = at most; equal counts as met. At risk when missed by
    no more than `tolerance` relative to the target's size. A target of 0 has
    no relative band, so there any miss is unhealthy. Refuses an unknown
    target_kind or a negative tolerance (ValueError: definitions are checked
    on import, so this is a programming error).
    """
    if target_kind not in TARGET_KINDS:
        raise ValueError(f"target_kind must be one of {TARGET_KINDS}, not {target_kind!r}")
    if tolerance is None or is_missing(tolerance):
        tolerance = DEFAULT_TOLERANCE
    if tolerance < 0:
        raise ValueError(f"tolerance must be 0 or more, not {tolerance}")
    if is_missing(value) or is_missing(target):
        return "no_data"
    shortfall = (target - value) if target_kind == "min" else (value - target)
    if shortfall <= _EPSILON * max(1.0, abs(target)):
        return "healthy"
    if target != 0 and shortfall / abs(target) <= tolerance + _EPSILON:
        return "at_risk"
    return "unhealthy"


def missed_in_a_row(statuses: Iterable[str]) -> int:
    """How many of the latest periods in a row were at_risk or unhealthy.

    `statuses` run oldest first. A healthy or no_data period ends the run:
    a period without data is not evidence of a miss.
    """
    count = 0
    for status in reversed(list(statuses)):
        if status not in MISSED_STATUSES:
            break
        count += 1
    return count


def needs_review(missed: int) -> bool:
    """True when a KPI has missed often enough in a row to question the target."""
    return missed >= REVIEW_AFTER_MISSES


def target_for(kpi: KPI, period_label: str, targets: Sequence[Target]) -> float:
    """The KPI's target for one period: a per-period target for that exact label
    (matched by KPI title, else by its metric name), else the KPI's default."""
    by_title = [t.target for t in targets if t.kpi == kpi.title and t.period == period_label]
    if by_title:
        return by_title[-1]
    by_metric = [t.target for t in targets if t.kpi == kpi.metric and t.period == period_label]
    return by_metric[-1] if by_metric else kpi.target


# ---------------------------------------------------------------- periods
# A scorecard is asked for one period P (month, quarter or year). Each KPI is
# judged on its own grain: when P is complete, on the latest complete period
# of its grain ending on or before P's end (P = 2025-03 judges a quarterly KPI
# on 2025-Q1, P = 2025-02 on 2024-Q4); when P is still running, on its grain's
# period holding P's latest day so far. A period is complete on the calendar
# when it ends before as_of (data arrive through the day before); whether the
# data cover it is each metric's own matter (kpi_logic.metrics.coverage).

def history_starts(last_start: date, grain: str, count: int = HISTORY_PERIODS) -> list[date]:
    """`count` consecutive period starts ending with `last_start`, oldest first."""
    starts = [last_start]
    while len(starts) < count:
        starts.append(previous_period(starts[-1], grain))
    return starts[::-1]


def default_period_start(grain: str, as_of: date) -> date:
    """Start of the latest period of `grain` that ended before as_of: the honest "now",
    whatever the data reach (a KPI whose data stopped earlier is stale there)."""
    return previous_period(as_of, grain)


def judged_period_start(kpi_grain: str, start: date, end: date, as_of: date) -> date:
    """Start of the period a KPI of `kpi_grain` is judged on when the scorecard shows [start, end]."""
    if end >= as_of:
        latest_day = max(start, min(end, as_of - timedelta(days=1)))
        return period_start(latest_day, kpi_grain)
    own = period_start(end, kpi_grain)
    return own if period_end(own, kpi_grain) <= end else previous_period(own, kpi_grain)


# ---------------------------------------------------------------- cards

@dataclass(frozen=True)
class Window:
    """The periods one grain of a scorecard shows."""
    grain: str
    starts: tuple[date, ...]        # HISTORY_PERIODS period starts, oldest first, judged period last
    labels: tuple[str, ...]
    running: bool                   # the judged period is still running at as_of
    previous_label: str
    last_year_label: str


def window_for(grain: str, judged_start: date, as_of: date) -> Window:
    """The history window of `grain` ending with the judged period."""
    starts = history_starts(judged_start, grain)
    return Window(grain, tuple(starts), tuple(period_label(s, grain) for s in starts),
                  running=period_end(judged_start, grain) >= as_of,
                  previous_label=period_label(previous_period(judged_start, grain), grain),
                  last_year_label=period_label(same_period_last_year(judged_start, grain), grain))


@dataclass(frozen=True)
class Judged:
    """One metric over one window: its values and what its data make of the judged period."""
    values: Mapping[str, float]                 # by period label
    before: tuple[float | None, float | None]   # previous period, same period last year
                                                # (like-for-like days when the period is partial)
    coverage: Coverage                          # how far its data reach, seen from as_of
    flow: bool = False                          # adds up over time: a partial period is paced


def change(value: float | None, before: float | None, label: str | None) -> Change:
    """{abs, pct, label, base} (JSON-ready): pct is None when `before` (the base) is 0 or
    on the other side of zero (undefined); the rule itself is changes.relative_change."""
    if is_missing(value) or is_missing(before):
        return {"abs": None, "pct": None, "label": label, "base": number(before)}
    return {"abs": value - before, "pct": number(relative_change(value, before)), "label": label,
            "base": float(before)}


def number(value) -> float | None:
    """A JSON-ready number: None for missing."""
    return None if is_missing(value) else float(value)


def judged_entry(label: str, start: date, grain: str, value: float | None, target: float,
                 kpi: KPI, judged: Judged) -> KpiPeriod:
    """One period of a KPI's history: value, target, status, and whether the data
    leave it early (partial). A partial period of a flow is judged against the
    target pro-rated to the share its data cover ("pace")."""
    covered = period_coverage(start, period_end(start, grain), judged.coverage)
    partial = covered.state == "partial"
    paced = partial and judged.flow and covered.share > 0
    goal = target * covered.share if paced else target
    entry = {"period": label, "value": value, "target": target,
             "status": kpi_status(value, goal, kpi.target_kind, kpi.tolerance), "partial": partial}
    if paced:
        entry["pace"] = {"share": covered.share, "target": goal,
                         "projected": None if value is None else value / covered.share}
    return entry


def kpi_card(kpi: KPI, metric: Metric, window: Window, judged: Judged,
             targets: Sequence[Target], checkins: Sequence[CheckinEntry] = (),
             forecast: Forecast | None = None) -> KpiCard:
    """One KPI's scorecard entry (JSON-ready) from its values by period label.

    The judged period is the window's last. Partial when the metric's data end
    inside it: compared like-for-like, and for a flow judged on pace. Stale when
    its data end before it: no value, status no_data, counted in no health total.
    Misses in a row count complete periods only; a KPI flagged for review asks
    for a check-in on the judged period until it has one. Does not mutate its inputs.
    """
    history = [judged_entry(label, start, window.grain, number(judged.values.get(label)),
                            target_for(kpi, label, targets), kpi, judged)
               for label, start in zip(window.labels, window.starts, strict=True)]
    now = history[-1]
    state = period_coverage(window.starts[-1], period_end(window.starts[-1], window.grain),
                            judged.coverage).state
    missed = missed_in_a_row(h["status"] for h in history if not h["partial"])
    return {
        "title": kpi.title, "metric": kpi.metric, "metric_label": display_name(metric),
        "period": now["period"],
        "partial": now["partial"], "stale": state == "stale", **judged.coverage.as_json(),
        "value": now["value"], "target": now["target"], "pace": now.get("pace"),
        "target_kind": kpi.target_kind, "tolerance": kpi.tolerance, "status": now["status"],
        "missed_in_a_row": missed, "review": needs_review(missed),
        "unit": metric.unit, "direction": metric.direction, "owner": kpi.owner,
        "objective": kpi.objective, "supporting": list(kpi.supporting),
        "vs_previous": change(now["value"], number(judged.before[0]), window.previous_label),
        "vs_last_year": change(now["value"], number(judged.before[1]), window.last_year_label),
        "history": history, "definition": _definition(metric),
        "pinned": kpi.pinned, "checkins": list(checkins),
        "checkin_requested": needs_review(missed) and not any(
            c["period"] == now["period"] for c in checkins),
        "forecast": forecast,
    }


def metric_entry(metric: Metric, window: Window, judged: Judged) -> MetricEntry:
    """A plain metric's scorecard row (JSON-ready): value, changes and history."""
    history = [{"period": label, "value": number(judged.values.get(label))}
               for label in window.labels]
    covered = period_coverage(window.starts[-1], period_end(window.starts[-1], window.grain),
                              judged.coverage)
    value = history[-1]["value"]
    return {
        "metric": metric.name, "metric_label": display_name(metric), "period": window.labels[-1],
        "partial": covered.state == "partial",
        "stale": covered.state == "stale", **judged.coverage.as_json(),
        "value": value, "unit": metric.unit, "direction": metric.direction,
        "vs_previous": change(value, number(judged.before[0]), window.previous_label),
        "vs_last_year": change(value, number(judged.before[1]), window.last_year_label),
        "history": history, "definition": _definition(metric),
    }


def _definition(metric: Metric) -> Definition:
    return {"formula": metric.formula, "aggregation": metric.aggregation,
            "description": metric.description}


# ---------------------------------------------------------------- assembly

def scorecard(store: Store, department: str, period: str | None = None,
              as_of: date | None = None) -> Scorecard:
    """The department's scorecard as JSON-ready values (the shape: metrics/results.py).

    `period` is a label ("2025-03", "2025-Q1", "2025"); by default the latest
    period of the department's finest KPI grain that ended before as_of.
    `as_of` (default today) is the day we look from: data after it are
    ignored. Refuses an unknown department, a period that is not a
    month/quarter/year, and a period that starts after as_of (InputError).
    """
    as_of = as_of_or_today(as_of)
    metrics = store.definitions.metrics()
    every_kpi, key_results = store.definitions.kpis(), store.definitions.key_results()
    department = resolved_department(department, known_departments(metrics, every_kpi, key_results))
    kpis = [k for k in every_kpi if kpi_department(k, metrics) == department]
    uses = metric_uses(every_kpi, key_results, formula_components(metrics))
    plain = [m for m in metrics.values() if m.department == department and m.name not in uses]
    grain, start, end = _shown_period(period, kpis, as_of)
    grains = {k.period for k in kpis} | ({grain} if plain else set())
    windows = {g: window_for(g, judged_period_start(g, start, end, as_of), as_of) for g in grains}
    # A KPI over a metric that is not defined (yet) shows no data instead of failing the page.
    wanted = {g: sorted({k.metric for k in kpis if k.period == g and k.metric in metrics}
                        | ({m.name for m in plain} if g == grain else set())) for g in grains}
    covered = coverages(store, sorted({n for names in wanted.values() for n in names}), as_of,
                        metrics=metrics)
    series = {g: _window_values(store, wanted[g], windows[g], as_of, covered, metrics)
              for g in grains}
    targets = store.definitions.targets()
    nothing = Judged({}, (None, None), Coverage("", None, None, None, None))
    checkins = store.definitions.checkins()
    starts = {k.title: windows[k.period].starts[-1] for k in kpis}
    forecasts = card_forecasts(store, kpis, metrics, starts, covered, as_of, {
        k.title: target_for(k, windows[k.period].labels[-1], targets) for k in kpis})
    cards = [kpi_card(k, metrics.get(k.metric, Metric(k.metric)), windows[k.period],
                      series[k.period].get(k.metric, nothing), targets,
                      checkins_of(checkins, "kpi", k.title), forecasts.get(k.title)) for k in kpis]
    rows = [metric_entry(m, windows[grain], series[grain].get(m.name, nothing)) for m in plain]
    through = [c.data_through for c in covered.values() if c.data_through]
    return {"department": department, "period": period_label(start, grain),
            "partial": end >= as_of or any(c["partial"] for c in cards + rows),
            "as_of": as_of.isoformat(), "data_through": max(through).isoformat() if through else None,
            "kpis": cards, "metrics": rows,
            "too_many_kpis": len(kpis) > TOO_MANY_KPIS, "kpi_count": len(kpis)}


def _shown_period(period: str | None, kpis: Sequence[KPI], as_of: date) -> tuple[str, date, date]:
    """(grain, start, end) of the period the scorecard shows; refuses bad labels."""
    if period is None:
        grain = min((k.period for k in kpis), key=KPI_PERIODS.index, default="month")
        start = default_period_start(grain, as_of)
        return grain, start, period_end(start, grain)
    grain, start, end = parse_period(period)
    if grain not in KPI_PERIODS:
        raise InputError(f"A scorecard shows a month, quarter or year, not a {grain} ('{period}'): "
                         "use 2025-03, 2025-Q1 or 2025.")
    if start > as_of:
        raise InputError(f"Period {period} starts after {as_of.isoformat()}, the date the "
                         "scorecard is looked at: choose an earlier period.")
    return grain, start, end


def _window_values(store: Store, names: Sequence[str], window: Window, as_of: date,
                   covered: Mapping[str, Coverage],
                   metrics: Mapping[str, Metric]) -> dict[str, Judged]:
    """{metric: Judged} for one grain, in one roll-up. Where a metric's data end
    inside the judged period, changes.like_for_like compares its days so far with
    the same days of the earlier periods (never a half month with a whole one)."""
    if not names:
        return {}
    judged_start = window.starts[-1]
    last_end = min(period_end(judged_start, window.grain), as_of)
    values = _by_metric(rolled_up(store, list(names), window.grain, start=window.starts[0], end=last_end))
    partial = [n for n in names if period_coverage(
        judged_start, period_end(judged_start, window.grain), covered[n]).state == "partial"]
    compared = like_for_like(store, partial, window.labels[-1], through=last_end,
                             covered=covered).set_index("metric") if partial else None
    out = {}
    for name in names:
        own = values.get(name, {})
        before = (compared.at[name, "previous"], compared.at[name, "last_year"]) if name in partial \
            else (own.get(window.previous_label), own.get(window.last_year_label))
        out[name] = Judged(own, before, covered[name], is_flow(name, metrics))
    return out


def _by_metric(rolled: pd.DataFrame) -> dict[str, dict[str, float]]:
    """{metric: {label: value}} from a rolled_up frame."""
    out: dict[str, dict[str, float]] = {}
    for metric, label, value in rolled[["metric", "label", "value"]].itertuples(index=False):
        out.setdefault(metric, {})[label] = value
    return out
