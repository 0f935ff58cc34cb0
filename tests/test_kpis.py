"""KPI status rules, misses in a row, per-period targets and the scorecard."""
from __future__ import annotations

import json
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, Metric, Target
from kpi_logic.domain.periods import parse_period
from kpi_logic.metrics import kpis
from kpi_logic.metrics.coverage import Coverage
from kpi_logic.store import writes
from tests.builders import add_batch, add_daily, add_metric, add_metrics, add_observations


@pytest.mark.parametrize("value, target, kind, tolerance, status", [
    # DOMAIN worked example: CAC at most $50, tolerance 10%
    (50, 50, "max", 0.10, "healthy"),
    (54, 50, "max", 0.10, "at_risk"),
    (56, 50, "max", 0.10, "unhealthy"),
    (40, 50, "max", 0.10, "healthy"),
    (55, 50, "max", 0.10, "at_risk"),        # exactly at the edge of the band
    # conversion at least 3%
    (0.03, 0.03, "min", 0.10, "healthy"),
    (0.031, 0.03, "min", 0.10, "healthy"),
    (0.027, 0.03, "min", 0.10, "at_risk"),   # edge, despite float noise
    (0.0269, 0.03, "min", 0.10, "unhealthy"),
    (0.029, 0.03, "min", 0.0, "unhealthy"),  # no tolerance: any miss is unhealthy
    (0.029, 0.03, "min", 0.5, "at_risk"),    # a wide tolerance set on the KPI
    # target 0: no relative band, any miss is unhealthy
    (0, 0, "max", 0.10, "healthy"),
    (0.001, 0, "max", 0.10, "unhealthy"),
    (-5, 0, "max", 0.10, "healthy"),
    (-0.001, 0, "min", 0.10, "unhealthy"),
    # negative target: band relative to its size (cash flow at least -100)
    (-105, -100, "min", 0.10, "at_risk"),
    (-120, -100, "min", 0.10, "unhealthy"),
    (-90, -100, "min", 0.10, "healthy"),
    # no data
    (None, 50, "max", 0.10, "no_data"),
    (float("nan"), 50, "max", 0.10, "no_data"),
    (50, None, "max", 0.10, "no_data"),
    (pd.NA, 50, "max", 0.10, "no_data"),
    (np.float32("nan"), 50, "max", 0.10, "no_data"),
    (math.inf, 50, "max", 0.10, "no_data"),      # not a measured value (was "unhealthy")
    (50, -math.inf, "min", 0.10, "no_data"),     # (was "healthy")
])
def test_kpi_status(value, target, kind, tolerance, status):
    assert kpis.kpi_status(value, target, kind, tolerance) == status


def test_kpi_status_default_tolerance_is_ten_percent():
    assert kpis.kpi_status(54, 50, "max") == "at_risk"
    assert kpis.kpi_status(56, 50, "max") == "unhealthy"


@pytest.mark.parametrize("tolerance", [None, float("nan"), pd.NA, math.inf])
def test_kpi_status_without_a_usable_tolerance_uses_ten_percent(tolerance):
    assert kpis.kpi_status(54, 50, "max", tolerance) == "at_risk"
    assert kpis.kpi_status(56, 50, "max", tolerance) == "unhealthy"


@pytest.mark.parametrize("kind, tolerance", [("at_least", 0.1), ("min", -0.1)])
def test_kpi_status_refuses_bad_definitions(kind, tolerance):
    with pytest.raises(ValueError):
        kpis.kpi_status(1, 2, kind, tolerance)


@pytest.mark.parametrize("statuses, missed", [
    ([], 0),
    (["healthy"], 0),
    (["unhealthy"], 1),
    (["healthy", "at_risk", "unhealthy", "at_risk"], 3),
    (["unhealthy", "unhealthy", "healthy"], 0),
    (["unhealthy", "no_data", "unhealthy"], 1),     # no data breaks the run
    (["at_risk", "at_risk", "at_risk", "at_risk", "at_risk"], 5),
])
def test_missed_in_a_row_counts_latest_misses(statuses, missed):
    assert kpis.missed_in_a_row(statuses) == missed


def test_missed_in_a_row_takes_any_iterable():
    assert kpis.missed_in_a_row(iter(["healthy", "unhealthy"])) == 1


