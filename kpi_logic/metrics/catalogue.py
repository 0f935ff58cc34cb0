"""The metrics catalogue: every metric with its definition, current value, and
whether a KPI or key result depends on it (linked) or not (plain).

A metric is linked when a KPI watches it, a KPI lists it as supporting, a key
result moves it, or it is a formula component (at any depth) of one of those:
without "visitors" there is no conversion rate.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formatting import display_name
from kpi_logic.domain.formulas import formula_components, with_components
from kpi_logic.domain.model import KPI, TOO_MANY_KPIS, KeyResult, Metric
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import as_of_or_today, parse_period
from kpi_logic.metrics.coverage import Coverage, cadence_words, coverages, period_coverage
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

# Engagement counts that make a plain metric a vanity candidate. Whole words of
# the name only: "click_through_rate" is a real marketing KPI, "page_views" is not.
VANITY_WORDS = frozenset({
    "like", "likes", "share", "shares", "comment", "comments", "follower", "followers",
    "impression", "impressions", "reaction", "reactions", "retweet", "retweets",
    "view", "views", "pageview", "pageviews", "reach", "engagement", "fans", "subscribers",
})
CATALOGUE_COLUMNS = ["metric", "metric_label", "department", "unit", "direction", "aggregation",
                     "formula", "definition", "description", "current", "current_period",
                     "current_date", "current_partial",
                     "data_through", "cadence", "linked", "used_by", "vanity_candidate"]
_CURRENT = ["current", "current_period", "current_date", "current_partial", "data_through", "cadence"]


# How an imported metric's values make one period's value, in words.
AGGREGATION_WORDS = {"sum": "summed per period", "mean": "averaged per period",
                     "last": "the latest value per period", "min": "the lowest value per period",
                     "max": "the highest value per period"}


def definition_text(formula: str | None, aggregation: str | None, cadence: str | None,
                    has_data: bool) -> str:
    """How a metric is calculated, in words: a formula metric's formula; an
    imported one's cadence and aggregation ("Imported daily, summed per
    period"), or that its history is not imported yet."""
    if isinstance(formula, str) and formula:
        return formula
    words = AGGREGATION_WORDS.get(aggregation, f"{aggregation} per period")
    if not has_data:
        return f"Not imported yet ({words})"
    return f"Imported {cadence}, {words}" if cadence else f"Imported, {words}"


