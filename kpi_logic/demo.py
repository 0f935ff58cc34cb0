"""The demo company: Brightpath, a made-up software company with six
departments, 2+ years of history, KPIs, two quarters of OKRs and a marketing
launch. It is built in memory as the files an analyst would upload (CSV and
xlsx) and loaded through the real importer, so the demo exercises the same
path as anyone's own files.

Targets and key results are set from the generated numbers rather than fixed
constants, so the story holds for any end date: most KPIs healthy, a few at
risk or unhealthy, one missing for months in a row; one key result
overshooting, one decreasing, one behind pace.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
from openpyxl import Workbook

from .formulas import formula_metrics, formula_order, formula_values, parse_formula

DEMO_SEED = 20261127
LAUNCH = "Pathfinder launch"
LAUNCH_DAYS_AGO = 75
PROMOTION_DAYS = (21, 42)      # the social promotion, days after the launch
BAD_MONTH_AGO = 8              # months before the end's month: a checkout outage
# Slips in the latest complete month that put some KPIs at risk or unhealthy.
DIPS = {"lead_to_demo": 0.65, "email_opens": 0.92, "daily_active_users": 0.9,
        "time_to_hire": 1.1}

_N, _C, _P, _D = "number", "currency", "percent", "duration"
# metric, department, unit, direction, aggregation, formula, description, dimension.
# Durations are hours (how the app shows them); minutes and days stay plain
# numbers with the unit in the name.
METRICS = [
    ("leads", "Sales", _N, "up", "sum", None, "New leads created in the CRM", None),
    ("calls_made", "Sales", _N, "up", "sum", None, "Outbound sales calls logged", None),
    ("demos_scheduled", "Sales", _N, "up", "sum", None, "Product demos booked with leads", None),
    ("deals_won", "Sales", _N, "up", "sum", None, "Sales-led deals closed as won", None),
    ("bookings", "Sales", _C, "up", "sum", None, "Annual contract value of deals won (USD)", None),
    ("mrr", "Sales", _C, "up", "last", None, "Monthly recurring revenue, billing snapshot", None),
    ("average_deal_size", "Sales", _C, "up", None, "bookings / deals_won",
     "Bookings per deal won", None),
    ("lead_to_demo_rate", "Sales", _P, "up", None, "demos_scheduled / leads",
     "Share of leads that book a demo", None),
    ("win_rate", "Sales", _P, "up", None, "deals_won / demos_scheduled",
     "Deals won per demo", None),
    ("sales_growth_rate", "Sales", _P, "up", "mean", None,
     "Bookings growth on the previous month, from finance's monthly close", None),
    ("website_visitors", "Marketing", _N, "up", "sum", None, "Visitors to the whole website", None),
    ("page_views", "Marketing", _N, "up", "sum", None, "Pages viewed on the website", None),
    ("marketing_spend", "Marketing", _C, "down", "sum", None,
     "All marketing costs: paid channels plus tools and content (USD)", None),
    ("emails_sent", "Marketing", _N, "up", "sum", None, "Marketing e-mails delivered", None),
    ("email_opens", "Marketing", _N, "up", "sum", None, "Marketing e-mails opened", None),
    ("email_clicks", "Marketing", _N, "up", "sum", None, "Marketing e-mails clicked", None),
    ("email_open_rate", "Marketing", _P, "up", None, "email_opens / emails_sent",
     "Opens per e-mail delivered", None),
    ("email_click_through_rate", "Marketing", _P, "up", None, "email_clicks / emails_sent",
     "Clicks per e-mail delivered", None),
    ("spend", "Marketing", _C, "down", "sum", None, "Paid spend per channel (USD)", "channel"),
    ("visitors", "Marketing", _N, "up", "sum", None,
     "Product-page visitors per channel", "channel"),
    ("purchases", "Marketing", _N, "up", "sum", None, "Purchases per channel", "channel"),
    ("new_customers", "Marketing", _N, "up", "sum", None,
     "First-time buyers per channel", "channel"),
    ("likes", "Marketing", _N, "up", "sum", None, "Likes on posts and ads", "channel"),
    ("shares", "Marketing", _N, "up", "sum", None, "Shares of posts and ads", "channel"),
    ("comments", "Marketing", _N, "up", "sum", None, "Comments on posts and ads", "channel"),
    ("conversion_rate", "Marketing", _P, "up", None, "purchases / website_visitors",
     "Purchases per website visitor", None),
    ("cac", "Marketing", _C, "down", None, "marketing_spend / new_customers",
     "Customer acquisition cost: all marketing costs per new customer", None),
    ("paid_cac", "Marketing", _C, "down", None, "spend / new_customers",
     "Paid channel spend per new customer", None),
    ("product_page_conversion", "Marketing", _P, "up", None, "purchases / visitors",
     "Purchases per product-page visitor", None),
    ("social_engagement", "Marketing", _N, "up", None, "likes + shares + comments",
     "Likes, shares and comments together", None),
    ("tickets_received", "Customer service", _N, "down", "sum", None, "Support tickets opened", None),
    ("tickets_resolved", "Customer service", _N, "up", "sum", None, "Support tickets closed", None),
    ("escalations", "Customer service", _N, "down", "sum", None,
     "Tickets escalated to engineering", None),
    ("ticket_resolution_rate", "Customer service", _P, "up", None,
     "tickets_resolved / tickets_received", "Tickets closed per ticket opened", None),
    ("escalation_rate", "Customer service", _P, "down", None, "escalations / tickets_received",
     "Escalations per ticket opened", None),
    ("first_response_hours", "Customer service", _D, "down", "mean", None,
     "Average hours until a ticket's first answer", None),
    ("chat_duration_minutes", "Customer service", _N, "down", "mean", None,
     "Average length of a support chat in minutes", None),
    ("csat", "Customer service", _N, "up", "mean", None,
     "Customer satisfaction, average score 1-5 after a ticket", None),
    ("revenue", "Finance", _C, "up", "sum", None, "Recognised revenue (USD)", None),
    ("cost_of_goods_sold", "Finance", _C, "down", "sum", None, "Hosting, support, payment fees", None),
    ("operating_expenses", "Finance", _C, "down", "sum", None, "Operating costs (USD)", None),
    ("operating_cash_flow", "Finance", _C, "up", "sum", None, "Cash from operations (USD)", None),
    ("burn_rate", "Finance", _C, "down", "mean", None, "Gross cash spent per month (USD)", None),
    ("investment_return", "Finance", _C, "up", "sum", None, "Gain from this period's projects", None),
    ("investment_cost", "Finance", _C, "down", "sum", None, "Cost of this period's projects", None),
    ("gross_margin", "Finance", _P, "up", None, "(revenue - cost_of_goods_sold) / revenue",
     "Gross profit margin", None),
    ("ebit", "Finance", _C, "up", None, "revenue - cost_of_goods_sold - operating_expenses",
     "Earnings before interest and taxes", None),
    ("roi", "Finance", _P, "up", None, "(investment_return - investment_cost) / investment_cost",
     "Return on investment of projects", None),
    ("headcount", "HR", _N, "up", "last", None, "Employees at month end", None),
    ("hires", "HR", _N, "up", "sum", None, "People who joined", None),
    ("leavers", "HR", _N, "down", "sum", None, "People who left", None),
    ("time_to_hire_days", "HR", _N, "down", "mean", None, "Days from opening a role to an offer accepted", None),
    ("engagement_score", "HR", _N, "up", "mean", None, "Monthly pulse survey, 0-10", None),
    ("training_hours", "HR", _N, "up", "sum", None, "Hours of training taken", None),
    ("offers_made", "HR", _N, "up", "sum", None, "Job offers made", None),
    ("offers_accepted", "HR", _N, "up", "sum", None, "Job offers accepted", None),
    ("employee_turnover_rate", "HR", _P, "down", None, "leavers / headcount",
     "Leavers per employee", None),
    ("offer_acceptance_rate", "HR", _P, "up", None, "offers_accepted / offers_made",
     "Offers accepted per offer made", None),
    ("monthly_active_users", "Product", _N, "up", "last", None, "Users active in the last 30 days", None),
    ("daily_active_users", "Product", _N, "up", "mean", None, "Users active that day", None),
    ("sessions", "Product", _N, "up", "sum", None, "Product sessions started", None),
    ("nps_promoters", "Product", _N, "up", "sum", None, "Survey answers 9-10", None),
    ("nps_passives", "Product", _N, "up", "sum", None, "Survey answers 7-8", None),
    ("nps_detractors", "Product", _N, "down", "sum", None, "Survey answers 0-6", None),
    ("nps", "Product", _N, "up", None,
     "(nps_promoters - nps_detractors) / (nps_promoters + nps_passives + nps_detractors) * 100",
     "Net promoter score, -100 to 100", None),
    ("stickiness", "Product", _P, "up", None, "daily_active_users / monthly_active_users",
     "Average daily users per monthly user", None),
    ("renewals_due", "Product", _N, "up", "sum", None, "Subscriptions up for renewal", None),
    ("renewed_customers", "Product", _N, "up", "sum", None, "Subscriptions renewed", None),
    ("churned_customers", "Product", _N, "down", "sum", None, "Subscriptions not renewed", None),
    ("renewal_rate", "Product", _P, "up", None, "renewed_customers / renewals_due",
     "Renewed per subscription up for renewal", None),
    ("churn_rate", "Product", _P, "down", None, "churned_customers / renewals_due",
     "Not renewed per subscription up for renewal", None),
]
_AGGREGATION = {m[0]: m[4] for m in METRICS}
_FORMULAS = {m[0]: m[5] for m in METRICS}


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

def _channel_days(days, rng, name: str, ch: Channel, launch: pd.Timestamp, bad) -> pd.DataFrame:
    after = np.asarray(days >= launch)
    level = np.where(after, 1.0, ch.before)
    keep = level > 0
    # Spend varies a lot from day to day so that the response curve can be fitted.
    spend = np.round(ch.spend * level * _factors(days, rng, 0.05, noise=0.5), 2)
    a = (ch.spend / ch.cac) / ch.spend ** ch.b
    conversion = ch.conversion * np.where(bad, 0.6, 1.0)
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


def _helpdesk(days, rng, bad, end: date) -> pd.DataFrame:
    received = rng.poisson(110 * _factors(days, rng, 0.25, weekend=0.4) * np.where(bad, 1.6, 1.0))
    q_start, q_end = quarter_bounds(end)
    faster = 1 - 0.35 * _ramp(days, q_start, q_end)
    slower_chats = 1 + 0.45 * _ramp(days, complete_months(end)[-5], end)
    response = 6.5 * _factors(days, rng, 0.0, weekend=1.3, noise=0.1) * np.where(bad, 1.7, 1.0)
    csat = 4.35 + rng.normal(0, 0.08, len(days)) - np.where(bad, 0.4, 0) \
        + 0.1 * _ramp(days, q_start, q_end)
    return pd.DataFrame({
        "date": days, "tickets_received": received,
        "tickets_resolved": rng.binomial(received, np.where(bad, 0.8, 0.93)),
        "escalations": rng.binomial(received, np.where(bad, 0.07, 0.035)),
        "first_response_hours": np.round(response * faster, 2),
        "chat_duration_minutes": np.round(9 * slower_chats * rng.lognormal(0, 0.06, len(days)), 1),
        "csat": np.round(np.clip(csat, 1, 5), 2)})


def _product(days, rng, bad, latest) -> pd.DataFrame:
    mau = 9000 * _factors(days, rng, 0.4, season=0.03, noise=0.01) * np.where(bad, 0.95, 1.0)
    dau = mau * 0.3 * _factors(days, rng, 0.0, season=0, weekend=0.6, noise=0.05) \
        * _dip(latest, "daily_active_users")
    answers = rng.poisson(30 * _factors(days, rng, 0.2, season=0, noise=0.1))
    promoters = rng.binomial(answers, np.where(bad, 0.4, 0.52))
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
    hires, leavers = rng.poisson(3.2, n), rng.poisson(1.3, n)
    headcount = 85 + np.cumsum(hires - leavers)
    hiring_days = 34 * rng.lognormal(0, 0.03, n) * _dip(index == index[-1], "time_to_hire")
    return pd.DataFrame({
        "month": index.date, "headcount": headcount, "hires": hires, "leavers": leavers,
        "time_to_hire_days": np.round(hiring_days, 1),
        "engagement_score": np.round(7.6 + rng.normal(0, 0.15, n) - np.where(bad, 0.3, 0), 1),
        "training_hours": np.round(headcount * 2.4 * rng.lognormal(0, 0.1, n)).astype(np.int64),
        "offers_made": hires + rng.poisson(0.8, n), "offers_accepted": hires})


def _monthly(months: list[date], rng, bad_month: date, sales: pd.DataFrame,
             web: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The monthly workbook's history sheets (complete months only)."""
    index = pd.DatetimeIndex(months)
    bad = np.asarray(index == pd.Timestamp(bad_month))
    bookings = pd.Series(_monthly_total(sales, "bookings", "sum", index))
    due = rng.poisson(120 * _factors(index, rng, 0.3, season=0, noise=0.05))
    churned = rng.binomial(due, np.where(bad, 0.13, 0.07))
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
    channels = pd.concat([_channel_days(days, rng, name, ch, launch, bad)
                          for name, ch in CHANNELS.items()], ignore_index=True)
    sales, web = _sales(days, rng, bad, latest), _web(days, rng, channels, latest)
    daily = {"crm_daily.csv": sales, "web_and_email_daily.csv": web,
             "helpdesk_daily.csv": _helpdesk(days, rng, bad, end),
             "product_daily.csv": _product(days, rng, bad, latest)}
    sheets = _monthly(months, rng, bad_month, sales, web)
    channel_long = channels.melt(id_vars=["date", "channel"], var_name="metric")
    channel_long = channel_long.sort_values(["date", "channel"], kind="stable")
    channel_long["value"] = number_texts(channel_long["value"])
    observations = pd.concat(
        [_long(f, "date") for f in daily.values()] + [_long(channels, "date", "channel")]
        + [_long(f, "month") for f in sheets.values()], ignore_index=True)
    csv_files = {**daily, "marketing_channels.csv": channel_long}
    return DemoHistory(observations, csv_files, sheets, launch.date())