@pytest.mark.parametrize("missed, review", [(0, False), (2, False), (3, True), (7, True)])
def test_needs_review_from_three_misses(missed, review):
    assert kpis.REVIEW_AFTER_MISSES == 3
    assert kpis.needs_review(missed) is review


CAC = KPI(title="CAC under control", metric="cac", target=50, target_kind="max")


@pytest.mark.parametrize("label, targets, expected", [
    ("2025-03", [], 50),
    ("2025-03", [Target("CAC under control", "2025-03", 45)], 45),
    ("2025-04", [Target("CAC under control", "2025-03", 45)], 50),
    ("2025-03", [Target("cac", "2025-03", 40)], 40),                      # by metric name
    ("2025-03", [Target("cac", "2025-03", 40), Target("CAC under control", "2025-03", 45)], 45),
    ("2025-03", [Target("Other KPI", "2025-03", 1)], 50),
    ("2025-Q1", [Target("CAC under control", "2025-03", 45)], 50),        # other grain: no match
])
def test_target_for_prefers_the_period_target(label, targets, expected):
    assert kpis.target_for(CAC, label, targets) == expected


# ---------------------------------------------------------------- periods

D = date.fromisoformat


@pytest.mark.parametrize("grain, as_of, expected", [
    ("month", "2025-04-01", "2025-03-01"),          # March ended yesterday: complete
    ("month", "2025-03-31", "2025-02-01"),          # 31 March's data not in yet
    ("month", "2025-04-15", "2025-03-01"),          # April still running
    ("month", "2025-11-27", "2025-10-01"),          # whatever the data reach: stale KPIs say so
    ("quarter", "2025-05-16", "2025-01-01"),
    ("quarter", "2025-04-01", "2025-01-01"),
    ("year", "2025-01-01", "2024-01-01"),
])
def test_default_period_start_is_latest_complete_period(grain, as_of, expected):
    assert kpis.default_period_start(grain, D(as_of)) == D(expected)


@pytest.mark.parametrize("kpi_grain, shown, as_of, expected", [
    # complete period shown: latest complete period of the KPI's grain ending by its end
    ("month", "2025-03", "2025-06-01", "2025-03-01"),
    ("quarter", "2025-03", "2025-06-01", "2025-01-01"),
    ("quarter", "2025-02", "2025-06-01", "2024-10-01"),
    ("year", "2025-03", "2025-06-01", "2024-01-01"),
    ("month", "2025-Q1", "2025-06-01", "2025-03-01"),
    ("year", "2024-Q4", "2025-06-01", "2024-01-01"),
    # the running period shown: each grain's period holding the latest day so far
    ("month", "2025-05", "2025-05-16", "2025-05-01"),
    ("quarter", "2025-05", "2025-05-16", "2025-04-01"),
    ("month", "2025-Q2", "2025-05-16", "2025-05-01"),
    ("year", "2025-05", "2025-05-16", "2025-01-01"),
    ("month", "2025-05", "2025-05-01", "2025-05-01"),     # first day: nothing in yet, still May
])
def test_judged_period_start_maps_the_shown_period_to_each_grain(kpi_grain, shown, as_of, expected):
    _, start, end = parse_period(shown)
    assert kpis.judged_period_start(kpi_grain, start, end, D(as_of)) == D(expected)


def test_window_for_a_month_covers_thirteen_months():
    window = kpis.window_for("month", D("2025-03-01"), D("2025-04-01"))
    assert window.labels[0] == "2024-03" and window.labels[-1] == "2025-03"
    assert len(window.labels) == kpis.HISTORY_PERIODS
    assert (window.previous_label, window.last_year_label, window.running) == ("2025-02", "2024-03", False)


@pytest.mark.parametrize("grain, start, as_of, labels, running", [
    ("quarter", "2025-01-01", "2025-04-01", ("2022-Q1", "2024-Q4", "2024-Q1", "2025-Q1"), False),
    ("quarter", "2025-04-01", "2025-05-16", ("2022-Q2", "2025-Q1", "2024-Q2", "2025-Q2"), True),
    ("year", "2024-01-01", "2025-01-01", ("2012", "2023", "2023", "2024"), False),
])
def test_window_for_other_grains(grain, start, as_of, labels, running):
    window = kpis.window_for(grain, D(start), D(as_of))
    assert (window.labels[0], window.previous_label, window.last_year_label, window.labels[-1]) == labels
    assert window.running is running


