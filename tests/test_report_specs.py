"""The PNG reports' pixel canvas and the KPI trend chart are written as Vega-Lite
dicts, the launch report joined as dicts and the other charts' DataFrames turned
into rows without Altair's serialiser, instead of going through Altair (seconds a
page): these tests hold all of them to exactly the spec Altair made, so every PNG,
board-pack page and dashboard trend draws what it drew before. The reference
below (and tests/altair_trend_reference.py) is the Altair code they replace."""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert
from altair.utils.data import to_values

from kpi_logic.metrics.catalogue import metric_catalogue
from kpi_logic.metrics.overview import every_scorecard
from kpi_logic.output import (
    board_pack,
    catalogue_report,
    charts,
    launch_report,
    report,
    report_blocks,
)
from kpi_logic.output.report_blocks import MUTED, WIDTH, Canvas
from kpi_logic.store import open_store
from tests.altair_trend_reference import kpi_trend_chart as altair_trend_chart
from tests.altair_trend_reference import reference_spec

COLUMNS = ["kind", "x", "y", "x2", "y2", "text", "size", "colour", "fill", "weight", "align",
           "limit"]


def altair_layers(canvas: Canvas) -> alt.LayerChart:
    """The canvas as Altair drew it: a DataFrame of the items, a rect layer and a
    text layer per (weight, align, limit)."""
    frame = pd.DataFrame(canvas.items, columns=COLUMNS)
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, canvas.width], nice=False, zero=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, canvas.height], nice=False,
                                                 zero=False, reverse=True))
    rects = frame[frame["kind"] == "rect"].drop(columns=["text"])
    layers = [alt.Chart(rects).mark_rect(strokeWidth=1).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q", fill=alt.Fill("fill:N", scale=None),
        stroke=alt.Stroke("colour:N", scale=None))]
    texts = frame[frame["kind"] == "text"]
    for (weight, align, limit), group in texts.groupby(["weight", "align", "limit"]):
        layers.append(alt.Chart(group).mark_text(
            baseline="alphabetic", fontWeight=weight, align=align, limit=limit).encode(
            x=x, y=y, text="text:N", size=alt.Size("size:Q", scale=None),
            color=alt.Color("colour:N", scale=None)))
    return alt.layer(*layers).properties(width=canvas.width, height=canvas.height)


def altair_part(canvas: Canvas) -> dict:
    """The canvas as report.parts_spec took it from Altair (no $schema, no config)."""
    spec = altair_layers(canvas).to_dict(validate=False)
    return {k: v for k, v in spec.items() if k not in ("$schema", "config")}


def altair_launch_join(parts: list, **_) -> dict:
    """The launch report as Altair joined it (parts as Altair charts)."""
    return (alt.vconcat(*parts, spacing=22)
            .resolve_scale(color="independent", strokeDash="independent")
            .configure(font=report_blocks.FONT, background="white", padding=36)
            .configure_view(stroke=None)
            .configure_axis(labelFontSize=12, titleFontSize=12, labelColor=MUTED,
                            titleColor=MUTED)
            .configure_legend(labelFontSize=13)
            .to_dict())


