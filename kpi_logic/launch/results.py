"""The shape of the launch summary (analysis.launch_summary, the `launch`
command's JSON).

A TypedDict like kpi_logic/metrics/results.py: the engine builds plain dicts,
so this changes nothing at run time. Money and counts are totals since the
launch date; rates come from summed components; missing numbers are None.
"""
# No `from __future__ import annotations` here: with it, Python 3.11's TypedDict
# cannot see NotRequired in the (then textual) annotations and requires every key.
from typing import NotRequired, TypedDict


class Totals(TypedDict):
    """Components summed since the launch, and the rates from those sums (budget.blended)."""
    spend: float | None
    visitors: float | None
    purchases: float | None
    new_customers: float | None
    conversion_rate: float | None     # purchases / visitors
    cac: float | None                 # spend / new customers


class LaunchKpis(Totals):
    """A channel's or campaign's totals since the launch (analysis.KPI_COLUMNS)."""
    channel: str
    budget_share: float | None        # of the whole launch's spend
    customer_share: float | None      # of the whole launch's new customers
    above_cac_target: bool | None     # None without a CAC target or a CAC


class CurveFit(TypedDict):
    """A channel's daily response curve (curves.Curve.as_dict):
    new customers = a * spend ** b."""
    model: str                        # power (fitted) | constant_cac (b = 1)
    a: float
    b: float
    r2: float | None
    days: int                         # days the fit used
    reason: str                       # why constant CAC, when it is
    max_spend_seen: float | None      # the largest daily spend: past it the curve extrapolates
    min_spend_seen: float | None      # the smallest daily spend above 0: below it, too


class ChannelEntry(LaunchKpis):
    curve: CurveFit | None            # None for a channel without spend
    curve_problem: str | None         # why it has no curve


class CampaignEntry(LaunchKpis):
    campaign: str


class LaunchTotal(Totals):
    """The whole launch's totals with their statuses (analysis.launch_kpis)."""
    conversion_status: str | None     # against the conversion target (at least); None without one
    cac_status: str | None            # against the CAC target (at most); None without one


class Uplift(TypedDict):
    """Visitors per day before vs from the launch date: the one row of
    windows.traffic_uplift flattened, without its measure."""
    windows: str                      # the two windows in words, or why there are none
    before: NotRequired[float | None]  # these four are absent without days on both sides
    after: NotRequired[float | None]
    change: NotRequired[float | None]
    relative_change: NotRequired[float | None]


class EngagementRow(TypedDict):
    """One measure per visitor before vs from the promotion date."""
    measure: str
    before: float | None
    after: float | None
    change: float | None
    relative_change: float | None


class Engagement(TypedDict):
    windows: str
    per_visitor: list[EngagementRow]  # empty without days on both sides


class LaunchSummary(TypedDict):
    """A launch since its launch date (analysis.launch_summary)."""
    launch: str
    launch_date: str
    department: str
    days: int                         # days of data since the launch date
    data_through: str
    conversion_target: float | None
    cac_target: float | None
    promotion_date: str | None
    channels: list[ChannelEntry]
    total: LaunchTotal
    campaigns: list[CampaignEntry]    # empty when the history names no campaign
    uplift: Uplift
    engagement: Engagement | None     # None without a promotion date


class OutsideSeen(TypedDict):
    """A channel whose daily spend is outside the range seen (budget.outside_seen)."""
    channel: str
    spend_per_day: float
    side: str                         # above (past STRETCH x the largest day) | below
    seen_per_day: float               # the largest or the smallest day's spend


class OptimisedChannel(TypedDict):
    channel: str
    spend: float                      # per day, optimised
    projected_new_customers: float    # per day
    actual_spend: float               # per day, since the launch
    minimum: float | None             # the bound used (the least seen, or the one given)
    maximum: float | None             # None: no maximum
    lowest_seen: float | None         # the smallest daily spend above 0
    highest_seen: float | None


class Optimisation(TypedDict):
    """The best split of a daily budget (analysis.optimised_launch, `launch-optimise`)."""
    launch: str
    budget: float
    per: str                          # "day"
    within_seen: bool                 # bounded to the daily spend seen (the default)
    allocation: list[OptimisedChannel]
    projected_new_customers: float
    projected_cac: float | None
    actual_projected_new_customers: float
    moves: list[str]                  # sentences, biggest cut first, then the total
    warnings: list[str]               # outside_seen in sentences
    outside_seen: list[OutsideSeen]
    skipped: dict[str, str]           # channel -> why it has no response curve