@pytest.mark.parametrize("value, before, expected", [
    (120, 100, {"abs": 20, "pct": 0.2}),
    (-0.438, 0.049, {"abs": -0.487, "pct": None}),  # across zero: points only, no percent
    (80, 100, {"abs": -20, "pct": -0.2}),
    (5000, 0, {"abs": 5000, "pct": None}),        # DOMAIN: from 0 the relative change is undefined
    (-50, -100, {"abs": 50, "pct": 0.5}),         # better than a negative base: positive change
    (None, 100, {"abs": None, "pct": None}),
    (100, None, {"abs": None, "pct": None}),
])
def test_change(value, before, expected):
    got = kpis.change(value, before, "2025-02")
    assert got["label"] == "2025-02"
    assert got["abs"] == pytest.approx(expected["abs"]) if expected["abs"] is not None else got["abs"] is None
    assert got["pct"] == pytest.approx(expected["pct"]) if expected["pct"] is not None else got["pct"] is None


# ---------------------------------------------------------------- scorecard

def add_definitions(store, table, items):
    writes.upsert_definitions(store.connection, table, list(items), add_batch(store, kind=table))


def marketing(store, *, targets=()):
    """Monthly Marketing history (rows dated the 1st) with two KPIs and two plain metrics."""
    add_metrics(store, {
        "visitors": {"department": "Marketing"},
        "purchases": {"department": "Marketing"},
        "conversion_rate": {"department": "Marketing", "unit": "percent",
                            "formula": "purchases / visitors"},
        "spend": {"department": "Marketing", "unit": "currency"},
        "new_customers": {"department": "Marketing"},
        "cac": {"department": "Marketing", "unit": "currency", "direction": "down",
                "formula": "spend / new_customers", "description": "spend per new customer"},
        "page_views": {"department": "Marketing"},
        "mrr": {"department": "Sales", "aggregation": "last", "unit": "currency"},
    })
    months = ["2024-03-01", "2025-01-01", "2025-02-01", "2025-03-01"]
    for metric, values in {"visitors": [1000, 1000, 1000, 2000], "purchases": [20, 40, 25, 54],
                           "spend": [4000, 5000, 5400, 5600],
                           "new_customers": [100, 100, 100, 100]}.items():
        add_observations(store, metric, list(zip(months, values, strict=True)))
    add_observations(store, "page_views", [("2025-02-01", 0), ("2025-03-01", 500)])
    add_observations(store, "mrr", [("2025-03-01", 100), ("2025-03-28", 120)])
    add_definitions(store, "kpis", [
        KPI("Conversion at least 3%", "conversion_rate", 0.03, "min", department="Marketing"),
        KPI("CAC at most $50", "cac", 50, "max", department="Marketing", supporting=("spend",)),
    ])
    add_definitions(store, "targets", targets)


def card(result, title):
    return next(k for k in result["kpis"] if k["title"] == title)


def test_scorecard_judges_each_kpi_on_the_month(store):
    marketing(store)
    result = kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15))
    assert (result["department"], result["period"], result["partial"]) == ("Marketing", "2025-03", False)
    conversion = card(result, "Conversion at least 3%")
    assert conversion["value"] == pytest.approx(0.027)          # 54 / 2000 from the summed parts
    assert (conversion["target"], conversion["status"]) == (0.03, "at_risk")
    assert conversion["missed_in_a_row"] == 2 and conversion["review"] is False
    assert conversion["vs_previous"] == pytest.approx({"abs": 0.002, "pct": 0.08, "label": "2025-02",
                                                        "base": 0.025})
    assert conversion["vs_last_year"] == pytest.approx({"abs": 0.007, "pct": 0.35, "label": "2024-03",
                                                        "base": 0.02})
    assert conversion["definition"] == {"formula": "purchases / visitors", "aggregation": "sum",
                                        "description": ""}
    cac = card(result, "CAC at most $50")
    assert [(h["period"], h["value"], h["status"]) for h in cac["history"][-3:]] == [
        ("2025-01", 50, "healthy"), ("2025-02", 54, "at_risk"), ("2025-03", 56, "unhealthy")]
    assert (cac["unit"], cac["direction"], cac["target_kind"]) == ("currency", "down", "max")


