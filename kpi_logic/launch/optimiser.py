"""The budget optimiser of a marketing launch: the best daily split across channels
for a budget or a customer goal, and what it changes against the actual split.

Customers are concave in each channel's spend, so the best split gives every
channel that is not at a bound the same marginal customers per unit of
spend (the "price" below). Spending per channel falls as the price rises;
bisection finds the price at which the channels together spend the budget.
Every function here is pure: dicts of curves and spends in, new ones out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.numbers import is_missing
from kpi_logic.launch.budget import extrapolation_warnings, outside_seen
from kpi_logic.launch.curves import Curve, refuse_unknown_channels

_BISECTIONS = 200            # halvings of the price interval: exact to float precision


def optimal_allocation(curves: Mapping[str, Curve], daily_budget: float,
                       minimums: Mapping[str, float] | None = None,
                       maximums: Mapping[str, float] | None = None) -> dict[str, float]:
    """Daily spend per channel that maximises projected new customers for
    `daily_budget`, within per-channel minimums and maximums.

    Refuses a negative budget, unknown channels, negative or crossed bounds,
    minimums above the budget and maximums below it (InputError).
    """
    if is_missing(daily_budget) or daily_budget < 0:
        raise InputError(f"The daily budget must be 0 or more, not {daily_budget}.")
    names, a, b, low, high = _bounds(curves, minimums, maximums)
    if low.sum() > daily_budget * (1 + 1e-12):
        raise InputError(f"The minimums add up to {low.sum():,.2f} per day, more than the daily "
                         f"budget of {daily_budget:,.2f}. Lower the minimums or raise the budget.")
    if high.sum() < daily_budget * (1 - 1e-12):
        raise InputError(f"The maximums add up to {high.sum():,.2f} per day, less than the daily "
                         f"budget of {daily_budget:,.2f}, so the budget cannot be spent within "
                         "them. Raise the maximums or lower the budget.")
    cheap, dear = 1e-15, 1e15      # prices: customers per unit of spend at the margin
    for _ in range(_BISECTIONS):
        price = math.sqrt(cheap * dear)
        if _spend_at(price, a, b, low, high).sum() > daily_budget:
            cheap = price
        else:
            dear = price
    spend = _spend_at(dear, a, b, low, high)
    room = _spend_at(cheap, a, b, low, high) - spend
    spend = _with_rest_placed(daily_budget - spend.sum(), spend, room)
    # Channels whose curve buys nothing take what is still left, within bounds.
    spend = _with_rest_placed(daily_budget - spend.sum(), spend, high - spend)
    return {name: float(x) for name, x in zip(names, spend, strict=True)}


def _spend_at(price: float, a, b, low, high) -> np.ndarray:
    """Each channel's spend where its marginal customers per unit equal `price`."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        power = (price / (a * b)) ** (1 / np.where(b < 1, b - 1, -1.0))
    linear = np.where(a > price, np.inf, 0.0)
    return np.clip(np.where(b < 1, np.nan_to_num(power, nan=0.0, posinf=np.inf), linear), low, high)


def _with_rest_placed(rest: float, spend, room) -> np.ndarray:
    # What bisection leaves over belongs to the channels that jump between the
    # two final prices: constant-CAC channels priced exactly there (the
    # others only move by rounding dust). Largest jump first.
    spend = spend.copy()
    for i in np.argsort(-room, kind="stable"):
        step = min(max(rest, 0.0), room[i])
        spend[i] += step
        rest -= step
    return spend


def _bounds(curves, minimums, maximums):
    refuse_unknown_channels(curves, minimums, "The minimums")
    refuse_unknown_channels(curves, maximums, "The maximums")
    names = list(curves)
    low = np.array([float((minimums or {}).get(n, 0.0)) for n in names])
    high = np.array([float((maximums or {}).get(n, math.inf)) for n in names])
    for name, lo, hi in zip(names, low, high, strict=True):
        if lo < 0 or hi < 0:
            raise InputError(f"Channel '{name}': minimum and maximum budgets must be 0 or more.")
        if lo > hi:
            raise InputError(f"Channel '{name}': its minimum ({lo:,.2f}) is above its maximum "
                             f"({hi:,.2f}). Swap them or change one.")
    a = np.array([curves[n].a for n in names], dtype=float)
    b = np.array([curves[n].b for n in names], dtype=float)
    return names, a, b, low, high


