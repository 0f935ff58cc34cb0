"""Chart builders: the specs are valid Vega-Lite and draw what the engine decided."""
from __future__ import annotations

import copy
import json
from datetime import date

import pandas as pd
import pytest
import vl_convert
from pandas.testing import assert_frame_equal

from kpi_logic.output import charts
from tests.conftest import FIXTURES

REPORT = FIXTURES / "report"


@pytest.fixture
def scorecard():
    return json.loads((REPORT / "scorecard.json").read_text())


@pytest.fixture
def okrs():
    return json.loads((REPORT / "okrs.json").read_text())


def layer_rows(spec: dict, layer: dict) -> list[dict]:
    """The rows a layer draws (Altair moves inline data to top-level datasets)."""
    data = layer.get("data") or spec.get("data")
    return spec["datasets"][data["name"]]


def layers_with(spec: dict, mark: str) -> list[dict]:
    def mark_type(layer):
        return layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
    return [layer for layer in spec["layer"] if mark_type(layer) == mark]


KPI = {"title": "CAC", "metric": "cac", "target_kind": "max", "tolerance": 0.1, "target": 40,
       "unit": "currency", "direction": "down",
       "history": [{"period": "2025-01", "value": 38.0, "target": 40, "status": "healthy"},
                   {"period": "2025-02", "value": 43.0, "target": 40, "status": "at_risk"},
                   {"period": "2025-03", "value": 47.0, "target": 45, "status": "unhealthy"}]}


def column(rows: list[dict], name: str) -> list:
    return [row[name] for row in rows]


def test_trend_rows_band_for_a_ceiling():
    rows = charts.trend_rows(KPI)
    assert column(rows, "target") == [40, 40, 45]
    # at most 40 with 10% tolerance: at risk between 40 and 44
    assert column(rows, "band_low") == [40, 40, 45]
    assert column(rows, "band_high") == pytest.approx([44, 44, 49.5])
    assert column(rows, "status") == ["✔ Healthy", "⚠ At risk", "✖ Unhealthy"]
    assert column(rows, "start") == [f"2025-0{m}-01T00:00:00" for m in (1, 2, 3)]
    assert rows[-1]["end"] == "2025-04-01T00:00:00"
    # the middle of a period: January's 16th, February's 14th at noon
    assert column(rows, "mid")[:2] == ["2025-01-16T00:00:00", "2025-02-14T12:00:00"]


def test_trend_rows_band_for_a_floor_uses_kpi_target_when_period_has_none():
    kpi = {"target_kind": "min", "tolerance": 0.2, "target": 0.03, "unit": "percent",
           "history": [{"period": "2025-Q1", "value": 0.028, "status": "at_risk"}]}
    [row] = charts.trend_rows(kpi)
    assert [row["band_low"], row["band_high"]] == pytest.approx([0.024, 0.03])
    assert row["label"] == "Q1 2025" and row["value_text"] == "2.8%"


def test_a_period_without_a_value_or_target_is_a_gap_not_a_number():
    kpi = {**KPI, "target": None, "history": [{"period": "2025-01", "value": None}]}
    [row] = charts.trend_rows(kpi)
    assert [row[k] for k in ("value", "target", "band_low", "band_high")] == [None] * 4
    assert row["target_text"] == "—"
    assert vl_convert.vegalite_to_vega(charts.kpi_trend_chart(kpi))["marks"]


def test_trend_rows_do_not_mutate():
    kpi = copy.deepcopy(KPI)
    charts.trend_rows(kpi)
    charts.kpi_trend_chart(kpi)
    assert kpi == KPI


def test_target_steps_span_the_last_period():
    steps = charts.target_steps(charts.trend_rows(KPI))
    assert [(s["x"], s["target"]) for s in steps] == [
        ("2025-01-01T00:00:00", 40.0), ("2025-02-01T00:00:00", 40.0),
        ("2025-03-01T00:00:00", 45.0), ("2025-04-01T00:00:00", 45.0)]
    assert charts.target_steps([]) == []