def test_scorecard_history_has_thirteen_periods_with_gaps_as_no_data(store):
    marketing(store)
    history = card(kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15)),
                   "CAC at most $50")["history"]
    assert [h["period"] for h in history] == [f"2024-{m:02d}" for m in range(3, 13)] + \
        ["2025-01", "2025-02", "2025-03"]
    assert history[1] == {"period": "2024-04", "value": None, "target": 50, "status": "no_data",
                          "partial": False}


def test_per_period_target_overrides_the_default(store):
    marketing(store, targets=[Target("Conversion at least 3%", "2025-03", 0.025)])
    result = kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15))
    conversion = card(result, "Conversion at least 3%")
    assert (conversion["target"], conversion["status"], conversion["missed_in_a_row"]) == \
        (0.025, "healthy", 0)
    assert conversion["history"][-2]["target"] == 0.03


def test_scorecard_default_period_is_latest_complete_month(store):
    marketing(store)
    result = kpis.scorecard(store, "marketing", as_of=date(2025, 4, 15))
    assert (result["department"], result["period"], result["partial"]) == ("Marketing", "2025-03", False)
    result = kpis.scorecard(store, "Marketing", as_of=date(2025, 3, 31))
    assert result["period"] == "2025-02"


def test_scorecard_lists_plain_metrics_with_changes(store):
    marketing(store)
    result = kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15))
    assert [m["metric"] for m in result["metrics"]] == ["page_views"]   # the rest feed a KPI
    views = result["metrics"][0]
    assert (views["value"], views["period"]) == (500, "2025-03")
    assert views["vs_previous"] == {"abs": 500, "pct": None, "label": "2025-02",
                                   "base": 0}   # from 0: "new"
    assert views["history"][-2:] == [{"period": "2025-02", "value": 0}, {"period": "2025-03", "value": 500}]


def test_scorecard_of_a_department_without_kpis_shows_its_metrics(store):
    marketing(store)
    result = kpis.scorecard(store, "Sales", "2025-03", as_of=date(2025, 4, 15))
    assert result["kpis"] == []
    assert [(m["metric"], m["value"]) for m in result["metrics"]] == [("mrr", 120)]   # last, not sum


def test_scorecard_refuses_unknown_department_listing_known_ones(store):
    marketing(store)
    with pytest.raises(InputError, match="Known departments: Marketing, Sales"):
        kpis.scorecard(store, "Finance")


@pytest.mark.parametrize("period, message", [
    ("2025-03-05", "month, quarter or year"),
    ("2025-W10", "month, quarter or year"),
    ("March", "not a period"),
    ("2025-06", "starts after 2025-04-15"),
])
def test_scorecard_refuses_bad_periods(store, period, message):
    marketing(store)
    with pytest.raises(InputError, match=message):
        kpis.scorecard(store, "Marketing", period, as_of=date(2025, 4, 15))


def test_running_month_is_partial_and_compared_like_for_like(store):
    add_metric(store, "leads", department="Sales")
    add_daily(store, "leads", "2025-03-01", [4] * 31)
    add_daily(store, "leads", "2025-04-01", [5] * 10)
    add_definitions(store, "kpis", [KPI("Leads", "leads", 100, "min", department="Sales")])
    result = kpis.scorecard(store, "Sales", "2025-04", as_of=date(2025, 4, 11))
    leads = card(result, "Leads")
    assert result["partial"] is True and leads["partial"] is True
    assert leads["value"] == 50
    # 10 April days against 1-10 March (40), not against all of March (124)
    assert leads["vs_previous"] == pytest.approx({"abs": 10, "pct": 0.25, "label": "2025-03",
                                                   "base": 40})
    # On pace: 50 in 10 of 30 days against 100 x 10/30 = 33.3, on course for 150 (not a miss
    # of the whole month's target)
    assert leads["status"] == "healthy" and leads["missed_in_a_row"] == 0   # March was met
    assert leads["pace"] == pytest.approx({"share": 1 / 3, "target": 100 / 3, "projected": 150})
    assert (leads["data_through"], leads["covered_through"], leads["cadence"]) == \
        ("2025-04-10", "2025-04-10", "daily")


