"""Key result progress, pace and status; objective progress; the OKR report."""
from __future__ import annotations

import json
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KeyResult, Metric
from kpi_logic.metrics import okrs
from kpi_logic.store import writes
from tests.builders import add_batch, add_daily, add_metric, add_metrics, add_observations


@pytest.mark.parametrize("current, start, target, clamped, raw", [
    # DOMAIN worked example: cut first response time from 10 h to 4 h
    (7, 10, 4, 0.5, 0.5),
    (3, 10, 4, 1.0, 7 / 6),
    (12, 10, 4, 0.0, -1 / 3),
    (4, 10, 4, 1.0, 1.0),
    # increasing: NPS from 20 to 40
    (30, 20, 40, 0.5, 0.5),
    (20, 20, 40, 0.0, 0.0),
    (50, 20, 40, 1.0, 1.5),
    # negative numbers: operating cash flow from -100 to 0
    (-25, -100, 0, 0.75, 0.75),
])
def test_kr_progress_clamps_and_keeps_raw(current, start, target, clamped, raw):
    got_clamped, got_raw = okrs.kr_progress(current, start, target)
    assert got_clamped == pytest.approx(clamped)
    assert got_raw == pytest.approx(raw)


@pytest.mark.parametrize("current", [None, float("nan"), np.float32("nan"), pd.NA, math.inf])
def test_kr_progress_without_current_value_is_none(current):
    assert okrs.kr_progress(current, 10, 4) == (None, None)


def test_kr_progress_refuses_start_equal_to_target():
    with pytest.raises(InputError, match="different"):
        okrs.kr_progress(5, 20, 20)


@pytest.mark.parametrize("as_of, expected", [
    (date(2025, 5, 16), 0.5),           # DOMAIN worked example: about half way
    (date(2025, 4, 1), 0.0),
    (date(2025, 3, 1), 0.0),            # before the start: clamped
    (date(2025, 6, 30), 1.0),
    (date(2025, 8, 1), 1.0),            # after the deadline: clamped
])
def test_expected_progress_is_elapsed_share(as_of, expected):
    assert okrs.expected_progress(date(2025, 4, 1), date(2025, 6, 30), as_of) == pytest.approx(expected)


@pytest.mark.parametrize("as_of, expected", [(date(2025, 3, 31), 0.0), (date(2025, 4, 1), 1.0)])
def test_expected_progress_of_a_one_day_window(as_of, expected):
    assert okrs.expected_progress(date(2025, 4, 1), date(2025, 4, 1), as_of) == expected


@pytest.mark.parametrize("raw, ended, status", [
    (1.0, True, "achieved"), (1.4, True, "achieved"), (0.99, True, "missed"), (-0.5, True, "missed"),
    (None, True, "no_data"), (0.2, False, "off_track"),
])
def test_an_ended_key_result_is_achieved_or_missed(raw, ended, status):
    assert okrs.kr_status(raw, 1.0, ended) == status


@pytest.mark.parametrize("raw, expected, status", [
    (None, 0.5, "no_data"),
    (float("nan"), 0.5, "no_data"),
    (1.0, 0.2, "achieved"),
    (7 / 6, 0.5, "achieved"),           # overshoot of a decreasing KR
    (0.2, 0.5, "off_track"),            # DOMAIN worked example: behind pace
    (0.5, 0.5, "on_track"),
    (0.9, 0.5, "on_track"),             # ahead of pace
    (0.45, 0.5, "on_track"),            # within the slack
    (0.44, 0.5, "at_risk"),
    (0.35, 0.5, "at_risk"),             # at the edge of the band
    (0.34, 0.5, "off_track"),
    (-0.3, 0.1, "off_track"),           # going backwards
    (0.0, 0.0, "on_track"),             # just started
])
def test_kr_status(raw, expected, status):
    assert okrs.kr_status(raw, expected) == status


