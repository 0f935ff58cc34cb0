"""The executive overview: KPI health counts, alerts, stale metrics, and
overview(store) on a small two-department company."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from kpi_logic.domain.model import KPI, KeyResult, Metric
from kpi_logic.metrics import overview
from kpi_logic.metrics.coverage import Coverage, coverage_from_row
from kpi_logic.store import writes
from tests.builders import add_batch, add_daily, add_metrics, add_observations

# ---------------------------------------------------------------- small builders

def kpi(title: str, statuses: list[str], *, review: bool = False, missed: int = 0) -> dict:
    """A scorecard KPI entry with only what the overview reads: monthly history
    from Jan 2025, one status per month, the last one being judged."""
    history = [{"period": f"2025-{i + 1:02d}", "status": s} for i, s in enumerate(statuses)]
    return {"title": title, "status": statuses[-1] if statuses else "no_data",
            "history": history, "review": review, "missed_in_a_row": missed}


def card(department: str, *kpis: dict, period: str = "2025-06") -> dict:
    return {"department": department, "period": period, "kpis": list(kpis)}


def kr(title: str, status: str, progress: float | None = 0.2, expected: float = 0.6) -> dict:
    return {"title": title, "status": status, "progress": progress, "expected": expected}


def covered(rows: list[tuple[str, str, int | None]]) -> dict[str, Coverage]:
    """{metric: Coverage} from (metric, last date, median gap in days), as read from a
    history of ten or more dates with weekends among them."""
    return {name: coverage_from_row(name, date.fromisoformat(last), 10, step, 3)
            for name, last, step in rows}


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


# ---------------------------------------------------------------- kpi_alerts

@pytest.mark.parametrize("statuses, kind, severity, text", [
    # crossing the target in the latest period, either way
    (["healthy", "at_risk"], "kpi_missed", "high", "Marketing: CAC missed its target in Feb 2025"),
    (["healthy", "healthy", "unhealthy"], "kpi_missed", "high",
     "Marketing: CAC missed its target in Mar 2025"),
    (["unhealthy", "healthy"], "kpi_recovered", "low", "Marketing: CAC is back on target in Feb 2025"),
    (["at_risk", "healthy"], "kpi_recovered", "low", "Marketing: CAC is back on target in Feb 2025"),
    # a month without data is skipped: the crossing is between the months with data
    (["healthy", "no_data", "unhealthy"], "kpi_missed", "high",
     "Marketing: CAC missed its target in Mar 2025"),
])
def test_kpi_alerts_report_a_crossing_in_the_latest_period(statuses, kind, severity, text):
    alerts = overview.kpi_alerts([card("Marketing", kpi("CAC", statuses))])
    assert alerts == [{"kind": kind, "severity": severity, "text": text, "department": "Marketing"}]


@pytest.mark.parametrize("statuses", [
    [],                                   # no history at all
    ["unhealthy"],                        # one period: nothing to compare with
    ["healthy", "healthy"],               # steady
    ["unhealthy", "at_risk"],             # still missing: not a new crossing
    ["healthy", "unhealthy", "unhealthy"],  # crossed earlier, not in the latest period
    ["healthy", "no_data"],               # latest period without data is no evidence
    ["healthy", "unhealthy", "no_data"],  # stale now: an old crossing is not news
    ["at_risk", "healthy", "healthy"],    # recovered earlier
])
def test_kpi_alerts_stay_quiet_without_a_new_crossing(statuses):
    assert overview.kpi_alerts([card("Marketing", kpi("CAC", statuses))]) == []


def test_kpi_alerts_on_a_partial_period_speak_of_pace():
    behind = kpi("Calls", ["healthy", "unhealthy"])
    behind["history"][-1]["partial"] = True
    back = kpi("Leads", ["at_risk", "healthy"])
    back["history"][-1]["partial"] = True
    assert [a["text"] for a in overview.kpi_alerts([card("Sales", behind, back)])] == [
        "Sales: Calls is behind pace so far in Feb 2025",
        "Sales: Leads is back on pace so far in Feb 2025"]


def test_kpi_alerts_flag_a_kpi_missed_several_periods_in_a_row_for_review():
    chat = kpi("Chat duration", ["healthy", "unhealthy", "unhealthy", "at_risk", "unhealthy"],
               review=True, missed=4)
    alerts = overview.kpi_alerts([card("Customer service", chat)])
    assert alerts == [{
        "kind": "kpi_review", "severity": "medium", "department": "Customer service",
        "text": "Customer service: Chat duration has missed its target 4 periods in a row: "
                "review the target or act on it"}]


def test_kpi_alerts_cover_every_department_in_order():
    cards = [card("Marketing", kpi("CAC", ["healthy", "at_risk"]), kpi("Traffic", ["healthy"] * 2)),
             card("Sales", kpi("Leads", ["healthy", "unhealthy"]))]
    alerts = overview.kpi_alerts(cards)
    assert [(a["department"], a["text"].split(":")[1].strip()) for a in alerts] == [
        ("Marketing", "CAC missed its target in Feb 2025"),
        ("Sales", "Leads missed its target in Feb 2025")]


def test_kpi_alerts_do_not_mutate_their_input():
    cards = [card("Marketing", kpi("CAC", ["healthy", "no_data", "at_risk"], review=True, missed=3))]
    before = copy.deepcopy(cards)
    overview.kpi_alerts(cards)
    assert cards == before


# ---------------------------------------------------------------- kr_alerts

def test_kr_alerts_name_off_track_key_results_with_progress_and_pace():
    report = {"objectives": [
        {"objective": "Grow recurring revenue", "department": "Sales", "key_results": [
            kr("Book 1,660 demos", "off_track", progress=0.25, expected=0.63),
            kr("Increase MRR from 562k to 656k", "on_track", progress=0.64, expected=0.63)]},
        {"objective": "Keep customers", "department": None, "key_results": [
            kr("Reduce churn from 8% to 5%", "off_track", progress=0.0, expected=0.5)]},
    ]}
    assert overview.kr_alerts(report) == [
        {"kind": "kr_off_track", "severity": "high", "department": "Sales",
         "text": 'Grow recurring revenue: "Book 1,660 demos" is off track (25% done, 63% expected by now)'},
        {"kind": "kr_off_track", "severity": "high", "department": None,
         "text": 'Keep customers: "Reduce churn from 8% to 5%" is off track (0% done, 50% expected by now)'},
    ]


def test_a_key_result_that_missed_is_a_result_to_note_not_a_pace_to_fix():
    ended = {**kr("Cut CAC from $40 to $30", "missed", progress=0.8, expected=1.0),
             "deadline": "2026-09-30"}
    running = {**kr("Win 900 new customers", "off_track", progress=0.2, expected=0.6),
               "deadline": "2026-12-31"}
    report = {"as_of": "2026-11-27", "objectives": [
        {"objective": "Win customers", "department": "Marketing", "key_results": [ended, running]}]}
    assert overview.kr_alerts(report) == [
        {"kind": "kr_missed", "severity": "low", "department": "Marketing",
         "text": 'Win customers: "Cut CAC from $40 to $30" missed its target on 30 Sep 2026 '
                 '(80% of the way)'},
        {"kind": "kr_off_track", "severity": "high", "department": "Marketing",
         "text": 'Win customers: "Win 900 new customers" is off track (20% done, 60% expected '
                 'by now)'}]


@pytest.mark.parametrize("status, progress", [
    ("achieved", 1.0), ("on_track", 0.5), ("at_risk", 0.4), ("no_data", None)])
def test_kr_alerts_ignore_key_results_that_are_not_off_track(status, progress):
    report = {"objectives": [{"objective": "O", "department": "Sales",
                              "key_results": [kr("K", status, progress=progress)]}]}
    assert overview.kr_alerts(report) == []


def test_kr_alerts_on_no_objectives():
    assert overview.kr_alerts({"objectives": []}) == []


# ---------------------------------------------------------------- stale metrics

AS_OF = date(2025, 11, 27)


@pytest.mark.parametrize("last_date, step, stale", [
    # daily data: yesterday and the day before are fine, three days without data is stale
    ("2025-11-26", 1, False),
    ("2025-11-25", 1, False),
    ("2025-11-24", 1, True),
    # a month dated the 1st covers the whole month: October is the latest complete one
    ("2025-10-01", 31, False),
    ("2025-09-01", 31, True),
    # weekly: the last week dated 10 Nov covers through 16 Nov; 1.5 weeks after is 27 Nov
    ("2025-11-10", 7, False),
    ("2025-11-03", 7, True),
    # a single observation has no cadence: treated as daily
    ("2025-11-26", None, False),
    ("2025-11-20", None, True),
])
def test_stale_metrics_waits_one_and_a_half_usual_gaps_after_what_the_data_cover(
        last_date, step, stale):
    result = overview.stale_metrics(covered([("leads", last_date, step)]), {}, AS_OF)
    assert [r["metric"] for r in result] == (["leads"] if stale else [])


def test_stale_metrics_name_department_date_age_and_cadence_oldest_first():
    metrics = {"revenue": Metric("revenue", department="Finance"), "leads": Metric("leads")}
    result = overview.stale_metrics(covered([("leads", "2025-11-26", 1), ("revenue", "2025-08-01", 31),
                                             ("signups", "2025-11-01", 1)]), metrics, AS_OF)
    assert result == [
        {"metric": "revenue", "department": "Finance", "data_through": date(2025, 8, 1),
         "days": 118, "cadence": "monthly"},
        {"metric": "signups", "department": None, "data_through": date(2025, 11, 1),
         "days": 26, "cadence": "daily"}]


def test_stale_metrics_factor_is_adjustable():
    five_days = covered([("leads", "2025-11-22", 1)])
    assert overview.stale_metrics(five_days, {}, AS_OF, factor=4.5) == []
    assert len(overview.stale_metrics(five_days, {}, AS_OF, factor=3.5)) == 1


def test_stale_metrics_skip_metrics_without_data():
    assert overview.stale_metrics({"x": Coverage("x", None, None, None, None)}, {}, AS_OF) == []


def test_stale_alerts_group_the_metrics_of_a_department_in_one_line():
    """A wide import with no department: 23 metrics, one alert, not 23."""
    names = [f"series_{i:02d}" for i in range(23)]
    stale = overview.stale_metrics(covered([(n, "2015-12-01", 31) for n in names]), {}, AS_OF)
    assert overview.stale_alerts(stale) == [
        {"kind": "stale", "severity": "medium", "department": None,
         "text": "No department: 23 metrics have had no new data since 1 Dec 2015 "
                 "(series_00, series_01, series_02, series_03 and 19 more)"}]


def test_stale_alerts_say_since_when_and_how_often_data_usually_arrive():
    metrics = {"revenue": Metric("revenue", department="Finance"),
               "costs": Metric("costs", department="Finance"),
               "signups": Metric("signups", department="Product")}
    stale = overview.stale_metrics(covered([("revenue", "2025-08-01", 30), ("costs", "2025-07-01", 31),
                                            ("signups", "2025-11-01", None)]), metrics, AS_OF)
    assert overview.stale_alerts(stale) == [
        {"kind": "stale", "severity": "medium", "department": "Finance",
         "text": "Finance: 2 metrics have had no new data since 1 Aug 2025 or earlier "
                 "(costs, revenue)"},
        {"kind": "stale", "severity": "medium", "department": "Product",
         "text": "Product: signups has had no new data since 1 Nov 2025 "
                 "(26 days; its only date)"},
    ]


def test_stale_alerts_on_nothing_stale():
    assert overview.stale_alerts([]) == []


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
    view = overview.overview(store, as_of=date(2025, 7, 20))
    assert view["as_of"] == "2025-07-20"
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
    assert view["alerts"] == [
        {"kind": "kpi_missed", "severity": "high", "department": "Marketing",
         "text": "Marketing: Conversion at least 3% missed its target in Jun 2025"},
        {"kind": "kpi_review", "severity": "medium", "department": "Sales",
         "text": "Sales: Leads at least 120 has missed its target 3 periods in a row: "
                 "review the target or act on it"},
        # monthly data dated 1 June are not stale on 20 July; daily leads stopped 1 July are
        {"kind": "stale", "severity": "medium", "department": "Sales",
         "text": "Sales: leads has had no new data since 1 Jul 2025 (19 days; it usually "
                 "arrives daily)"},
        # the Q2 key result's deadline has passed: a result, not a pace to fix
        {"kind": "kr_missed", "severity": "low", "department": "Product",
         "text": 'Delight customers: "Raise NPS from 20 to 40" missed its target on 30 Jun 2025 '
                 "(10% of the way)"},
    ]


def test_overview_alerts_are_sorted_high_to_low(store):
    small_company(store)
    add_definitions(store, "kpis", [KPI("Visitors at least 900", "visitors", 900, "min",
                                      department="Marketing")])
    add_observations(store, "visitors", [("2025-05-01", 800)])     # missed in May, back in June
    severities = [a["severity"] for a in overview.overview(store, as_of=date(2025, 7, 20))["alerts"]]
    assert "low" in severities
    assert severities == sorted(severities, key=overview.SEVERITY_ORDER.get)


def test_overview_of_an_empty_database(store):
    view = overview.overview(store, as_of=date(2025, 7, 20))
    assert view == {"as_of": "2025-07-20", "data_through": None, "departments": [],
                    "pinned": [], "objectives": [], "alerts": [], "goals": {
                        "key_results": 0, "running": 0, "ended": 0, "completion_rate": None,
                        "met_by_deadline_rate": None, "timeline_adherence": None,
                        "checkin_rate": None}}


def test_kpis_and_metrics_without_a_department_are_named_in_one_low_alert_each():
    metrics = {"visits": Metric("visits"), "mrr": Metric("mrr", department="Finance"),
               **{f"m{i}": Metric(f"m{i}") for i in range(6)}}
    kpis = [KPI("Visits up", "visits", 10, "min"), KPI("MRR up", "mrr", 10, "min"),
            KPI("Visits for Sales", "visits", 10, "min", department="Sales")]
    kpi_alert, metric_alert = overview.unassigned_alerts(metrics, kpis)
    assert kpi_alert["severity"] == "low" and kpi_alert["kind"] == "unassigned"
    assert kpi_alert["text"].startswith("1 KPI belongs to no department, so no scorecard shows "
                                        "it: Visits up.")
    assert metric_alert["text"].startswith("7 metrics belong to no department, so no scorecard "
                                           "shows them: m0, m1, m2, m3, m4 and 2 more.")
    assert overview.unassigned_alerts({"mrr": metrics["mrr"]}, kpis[1:]) == []