def test_quarterly_kpi_is_judged_on_its_quarter(store):
    add_metric(store, "revenue", department="Finance", unit="currency")
    add_observations(store, "revenue", [("2024-10-01", 10), ("2024-11-01", 10), ("2024-12-01", 10),
                                      ("2025-01-01", 20), ("2025-02-01", 20), ("2025-03-01", 20)])
    add_definitions(store, "kpis", [
        KPI("Quarterly revenue", "revenue", 50, "min", period="quarter", department="Finance"),
        KPI("Monthly revenue", "revenue", 15, "min", department="Finance")])
    result = kpis.scorecard(store, "Finance", "2025-02", as_of=date(2025, 6, 1))
    assert result["period"] == "2025-02"
    quarterly, monthly = card(result, "Quarterly revenue"), card(result, "Monthly revenue")
    assert (quarterly["period"], quarterly["value"], quarterly["status"]) == ("2024-Q4", 30, "unhealthy")
    assert (monthly["period"], monthly["value"], monthly["status"]) == ("2025-02", 20, "healthy")
    assert card(kpis.scorecard(store, "Finance", "2025-Q1", as_of=date(2025, 6, 1)),
                "Quarterly revenue")["value"] == 60


def test_kpi_missing_three_periods_in_a_row_is_flagged_for_review(store):
    add_metric(store, "churn", department="Product", direction="down", unit="percent", aggregation="last")
    add_observations(store, "churn", [("2025-01-01", 0.04), ("2025-02-01", 0.06),
                                    ("2025-03-01", 0.07), ("2025-04-01", 0.08)])
    add_definitions(store, "kpis", [KPI("Churn", "churn", 0.05, "max", department="Product")])
    churn = card(kpis.scorecard(store, "Product", "2025-04", as_of=date(2025, 5, 2)), "Churn")
    assert (churn["missed_in_a_row"], churn["review"]) == (3, True)


@pytest.mark.parametrize("count, flagged", [(7, False), (8, True)])
def test_too_many_kpis_in_a_department_is_flagged(store, count, flagged):
    add_metric(store, "calls", department="Sales")
    add_definitions(store, "kpis", [KPI(f"Calls {i}", "calls", i, "min", department="Sales")
                                  for i in range(count)])
    result = kpis.scorecard(store, "Sales", as_of=date(2025, 4, 1))
    assert (result["too_many_kpis"], len(result["kpis"])) == (flagged, count)


def test_scorecard_rolls_up_once_for_all_monthly_metrics(store, monkeypatch):
    marketing(store)
    calls = []
    real = kpis.rolled_up
    monkeypatch.setattr(kpis, "rolled_up", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15))
    assert len(calls) == 1
    assert set(calls[0]) == {"conversion_rate", "cac", "page_views"}


def test_scorecard_is_json_ready(store):
    marketing(store)
    result = kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15))
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_kpi_over_an_undefined_metric_shows_no_data(store):
    marketing(store)
    add_definitions(store, "kpis", [KPI("Ghost", "not_defined", 1, "min", department="Marketing")])
    ghost = card(kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 4, 15)), "Ghost")
    assert (ghost["value"], ghost["status"], ghost["missed_in_a_row"]) == (None, "no_data", 0)


def test_kpi_card_from_values_by_label_does_not_mutate_its_inputs():
    window = kpis.window_for("month", date(2025, 3, 1), date(2025, 4, 1))
    values = {"2025-01": 60.0, "2025-02": 58.0, "2025-03": 45.0}
    targets = [Target("CAC under control", "2025-03", 45)]
    before = (dict(values), list(targets))
    coverage = Coverage("cac", D("2025-03-01"), D("2025-03-31"), "month", 31)
    entry = kpis.kpi_card(CAC, Metric("cac", unit="currency", direction="down"), window,
                          kpis.Judged(values, (58.0, None), coverage), targets)
    assert (values, targets) == before
    assert [h["status"] for h in entry["history"][-3:]] == ["unhealthy", "unhealthy", "healthy"]
    assert (entry["value"], entry["target"], entry["status"], entry["missed_in_a_row"]) == \
        (45.0, 45, "healthy", 0)
    assert entry["vs_previous"] == {"abs": -13.0, "pct": -13 / 58, "label": "2025-02",
                                   "base": 58.0}
    assert entry["vs_last_year"] == {"abs": None, "pct": None, "label": "2024-03", "base": None}


def test_running_month_with_monthly_data_is_compared_whole(store):
    marketing(store)     # rows dated the 1st: March's row is all of March
    result = kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 3, 20))
    conversion = card(result, "Conversion at least 3%")
    assert result["partial"] is True and conversion["partial"] is False
    assert conversion["vs_previous"] == pytest.approx({"abs": 0.002, "pct": 0.08, "label": "2025-02",
                                                        "base": 0.025})
    assert conversion["missed_in_a_row"] == 2