# ---- values over a window (to set targets from the data) ------------------

def window_values(obs: pd.DataFrame, start: date, stop: date) -> dict[str, float]:
    """Every metric's value over [start, stop] by its aggregation; formulas
    from their components' window values. Does not mutate `obs`."""
    inside = obs[(obs["date"] >= pd.Timestamp(start)) & (obs["date"] <= pd.Timestamp(stop))]
    values: dict[str, float] = {}
    for metric, rows in inside.groupby("metric"):
        how = _AGGREGATION[metric]
        if how == "last":
            values[metric] = float(rows.sort_values("date").groupby("dimension")["value"].last().sum())
        else:
            values[metric] = float(rows["value"].astype(float).agg(how))
    for name in formula_order(_FORMULAS):
        if _FORMULAS[name]:
            formula = parse_formula(_FORMULAS[name])
            columns = {m: pd.Series([values.get(m, np.nan)]) for m in formula_metrics(formula)}
            values[name] = float(formula_values(formula, columns).iloc[0])
    return values


# ---- definitions ----------------------------------------------------------

# title, metric, target_kind, period, department, objective, owner, design, supporting.
# design says where the target comes from (see design_target).
KPIS = [
    ("Monthly recurring revenue", "mrr", "min", "month", "Sales", "Grow recurring revenue", "Dana Reyes", "healthy", "bookings, deals_won"),
    ("Leads per month", "leads", "min", "month", "Sales", "Grow recurring revenue", "Dana Reyes", "healthy", "calls_made"),
    ("Demos scheduled", "demos_scheduled", "min", "month", "Sales", "Grow recurring revenue", "Sam Okafor", "unhealthy", "leads, calls_made"),
    ("Calls made", "calls_made", "min", "month", "Sales", "", "Sam Okafor", "healthy", ""),
    ("Average deal size", "average_deal_size", "min", "month", "Sales", "Grow recurring revenue", "Dana Reyes", "healthy", "bookings, deals_won"),
    ("Lead-to-demo rate", "lead_to_demo_rate", "min", "month", "Sales", "", "Sam Okafor", "healthy", "leads, demos_scheduled"),
    ("Conversion rate", "conversion_rate", "min", "month", "Marketing", "Win customers efficiently", "Lea Martin", "healthy", "website_visitors, purchases"),
    ("Customer acquisition cost", "cac", "max", "month", "Marketing", "Win customers efficiently", "Lea Martin", "before_launch", "marketing_spend, new_customers"),
    ("Website traffic", "website_visitors", "min", "month", "Marketing", "", "Tom Berg", "healthy", "visitors"),
    ("New customers", "new_customers", "min", "month", "Marketing", "Win customers efficiently", "Lea Martin", "healthy", "purchases"),
    ("Email open rate", "email_open_rate", "min", "month", "Marketing", "", "Tom Berg", "at_risk", "emails_sent, email_opens"),
    ("Email click-through rate", "email_click_through_rate", "min", "month", "Marketing", "", "Tom Berg", "healthy", "email_clicks"),
    ("Marketing spend within budget", "marketing_spend", "max", "month", "Marketing", "", "Lea Martin", "healthy", "spend"),
    ("Purchases", "purchases", "min", "month", "Marketing", "", "Lea Martin", "healthy", "visitors"),
    ("First response time", "first_response_hours", "max", "month", "Customer service", "Delight customers", "Ines Costa", "healthy", "tickets_received"),
    ("Ticket resolution rate", "ticket_resolution_rate", "min", "month", "Customer service", "Delight customers", "Ines Costa", "healthy", "tickets_resolved"),
    ("Escalation rate", "escalation_rate", "max", "month", "Customer service", "", "Ines Costa", "healthy", "escalations"),
    ("Customer satisfaction (CSAT)", "csat", "min", "month", "Customer service", "Delight customers", "Ines Costa", "healthy", ""),
    ("Chat duration", "chat_duration_minutes", "max", "month", "Customer service", "", "Ravi Patel", "review", "tickets_received"),
    ("Gross profit margin", "gross_margin", "min", "month", "Finance", "Stay profitable", "Mia Chen", "healthy", "revenue, cost_of_goods_sold"),
    ("Operating cash flow", "operating_cash_flow", "min", "month", "Finance", "Stay profitable", "Mia Chen", "healthy", "revenue"),
    ("Return on investment", "roi", "min", "quarter", "Finance", "", "Mia Chen", "healthy", "investment_return, investment_cost"),
    ("EBIT", "ebit", "min", "month", "Finance", "Stay profitable", "Mia Chen", "healthy", "operating_expenses"),
    ("Burn rate", "burn_rate", "max", "month", "Finance", "", "Mia Chen", "healthy", ""),
    ("Employee turnover", "employee_turnover_rate", "max", "quarter", "HR", "Build a great team", "Noor Haddad", "healthy", "leavers, headcount"),
    ("Time to hire", "time_to_hire_days", "max", "month", "HR", "Build a great team", "Noor Haddad", "at_risk", "offers_made"),
    ("Engagement score", "engagement_score", "min", "quarter", "HR", "Build a great team", "Noor Haddad", "healthy", ""),
    ("Training hours", "training_hours", "min", "month", "HR", "", "Noor Haddad", "healthy", "headcount"),
    ("Offer acceptance rate", "offer_acceptance_rate", "min", "month", "HR", "", "Noor Haddad", "healthy", "offers_made, offers_accepted"),
    ("Monthly active users", "monthly_active_users", "min", "month", "Product", "Keep customers for longer", "Jonas Weber", "healthy", "daily_active_users, sessions"),
    ("Renewal rate", "renewal_rate", "min", "month", "Product", "Keep customers for longer", "Jonas Weber", "healthy", "renewals_due"),
    ("Churn rate", "churn_rate", "max", "month", "Product", "Keep customers for longer", "Jonas Weber", "healthy", "churned_customers"),
    ("Net promoter score", "nps", "min", "month", "Product", "Keep customers for longer", "Jonas Weber", "healthy", "nps_promoters, nps_detractors"),
    ("Stickiness (DAU/MAU)", "stickiness", "min", "month", "Product", "", "Jonas Weber", "at_risk", "daily_active_users"),
]
# How the latest complete period compares with the target: positive = met
# with room to spare, negative = missed by that much. DIPS make the latest
# month worse than the ones before, so an at-risk KPI has just slipped.
MARGINS = {"healthy": 0.12, "at_risk": -0.05, "unhealthy": -0.25}
_WORKBOOK_KPI_DEPARTMENTS = ("Finance", "HR")   # the rest go in kpis.csv


