"""Progress bars at the container's width: every bar whole on a phone, each in
the PNG's colour of its key result's status or its objective's pace."""
from __future__ import annotations

import copy
import json

import pytest
import vl_convert

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts, progress_charts
from tests.conftest import FIXTURES


@pytest.fixture
def okrs():
    return json.loads((FIXTURES / "report" / "okrs.json").read_text())


def colour_of(spec: dict) -> dict[str, str]:
    """Tone -> colour of the chart's colour scale."""
    scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]
              if "color" in layer.get("encoding", {})]
    assert scales
    scale = scales[0]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_key_result_bars_take_the_colour_of_their_status(okrs):
    results = [kr for o in okrs["objectives"] for kr in o["key_results"]]
    assert len({kr["status"] for kr in results}) >= 4, "the fixture has several statuses"
    frame = progress_charts.key_result_rows(results)
    colours = colour_of(progress_charts.key_result_progress_bars(results).to_dict())
    for kr, tone in zip(results, frame["tone"], strict=True):
        assert colours[tone] == fmt.status_colour(kr["status"])      # the PNG's colour
    assert fmt.status_colour("achieved") != fmt.status_colour("off_track") != fmt.status_colour(
        "at_risk")


def test_key_result_rows_say_progress_expected_status_owner_and_deadline(okrs):
    results = okrs["objectives"][0]["key_results"]
    before = copy.deepcopy(results)
    frame = progress_charts.key_result_rows(results)
    assert results == before
    kr, row = results[0], frame.iloc[0]
    assert row["name"] == kr["title"]
    assert row["summary"].startswith(fmt.format_progress(kr["progress"]))
    assert row["summary"].endswith(fmt.status_badge(kr["status"]))
    assert fmt.human_date(kr["deadline"]) in row["detail"]
    assert 0 <= frame["progress"].min() and frame["progress"].max() <= 1      # clamped


def test_objective_bars_keep_the_pace_colours_of_the_png(okrs):
    colours = colour_of(progress_charts.objective_progress_bars(okrs["objectives"]).to_dict())
    assert colours == dict(zip(charts.PACE_COLOURS.domain, charts.PACE_COLOURS.range,
                               strict=True))


@pytest.mark.parametrize("which", ["objectives", "key results"])
def test_bars_fit_their_container_and_place_nothing_at_a_fixed_pixel(okrs, which):
    """A fixed 700 px chart squeezed into a 390 px phone drew its bars at zero
    width: these follow the container, and text starts at its left edge."""
    chart = (progress_charts.objective_progress_bars(okrs["objectives"]) if which == "objectives"
             else progress_charts.key_result_progress_bars(okrs["objectives"][0]["key_results"]))
    spec = chart.to_dict()
    assert spec["width"] == "container"
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    fixed = [layer["encoding"]["x"] for layer in spec["layer"]
             if "value" in layer["encoding"].get("x", {})]
    assert fixed and all(x == {"value": 0} for x in fixed)
    # drawn at a phone's width, the spec renders (vl-convert sizes a container chart as given)
    phone = {**spec, "width": 340}
    assert vl_convert.vegalite_to_svg(phone).count("<text") >= len(okrs["objectives"])