# ---------------------------------------------------------------- coverage: partial, stale, pace

@pytest.fixture
def calls(store):
    """DOMAIN worked example: 50 calls a day from 1 Jan 2025, stopping on 10 March;
    KPI at least 1,000 calls a month."""
    add_metric(store, "calls", department="Sales")
    add_daily(store, "calls", "2025-01-01", [50] * 69)
    add_definitions(store, "kpis", [KPI("Calls", "calls", 1000, "min", department="Sales")])
    return store


def test_kpi_whose_data_stopped_before_the_judged_period_is_stale(calls):
    result = kpis.scorecard(calls, "Sales", as_of=date(2025, 6, 15))
    entry = card(result, "Calls")
    assert result["period"] == "2025-05"
    assert (entry["status"], entry["stale"], entry["partial"], entry["value"]) == \
        ("no_data", True, False, None)
    assert (entry["data_through"], entry["cadence"]) == ("2025-03-10", "daily")
    assert entry["vs_previous"]["abs"] is None and entry["review"] is False


def test_period_the_data_leave_early_is_partial_and_compared_like_for_like(calls):
    entry = card(kpis.scorecard(calls, "Sales", "2025-03", as_of=date(2025, 6, 15)), "Calls")
    assert (entry["partial"], entry["stale"], entry["value"]) == (True, False, 500)
    # 1-10 February also 500: flat, not "-64%" against all of February
    assert entry["vs_previous"] == {"abs": 0.0, "pct": 0.0, "label": "2025-02", "base": 500}
    assert entry["status"] == "healthy"           # 500 against 1,000 x 10/31
    assert entry["pace"]["target"] == pytest.approx(1000 * 10 / 31)
    assert entry["history"][-2] == {"period": "2025-02", "value": 1400, "target": 1000,
                                    "status": "healthy", "partial": False}


def test_running_period_is_judged_on_pace(store):
    """DOMAIN: 10 March, data through 10 March, 350 calls so far: the pro-rated target is
    1,000 x 10/31 = 323, so on pace, on course for about 1,085."""
    add_metric(store, "calls", department="Sales")
    add_daily(store, "calls", "2025-02-01", [40] * 28 + [35] * 10)
    add_definitions(store, "kpis", [KPI("Calls", "calls", 1000, "min", department="Sales")])
    entry = card(kpis.scorecard(store, "Sales", "2025-03", as_of=date(2025, 3, 11)), "Calls")
    assert (entry["value"], entry["partial"], entry["status"]) == (350, True, "healthy")
    assert entry["pace"]["target"] == pytest.approx(322.58, abs=0.01)
    assert round(entry["pace"]["projected"]) == 1085
    assert entry["missed_in_a_row"] == 0


def test_running_period_behind_pace_is_a_miss_of_the_pro_rated_target(store):
    add_metric(store, "calls", department="Sales")
    add_daily(store, "calls", "2025-03-01", [30] * 10)            # 300 of 322.6: 7% short
    add_daily(store, "calls", "2025-04-01", [20] * 10)            # 200 of 333.3: 40% short
    add_definitions(store, "kpis", [KPI("Calls", "calls", 1000, "min", department="Sales")])
    march = card(kpis.scorecard(store, "Sales", "2025-03", as_of=date(2025, 3, 11)), "Calls")
    april = card(kpis.scorecard(store, "Sales", "2025-04", as_of=date(2025, 4, 11)), "Calls")
    assert (march["status"], april["status"]) == ("at_risk", "unhealthy")


def test_a_rate_in_a_partial_period_is_judged_as_it_stands_not_paced(store):
    add_metrics(store, {"visitors": {"department": "Marketing"}, "buyers": {"department": "Marketing"},
                      "conversion": {"department": "Marketing", "unit": "percent",
                                     "formula": "buyers / visitors"}})
    add_daily(store, "visitors", "2025-03-01", [100] * 10)
    add_daily(store, "buyers", "2025-03-01", [2] * 10)
    add_definitions(store, "kpis", [KPI("Conversion", "conversion", 0.03, "min", department="Marketing")])
    entry = card(kpis.scorecard(store, "Marketing", "2025-03", as_of=date(2025, 3, 11)), "Conversion")
    assert entry["partial"] and entry["pace"] is None
    assert (entry["value"], entry["status"]) == (pytest.approx(0.02), "unhealthy")