def nice(value: float, kind: str | None = None) -> float:
    """`value` at 3 significant figures, as people write targets: rounded
    down for a floor ("min"), up for a ceiling ("max"), else to nearest."""
    if not value or not np.isfinite(value):
        return float(value)
    scale = 10.0 ** (math.floor(math.log10(abs(value))) - 2)
    steps = value / scale
    if kind == "min":
        steps = math.floor(steps + 1e-9)
    elif kind == "max":
        steps = math.ceil(steps - 1e-9)
    return float(f"{round(steps) * scale:.3g}")


def latest_complete_period(end: date, grain: str) -> tuple[date, date]:
    """First and last day of the latest month or quarter that has ended by `end`."""
    if grain == "quarter":
        start, stop = quarter_bounds(end)
        return (start, stop) if stop <= end else quarter_bounds(start - timedelta(days=1))
    return month_window(complete_months(end)[-1])


def design_target(value, kind: str, grain: str, design: str, end: date) -> float:
    """A KPI's target from the data; `value(window)` gives the metric's value
    over a window. Designs: healthy, at_risk, unhealthy (the latest complete
    period meets or misses the target by MARGINS), before_launch (the worst of
    the 3 months before the launch, 5% looser: missed since the launch),
    review (set 7 months ago: missed for months in a row)."""
    months = complete_months(end)

    def looser(v: float, f: float) -> float:
        # A floor below the value (a ceiling above it) when f > 1, for either sign.
        return v / f if (kind == "min") == (v > 0) else v * f
    if design in MARGINS:
        return nice(looser(value(latest_complete_period(end, grain)), 1 + MARGINS[design]), kind)
    if design == "before_launch":
        worst = min if kind == "min" else max
        launch = end - timedelta(days=LAUNCH_DAYS_AGO)
        before = [m for m in months if month_window(m)[1] < launch][-3:]
        return nice(looser(worst(value(month_window(m)) for m in before), 1.05), kind)
    return nice(looser(value(month_window(months[-7])), 1.08), kind)


