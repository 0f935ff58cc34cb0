"""The demo company's history: two years and more of daily and monthly
numbers for six departments, drawn from a seeded generator, with the events
the demo's story needs (a checkout outage, a product launch with a social
promotion, a team answering faster this quarter, a marketing team that won
customers more cheaply last quarter). Pure: nothing here writes files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

# Launched two months before the end: the launch month is mostly from before
# it, so the KPI it pushes past its target has missed twice, not yet 3 times.
LAUNCH_DAYS_AGO = 62
PROMOTION_DAYS = (21, 42)      # the social promotion, days after the launch
BAD_MONTH_AGO = 8              # months before the end's month: a checkout outage
# Slips in the latest complete month that put some KPIs at risk or unhealthy.
DIPS = {"lead_to_demo": 0.65, "email_opens": 0.92, "daily_active_users": 0.9,
        "time_to_hire": 1.1}
# What the teams' key results moved, as a share of where each metric stood:
# linearly over the quarter holding the end (THIS_QUARTER) or over the
# quarter before it, kept since (LAST_QUARTER).
THIS_QUARTER = {"first_response_hours": -0.35, "csat": 0.15}
LAST_QUARTER = {"conversion": 0.3, "churn": -0.5, "promoters": 0.2}


class Channel(NamedTuple):
    spend: float        # USD per day at launch
    before: float       # share of that spend before the launch (0: channel starts at launch)
    b: float            # new_customers = a * spend ** b
    cac: float          # USD per new customer at launch spend
    conversion: float   # purchases per product-page visitor
    engagement: tuple[float, float, float]   # likes, shares, comments per visitor


CHANNELS = {
    "search_ads": Channel(1450, 0.6, 0.75, 38, 0.035, (0.01, 0.002, 0.001)),
    "social": Channel(900, 0.55, 0.65, 45, 0.018, (0.3, 0.05, 0.03)),
    # A small list: cheap customers, but more sends soon stop paying off.
    "email": Channel(200, 0.75, 0.55, 12, 0.05, (0.02, 0.005, 0.002)),
    "partners": Channel(600, 0.65, 0.7, 35, 0.03, (0.02, 0.004, 0.002)),
    # The clearly dearer channel: display ads bought for the launch.
    "display": Channel(2000, 0.0, 0.6, 120, 0.008, (0.01, 0.001, 0.0005)),
}

class Campaigns(NamedTuple):
    """Two campaigns within a channel; `days` (after the launch) is when the
    second one runs (None: from the launch on). Outside it, and before the
    launch, the channel's rows all belong to the first, always-on campaign.
    spend, visits, buyers: the first campaign's share of each while both run."""
    first: str
    second: str
    spend: float
    visits: float
    buyers: float
    days: tuple[int, int] | None = None


# The launch's brand-term searches are cheap; the social promotion's creator
# posts bring visitors and engagement but fewer buyers per visitor.
CAMPAIGNS = {
    "search_ads": Campaigns("Brand terms", "Pathfinder keywords", 0.3, 0.35, 0.5),
    "social": Campaigns("Launch posts", "Creator promotion", 0.5, 0.3, 0.6, PROMOTION_DAYS),
    # Display is dear because of its launch banners; retargeting pays its way.
    "display": Campaigns("Launch banners", "Retargeting", 0.75, 0.7, 0.5),
}
CAMPAIGN_SEED = 20261127       # its own stream: adding campaigns moves no other number
ENGAGEMENT = ("likes", "shares", "comments")


# ---- calendar -------------------------------------------------------------

def complete_months(end: date) -> list[date]:
    """First days of the months that have ended by `end` (history starts Jan, 2 years back)."""
    last = (pd.Timestamp(end) + timedelta(days=1)).to_period("M").start_time
    months = pd.date_range(date(end.year - 2, 1, 1), last, freq="MS", inclusive="left")
    return [m.date() for m in months]


def quarter_bounds(day: date) -> tuple[date, date]:
    quarter = pd.Timestamp(day).to_period("Q")
    return quarter.start_time.date(), quarter.end_time.date()


