"""Where a KPI will land: its value at the end of a running period, with an 80%
range and the chance of meeting its target.

The estimate ("method"):
- a flow (it adds up over time: leads, revenue) is its days so far scaled to
  the whole period. With daily data the days are weighed by the metric's
  weekday profile over the 8 weeks before (``pace_weekday``: a business that
  sells on weekdays is not projected from a weekend); otherwise by the share
  of the period they cover (``pace``);
- anything else (a rate, a mean, a level) is its value so far (``so_far``).

The range is the estimate's own record: the same estimate made on the same
day of each of the last 12 complete periods, against what each period ended
at. Their relative errors' mean m and spread s (at least 4 periods) give the
80% range, estimate x (1 + m -/+ 1.2816 s), and the chance of meeting the
target under the same normal law. With fewer than 4 periods there is an
estimate but no range and no chance. bench/backtest.py reports how often the
range held on the demo's history.

Pure except `card_forecasts`, which reads the days it needs in one roll-up.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_logic.domain.formulas import (
    formula_metrics,
    formula_value,
    formula_values,
    parse_formula,
)
from kpi_logic.domain.model import KPI, KPI_PERIODS, Metric
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import period_end, previous_period
from kpi_logic.metrics.coverage import Coverage, is_flow, period_coverage
from kpi_logic.metrics.results import Forecast
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

BACKTEST_PERIODS = 12       # complete periods the estimate is tried on
MIN_BACKTEST = 4            # fewer: no range, no chance
PROFILE_DAYS = 56           # the weekday profile's window, before the day looked from
Z80 = 1.2815515655446004    # the normal law's 90th percentile: 80% between -Z80 and +Z80


class Series:
    """One KPI's metric by day, from its parts' daily values (the scorecard's
    formula over each span's aggregated parts); spans are cut from sorted
    arrays, so the dozens of spans a backtest reads cost little."""

    def __init__(self, daily: pd.DataFrame, metric: Metric, metrics: Mapping[str, Metric]):
        self.formula = parse_formula(metric.formula) if metric.formula else None
        self.parts = metric_parts(metric)
        self.aggregation = {p: (metrics.get(p) or Metric(p)).aggregation for p in self.parts}
        daily = daily.sort_index()
        self.days = np.array([_ordinal(d) for d in daily.index], dtype="int64")
        self.values = {p: daily[p].to_numpy(dtype="float64") if p in daily
                       else np.full(len(daily), np.nan) for p in self.parts}

    def _span(self, first: date, last: date) -> slice:
        return slice(int(np.searchsorted(self.days, first.toordinal(), "left")),
                     int(np.searchsorted(self.days, last.toordinal(), "right")))

    def value(self, first: date, last: date) -> float | None:
        """The metric over the days [first, last], as its period value is made."""
        span = self._span(first, last)
        parts = {}
        for part in self.parts:
            column = self.values[part][span]
            column = column[~np.isnan(column)]
            if not len(column):
                return None
            how = self.aggregation[part]
            parts[part] = float(column[-1] if how == "last" else getattr(np, how)(column))
        if self.formula is None:
            return parts[self.parts[0]]
        return formula_value(self.formula, parts)

    def by_day(self, first: date, last: date) -> pd.Series:
        """The metric day by day over [first, last] (a formula per day), by date ordinal."""
        span = self._span(first, last)
        index = self.days[span]
        columns = {p: pd.Series(self.values[p][span], index=index) for p in self.parts}
        if self.formula is None:
            return columns[self.parts[0]].dropna()
        return formula_values(self.formula, columns).dropna()


def _ordinal(day) -> int:
    return day.toordinal() if isinstance(day, date) else pd.Timestamp(day).date().toordinal()


def _weights(series: Series, through: date) -> dict[int, float] | None:
    """Each weekday's share of a typical week (mean 1; weekdays keyed by date ordinal
    % 7) over the PROFILE_DAYS up to `through`; days without a value weigh nothing
    (business-day data). None with fewer than five weekdays or no positive mean."""
    days = series.by_day(through - timedelta(days=PROFILE_DAYS - 1), through)
    if days.empty:
        return None
    weekday = days.index.to_numpy() % 7
    counts = np.bincount(weekday, minlength=7)
    if (counts > 0).sum() < 5:
        return None
    means = np.divide(np.bincount(weekday, days.to_numpy(), minlength=7), counts,
                      out=np.zeros(7), where=counts > 0)
    overall = means.mean()
    if not overall > 0 or (means < 0).any():
        return None
    return {w: float(means[w] / overall) for w in range(7)}


def _weight(weights: Mapping[int, float], first: date, last: date) -> float:
    """The days [first, last] counted by their weekday's weight."""
    return sum(weights[(first.toordinal() + i) % 7] for i in range((last - first).days + 1))