def kpi_rows(obs: pd.DataFrame, end: date) -> pd.DataFrame:
    """The KPI definitions, with targets set from the generated history."""
    cache: dict[tuple[date, date], dict[str, float]] = {}

    def values(window: tuple[date, date]) -> dict[str, float]:
        if window not in cache:
            cache[window] = window_values(obs, *window)
        return cache[window]

    rows = []
    for title, metric, kind, period, dept, objective, owner, design, supporting in KPIS:
        target = design_target(lambda w: values(w)[metric], kind, period, design, end)
        rows.append({"title": title, "metric": metric, "target": target, "target_kind": kind,
                     "period": period, "department": dept, "objective": objective,
                     "owner": owner, "tolerance": 0.1, "supporting": supporting})
    return pd.DataFrame(rows)


def target_rows(obs: pd.DataFrame, end: date) -> pd.DataFrame:
    """Monthly targets for "New customers": a plan growing 3% a month, met in
    the latest complete month, for the last 6 months and the next 3."""
    months = complete_months(end)
    latest = window_values(obs, *month_window(months[-1]))["new_customers"]
    plan = latest / 1.06
    periods = [m.strftime("%Y-%m") for m in months[-6:]] + [
        (pd.Timestamp(months[-1]) + pd.DateOffset(months=k)).strftime("%Y-%m") for k in (1, 2, 3)]
    return pd.DataFrame([{"kpi": "New customers", "period": label,
                          "target": float(round(plan * 1.03 ** (i - 5)))}
                         for i, label in enumerate(periods)])


