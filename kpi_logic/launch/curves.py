"""Response curves of a marketing launch's channels: fitting them and the table of fits.

Each channel's daily new customers follow a response curve fitted from its
own days since the launch (a * spend ** b, 0 < b <= 1, or constant CAC when
the data cannot carry a curve). Every function here is pure: DataFrames and
dicts in, new ones out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError

MIN_FIT_DAYS = 10            # fewer days than this: constant CAC, a curve would be a guess
MIN_LOG_SPEND_STD = 0.05     # spend varying by less than ~5% cannot show diminishing returns


@dataclass(frozen=True)
class Curve:
    """Daily new customers = a * (daily spend) ** b, 0 < b <= 1.

    model is "power" (fitted) or "constant_cac" (b = 1, a = customers per
    unit of spend); `reason` says why a channel fell back to constant CAC.
    min_spend_seen and max_spend_seen are the smallest and largest daily
    spend above zero in the data: outside them the curve extrapolates.
    """
    model: str
    a: float
    b: float
    r2: float | None
    days: int
    reason: str = ""
    max_spend_seen: float | None = None
    min_spend_seen: float | None = None

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
                "days": self.days, "reason": self.reason, "max_spend_seen": self.max_spend_seen,
                "min_spend_seen": self.min_spend_seen}


def _label(channel: str) -> str:
    return f"Channel '{channel}'" if channel else "This channel"


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
    seen, least = float(spend[paired].max()), float(spend[paired].min())
    usable = paired & (customers > 0)
    days = int(usable.sum())
    if days == 0:
        return _constant(0.0, int(paired.sum()), (least, seen),
                         f"no new customers on any of its {int(paired.sum())} day(s) with "
                         "spend, so it projects none at any budget")
    if days < MIN_FIT_DAYS:
        return _constant(constant_a, int(paired.sum()), (least, seen),
                         f"only {days} day(s) with both spend and new customers "
                         f"(a response curve needs {MIN_FIT_DAYS})")
    log_spend, log_customers = np.log(spend[usable]), np.log(customers[usable])
    if log_spend.std() < MIN_LOG_SPEND_STD:
        return _constant(constant_a, int(paired.sum()), (least, seen),
                         "daily spend barely changed, so the data cannot show how customers "
                         "respond to more or less spend")
    b, log_a = np.polyfit(log_spend, log_customers, 1)
    if not 0 < b <= 1:
        return _constant(constant_a, int(paired.sum()), (least, seen),
                         f"the fitted exponent b = {b:.2f} is outside 0 < b <= 1")
    residual = log_customers - (log_a + b * log_spend)
    spread = float(((log_customers - log_customers.mean()) ** 2).sum())
    r2 = 1 - float((residual ** 2).sum()) / spread if spread > 0 else None
    return Curve("power", float(math.exp(log_a)), float(b), r2, days, "", seen, least)


def _constant(a: float, days: int, seen: tuple[float, float], why: str) -> Curve:
    return Curve("constant_cac", a, 1.0, None, days,
                 f"Constant CAC: {why}; each extra unit of spend is assumed to buy customers "
                 "at the channel's average CAC so far.", seen[1], seen[0])


def _refuse_negative_spend(daily: pd.DataFrame, spend: pd.Series, channel: str) -> None:
    negative = spend < 0
    if not negative.any():
        return
    first = negative.to_numpy().nonzero()[0][0]
    when = f" on {pd.Timestamp(daily['obs_date'].iloc[first]).date()}" if "obs_date" in daily else ""
    raise InputError(f"{_label(channel)}: spend is negative{when} ({spend.iloc[first]:,.2f}), "
                     f"and {int(negative.sum())} row(s) in all. Spend must be 0 or more: correct "
                     "those rows in the history file and import it again.")


def refuse_unknown_channels(curves: Mapping[str, Curve], named: Mapping[str, float] | None,
                            what: str) -> None:
    """Refuses (InputError) channels in `named` without a curve; `what` opens the message."""
    unknown = sorted(set(named or {}) - set(curves))
    if unknown:
        known = ", ".join(sorted(curves)) or "none"
        raise InputError(f"{what} names channel(s) {', '.join(unknown)} that have no response "
                         f"curve for this launch. Channels with one: {known}.")


def curve_fits(curves: Mapping[str, Curve], problems: Mapping[str, str] | None = None) -> pd.DataFrame:
    """DataFrame[channel, model, a, b, r2, days, min_spend_seen, max_spend_seen, note],
    one row per channel: its curve, or model None and the reason it has none (`problems`)."""
    rows = [{"channel": c, "model": k.model, "a": k.a, "b": k.b, "r2": k.r2, "days": k.days,
             "min_spend_seen": k.min_spend_seen, "max_spend_seen": k.max_spend_seen,
             "note": k.reason}
            for c, k in curves.items()]
    rows += [{"channel": c, "model": None, "a": None, "b": None, "r2": None, "days": 0,
              "min_spend_seen": None, "max_spend_seen": None, "note": why}
             for c, why in (problems or {}).items()]
    columns = ["channel", "model", "a", "b", "r2", "days", "min_spend_seen", "max_spend_seen",
               "note"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"a": float, "b": float, "r2": float, "days": int, "min_spend_seen": float,
         "max_spend_seen": float})


STEP_PER_DAY = 100.0         # "each extra $100 a day": a step a marketing lead budgets in


def curve_words(channel: str, curve: Curve, spend_per_day: float, unit: str = "currency") -> str:
    """A channel's curve in a marketing lead's words: what STEP_PER_DAY more a day
    brings at `spend_per_day` (today's spend), how much of the day-to-day variation
    the fit explains, and the range of daily spend it was fitted on."""
    step = fmt.format_value(STEP_PER_DAY, unit, whole=True)
    more = curve.new_customers(spend_per_day + STEP_PER_DAY) - curve.new_customers(spend_per_day)
    today = fmt.format_value(spend_per_day, unit, whole=True)
    head = (f"{fmt.dimension_label(channel)}: each extra {step} a day brings about {more:,.1f} more new customers a "
            f"day at today's {today} a day")
    if curve.model == "power":
        fit = ("" if curve.r2 is None else
               f"; the curve explains {fmt.format_progress(curve.r2)} of the day-to-day variation")
        tail = "" if curve.b >= 1 else f" (fewer for each further {step})"
    else:
        fit, tail = " (constant CAC: no curve could be fitted, see the details)", ""
    seen = ("" if curve.min_spend_seen is None or curve.max_spend_seen is None else
            f", on days spending {fmt.format_value(curve.min_spend_seen, unit, whole=True)}"
            f" to {fmt.format_value(curve.max_spend_seen, unit, whole=True)}")
    return f"{head}{tail}{fit}{seen}."