def minimise_spend_for(curves: Mapping[str, Curve], customers_per_day: float,
                       minimums: Mapping[str, float] | None = None,
                       maximums: Mapping[str, float] | None = None) -> dict[str, float]:
    """The cheapest daily spend per channel projected to reach `customers_per_day`
    new customers, within the bounds. Refuses a goal of 0 or less and a goal
    out of reach within the maximums (InputError, saying the most reachable)."""
    if is_missing(customers_per_day) or customers_per_day <= 0:
        raise InputError(f"The customer goal must be above 0, not {customers_per_day}.")
    _, _, _, low, high = _bounds(curves, minimums, maximums)

    def reached(budget: float) -> float:
        return _customers(curves, optimal_allocation(curves, budget, minimums, maximums))

    if reached(low.sum()) >= customers_per_day:
        return optimal_allocation(curves, low.sum(), minimums, maximums)
    top = high.sum() if math.isfinite(high.sum()) else max(low.sum(), 1.0)
    while not math.isfinite(high.sum()) and reached(top) < customers_per_day and top < 1e15:
        top *= 2
    if reached(top) < customers_per_day * (1 - 1e-9):
        raise InputError(f"A goal of {customers_per_day:,.1f} new customers per day is out of "
                         f"reach: at most {reached(top):,.1f} per day within the maximums. Raise "
                         "the maximums or lower the goal.")
    cheap, dear = low.sum(), top
    for _ in range(60):
        middle = (cheap + dear) / 2
        cheap, dear = (middle, dear) if reached(middle) < customers_per_day else (cheap, middle)
    return optimal_allocation(curves, dear, minimums, maximums)


def _customers(curves: Mapping[str, Curve], allocation: Mapping[str, float]) -> float:
    return sum(curves[c].new_customers(x) for c, x in allocation.items())


def seen_bounds(curves: Mapping[str, Curve], minimums: Mapping[str, float] | None = None,
                maximums: Mapping[str, float] | None = None) -> tuple[dict, dict]:
    """(minimums, maximums) keeping each channel within the daily spend seen (its
    curve's min_spend_seen to max_spend_seen), where the curve is evidence, not
    extrapolation. A bound given for a channel replaces the one seen, and the
    other side gives way to it (a maximum below the least seen lowers the minimum
    to it). Channels without a range seen keep the bounds given."""
    low, high = dict(minimums or {}), dict(maximums or {})
    for channel, curve in curves.items():
        if channel not in low and curve.min_spend_seen is not None:
            low[channel] = min(curve.min_spend_seen, high.get(channel, math.inf))
        if channel not in high and curve.max_spend_seen is not None:
            high[channel] = max(curve.max_spend_seen, low[channel] if channel in low else 0.0)
    return low, high


def optimised_split(curves: Mapping[str, Curve], actual: Mapping[str, float], *,
                    budget: float | None = None, goal: float | None = None,
                    minimums: Mapping[str, float] | None = None,
                    maximums: Mapping[str, float] | None = None,
                    within_seen: bool = True, unit: str = "currency") -> dict:
    """{allocation, changes, moves, warnings, outside_seen, minimums, maximums}: the
    best daily split for a `budget` (most new customers) or for a customer `goal`
    per day (least spend), within the bounds, explained against the `actual`
    split in `unit`. `within_seen` (the default, as a careful analyst would)
    keeps each channel within the daily spend seen unless a bound says
    otherwise (seen_bounds); the bounds used are returned. Refuses both or
    neither of budget and goal, a budget outside what the bounds allow, and
    everything optimal_allocation / minimise_spend_for refuse."""
    if (budget is None) == (goal is None):
        raise InputError("Give either a daily budget to spend best or a daily customer goal "
                         "to reach most cheaply, not both or neither.")
    if within_seen:
        given = (minimums, maximums)
        minimums, maximums = seen_bounds(curves, minimums, maximums)
        # bounds set by hand that cannot hold the budget are optimal_allocation's to refuse
        if budget is not None and _fits(budget, curves, *given):
            _refuse_budget_outside_seen(budget, curves, minimums, maximums, unit)
    allocation = (optimal_allocation(curves, budget, minimums, maximums) if goal is None
                  else minimise_spend_for(curves, goal, minimums, maximums))
    changes = allocation_changes(curves, actual, allocation)
    return {"allocation": allocation, "changes": changes, "moves": moves_explained(changes, unit=unit),
            "warnings": extrapolation_warnings(curves, allocation, unit=unit),
            "outside_seen": outside_seen(curves, allocation),
            "minimums": dict(minimums or {}), "maximums": dict(maximums or {})}