def month_window(month: date) -> tuple[date, date]:
    return month, (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()


def _factors(days: pd.DatetimeIndex, rng, growth: float, season: float = 0.08,
             weekend: float = 1.0, noise: float = 0.08) -> np.ndarray:
    """Yearly growth x seasonality x weekday pattern x noise."""
    years = np.asarray((days - days[0]).days) / 365.25
    seasonal = 1 + season * np.sin(2 * np.pi * (np.asarray(days.day_of_year) - 80) / 365.25)
    weekly = np.where(np.asarray(days.day_of_week) >= 5, weekend, 1.0)
    return (1 + growth) ** years * seasonal * weekly * rng.lognormal(0, noise, len(days))


def _in_month(days: pd.DatetimeIndex, month: date) -> np.ndarray:
    start, stop = month_window(month)
    return np.asarray((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(stop)))


def _ramp(days: pd.DatetimeIndex, start: date, stop: date) -> np.ndarray:
    """0 before `start`, rising linearly to 1 at `stop`."""
    span = max((pd.Timestamp(stop) - pd.Timestamp(start)).days, 1)
    return np.clip(np.asarray((days - pd.Timestamp(start)).days) / span, 0, 1)


# ---- daily history --------------------------------------------------------

def _channel_days(days, rng, name: str, ch: Channel, launch: pd.Timestamp, bad,
                  better: np.ndarray) -> pd.DataFrame:
    after = np.asarray(days >= launch)
    level = np.where(after, 1.0, ch.before)
    keep = level > 0
    # Spend varies a lot from day to day so that the response curve can be fitted.
    spend = np.round(ch.spend * level * _factors(days, rng, 0.05, noise=0.5), 2)
    a = (ch.spend / ch.cac) / ch.spend ** ch.b
    conversion = ch.conversion * np.where(bad, 0.6, 1.0) * (1 + LAST_QUARTER["conversion"] * better)
    promo = (name == "social") & np.asarray(
        (days >= launch + timedelta(days=PROMOTION_DAYS[0]))
        & (days < launch + timedelta(days=PROMOTION_DAYS[1])))
    # visitors -> purchases -> new customers, so that on average
    # new_customers = a * spend ** b (what the launch page fits).
    expected_visitors = a * spend ** ch.b / (ch.conversion * 0.8) * np.where(promo, 1.4, 1.0)
    visitors = rng.poisson(expected_visitors * rng.lognormal(0, 0.1, len(days)))
    purchases = rng.binomial(visitors, np.where(promo, 0.85, 1.0) * conversion)
    new_customers = rng.binomial(purchases, 0.8)
    boost = np.where(promo, 3.0, 1.0)
    likes, shares, comments = (rng.poisson(visitors * rate * boost) for rate in ch.engagement)
    frame = pd.DataFrame({"date": days, "channel": name, "spend": spend, "visitors": visitors,
                          "purchases": purchases, "new_customers": new_customers,
                          "likes": likes, "shares": shares, "comments": comments})
    return frame[keep].reset_index(drop=True)


def _split(rows: pd.DataFrame, rng, spend: float, visits: float, buyers: float) -> pd.DataFrame:
    """The part of each of `rows` (one channel's days) that goes to one
    campaign: spend by share, counts drawn so that purchases still cover new
    customers and visitors cover purchases on both sides of the split."""
    customers = rng.binomial(rows["new_customers"].astype(np.int64), buyers)
    purchases = customers + rng.binomial(
        (rows["purchases"] - rows["new_customers"]).astype(np.int64), buyers)
    visitors = purchases + rng.binomial((rows["visitors"] - rows["purchases"]).astype(np.int64),
                                        visits)
    part = rows.assign(spend=np.round(rows["spend"] * spend, 2), visitors=visitors,
                       purchases=purchases, new_customers=customers)
    for column in ENGAGEMENT:
        part[column] = rng.binomial(rows[column].astype(np.int64), visits)
    return part


def campaign_days(channels: pd.DataFrame, launch: pd.Timestamp) -> pd.DataFrame:
    """`channels` (daily rows per channel) with a campaign column: the rows of
    channels in CAMPAIGNS split between their two campaigns while both run
    (sums per day and channel unchanged), '' for the other channels. Pure."""
    rng = np.random.default_rng(CAMPAIGN_SEED)
    parts = [channels[~channels["channel"].isin(list(CAMPAIGNS))].assign(campaign="")]
    counted = ["spend", "visitors", "purchases", "new_customers", *ENGAGEMENT]
    for channel, c in CAMPAIGNS.items():
        rows = channels[channels["channel"] == channel]
        start, stop = (0, None) if c.days is None else c.days
        both = rows["date"] >= launch + timedelta(days=start)
        if stop is not None:
            both &= rows["date"] < launch + timedelta(days=stop)
        head = _split(rows[both], rng, c.spend, c.visits, c.buyers)
        tail = rows[both].copy()
        tail[counted] = rows.loc[both, counted].to_numpy() - head[counted].to_numpy()
        tail["spend"] = tail["spend"].round(2)
        parts += [rows[~both].assign(campaign=c.first), head.assign(campaign=c.first),
                  tail.assign(campaign=c.second)]
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["date", "channel", "campaign"], kind="stable", ignore_index=True)


