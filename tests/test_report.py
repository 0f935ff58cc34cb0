"""PNG reports: real PNGs of a sensible size, showing the data they were given."""
from __future__ import annotations

import copy
import json
import struct

import pytest
import vl_convert

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.output import charts, report, report_blocks
from tests.conftest import FIXTURES

REPORT = FIXTURES / "report"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(kind: str) -> dict:
    return json.loads((REPORT / f"{kind}.json").read_text())


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has first."""
    assert data[:8] == PNG_MAGIC
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def spec_texts(kind: str, data: dict, title: str | None = None) -> list[str]:
    """Every text the report draws from its data (canvas texts, labels)."""
    spec = report.report_chart(kind, data, title=title).to_dict()
    return [str(row.get("text")) for rows in spec["datasets"].values() for row in rows
            if row.get("text") is not None]


@pytest.mark.parametrize("kind", report.KINDS)
def test_report_is_a_png_of_sensible_size(kind):
    data = load(kind)
    before = copy.deepcopy(data)
    png = report.render_report(kind, data)
    width, height = png_size(png)
    assert 2000 <= width <= 3000           # about 1,200 px drawn at scale 2
    assert 1000 <= height <= 6000
    assert png.endswith(b"IEND\xaeB`\x82")
    assert data == before


def test_scale_changes_the_pixel_size():
    small = png_size(report.render_report("overview", load("overview"), scale=1))
    large = png_size(report.render_report("overview", load("overview"), scale=2))
    assert large[0] == pytest.approx(2 * small[0], abs=2)


@pytest.mark.parametrize("kind, change", [
    ("scorecard", lambda d: d["kpis"][1].update(value=39.0, status="healthy")),
    ("okrs", lambda d: d["objectives"][0].update(progress=0.9)),
    ("overview", lambda d: d["alerts"].pop()),
])
def test_reports_differ_when_the_data_differ(kind, change):
    data = load(kind)
    first = report.render_report(kind, data, scale=1)
    change(data)
    assert report.render_report(kind, data, scale=1) != first


def test_unknown_kind_is_refused_with_the_choices():
    with pytest.raises(InputError, match="overview, scorecard, okrs"):
        report.render_report("weekly", {})


@pytest.mark.parametrize("kind, data, message", [
    ("scorecard", {"department": "HR", "period": "2025-03", "kpis": []},
     "No KPIs are defined for HR yet."),
    ("okrs", {"as_of": "2025-05-16", "objectives": []}, "No objectives are defined yet."),
    ("overview", {"as_of": "2025-05-16"}, "No alerts: nothing needs attention."),
])
def test_empty_data_renders_with_a_message(kind, data, message):
    assert message in spec_texts(kind, data)
    assert report.render_report(kind, data, scale=1)[:8] == PNG_MAGIC


def test_scorecard_header_says_department_period_and_as_of():
    data = {**load("scorecard"), "as_of": "2025-04-02", "partial": True}
    texts = spec_texts("scorecard", data)
    assert "Marketing scorecard" in texts
    facts = next(t for t in texts if t.startswith("Department:"))
    assert "Period: Mar 2025 (incomplete period)" in facts
    assert "As of: 2 Apr 2025" in facts


def test_custom_title_replaces_the_default():
    texts = spec_texts("scorecard", load("scorecard"), title="Weekly numbers")
    assert "Weekly numbers" in texts and "Marketing scorecard" not in texts


def test_kpi_tile_shows_value_status_rule_and_changes_in_direction_colours():
    cac = load("scorecard")["kpis"][1]                 # CAC rose: bad news
    tile = report_blocks.kpi_tile(cac)
    assert tile["value"] == "$56.20" and tile["status"] == "unhealthy"
    texts = [text for text, _ in tile["lines"]]
    assert texts[:3] == ["Target: at most $40",
                         "▲ +$4.50 (+8.7%) vs Feb 2025",
                         "▲ +$17.10 (+43.7%) vs Mar 2024"]
    assert tile["lines"][1][1] == fmt.BAD
    assert texts[3] == "⚠ Missed 7 periods in a row: review this target"


def test_falling_response_time_is_good_news():
    response = load("scorecard")["kpis"][3]
    line = report_blocks.change_line(response["vs_previous"], "duration", "down")
    assert line == ("▼ -1.5 h (-26.8%) vs Feb 2025", fmt.GOOD)


def test_change_from_zero_says_new():
    partner = load("scorecard")["kpis"][4]
    assert report_blocks.change_line(partner["vs_last_year"], "currency", "up")[0] == \
        "▲ +$5,000 (new) vs Mar 2024"


def test_every_status_in_the_reports_is_written_in_words():
    texts = spec_texts("okrs", load("okrs"))
    for status in ("achieved", "on_track", "at_risk", "off_track", "no_data"):
        assert fmt.status_badge(status) in texts
    texts = spec_texts("scorecard", load("scorecard"))
    for status in ("healthy", "at_risk", "unhealthy"):
        assert fmt.status_badge(status) in texts


def test_overview_lists_alerts_most_severe_first():
    data = load("overview")
    data["alerts"].reverse()
    texts = spec_texts("overview", data)
    severities = [t for t in texts if t in ("✖ High", "⚠ Medium", "ℹ Low")]
    assert severities == ["✖ High", "✖ High", "⚠ Medium", "ℹ Low"]


def test_too_many_kpis_are_flagged():
    data = {**load("scorecard"), "too_many_kpis": True}
    assert any(t.startswith("⚠ 5 KPIs in Marketing") for t in spec_texts("scorecard", data))


def test_okr_report_shows_raw_progress_when_clamped():
    texts = spec_texts("okrs", load("okrs"))
    assert "100%  ·  expected 50%" in texts and "0%  ·  expected 50%" in texts
    assert sum(t.endswith("  ·  117% of the way") for t in texts) == 1
    assert sum(t.endswith("  ·  -33% of the way") for t in texts) == 1


def canvas_texts(kind: str, data: dict) -> list[dict]:
    """The canvas's text rows (text, size, limit) of the report."""
    spec = report.report_chart(kind, data).to_dict()
    return [row for rows in spec["datasets"].values() for row in rows
            if row.get("kind") == "text"]