def test_stale_kpis_count_in_no_health_total_and_months_old_data_are_not_healthy(store):
    add_metric(store, "mrr", department="Sales", aggregation="last", unit="currency")
    add_observations(store, "mrr", [(f"2025-{m:02d}-01", 1000 + m) for m in range(1, 7)])
    add_definitions(store, "kpis", [KPI("MRR", "mrr", 500, "min", department="Sales")])
    fresh = card(kpis.scorecard(store, "Sales", as_of=date(2025, 7, 2)), "MRR")
    assert (fresh["period"], fresh["status"], fresh["stale"]) == ("2025-06", "healthy", False)
    later = card(kpis.scorecard(store, "Sales", as_of=date(2025, 12, 20)), "MRR")
    assert (later["period"], later["status"], later["stale"], later["data_through"]) == \
        ("2025-11", "no_data", True, "2025-06-01")


def test_monthly_data_not_in_yet_make_the_month_stale_not_a_miss(store):
    """Rows dated the 1st: on 5 April, March's row has not arrived."""
    add_metric(store, "revenue", department="Finance", unit="currency")
    add_observations(store, "revenue", [("2025-01-01", 100), ("2025-02-01", 110)])
    add_definitions(store, "kpis", [KPI("Revenue", "revenue", 105, "min", department="Finance")])
    entry = card(kpis.scorecard(store, "Finance", as_of=date(2025, 4, 5)), "Revenue")
    assert (entry["period"], entry["status"], entry["stale"]) == ("2025-03", "no_data", True)
    assert entry["history"][-2]["status"] == "healthy"


def test_scorecard_json_carries_data_through_for_every_kpi(calls):
    result = kpis.scorecard(calls, "Sales", "2025-03", as_of=date(2025, 6, 15))
    assert result["data_through"] == "2025-03-10" and result["partial"] is True
    assert all(k["data_through"] == "2025-03-10" for k in result["kpis"])
    assert json.loads(json.dumps(result, allow_nan=False)) == result


@settings(max_examples=40, deadline=None)
@given(data_end=hst.dates(date(2024, 3, 1), date(2025, 12, 20)), lag=hst.integers(1, 150),
       per_day=hst.integers(1, 60))
def test_the_judged_month_is_complete_partial_or_stale_as_the_data_end_says(data_end, lag, per_day):
    """Daily data from 1 Jan 2024 to data_end, looked at lag days later: the latest
    month that ended is complete when the data reach its end, partial (judged on pace,
    like-for-like) when they end inside it, stale (no data) when they end before it."""
    from kpi_logic.domain.periods import parse_period
    from kpi_logic.store import memory_store
    store = memory_store()
    try:
        add_metric(store, "calls", department="Sales")
        add_daily(store, "calls", "2024-01-01", [per_day] * ((data_end - date(2024, 1, 1)).days + 1))
        add_definitions(store, "kpis", [KPI("Calls", "calls", 20 * per_day, "min", department="Sales")])
        as_of = data_end + timedelta(days=lag)
        entry = card(kpis.scorecard(store, "Sales", as_of=as_of), "Calls")
        _, start, end = parse_period(entry["period"])
        length = (end - start).days + 1
        if data_end >= end:
            assert (entry["partial"], entry["stale"], entry["value"]) == (False, False, per_day * length)
            assert entry["status"] == "healthy" and entry["pace"] is None
        elif data_end >= start:
            covered = (data_end - start).days + 1
            assert (entry["partial"], entry["stale"], entry["value"]) == (True, False, per_day * covered)
            assert entry["pace"]["target"] == pytest.approx(20 * per_day * covered / length)
            assert entry["status"] == kpis.kpi_status(entry["value"], entry["pace"]["target"], "min")
            # the same days of the month before (all of it, when it is shorter)
            before = start - timedelta(days=1)
            assert entry["vs_previous"]["abs"] == per_day * (covered - min(covered, before.day))
        else:
            assert (entry["partial"], entry["stale"], entry["status"]) == (False, True, "no_data")
            assert entry["value"] is None
        assert entry["data_through"] == data_end.isoformat()
    finally:
        store.close()
