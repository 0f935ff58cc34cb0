"""Budget what-ifs for a marketing launch: response curves, projections, the optimiser.

Each channel's daily new customers follow a response curve fitted from its
own days since the launch (a * spend ** b, 0 < b <= 1, or constant CAC when
the data cannot carry a curve). Projections scale from the channel's actuals:
purchases by its purchases per new customer, visitors by its visitors per
unit of spend (a constant cost per visit), so a projection's conversion falls
as spend climbs a curve with diminishing returns, which is what the curve
claims. Every function here is pure: DataFrames and dicts in, new ones out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .numbers import is_missing   # launch.py imports it from here

MIN_FIT_DAYS = 10            # fewer days than this: constant CAC, a curve would be a guess
MIN_LOG_SPEND_STD = 0.05     # spend varying by less than ~5% cannot show diminishing returns
_BISECTIONS = 200            # halvings of the price interval: exact to float precision
MAX_SCENARIOS = 4
PROJECTION_COLUMNS = ["channel", "spend_per_day", "spend", "new_customers", "purchases",
                      "visitors", "conversion_rate", "cac"]


@dataclass(frozen=True)
class Curve:
    """Daily new customers = a * (daily spend) ** b, 0 < b <= 1.

    model is "power" (fitted) or "constant_cac" (b = 1, a = customers per
    unit of spend); `reason` says why a channel fell back to constant CAC.
    max_spend_seen is the largest daily spend in the data: beyond it the
    curve extrapolates.
    """
    model: str
    a: float
    b: float
    r2: float | None
    days: int
    reason: str = ""
    max_spend_seen: float | None = None

    def new_customers(self, spend_per_day: float) -> float:
        return self.a * spend_per_day ** self.b if spend_per_day > 0 else 0.0

    def marginal_cac(self, spend_per_day: float) -> float | None:
        """What the next customer costs at this spend; None when no spend buys one."""
        if self.a <= 0:
            return None
        if spend_per_day <= 0 and self.b < 1:
            return 0.0          # the first unit of spend on a power curve is the cheapest
        slope = self.a * self.b * spend_per_day ** (self.b - 1) if self.b < 1 else self.a
        return 1 / slope if slope > 0 else None

    def as_dict(self) -> dict:
        return {"model": self.model, "a": self.a, "b": self.b, "r2": self.r2,
                "days": self.days, "reason": self.reason, "max_spend_seen": self.max_spend_seen}


def ratio(numerator, denominator) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if is_missing(numerator) or is_missing(denominator) or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def _label(channel: str) -> str:
    return f"Channel '{channel}'" if channel else "This channel"


# --- response curves -------------------------------------------------------

def fitted_curve(daily: pd.DataFrame, channel: str = "") -> Curve:
    """The channel's response curve from its daily rows (columns spend, new_customers;
    obs_date optional, used in messages).

    Fits log(customers) = log(a) + b log(spend) by least squares over days with
    spend and customers above zero. Falls back to constant CAC (b = 1, a = total
    customers / total spend over days with spend) with fewer than MIN_FIT_DAYS
    such days, spend too flat to fit, or b outside (0, 1]. Refuses negative spend
    and a channel with no day of positive spend (InputError). Does not mutate.
    """
    missing = [c for c in ("spend", "new_customers") if c not in daily.columns]
    if missing:
        raise InputError(f"{_label(channel)} has no {' or '.join(missing)} history: import daily "
                         "spend and new_customers for it (channel in the dimension column).")
    spend = pd.to_numeric(daily["spend"], errors="coerce").astype(float)
    customers = pd.to_numeric(daily["new_customers"], errors="coerce").astype(float)
    _refuse_negative_spend(daily, spend, channel)
    paired = spend.notna() & customers.notna() & (spend > 0)
    if not paired.any():
        raise InputError(f"{_label(channel)} has no day with spend above zero and a new_customers "
                         "value, so nothing can be projected for it. Import its daily spend and "
                         "new customers since the launch, or leave it out of the what-if.")
    constant_a = float(customers[paired].sum() / spend[paired].sum())
    seen = float(spend[paired].max())
    usable = paired & (customers > 0)
    days = int(usable.sum())
    if days == 0:
        return _constant(0.0, int(paired.sum()), seen, f"no new customers on any of its {int(paired.sum())} "
                         "day(s) with spend, so it projects none at any budget")
    if days < MIN_FIT_DAYS:
        return _constant(constant_a, int(paired.sum()), seen,
                         f"only {days} day(s) with both spend and new customers "
                         f"(a response curve needs {MIN_FIT_DAYS})")
    log_spend, log_customers = np.log(spend[usable]), np.log(customers[usable])
    if log_spend.std() < MIN_LOG_SPEND_STD:
        return _constant(constant_a, int(paired.sum()), seen,
                         "daily spend barely changed, so the data cannot show how customers "
                         "respond to more or less spend")
    b, log_a = np.polyfit(log_spend, log_customers, 1)
    if not 0 < b <= 1:
        return _constant(constant_a, int(paired.sum()), seen,
                         f"the fitted exponent b = {b:.2f} is outside 0 < b <= 1")
    residual = log_customers - (log_a + b * log_spend)
    spread = float(((log_customers - log_customers.mean()) ** 2).sum())
    r2 = 1 - float((residual ** 2).sum()) / spread if spread > 0 else None
    return Curve("power", float(math.exp(log_a)), float(b), r2, days, "", seen)


def _constant(a: float, days: int, seen: float, why: str) -> Curve:
    return Curve("constant_cac", a, 1.0, None, days,
                 f"Constant CAC: {why}; each extra unit of spend is assumed to buy customers "
                 "at the channel's average CAC so far.", seen)


def _refuse_negative_spend(daily: pd.DataFrame, spend: pd.Series, channel: str) -> None:
    negative = spend < 0
    if not negative.any():
        return
    first = negative.to_numpy().nonzero()[0][0]
    when = f" on {pd.Timestamp(daily['obs_date'].iloc[first]).date()}" if "obs_date" in daily else ""
    raise InputError(f"{_label(channel)}: spend is negative{when} ({spend.iloc[first]:,.2f}), "
                     f"and {int(negative.sum())} row(s) in all. Spend must be 0 or more: correct "
                     "those rows in the history file and import it again.")


# --- totals ----------------------------------------------------------------

def blended(frame: pd.DataFrame) -> dict:
    """Totals of a channel KPI or projection frame: spend, visitors, purchases,
    new_customers summed, conversion_rate and cac from the sums (None when
    undefined). Missing components stay None rather than becoming 0."""
    total = {c: summed(frame[c]) for c in ("spend", "visitors", "purchases", "new_customers")}
    total["conversion_rate"] = ratio(total["purchases"], total["visitors"])
    total["cac"] = ratio(total["spend"], total["new_customers"])
    return total


def summed(values: pd.Series) -> float | None:
    present = pd.to_numeric(values, errors="coerce").dropna()
    return float(present.sum()) if len(present) else None


def actual_allocation(kpis: pd.DataFrame, days: int) -> dict[str, float]:
    """Actual spend per channel per day: total spend since launch / days."""
    if days < 1:
        raise InputError("The launch has no days of data yet: import history since the launch date.")
    return {r.channel: (0.0 if is_missing(r.spend) else float(r.spend)) / days
            for r in kpis.itertuples(index=False)}


# --- projections -----------------------------------------------------------

def projected(curves: Mapping[str, Curve], allocation_per_day: Mapping[str, float], days: int,
              actual: pd.DataFrame | None = None) -> pd.DataFrame:
    """DataFrame[PROJECTION_COLUMNS], one row per curve's channel, over `days` days.

    Channels absent from the allocation spend 0. Purchases and visitors scale by
    the channel's actual purchases per new customer and visitors per unit of
    spend (rows of `actual`, a channel_kpis frame); without them they are null.
    Refuses channels without a curve, negative spend and days < 1. Does not mutate.
    """
    _refuse_unknown(curves, allocation_per_day, "The budget")
    if days < 1:
        raise InputError("A projection needs at least one day.")
    ratios = {} if actual is None else {r.channel: r for r in actual.itertuples(index=False)}
    rows = []
    for channel, curve in curves.items():
        per_day = float(allocation_per_day.get(channel, 0.0))
        if per_day < 0:
            raise InputError(f"Channel '{channel}': a budget cannot be negative ({per_day:,.2f}).")
        customers = curve.new_customers(per_day) * days
        seen = ratios.get(channel)
        purchases = visitors = None
        if seen is not None:
            per_customer = ratio(seen.purchases, seen.new_customers)
            per_spend = ratio(seen.visitors, seen.spend)
            purchases = None if per_customer is None else customers * per_customer
            visitors = None if per_spend is None else per_day * days * per_spend
        rows.append({"channel": channel, "spend_per_day": per_day, "spend": per_day * days,
                     "new_customers": customers, "purchases": purchases, "visitors": visitors,
                     "conversion_rate": ratio(purchases, visitors),
                     "cac": ratio(per_day * days, customers)})
    return pd.DataFrame(rows, columns=PROJECTION_COLUMNS).astype(
        {c: float for c in PROJECTION_COLUMNS[1:]})


def _refuse_unknown(curves: Mapping[str, Curve], named: Mapping[str, float] | None, what: str) -> None:
    unknown = sorted(set(named or {}) - set(curves))
    if unknown:
        known = ", ".join(sorted(curves)) or "none"
        raise InputError(f"{what} names channel(s) {', '.join(unknown)} that have no response "
                         f"curve for this launch. Channels with one: {known}.")


# --- the optimiser ---------------------------------------------------------
# Customers are concave in each channel's spend, so the best split gives every
# channel that is not at a bound the same marginal customers per unit of
# spend (the "price" below). Spending per channel falls as the price rises;
# bisection finds the price at which the channels together spend the budget.

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
    return {name: float(x) for name, x in zip(names, spend)}


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
    _refuse_unknown(curves, minimums, "The minimums")
    _refuse_unknown(curves, maximums, "The maximums")
    names = list(curves)
    low = np.array([float((minimums or {}).get(n, 0.0)) for n in names])
    high = np.array([float((maximums or {}).get(n, math.inf)) for n in names])
    for name, lo, hi in zip(names, low, high):
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


def moves_explained(changes: pd.DataFrame, threshold: float = 0.005) -> list[str]:
    """Sentences saying what moved where (from allocation_changes), biggest cut first."""
    sentences = []
    for r in changes.sort_values("change").itertuples(index=False):
        if abs(r.change) < threshold * max(1.0, r.spend_before):
            continue
        verb = "Cut" if r.change < 0 else "Raised"
        why = (" (it bought no customers)" if is_missing(r.marginal_cac_before)
               else f" (its next customer cost {r.marginal_cac_before:,.2f})")
        sentences.append(f"{verb} {r.channel} from {r.spend_before:,.2f} to {r.spend_after:,.2f} "
                         f"per day{why}: new customers per day {r.new_customers_before:,.1f} -> "
                         f"{r.new_customers_after:,.1f}.")
    gained = changes["new_customers_after"].sum() - changes["new_customers_before"].sum()
    if sentences:
        sentences.append(f"In total: {gained:+,.1f} new customers per day for "
                         f"{changes['change'].sum():+,.2f} spend per day.")
    else:
        sentences.append("Nothing moved: the new split is the same as the current one.")
    return sentences


def projection_vs_actual(kpis: pd.DataFrame, projection: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[channel, actual_spend, projected_spend, actual_new_customers,
    projected_new_customers, actual_cac, projected_cac, actual_conversion_rate,
    projected_conversion_rate]: one row per projected channel, for the what-if table."""
    actual = kpis.set_index("channel")
    rows = []
    for r in projection.itertuples(index=False):
        seen = actual.loc[r.channel] if r.channel in actual.index else None
        rows.append({"channel": r.channel,
                     "actual_spend": np.nan if seen is None else seen["spend"],
                     "projected_spend": r.spend,
                     "actual_new_customers": np.nan if seen is None else seen["new_customers"],
                     "projected_new_customers": r.new_customers,
                     "actual_cac": np.nan if seen is None else seen["cac"], "projected_cac": r.cac,
                     "actual_conversion_rate": np.nan if seen is None else seen["conversion_rate"],
                     "projected_conversion_rate": r.conversion_rate})
    return pd.DataFrame(rows).astype({c: float for c in list(rows[0])[1:]} if rows else {})


