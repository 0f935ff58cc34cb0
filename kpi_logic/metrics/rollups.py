"""Metric history rolled up to days, weeks, months, quarters or years.

Base metrics are aggregated in SQL (one query for all of them) with their own
aggregation: sum, mean, min, max, or last (the latest value in the period for
each dimension value, summed across dimension values: MRR per region adds up
to total MRR). A formula metric is then computed in pandas from its
components rolled up to the same periods: a month's conversion rate is
sum(purchases) / sum(visitors), never the mean of daily rates.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import (
    formula_metrics,
    formula_order,
    formula_values,
    metric_name,
    parse_formula,
    typed_formula,
)
from kpi_logic.domain.model import Metric
from kpi_logic.domain.periods import as_date, period_label
from kpi_logic.store import Store

COLUMNS = ["metric", "period", "label", "value", "first_date", "last_date"]


def _requested(metrics: str | Iterable[str], known: dict[str, Metric]) -> list[str]:
    """Requested names as stored; refuses unknown ones."""
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    by_normal = {metric_name(n): n for n in known}
    found = [by_normal.get(metric_name(n)) for n in names]
    missing = [n for n, f in zip(names, found, strict=True) if f is None]
    if missing:
        raise InputError(f"unknown metric {', '.join(repr(m) for m in missing)}: "
                         "check the name (see the metrics list) or import its history first.")
    return list(dict.fromkeys(found))


def _needed(names: list[str], known: dict[str, Metric]) -> list[str]:
    """The requested metrics and, recursively, every component of their formulas."""
    by_normal = {metric_name(n): n for n in known}
    needed, todo = [], list(names)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.append(name)
        if known[name].formula:
            used = formula_metrics(parse_formula(known[name].formula))
            unknown = sorted(u for u in used if u not in by_normal)
            if unknown:
                raise InputError(f"metric '{name}': formula '{known[name].formula}' uses unknown "
                                 f"metric {', '.join(repr(u) for u in unknown)}. Fix its definition.")
            todo.extend(by_normal[u] for u in used)
    return needed


def _formula_rows(name: str, formula: str, rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows for one formula metric from its components' rows (already in `rows`)."""
    parsed = parse_formula(formula)
    components = {metric_name(m): m for m in rows["metric"].unique()}
    used = [components.get(u, u) for u in formula_metrics(parsed)]
    parts = rows[rows["metric"].isin(used)]
    if parts.empty or set(used) - set(parts["metric"]):
        return rows.iloc[0:0]
    wide = parts.pivot(index=keys, columns="metric", values="value")
    # A period where a component has no data has no value (not a partial one).
    wide = wide.dropna(subset=used, how="any")
    wide.columns = [metric_name(c) for c in wide.columns]
    dates = parts.groupby(keys).agg(first_date=("first_date", "min"), last_date=("last_date", "max"))
    out = pd.DataFrame({"value": formula_values(parsed, wide)}, index=wide.index).join(dates)
    return out.reset_index().assign(metric=name)


def _with_formulas(base: pd.DataFrame, needed: list[str], known: dict[str, Metric],
                   keys: list[str]) -> pd.DataFrame:
    """`base` plus rows for every needed formula metric, components first."""
    formulas = {metric_name(n): known[n].formula for n in needed}
    by_normal = {metric_name(n): n for n in needed}
    rows = base
    for normal in formula_order(formulas):
        name = by_normal[normal]
        if known[name].formula:
            rows = pd.concat([rows, _formula_rows(name, known[name].formula, rows, keys)],
                             ignore_index=True)
    return rows


def _finished(rows: pd.DataFrame, names: list[str], grain: str, by: str | None) -> pd.DataFrame:
    """The requested metrics only, labelled, in request order then split then period."""
    columns = COLUMNS[:2] + ([by] if by else []) + COLUMNS[2:]
    rows = rows[rows["metric"].isin(names)].copy()
    labels = {p: period_label(p, grain) for p in set(rows["period"])}
    rows["label"] = rows["period"].map(labels)
    rows["order"] = rows["metric"].map({n: i for i, n in enumerate(names)})
    sort = ["order"] + ([by] if by else []) + ["period"]
    rows = rows.sort_values(sort, kind="stable")[columns].reset_index(drop=True)
    # Fixed dtypes, also when empty: text as str, dates as datetime.date objects.
    types = {c: "str" for c in ("metric", "label", "dimension", "campaign") if c in columns}
    types.update({c: "object" for c in ("period", "first_date", "last_date")}, value="float64")
    return rows.astype(types)


def rolled_up(store: Store, metrics: str | Iterable[str], grain: str, *, start=None, end=None,
              dimension: str | None = None, by: str | None = None) -> pd.DataFrame:
    """Metrics rolled up to `grain`: DataFrame[metric, period, label, value,
    first_date, last_date] (plus a `dimension` or `campaign` column after period
    when split by one).

    period is the first day of the period (datetime.date); first_date and
    last_date are the first and last observation dates that went into it.
    start/end (inclusive) bound the observation dates, so an edge period only
    holds the days inside the range. dimension='search' keeps that dimension
    value only; by="dimension" keeps one series per dimension value, by="campaign"
    one per campaign ('' for rows without one; a campaign run in two channels is
    one series). Periods without data have no row; a formula value is
    NaN when it divides by zero. Refuses (InputError) unknown metrics and
    broken formulas.
    """
    known = store.definitions.metrics()
    names = _requested(metrics, known)
    needed = _needed(names, known)
    aggregations = {n: known[n].aggregation for n in needed if not known[n].formula}
    base = store.history.rolled_up_rows(
        aggregations, grain, start=as_date(start) if start is not None else None,
        end=as_date(end) if end is not None else None, dimension=dimension, by=by)
    keys = ["period", by] if by else ["period"]
    return _finished(_with_formulas(base, needed, known, keys), names, grain, by)


def formula_rolled_up(store: Store, formula: str, grain: str, *, start=None, end=None,
                      dimension: str | None = None, by: str | None = None) -> pd.DataFrame:
    """A formula typed over defined metrics (not stored as one), rolled up as a
    formula metric is: the formula applied to each period's aggregated parts,
    never to daily values. The same frame as rolled_up, `metric` holding the
    formula as typed (trimmed). Refuses (InputError, domain.formulas.typed_formula)
    syntax errors and unknown metric names."""
    known = store.definitions.metrics()
    parsed = typed_formula(formula, known)
    by_normal = {metric_name(n): n for n in known}
    parts = sorted(by_normal[u] for u in formula_metrics(parsed))
    rows = rolled_up(store, parts, grain, start=start, end=end, dimension=dimension, by=by)
    keys = ["period", by] if by else ["period"]
    computed = _formula_rows(parsed.text, parsed.text, rows, keys)
    return _finished(computed, [parsed.text], grain, by)


def base_metrics(store: Store, metrics: str | Iterable[str]) -> list[str]:
    """The metrics that hold history behind `metrics`: base metrics themselves,
    formula metrics replaced by their components (recursively). Refuses unknown names."""
    known = store.definitions.metrics()
    needed = _needed(_requested(metrics, known), known)
    return sorted(n for n in needed if not known[n].formula)


def data_through(store: Store, metrics: str | Iterable[str] | None = None) -> date | None:
    """The latest observation date (of `metrics` and their formula components,
    when given); None when there is no data. Refuses unknown metrics."""
    if metrics is None:
        return store.history.latest_date()
    return store.history.latest_date(base_metrics(store, metrics))
