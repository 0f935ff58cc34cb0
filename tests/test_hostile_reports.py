"""The PNG reports on a database whose text is hostile (tests/hostile.py):
Vega-Lite draws text, so the payloads go into the spec as the plain text
they are (not escaped, not markup), and nothing in it could make vl-convert
or a browser load an address from data (no image marks, links or URLs)."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from kpi_logic.launch import analysis as launch
from kpi_logic.metrics import kpis, okrs, overview
from kpi_logic.output import launch_report, report
from kpi_logic.store import open_store
from tests import hostile as h
from tests.e2e_support import PNG_MAGIC


@pytest.fixture(scope="module")
def hostile_con(demo_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile-report") / "hostile.duckdb"
    shutil.copy(demo_file, path)
    h.hostile_database(path)
    with open_store(path, read_only=True) as store:
        yield store


def strings(spec) -> list[str]:
    if isinstance(spec, dict):
        return [s for key, value in spec.items() for s in [key, *strings(value)]]
    if isinstance(spec, list):
        return [s for value in spec for s in strings(value)]
    return [spec] if isinstance(spec, str) else []


def assert_loads_nothing(spec: dict) -> None:
    # Vega loads from an address only through data "url", "image" marks and
    # "href" links; a payload's address is just a string among the values.
    text = json.dumps(spec)
    assert '"href"' not in text and '"image"' not in text and '"url"' not in text


def reports(store) -> dict[str, dict]:
    today = date.today()
    return {
        "scorecard": report.report_spec("scorecard", kpis.scorecard(store, h.IMAGE, as_of=today)),
        "okrs": report.report_spec("okrs", okrs.okr_report(store, as_of=today)),
        "overview": report.report_spec("overview", overview.overview(store, as_of=today)),
        "launch": launch_report.launch_report_spec(launch.launch_analysis(store, h.LAUNCH)),
    }


def test_report_specs_carry_the_payloads_as_plain_text_and_load_nothing(hostile_con):
    specs = reports(hostile_con)
    for spec in specs.values():
        assert_loads_nothing(spec)
    texts = " ".join(s for spec in specs.values() for s in strings(spec))
    for payload in (h.IMAGE, h.LINK, h.BOLD, h.COLOUR, h.HTML, h.HYPERLINK):
        assert payload in texts, payload                    # verbatim: Vega draws text
    assert "\\[" not in texts and "\u2060" not in texts     # no Markdown escaping leaked in


def test_the_hostile_scorecard_png_renders(hostile_con):
    card = kpis.scorecard(hostile_con, h.IMAGE, as_of=date.today())
    assert report.render_report("scorecard", card, scale=1.0).startswith(PNG_MAGIC)
