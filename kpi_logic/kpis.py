"""KPIs: the status rules and the department scorecard built on them.

The rules (kpi_status, missed_in_a_row, target_for) are pure and work on one
value at a time; scorecard() rolls up all of a department's metrics in one
query per grain and applies the rules to the result.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from .catalogue import (formula_components, kpi_department, known_departments, metric_uses,
                        resolved_department, with_components)
from .changes import like_for_like, relative_change
from .errors import InputError
from .model import DEFAULT_TOLERANCE, KPI, KPI_PERIODS, TARGET_KINDS, TOO_MANY_KPIS, Metric, Target
from .numbers import is_missing
from .periods import (as_date, parse_period, period_end, period_label, period_start,
                      previous_period, same_period_last_year)
from .rollups import data_through, rolled_up
from .store.definitions import load_key_results, load_kpis, load_metrics, load_targets

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
# period holding P's latest day so far, marked partial. A period is complete
# when it ends before as_of (data arrive through the day before).

def history_starts(last_start: date, grain: str, count: int = HISTORY_PERIODS) -> list[date]:
    """`count` consecutive period starts ending with `last_start`, oldest first."""
    starts = [last_start]
    while len(starts) < count:
        starts.append(previous_period(starts[-1], grain))
    return starts[::-1]


def default_period_start(grain: str, as_of: date, data_through: date | None) -> date:
    """Start of the latest complete period of `grain` before as_of, but no later
    than the period holding the latest data (so stale data still shows numbers)."""
    latest = previous_period(as_of, grain)
    if data_through is not None:
        latest = min(latest, period_start(data_through, grain))
    return latest


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
    partial: bool                   # the judged period is still running at as_of
    previous_label: str
    last_year_label: str


def window_for(grain: str, judged_start: date, as_of: date) -> Window:
    """The history window of `grain` ending with the judged period."""
    starts = history_starts(judged_start, grain)
    return Window(grain, tuple(starts), tuple(period_label(s, grain) for s in starts),
                  partial=period_end(judged_start, grain) >= as_of,
                  previous_label=period_label(previous_period(judged_start, grain), grain),
                  last_year_label=period_label(same_period_last_year(judged_start, grain), grain))


def change(value: float | None, before: float | None, label: str | None) -> dict:
    """{abs, pct, label} (JSON-ready): pct is None when `before` is 0 (undefined,
    shown as "new"); the rule itself is changes.relative_change."""
    if is_missing(value) or is_missing(before):
        return {"abs": None, "pct": None, "label": label}
    return {"abs": value - before, "pct": number(relative_change(value, before)), "label": label}


def number(value) -> float | None:
    """A JSON-ready number: None for missing."""
    return None if is_missing(value) else float(value)


def kpi_card(kpi: KPI, metric: Metric, window: Window, values: Mapping[str, float],
             before: tuple[float | None, float | None], partial: bool,
             targets: Sequence[Target]) -> dict:
    """One KPI's scorecard entry (JSON-ready) from its values by period label.

    `before` is (previous period, same period last year), like-for-like when
    `partial` (the judged period's data stop early). Misses in a row count
    complete periods only. Does not mutate its inputs.
    """
    history = []
    for label in window.labels:
        value, target = number(values.get(label)), target_for(kpi, label, targets)
        history.append({"period": label, "value": value, "target": target,
                        "status": kpi_status(value, target, kpi.target_kind, kpi.tolerance)})
    now = history[-1]
    missed = missed_in_a_row(h["status"] for h in (history[:-1] if partial else history))
    return {
        "title": kpi.title, "metric": kpi.metric, "period": now["period"],
        "partial": partial, "value": now["value"], "target": now["target"],
        "target_kind": kpi.target_kind, "tolerance": kpi.tolerance, "status": now["status"],
        "missed_in_a_row": missed, "review": needs_review(missed),
        "unit": metric.unit, "direction": metric.direction, "owner": kpi.owner,
        "objective": kpi.objective, "supporting": list(kpi.supporting),
        "vs_previous": change(now["value"], number(before[0]), window.previous_label),
        "vs_last_year": change(now["value"], number(before[1]), window.last_year_label),
        "history": history, "definition": _definition(metric),
    }


def metric_entry(metric: Metric, window: Window, values: Mapping[str, float],
                 before: tuple[float | None, float | None], partial: bool) -> dict:
    """A plain metric's scorecard row (JSON-ready): value, changes and history."""
    history = [{"period": label, "value": number(values.get(label))} for label in window.labels]
    value = history[-1]["value"]
    return {
        "metric": metric.name, "period": window.labels[-1], "partial": partial,
        "value": value, "unit": metric.unit, "direction": metric.direction,
        "vs_previous": change(value, number(before[0]), window.previous_label),
        "vs_last_year": change(value, number(before[1]), window.last_year_label),
        "history": history, "definition": _definition(metric),
    }


def _definition(metric: Metric) -> dict:
    return {"formula": metric.formula, "aggregation": metric.aggregation,
            "description": metric.description}


# ---------------------------------------------------------------- assembly

def scorecard(con: duckdb.DuckDBPyConnection, department: str, period: str | None = None,
              as_of: date | None = None) -> dict:
    """The department's scorecard as JSON-ready values (see issue 2 for the shape).

    `period` is a label ("2025-03", "2025-Q1", "2025"); by default the latest
    complete period of the department's finest KPI grain. `as_of` (default
    today) is the day we look from: data after it are ignored. Refuses an
    unknown department, a period that is not a month/quarter/year, and a
    period that starts after as_of (InputError).
    """
    as_of = as_date(as_of) if as_of else date.today()
    metrics = load_metrics(con)
    every_kpi, key_results = load_kpis(con), load_key_results(con)
    department = resolved_department(department, known_departments(metrics, every_kpi, key_results))
    kpis = [k for k in every_kpi if kpi_department(k, metrics) == department]
    components = formula_components(metrics)
    uses = metric_uses(every_kpi, key_results, components)
    plain = [m for m in metrics.values() if m.department == department and m.name not in uses]
    names = sorted({k.metric for k in kpis if k.metric in metrics} | {m.name for m in plain})
    base = sorted({c for n in names for c in with_components(n, components)})
    through = data_through(con, base) if base else None
    grain, start, end = _shown_period(period, kpis, as_of, through)
    grains = {k.period for k in kpis} | ({grain} if plain else set())
    windows = {g: window_for(g, judged_period_start(g, start, end, as_of), as_of) for g in grains}
    # A KPI over a metric that is not defined (yet) shows no data instead of failing the page.
    wanted = {g: sorted({k.metric for k in kpis if k.period == g and k.metric in metrics}
                        | ({m.name for m in plain} if g == grain else set())) for g in grains}
    series = {g: _window_values(con, wanted[g], windows[g], as_of) for g in grains}
    targets = load_targets(con)
    missing = ({}, (None, None), False)
    cards = [kpi_card(k, metrics.get(k.metric, Metric(k.metric)), windows[k.period],
                      *series[k.period].get(k.metric, missing), targets) for k in kpis]
    rows = [metric_entry(m, windows[grain], *series[grain].get(m.name, missing)) for m in plain]
    return {"department": department, "period": period_label(start, grain),
            "partial": end >= as_of, "as_of": as_of.isoformat(), "kpis": cards, "metrics": rows,
            "too_many_kpis": len(kpis) > TOO_MANY_KPIS, "kpi_count": len(kpis)}


def _shown_period(period: str | None, kpis: Sequence[KPI], as_of: date,
                  through: date | None) -> tuple[str, date, date]:
    """(grain, start, end) of the period the scorecard shows; refuses bad labels."""
    if period is None:
        grain = min((k.period for k in kpis), key=KPI_PERIODS.index, default="month")
        start = default_period_start(grain, as_of, through)
        return grain, start, period_end(start, grain)
    grain, start, end = parse_period(period)
    if grain not in KPI_PERIODS:
        raise InputError(f"A scorecard shows a month, quarter or year, not a {grain} ('{period}'): "
                         "use 2025-03, 2025-Q1 or 2025.")
    if start > as_of:
        raise InputError(f"Period {period} starts after {as_of.isoformat()}, the date the "
                         "scorecard is looked at: choose an earlier period.")
    return grain, start, end


def _window_values(con, names: Sequence[str], window: Window,
                   as_of: date) -> dict[str, tuple[dict, tuple, bool]]:
    """{metric: ({label: value}, (previous, last year), partial)} for one grain, in one
    roll-up; a running period adds changes.like_for_like, which compares each metric's
    days so far with the same days of the earlier periods (never a half month with a whole one)."""
    if not names:
        return {}
    last_end = min(period_end(window.starts[-1], window.grain), as_of)
    values = _by_metric(rolled_up(con, list(names), window.grain, start=window.starts[0], end=last_end))
    if not window.partial:
        return {n: (values.get(n, {}), (values.get(n, {}).get(window.previous_label),
                                        values.get(n, {}).get(window.last_year_label)), False)
                for n in names}
    compared = like_for_like(con, list(names), window.labels[-1], through=last_end).set_index("metric")
    return {n: (values.get(n, {}), (compared.at[n, "previous"], compared.at[n, "last_year"]),
                bool(compared.at[n, "partial"])) for n in names}


def _by_metric(rolled: pd.DataFrame) -> dict[str, dict[str, float]]:
    """{metric: {label: value}} from a rolled_up frame."""
    out: dict[str, dict[str, float]] = {}
    for metric, label, value in rolled[["metric", "label", "value"]].itertuples(index=False):
        out.setdefault(metric, {})[label] = value
    return out


