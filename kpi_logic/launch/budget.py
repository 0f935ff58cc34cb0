"""Budget what-ifs for a marketing launch: totals, daily splits, projections, scenarios.

Projections run a daily split through the channels' response curves
(kpi_logic.launch.curves) and scale from each channel's actuals: purchases by its
purchases per new customer, visitors by its visitors per unit of spend (a
constant cost per visit), so a projection's conversion falls as spend climbs a
curve with diminishing returns, which is what the curve claims. The optimiser
is in kpi_logic.launch.optimiser. Every function here is pure: DataFrames and dicts
in, new ones out.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.numbers import is_missing
from kpi_logic.launch.curves import Curve, refuse_unknown_channels

MAX_SCENARIOS = 4
# The comparison's row names: the page and the report read the rows by them.
ACTUAL = "Actual"
BASELINE = "Actual split, projected"   # the actual budgets run through the curves: like for like
WHAT_IF = "What-if"
PROJECTION_COLUMNS = ["channel", "spend_per_day", "spend", "new_customers", "purchases",
                      "visitors", "conversion_rate", "cac"]


def ratio(numerator, denominator) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if is_missing(numerator) or is_missing(denominator) or denominator == 0:
        return None
    return float(numerator) / float(denominator)


# --- totals and daily splits -----------------------------------------------

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


# --- projections -----------------------------------------------------------

def projected(curves: Mapping[str, Curve], allocation_per_day: Mapping[str, float], days: int,
              actual: pd.DataFrame | None = None) -> pd.DataFrame:
    """DataFrame[PROJECTION_COLUMNS], one row per curve's channel, over `days` days.

    Channels absent from the allocation spend 0. Purchases and visitors scale by
    the channel's actual purchases per new customer and visitors per unit of
    spend (rows of `actual`, a channel_kpis frame); without them they are null.
    Refuses channels without a curve, negative spend and days < 1. Does not mutate.
    """
    refuse_unknown_channels(curves, allocation_per_day, "The budget")
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


STRETCH = 1.5     # a daily spend this many times past the range seen is extrapolation


def outside_seen(curves: Mapping[str, Curve], allocation: Mapping[str, float],
                 stretch: float = STRETCH) -> list[dict]:
    """[{channel, spend_per_day, side, seen_per_day}] for each channel whose daily
    spend is more than `stretch` times its largest day ("above") or less than its
    smallest day with spend divided by `stretch` ("below"; 0 is not: spending
    nothing buys nothing, no curve needed). There the projection rests on the
    curve's shape alone: past the top it keeps promising customers, under the
    bottom a power curve makes each customer look ever cheaper."""
    found = []
    for channel, spend in allocation.items():
        curve = curves[channel]
        high, low = curve.max_spend_seen, curve.min_spend_seen
        if high and spend > stretch * high:
            found.append({"channel": channel, "spend_per_day": float(spend), "side": "above",
                          "seen_per_day": float(high)})
        elif low and 0 < spend < low / stretch:
            found.append({"channel": channel, "spend_per_day": float(spend), "side": "below",
                          "seen_per_day": float(low)})
    return found


def extrapolation_warnings(curves: Mapping[str, Curve], allocation: Mapping[str, float],
                           stretch: float = STRETCH, unit: str = "currency") -> list[str]:
    """outside_seen in sentences, amounts in `unit` (whole: daily budgets)."""
    money = lambda value: fmt.format_value(value, unit, whole=True)
    warnings = []
    for o in outside_seen(curves, allocation, stretch):
        spend, seen = o["spend_per_day"], o["seen_per_day"]
        if o["side"] == "above":
            warnings.append(f"{fmt.dimension_label(o['channel'])}: {money(spend)} a day is {spend / seen:,.1f} times "
                            f"the most it has spent in a day ({money(seen)}), so its projection "
                            "extrapolates the curve. Treat it with care, or set a maximum for "
                            "the channel.")
        else:
            warnings.append(f"{fmt.dimension_label(o['channel'])}: {money(spend)} a day is far below the least it has "
                            f"spent in a day ({money(seen)}), so its projection extrapolates the "
                            "curve: there the curve makes each customer look cheaper than any "
                            "day has shown. Treat its projected CAC with care, or set a minimum "
                            "for the channel.")
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
    rows = [{"scenario": ACTUAL, **blended(actual)}]
    # The curves smooth the daily ups and downs, so the actual split projected
    # is the like-for-like baseline for judging a scenario.
    if actual_projected is not None:
        rows.append({"scenario": BASELINE, **blended(actual_projected)})
    rows += [{"scenario": name, **blended(frame)} for name, frame in scenarios.items()]
    columns = ["scenario", "spend", "visitors", "purchases", "new_customers", "conversion_rate", "cac"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[1:]})