def same_json(a, b) -> bool:
    """Equal down to the JSON text (so 0 and 0.0 differ, as in the dataset names)."""
    def text(value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    return text(a) == text(b)


def drawn(*steps) -> Canvas:
    canvas = Canvas(120)
    for step in steps:
        step(canvas)
    return canvas


CANVASES = {
    "empty": drawn(),
    "rects only": drawn(lambda c: c.rect(0, 0, WIDTH, 2, "#000"),
                        lambda c: c.rect(10.5, 3, 7, 40, "#F9FAFB", "#D1D5DB")),
    "text only, whole numbers": drawn(lambda c: c.text(0, 20, "Title", size=28, weight="bold"),
                                      lambda c: c.text(WIDTH, 20, "✔ Healthy", align="right",
                                                       limit=300)),
    "both, floats and limits": drawn(
        lambda c: c.text(0, 16, "Metric", size=12, colour=MUTED, weight="bold"),
        lambda c: c.rect(490, 10, 300 * 0.37, 16, "#2E7D32"),
        lambda c: c.rect(490 + 300 * 0.5 - 1.5, 6, 3, 24, charts.INK),
        lambda c: c.text(804, 23, "37%  ·  expected 50%", size=13, limit=240),
        lambda c: c.text(0, 44, 'Quote " and <b>tags</b> & 日本', size=13, limit=470),
        lambda c: c.text(0, 66, 12345, size=14.5, limit=470)),
    "a gap in a number": drawn(lambda c: c.text(0, 20, "x", size=None),
                               lambda c: c.rect(0, math.nan, 5, 5, "#000")),
}


@pytest.mark.parametrize("name", CANVASES)
def test_the_canvas_spec_is_the_one_altair_made(name):
    canvas = CANVASES[name]
    assert same_json(canvas.spec(), altair_part(canvas))


def every_report(location, as_of: date) -> dict[str, dict]:
    """Each page of the demo's board pack, its cover, each launch step and the catalogue."""
    with open_store(location, read_only=True) as store:
        data = board_pack.board_pack_data(store, as_of)
        rows = metric_catalogue(store, None, as_of=as_of).to_dict("records")
    specs = dict(board_pack.pages(data))
    specs["cover"] = board_pack.cover_spec(data, list(specs), datetime(2026, 12, 7, 9, 30))
    for step in ("measure", "analyse", "adjust", "improve"):
        specs[f"launch, {step}"] = launch_report.launch_report_spec(data.launches[0], step=step)
    specs["catalogue"] = catalogue_report.catalogue_spec(rows, as_of=as_of)
    return specs


def test_every_report_of_the_demo_is_the_spec_altair_made(demo_file, monkeypatch):
    """Overview, every scorecard (its trend charts too), OKRs, the launch (whole and by
    step), the catalogue and the board pack's cover: byte for byte the JSON of the
    Altair-built spec."""
    as_of = date.today()
    made = every_report(demo_file, as_of)
    monkeypatch.setattr(Canvas, "spec", altair_layers)
    monkeypatch.setattr(launch_report, "parts_spec", altair_launch_join)
    monkeypatch.setattr(report, "chart_spec", lambda chart: chart.to_dict(validate=False))
    monkeypatch.setattr(charts, "kpi_trend_chart", reference_spec)
    before = every_report(demo_file, as_of)
    assert list(made) == list(before) and len(made) == 15
    for name in made:
        assert same_json(made[name], before[name]), name


def test_a_frames_rows_are_the_ones_altairs_serialiser_makes():
    frame = pd.DataFrame({
        "day": pd.to_datetime([pd.Timestamp(2025, 3, 1), None, pd.Timestamp(2025, 3, 3, 12, 30)]),
        "value": [1.5, np.nan, np.inf], "count": [1, 2, 3], "partial": [True, False, True],
        "label": pd.Series(["Mar 2025", None, "Q1 2025"], dtype="str"),
        "status": pd.Series(["✔ Healthy", "▲ At risk", None], dtype="category"),
        "things": [date(2025, 3, 1), None, "text"]})
    rows = report_blocks.altair_rows(frame)
    assert same_json(rows, to_values(frame)["values"])
    assert rows[1]["day"] == "" and rows[2]["value"] is None and rows[0]["count"] == 1
    assert report_blocks.altair_rows(frame.iloc[0:0]) == []
    # another kind of column is left to Altair's serialiser
    assert report_blocks.altair_rows(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})) is None


def test_a_chart_with_its_frames_as_rows_is_the_spec_altair_made():
    kpi = {"title": "CAC", "unit": "currency", "target": 40, "target_kind": "max",
           "history": [{"period": "2025-01", "value": 38.0, "status": "healthy"},
                       {"period": "2025-02", "value": 44.0, "status": "at_risk"},
                       {"period": "2025-03", "value": 41.0, "status": "at_risk",
                        "partial": True}]}
    expected = altair_trend_chart(kpi).to_dict(validate=False)
    made = report_blocks.chart_spec(altair_trend_chart(kpi))
    assert same_json(made, {k: v for k, v in expected.items() if k not in ("$schema", "config")})


def test_a_chart_with_a_forecast_band_is_the_spec_altair_made():
    """The forecast's frames (a range, or none: NaN) go through the same rows."""
    for kpi in (forecast_kpi(40.0, 48.0), forecast_kpi(None, None)):
        expected = altair_trend_chart(kpi).to_dict(validate=False)
        made = report_blocks.chart_spec(altair_trend_chart(kpi))
        assert any("forecast_text" in row for rows in made["datasets"].values() for row in rows)
        assert same_json(made, {k: v for k, v in expected.items() if k not in ("$schema", "config")})


