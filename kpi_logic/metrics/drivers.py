"""Why a formula metric moved: its change split into parts that add up to it.

Two decompositions, both exact (the parts add up to the change, to rounding):

- **Components** (`component_contributions`): Shapley values over the
  formula's metrics. A component's contribution is its average effect when it
  moves from its earlier to its later value, over every order in which the
  components could have moved one at a time. For CAC = spend / customers with
  spend 1,000 -> 1,100 and customers 25 -> 22: CAC moves 40 -> 50; spend
  alone adds 4.00 from 25 customers or 4.55 from 22, so 4.27; fewer customers
  alone add 5.45 at the old spend or 6.00 at the new, so 5.73; 4.27 + 5.73 = 10.
  It needs no rule per operator, treats every component alike, and for a sum
  it is each component's own change.
- **Dimension values** (`dimension_contributions`): where the metric adds up
  over its dimension (channel, region), each value's share of the change.
  A metric affine in sums (revenue - costs) gives each value its own change.
  A ratio of two such sums (purchases / visitors) is a weighted mean of the
  values' own ratios, R = sum(w_d * r_d) with w_d the value's share of the
  denominator, and its change splits exactly into a *mix* effect (the share
  moved: dw_d times the mean of r_d) and a *rate* effect (the value's own
  ratio moved: dr_d times the mean of w_d), midpoint weights, no residual.

Pure: numbers in, numbers out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import product

import numpy as np
import pandas as pd

from kpi_logic.domain.formulas import Formula, Node, formula_metrics, formula_values
from kpi_logic.domain.numbers import is_missing

MAX_COMPONENTS = 12     # 2^12 evaluations of the formula; real formulas name two to five


def component_contributions(formula: Formula, before: Mapping[str, float],
                            after: Mapping[str, float]) -> dict[str, float] | None:
    """{component: Shapley contribution} to formula(after) - formula(before), or None
    when the formula is undefined at some mix of the two (a component missing, a
    division by zero on the way) or names more than MAX_COMPONENTS metrics."""
    names = sorted(formula_metrics(formula))
    if len(names) > MAX_COMPONENTS or any(
            is_missing(side.get(n)) for side in (before, after) for n in names):
        return None
    masks = np.array(list(product((0, 1), repeat=len(names))), dtype=bool).reshape(-1, len(names))
    columns = {n: pd.Series(np.where(masks[:, i], float(after[n]), float(before[n])))
               for i, n in enumerate(names)}
    values = formula_values(formula, columns).to_numpy()
    if np.isnan(values).any():
        return None
    index = {tuple(row): position for position, row in enumerate(masks.tolist())}
    count = len(names)
    weight = [math.factorial(s) * math.factorial(count - s - 1) / math.factorial(count)
              for s in range(count)]
    out = {}
    for i, name in enumerate(names):
        total = 0.0
        for row in masks.tolist():
            if row[i]:
                continue
            with_i = list(row)
            with_i[i] = True
            total += weight[sum(row)] * (values[index[tuple(with_i)]] - values[index[tuple(row)]])
        out[name] = float(total)
    return out


# ---------------------------------------------------------------- by dimension value

def affine_terms(tree: Node) -> tuple[dict[str, float], float] | None:
    """({metric: coefficient}, constant) when the formula is affine in its metrics
    (sums, differences, multiples by numbers), else None."""
    kind = tree[0]
    if kind == "number":
        return {}, float(tree[1])
    if kind == "metric":
        return {tree[1]: 1.0}, 0.0
    if kind == "neg":
        inner = affine_terms(tree[1])
        return None if inner is None else ({m: -c for m, c in inner[0].items()}, -inner[1])
    left, right = affine_terms(tree[1]), affine_terms(tree[2])
    if left is None or right is None:
        return None
    if kind in ("+", "-"):
        sign = 1.0 if kind == "+" else -1.0
        terms = dict(left[0])
        for metric, coefficient in right[0].items():
            terms[metric] = terms.get(metric, 0.0) + sign * coefficient
        return terms, left[1] + sign * right[1]
    if kind == "*" and (not left[0] or not right[0]):
        scale, (terms, constant) = (left[1], right) if not left[0] else (right[1], left)
        return {m: c * scale for m, c in terms.items()}, constant * scale
    if kind == "/" and not right[0] and right[1] != 0:
        return {m: c / right[1] for m, c in left[0].items()}, left[1] / right[1]
    return None


def dimension_shape(tree: Node) -> tuple[str, tuple] | None:
    """How a metric's formula splits over its dimension: ("affine", (terms,)) or
    ("ratio", (numerator terms, denominator terms)) with both sums free of
    constants; None when it does not split (products of metrics, nested ratios)."""
    whole = affine_terms(tree)
    if whole is not None:
        return "affine", (whole[0],)
    if tree[0] == "/":
        top, bottom = affine_terms(tree[1]), affine_terms(tree[2])
        if top and bottom and top[1] == 0 and bottom[1] == 0 and bottom[0]:
            return "ratio", (top[0], bottom[0])
    return None


def _sum(terms: Mapping[str, float], values: Mapping[str, float]) -> float:
    return sum(c * float(values.get(m) or 0.0) for m, c in terms.items())


def dimension_contributions(shape: tuple[str, tuple], before: Mapping[str, Mapping[str, float]],
                            after: Mapping[str, Mapping[str, float]]) -> list[dict]:
    """Per dimension value ({value: {component: value}} on each side; a value
    missing on one side counts as 0 there): {"value", "contribution", "mix",
    "rate"}, largest contribution first (mix and rate None for an affine
    metric). The contributions add up to the change of the whole."""
    values = sorted(set(before) | set(after))
    kind, parts = shape
    if kind == "affine":
        (terms,) = parts
        rows = [{"value": v, "contribution": _sum(terms, after.get(v, {})) - _sum(terms, before.get(v, {})),
                 "mix": None, "rate": None} for v in values]
    else:
        rows = _mix_and_rate(values, parts, before, after)
    return sorted(rows, key=lambda r: (-abs(r["contribution"]), r["value"]))


def _mix_and_rate(values: list[str], parts: tuple, before, after) -> list[dict]:
    """A ratio's change per dimension value. Each value's term is its numerator over
    the whole denominator (t_d = N_d / D, the terms add up to the ratio), so its
    contribution is the change of its term; the rate effect is its own ratio's
    change times its mean share of the denominator, the mix effect the rest (the
    share's change times its mean ratio, where it has a denominator on both sides).
    Both whole denominators must be non-zero (the ratio is defined)."""
    top, bottom = parts
    sides = []
    for side in (before, after):
        numerators = {v: _sum(top, side.get(v, {})) for v in values}
        denominators = {v: _sum(bottom, side.get(v, {})) for v in values}
        sides.append((numerators, denominators, sum(denominators.values())))
    rows = []
    for v in values:
        terms, shares, rates = [], [], []
        for numerators, denominators, whole in sides:
            terms.append(numerators[v] / whole)
            shares.append(denominators[v] / whole)
            rates.append(numerators[v] / denominators[v] if denominators[v] else None)
        # A value with no denominator on one side has no ratio there: its share is 0,
        # so the other side's ratio stands in and its rate effect is 0.
        rates = [r if r is not None else next((o for o in rates if o is not None), 0.0)
                 for r in rates]
        contribution = terms[1] - terms[0]
        rate = (rates[1] - rates[0]) * (shares[0] + shares[1]) / 2
        rows.append({"value": v, "contribution": contribution, "mix": contribution - rate,
                     "rate": rate})
    return rows