def test_kpi_trend_chart_draws_a_stepped_per_period_target():
    spec = charts.kpi_trend_chart(KPI)
    lines = layers_with(spec, "line")
    target = [layer for layer in lines if layer["encoding"]["y"]["field"] == "target"]
    assert len(target) == 1
    assert target[0]["mark"]["interpolate"] == "step-after"
    assert [row["target"] for row in layer_rows(spec, target[0])] == [40, 40, 45, 45]
    band = layers_with(spec, "area")[0]
    assert band["mark"]["interpolate"] == "step-after"
    assert band["encoding"]["y2"]["field"] == "band_high"
    actual = [layer for layer in lines if layer["encoding"]["y"]["field"] == "value"]
    assert [row["value"] for row in layer_rows(spec, actual[0])] == [38.0, 43.0, 47.0]


def test_kpi_trend_chart_shows_status_by_shape_as_well_as_colour():
    points = layers_with(charts.kpi_trend_chart(KPI), "point")[0]
    assert points["encoding"]["color"]["field"] == "status"
    assert points["encoding"]["shape"]["field"] == "status"
    shapes = points["encoding"]["shape"]["scale"]["range"]
    assert len(set(shapes)) == len(shapes) == 4


def test_kpi_trend_chart_compiles_to_vega():
    vega = vl_convert.vegalite_to_vega(charts.kpi_trend_chart(KPI))
    assert vega["marks"]


@pytest.mark.parametrize("index", range(5))
def test_trend_chart_for_every_fixture_kpi(scorecard, index):
    kpi = scorecard["kpis"][index]
    spec = charts.kpi_trend_chart(kpi, legend=False)
    # band, target, actual line, its dashed partial end, points, hollow partial points, label
    assert len(spec["layer"]) == 7


def test_a_partial_period_is_a_hollow_point_drawn_at_its_pace():
    history = [{"period": "2025-02", "value": 1400, "target": 1000, "status": "healthy",
                "partial": False},
               {"period": "2025-03", "value": 350, "target": 1000, "status": "healthy",
                "partial": True, "pace": {"share": 10 / 31, "target": 322.6, "projected": 1085}}]
    rows = charts.trend_rows({**KPI, "history": history})
    assert column(rows, "partial") == [False, True]
    assert rows[-1]["value"] == 1085
    assert rows[-1]["value_text"] == "$350 so far, on pace for $1,085"
    spec = charts.kpi_trend_chart({**KPI, "history": history})
    hollow = [layer for layer in spec["layer"] if layer.get("mark", {}).get("filled") is False]
    dashed = [layer for layer in spec["layer"] if layer.get("mark", {}).get("strokeDash") == [4, 3]]
    assert len(hollow) == 1 and len(dashed) == 1
    assert len(spec["datasets"][dashed[0]["data"]["name"]]) == 2     # February to March


def test_empty_history_still_gives_a_chart():
    spec = charts.kpi_trend_chart({**KPI, "history": []})
    assert "layer" in spec


def test_sparkline_has_no_axes_and_marks_the_latest_point():
    spec = charts.sparkline(KPI["history"]).to_dict()
    line, last = spec["layer"]
    assert line["encoding"]["x"]["axis"] is None and line["encoding"]["y"]["axis"] is None
    assert last["transform"] == [{"filter": "datum.i == 2"}]


def test_objective_frame_clamps_and_names_the_pace(okrs):
    objectives = okrs["objectives"] + [{"objective": "Overshoot", "progress": 1.4,
                                        "expected": 0.5}]
    frame = charts.objective_frame(objectives)
    assert frame["objective"].tolist()[:2] == ["Win the mid-market (Sales)",
                                               "Delight our customers (Customer service)"]
    assert frame["progress"].tolist() == [0.55, 0.5, 0.2, 1.0]
    assert frame["pace"].tolist() == ["On pace", "On pace", "Behind pace", "Target reached"]
    assert frame["note"].iloc[2] == "20%  ·  expected 50%"