@pytest.mark.parametrize("progress, weights, expected", [
    ([0.5, 1.0], None, 0.75),
    ([0.5, 1.0, None], None, 0.75),     # no data: left out, not counted as 0
    ([0.0, 1.0], [3, 1], 0.25),
    ([1.5, -0.2], None, 0.5),           # raw values given by mistake are clamped
    ([0.2, 0.6], [0, 0], 0.4),          # all weights zero: plain mean
    ([None, None], None, None),
    ([0.5, float("nan"), pd.NA, math.inf], None, 0.5),   # inf is no data, not a reached target
    ([], None, None),
])
def test_objective_progress_is_weighted_mean_of_clamped_progress(progress, weights, expected):
    got = okrs.objective_progress(progress, weights)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize("weights", [[1.0], [1.0, -1.0]])
def test_objective_progress_refuses_bad_weights(weights):
    with pytest.raises(ValueError):
        okrs.objective_progress([0.5, 0.5], weights)


# ---------------------------------------------------------------- current values

def daily_frame(rows):
    return pd.DataFrame({"period": [date.fromisoformat(d) for d, _ in rows],
                         "value": [float(v) for _, v in rows]})


DAILY = {"visitors": daily_frame([("2025-04-01", 200), ("2025-04-02", 1800), ("2025-04-03", 100)]),
         "buyers": daily_frame([("2025-04-01", 20), ("2025-04-02", 18), ("2025-04-03", 50)]),
         "mrr": daily_frame([("2025-04-02", 120), ("2025-04-01", 100), ("2025-04-03", 130)])}
METRICS = {"visitors": Metric("visitors"), "buyers": Metric("buyers"),
           "conversion": Metric("conversion", unit="percent", formula="buyers / visitors"),
           "mrr": Metric("mrr", aggregation="last"),
           "peak": Metric("peak", aggregation="max"), "low": Metric("low", aggregation="min")}


@pytest.mark.parametrize("name, end, expected", [
    ("visitors", "2025-04-02", 2000),                   # sum over the window
    ("conversion", "2025-04-02", 0.019),                # DOMAIN: 38 / 2000, not the 5.5% mean of rates
    ("mrr", "2025-04-02", 120),                         # last: latest day, never the sum
    ("mrr", "2025-04-03", 130),
    ("buyers", "2025-03-31", None),                     # nothing in the window
    ("unknown", "2025-04-03", None),
])
def test_window_value_uses_the_metric_aggregation(name, end, expected):
    got = okrs.window_value(name, DAILY, METRICS, date(2025, 4, 1), date.fromisoformat(end))
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize("aggregation, expected", [("max", 130), ("min", 100), ("mean", 350 / 3)])
def test_window_value_min_max_mean_on_daily_values(aggregation, expected):
    metrics = {"mrr": Metric("mrr", aggregation=aggregation)}
    assert okrs.window_value("mrr", DAILY, metrics, date(2025, 4, 1), date(2025, 4, 3)) == pytest.approx(expected)


def test_window_value_does_not_mutate_the_daily_frames():
    before = {name: frame.copy() for name, frame in DAILY.items()}
    okrs.window_value("conversion", DAILY, METRICS, date(2025, 4, 1), date(2025, 4, 3))
    okrs.window_value("mrr", DAILY, METRICS, date(2025, 4, 1), date(2025, 4, 3))
    for name, frame in DAILY.items():
        assert_frame_equal(frame, before[name])


def test_kr_value_history_is_the_value_so_far_at_each_date():
    points = okrs.kr_value_history("conversion", DAILY, METRICS, date(2025, 4, 1), date(2025, 4, 3))
    assert [p["date"] for p in points] == ["2025-04-01", "2025-04-02", "2025-04-03"]
    assert [p["value"] for p in points] == pytest.approx([0.1, 0.019, 88 / 2100])


def test_kr_value_history_thins_long_windows_to_weekly_points():
    days = [(date(2025, 1, 1) + timedelta(days=i)).isoformat() for i in range(100)]
    daily = {"visitors": daily_frame([(d, 1) for d in days])}
    points = okrs.kr_value_history("visitors", daily, METRICS, date(2025, 1, 1), date(2025, 4, 10))
    assert len(points) == 15                                  # one per ISO week touched
    assert points[-1] == {"date": "2025-04-10", "value": 100}