def forecast_kpi(low, high) -> dict:
    history = [{"period": "2025-01", "value": 38.0, "status": "healthy"},
               {"period": "2025-02", "value": 44.0, "status": "at_risk", "partial": True}]
    return {"title": "CAC", "unit": "currency", "target": 40, "target_kind": "max",
            "period": "2025-02", "history": history,
            "forecast": {"value": 44.5, "low": low, "high": high, "chance_of_target": 0.1}}


PACED = {"title": "Signups", "unit": "number", "target": 1000, "tolerance": 0.2,
         "history": [{"period": "2025-02", "value": 1400, "target": 1000, "status": "healthy"},
                     {"period": "2025-03", "value": 350, "target": 1000, "status": "healthy",
                      "partial": True, "pace": {"projected": 1085}}]}
MADE_UP = {
    "forecast with a range": forecast_kpi(40.0, 48.0),
    "forecast without a range": forecast_kpi(None, None),
    "partial at its pace": PACED,
    "empty history": {**PACED, "history": []},
    "no placeable period": {**PACED, "history": [{"period": "March", "value": 1.0}]},
    "gaps: no value, no target": {"unit": "percent", "target": None, "history": [
        {"period": "2025-Q1", "value": None}, {"period": "2025-Q2", "value": 0.5}]},
    "years, a floor": {"unit": "duration", "target": 3, "target_kind": "min", "history": [
        {"period": str(y), "value": 2.5 + y % 3, "status": "at_risk"} for y in range(2019, 2025)]},
    "weeks and days": {"unit": "minutes", "target": 30, "history": [
        {"period": "2025-W09", "value": 31.0}, {"period": "2025-03-03", "value": 29.0}]},
}
TITLE = {"text": "CAC", "anchor": "start", "fontSize": 15, "subtitle": "At most $40",
         "subtitleColor": MUTED, "subtitleFontSize": 12}
OPTIONS = [{}, {"legend": False, "axis_side": "right", "width": 510, "height": 170,
                "title": TITLE}, {"title": "Plain title", "width": 900, "height": 280}]


def demo_kpis(location) -> list[dict]:
    """Every KPI of every demo scorecard: the latest complete period now, the running
    month from mid-month a month and a half back (partial, forecast with its range),
    the running quarter a year back."""
    today = date.today()
    earlier = today - timedelta(days=45)
    year_ago = today - timedelta(days=380)
    with open_store(location, read_only=True) as store:
        return [kpi for as_of, period in (
                    (today, None),
                    (earlier.replace(day=15), f"{earlier:%Y-%m}"),
                    (year_ago.replace(day=15), f"{year_ago.year}-Q{(year_ago.month + 2) // 3}"))
                for card in every_scorecard(store, period=period, as_of=as_of)
                for kpi in card["kpis"]]


def test_the_trend_chart_dict_is_the_spec_altair_made(demo_file):
    """charts.kpi_trend_chart writes the Vega-Lite dict directly: for every demo KPI
    (complete, running with a forecast, a running quarter) and made-up edge cases,
    with and without legend and title, it is byte for byte the spec of the Altair
    chart it replaced, and Vega-Lite compiles it."""
    kpis = demo_kpis(demo_file)
    running = [k for k in kpis if charts.forecast_row(k)]
    assert running and any(charts.forecast_row(k)["low"] is not None for k in running)
    assert any(h.get("pace") for k in kpis for h in k["history"])
    cases = [(f"demo {i}", kpi, OPTIONS[i % len(OPTIONS)]) for i, kpi in enumerate(kpis)]
    cases += [(name, kpi, options) for name, kpi in MADE_UP.items() for options in OPTIONS]
    for name, kpi, options in cases:
        made = charts.kpi_trend_chart(kpi, **options)
        assert same_json(made, reference_spec(kpi, **options)), (name, options)
    for name, kpi in [*MADE_UP.items(), ("demo running", running[0])]:
        vega = vl_convert.vegalite_to_vega(charts.kpi_trend_chart(kpi, title=TITLE))
        assert vega["marks"], name
