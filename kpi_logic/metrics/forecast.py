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

A key result gets the same forecast for its deadline (`kr_forecast`), measured
as the key result is (okrs.measure_kind): a total since its start date is a
flow and paced to the deadline as above; a latest or trailing value (a level,
a rate, a mean) is where it stands now (``so_far``), corrected like the KPI's
by how far such values moved in the windows before. (Moving it on by its
trend since the start date did worse on the demo: on bench/backtest.py's key
results, a median error of 12% against 5%, even on their own quarters.) Its
record is the same estimate made as far into each of the
equally long windows back to back before its start (up to 12), against the
value each ended at.

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
from kpi_logic.domain.model import FIRST_DATE, KPI, KPI_PERIODS, Metric
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import period_end, previous_period
from kpi_logic.metrics.coverage import Coverage, is_flow, period_coverage
from kpi_logic.metrics.results import Forecast
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

BACKTEST_PERIODS = 12       # complete periods the estimate is tried on
MIN_BACKTEST = 4            # fewer: no range, no chance
PROFILE_DAYS = 56           # the weekday profile's window, before the day looked from
START_SLACK_DAYS = 6        # a window may start this many days before the data do
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

    def trailing(self, first: date, last: date, days: int) -> float | None:
        """The metric over the `days` days up to its last day with data in [first, last],
        not before `first` (a key result's trailing value, as okrs.running_values makes it)."""
        span = self._span(first, last)
        if span.stop <= span.start:
            return None
        end = date.fromordinal(int(self.days[span.stop - 1]))
        return self.value(max(first, end - timedelta(days=days - 1)), end)

    def first_day(self) -> date | None:
        """The first day with data, None without any."""
        return date.fromordinal(int(self.days[0])) if len(self.days) else None

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


def window_estimate(series: Series, start: date, end: date, through: date, *, flow: bool,
                    daily: bool, trailing_days: int | None = None) -> tuple[float, str] | None:
    """(the value over [start, end] at `end`, the method) from the days [start, through];
    with `trailing_days`, the value over that many days up to the last day with data
    (a key result's trailing value). None without data."""
    if trailing_days:
        so_far = series.trailing(start, through, trailing_days)
    else:
        so_far = series.value(start, through)
    if so_far is None:
        return None
    if not flow or through >= end:
        return so_far, "so_far"
    weights = _weights(series, through) if daily else None
    if weights:
        covered = _weight(weights, start, through)
        if covered > 0:
            return so_far * _weight(weights, start, end) / covered, "pace_weekday"
    share = ((through - start).days + 1) / ((end - start).days + 1)
    return so_far / share, "pace"


def estimate(series: Series, start: date, grain: str, through: date, *, flow: bool,
             daily: bool) -> tuple[float, str] | None:
    """(the period's value at its end, the method) from the days [start, through]."""
    return window_estimate(series, start, period_end(start, grain), through, flow=flow,
                           daily=daily)


def window_errors(series: Series, windows: Sequence[tuple[date, date]], elapsed: timedelta, *,
                  flow: bool, daily: bool, trailing_days: int | None = None) -> list[float]:
    """Relative errors (actual / estimate - 1) of the estimate made `elapsed` into each
    window [first, last], against the value at its last day. A window starting more than
    a week before the series' first day is left out (its estimate would read part of a
    window; within a week, weekly or business-day data may simply not have begun)."""
    errors, known = [], series.first_day()
    for first, last in windows:
        if known is None or known > first + timedelta(days=START_SLACK_DAYS):
            continue
        cut = min(first + elapsed, last)
        guess = window_estimate(series, first, last, cut, flow=flow, daily=daily,
                                trailing_days=trailing_days)
        actual = (series.trailing(first, last, trailing_days) if trailing_days
                  else series.value(first, last))
        if guess is None or actual is None or guess[0] == 0:
            continue
        errors.append(actual / guess[0] - 1)
    return errors


def backtest_errors(series: Series, start: date, grain: str, through: date, *, flow: bool,
                    daily: bool, periods: int = BACKTEST_PERIODS) -> list[float]:
    """Relative errors (actual / estimate - 1) of the estimate made `through - start`
    days into each of the `periods` complete periods before `start`."""
    windows, earlier = [], start
    for _ in range(periods):
        earlier = previous_period(earlier, grain)
        windows.append((earlier, period_end(earlier, grain)))
    return window_errors(series, windows, through - start, flow=flow, daily=daily)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def ranged(value: float, method: str, errors: Sequence[float], target: float | None,
           target_kind: str) -> Forecast:
    """The forecast from an estimate and its record's relative errors (the module's
    rules): corrected by their mean, an 80% range and the chance of meeting `target`
    (at least it; at most it when target_kind is "max") with MIN_BACKTEST or more."""
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


def period_forecast(series: Series, start: date, grain: str, through: date, *, flow: bool,
                    daily: bool, target: float | None, target_kind: str) -> Forecast | None:
    """The forecast of the period starting `start` seen with data through `through`
    (the module's rules); None without data in the period."""
    guess = estimate(series, start, grain, through, flow=flow, daily=daily)
    if guess is None:
        return None
    errors = backtest_errors(series, start, grain, through, flow=flow, daily=daily)
    return ranged(*guess, errors, target, target_kind)


def earlier_windows(start: date, end: date, count: int = BACKTEST_PERIODS) -> list[tuple[date, date]]:
    """Up to `count` windows as long as [start, end], back to back before it, latest
    first; none starting before FIRST_DATE (a key result over a century long has
    fewer, and none at all rather than a date before year 1)."""
    length = end - start + timedelta(days=1)
    room = (start - FIRST_DATE) // length
    return [(start - length * k, end - length * k) for k in range(1, min(count, room) + 1)]


def kr_forecast(series: Series, start_date: date, deadline: date, through: date, *, kind: str,
                daily: bool, start: float, target: float,
                trailing_days: int | None = None) -> Forecast | None:
    """Where a key result will stand at its deadline, measured as it is (`kind`: total,
    latest or trailing over `trailing_days`), seen with data through `through`: a
    total paced to the deadline, any other value where it stands, with the module's
    range, tried on the equally long windows before its start.
    The chance is of reaching the target in its direction (at most it when the target
    is below the start). None without data in [start_date, through]."""
    trailing = trailing_days if kind == "trailing" else None
    flow = kind == "total"
    guess = window_estimate(series, start_date, deadline, through, flow=flow, daily=daily,
                            trailing_days=trailing)
    if guess is None:
        return None
    errors = window_errors(series, earlier_windows(start_date, deadline), through - start_date,
                           flow=flow, daily=daily, trailing_days=trailing)
    return ranged(*guess, errors, target, "max" if target < start else "min")


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

