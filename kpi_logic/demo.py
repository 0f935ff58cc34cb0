"""The demo company: Brightpath, a made-up software company with six
departments, 2+ years of history, KPIs, two quarters of OKRs and a marketing
launch. It is built in memory as the files an analyst would upload (CSV and
xlsx) and loaded through the real importer, so the demo exercises the same
path as anyone's own files.

Targets and key results are set from the generated numbers (see
demo_history) rather than fixed constants, so the story holds for any end
date: most KPIs healthy, a few at risk or unhealthy, only one missed for
months in a row (flagged for review); growth KPIs follow a monthly plan; one
key result overshooting, one decreasing, one behind pace. Every start and
target is a number a person would write (4 -> 4.3, $40 -> $30, 2,000 demos).
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from openpyxl import Workbook

from .demo_history import (LAUNCH_DAYS_AGO, PROMOTION_DAYS, complete_months, generated_history,
                           month_window, number_texts, quarter_bounds)
from .errors import BreakdownClash
from .formulas import formula_metrics, formula_order, formula_values, parse_formula

DEMO_SEED = 20261127
LAUNCH = "Pathfinder launch"

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
# Where each design puts the target, as value / target for a floor (target /
# value for a ceiling): met with room to spare, just missed (inside the 10%
# tolerance: at risk), clearly missed. DIPS make the latest month worse than
# the ones before, so an at-risk KPI has just slipped.
BANDS = {"healthy": (1.05, 1.2), "at_risk": (0.92, 0.98), "unhealthy": (0.7, 0.82)}
# KPIs of growing counts are judged against a monthly plan (targets.csv): a
# fixed target set from the latest month would make every earlier month a miss.
PLANNED = {"New customers": "new_customers", "Purchases": "purchases",
           "Website traffic": "website_visitors"}
PLAN_SHARE = (0.82, 0.92)     # each month's plan: this share of the 3 months before
PLAN_AHEAD = 3                # months planned beyond the latest complete one
PLAN_LIFT = 0.9               # share of a launch's lift the plan expects
_WORKBOOK_KPI_DEPARTMENTS = ("Finance", "HR")   # the rest go in kpis.csv


def roundest(low: float, high: float) -> float:
    """The roundest number between `low` and `high` (either order): the one
    with the largest step of 1, 5 or 2 times a power of ten, nearest the
    middle when several share that step; 0 when the band holds 0."""
    lo, hi = sorted((float(low), float(high)))
    if lo <= 0 <= hi:
        return 0.0
    sign, lo, hi = (1, lo, hi) if lo > 0 else (-1, -hi, -lo)
    middle, top = (lo + hi) / 2, math.floor(math.log10(hi)) + 1
    for exponent in range(top, top - 12, -1):
        for mantissa in (1, 0.5, 0.2):
            step = mantissa * 10.0 ** exponent
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if first <= last:
                best = min(range(first, last + 1), key=lambda n: abs(n * step - middle))
                return sign * float(f"{best * step:.6g}")
    return sign * float(f"{middle:.3g}")


def _looser(value: float, kind: str, factor: float) -> float:
    """A floor below `value` (a ceiling above it) when factor > 1, stricter
    when factor < 1, for either sign of `value`."""
    return value / factor if (kind == "min") == (value > 0) else value * factor


def target_between(value: float, kind: str, band: tuple[float, float]) -> float:
    """The roundest target that `value` meets (or misses) by a factor in `band`."""
    return roundest(_looser(value, kind, band[0]), _looser(value, kind, band[1]))


def latest_complete_period(end: date, grain: str) -> tuple[date, date]:
    """First and last day of the latest month or quarter that has ended by `end`."""
    if grain == "quarter":
        start, stop = quarter_bounds(end)
        return (start, stop) if stop <= end else quarter_bounds(start - timedelta(days=1))
    return month_window(complete_months(end)[-1])


def recent_periods(end: date, grain: str, count: int = 12) -> list[tuple[date, date]]:
    """Up to `count` complete months or quarters ending by `end`, newest first,
    all inside the history."""
    first = complete_months(end)[0]
    periods = [latest_complete_period(end, grain)]
    while len(periods) < count:
        before = latest_complete_period(periods[-1][0] - timedelta(days=1), grain)
        if before[0] < first:
            break
        periods.append(before)
    return periods


def design_target(value, kind: str, grain: str, design: str, end: date) -> float:
    """A KPI's round target from the data; `value(window)` gives the metric's
    value over a window. Designs: healthy (met by the latest complete period
    with room to spare, and by most of the year before: a target only the
    latest months meet would make every earlier one a miss), at_risk and
    unhealthy (the latest period against BANDS), before_launch (set on the
    last month before the launch: missed since the launch), review (set
    from 7 months ago: missed for months in a row)."""
    months = complete_months(end)
    if design == "healthy":
        values = [value(w) for w in recent_periods(end, grain)]
        usual = float(np.nanpercentile(values, 25 if kind == "min" else 75))
        looser = min if kind == "min" else max
        return looser(target_between(values[0], kind, BANDS[design]),
                      target_between(usual, kind, (1.02, 1.1)))
    if design in BANDS:
        latest, before = recent_periods(end, grain, 2)
        low, high = sorted(_looser(value(latest), kind, f) for f in BANDS[design])
        # The period before met it: the KPI has just slipped, it is not stuck.
        if kind == "min" and low < value(before) < high:
            high = value(before)
        elif kind == "max" and low < value(before) < high:
            low = value(before)
        return roundest(low, high)
    if design == "before_launch":
        launch = end - timedelta(days=LAUNCH_DAYS_AGO)
        before = [m for m in months if month_window(m)[1] < launch][-1]
        return target_between(value(month_window(before)), kind, (1.05, 1.15))
    return target_between(value(month_window(months[-7])), kind, (1.04, 1.12))


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


def monthly_plan(totals: pd.Series, ahead: int = PLAN_AHEAD,
                 launched: date | None = None) -> pd.Series:
    """A monthly plan for a growing count, by "YYYY-MM": each month a round
    share (PLAN_SHARE) of the average of the 3 months before it (the first
    month from itself), `ahead` more months from the latest 3. From the first
    month after `launched` the plan also expects most (PLAN_LIFT) of the lift
    the launch brought. `totals` is indexed by month start; not mutated."""
    months = list(totals.index) + [totals.index[-1] + pd.DateOffset(months=k)
                                   for k in range(1, ahead + 1)]
    after = np.array([launched is not None and m > pd.Timestamp(launched) for m in months])
    values, known = totals.to_numpy(dtype=float), after[:len(totals)]
    lift = 1.0
    if known.any() and (~known).any():
        lift = max(PLAN_LIFT * values[known].mean() / values[~known][-3:].mean(), 1.0)
    basis = values / np.where(known, lift, 1.0)      # as if there had been no launch
    plan = {}
    for i, month in enumerate(months):
        before = basis[max(i - 3, 0):i] if i else basis[:1]
        expected = float(before.mean()) * (lift if after[i] else 1.0)
        plan[month.strftime("%Y-%m")] = target_between(
            expected, "min", (1 / PLAN_SHARE[1], 1 / PLAN_SHARE[0]))
    return pd.Series(plan, dtype=float)


def target_rows(obs: pd.DataFrame, end: date) -> pd.DataFrame:
    """Monthly plan targets for the growth KPIs (PLANNED), for every complete
    month of history and PLAN_AHEAD months ahead."""
    months = pd.DatetimeIndex(complete_months(end))
    inside = obs[(obs["date"] >= months[0]) & (obs["date"] < months[-1] + pd.DateOffset(months=1))]
    launched = end - timedelta(days=LAUNCH_DAYS_AGO)
    rows = []
    for title, metric in PLANNED.items():
        mine = inside[inside["metric"] == metric]
        totals = mine["value"].astype(float).groupby(mine["date"].dt.to_period("M").dt.start_time).sum()
        plan = monthly_plan(totals.reindex(months, fill_value=0.0), launched=launched)
        rows += [{"kpi": title, "period": label, "target": target} for label, target in plan.items()]
    return pd.DataFrame(rows)


# objective, department, quarter (0 = the one holding `end`, -1 = the one before),
# metric, owner, direction (up / down / count from 0), and the progress wanted
# at the as-of date, (lowest, highest): raw for a finished quarter, as a share
# of the expected progress for a running one.
KEY_RESULTS = [
    ("Win customers more cheaply", "Marketing", -1, "cac", "Lea Martin", "down", (0.5, 0.84)),
    ("Win customers more cheaply", "Marketing", -1, "new_customers", "Lea Martin", "count", (1.1, 1.4)),
    ("Win customers more cheaply", "Marketing", -1, "conversion_rate", "Tom Berg", "up", (1.0, 1.5)),
    ("Keep customers for longer", "Product", -1, "churn_rate", "Jonas Weber", "down", (0.86, 0.94)),
    ("Keep customers for longer", "Product", -1, "nps", "Jonas Weber", "up", (1.0, 1.5)),
    ("Answer customers faster", "Customer service", 0, "first_response_hours", "Ines Costa", "down", (1.0, 1.5)),
    ("Answer customers faster", "Customer service", 0, "csat", "Ravi Patel", "up", (1.0, 1.5)),
    ("Grow recurring revenue", "Sales", 0, "mrr", "Dana Reyes", "up", (1.0, 1.5)),
    ("Grow recurring revenue", "Sales", 0, "demos_scheduled", "Sam Okafor", "count", (0.2, 0.55)),
]
_COUNT_TITLES = {"new_customers": "Win {:,.0f} new customers", "demos_scheduled": "Book {:,.0f} demos"}
START_BAND = 0.08             # the start rounds at most this far, away from the target


def kr_start_target(baseline: float, current: float, progress: tuple[float, float],
                    direction: str) -> tuple[float, float]:
    """Round start and target values: the start near `baseline` (0 for a
    count), the target putting `current` within `progress` of the way."""
    if direction == "count":
        return 0.0, roundest(current / progress[1], current / progress[0])
    up = direction == "up"
    start = roundest(baseline * (1 - START_BAND if up else 1 + START_BAND), baseline)
    moved = current - start
    if moved == 0 or (moved > 0) != up:
        # The metric went the wrong way: aim 10% further than the start.
        return start, roundest(start * (1.08 if up else 0.92), start * (1.12 if up else 0.88))
    return start, roundest(start + moved / progress[1], start + moved / progress[0])


def key_result_rows(obs: pd.DataFrame, end: date) -> pd.DataFrame:
    """Key results of two quarters: the one holding `end` and the one before.
    Titles are left empty (the importer writes them) except for counts."""
    rows = []
    for objective, dept, which, metric, owner, direction, progress in KEY_RESULTS:
        start_date, deadline = quarter_bounds(end)
        if which < 0:
            start_date, deadline = quarter_bounds(start_date - timedelta(days=1))
        as_of = min(end, deadline)
        # the whole month before the start: a monthly figure dated the 1st is always in it
        before = start_date - timedelta(days=1)
        baseline = window_values(obs, before.replace(day=1), before)[metric]
        current = window_values(obs, start_date, as_of)[metric]
        elapsed = (as_of - start_date).days / max((deadline - start_date).days, 1)
        # Early in a quarter there is too little movement to aim from: aim from a fifth of it.
        wanted = tuple(p * max(elapsed, 0.2) for p in progress)
        start, target = kr_start_target(baseline, current, wanted, direction)
        title = _COUNT_TITLES[metric].format(target) if direction == "count" else ""
        rows.append({"objective": objective, "title": title, "metric": metric, "start": start,
                     "target": target, "start_date": start_date.isoformat(),
                     "deadline": deadline.isoformat(), "owner": owner, "department": dept})
    return pd.DataFrame(rows)


def metric_rows() -> pd.DataFrame:
    columns = ["metric", "department", "unit", "direction", "aggregation", "formula",
               "description", "dimension"]
    return pd.DataFrame(METRICS, columns=columns)


def launch_rows(launch_date: date) -> pd.DataFrame:
    promotion = launch_date + timedelta(days=PROMOTION_DAYS[0])
    return pd.DataFrame([{"launch": LAUNCH, "launch_date": launch_date.isoformat(),
                          "department": "Marketing", "conversion_target": 0.022,
                          "cac_target": 55, "promotion_date": promotion.isoformat()}])


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
    records that the demo was loaded ("demo_loaded": its end date) and which
    run holds it ("demo_run", so that run alone can be undone). A re-load that
    changes nothing keeps the earlier run. A demo an earlier release loaded
    with another breakdown (channels without campaigns) is undone and loaded
    again. Returns the ImportResults."""
    from .importing import import_files   # late: the importer is heavier
    from .store import set_setting, setting
    from .undo import list_batches, undo_run

    end = end or date.today() - timedelta(days=1)
    files = demo_files(end, seed)
    try:
        results = import_files(con, files)
    except BreakdownClash:
        earlier = setting(con, "demo_run")
        if earlier is None:
            raise
        undo_run(con, int(earlier))
        results = import_files(con, files)
    set_setting(con, "demo_loaded", end.isoformat())
    batches = {r.batch for r in results if r.batch is not None}
    listed = list_batches(con)
    runs = listed.loc[listed["id"].isin(batches), "run_id"].dropna().unique()
    if len(runs):
        set_setting(con, "demo_run", str(int(runs[0])))
    return results