@pytest.mark.parametrize("progress, expected, pace", [
    (0.93, 1.0, "Missed"),            # past its deadline: not "behind pace" any more
    (1.0, 1.0, "Target reached"),
    (0.4, 0.5, "Behind pace"),
    (0.6, 0.5, "On pace"),
    (None, 0.5, "No data"),
])
def test_objective_pace_after_the_deadline_says_how_it_ended(progress, expected, pace):
    frame = charts.objective_frame([{"objective": "O", "progress": progress, "expected": expected}])
    assert frame["pace"].tolist() == [pace]


def test_objective_progress_chart_marks_expected_progress(okrs):
    spec = charts.objective_progress_chart(okrs["objectives"]).to_dict()
    tick = layers_with(spec, "tick")[0]
    assert tick["encoding"]["x"]["field"] == "expected"
    bars = layers_with(spec, "bar")
    assert [b["encoding"]["x"]["field"] for b in bars] == ["track", "progress"]
    assert bars[0]["encoding"]["x"]["scale"]["domain"] == [0, 1]


def test_kr_projection_extends_the_straight_line():
    points = pd.DataFrame({"date": pd.to_datetime(["2025-04-01", "2025-04-11", "2025-04-21"]),
                           "value": [10.0, 9.0, 8.0]})
    assert charts.kr_projection(points, date(2025, 5, 1)) == pytest.approx(7.0)


@pytest.mark.parametrize("dates, deadline", [
    (["2025-04-01"], "2025-06-30"),
    (["2025-04-01", "2025-04-01"], "2025-06-30"),
    (["2025-04-01", "2025-04-11"], None),
])
def test_kr_projection_needs_two_dates_and_a_deadline(dates, deadline):
    points = pd.DataFrame({"date": pd.to_datetime(dates), "value": [1.0] * len(dates)})
    assert charts.kr_projection(points, deadline) is None


def test_kr_points_without_history_use_current_at_as_of(okrs):
    kr = okrs["objectives"][1]["key_results"][1]        # churn 8% -> 5%, now 9%
    frame = charts.kr_points(kr, as_of="2025-05-16")
    expected = pd.DataFrame({"date": pd.to_datetime(["2025-04-01", "2025-05-16"]),
                             "value": [0.08, 0.09]})
    assert_frame_equal(frame, expected, check_dtype=False)


def test_kr_pace_chart_draws_a_decreasing_kr_downwards(okrs):
    kr = okrs["objectives"][1]["key_results"][0]        # cut response time 10 h -> 4 h
    history = [{"date": "2025-04-15", "value": 8.0}, {"date": "2025-05-01", "value": 6.0}]
    before = copy.deepcopy(kr)
    spec = charts.kr_pace_chart(kr, history, as_of="2025-05-16", unit="duration").to_dict()
    assert kr == before
    line = next(layer for layer in spec["layer"]
                if layer.get("encoding", {}).get("color", {}).get("field") == "series")
    rows = layer_rows(spec, line)
    pace = [r["value"] for r in rows if r["series"] == "Pace to target"]
    assert pace == [10, 4]                               # falls from start to target
    assert "reverse" not in spec["layer"][0]["encoding"]["y"]["scale"]
    forecast = [r["value"] for r in rows if r["series"] == "Forecast"]
    assert forecast[0] == 6.0 and forecast[1] < 6.0      # keeps falling to the deadline
    texts = [r.get("text", "") for layer in spec["layer"] for r in layer_rows(spec, layer)]
    assert any(t.startswith("Projected ") and t.endswith("30 Jun 2025") for t in texts)
    assert "Target 4 h" in texts and "Today" in texts


