"""ui.vega draws what st.altair_chart draws (a builder of Altair charts), or
st.vega_lite_chart (a builder of Vega-Lite dicts): the same Vega-Lite spec and the
same datasets, from a spec built once per builder and arguments."""
from __future__ import annotations

import json

import streamlit as st
from streamlit.testing.v1 import AppTest

from kpi_logic.output import charts, progress_charts

OBJECTIVES = [{"objective": "Grow revenue", "progress": 0.42, "expected": 0.5,
               "status": "behind"},
              {"objective": "Delight customers", "progress": 0.9, "expected": 0.5,
               "status": "on_track"}]


def both_ways():
    import streamlit as st

    from kpi_logic.output import charts, progress_charts
    from tests.test_ui_vega import OBJECTIVES
    from ui import vega
    points = [{"value": v} for v in (3.0, 5.5, 4.0, 7.25)]
    st.altair_chart(charts.sparkline(points, width="container", height=48, colour="#0B7A5A"),
                    width="stretch")
    st.vega_lite_chart(vega.spec(charts.sparkline, points, width="container", height=48,
                                 colour="#0B7A5A"), width="stretch")
    st.altair_chart(progress_charts.objective_progress_bars(OBJECTIVES), width="stretch")
    st.vega_lite_chart(vega.spec(progress_charts.objective_progress_bars, OBJECTIVES),
                       width="stretch")


def dict_both_ways():
    import streamlit as st

    from kpi_logic.output import charts
    from tests.test_charts import RUNNING
    from ui import vega
    st.vega_lite_chart(charts.kpi_trend_chart(RUNNING, width=900, height=280), width="stretch")
    st.vega_lite_chart(vega.spec(charts.kpi_trend_chart, RUNNING, width=900, height=280),
                       width="stretch")


def drawn(chart) -> tuple:
    proto = chart.proto
    return (json.loads(proto.spec), [(d.name, d.data.data) for d in proto.datasets],
            proto.use_container_width, proto.theme)


def test_a_cached_spec_draws_exactly_what_altair_chart_draws():
    st.cache_data.clear()
    at = AppTest.from_function(both_ways, default_timeout=60).run()
    assert not at.exception, at.exception
    for _ in range(2):      # built, then from the cache
        sparkline, cached_sparkline, bars, cached_bars = at.get("vega_lite_chart")
        assert drawn(cached_sparkline) == drawn(sparkline)
        assert drawn(cached_bars) == drawn(bars)
        assert drawn(sparkline) != drawn(bars)
        assert drawn(sparkline)[1], "the data travels as a dataset"
        at.run()


def test_a_cached_dict_spec_draws_exactly_what_vega_lite_chart_draws():
    """The KPI trend chart is a Vega-Lite dict: its rows travel as Arrow datasets,
    made once and then served from the cache."""
    st.cache_data.clear()
    at = AppTest.from_function(dict_both_ways, default_timeout=60).run()
    assert not at.exception, at.exception
    for _ in range(2):      # built, then from the cache
        trend, cached_trend = at.get("vega_lite_chart")
        assert drawn(cached_trend) == drawn(trend)
        spec, datasets = drawn(trend)[:2]
        assert "datasets" not in spec and len(datasets) == 7
        assert {layer["data"]["name"] for layer in spec["layer"]} == {n for n, _ in datasets}
        at.run()


def test_other_arguments_are_another_chart():
    from ui import vega
    st.cache_data.clear()
    one = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES)
    other = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES[:1])
    again = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES)
    assert one == again and one["datasets"] != other["datasets"]
    assert vega.spec(charts.sparkline, [{"value": 1.0}], height=48) != \
        vega.spec(charts.sparkline, [{"value": 1.0}], height=60)
    kpi = {"unit": "number", "target": 10, "history": [{"period": "2025-01", "value": 9.0}]}
    trend = vega.spec(charts.kpi_trend_chart, kpi, width=900)
    assert trend == vega.spec(charts.kpi_trend_chart, kpi, width=900)
    assert all(isinstance(rows, bytes) for rows in trend["datasets"].values())
    assert trend["datasets"] != vega.spec(
        charts.kpi_trend_chart, {**kpi, "target": 12}, width=900)["datasets"]
