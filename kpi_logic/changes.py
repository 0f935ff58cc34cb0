"""Compared with what? Changes vs the previous period and the same period last year.

Rules:
- absolute change = value - earlier value; relative change = absolute change
  / |earlier value| (so a loss shrinking from -100 to -50 is +50%). A
  relative change from 0 is undefined (NaN, shown as "new"), never infinite.
- The periods compared are calendar periods (previous_period,
  same_period_last_year), not the previous row: a missing month gives no
  comparison rather than a comparison with an older month.
- A period is partial when its data stop early: the next observation,
  expected one usual step after the last one (a day for daily data, a month
  for monthly data), would still fall inside the period. A partial period is
  compared like-for-like: with the same number of elapsed days at the start
  of the previous period and of last year's period (capped at their length),
  never a half month with a whole one.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd

from .periods import (as_date, elapsed_days, parse_period, period_end, period_label,
                      previous_period, same_period_last_year)
from .rollups import base_metrics, rolled_up
from .store import rollups as store_rollups

CHANGE_COLUMNS = ["previous", "vs_previous_abs", "vs_previous_pct",
                  "last_year", "vs_last_year_abs", "vs_last_year_pct"]


def relative_change(value: float | None, base: float | None) -> float:
    """(value - base) / |base|; NaN when either is missing or base is 0."""
    if value is None or base is None or pd.isna(value) or pd.isna(base) or base == 0:
        return float("nan")
    return (value - base) / abs(base)


def _pct(value: pd.Series, base: pd.Series) -> pd.Series:
    return (value - base) / base.abs().where(base != 0)


def changes_vs_previous(series: pd.DataFrame, grain: str) -> pd.DataFrame:
    """`series` (columns period, value; optional metric and dimension keys) with
    columns previous, vs_previous_abs, vs_previous_pct, last_year,
    vs_last_year_abs, vs_last_year_pct added. Periods are matched by calendar
    (see the module rules). Does not mutate `series`; rows keep their order.
    """
    keys = [c for c in ("metric", "dimension") if c in series.columns]
    lookup = series[keys + ["period", "value"]].assign(
        period=[as_date(p) for p in series["period"]])
    out = series.copy()
    periods = [as_date(p) for p in series["period"]]
    for name, shift in (("previous", previous_period), ("last_year", same_period_last_year)):
        wanted = series[keys].assign(period=[shift(p, grain) for p in periods])
        earlier = wanted.merge(lookup, on=keys + ["period"], how="left")["value"]
        out[name] = earlier.to_numpy(dtype="float64")
        out[f"vs_{name}_abs"] = out["value"] - out[name]
        out[f"vs_{name}_pct"] = _pct(out["value"].astype("float64"), out[name])
    return out


def _months_after(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = index // 12, index % 12 + 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last_day))


def next_expected(last_date, step_days: int | None) -> date | None:
    """When the observation after `last_date` is due, given the usual spacing
    of the data: steps of about a month, quarter or year keep the calendar
    (31 Jan -> 28 Feb), shorter steps add days. None when the step is unknown."""
    if step_days is None:
        return None
    last_date = as_date(last_date)
    for days, months in ((360, 12), (89, 3), (28, 1)):
        if step_days >= days:
            return _months_after(last_date, months)
    return last_date + timedelta(days=max(step_days, 1))


def period_is_partial(period, grain: str, last_date, step_days: int | None) -> bool:
    """True when the data of the period starting `period` end early: the next
    observation is due before the period ends. Data with an unknown step (a
    single observation) count as complete."""
    due = next_expected(last_date, step_days)
    return due is not None and due <= period_end(period, grain)


def _window_end(start: date, grain: str, days: int | None) -> date:
    """Last day compared in an earlier period: `days` in, capped at its end."""
    end = period_end(start, grain)
    return end if days is None else min(start + timedelta(days=days - 1), end)


def _steps(con, names: list[str], since: date) -> dict[str, int | None]:
    """Metric -> usual days between observations (a formula: its finest component)."""
    components = {n: base_metrics(con, n) for n in names}
    every = sorted({c for parts in components.values() for c in parts})
    steps = store_rollups.step_days(con, every, since=since) if every else {}
    return {n: min((steps[c] for c in parts if c in steps), default=None)
            for n, parts in components.items()}


def _current(con, names: list[str], grain: str, start: date, cut: date,
             dimension: str | None) -> pd.DataFrame:
    """One row per metric: value, through, partial and days (elapsed days compared)."""
    rolled = rolled_up(con, names, grain, start=start, end=cut, dimension=dimension)
    rolled = rolled.set_index("metric").reindex(names)
    steps = _steps(con, names, same_period_last_year(start, grain))
    rows = []
    for name in names:
        value, through = rolled.at[name, "value"], rolled.at[name, "last_date"]
        has_data = isinstance(through, date)
        partial = has_data and period_is_partial(start, grain, through, steps[name])
        rows.append({"metric": name, "value": float(value), "partial": partial,
                     "through": through if has_data else None,
                     "days": elapsed_days(start, through) if partial else None})
    columns = ["metric", "value", "partial", "through", "days"]
    types = {"metric": "str", "value": "float64", "partial": "bool", "through": "object",
             "days": "object"}
    # Built column by column so `days` keeps whole numbers and None, not floats.
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=types[c]) for c in columns})


def _earlier_values(con, current: pd.DataFrame, grain: str, start: date,
                    dimension: str | None) -> pd.DataFrame:
    """previous and last_year per metric, over windows as long as each metric's `days`."""
    parts = []
    for days, group in current.groupby(current["days"].fillna(0).astype(int)):
        names, length = group["metric"].tolist(), (int(days) or None)
        values = {"metric": names}
        for column, shift in (("previous", previous_period), ("last_year", same_period_last_year)):
            earlier = shift(start, grain)
            rolled = rolled_up(con, names, grain, start=earlier,
                               end=_window_end(earlier, grain, length), dimension=dimension)
            values[column] = rolled.set_index("metric")["value"].reindex(names).to_numpy()
        parts.append(pd.DataFrame(values))
    return pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=["metric", "previous", "last_year"])


def like_for_like(con, metrics: str | Iterable[str], period: str, *, dimension: str | None = None,
                  through=None) -> pd.DataFrame:
    """Each metric's value in `period` (a label: "2025-03", "2025-Q1", ...) with
    its changes: DataFrame[metric, period, label, value, partial, through,
    days, previous, vs_previous_abs, vs_previous_pct, last_year,
    vs_last_year_abs, vs_last_year_pct], one row per metric in the order asked.

    When the period is partial (see the module rules) `days` is the number of
    elapsed days (period start to the last observation) and previous and
    last_year cover only that many days of their periods; otherwise whole
    periods are compared and `days` is empty. `through` ignores data after
    that date (the as-of day). Refuses unknown metrics and period labels.
    """
    grain, start, end = parse_period(period)
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(metrics))
    cut = min(end, as_date(through)) if through is not None else end
    current = _current(con, names, grain, start, cut, dimension)
    earlier = _earlier_values(con, current, grain, start, dimension)
    out = current.merge(earlier, on="metric", how="left")
    for column in ("previous", "last_year"):
        out[column] = out[column].astype("float64")
        out[f"vs_{column}_abs"] = out["value"] - out[column]
        out[f"vs_{column}_pct"] = _pct(out["value"], out[column])
    out.insert(1, "period", pd.Series([start] * len(out), dtype="object"))
    out.insert(2, "label", period_label(start, grain))
    return out[["metric", "period", "label", "value", "partial", "through", "days", *CHANGE_COLUMNS]]