def test_health_frame_stacks_counts_and_skips_zeros():
    frame = charts.health_frame([{"department": "HR", "healthy": 1, "at_risk": 2,
                                  "unhealthy": 0, "no_data": 1}])
    expected = pd.DataFrame({"department": ["HR"] * 3,
                             "status": ["✔ Healthy", "⚠ At risk", "○ No data"],
                             "count": [1, 2, 1], "x0": [0, 1, 3], "x1": [1, 3, 4],
                             "mid": [0.5, 2.0, 3.5]})
    assert_frame_equal(frame, expected, check_dtype=False)


def test_department_health_chart_keeps_department_order():
    departments = [{"department": "Sales", "healthy": 2}, {"department": "HR", "at_risk": 1}]
    spec = charts.department_health_chart(departments).to_dict()
    names, bars = spec["hconcat"]
    assert names["encoding"]["y"]["sort"] == ["Sales", "HR"]
    assert bars["layer"][0]["encoding"]["color"]["scale"]["domain"][0] == "✔ Healthy"


def test_the_pages_department_health_chart_takes_the_containers_width_and_a_row_each():
    """On a phone the fixed 810 px of names and bars was cut to two KPIs (all green):
    the page's chart fits its width and keeps 30 px per department."""
    departments = [{"department": d, "healthy": 2, "unhealthy": 1} for d in "ABCDEF"]
    spec = charts.department_health_chart(departments, width="container").to_dict()
    assert (spec["width"], spec["height"]) == ("container", 180)
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["layer"][0]["encoding"]["y"]["sort"] == list("ABCDEF")
    assert "hconcat" not in spec


def test_trend_rows_leave_out_periods_they_cannot_place():
    kpi = {**KPI, "history": [{"period": "March", "value": 1.0}, *KPI["history"]]}
    assert column(charts.trend_rows(kpi), "period") == ["2025-01", "2025-02", "2025-03"]


@pytest.mark.parametrize("period, ticks", [
    ("2025-03", "month"), ("2025-Q1", {"interval": "month", "step": 3}), ("2025", "year"),
])
def test_time_axis_ticks_on_period_starts(period, ticks):
    kpi = {**KPI, "history": [{"period": period, "value": 1.0, "target": 1.0}]}
    spec = charts.kpi_trend_chart(kpi)
    assert layers_with(spec, "area")[0]["encoding"]["x"]["axis"]["tickCount"] == ticks


def test_kr_lines_mark_only_the_latest_of_a_long_history():
    kr = {"start": 0, "target": 100, "start_date": "2025-04-01", "deadline": "2025-06-30"}
    history = [{"date": f"2025-04-{day:02d}", "value": day} for day in range(2, 31)]
    lines = charts.kr_lines(kr, charts.kr_points(kr, history), None)
    actual = lines[lines["series"] == "Actual"]
    assert len(actual) == 30 and actual["dot"].tolist() == [False] * 29 + [True]
    short = charts.kr_lines(kr, charts.kr_points(kr, history[:3]), None)
    assert short.loc[short["series"] == "Actual", "dot"].all()


CAC_KR = {"title": "Reduce CAC from 44 to 38", "start": 44, "target": 38, "current": 39.5,
          "start_date": "2025-07-01", "deadline": "2025-09-30"}


def pace_rows(history: list[dict], as_of: str) -> list[dict]:
    spec = charts.kr_pace_chart(CAC_KR, history, as_of=as_of, unit="currency").to_dict()
    return [r for layer in spec["layer"] for r in layer_rows(spec, layer)]


def forecast(rows: list[dict]) -> bool:
    return any(r.get("series") == "Forecast" or str(r.get("text", "")).startswith("Projected")
               for r in rows)


@pytest.mark.parametrize("last_value_on", ["2025-10-01", "2025-09-22"])
def test_no_forecast_once_the_deadline_has_passed(last_value_on):
    """Whether the last value falls after the deadline or just before it."""
    history = [{"date": "2025-08-01", "value": 41}, {"date": last_value_on, "value": 39.5}]
    assert not forecast(pace_rows(history, as_of="2025-11-27"))