def _dip(latest: np.ndarray, name: str) -> np.ndarray:
    return np.where(latest, DIPS[name], 1.0)


def _sales(days, rng, bad, latest) -> pd.DataFrame:
    leads = rng.poisson(25 * _factors(days, rng, 0.3, weekend=0.3))
    demos = rng.binomial(leads, 0.22 * _dip(latest, "lead_to_demo"))
    deals = rng.binomial(demos, 0.2)
    bookings = np.round(deals * 4200 * _factors(days, rng, 0.1, season=0, noise=0.15), 2)
    churn = 0.0005 * rng.lognormal(0, 0.3, len(days)) * np.where(bad, 3.0, 1.0)
    mrr = np.empty(len(days))
    level = 400_000.0
    for i in range(len(days)):
        level = level * (1 - churn[i]) + bookings[i] / 12 * 0.9
        mrr[i] = round(level)
    return pd.DataFrame({"date": days, "leads": leads,
                         "calls_made": rng.poisson(150 * _factors(days, rng, 0.15, weekend=0.05)),
                         "demos_scheduled": demos, "deals_won": deals, "bookings": bookings,
                         "mrr": mrr.astype(np.int64)})


def _web(days, rng, channels: pd.DataFrame, latest) -> pd.DataFrame:
    paid = channels.groupby("date")[["visitors", "spend"]].sum().reindex(days, fill_value=0)
    organic = rng.poisson(1800 * _factors(days, rng, 0.3, weekend=0.7))
    visitors = organic + paid["visitors"].to_numpy()
    sent = rng.poisson(6000 * _factors(days, rng, 0.2, season=0, weekend=0.15, noise=0.2))
    opens = rng.binomial(sent, 0.24 * _dip(latest, "email_opens"))
    page_views = np.round(visitors * 2.6 * rng.lognormal(0, 0.05, len(days)))
    tools_and_content = 350 * rng.lognormal(0, 0.05, len(days))
    return pd.DataFrame({
        "date": days, "website_visitors": visitors, "page_views": page_views.astype(np.int64),
        "marketing_spend": np.round(paid["spend"].to_numpy() + tools_and_content, 2),
        "emails_sent": sent, "email_opens": opens, "email_clicks": rng.binomial(opens, 0.14)})


def _helpdesk(days, rng, bad, now: np.ndarray, end: date) -> pd.DataFrame:
    received = rng.poisson(110 * _factors(days, rng, 0.25, weekend=0.4) * np.where(bad, 1.6, 1.0))
    faster = 1 + THIS_QUARTER["first_response_hours"] * now
    slower_chats = 1 + 0.45 * _ramp(days, complete_months(end)[-5], end)
    response = 6.5 * _factors(days, rng, 0.0, weekend=1.3, noise=0.1) * np.where(bad, 1.7, 1.0)
    csat = 4.0 * (1 + THIS_QUARTER["csat"] * now) + rng.normal(0, 0.08, len(days)) \
        - np.where(bad, 0.4, 0)
    return pd.DataFrame({
        "date": days, "tickets_received": received,
        "tickets_resolved": rng.binomial(received, np.where(bad, 0.8, 0.93)),
        "escalations": rng.binomial(received, np.where(bad, 0.07, 0.035)),
        "first_response_hours": np.round(response * faster, 2),
        "chat_duration_minutes": np.round(9 * slower_chats * rng.lognormal(0, 0.06, len(days)), 1),
        "csat": np.round(np.clip(csat, 1, 5), 2)})