def estimate(series: Series, start: date, grain: str, through: date, *, flow: bool,
             daily: bool) -> tuple[float, str] | None:
    """(the period's value at its end, the method) from the days [start, through]."""
    so_far = series.value(start, through)
    if so_far is None:
        return None
    end = period_end(start, grain)
    if not flow or through >= end:
        return so_far, "so_far"
    weights = _weights(series, through) if daily else None
    if weights:
        covered = _weight(weights, start, through)
        if covered > 0:
            return so_far * _weight(weights, start, end) / covered, "pace_weekday"
    share = ((through - start).days + 1) / ((end - start).days + 1)
    return so_far / share, "pace"


def backtest_errors(series: Series, start: date, grain: str, through: date, *, flow: bool,
                    daily: bool, periods: int = BACKTEST_PERIODS) -> list[float]:
    """Relative errors (actual / estimate - 1) of the estimate made `through - start`
    days into each of the `periods` complete periods before `start`."""
    errors, earlier = [], start
    for _ in range(periods):
        earlier = previous_period(earlier, grain)
        cut = min(earlier + (through - start), period_end(earlier, grain))
        guess = estimate(series, earlier, grain, cut, flow=flow, daily=daily)
        actual = series.value(earlier, period_end(earlier, grain))
        if guess is None or actual is None or guess[0] == 0:
            continue
        errors.append(actual / guess[0] - 1)
    return errors


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def period_forecast(series: Series, start: date, grain: str, through: date, *, flow: bool,
                    daily: bool, target: float | None, target_kind: str) -> Forecast | None:
    """The forecast of the period starting `start` seen with data through `through`
    (the module's rules); None without data in the period."""
    guess = estimate(series, start, grain, through, flow=flow, daily=daily)
    if guess is None:
        return None
    value, method = guess
    errors = backtest_errors(series, start, grain, through, flow=flow, daily=daily)
    out: Forecast = {"value": value, "low": None, "high": None, "chance_of_target": None,
                     "method": method, "backtested_periods": len(errors)}
    if len(errors) < MIN_BACKTEST:
        return out
    mean = sum(errors) / len(errors)
    spread = math.sqrt(sum((e - mean) ** 2 for e in errors) / (len(errors) - 1))
    centre = value * (1 + mean)
    ends = sorted((value * (1 + mean - Z80 * spread), value * (1 + mean + Z80 * spread)))
    out.update({"value": centre, "low": ends[0], "high": ends[1]})
    if target is not None and not is_missing(target):
        scale = abs(value) * spread
        if scale == 0:
            meets = centre >= target if target_kind != "max" else centre <= target
            out["chance_of_target"] = 1.0 if meets else 0.0
        else:
            below = _normal_cdf((target - centre) / scale)
            out["chance_of_target"] = 1 - below if target_kind != "max" else below
    return out


def card_forecasts(store: Store, kpis: Sequence[KPI], metrics: Mapping[str, Metric],
                   starts: Mapping[str, date], covered: Mapping[str, Coverage], as_of: date,
                   targets: Mapping[str, float]) -> dict[str, Forecast | None]:
    """{KPI title: its forecast} for the KPIs whose judged period (`starts`, by title)
    is still running at as_of or holds data only part of the way (partial); the
    days needed read in one roll-up by day."""
    running = []
    for kpi in kpis:
        metric, start = metrics.get(kpi.metric), starts[kpi.title]
        end = period_end(start, kpi.period)
        if metric is None or kpi.metric not in covered:
            continue
        state = period_coverage(start, end, covered[kpi.metric]).state
        if end >= as_of or state == "partial":
            running.append(kpi)
    if not running:
        return {}
    parts = sorted({p for k in running for p in metric_parts(metrics[k.metric])})
    first, longest = min(starts[k.title] for k in running), max(
        (k.period for k in running), key=KPI_PERIODS.index)
    for _ in range(BACKTEST_PERIODS + 1):
        first = previous_period(first, longest)
    daily = rolled_up(store, parts, "day", start=first, end=as_of - timedelta(days=1))
    wide = daily.pivot_table(index="period", columns="metric", values="value", aggfunc="first")
    out = {}
    for kpi in running:
        series = Series(wide, metrics[kpi.metric], metrics)
        coverage = covered[kpi.metric]
        through = min(coverage.covered_through or as_of, as_of - timedelta(days=1),
                      period_end(starts[kpi.title], kpi.period))
        if through < starts[kpi.title]:
            out[kpi.title] = None
            continue
        out[kpi.title] = period_forecast(
            series, starts[kpi.title], kpi.period, through, flow=is_flow(kpi.metric, metrics),
            daily=coverage.cadence in ("day", "business_day"), target=targets.get(kpi.title),
            target_kind=kpi.target_kind)
    return out


def metric_parts(metric: Metric) -> list[str]:
    """The metrics a metric is computed from: its formula's, or itself."""
    return sorted(formula_metrics(parse_formula(metric.formula))) if metric.formula else [metric.name]