def test_a_running_key_result_is_forecast_to_its_deadline():
    history = [{"date": "2025-08-01", "value": 41}, {"date": "2025-09-22", "value": 39.5}]
    assert forecast(pace_rows(history, as_of="2025-09-25"))


def test_kr_pace_chart_without_any_values_still_renders():
    kr = {"title": "k", "start": None, "target": None, "start_date": None, "deadline": None}
    assert vl_convert.vegalite_to_png(charts.kr_pace_chart(kr).to_dict())[:4] == b"\x89PNG"


HISTORY = {"metric": "spend", "formula": None, "unit": "currency", "grain": "month",
           "start": "2026-09-10", "end": None, "dimension_name": "channel",
           "covered_through": "2026-12-06",
           "rows": [{"period": "2026-09", "value": 300.0, "partial": True},
                    {"period": "2026-10", "value": 1000.0, "partial": False},
                    {"period": "2026-11", "value": 900.0, "partial": False},
                    {"period": "2026-12", "value": 200.0, "partial": True}],
           "split": [{"period": p, "value": v, "partial": p in ("2026-09", "2026-12"),
                      "dimension": d}
                     for d, values in (("search", (200, 600, 500, 150)), ("", (100, 400, 400, 50)))
                     for p, v in zip(("2026-09", "2026-10", "2026-11", "2026-12"), values,
                                     strict=True)]}


def test_history_frame_says_why_a_period_is_partial():
    frame = charts.history_frame(HISTORY)
    assert frame["value_text"].tolist() == ["$300 (from 10 Sep)", "$1,000", "$900",
                                            "$200 (so far: data through 6 Dec)"]
    assert frame["series"].unique().tolist() == ["Total"]
    split = charts.history_frame(HISTORY, split=True)
    assert sorted(split["series"].unique()) == ["(no channel)", "Search"]


def test_history_chart_draws_partial_periods_hollow_on_dashed_segments():
    spec = charts.history_chart(HISTORY).to_dict()
    assert spec["width"] == "container"
    hollow = [layer for layer in spec["layer"] if layer["mark"].get("filled") is False]
    dashed = [layer for layer in spec["layer"] if layer["mark"].get("strokeDash") == [4, 3]]
    assert len(hollow) == 1 and len(dashed) == 1
    # September-October and November-December: two segments of two points.
    edges = layer_rows(spec, dashed[0])
    assert sorted({e["edge"] for e in edges}) == ["Total 0", "Total 2"] and len(edges) == 4
    assert vl_convert.vegalite_to_vega(spec)["marks"]


def test_a_split_history_chart_has_a_line_per_channel_largest_first():
    spec = charts.history_chart(HISTORY, split=True).to_dict()
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["scale"]["domain"] == ["Search", "(no channel)"]
    assert vl_convert.vegalite_to_vega(spec)["marks"]


def test_a_split_chart_draws_only_the_largest_series():
    rows = [{"period": "2026-10", "value": float(v), "partial": False, "dimension": f"r{v:02d}"}
            for v in range(1, 15)]
    frame = charts.history_frame({**HISTORY, "split": rows}, split=True)
    assert charts.largest_series(frame) == [f"R{v:02d}" for v in range(14, 4, -1)]


@pytest.mark.parametrize("grain, periods, ticks", [
    ("month", 6, {"interval": "month", "step": 1}),
    ("month", 36, {"interval": "month", "step": 6}),
    ("month", 20, {"interval": "month", "step": 4}),
    ("quarter", 12, {"interval": "month", "step": 6}),
    ("quarter", 4, {"interval": "month", "step": 3}),
    ("year", 30, {"interval": "year", "step": 5}),
    ("day", 1000, 6),
])
def test_history_ticks_fall_on_period_starts_and_fit_a_phone(grain, periods, ticks):
    assert charts.period_ticks(grain, periods) == ticks