# ---------------------------------------------------------------- report

def add_definitions(store, table, items):
    writes.upsert_definitions(store.connection, table, list(items), add_batch(store, kind=table))


def support_and_growth(store):
    """Q2 2025 objectives: a decreasing KR, a sum KR, a formula KR and one without data."""
    add_metrics(store, {
        "response_hours": {"department": "Customer service", "direction": "down",
                           "unit": "duration", "aggregation": "last"},
        "signups": {"department": "Product"},
        "visitors": {"department": "Marketing"}, "buyers": {"department": "Marketing"},
        "conversion": {"department": "Marketing", "unit": "percent", "formula": "buyers / visitors"},
        "nps": {"department": "Product", "aggregation": "last"},
    })
    add_observations(store, "response_hours", [("2025-03-01", 12), ("2025-04-01", 10),
                                             ("2025-05-01", 7), ("2025-05-20", 3)])
    add_observations(store, "signups", [("2025-03-31", 999), ("2025-04-10", 30), ("2025-05-10", 10)])
    add_observations(store, "visitors", [("2025-04-01", 200), ("2025-04-02", 1800)])
    add_observations(store, "buyers", [("2025-04-01", 20), ("2025-04-02", 18)])
    q2 = dict(start_date=date(2025, 4, 1), deadline=date(2025, 6, 30))
    add_definitions(store, "key_results", [
        KeyResult("Answer faster", "Cut first response time from 10 h to 4 h", "response_hours",
                  10, 4, owner="Ana", department="Customer service", **q2),
        KeyResult("Grow", "Win 100 sign-ups", "signups", 0, 100, department="Product", weight=3, **q2),
        KeyResult("Grow", "Raise NPS from 20 to 40", "nps", 20, 40, department="Product", **q2),
        KeyResult("Convert", "Conversion from 1% to 3%", "conversion", 0.01, 0.03, **q2),
    ])


def objective(report, name):
    return next(o for o in report["objectives"] if o["objective"] == name)


def test_okr_report_measures_each_kr_over_its_window(store):
    support_and_growth(store)
    report = okrs.okr_report(store, as_of=date(2025, 5, 16))
    assert report["as_of"] == "2025-05-16"
    faster = objective(report, "Answer faster")["key_results"][0]
    # DOMAIN: 7 h of 10 -> 4 h is 50% done, 50% expected on 16 May; the 3 h of 20 May is later
    assert faster == {
        "title": "Cut first response time from 10 h to 4 h", "metric": "response_hours",
        "metric_label": "Response hours",
        "start": 10, "target": 4, "current": 7, "progress": 0.5, "progress_raw": 0.5,
        "expected": 0.5, "status": "on_track", "start_date": "2025-04-01",
        "deadline": "2025-06-30", "owner": "Ana", "department": "Customer service", "weight": 1.0,
        "unit": "duration", "direction": "down", "ended": False, "partial": False,
        "measured": {"kind": "latest", "from": "2025-05-01", "to": "2025-05-01"},
        "data_through": "2025-05-01", "covered_through": "2025-05-31", "cadence": "monthly",
        "warning": None,
        "history": [{"date": "2025-04-01", "value": 10}, {"date": "2025-05-01", "value": 7}],
        "checkins": [], "confidence": None,
        # a level is forecast where it stands: no earlier quarter to try it on, no range
        "forecast": {"value": 7, "low": None, "high": None, "chance_of_target": None,
                     "method": "so_far", "backtested_periods": 0}}
    signups = objective(report, "Grow")["key_results"][1]
    assert (signups["current"], signups["progress"], signups["status"]) == (40, 0.4, "at_risk")
    # summed from the start date on: the 999 of 31 March is before the window
    assert signups["history"] == [{"date": "2025-04-10", "value": 30}, {"date": "2025-05-10", "value": 40}]
    conversion = objective(report, "Convert")["key_results"][0]
    assert conversion["current"] == pytest.approx(0.019)


