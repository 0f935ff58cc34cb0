"""Why a KPI moved: its change against the previous period (or the same period
last year) split into the contributions of its formula's components, of its
dimension values and of its campaigns (metrics/drivers.py has the two
decompositions; campaigns split as dimension values do).

The periods compared are the scorecard's: the KPI's own grain, the latest
complete period by default, and when the data end inside the period its days
so far against as many days of the earlier period (changes.earlier_window).
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.domain.formulas import formula_metrics, formula_values, parse_formula
from kpi_logic.domain.model import KPI, Metric
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.periods import (
    as_of_or_today,
    parse_period,
    period_end,
    period_label,
    previous_period,
)
from kpi_logic.metrics.changes import COMPARISONS, earlier_window, relative_change
from kpi_logic.metrics.coverage import coverages, period_coverage
from kpi_logic.metrics.drivers import (
    component_contributions,
    dimension_contributions,
    dimension_shape,
)
from kpi_logic.metrics.kpis import scorecard
from kpi_logic.metrics.results import DimensionShare, Driver, Explanation
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import Store

ADDITIVE = ("sum", "last")    # aggregations whose period value adds up over dimension values
SPLITS = ("dimension", "campaign")    # the history columns a change is split over


def kpi_named(kpis: Sequence[KPI], title: str) -> KPI:
    """The KPI with this title (any case); refuses another with the closest titles."""
    wanted = str(title).strip().casefold()
    for kpi in kpis:
        if kpi.title.casefold() == wanted:
            return kpi
    titles = [k.title for k in kpis]
    close = difflib.get_close_matches(str(title), titles, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(t) for t in close)}?" if close else ""
    raise InputError(f"'{shortened(str(title), 60)}' is not a KPI title{hint}")


def _judged_start(period: str | None, grain: str, as_of: date) -> date:
    if period is None:
        return previous_period(as_of, grain)
    own, start, _ = parse_period(period)
    if own != grain:
        raise InputError(f"This KPI is judged per {grain}, so its period is a {grain} "
                         f"('{period}' is a {own}).")
    if start > as_of:
        raise InputError(f"Period {period} starts after {as_of.isoformat()}, the day looked from.")
    return start


def _values(store: Store, names: list[str], grain: str, first: date, last: date,
            by: str | None = None) -> pd.DataFrame:
    return rolled_up(store, names, grain, start=first, end=last, by=by)


def _whole(rolled: pd.DataFrame) -> dict[str, float | None]:
    return {m: (None if is_missing(v) else float(v))
            for m, v in rolled[["metric", "value"]].itertuples(index=False)}


def _by_value(rolled: pd.DataFrame, by: str) -> dict[str, dict[str, float]]:
    """{dimension value or campaign: {metric: value}} from a roll-up split `by` it."""
    out: dict[str, dict[str, float]] = {}
    for metric, value, amount in rolled[["metric", by, "value"]].itertuples(index=False):
        if not is_missing(amount):
            out.setdefault(value, {})[metric] = float(amount)
    return out


def explanation(store: Store, title: str, *, period: str | None = None, vs: str = "previous",
                as_of=None) -> Explanation:
    """The KPI's change in `period` (default: its latest complete period) against
    `vs` ("previous" or "last_year"), with its drivers and the contributions of its
    dimension values and of its campaigns (the shape: results.Explanation). Refuses an unknown KPI, a
    period of another grain or after as_of, and another `vs` (InputError)."""
    if vs not in COMPARISONS:
        raise InputError(f"Compare with 'previous' or 'last_year', not '{vs}'.")
    as_of = as_of_or_today(as_of)
    metrics = store.definitions.metrics()
    kpi = kpi_named(store.definitions.kpis(), title)
    metric = metrics.get(kpi.metric) or Metric(kpi.metric)
    grain = kpi.period
    start = _judged_start(period, grain, as_of)
    label = period_label(start, grain)
    formula = parse_formula(metric.formula) if metric.formula else None
    parts = sorted(formula_metrics(formula)) if formula else [metric.name]
    names = list(dict.fromkeys([metric.name, *parts]))
    if metric.name not in metrics:
        return _empty(kpi, metric, label, vs, start, grain, "its metric is not defined")
    # like_for_like's rule for how many days a partial period is compared over,
    # read from the coverage alone (like_for_like would roll the values up too)
    covered = coverages(store, [metric.name], as_of, metrics=metrics)[metric.name]
    days = period_coverage(start, period_end(start, grain), covered).days
    now_span = (start, min(period_end(start, grain), as_of))
    then_span = earlier_window(start, grain, days, vs)
    now = _whole(_values(store, names, grain, *now_span))
    then = _whole(_values(store, names, grain, *then_span))
    value, previous = now.get(metric.name), then.get(metric.name)
    out = _empty(kpi, metric, label, vs, start, grain, None)
    out.update({"value": value, "previous": previous, "partial": days is not None})
    if value is None or previous is None:
        out["note"] = (f"no value in {fmt.human_period(label if value is None else out['compared_with'])}"
                       ": nothing to compare")
        return out
    out["change"] = {"abs": value - previous, "pct": _number(relative_change(value, previous))}
    out["drivers"] = _drivers(formula, metric, metrics, then, now)
    words = {"dimension": metric.dimension_name or _dimension(parts, metrics) or "dimension",
             "campaign": "campaign"}
    refused = []
    for by in SPLITS:
        shares, why = _shares(store, by, words[by], formula, metric, parts, metrics, grain,
                              now_span, then_span)
        out[f"by_{by}"] = shares
        if why:
            refused.append((words[by], why))
    out["dimension_name"] = words["dimension"] if out["by_dimension"] else None
    if not out["drivers"] and formula is not None:
        out["note"] = "the formula is undefined in one of the periods (a division by zero)"
    elif refused:
        out["note"] = _not_split(refused)
    return out


def explained_scorecard(store: Store, department: str, *, period: str | None = None,
                        as_of=None) -> dict:
    """The department's scorecard (kpis.scorecard) with "explanations": each KPI's
    change against the previous period (card_explanations), as its PNG report shows."""
    card = scorecard(store, department, period=period, as_of=as_of)
    return {**card, "explanations": card_explanations(store, card["kpis"], as_of)}


def card_explanations(store: Store, entries: Sequence[dict], as_of=None) -> dict[str, Explanation]:
    """{KPI title: its explanation against the previous period} for the scorecard
    entries (kpis.scorecard's) that have a value in their judged period; a KPI whose
    change cannot be read (InputError) is left out."""
    out = {}
    for entry in entries:
        if is_missing(entry.get("value")):
            continue
        try:
            out[entry["title"]] = explanation(store, entry["title"], period=entry.get("period"),
                                              as_of=as_of)
        except InputError:
            continue
    return out


def _not_split(refused: list[tuple[str, str]]) -> str:
    """Why the change is not split by some breakdowns, one clause per reason: "its
    change is not split by channel or campaign: spend has no values broken down that way"."""
    by_reason: dict[str, list[str]] = {}
    for word, why in refused:
        by_reason.setdefault(why, []).append(word)
    return "; ".join(f"its change is not split by {' or '.join(words)}: {why}"
                     for why, words in by_reason.items())


def _number(value) -> float | None:
    return None if is_missing(value) else float(value)


def _empty(kpi: KPI, metric: Metric, label: str, vs: str, start: date, grain: str,
           note: str | None) -> Explanation:
    compared = period_label(COMPARISONS[vs](start, grain), grain)
    return {"kpi": kpi.title, "metric": metric.name, "metric_label": fmt.display_name(metric),
            "unit": metric.unit, "direction": metric.direction, "period": label,
            "compared_with": compared, "vs": vs, "partial": False, "value": None,
            "previous": None, "change": {"abs": None, "pct": None}, "drivers": [],
            "by_dimension": [], "dimension_name": None, "by_campaign": [], "note": note}


def _drivers(formula, metric: Metric, metrics: Mapping[str, Metric],
             then: Mapping[str, float | None], now: Mapping[str, float | None]) -> list[Driver]:
    if formula is None:
        return [{"component": metric.name, "label": fmt.display_name(metric), "unit": metric.unit,
                 "before": then[metric.name], "after": now[metric.name],
                 "contribution": now[metric.name] - then[metric.name]}]
    shares = component_contributions(formula, then, now)
    if shares is None:
        return []
    rows = [{"component": name, "label": fmt.display_name(metrics.get(name) or Metric(name)),
             "unit": (metrics.get(name) or Metric(name)).unit,
             "before": then.get(name), "after": now.get(name), "contribution": share}
            for name, share in shares.items()]
    return sorted(rows, key=lambda r: (-abs(r["contribution"]), r["component"]))


def _dimension(parts: Sequence[str], metrics: Mapping[str, Metric]) -> str | None:
    """The dimension the parts' definitions name, when they name one and the same."""
    names = {metrics[p].dimension_name for p in parts if p in metrics} - {None}
    return names.pop() if len(names) == 1 else None


def _shares(store: Store, by: str, word: str, formula, metric: Metric, parts: list[str],
            metrics: Mapping[str, Metric], grain: str, now_span, then_span,
            ) -> tuple[list[DimensionShare], str | None]:
    """Each dimension value's (by="dimension") or campaign's (by="campaign")
    contribution, or [] and why not (None when the data have no such values in the
    two periods). `word` names the breakdown ("channel", "campaign")."""
    now = _by_value(_values(store, parts, grain, *now_span, by=by), by)
    then = _by_value(_values(store, parts, grain, *then_span, by=by), by)
    if not (set(now) | set(then)) - {""}:
        return [], None
    if any(metrics[p].formula for p in parts):
        return [], "a part is itself a formula"
    split = {part for side in (now, then) for value, parts_of in side.items() if value
             for part in parts_of}
    unsplit = [p for p in parts if p not in split]
    if unsplit:
        # spend per channel over customers of no channel would credit every customer to
        # "(no channel)" and every channel with nothing: no split is better than that one
        named = ", ".join(fmt.display_name(metrics.get(p) or Metric(p)) for p in unsplit)
        return [], (f"{named} {'has' if len(unsplit) == 1 else 'have'} no values "
                    "broken down that way")
    if any(metrics[p].aggregation not in ADDITIVE for p in parts):
        return [], "a mean, minimum or maximum does not add up over the values"
    shape = dimension_shape(formula.tree) if formula else ("affine", ({metric.name: 1.0},))
    if shape is None:
        return [], "the formula multiplies or divides metrics in a way that does not add up"
    rows = dimension_contributions(shape, then, now)
    own = formula if formula is not None else parse_formula(metric.name)
    return [{"dimension": r["value"] or "",
             "label": fmt.dimension_label(r["value"]) if r["value"] else f"(no {word})",
             "value": _own_value(own, now.get(r["value"], {})),
             "previous": _own_value(own, then.get(r["value"], {})),
             "contribution": r["contribution"], "mix": r["mix"], "rate": r["rate"]}
            for r in rows], None


def _own_value(formula, values: Mapping[str, float]) -> float | None:
    """The metric's value within one dimension value (None without data, or undefined)."""
    if not values:
        return None
    columns = {m: pd.Series([values.get(m, 0.0)]) for m in formula_metrics(formula)}
    return _number(formula_values(formula, columns).iloc[0])
