"""The executive overview: company health at a glance, and what needs attention.

overview() gathers one scorecard per department and the OKR report; the
pure functions below turn them into counts and alerts so each rule is tested
on small dicts.
"""
from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from . import formatting as fmt
from . import kpis as kpi_rules
from . import okrs as okr_rules
from .catalogue import kpi_department
from .model import KPI, Metric
from .store import freshness
from .store.definitions import load_kpis, load_metrics

STALE_FACTOR = 1.5          # no new data for more than 1.5 of the metric's usual gaps
MISSED = ("at_risk", "unhealthy")
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department that has metrics, KPIs or key results."""
    return freshness.departments(con)


def department_health(scorecards: list[dict]) -> list[dict]:
    """Per department: how many KPIs are healthy, at risk, unhealthy, without data."""
    rows = []
    for card in scorecards:
        counts = {status: 0 for status in ("healthy", "at_risk", "unhealthy", "no_data")}
        for kpi in card["kpis"]:
            counts[kpi["status"]] = counts.get(kpi["status"], 0) + 1
        rows.append({"department": card["department"], "period": card.get("period"),
                     "kpis": len(card["kpis"]), **counts})
    return rows


def kpi_alerts(scorecards: list[dict]) -> list[dict]:
    """KPIs that crossed their target in the latest period, and KPIs to review."""
    alerts = []
    for card in scorecards:
        for kpi in card["kpis"]:
            where = f"{card['department']}: {kpi['title']}"
            history = [h for h in kpi.get("history") or [] if h.get("status") != "no_data"]
            if len(history) >= 2:
                before, now = history[-2]["status"], history[-1]["status"]
                if before == "healthy" and now in MISSED:
                    alerts.append(_alert("kpi_missed", "high", f"{where} missed its target in {fmt.human_period(history[-1]['period'])}",
                                         card["department"]))
                elif before in MISSED and now == "healthy":
                    alerts.append(_alert("kpi_recovered", "low", f"{where} is back on target in {fmt.human_period(history[-1]['period'])}",
                                         card["department"]))
            if kpi.get("review"):
                alerts.append(_alert("kpi_review", "medium",
                                     f"{where} has missed its target {kpi['missed_in_a_row']} periods in a row: "
                                     "review the target or act on it", card["department"]))
    return alerts


def kr_alerts(report: dict) -> list[dict]:
    """Key results that are off track (high); those whose deadline has passed
    short of the target are a result to note, not a pace to fix (low)."""
    alerts = []
    as_of = report.get("as_of")
    for objective in report["objectives"]:
        for kr in objective["key_results"]:
            if kr["status"] != "off_track":
                continue
            name = f"{objective['objective']}: \"{kr['title']}\""
            if as_of and kr.get("deadline") and kr["deadline"] < as_of:
                alerts.append(_alert("kr_ended_short", "low",
                                     f"{name} ended short on {fmt.human_date(kr['deadline'])} "
                                     f"({kr['progress']:.0%} of the way to its target)",
                                     objective.get("department")))
            else:
                alerts.append(_alert("kr_off_track", "high",
                                     f"{name} is off track ({kr['progress']:.0%} done, "
                                     f"{kr['expected']:.0%} expected by now)",
                                     objective.get("department")))
    return alerts


def stale_metrics(fresh: pd.DataFrame, as_of: date, factor: float = STALE_FACTOR) -> pd.DataFrame:
    """Rows of `fresh` with no new data for more than `factor` usual gaps, plus
    age_days (days since the last date). Does not mutate.

    The latest value covers one usual gap from its date (a month dated the 1st
    covers the month), so the wait is counted from the end of that gap: October
    dated 1 Oct is not stale on 27 Nov, when November is not over yet.
    """
    if fresh.empty:
        return fresh.assign(age_days=pd.Series(dtype="int64"))
    cadence = fresh["cadence_days"].fillna(1).clip(lower=1)
    age = fresh["last_date"].map(lambda d: (as_of - d).days)
    out = fresh.assign(age_days=age)
    return out[age - cadence > factor * cadence].reset_index(drop=True)


def stale_alerts(stale: pd.DataFrame) -> list[dict]:
    """One medium alert per row of stale_metrics()."""
    return [_alert("stale", "medium",
                   f"{row.metric}: no new data since {fmt.human_date(row.last_date)} "
                   f"({row.age_days} days; it usually arrives {_every(row.cadence_days)})",
                   None)
            for row in stale.itertuples()]


def unassigned_alerts(metrics: dict[str, Metric], kpis: list[KPI]) -> list[dict]:
    """A low alert for KPIs and for metrics that belong to no department: no
    scorecard shows them. KPIs take their metric's department when they have
    none. Pure."""
    names = {"KPIs": [k.title for k in kpis if not kpi_department(k, metrics)],
             "metrics": sorted(m.name for m in metrics.values() if not m.department)}
    alerts = []
    for what, missing in names.items():
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more"
                                              if len(missing) > 5 else "")
            alerts.append(_alert("unassigned", "low",
                                 f"{len(missing)} {what if len(missing) > 1 else what[:-1]} "
                                 f"belong{'' if len(missing) > 1 else 's'} to no department, so "
                                 f"no scorecard shows {'them' if len(missing) > 1 else 'it'}: "
                                 f"{shown}. Give {'them' if len(missing) > 1 else 'it'} a "
                                 "department on Import and define.", None))
    return alerts


def overview(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> dict:
    """{as_of, data_through, departments, objectives, alerts} for the home page."""
    fresh = freshness.metric_freshness(con)
    data_through = max(fresh["last_date"]) if not fresh.empty else None
    as_of = as_of or date.today()
    cards = []
    for department in departments(con):
        card = kpi_rules.scorecard(con, department, as_of=as_of)
        if card["kpis"]:
            cards.append(card)
    report = okr_rules.okr_report(con, as_of=as_of)
    alerts = (kpi_alerts(cards) + kr_alerts(report) + stale_alerts(stale_metrics(fresh, as_of))
              + unassigned_alerts(load_metrics(con), load_kpis(con)))
    alerts.sort(key=lambda a: SEVERITY_ORDER[a["severity"]])
    return {
        "as_of": as_of.isoformat(),
        "data_through": data_through.isoformat() if data_through else None,
        "departments": department_health(cards),
        "objectives": report["objectives"],
        "alerts": alerts,
    }


def _every(cadence_days: float | None) -> str:
    # A metric with one date has no cadence (NaN): the stale rule treats it as daily.
    days = 1 if pd.isna(cadence_days) else max(int(cadence_days), 1)
    return "every day" if days == 1 else f"every {days} days"


def _alert(kind: str, severity: str, text: str, department: str | None) -> dict:
    return {"kind": kind, "severity": severity, "text": text, "department": department}