def test_okr_report_objective_progress_is_weighted_and_skips_krs_without_data(store):
    support_and_growth(store)
    grow = objective(okrs.okr_report(store, as_of=date(2025, 5, 16)), "Grow")
    nps = grow["key_results"][0]
    assert (nps["current"], nps["progress"], nps["status"]) == (None, None, "no_data")
    assert grow["progress"] == pytest.approx(0.4)
    assert (grow["department"], grow["expected"]) == ("Product", 0.5)


@pytest.mark.parametrize("as_of, current, progress, raw, status", [
    (date(2025, 5, 25), 3, 1.0, 7 / 6, "achieved"),       # overshoot: shown 100%, raw kept
    (date(2025, 3, 15), None, None, None, "no_data"),    # not started yet
    (date(2025, 4, 5), 10, 0.0, 0.0, "on_track"),
])
def test_okr_report_decreasing_kr_over_time(store, as_of, current, progress, raw, status):
    support_and_growth(store)
    kr = objective(okrs.okr_report(store, as_of=as_of), "Answer faster")["key_results"][0]
    assert (kr["current"], kr["status"]) == (current, status)
    assert kr["progress"] == pytest.approx(progress) if progress is not None else kr["progress"] is None
    assert kr["progress_raw"] == pytest.approx(raw) if raw is not None else kr["progress_raw"] is None


def test_okr_report_after_the_deadline_judges_the_window_only(store):
    support_and_growth(store)
    add_observations(store, "signups", [("2025-07-15", 500)])
    kr = objective(okrs.okr_report(store, as_of=date(2025, 8, 1)), "Grow")["key_results"][1]
    # finished: judged on its value at the deadline, in the one vocabulary of ended key results
    assert (kr["current"], kr["expected"], kr["status"], kr["ended"]) == (40, 1.0, "missed", True)


def test_okr_report_for_one_department(store):
    support_and_growth(store)
    report = okrs.okr_report(store, department="product", as_of=date(2025, 5, 16))
    assert report["department"] == "Product"
    assert [o["objective"] for o in report["objectives"]] == ["Grow"]


def test_key_result_without_department_takes_its_metric_department(store):
    support_and_growth(store)
    report = okrs.okr_report(store, department="Marketing", as_of=date(2025, 5, 16))
    convert = objective(report, "Convert")
    assert [o["objective"] for o in report["objectives"]] == ["Convert"]
    assert convert["department"] == convert["key_results"][0]["department"] == "Marketing"


def test_okr_report_refuses_unknown_department(store):
    support_and_growth(store)
    with pytest.raises(InputError, match="Known departments: Customer service, Marketing, Product"):
        okrs.okr_report(store, department="Legal")


def test_okr_report_is_json_ready_and_empty_without_key_results(store):
    nothing = {"key_results": 0, "running": 0, "ended": 0, "completion_rate": None,
               "met_by_deadline_rate": None, "timeline_adherence": None, "checkin_rate": None}
    assert okrs.okr_report(store, as_of=date(2025, 5, 16)) == {
        "as_of": "2025-05-16", "department": None, "summary": nothing, "departments": [],
        "objectives": []}
    support_and_growth(store)
    report = okrs.okr_report(store, as_of=date(2025, 5, 16))
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_kr_history_of_one_key_result(store):
    support_and_growth(store)
    assert okrs.kr_history(store, "Answer faster", "Cut first response time from 10 h to 4 h",
                           as_of=date(2025, 5, 25)) == [
        {"date": "2025-04-01", "value": 10}, {"date": "2025-05-01", "value": 7},
        {"date": "2025-05-20", "value": 3}]
    assert okrs.kr_history(store, "Answer faster", "No such key result") == []


# ---------------------------------------------------------------- where a key result stands