def metric_uses(kpis: Sequence[KPI], key_results: Sequence[KeyResult],
                components: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """For each linked metric, what uses it: "KPI: <title>" and "KR: <title>", in order.

    Metrics missing from the result are plain. Does not mutate its inputs.
    """
    uses: dict[str, list[str]] = {}
    roots = [(f"KPI: {k.title}", [k.metric, *k.supporting]) for k in kpis]
    roots += [(f"KR: {kr.title}", [kr.metric]) for kr in key_results]
    for label, names in roots:
        for root in names:
            for name in with_components(root, components):
                if label not in uses.setdefault(name, []):
                    uses[name].append(label)
    return uses


def is_vanity_candidate(name: str, linked: bool) -> bool:
    """True for a plain metric whose name reads like an engagement count (likes, page views...)."""
    if linked:
        return False
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    return bool(words & VANITY_WORDS)


def kpi_department(kpi: KPI | KeyResult, metrics: Mapping[str, Metric]) -> str | None:
    """The KPI's (or key result's) own department, else its metric's."""
    if kpi.department:
        return kpi.department
    metric = metrics.get(kpi.metric)
    return metric.department if metric else None


def crowded_departments(kpis: Sequence[KPI],
                        metrics: Mapping[str, Metric] | None = None) -> dict[str, int]:
    """{department: number of KPIs} for departments with more than TOO_MANY_KPIS KPIs.

    A KPI without a department counts for its metric's department when
    `metrics` is given; KPIs with no department at all are not counted.
    """
    counts: dict[str, int] = {}
    for kpi in kpis:
        department = kpi_department(kpi, metrics or {})
        if department:
            counts[department] = counts.get(department, 0) + 1
    return {d: n for d, n in sorted(counts.items()) if n > TOO_MANY_KPIS}


def known_departments(metrics: Mapping[str, Metric], kpis: Sequence[KPI],
                      key_results: Sequence[KeyResult]) -> list[str]:
    """Every department named by a metric, KPI or key result, sorted."""
    named = {m.department for m in metrics.values()}
    named |= {kpi_department(k, metrics) for k in kpis}
    named |= {kpi_department(kr, metrics) for kr in key_results}
    return sorted(d for d in named if d)


def resolved_department(department: str, known: Sequence[str]) -> str:
    """The department as it is written in the definitions (matched ignoring case and
    surrounding spaces). Refuses an unknown department, listing the known ones."""
    wanted = department.strip().casefold()
    for name in known:
        if name.casefold() == wanted:
            return name
    listing = ", ".join(known) if known else "none yet: import metric definitions first"
    raise InputError(f"There is no department '{department}'. Known departments: {listing}.")


def latest_values(rolled: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the latest period with a value: [metric, current, current_period, current_date].

    `rolled` is rollups.rolled_up output. Does not mutate it.
    """
    present = rolled[rolled["value"].notna()]
    latest = present.sort_values(["metric", "period"]).groupby("metric", sort=True).tail(1)
    out = latest.rename(columns={"value": "current", "label": "current_period",
                                 "last_date": "current_date"})
    return out[["metric", "current", "current_period", "current_date"]].reset_index(drop=True)


def with_coverage(current: pd.DataFrame, covered: Mapping[str, Coverage]) -> pd.DataFrame:
    """`current` (latest_values) plus current_partial (its data leave the month early:
    "so far, data through 10 Mar"), data_through and cadence. Does not mutate."""
    def partial(row) -> bool:
        if row.metric not in covered or not isinstance(row.current_period, str):
            return False
        _, start, end = parse_period(row.current_period)
        return period_coverage(start, end, covered[row.metric]).state == "partial"
    return current.assign(
        current_partial=[partial(r) for r in current.itertuples()],
        data_through=[covered[m].data_through if m in covered else None for m in current["metric"]],
        cadence=[cadence_words(covered[m].cadence, covered[m].step_days) if m in covered else None
                 for m in current["metric"]])


def metric_catalogue(store: Store, department: str | None = None,
                     as_of: date | None = None) -> pd.DataFrame:
    """Every metric (of one department when given) with its definition fields and
    `definition` (definition_text), current value
    (its latest month with data up to as_of, default today; partial when its data
    leave that month early), data_through, cadence, linked, used_by and
    vanity_candidate.

    Refuses an unknown department (InputError listing the known ones).
    """
    as_of = as_of_or_today(as_of)
    every = store.definitions.metrics()
    kpis, key_results = store.definitions.kpis(), store.definitions.key_results()
    metrics = every
    if department is not None:
        department = resolved_department(department, known_departments(every, kpis, key_results))
        metrics = {n: m for n, m in every.items() if m.department == department}
    uses = metric_uses(kpis, key_results, formula_components(every))
    rows = [{"metric": m.name, "metric_label": display_name(m), "department": m.department, "unit": m.unit, "direction": m.direction,
             "aggregation": m.aggregation, "formula": m.formula, "description": m.description,
             "linked": m.name in uses, "used_by": list(uses.get(m.name, [])),
             "vanity_candidate": is_vanity_candidate(m.name, m.name in uses)}
            for m in metrics.values()]
    table = pd.DataFrame(rows, columns=[c for c in CATALOGUE_COLUMNS if c not in _CURRENT])
    if metrics:
        current = with_coverage(latest_values(rolled_up(store, list(metrics), "month", end=as_of)),
                                coverages(store, list(metrics), as_of, metrics=every))
    else:
        current = pd.DataFrame(columns=["metric", *_CURRENT])
    out = table.merge(current, on="metric", how="left")
    out["current_partial"] = out["current_partial"].astype("boolean").fillna(False).astype(bool)
    out["definition"] = [definition_text(r.formula, r.aggregation, r.cadence,
                                         not is_missing(r.current)) for r in out.itertuples()]
    return out[CATALOGUE_COLUMNS].sort_values(["department", "metric"], na_position="last") \
        .reset_index(drop=True)