def _product(days, rng, bad, latest, better: np.ndarray) -> pd.DataFrame:
    mau = 9000 * _factors(days, rng, 0.4, season=0.03, noise=0.01) * np.where(bad, 0.95, 1.0)
    dau = mau * 0.3 * _factors(days, rng, 0.0, season=0, weekend=0.6, noise=0.05) \
        * _dip(latest, "daily_active_users")
    answers = rng.poisson(30 * _factors(days, rng, 0.2, season=0, noise=0.1))
    promoters = rng.binomial(answers, np.where(bad, 0.4, 0.52)
                             * (1 + LAST_QUARTER["promoters"] * better))
    detractors = rng.binomial(answers - promoters, np.where(bad, 0.5, 0.33))
    return pd.DataFrame({
        "date": days, "monthly_active_users": np.round(mau).astype(np.int64),
        "daily_active_users": np.round(dau).astype(np.int64),
        "sessions": np.round(dau * 2.2 * rng.lognormal(0, 0.05, len(days))).astype(np.int64),
        "nps_promoters": promoters, "nps_passives": answers - promoters - detractors,
        "nps_detractors": detractors})


# ---- monthly history ------------------------------------------------------

def _monthly_total(frame: pd.DataFrame, column: str, how: str, index: pd.DatetimeIndex) -> np.ndarray:
    """A daily column summed (or averaged) per month, aligned with `index`."""
    month = frame["date"].dt.to_period("M").dt.start_time
    return frame.groupby(month)[column].agg(how).reindex(index).to_numpy()


def _finance(index, rng, bad, sales: pd.DataFrame, web: pd.DataFrame) -> pd.DataFrame:
    n = len(index)
    revenue = np.round(_monthly_total(sales, "mrr", "mean", index) * 1.06
                       * rng.lognormal(0, 0.02, n) * np.where(bad, 0.9, 1.0), 2)
    cogs = np.round(revenue * 0.27 * rng.lognormal(0, 0.03, n) * np.where(bad, 1.2, 1.0), 2)
    opex = np.round(150_000 * _factors(index, rng, 0.2, season=0, noise=0.04)
                    + _monthly_total(web, "marketing_spend", "sum", index), 2)
    cash_flow = revenue - cogs - opex + 20_000 * rng.lognormal(0, 0.3, n)  # + depreciation
    cost = np.round(40_000 * rng.lognormal(0, 0.1, n), 2)
    return pd.DataFrame({
        "month": index.date, "revenue": revenue, "cost_of_goods_sold": cogs,
        "operating_expenses": opex, "operating_cash_flow": np.round(cash_flow, 2),
        "burn_rate": np.round((cogs + opex) * rng.lognormal(0, 0.02, n), 2),
        "investment_return": np.round(cost * 1.3 * rng.lognormal(0, 0.08, n), 2),
        "investment_cost": cost})


def _hr(index, rng, bad) -> pd.DataFrame:
    n = len(index)
    # At least two hires a month, so the offer acceptance rate is never "0 of 1".
    hires, leavers = 2 + rng.poisson(1.2, n), rng.poisson(1.3, n)
    headcount = 85 + np.cumsum(hires - leavers)
    hiring_days = 34 * rng.lognormal(0, 0.03, n) * _dip(index == index[-1], "time_to_hire")
    return pd.DataFrame({
        "month": index.date, "headcount": headcount, "hires": hires, "leavers": leavers,
        "time_to_hire_days": np.round(hiring_days, 1),
        "engagement_score": np.round(7.6 + rng.normal(0, 0.15, n) - np.where(bad, 0.3, 0), 1),
        "training_hours": np.round(headcount * 2.4 * rng.lognormal(0, 0.1, n)).astype(np.int64),
        "offers_made": hires + rng.poisson(0.8, n), "offers_accepted": hires})


