"""ui.vega draws what st.altair_chart draws: the same Vega-Lite spec and the
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


def test_other_arguments_are_another_chart():
    from ui import vega
    st.cache_data.clear()
    one = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES)
    other = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES[:1])
    again = vega.spec(progress_charts.objective_progress_bars, OBJECTIVES)
    assert one == again and one["datasets"] != other["datasets"]
    assert vega.spec(charts.sparkline, [{"value": 1.0}], height=48) != \
        vega.spec(charts.sparkline, [{"value": 1.0}], height=60)