# A CAC judged on its running March: $41 over the days so far, forecast to end at $42
# with an 80% range of $38 to $46 and a 30% chance of meeting its $40 ceiling.
RUNNING = {**KPI, "period": "2025-03",
           "history": [*KPI["history"][:2],
                       {"period": "2025-03", "value": 41.0, "target": 40, "status": "at_risk",
                        "partial": True}],
           "forecast": {"value": 42.0, "low": 38.0, "high": 46.0, "chance_of_target": 0.3,
                        "method": "so_far", "backtested_periods": 12}}


def forecast_layers(spec: dict) -> list[dict]:
    return [layer for layer in spec["layer"]
            if str(layer.get("mark", {}).get("color", "")) == charts.FORECAST]


def test_a_running_period_is_drawn_at_its_forecast_with_its_80_percent_range():
    spec = charts.kpi_trend_chart(RUNNING)
    fan, bar, *caps = forecast_layers(spec)
    assert fan["mark"]["type"] == "area" and bar["mark"]["type"] == "rule"
    # the fan opens from February's actual $43 to the range at March
    assert [(r["low"], r["high"]) for r in layer_rows(spec, fan)] == [(43.0, 43.0), (38.0, 46.0)]
    assert [(r["low"], r["high"]) for r in layer_rows(spec, bar)] == [(38.0, 46.0)]
    assert sorted(c["encoding"]["y"]["field"] for c in caps) == ["high", "low"]
    # the hollow point at the forecast, its tooltip saying all of it
    [point] = [layer for layer in spec["layer"]
               if any(t.get("title") == "Forecast" for t in layer["encoding"].get("tooltip", []))]
    assert point["mark"]["filled"] is False
    [row] = layer_rows(spec, point)
    assert row["value"] == 42.0 and row["so_far"] == "$41"
    assert row["forecast_text"] == "$42 (80% range $38–$46), 30% chance of meeting the target"
    # the dashed segment runs from the last actual value to the forecast
    dashed = [layer for layer in spec["layer"] if layer.get("mark", {}).get("strokeDash") == [4, 3]]
    assert [r["value"] for r in layer_rows(spec, dashed[0])] == [43.0, 42.0]


def test_without_a_forecast_the_trend_chart_is_the_one_it_was():
    plain = {k: v for k, v in RUNNING.items() if k != "forecast"}
    assert charts.kpi_trend_chart({**RUNNING, "forecast": None}) == \
        charts.kpi_trend_chart(plain)
    assert forecast_layers(charts.kpi_trend_chart(plain)) == []
    assert charts.forecast_row(plain) is None


def test_a_forecast_without_a_range_is_a_point_without_a_band():
    """Fewer than 4 periods to try the estimate on: a value, no range and no chance."""
    ahead = {**RUNNING["forecast"], "low": None, "high": None, "chance_of_target": None}
    spec = charts.kpi_trend_chart({**RUNNING, "forecast": ahead})
    assert forecast_layers(spec) == []
    row = charts.forecast_row({**RUNNING, "forecast": ahead})
    assert row["value"] == 42.0 and row["forecast_text"] == "$42" and row["low"] is None
    [point] = [layer for layer in spec["layer"]
               if any(t.get("title") == "Forecast" for t in layer["encoding"].get("tooltip", []))]
    assert layer_rows(spec, point) == [row]


def test_a_forecast_of_a_period_not_in_the_history_as_running_is_not_drawn():
    complete = {**RUNNING, "history": [{**p, "partial": False} for p in RUNNING["history"]]}
    assert charts.forecast_row(complete) is None
    assert charts.forecast_row({**RUNNING, "period": "2025-04"}) is None


def test_the_forecast_chart_draws_and_does_not_mutate():
    kpi = copy.deepcopy(RUNNING)
    png = vl_convert.vegalite_to_png(charts.kpi_trend_chart(kpi))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert kpi == RUNNING
