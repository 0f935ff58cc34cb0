"""The targets and key results the demo company set itself, designed from its
own generated numbers (see demo_history) rather than fixed constants, so the
story holds for any end date: most KPIs healthy, a few at risk or unhealthy,
only one missed for months in a row (flagged for review); growth KPIs follow
a monthly plan; one key result overshooting, one decreasing, one behind
pace. Every start and target is a number a person would write (4 -> 4.3,
$40 -> $30, 2,000 demos).
"""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_logic.demo.history import LAUNCH_DAYS_AGO, complete_months, month_window, quarter_bounds
from kpi_logic.demo.measures import AGGREGATION, FORMULAS
from kpi_logic.domain.formulas import (
    formula_components,
    formula_metrics,
    formula_order,
    formula_values,
    parse_formula,
    with_components,
)
from kpi_logic.domain.model import Metric
from kpi_logic.metrics.okrs import TRAILING_DAYS, measure_kind

# ---- values over a window (to set targets from the data) ------------------

def window_values(obs: pd.DataFrame, start: date, stop: date) -> dict[str, float]:
    """Every metric's value over [start, stop] by its aggregation; formulas
    from their components' window values. Does not mutate `obs`."""
    inside = obs[(obs["date"] >= pd.Timestamp(start)) & (obs["date"] <= pd.Timestamp(stop))]
    values: dict[str, float] = {}
    for metric, rows in inside.groupby("metric"):
        how = AGGREGATION[metric]
        if how == "last":
            values[metric] = float(rows.sort_values("date").groupby("dimension")["value"].last().sum())
        else:
            values[metric] = float(rows["value"].astype(float).agg(how))
    for name in formula_order(FORMULAS):
        if FORMULAS[name]:
            formula = parse_formula(FORMULAS[name])
            columns = {m: pd.Series([values.get(m, np.nan)]) for m in formula_metrics(formula)}
            values[name] = float(formula_values(formula, columns).iloc[0])
    return values


DEMO_METRICS = {name: Metric(name, aggregation=AGGREGATION[name] or "sum", formula=FORMULAS[name])
                for name in AGGREGATION}


def kr_value(obs: pd.DataFrame, metric: str, start: date, stop: date) -> float:
    """A key result's value over [start, stop] as the engine measures it
    (okrs.measure_kind): the total for a flow, else the value over the last
    TRAILING_DAYS days of data (the latest value for a balance)."""
    if measure_kind(metric, DEMO_METRICS) == "total":
        return window_values(obs, start, stop)[metric]
    bases = with_components(metric, formula_components(DEMO_METRICS))
    dates = obs.loc[obs["metric"].isin(bases) & (obs["date"] >= pd.Timestamp(start))
                    & (obs["date"] <= pd.Timestamp(stop)), "date"]
    last = dates.max().date() if not dates.empty else stop
    return window_values(obs, max(start, last - timedelta(days=TRAILING_DAYS - 1)), stop)[metric]


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
# The company's most important KPIs: the overview opens with them.
PINNED = ("Monthly recurring revenue", "New customers", "Customer acquisition cost",
          "First response time", "Gross profit margin", "Churn rate")
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
WORKBOOK_KPI_DEPARTMENTS = ("Finance", "HR")   # the rest go in kpis.csv


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
        target = design_target(lambda w, metric=metric: values(w)[metric], kind, period, design, end)
        rows.append({"title": title, "metric": metric, "target": target, "target_kind": kind,
                     "period": period, "department": dept, "objective": objective,
                     "owner": owner, "tolerance": 0.1, "supporting": supporting,
                     "pinned": "yes" if title in PINNED else ""})
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
    ("Grow the Pathfinder launch", "Marketing", 0, "visitors", "Tom Berg", "count", (1.0, 1.25)),
    ("Grow the Pathfinder launch", "Marketing", 0, "purchases", "Lea Martin", "count",
     (0.75, 0.9)),
]
_COUNT_TITLES = {"new_customers": "Win {:,.0f} new customers", "demos_scheduled": "Book {:,.0f} demos",
                 "visitors": "Bring {:,.0f} visitors to the product page",
                 "purchases": "Reach {:,.0f} purchases"}
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
        current = kr_value(obs, metric, start_date, as_of)
        elapsed = (as_of - start_date).days / max((deadline - start_date).days, 1)
        # Early in a quarter there is too little movement to aim from: aim from a fifth of it.
        wanted = tuple(p * max(elapsed, 0.2) for p in progress)
        start, target = kr_start_target(baseline, current, wanted, direction)
        title = _COUNT_TITLES[metric].format(target) if direction == "count" else ""
        rows.append({"objective": objective, "title": title, "metric": metric, "start": start,
                     "target": target, "start_date": start_date.isoformat(),
                     "deadline": deadline.isoformat(), "owner": owner, "department": dept})
    return pd.DataFrame(rows)