# objective, department, quarter (0 = the one holding `end`, -1 = the one before),
# metric, owner, shape (up / down / count), progress design:
# ("raw", p) = progress p at the as-of date; ("pace", f) = f x expected progress.
KEY_RESULTS = [
    ("Win customers more cheaply", "Marketing", -1, "cac", "Lea Martin", "down", ("raw", 0.75)),
    ("Win customers more cheaply", "Marketing", -1, "new_customers", "Lea Martin", "count", ("raw", 1.2)),
    ("Win customers more cheaply", "Marketing", -1, "conversion_rate", "Tom Berg", "up", ("raw", 1.02)),
    ("Keep customers for longer", "Product", -1, "churn_rate", "Jonas Weber", "down", ("raw", 0.9)),
    ("Keep customers for longer", "Product", -1, "nps", "Jonas Weber", "up", ("raw", 1.05)),
    ("Answer customers faster", "Customer service", 0, "first_response_hours", "Ines Costa", "down", ("pace", 1.1)),
    ("Answer customers faster", "Customer service", 0, "csat", "Ravi Patel", "up", ("pace", 0.95)),
    ("Grow recurring revenue", "Sales", 0, "mrr", "Dana Reyes", "up", ("pace", 1.05)),
    ("Grow recurring revenue", "Sales", 0, "demos_scheduled", "Sam Okafor", "count", ("pace", 0.4)),
]
_COUNT_TITLES = {"new_customers": "Win {:,.0f} new customers", "demos_scheduled": "Book {:,.0f} demos"}


