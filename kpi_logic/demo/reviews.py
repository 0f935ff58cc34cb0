"""The demo company's review loop: its objectives defined with owners, cycles
and alignment, and a week of check-ins on KPIs and key results.

Check-ins are dated from the history's last day, so the same end gives the
same files. The Chat duration KPI, missed three months or more in a row, is left
without one on purpose: its card asks for a check-in.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd

from kpi_logic.demo.history import quarter_bounds
from kpi_logic.domain.periods import period_label

# objective, owner, department, which quarter (0 = the one holding `end`, -1 the
# one before), description, parent.
OBJECTIVES = [
    ("Grow recurring revenue", "Dana Reyes", "Sales", 0,
     "More customers on bigger plans, booked through demos.", None),
    ("Grow the Pathfinder launch", "Lea Martin", "Marketing", 0,
     "Turn the launch's traffic into buyers.", "Grow recurring revenue"),
    ("Answer customers faster", "Ines Costa", "Customer service", 0,
     "Customers hear back within hours and leave happy.", None),
    ("Win customers more cheaply", "Lea Martin", "Marketing", -1,
     "Spend less per new customer without losing volume.", None),
    ("Keep customers for longer", "Jonas Weber", "Product", -1,
     "Fewer customers leave, more recommend us.", None),
]

# kpi or key result (objective, title key in the key results file), days before
# `end`, hour, note, confidence, by.
CHECKINS = [
    ("kpi", "Demos scheduled", 2, 9,
     "Two reps were out; demo slots are open again from Monday.", None, "Sam Okafor"),
    ("key_result", ("Grow recurring revenue", "demos_scheduled"), 2, 10,
     "Behind pace: a webinar next week should fill the calendar.", "low", "Sam Okafor"),
    ("key_result", ("Grow the Pathfinder launch", "visitors"), 3, 16,
     "Search and partners keep sending traffic.", "high", "Tom Berg"),
    ("key_result", ("Grow the Pathfinder launch", "purchases"), 1, 11,
     "Checkout fixes shipped; watching conversion this week.", "medium", "Lea Martin"),
]


def objective_rows(end: date) -> pd.DataFrame:
    """The demo's objectives with their quarter as cycle."""
    rows = []
    for name, owner, department, which, description, parent in OBJECTIVES:
        start, _ = quarter_bounds(end)
        if which < 0:
            start, _ = quarter_bounds(start - timedelta(days=1))
        rows.append({"objective": name, "owner": owner, "department": department,
                     "cycle": period_label(start, "quarter"), "description": description,
                     "parent": parent or ""})
    return pd.DataFrame(rows)


def checkin_rows(key_results: pd.DataFrame, end: date) -> pd.DataFrame:
    """Check-ins of the last days before `end`, naming key results by the titles in
    `key_results` (the demo's key results file: objective, title, metric)."""
    rows = []
    for kind, subject, days, hour, note, confidence, by in CHECKINS:
        at = datetime.combine(end - timedelta(days=days), time(hour, 0))
        row = {"kpi": "", "key_result": "", "objective": "", "period": "", "note": note,
               "confidence": confidence or "", "by": by, "at": at.isoformat(sep=" ")}
        if kind == "kpi":
            row.update(kpi=subject, period=period_label(at.date().replace(day=1) - timedelta(days=1),
                                                       "month"))
        else:
            objective, metric = subject
            match = key_results[(key_results["objective"] == objective)
                                & (key_results["metric"] == metric)]
            row.update(key_result=match["title"].iloc[0], objective=objective,
                       period=period_label(at.date(), "week"))
        rows.append(row)
    return pd.DataFrame(rows)
