"""Compared with what? Changes vs the previous period and the same period last year.

Rules:
- absolute change = value - earlier value; relative change = absolute change
  / |earlier value| (so a loss shrinking from -100 to -50 is +50%). A
  relative change from 0 is undefined (NaN, shown as "new"), never infinite.
- The periods compared are calendar periods (previous_period,
  same_period_last_year), not the previous row: a missing month gives no
  comparison rather than a comparison with an older month.
- A relative change across zero (from a negative value to a positive one or
  back) is undefined too: -48.7 points from 4.9% is not "-987%".
- A period is partial when its data stop early (kpi_logic.metrics.coverage: a daily
  metric through the 10th of a month, a monthly one with the last month of a
  quarter to come). A partial period is compared like-for-like: with the
  same number of covered days at the start of the previous period and of
  last year's period (capped at their length), never a half month with a
  whole one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import pandas as pd

from kpi_logic.domain.periods import (
    as_date,
    parse_period,
    period_end,
    period_label,
    previous_period,
    same_period_last_year,
)
from kpi_logic.metrics.coverage import Coverage, coverages, period_coverage
from kpi_logic.metrics.rollups import base_metrics, rolled_up
from kpi_logic.store import Store

CHANGE_COLUMNS = ["previous", "vs_previous_abs", "vs_previous_pct",
                  "last_year", "vs_last_year_abs", "vs_last_year_pct"]


def relative_change(value: float | None, base: float | None) -> float:
    """(value - base) / |base|; NaN when either is missing, base is 0 or the two
    lie on opposite sides of zero."""
    if value is None or base is None or pd.isna(value) or pd.isna(base) or base == 0:
        return float("nan")
    if (value < 0 < base) or (base < 0 < value):
        return float("nan")
    return (value - base) / abs(base)


def _pct(value: pd.Series, base: pd.Series) -> pd.Series:
    """relative_change for whole columns."""
    crossing = ((value < 0) & (base > 0)) | ((value > 0) & (base < 0))
    return ((value - base) / base.abs().where(base != 0)).where(~crossing)


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


def _window_end(start: date, grain: str, days: int | None) -> date:
    """Last day compared in an earlier period: `days` in, capped at its end."""
    end = period_end(start, grain)
    return end if days is None else min(start + timedelta(days=days - 1), end)


COMPARISONS = {"previous": previous_period, "last_year": same_period_last_year}


def earlier_window(start: date, grain: str, days: int | None, vs: str) -> tuple[date, date]:
    """(first, last) day of the period a `grain` period starting on `start` is compared
    with (vs "previous" or "last_year"), over `days` days when the period is partial:
    the like-for-like rule of like_for_like, for callers that roll up by hand."""
    earlier = COMPARISONS[vs](start, grain)
    return earlier, _window_end(earlier, grain, days)


def _current(store: Store, names: list[str], grain: str, start: date, cut: date,
             dimension: str | None, covered: Mapping[str, Coverage]) -> pd.DataFrame:
    """One row per metric: value, partial, through (its last date in the period) and
    days (days covered from the period's start, when partial)."""
    rolled = rolled_up(store, names, grain, start=start, end=cut, dimension=dimension)
    rolled = rolled.set_index("metric").reindex(names)
    end = period_end(start, grain)
    rows = []
    for name in names:
        value, through = rolled.at[name, "value"], rolled.at[name, "last_date"]
        has_data = isinstance(through, date)
        judged = period_coverage(start, end, covered[name])
        partial = has_data and judged.state == "partial"
        rows.append({"metric": name, "value": float(value), "partial": partial,
                     "through": through if has_data else None,
                     "days": judged.days if partial else None})
    columns = ["metric", "value", "partial", "through", "days"]
    types = {"metric": "str", "value": "float64", "partial": "bool", "through": "object",
             "days": "object"}
    # Built column by column so `days` keeps whole numbers and None, not floats.
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=types[c]) for c in columns})


def _earlier_values(store: Store, current: pd.DataFrame, grain: str, start: date,
                    dimension: str | None) -> pd.DataFrame:
    """previous and last_year per metric, over windows as long as each metric's `days`."""
    parts = []
    for days, group in current.groupby(current["days"].fillna(0).astype(int)):
        names, length = group["metric"].tolist(), (int(days) or None)
        values = {"metric": names}
        for column in COMPARISONS:
            earlier, last = earlier_window(start, grain, length, column)
            rolled = rolled_up(store, names, grain, start=earlier, end=last, dimension=dimension)
            values[column] = rolled.set_index("metric")["value"].reindex(names).to_numpy()
        parts.append(pd.DataFrame(values))
    return pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=["metric", "previous", "last_year"])


def like_for_like(store: Store, metrics: str | Iterable[str], period: str, *, dimension: str | None = None,
                  through=None, covered: Mapping[str, Coverage] | None = None) -> pd.DataFrame:
    """Each metric's value in `period` (a label: "2025-03", "2025-Q1", ...) with
    its changes: DataFrame[metric, period, label, value, partial, through,
    days, previous, vs_previous_abs, vs_previous_pct, last_year,
    vs_last_year_abs, vs_last_year_pct], one row per metric in the order asked.

    When the period is partial (kpi_logic.metrics.coverage: the metric's data end inside
    it) `days` is the number of days covered from its start and previous and
    last_year cover only that many days of their periods; otherwise whole
    periods are compared and `days` is empty. `through` ignores data after
    that date (the as-of day). `covered` may bring the metrics' coverage seen
    from that day, already read. Refuses unknown metrics and period labels.
    """
    grain, start, end = parse_period(period)
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(metrics))
    base_metrics(store, names)        # refuses unknown names before anything else
    cut = min(end, as_date(through)) if through is not None else end
    covered = covered if covered is not None else coverages(store, names, as_of=through)
    current = _current(store, names, grain, start, cut, dimension, covered)
    earlier = _earlier_values(store, current, grain, start, dimension)
    out = current.merge(earlier, on="metric", how="left")
    for column in ("previous", "last_year"):
        out[column] = out[column].astype("float64")
        out[f"vs_{column}_abs"] = out["value"] - out[column]
        out[f"vs_{column}_pct"] = _pct(out["value"], out[column])
    out.insert(1, "period", pd.Series([start] * len(out), dtype="object"))
    out.insert(2, "label", period_label(start, grain))
    return out[["metric", "period", "label", "value", "partial", "through", "days", *CHANGE_COLUMNS]]