def test_a_mean_metric_stands_at_its_last_28_days_and_the_card_says_so(store):
    """First response time averaged per day: 8 h in October and November, 4.9 h in December.
    The window's mean would say 7 h; where it stands now is the last 28 days of data."""
    add_metric(store, "first_response_hours", department="Customer service", unit="duration",
               direction="down", aggregation="mean")
    add_daily(store, "first_response_hours", "2025-10-01", [8.0] * 61 + [4.9] * 31)
    add_definitions(store, "key_results", [KeyResult(
        "Answer faster", "Cut first response to 5 h", "first_response_hours", 8, 5,
        date(2025, 10, 1), date(2025, 12, 31))])
    kr = okrs.okr_report(store, as_of=date(2026, 1, 1))["objectives"][0]["key_results"][0]
    assert kr["current"] == pytest.approx(4.9)
    assert kr["measured"] == {"kind": "trailing", "from": "2025-12-04", "to": "2025-12-31"}
    assert kr["status"] == "achieved"


def test_a_level_stands_at_its_latest_value_not_a_sum_of_months(store):
    """DOMAIN: US payroll employment, a level ("last"): 140k -> 150k stands at 31%."""
    add_metric(store, "payrolls", department="Economy", aggregation="last")
    add_observations(store, "payrolls", [(f"2015-{m:02d}-01", 140_000 + 258 * m) for m in range(1, 12)]
                     + [("2015-12-01", 143_093)])
    add_definitions(store, "key_results", [KeyResult(
        "Jobs", "Payrolls from 140k to 150k", "payrolls", 140_000, 150_000,
        date(2015, 1, 1), date(2015, 12, 31))])
    kr = okrs.okr_report(store, as_of=date(2016, 1, 15))["objectives"][0]["key_results"][0]
    assert kr["progress_raw"] == pytest.approx(0.3093) and kr["warning"] is None
    assert (kr["status"], kr["measured"]["kind"]) == ("missed", "latest")


def test_progress_past_a_thousand_percent_asks_to_check_the_aggregation(store):
    add_metric(store, "payrolls", department="Economy")       # summed by mistake
    add_observations(store, "payrolls", [(f"2015-{m:02d}-01", 140_000 + 258 * m) for m in range(1, 13)])
    add_definitions(store, "key_results", [KeyResult(
        "Jobs", "Payrolls from 140k to 150k", "payrolls", 140_000, 150_000,
        date(2015, 1, 1), date(2015, 12, 31))])
    kr = okrs.okr_report(store, as_of=date(2016, 1, 15))["objectives"][0]["key_results"][0]
    assert kr["progress_raw"] > 10
    assert "check that payrolls's aggregation (sum) suits it" in kr["warning"]


def test_data_that_lag_are_paced_on_the_day_after_they_end(store):
    """Demos to 30 June, data through 31 May, looked at on 16 June: expected progress is
    where the key result should have been on 1 June, not on 16 June."""
    add_metric(store, "demos", department="Sales")
    add_daily(store, "demos", "2025-04-01", [1] * 61)                      # 1 Apr .. 31 May
    add_definitions(store, "key_results", [KeyResult(
        "Sell", "Book 100 demos", "demos", 0, 100, date(2025, 4, 1), date(2025, 6, 30))])
    kr = okrs.okr_report(store, as_of=date(2025, 6, 16))["objectives"][0]["key_results"][0]
    assert (kr["partial"], kr["data_through"], kr["current"]) == (True, "2025-05-31", 61)
    assert kr["expected"] == pytest.approx(61 / 90)
    assert kr["status"] == "at_risk"          # 7 points behind; paced on 16 June: 23, off track
    assert kr["measured"] == {"kind": "total", "from": "2025-04-01", "to": "2025-05-31"}


def test_up_to_date_data_are_not_partial(store):
    add_metric(store, "demos", department="Sales")
    add_daily(store, "demos", "2025-04-01", [1] * 76)                      # through 15 June
    add_definitions(store, "key_results", [KeyResult(
        "Sell", "Book 100 demos", "demos", 0, 100, date(2025, 4, 1), date(2025, 6, 30))])
    kr = okrs.okr_report(store, as_of=date(2025, 6, 16))["objectives"][0]["key_results"][0]
    assert kr["partial"] is False and kr["expected"] == pytest.approx(76 / 90)