def test_a_key_result_that_overshot_before_its_deadline_fits_beside_its_bar():
    """"100% (116% of the way) · expected 100%" was cut to "expected 10…" by the
    room between the bar and the status: each text now fits its room (a generous
    0.62 em per character of Liberation Sans), and no number is lost."""
    data = copy.deepcopy(load("okrs"))
    kr = data["objectives"][0]["key_results"][0]
    kr.update(progress=1.0, progress_raw=1.164, expected=1.0, ended=False, status="achieved")
    rows = {row["text"]: row for row in canvas_texts("okrs", data)}
    assert "100%  ·  expected 100%" in rows
    way = [t for t in rows if t.endswith("  ·  116% of the way")]
    assert len(way) == 1
    for text in ("100%  ·  expected 100%", way[0]):
        assert len(text) * 0.62 * rows[text]["size"] <= rows[text]["limit"], text


def test_long_alert_lists_are_cut_and_counted():
    data = load("overview")
    data["alerts"] = [{"kind": "stale", "severity": "low", "text": f"alert {i}"}
                      for i in range(20)]
    texts = spec_texts("overview", data)
    assert "alert 14" in texts and "alert 15" not in texts
    assert "… and 5 more on the dashboard's overview page" in texts


def test_stale_and_partial_kpis_say_so_on_their_tiles():
    from kpi_logic.output import report_blocks
    stale = {"title": "Calls", "status": "no_data", "stale": True, "data_through": "2025-03-10",
             "unit": "number", "target": 1000, "target_kind": "min",
             "vs_previous": {"abs": None, "pct": None, "label": "2025-04"}}
    lines = [text for text, _ in report_blocks.kpi_tile(stale)["lines"]]
    assert lines == ["Target: at least 1,000", "No data since 10 Mar 2025"]
    partial = {**stale, "stale": False, "partial": True, "status": "healthy", "value": 350,
               "pace": {"share": 10 / 31, "target": 322.6, "projected": 1085.0}}
    lines = [text for text, _ in report_blocks.kpi_tile(partial)["lines"]]
    assert lines[1] == "So far: data through 10 Mar; on pace for 1,085 of 1,000"
    assert len(lines) == 4


def running_scorecard() -> dict:
    """The fixture's scorecard with March 2025 still running: CAC so far $56.20, heading
    for $55 (80% range $50 to $60), 2% chance of meeting its $40 ceiling."""
    data = load("scorecard")
    data["partial"] = True
    for kpi in data["kpis"]:
        kpi.update(partial=True, data_through="2025-03-10")
        kpi["history"][-1]["partial"] = True
    data["kpis"][1]["forecast"] = {"value": 55.0, "low": 50.0, "high": 60.0,
                                   "chance_of_target": 0.02, "method": "so_far",
                                   "backtested_periods": 12}
    return data


def test_a_running_kpis_tile_says_where_it_is_heading_and_its_chance():
    lines = [text for text, _ in report_blocks.kpi_tile(running_scorecard()["kpis"][1])["lines"]]
    assert lines[1:4] == ["So far: data through 10 Mar", "→ Heading for $55 (80% range $50–$60)",
                          "2% chance of meeting the target"]


def test_the_scorecard_png_of_a_running_period_draws_the_forecast_and_keys_it():
    data = running_scorecard()
    texts = spec_texts("scorecard", data)
    assert any(t.startswith("forecast: the running period drawn where it is heading, its 80% "
                            "range as a blue fan and bar") for t in texts)
    plain = load("scorecard")
    assert not any(t.startswith("forecast:") for t in spec_texts("scorecard", plain))
    png = report.render_report("scorecard", data, scale=1)
    width, height = png_size(png)
    assert 1000 <= width <= 1500 and 1000 <= height <= 3000
    # the fan and the bar are drawn in the forecast's blue, which a complete period lacks
    def blue_marks(data: dict) -> int:
        svg = vl_convert.vegalite_to_svg(report.report_spec("scorecard", data))
        return svg.count(f'"{charts.FORECAST}"')
    assert blue_marks(data) >= 4 and blue_marks(plain) == 0


def test_the_scorecard_png_says_why_each_kpi_moved(demo_file):
    # The CLI's and the dashboard's scorecard PNG carry each KPI's change split into
    # its drivers (explain.explained_scorecard); a card without them has no such section.
    from kpi_logic.metrics.explain import explained_scorecard
    from kpi_logic.store import open_store
    with open_store(demo_file, read_only=True, migrate=False) as store:
        card = explained_scorecard(store, "Marketing", as_of="2026-12-07")
    explained = card["explanations"]
    assert set(explained) == {k["title"] for k in card["kpis"] if k["value"] is not None}
    cac = explained["Customer acquisition cost"]
    assert sum(d["contribution"] for d in cac["drivers"]) == pytest.approx(cac["change"]["abs"])
    texts = spec_texts("scorecard", card)
    assert "Why they moved (against the previous period)" in texts
    for title in explained:
        assert fmt.explanation_line(explained[title], most=2) in texts
    plain = {k: v for k, v in card.items() if k != "explanations"}
    assert not any(t.startswith("Why they moved") for t in spec_texts("scorecard", plain))
