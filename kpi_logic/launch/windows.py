"""Before and after a date: a launch's traffic uplift and a promotion's
engagement, over the longest equal windows the data covers on both sides,
from summed components; and all channels summed per day. Pure.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.launch.budget import ratio, summed


@dataclass(frozen=True)
class BeforeAfter:
    """Measures over two equal windows either side of a date (`days` each).

    table: DataFrame[measure, before, after, change, relative_change];
    windows are None, and `reason` says why, when one side has no data.
    """
    before_start: date | None
    before_end: date | None
    after_start: date | None
    after_end: date | None
    days: int
    table: pd.DataFrame
    reason: str = ""

    def windows_text(self) -> str:
        if not self.days:
            return self.reason
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        span = lambda a, b: f"{fmt.human_date(a)} to {fmt.human_date(b)}"
        return (f"{days} before ({span(self.before_start, self.before_end)}) vs "
                f"{days} from ({span(self.after_start, self.after_end)})")


def comparison_windows(dates: pd.Series, pivot: date,
                       window_days: int | None = None) -> tuple[date, date, date, date, int] | None:
    """(before_start, before_end, after_start, after_end, days): the longest equal
    windows the data covers on both sides of `pivot` (pivot starts the after
    window), capped at window_days; None when a side is empty."""
    require_launch_date(pivot)
    known = pd.Series(pd.to_datetime(dates)).dt.date
    if known.empty:
        return None
    days = min((pivot - known.min()).days, (known.max() - pivot).days + 1,
               window_days if window_days else math.inf)
    if days < 1:
        return None
    return (pivot - timedelta(days=days), pivot - timedelta(days=1), pivot,
            pivot + timedelta(days=days - 1), int(days))


def require_launch_date(value) -> None:
    if value is None or pd.isna(value):
        raise InputError("The launch has no launch date: add launch_date (YYYY-MM-DD) to its row "
                         "in the launches file or sheet and import it again.")


def _before_after(daily: pd.DataFrame, pivot: date, window_days: int | None,
                  measures: Mapping[str, tuple[str, str | None]], needs: str) -> BeforeAfter:
    """measures: name -> (numerator column, denominator column or None for per day)."""
    present = daily.dropna(subset=[needs])
    windows = comparison_windows(present["obs_date"], pivot, window_days)
    if windows is None:
        empty = pd.DataFrame(columns=["measure", "before", "after", "change", "relative_change"])
        side = "before" if present.empty or min(present["obs_date"]) >= pivot else "from"
        return BeforeAfter(None, None, None, None, 0, empty,
                           f"No {needs} data {side} {pivot}: the comparison needs days on both sides.")
    b0, b1, a0, a1, days = windows
    before = present[(present["obs_date"] >= b0) & (present["obs_date"] <= b1)]
    after = present[(present["obs_date"] >= a0) & (present["obs_date"] <= a1)]
    rows = []
    for name, (top, bottom) in measures.items():
        was, now = (_rate(part, top, bottom) for part in (before, after))
        change = None if was is None or now is None else now - was
        rows.append({"measure": name, "before": was, "after": now, "change": change,
                     "relative_change": ratio(change, abs(was) if was is not None else None)})
    table = pd.DataFrame(rows).astype({c: float for c in ("before", "after", "change",
                                                           "relative_change")})
    return BeforeAfter(b0, b1, a0, a1, days, table)


def _rate(part: pd.DataFrame, top: str, bottom: str | None) -> float | None:
    # Per day means per day *with data*: a missing day is unknown, not zero.
    denominator = part["obs_date"].nunique() if bottom is None else summed(part[bottom])
    return ratio(summed(part[top]), denominator)


def traffic_uplift(daily: pd.DataFrame, launch_date: date,
                   window_days: int | None = None) -> BeforeAfter:
    """Product-page visitors per day before vs from the launch date (daily rows
    with obs_date and visitors, any number of channels). Refuses a missing
    launch date. Does not mutate."""
    require_launch_date(launch_date)
    return _before_after(daily, launch_date, window_days,
                         {"visitors per day": ("visitors", None)}, "visitors")


def engagement_change(daily: pd.DataFrame, promotion_date: date,
                      window_days: int | None = None) -> BeforeAfter:
    """Likes, shares, comments and all three together per visitor, before vs from
    the promotion date, from summed components. Does not mutate."""
    if promotion_date is None or pd.isna(promotion_date):
        raise InputError("Pick the promotion's start date to compare engagement before and after it.")
    frame = daily.assign(engagement=daily[["likes", "shares", "comments"]].sum(axis=1, min_count=1))
    measures = {m: (m, "visitors") for m in ("likes", "shares", "comments", "engagement")}
    return _before_after(frame, promotion_date, window_days, measures, "visitors")


def daily_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[obs_date, spend, visitors, purchases, new_customers, likes, shares,
    comments, conversion_rate, engagement_per_visitor]: all channels summed per day."""
    columns = ["spend", "visitors", "purchases", "new_customers", "likes", "shares", "comments"]
    sums = daily.groupby("obs_date", sort=True)[columns].sum(min_count=1).reset_index()
    engagement = sums[["likes", "shares", "comments"]].sum(axis=1, min_count=1)
    sums["conversion_rate"] = sums["purchases"] / sums["visitors"].where(sums["visitors"] != 0)
    sums["engagement_per_visitor"] = engagement / sums["visitors"].where(sums["visitors"] != 0)
    return sums
