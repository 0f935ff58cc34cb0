"""The executive overview: KPI health counts, and overview(store) on a small
two-department company (the alerts' rules: tests/test_alerts.py)."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from kpi_logic.domain.model import KPI, KeyResult
from kpi_logic.metrics import overview
from kpi_logic.metrics.alerts import SEVERITY_ORDER
from kpi_logic.metrics.overview import alert_list
from kpi_logic.store import writes
from tests.builders import add_batch, add_daily, add_metrics, add_observations

# ---------------------------------------------------------------- small builders

def kpi(title: str, statuses: list[str], *, review: bool = False, missed: int = 0) -> dict:
    """A scorecard KPI entry with only what department_health reads: monthly history
    from Jan 2025, one status per month, the last one being judged."""
    history = [{"period": f"2025-{i + 1:02d}", "status": s} for i, s in enumerate(statuses)]
    return {"title": title, "status": statuses[-1] if statuses else "no_data",
            "history": history, "review": review, "missed_in_a_row": missed}


def card(department: str, *kpis: dict, period: str = "2025-06") -> dict:
    return {"department": department, "period": period, "kpis": list(kpis)}


# ---------------------------------------------------------------- department_health

def test_department_health_counts_each_status_per_department():
    cards = [
        card("Marketing", kpi("Conversion", ["healthy"]), kpi("CAC", ["at_risk"]),
             kpi("Traffic", ["healthy"]), kpi("Opens", ["no_data"])),
        card("Sales", kpi("Leads", ["unhealthy"]), period="2025-Q2"),
    ]
    assert overview.department_health(cards) == [
        {"department": "Marketing", "period": "2025-06", "kpis": 4,
         "healthy": 2, "at_risk": 1, "unhealthy": 0, "no_data": 1},
        {"department": "Sales", "period": "2025-Q2", "kpis": 1,
         "healthy": 0, "at_risk": 0, "unhealthy": 1, "no_data": 0},
    ]


@pytest.mark.parametrize("cards, expected", [
    ([], []),
    ([card("HR")], [{"department": "HR", "period": "2025-06", "kpis": 0,
                     "healthy": 0, "at_risk": 0, "unhealthy": 0, "no_data": 0}]),
])
def test_department_health_edge_cases(cards, expected):
    assert overview.department_health(cards) == expected


def test_department_health_does_not_mutate_its_input():
    cards = [card("Marketing", kpi("Conversion", ["healthy", "at_risk"]))]
    before = copy.deepcopy(cards)
    overview.department_health(cards)
    assert cards == before


# ---------------------------------------------------------------- overview(store)

def add_definitions(store, table: str, items: list) -> None:
    writes.upsert_definitions(store.connection, table, items, add_batch(store, kind=table))


def small_company(store) -> None:
    """Marketing: conversion (formula KPI) healthy Jan-May 2025, 2% in June;
    Sales: leads (daily, stopped on 1 July) under target since April;
    Product: NPS with a Q2 key result only, no KPI."""
    add_metrics(store, {
        "visitors": {"department": "Marketing"},
        "buyers": {"department": "Marketing"},
        "conversion": {"department": "Marketing", "unit": "percent", "formula": "buyers / visitors"},
        "leads": {"department": "Sales"},
        "nps": {"department": "Product", "aggregation": "last"},
    })
    months = [f"2025-{m:02d}-01" for m in range(1, 7)]
    add_observations(store, "visitors", [(m, 1000) for m in months])
    add_observations(store, "buyers", [(m, b) for m, b in zip(months, [40, 40, 40, 40, 40, 20], strict=True)])
    # 5 leads a day in Jan-Mar (150ish a month), 2 a day from April on, the last on 1 July
    add_daily(store, "leads", "2025-01-01", [5] * 90 + [2] * 92)
    add_observations(store, "nps", [("2025-04-01", 20), ("2025-06-01", 22)])
    add_definitions(store, "kpis", [
        KPI("Conversion at least 3%", "conversion", 0.03, "min", department="Marketing"),
        KPI("Leads at least 120", "leads", 120, "min", department="Sales"),
    ])
    add_definitions(store, "key_results", [
        KeyResult("Delight customers", "Raise NPS from 20 to 40", "nps", 20, 40,
                  date(2025, 4, 1), date(2025, 6, 30), department="Product"),
    ])


def test_overview_gathers_health_objectives_and_alerts(store):
    small_company(store)
    view = overview.overview(store, as_of=date(2025, 7, 20), since=date(2025, 6, 25))
    assert view["as_of"] == "2025-07-20"
    assert view["since"] == "2025-06-25"
    assert view["data_through"] == "2025-07-01"
    # Product has no KPI: it shows among the objectives, not in the health counts
    assert view["departments"] == [
        {"department": "Marketing", "period": "2025-06", "kpis": 1,
         "healthy": 0, "at_risk": 0, "unhealthy": 1, "no_data": 0},
        {"department": "Sales", "period": "2025-06", "kpis": 1,
         "healthy": 0, "at_risk": 0, "unhealthy": 1, "no_data": 0},
    ]
    [objective] = view["objectives"]
    assert objective["objective"] == "Delight customers"
    assert objective["key_results"][0]["status"] == "missed"
    # the overview's alerts are alert_list's, the same days
    assert view["alerts"] == alert_list(store, as_of=date(2025, 7, 20), since=date(2025, 6, 25))
    assert view["alerts"] == [
        # judged on 25 June: May (4%, healthy); on 20 July: June (2%)
        {"kind": "kpi_worse", "severity": "high", "department": "Marketing",
         "title": "Conversion at least 3%", "since": "2025-06",
         "text": "Marketing: Conversion at least 3% went from healthy in May 2025 to unhealthy "
                 "in Jun 2025"},
        # leads missed in May and in June: no change, but a third month in a row
        {"kind": "kpi_review", "severity": "medium", "department": "Sales",
         "title": "Leads at least 120", "since": "2025-04",
         "text": "Sales: Leads at least 120 has missed its target 3 periods in a row since "
                 "Apr 2025: review the target or act on it"},
        # monthly data dated 1 June are not stale on 20 July; daily leads stopped 1 July are
        {"kind": "stale", "severity": "medium", "department": "Sales", "title": "Sales",
         "since": "2025-07-01",
         "text": "Sales: leads has had no new data since 1 Jul 2025 (19 days; it usually "
                 "arrives daily)"},
        # the Q2 key result's deadline passed after 25 June: a result, not a pace to fix
        {"kind": "kr_missed", "severity": "low", "department": "Product",
         "title": "Raise NPS from 20 to 40", "since": "2025-06-30",
         "text": 'Delight customers: "Raise NPS from 20 to 40" missed its target on 30 Jun 2025 '
                 "(10% of the way)"},
    ]


def test_overview_alerts_are_sorted_high_to_low(store):
    small_company(store)
    add_definitions(store, "kpis", [KPI("Visitors at least 900", "visitors", 900, "min",
                                      department="Marketing")])
    add_observations(store, "visitors", [("2025-05-01", 800)])     # missed in May, back in June
    severities = [a["severity"] for a in overview.overview(store, as_of=date(2025, 7, 20),
                                                           since=date(2025, 6, 25))["alerts"]]
    assert "low" in severities and "high" in severities
    assert severities == sorted(severities, key=SEVERITY_ORDER.get)


def test_overview_of_an_empty_database(store):
    view = overview.overview(store, as_of=date(2025, 7, 20))
    assert view == {"as_of": "2025-07-20", "since": "2025-07-13", "data_through": None,
                    "departments": [], "pinned": [], "objectives": [], "alerts": [], "goals": {
                        "key_results": 0, "running": 0, "ended": 0, "completion_rate": None,
                        "met_by_deadline_rate": None, "timeline_adherence": None,
                        "checkin_rate": None}}