def _fits(budget: float, curves: Mapping[str, Curve], low: Mapping[str, float] | None,
          high: Mapping[str, float] | None) -> bool:
    return (sum((low or {}).get(c, 0.0) for c in curves) <= budget
            <= sum((high or {}).get(c, math.inf) for c in curves))


def _refuse_budget_outside_seen(budget: float, curves: Mapping[str, Curve],
                                low: Mapping[str, float], high: Mapping[str, float],
                                unit: str) -> None:
    money = lambda value: fmt.format_value(value, unit, whole=True)
    least = sum(low.get(c, 0.0) for c in curves)
    most = sum(high.get(c, math.inf) for c in curves)
    allow = ("set the channels' minimums and maximums yourself, or allow spend outside the "
             "range seen")
    if not is_missing(budget) and budget < least * (1 - 1e-12):
        raise InputError(f"A daily budget of {money(budget)} is below what the channels spent "
                         f"together on their smallest days ({money(least)}): the curves know "
                         f"nothing below that. Raise the budget, {allow}.")
    if not is_missing(budget) and budget > most * (1 + 1e-12):
        raise InputError(f"A daily budget of {money(budget)} is above what the channels spent "
                         f"together on their largest days ({money(most)}): the curves know "
                         f"nothing above that. Lower the budget, {allow}.")


def allocation_changes(curves: Mapping[str, Curve], before: Mapping[str, float],
                       after: Mapping[str, float]) -> pd.DataFrame:
    """DataFrame[channel, spend_before, spend_after, change, new_customers_before,
    new_customers_after, marginal_cac_before], per day, one row per curve's channel."""
    rows = [{"channel": c, "spend_before": float(before.get(c, 0.0)),
             "spend_after": float(after.get(c, 0.0)),
             "change": float(after.get(c, 0.0)) - float(before.get(c, 0.0)),
             "new_customers_before": curve.new_customers(float(before.get(c, 0.0))),
             "new_customers_after": curve.new_customers(float(after.get(c, 0.0))),
             "marginal_cac_before": curve.marginal_cac(float(before.get(c, 0.0)))}
            for c, curve in curves.items()]
    return pd.DataFrame(rows).astype({"marginal_cac_before": float})


def moves_explained(changes: pd.DataFrame, threshold: float = 0.005,
                    unit: str = "currency") -> list[str]:
    """Sentences saying what moved where (from allocation_changes), biggest cut
    first, daily amounts in `unit` to the whole unit ("$2,152 a day"); a move
    smaller than `threshold` of the spend, or too small to show, is left out."""
    money = lambda value: fmt.format_value(value, unit, whole=True)
    sentences = []
    for r in changes.sort_values("change").itertuples(index=False):
        if (abs(r.change) < threshold * max(1.0, r.spend_before)
                or money(r.spend_before) == money(r.spend_after)):
            continue
        verb = "Cut" if r.change < 0 else "Raised"
        why = (" (it bought no customers)" if is_missing(r.marginal_cac_before)
               else f" (its next customer cost {money(r.marginal_cac_before)})")
        sentences.append(f"{verb} {fmt.dimension_label(r.channel)} from {money(r.spend_before)} to "
                         f"{money(r.spend_after)} a day{why}: new customers a day "
                         f"{r.new_customers_before:,.1f} → {r.new_customers_after:,.1f}.")
    if not sentences:
        return ["Nothing moved: the new split is the same as the current one."]
    gained = changes["new_customers_after"].sum() - changes["new_customers_before"].sum()
    spent = float(changes["change"].sum())
    cost = ("the same daily spend" if _is_zero(money(spent))
            else f"{money(abs(spent))} a day {'more' if spent > 0 else 'less'}")
    sentences.append(f"In total: {gained:+,.1f} new customers a day for {cost}.")
    return sentences


def _is_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)
