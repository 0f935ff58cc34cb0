"""The executive overview: company health at a glance, and what needs attention.

overview() gathers one scorecard per department and the OKR report;
alert_list() the alerts (metrics/alerts.py holds their rules) from what the
engine says on two days, as_of and `since`, for the overview page, the
`alerts` command and the daily digest alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import FIRST_DATE, Metric
from kpi_logic.domain.periods import as_of_or_today, in_range
from kpi_logic.metrics import alerts as rules
from kpi_logic.metrics import kpis as kpi_rules
from kpi_logic.metrics import okrs as okr_rules
from kpi_logic.metrics.catalogue import known_departments, resolved_department
from kpi_logic.metrics.coverage import Coverage, coverages
from kpi_logic.metrics.results import (
    Alert,
    DepartmentHealth,
    OkrReport,
    Overview,
    PinnedKpi,
    Scorecard,
)
from kpi_logic.store import Store


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


@dataclass(frozen=True)
class Seen:
    """What the engine says looking from one day: the scorecards with KPIs and the OKR report."""
    day: date
    cards: list[Scorecard]
    report: OkrReport


def seen_on(store: Store, day: date) -> Seen:
    return Seen(day, [card for card in every_scorecard(store, as_of=day) if card["kpis"]],
                okr_rules.okr_report(store, as_of=day))


def since_day(since: date | None, as_of: date) -> date:
    """The day changes are counted from: `since`, default DEFAULT_SINCE_DAYS before as_of.
    Refuses one outside the accepted dates or after as_of (InputError)."""
    if since is None:
        return max(as_of - timedelta(days=rules.DEFAULT_SINCE_DAYS), FIRST_DATE)
    since = in_range(since, "the since date")
    if since > as_of:
        raise InputError(f"The since date {since.isoformat()} is after the as-of date "
                         f"{as_of.isoformat()}: choose a day on or before it.")
    return since


def alert_list(store: Store, as_of: date | None = None, since: date | None = None,
               department: str | None = None) -> list[Alert]:
    """Every alert (metrics/alerts.py) looking from as_of (default today) with changes
    counted since `since` (default a week earlier), most severe first; one department's
    only when `department` is given. Refuses an unknown department and a since date after
    as_of (InputError)."""
    as_of = as_of_or_today(as_of)
    since = since_day(since, as_of)
    metrics = store.definitions.metrics()
    if department is not None:
        department = resolved_department(department, known_departments(
            metrics, store.definitions.kpis(), store.definitions.key_results()))
    found = _alerts(store, seen_on(store, as_of), since, metrics, _coverages(store, metrics, as_of))
    return found if department is None else rules.in_department(found, department)


def _coverages(store: Store, metrics: dict[str, Metric], as_of: date) -> dict[str, Coverage]:
    return coverages(store, [n for n, m in metrics.items() if not m.formula], as_of, metrics=metrics)


def _alerts(store: Store, now: Seen, since: date, metrics: dict[str, Metric],
            covered: dict[str, Coverage]) -> list[Alert]:
    before = seen_on(store, since)
    return rules.ranked(
        rules.kpi_change_alerts(before.cards, now.cards) + rules.kpi_review_alerts(now.cards)
        + rules.kr_alerts(before.report, now.report, since)
        + rules.stale_alerts(rules.stale_metrics(covered, metrics, now.day))
        + rules.unassigned_alerts(metrics, store.definitions.kpis()))


def overview(store: Store, as_of: date | None = None, since: date | None = None) -> Overview:
    """{as_of, since, data_through, departments, objectives, alerts} for the home page;
    data after as_of are ignored; alerts as alert_list gives them."""
    as_of = as_of_or_today(as_of)
    since = since_day(since, as_of)
    metrics = store.definitions.metrics()
    covered = _coverages(store, metrics, as_of)
    through = [c.data_through for c in covered.values() if c.data_through]
    data_through = max(through) if through else None
    now = seen_on(store, as_of)
    return {
        "as_of": as_of.isoformat(),
        "since": since.isoformat(),
        "data_through": data_through.isoformat() if data_through else None,
        "departments": department_health(now.cards),
        "pinned": pinned_cards(now.cards),
        "goals": now.report["summary"],
        "objectives": now.report["objectives"],
        "alerts": _alerts(store, now, since, metrics, covered),
    }