def _monthly(months: list[date], rng, bad_month: date, sales: pd.DataFrame,
             web: pd.DataFrame, last_quarter: tuple[date, date]) -> dict[str, pd.DataFrame]:
    """The monthly workbook's history sheets (complete months only)."""
    index = pd.DatetimeIndex(months)
    bad = np.asarray(index == pd.Timestamp(bad_month))
    bookings = pd.Series(_monthly_total(sales, "bookings", "sum", index))
    due = rng.poisson(400 * _factors(index, rng, 0.3, season=0, noise=0.05))
    better = _ramp(index + pd.Timedelta(days=14), *last_quarter)    # mid-month
    churned = rng.binomial(due, np.where(bad, 0.13, 0.07) * (1 + LAST_QUARTER["churn"] * better))
    return {
        "Finance": _finance(index, rng, bad, sales, web),
        "HR": _hr(index, rng, bad),
        "Sales": pd.DataFrame({"month": months,
                               "sales_growth_rate": bookings.pct_change().round(4).to_numpy()}),
        "Product": pd.DataFrame({"month": months, "renewals_due": due,
                                 "renewed_customers": due - churned, "churned_customers": churned}),
    }


@dataclass(frozen=True)
class DemoHistory:
    observations: pd.DataFrame               # date, metric, dimension, value (long, all history)
    csv_files: dict[str, pd.DataFrame]       # file name -> frame
    workbook_sheets: dict[str, pd.DataFrame] # sheet name -> frame
    launch_date: date


def _long(frame: pd.DataFrame, date_column: str, dimension: str | None = None) -> pd.DataFrame:
    ids = [date_column] + ([dimension] if dimension else [])
    out = frame.melt(id_vars=ids, var_name="metric", value_name="value").dropna(subset=["value"])
    out["dimension"] = out[dimension] if dimension else ""
    out["date"] = pd.to_datetime(out[date_column])
    return out[["date", "metric", "dimension", "value"]]


def generated_history(end: date, rng: np.random.Generator) -> DemoHistory:
    """All the demo company's history up to `end`, drawn from `rng`."""
    days = pd.date_range(date(end.year - 2, 1, 1), end, freq="D")
    months = complete_months(end)
    bad_month = (pd.Timestamp(end).to_period("M") - BAD_MONTH_AGO).start_time.date()
    bad = _in_month(days, bad_month)
    latest = _in_month(days, months[-1])
    launch = pd.Timestamp(end - timedelta(days=LAUNCH_DAYS_AGO))
    this_quarter = quarter_bounds(end)
    last_quarter = quarter_bounds(this_quarter[0] - timedelta(days=1))
    now, better = _ramp(days, *this_quarter), _ramp(days, *last_quarter)
    channels = pd.concat([_channel_days(days, rng, name, ch, launch, bad, better)
                          for name, ch in CHANNELS.items()], ignore_index=True)
    sales, web = _sales(days, rng, bad, latest), _web(days, rng, channels, latest)
    daily = {"crm_daily.csv": sales, "web_and_email_daily.csv": web,
             "helpdesk_daily.csv": _helpdesk(days, rng, bad, now, end),
             "product_daily.csv": _product(days, rng, bad, latest, better)}
    sheets = _monthly(months, rng, bad_month, sales, web, last_quarter)
    by_campaign = campaign_days(channels, launch)
    channel_long = by_campaign.melt(id_vars=["date", "channel", "campaign"], var_name="metric")
    channel_long = channel_long.sort_values(["date", "channel", "campaign"], kind="stable")
    channel_long["value"] = number_texts(channel_long["value"])
    observations = pd.concat(
        [_long(f, "date") for f in daily.values()] + [_long(channels, "date", "channel")]
        + [_long(f, "month") for f in sheets.values()], ignore_index=True)
    csv_files = {**daily, "marketing_channels.csv": channel_long}
    return DemoHistory(observations, csv_files, sheets, launch.date())


# ---- files ----------------------------------------------------------------

def number_texts(values: pd.Series) -> pd.Series:
    """Numbers as people write them: whole numbers without ".0", others as is."""
    whole = values == values.round()
    texts = values.astype(str)
    texts[whole] = values[whole].astype(np.int64).astype(str)
    return texts
