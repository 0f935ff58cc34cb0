"""One metric, or a formula typed over metric names, by period: whole or split
by its dimension (channel, region...), each period marked partial when its
data (or the range asked for) cover only part of it. What CLI `history`
prints and the dashboard's Metric explorer shows.

The values are rollups.py's: a metric with its own aggregation, a formula
(stored or typed) applied to each period's aggregated parts, never to daily
values. Partial follows coverage.py, seen from the range's last day: a
period is partial when the data covering it end inside it ("so far"), or
when the range starts after its first day.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formatting import display_name
from kpi_logic.domain.formulas import (
    formula_components,
    formula_unit,
    metric_name,
    typed_formula,
    with_components,
)
from kpi_logic.domain.model import GRAINS, Metric
from kpi_logic.domain.periods import as_date, in_range, period_end, period_start
from kpi_logic.metrics.coverage import Coverage, combined, coverages, period_coverage
from kpi_logic.metrics.results import HistoryRow, MetricHistory
from kpi_logic.metrics.rollups import formula_rolled_up, rolled_up
from kpi_logic.store import Store


@dataclass(frozen=True)
class Subject:
    """What is looked at: a defined metric, or a formula typed over metric names."""
    metric: str | None            # the stored name; None for a typed formula
    formula: str | None           # the metric's formula, or the typed one (trimmed)
    unit: str
    direction: str
    aggregation: str | None       # None for a formula: computed from its parts' own
    parts: tuple[str, ...]        # the base metrics that hold its history
    dimension_name: str | None    # "channel" when every part is broken down by one


@dataclass(frozen=True)
class HistoryScope:
    """Where a metric's (or a formula's) data reach, for choosing a range and a split."""
    first_date: date | None       # its first and last dates with a value (None: no data)
    last_date: date | None
    unit: str                     # a typed formula's is read from its parts (formula_unit)
    dimension_name: str | None    # what its dimension is called ("channel"), when it has one
    dimensions: tuple[str, ...]   # the dimension values it has values for, sorted


def subject(store: Store, metric: str | None = None, *, formula: str | None = None) -> Subject:
    """The defined metric `metric` (its name as the importer writes it) or the typed
    `formula`; exactly one. Refuses (InputError) an unknown metric name and a formula
    that cannot be read or names an unknown metric."""
    if (metric is None) == (formula is None):
        raise InputError("name a metric or type a formula (one of them).")
    known = store.definitions.metrics()
    if metric is not None:
        found = known.get(metric) or {metric_name(n): m for n, m in known.items()}.get(
            metric_name(metric))
        if found is None:
            raise InputError(f"no metric named '{metric}': the Metrics catalogue lists them.",
                             column="metric")
        return _defined(found, known)
    parsed = typed_formula(formula, known)
    typed = Metric("", formula=parsed.text)        # "" is no metric's name: names need a letter
    parts = _parts(typed, {**known, "": typed})
    return Subject(None, parsed.text, formula_unit(parsed, {n: m.unit for n, m in known.items()}),
                   "up", None, parts, _dimension_name(parts, known))


def _defined(metric: Metric, known: Mapping[str, Metric]) -> Subject:
    parts = _parts(metric, known)
    return Subject(metric.name, metric.formula, metric.unit, metric.direction,
                   None if metric.formula else metric.aggregation, parts,
                   _dimension_name(parts, known))


def _parts(metric: Metric, known: Mapping[str, Metric]) -> tuple[str, ...]:
    """The base metrics behind `metric` (itself when it is one), at any depth."""
    every = with_components(metric.name, formula_components(known))
    return tuple(sorted(n for n in every if n in known and not known[n].formula))


def _dimension_name(parts: tuple[str, ...], known: Mapping[str, Metric]) -> str | None:
    """The dimension every part is broken down by, when they agree; else None."""
    names = {known[p].dimension_name for p in parts}
    return names.pop() if len(names) == 1 else None


def _rolled(store: Store, about: Subject, grain: str, **bounds) -> pd.DataFrame:
    if about.metric is not None:
        return rolled_up(store, about.metric, grain, **bounds)
    return formula_rolled_up(store, about.formula, grain, **bounds)


def history_scope(store: Store, metric: str | None = None, *, formula: str | None = None,
                  grain: str = "year") -> HistoryScope:
    """How far the data of `metric` (or of the typed `formula`) reach and which
    dimension values they have. A formula reaches over the `grain` periods where all
    its parts have values (revenue monthly and visitors daily from 24 Feb: from
    1 Feb by month, from 1 Jan by year). Refuses as `subject`."""
    about = subject(store, metric, formula=formula)
    # A recorded metric's first and last dates are the same by any grain: years are cheapest.
    whole = _rolled(store, about, grain if about.formula else "year")
    split = _rolled(store, about, "year", by="dimension")
    values = tuple(sorted(v for v in set(split["dimension"]) if v))
    return HistoryScope(
        min(whole["first_date"]) if len(whole) else None,
        max(whole["last_date"]) if len(whole) else None, about.unit,
        (about.dimension_name or "dimension") if values else None, values)


def metric_history(store: Store, metric: str | None = None, *, formula: str | None = None,
                   grain: str = "month", start=None, end=None, dimension: str | None = None,
                   by_dimension: bool = False) -> MetricHistory:
    """`metric` (or the typed `formula`) by `grain` between start and end (inclusive,
    each optional): `rows` the whole per period, oldest first; with by_dimension
    also `split`, per dimension value ("" for rows without one) then period;
    `dimension` keeps one dimension value throughout. Refuses (InputError) as
    `subject`, an unknown grain, dates outside the accepted range and a range that
    ends before it starts."""
    about = subject(store, metric, formula=formula)
    if grain not in GRAINS:
        raise InputError(f"'{grain}' is not a period length: use one of {', '.join(GRAINS)}.")
    start, end = _range(start, end)
    bounds = {"start": start, "end": end, "dimension": dimension}
    whole = _rolled(store, about, grain, **bounds)
    split = _rolled(store, about, grain, by="dimension", **bounds) if by_dimension else None
    known = store.definitions.metrics()
    seen = combined(about.metric or about.formula,
                    coverages(store, list(about.parts), as_of=end, metrics=known).values())
    label = display_name(known[about.metric]) if about.metric in known else None
    return {"metric": about.metric, "metric_label": label, "formula": about.formula,
            "unit": about.unit,
            "direction": about.direction, "aggregation": about.aggregation, "grain": grain,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "dimension_name": about.dimension_name, **seen.as_json(),
            "rows": _rows(whole, grain, start, seen, False),
            "split": _rows(split, grain, start, seen, True) if split is not None else []}


def _range(start, end) -> tuple[date | None, date | None]:
    start = in_range(start, "the range's first day") if start is not None else None
    end = in_range(end, "the range's last day") if end is not None else None
    if start and end and start > end:
        raise InputError(f"the range starts on {start.isoformat()}, after its last day "
                         f"{end.isoformat()}: pick a first day on or before the last.")
    return start, end


def _rows(frame: pd.DataFrame, grain: str, start: date | None, seen: Coverage,
          by_dimension: bool) -> list[HistoryRow]:
    partial = {p: is_partial(p, grain, start, seen) for p in set(frame["period"])}
    rows = []
    for record in frame.to_dict("records"):
        row: HistoryRow = {"period": record["label"],
                           "value": None if pd.isna(record["value"]) else float(record["value"]),
                           "partial": partial[record["period"]]}
        if by_dimension:
            row["dimension"] = record["dimension"]
        rows.append(row)
    return rows


def is_partial(period, grain: str, start: date | None, seen: Coverage) -> bool:
    """True when the range starts after the period's first day, or the data
    covering the period end inside it (coverage.period_coverage)."""
    first, last = period_start(period, grain), period_end(period, grain)
    if start is not None and as_date(start) > first:
        return True
    return period_coverage(first, last, seen).state == "partial"