def kr_start_target(current: float, progress: float, shape: str) -> tuple[float, float]:
    """Start and target values that put `current` at `progress` of the way."""
    if shape == "count":
        return 0.0, nice(current / progress)
    # The whole way from start to target is 15% of the current value.
    span = abs(current) * 0.15
    start = current + span * progress if shape == "down" else current - span * progress
    target = start - span if shape == "down" else start + span
    return nice(start), nice(target)


def key_result_rows(obs: pd.DataFrame, end: date) -> pd.DataFrame:
    """Key results of two quarters: the one holding `end` and the one before.
    Titles are left empty (the importer writes them) except for counts."""
    rows = []
    for objective, dept, which, metric, owner, shape, (mode, factor) in KEY_RESULTS:
        start_date, deadline = quarter_bounds(end)
        if which < 0:
            start_date, deadline = quarter_bounds(start_date - timedelta(days=1))
        as_of = min(end, deadline)
        current = window_values(obs, start_date, as_of)[metric]
        elapsed = (as_of - start_date).days / max((deadline - start_date).days, 1)
        progress = factor if mode == "raw" else max(factor * elapsed, 0.02)
        start, target = kr_start_target(current, progress, shape)
        title = _COUNT_TITLES[metric].format(target) if shape == "count" else ""
        rows.append({"objective": objective, "title": title, "metric": metric, "start": start,
                     "target": target, "start_date": start_date.isoformat(),
                     "deadline": deadline.isoformat(), "owner": owner, "department": dept})
    return pd.DataFrame(rows)


