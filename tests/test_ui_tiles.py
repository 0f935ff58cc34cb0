"""ui/tiles.py: a KPI's headline in the PNG's colours, and tiles that stay small on a phone."""
from __future__ import annotations

import json
import tomllib

from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from kpi_logic.domain import formatting as fmt
from tests.e2e_support import ROOT
from ui.text import STATUS_MARKDOWN_COLOURS, TONE_MARKDOWN_COLOURS


def test_the_pages_named_colours_are_the_png_palette():
    """Streamlit's green, orange, red, blue and gray (status text, deltas) are set
    to formatting's colours in the theme: one palette for pages and PNGs."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    named = {**STATUS_MARKDOWN_COLOURS, **{tone: name for tone, name in
                                          TONE_MARKDOWN_COLOURS.items()}}
    png = {**{s: fmt.status_colour(s) for s in STATUS_MARKDOWN_COLOURS}, **fmt.TONE_COLOURS}
    for key, name in named.items():
        assert theme[f"{name}Color"].upper() == png[key].upper(), key
        assert theme[f"{name}TextColor"].upper() == png[key].upper(), key


def shown(kpi: dict):
    """The metric's proto and the sparkline's spec, as the page sends them."""
    at = AppTest.from_string(
        "import json\nfrom ui import tiles\n"
        f"tiles.kpi_metric(json.loads({json.dumps(json.dumps(kpi))}))").run()
    assert not at.exception
    charts = [e for e in at.main.children[0].children.values() if e.type == "vega_lite_chart"]
    return at.metric[0].proto, [json.loads(c.proto.spec) for c in charts]


HISTORY = [{"period": "2026-09", "value": 0.93}, {"period": "2026-10", "value": 0.9317},
           {"period": "2026-11", "value": 0.931}]


def test_a_healthy_kpi_that_slipped_has_a_green_sparkline_and_a_red_fall():
    """Ticket resolution 93.1% against at least 80%, 0.07 pp down on October: the
    sparkline says healthy (its status), the change says the move was bad news."""
    metric, (spark,) = shown({
        "title": "Ticket resolution rate", "status": "healthy", "value": 0.931,
        "unit": "percent", "direction": "up", "history": HISTORY,
        "vs_previous": {"abs": -0.0007, "pct": -0.0008, "label": "2026-10"}})
    assert metric.color == MetricProto.MetricColor.RED
    assert metric.direction == MetricProto.MetricDirection.DOWN
    assert not metric.chart_data                     # the sparkline is drawn in the status colour
    marks = [layer["mark"] for layer in spark["layer"]]
    assert {m["color"] for m in marks} == {fmt.GOOD}
    assert spark["width"] == "container"


def test_a_falling_cost_is_green_news_on_an_unhealthy_kpi():
    metric, (spark,) = shown({
        "title": "Customer acquisition cost", "status": "unhealthy", "value": 40.27,
        "unit": "currency", "direction": "down", "history": HISTORY,
        "vs_previous": {"abs": -0.95, "pct": -0.023, "label": "2026-10"}})
    assert metric.color == MetricProto.MetricColor.GREEN
    assert metric.direction == MetricProto.MetricDirection.DOWN
    assert {layer["mark"]["color"] for layer in spark["layer"]} == {fmt.BAD}


def test_no_change_is_grey_without_an_arrow():
    metric, _ = shown({
        "title": "Headcount", "status": "no_data", "value": None, "unit": "number",
        "direction": "up", "history": [],
        "vs_previous": {"abs": None, "pct": None, "label": "2026-10"}})
    assert metric.color == MetricProto.MetricColor.GRAY
    assert metric.direction == MetricProto.MetricDirection.NONE
