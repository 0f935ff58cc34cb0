"""What the demo company measures: its metrics (with units, aggregations and
formulas) and its launch, as the definition files an analyst would upload.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from kpi_logic.demo.history import PROMOTION_DAYS

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
    ("chat_duration_minutes", "Customer service", "minutes", "down", "mean", None,
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
    ("training_hours", "HR", _D, "up", "sum", None, "Hours of training taken", None),
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
# Display names where the name made into words reads badly (the rest read well as
# made: "tickets_received" is "Tickets received").
LABELS = {"chat_duration_minutes": "Chat duration", "first_response_hours": "First response time",
          "email_click_through_rate": "Email click-through rate", "roi": "Return on investment"}
AGGREGATION = {m[0]: m[4] for m in METRICS}
FORMULAS = {m[0]: m[5] for m in METRICS}


def metric_rows() -> pd.DataFrame:
    columns = ["metric", "department", "unit", "direction", "aggregation", "formula",
               "description", "dimension"]
    frame = pd.DataFrame(METRICS, columns=columns)
    return frame.assign(label=frame["metric"].map(LABELS))


def launch_rows(launch_date: date) -> pd.DataFrame:
    promotion = launch_date + timedelta(days=PROMOTION_DAYS[0])
    return pd.DataFrame([{"launch": LAUNCH, "launch_date": launch_date.isoformat(),
                          "department": "Marketing", "conversion_target": 0.022,
                          "cac_target": 55, "promotion_date": promotion.isoformat()}])