def metric_rows() -> pd.DataFrame:
    columns = ["metric", "department", "unit", "direction", "aggregation", "formula",
               "description", "dimension"]
    return pd.DataFrame(METRICS, columns=columns)


def launch_rows(launch_date: date) -> pd.DataFrame:
    return pd.DataFrame([{"launch": LAUNCH, "launch_date": launch_date.isoformat(),
                          "department": "Marketing", "conversion_target": 0.022,
                          "cac_target": 55}])


# ---- files ----------------------------------------------------------------

def number_texts(values: pd.Series) -> pd.Series:
    """Numbers as people write them: whole numbers without ".0", others as is."""
    whole = values == values.round()
    texts = values.astype(str)
    texts[whole] = values[whole].astype(np.int64).astype(str)
    return texts


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV; dates as ISO text, whole numbers without ".0", empty cells
    for missing values. Does not mutate `frame`."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(out[column]) and out[column].notna().all():
            out[column] = number_texts(out[column])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _cell(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def workbook_bytes(sheets: dict[str, pd.DataFrame], stamp: date) -> bytes:
    """An xlsx with one sheet per frame (dates as Excel date cells). The same
    sheets and stamp give the same bytes."""
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
    raw = io.BytesIO()
    book.save(raw)
    return _stable_zip(raw.getvalue(), f"{stamp.isoformat()}T00:00:00Z".encode())


def _stable_zip(data: bytes, stamp: bytes) -> bytes:
    # openpyxl stamps the save time into the file and its zip entries; pin them
    # so re-running the demo yields the same sha256 and imports as "unchanged".
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 lambda m: m.group(1) + stamp, content)
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def demo_files(end: date | None = None, seed: int = DEMO_SEED) -> list[tuple[bytes, str]]:
    """The demo company's files as (content, file name), history ending `end`
    (default yesterday). The same end and seed give the same bytes."""
    end = end or date.today() - timedelta(days=1)
    history = generated_history(end, np.random.default_rng(seed))
    obs = history.observations
    kpis = kpi_rows(obs, end)
    in_workbook = kpis["department"].isin(_WORKBOOK_KPI_DEPARTMENTS)
    files = [(csv_bytes(metric_rows()), "metrics.csv")]
    files += [(csv_bytes(frame), name) for name, frame in history.csv_files.items()]
    sheets = {**history.workbook_sheets, "kpis": kpis[in_workbook]}
    files.append((workbook_bytes(sheets, end), "company_monthly.xlsx"))
    files += [(csv_bytes(kpis[~in_workbook]), "kpis.csv"),
              (csv_bytes(target_rows(obs, end)), "targets.csv"),
              (csv_bytes(key_result_rows(obs, end)), "key_results.csv"),
              (csv_bytes(launch_rows(history.launch_date)), "launches.csv")]
    return files


def load_demo(con, end: date | None = None, seed: int = DEMO_SEED) -> list:
    """Imports the demo company into `con` in one run through the importer and
    records that the demo was loaded. Returns the ImportResults."""
    from .importing import import_files   # imported late: the importer is the heavier module
    from .store import set_setting

    end = end or date.today() - timedelta(days=1)
    results = import_files(con, demo_files(end, seed))
    set_setting(con, "demo_loaded", end.isoformat())
    return results