def extrapolation_warnings(curves: Mapping[str, Curve], allocation: Mapping[str, float],
                           stretch: float = 1.5) -> list[str]:
    """Sentences for channels given more than `stretch` times their largest daily
    spend so far: there the projection rests on the curve's shape alone."""
    warnings = []
    for channel, spend in allocation.items():
        seen = curves[channel].max_spend_seen
        if seen and spend > stretch * seen:
            warnings.append(f"{channel}: {spend:,.2f} per day is {spend / seen:,.1f} times the most "
                            f"it has spent in a day ({seen:,.2f}), so its projection extrapolates "
                            "the curve. Treat it with care, or set a maximum for the channel.")
    return warnings


def scenario_comparison(actual: pd.DataFrame, scenarios: Mapping[str, pd.DataFrame],
                        actual_projected: pd.DataFrame | None = None) -> pd.DataFrame:
    """DataFrame[scenario, spend, visitors, purchases, new_customers, conversion_rate, cac]:
    "Actual" (a channel_kpis frame) first, then "Actual split, projected" when
    given, then each scenario's projection in order. Refuses no scenario or
    more than MAX_SCENARIOS."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise InputError(f"Pick 1 to {MAX_SCENARIOS} scenarios to compare with the actual, "
                         f"not {len(scenarios)}.")
    rows = [{"scenario": "Actual", **blended(actual)}]
    # The curves smooth the daily ups and downs, so the actual split projected
    # is the like-for-like baseline for judging a scenario.
    if actual_projected is not None:
        rows.append({"scenario": "Actual split, projected", **blended(actual_projected)})
    rows += [{"scenario": name, **blended(frame)} for name, frame in scenarios.items()]
    columns = ["scenario", "spend", "visitors", "purchases", "new_customers", "conversion_rate", "cac"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[1:]})


# --- what the page and the CLI ask for ---------------------------------------

def curve_fits(curves: Mapping[str, Curve], problems: Mapping[str, str] | None = None) -> pd.DataFrame:
    """DataFrame[channel, model, a, b, r2, days, max_spend_seen, note], one row per
    channel: its curve, or model None and the reason it has none (`problems`)."""
    rows = [{"channel": c, "model": k.model, "a": k.a, "b": k.b, "r2": k.r2, "days": k.days,
             "max_spend_seen": k.max_spend_seen, "note": k.reason}
            for c, k in curves.items()]
    rows += [{"channel": c, "model": None, "a": None, "b": None, "r2": None, "days": 0,
              "max_spend_seen": None, "note": why} for c, why in (problems or {}).items()]
    columns = ["channel", "model", "a", "b", "r2", "days", "max_spend_seen", "note"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"a": float, "b": float, "r2": float, "days": int, "max_spend_seen": float})


def rebalanced(allocation: Mapping[str, float], channel: str, spend: float) -> dict[str, float]:
    """The allocation with `channel` at `spend` and the other channels scaled so the
    total stays the same (shared evenly when they all stood at 0). When `spend`
    alone is above the total, the others drop to 0 and the total grows with it.
    Refuses an unknown channel and negative spend. Does not mutate."""
    if channel not in allocation:
        raise InputError(f"Channel '{channel}' is not in this budget split.")
    if is_missing(spend) or spend < 0:
        raise InputError(f"Channel '{channel}': a budget cannot be negative ({spend}).")
    others = {c: float(x) for c, x in allocation.items() if c != channel}
    rest = max(sum(float(x) for x in allocation.values()) - spend, 0.0)
    held = sum(others.values())
    if held > 0:
        others = {c: x * rest / held for c, x in others.items()}
    elif others:
        others = {c: rest / len(others) for c in others}
    return {c: float(spend) if c == channel else others[c] for c in allocation}


def optimised_split(curves: Mapping[str, Curve], actual: Mapping[str, float], *,
                    budget: float | None = None, goal: float | None = None,
                    minimums: Mapping[str, float] | None = None,
                    maximums: Mapping[str, float] | None = None) -> dict:
    """{allocation, changes, moves, warnings}: the best daily split for a `budget`
    (most new customers) or for a customer `goal` per day (least spend), within
    the bounds, explained against the `actual` split. Refuses both or neither of
    budget and goal, and everything optimal_allocation / minimise_spend_for refuse."""
    if (budget is None) == (goal is None):
        raise InputError("Give either a daily budget to spend best or a daily customer goal "
                         "to reach most cheaply, not both or neither.")
    allocation = (optimal_allocation(curves, budget, minimums, maximums) if goal is None
                  else minimise_spend_for(curves, goal, minimums, maximums))
    changes = allocation_changes(curves, actual, allocation)
    return {"allocation": allocation, "changes": changes, "moves": moves_explained(changes),
            "warnings": extrapolation_warnings(curves, allocation)}
