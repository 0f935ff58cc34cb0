"""Suggested KPI targets from a metric's own history.

Two methods, both on complete periods only (a half month would drag a
suggestion down): "median3", the median of the last three complete periods
(where the metric stands now, robust to one odd month), and "percentile",
a chosen percentile of the last PERCENTILE_WINDOW complete periods (how
ambitious: at least the 75th percentile means beating three periods in four).
A suggestion is a starting point the analyst edits, never a rule.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import TARGET_KINDS
from kpi_logic.domain.periods import period_end

METHODS = ("median3", "percentile")
RECENT_PERIODS = 3
PERCENTILE_WINDOW = 12
HISTORY_COLUMNS = ["period", "label", "value", "used"]


def default_percentile(target_kind: str) -> float:
    """The percentile that sets a stretching target: 0.75 for at least, 0.25 for at most."""
    _check_kind(target_kind)
    return 0.75 if target_kind == "min" else 0.25


def _check_kind(target_kind: str) -> None:
    if target_kind not in TARGET_KINDS:
        raise InputError(f"target kind '{target_kind}' is not one of: min (at least), "
                         "max (at most).")


def _present(values: Iterable) -> list[float]:
    out = []
    for value in values:
        if value is None:
            continue
        number = float(value)
        if math.isfinite(number):
            out.append(number)
    return out


def suggested_target(values: Iterable, target_kind: str, method: str = "median3",
                     q: float | None = None) -> float | None:
    """The suggested target from complete-period values (oldest first), or None
    when there are none. Missing values (None, NaN) are skipped.

    median3: median of the last 3 values; percentile: the q-quantile (0..1,
    default by target kind) of the last PERCENTILE_WINDOW values, interpolated
    linearly. Refuses (InputError) an unknown method or kind and q outside 0..1.
    Does not mutate `values`.
    """
    _check_kind(target_kind)
    if method not in METHODS:
        raise InputError(f"suggestion method '{method}' is not one of {', '.join(METHODS)}.")
    if q is None:
        q = default_percentile(target_kind)
    if not 0 <= q <= 1:
        raise InputError(f"the percentile must be between 0 and 100, not {q * 100:g}.")
    present = _present(values)
    if not present:
        return None
    if method == "median3":
        return float(pd.Series(present[-RECENT_PERIODS:]).median())
    return float(pd.Series(present[-PERCENTILE_WINDOW:]).quantile(q, interpolation="linear"))


def suggestion_history(rolled: pd.DataFrame, grain: str, as_of: date,
                       method: str = "median3") -> pd.DataFrame:
    """The complete periods a suggestion is drawn from: [period, label, value,
    used], oldest first, where `used` marks the periods the method takes.

    `rolled` is rollups.rolled_up output for one metric at `grain`. A period is
    complete when it ends before `as_of`; periods without a value are dropped.
    Refuses an unknown method. Does not mutate `rolled`.
    """
    if method not in METHODS:
        raise InputError(f"suggestion method '{method}' is not one of {', '.join(METHODS)}.")
    ended = pd.Series([period_end(p, grain) < as_of for p in rolled["period"]],
                      index=rolled.index, dtype="bool")
    complete = rolled.loc[ended & rolled["value"].notna(), ["period", "label", "value"]]
    complete = complete.sort_values("period").reset_index(drop=True)
    window = RECENT_PERIODS if method == "median3" else PERCENTILE_WINDOW
    complete["used"] = complete.index >= len(complete) - window
    return complete[HISTORY_COLUMNS]


def suggestion_note(method: str, target_kind: str, q: float | None, periods_used: int,
                    grain: str) -> str:
    """How the suggestion was made, in words, for the person setting the target."""
    noun = grain if periods_used == 1 else f"{grain}s"
    if periods_used == 0:
        return f"No complete {grain} with data yet: no suggestion; enter a target yourself."
    if method == "median3":
        shortfall = "" if periods_used >= RECENT_PERIODS else \
            f" (only {periods_used} complete {noun} with data so far)"
        return f"Median of the last {min(periods_used, RECENT_PERIODS)} complete {noun}{shortfall}."
    q = default_percentile(target_kind) if q is None else q
    share = q if target_kind == "max" else 1 - q
    return (f"{q * 100:.0f}th percentile of the last {periods_used} complete {noun}: "
            f"about {share:.0%} of them would have met this target.")


def rounded_target(value: float | None, digits: int = 3) -> float | None:
    """The value to `digits` significant digits (a target people can say); None stays None."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return round(value, decimals)
