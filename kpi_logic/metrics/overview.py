"""The executive overview: company health at a glance, and what needs attention.

overview() gathers one scorecard per department and the OKR report; the
pure functions below turn them into counts and alerts so each rule is tested
on small dicts.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import KPI, Metric
from kpi_logic.domain.periods import as_of_or_today
from kpi_logic.metrics import kpis as kpi_rules
from kpi_logic.metrics import okrs as okr_rules
from kpi_logic.metrics.catalogue import known_departments, kpi_department
from kpi_logic.metrics.coverage import Coverage, cadence_words, coverages
from kpi_logic.metrics.results import (
    Alert,
    DepartmentHealth,
    OkrReport,
    Overview,
    PinnedKpi,
    Scorecard,
)
from kpi_logic.store import Store

STALE_FACTOR = 1.5          # no new data for more than 1.5 of the metric's usual gaps after what it covers
MISSED = ("at_risk", "unhealthy")
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def departments(store: Store) -> list[str]:
    """Every department that has metrics, KPIs or key results (catalogue.known_departments,
    the one list)."""
    return known_departments(store.definitions.metrics(), store.definitions.kpis(),
                             store.definitions.key_results())


def every_scorecard(store: Store, period: str | None = None,
                    as_of: date | None = None) -> list[Scorecard]:
    """The scorecard of every department with KPIs or plain metrics to show, in
    the order of departments(); `period` and `as_of` as for kpis.scorecard."""
    cards: dict[str, Scorecard] = {}
    for department in departments(store):
        card = kpi_rules.scorecard(store, department, period=period, as_of=as_of)
        # Names that differ only in case resolve to one department: one card.
        if card["kpis"] or card["metrics"]:
            cards.setdefault(card["department"], card)
    return list(cards.values())


def department_health(scorecards: list[Scorecard]) -> list[DepartmentHealth]:
    """Per department: how many KPIs are healthy, at risk, unhealthy, without data."""
    rows = []
    for card in scorecards:
        counts = {status: 0 for status in ("healthy", "at_risk", "unhealthy", "no_data")}
        for kpi in card["kpis"]:
            counts[kpi["status"]] = counts.get(kpi["status"], 0) + 1
        rows.append({"department": card["department"], "period": card.get("period"),
                     "kpis": len(card["kpis"]), **counts})
    return rows


def pinned_cards(scorecards: list[Scorecard]) -> list[PinnedKpi]:
    """The pinned KPIs' cards from every department's scorecard, by title, each
    with its department."""
    cards = [{**kpi, "department": card["department"]}
             for card in scorecards for kpi in card["kpis"] if kpi["pinned"]]
    return sorted(cards, key=lambda c: c["title"].casefold())


def kpi_alerts(scorecards: list[Scorecard]) -> list[Alert]:
    """KPIs that crossed their target in the latest period (on pace, when their data
    leave that period early), and KPIs to review."""
    alerts = []
    for card in scorecards:
        for kpi in card["kpis"]:
            where = f"{card['department']}: {kpi['title']}"
            # The judged period (the last) against the latest period before it with data;
            # a stale KPI has crossed nothing lately.
            history = kpi.get("history") or []
            if history and history[-1].get("status") == "no_data":
                history = []
            history = [h for h in history if h.get("status") != "no_data"]
            if len(history) >= 2:
                before, now = history[-2]["status"], history[-1]["status"]
                period = fmt.human_period(history[-1]["period"])
                paced = bool(history[-1].get("partial"))
                if before == "healthy" and now in MISSED:
                    alerts.append(_alert("kpi_missed", "high", (
                        f"{where} is behind pace so far in {period}" if paced
                        else f"{where} missed its target in {period}"), card["department"]))
                elif before in MISSED and now == "healthy":
                    alerts.append(_alert("kpi_recovered", "low", (
                        f"{where} is back on pace so far in {period}" if paced
                        else f"{where} is back on target in {period}"), card["department"]))
            if kpi.get("review"):
                alerts.append(_alert("kpi_review", "medium",
                                     f"{where} has missed its target {kpi['missed_in_a_row']} periods in a row: "
                                     "review the target or act on it", card["department"]))
    return alerts


def kr_alerts(report: OkrReport) -> list[Alert]:
    """Key results that are off track (high); those that ended short of their target
    are a result to note, not a pace to fix (low)."""
    alerts = []
    for objective in report["objectives"]:
        for kr in objective["key_results"]:
            name = f"{objective['objective']}: \"{kr['title']}\""
            if kr["status"] == "missed":
                alerts.append(_alert("kr_missed", "low",
                                     f"{name} missed its target on {fmt.human_date(kr['deadline'])} "
                                     f"({fmt.format_progress(kr['progress'])} of the way)",
                                     objective.get("department")))
            elif kr["status"] == "off_track":
                alerts.append(_alert("kr_off_track", "high",
                                     f"{name} is off track ({kr['progress']:.0%} done, "
                                     f"{kr['expected']:.0%} expected by now)",
                                     objective.get("department")))
    return alerts


def stale_metrics(covered: Mapping[str, Coverage], metrics: Mapping[str, Metric], as_of: date,
                  factor: float = STALE_FACTOR) -> list[dict]:
    """[{metric, department, data_through, days, cadence}] for metrics with no new data for
    more than `factor` usual gaps after what their latest value covers (a month dated
    the 1st covers the month: October is not late on 27 Nov). Oldest news first. Pure."""
    out = []
    for name, coverage in covered.items():
        if coverage.data_through is None:
            continue
        step = max(coverage.step_days or 1, 1)
        waiting = (as_of - coverage.covered_through).days - 1
        if waiting > factor * step:
            metric = metrics.get(name)
            out.append({"metric": name, "department": metric.department if metric else None,
                        "data_through": coverage.data_through,
                        "days": (as_of - coverage.data_through).days,
                        "cadence": cadence_words(coverage.cadence, coverage.step_days)})
    return sorted(out, key=lambda row: (row["data_through"], row["metric"]))


def stale_alerts(stale: list[dict]) -> list[Alert]:
    """One medium alert per department (metrics without one grouped together): how many
    metrics have had no new data, since when, and the first few names."""
    groups: dict[str | None, list[dict]] = {}
    for row in stale:
        groups.setdefault(row["department"], []).append(row)
    alerts = []
    for department in sorted(groups, key=lambda d: (d is None, d or "")):
        rows = groups[department]
        dates = sorted({r["data_through"] for r in rows})
        since = fmt.human_date(dates[-1]) + ("" if len(dates) == 1 else " or earlier")
        where = department or "No department"
        if len(rows) == 1:
            row = rows[0]
            usual = f"it usually arrives {row['cadence']}" if row["cadence"] else "its only date"
            text = f"{where}: {row['metric']} has had no new data since {since} ({row['days']} days; {usual})"
        else:
            names = ", ".join(r["metric"] for r in rows[:4]) + \
                (f" and {len(rows) - 4} more" if len(rows) > 4 else "")
            text = f"{where}: {len(rows)} metrics have had no new data since {since} ({names})"
        alerts.append(_alert("stale", "medium", text, department))
    return alerts


def unassigned_alerts(metrics: dict[str, Metric], kpis: list[KPI]) -> list[Alert]:
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


def overview(store: Store, as_of: date | None = None) -> Overview:
    """{as_of, data_through, departments, objectives, alerts} for the home page; data
    after as_of are ignored."""
    as_of = as_of_or_today(as_of)
    metrics = store.definitions.metrics()
    covered = coverages(store, [n for n, m in metrics.items() if not m.formula], as_of, metrics=metrics)
    through = [c.data_through for c in covered.values() if c.data_through]
    data_through = max(through) if through else None
    cards = [card for card in every_scorecard(store, as_of=as_of) if card["kpis"]]
    report = okr_rules.okr_report(store, as_of=as_of)
    alerts = (kpi_alerts(cards) + kr_alerts(report) + stale_alerts(stale_metrics(covered, metrics, as_of))
              + unassigned_alerts(metrics, store.definitions.kpis()))
    alerts.sort(key=lambda a: SEVERITY_ORDER[a["severity"]])
    return {
        "as_of": as_of.isoformat(),
        "data_through": data_through.isoformat() if data_through else None,
        "departments": department_health(cards),
        "pinned": pinned_cards(cards),
        "goals": report["summary"],
        "objectives": report["objectives"],
        "alerts": alerts,
    }


def _alert(kind: str, severity: str, text: str, department: str | None) -> Alert:
    return {"kind": kind, "severity": severity, "text": text, "department": department}
