"""The launch page's PNG report and the charts it shares with the page."""
from __future__ import annotations

import json
import struct
from datetime import date, timedelta

import altair as alt
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.ingest.importing import import_files
from kpi_logic.launch import analysis as launch
from kpi_logic.launch import rules
from kpi_logic.launch import windows as launch_windows
from kpi_logic.output import launch_report

LAUNCH_DAY = date(2025, 3, 1)
# channel: (daily spend around launch, customers per unit of spend ** 0.7, visitors per unit)
CHANNELS = {"search": (400.0, 0.4, 2.0), "social": (200.0, 0.3, 3.0), "display": (600.0, 0.1, 1.5)}


def history_csv(spend_scale: float = 1.0) -> bytes:
    """A launch as an analyst would upload it: 10 days of site traffic before the
    launch and 20 days of channel history from it (long format, channel column)."""
    rng = np.random.default_rng(3)
    lines = ["date,channel,metric,value"]
    for i in range(10):
        day = LAUNCH_DAY - timedelta(days=10 - i)
        lines.append(f"{day},search,visitors,{300 + 10 * i}")
    for i in range(20):
        day = LAUNCH_DAY + timedelta(days=i)
        for channel, (spend, a, per_visit) in CHANNELS.items():
            x = round(spend * spend_scale * rng.uniform(0.4, 1.6), 2)
            customers = round(a * x ** 0.7)
            lines += [f"{day},{channel},spend,{x}", f"{day},{channel},visitors,{round(x * per_visit)}",
                      f"{day},{channel},purchases,{round(customers * 1.2)}",
                      f"{day},{channel},new_customers,{customers}",
                      f"{day},{channel},likes,{round(x / 10)}"]
    return "\n".join(lines).encode()


LAUNCHES = b"launch,launch_date,cac_target,conversion_target\nTest launch,2025-03-01,$40,2%\n"


@pytest.fixture
def found(store):
    import_files(store, [(history_csv(), "history.csv"), (LAUNCHES, "launches.csv")])
    return launch.launch_analysis(store)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_report_is_a_png_of_sensible_size(found):
    width, height = png_size(launch_report.render_launch_report(found, scale=1.0))
    # the drawing plus its padding (strokes may spill a pixel or two), no axis pushing it wider
    assert launch_report.WIDTH + 2 * 36 <= width <= launch_report.WIDTH + 2 * 36 + 4
    assert 900 < height < 2500


def test_the_report_differs_with_the_data_and_grows_with_a_comparison(found, store):
    plain = launch_report.render_launch_report(found, scale=1.0)
    comparison = pd.DataFrame({"scenario": ["Actual", "More search"], "spend": [1e4, 1e4],
                               "visitors": [np.nan] * 2, "purchases": [np.nan] * 2,
                               "new_customers": [300.0, 340.0], "conversion_rate": [0.02, 0.021],
                               "cac": [33.3, 29.4]})
    compared = launch_report.render_launch_report(found, comparison, scale=1.0)
    assert png_size(compared)[1] > png_size(plain)[1] + 150
    import_files(store, [(history_csv(spend_scale=3.0), "history.csv")])   # new spend, same days
    assert launch_report.render_launch_report(launch.launch_analysis(store), scale=1.0) != plain


def chart_text(chart) -> str:
    """The JSON of a chart or of a Vega-Lite dict (the report and its canvas blocks)."""
    return json.dumps(chart if isinstance(chart, dict) else chart.to_dict(), ensure_ascii=False)


def test_the_report_says_in_words_which_channel_is_above_the_cac_target(found):
    flagged = found.kpis.set_index("channel")["above_cac_target"]
    assert flagged.to_dict() == {"display": True, "search": False, "social": False}
    spec = launch_report.launch_report_spec(found)
    alt.VConcatChart.from_dict(spec)        # valid Vega-Lite (from_dict validates)
    text = chart_text(spec)
    assert text.count(rules.ABOVE_TARGET_FLAG) == 1
    assert "above the CAC target of $40: Display." in text
    assert "Test launch: marketing launch" in text and "1 Mar 2025" in text


def test_share_frame_puts_budget_and_customer_shares_side_by_side():
    kpis = pd.DataFrame({"channel": ["display", "email"], "budget_share": [0.8, 0.2],
                         "customer_share": [0.4, 0.6],
                         "above_cac_target": pd.Series([True, None], dtype=object)})
    before = kpis.copy()
    expected = pd.DataFrame({
        "channel": ["Display  ⚠ CAC above target", "Email"] * 2,
        "of": ["share of budget"] * 2 + ["share of new customers"] * 2,
        "share": [0.8, 0.2, 0.4, 0.6]})
    assert_frame_equal(launch_report.share_frame(kpis), expected)
    assert_frame_equal(kpis, before)


def test_traffic_chart_starts_where_asked_and_marks_the_launch(found):
    totals = launch_windows.daily_totals(found.daily)
    chart = launch_report.traffic_chart(totals, LAUNCH_DAY, start=LAUNCH_DAY - timedelta(days=3))
    spec = chart.to_dict()
    rows = [r for data in spec["datasets"].values() for r in data if "visitors" in r]
    assert min(r["obs_date"] for r in rows).startswith("2025-02-26")
    assert "Launch 1 Mar 2025" in chart_text(chart)


def test_campaigns_and_the_promotion_appear_only_when_the_data_has_them(found, store):
    assert "Campaigns since the launch" not in chart_text(launch_report.launch_report_spec(found))
    assert "Social promotion" not in chart_text(launch_report.launch_report_spec(found))
    campaigns = (b"date,channel,campaign,metric,value\n"
                 b"2025-03-02,email,Brand,spend,10\n2025-03-02,email,Brand,new_customers,2\n"
                 b"2025-03-02,email,Generic,spend,90\n2025-03-02,email,Generic,new_customers,1\n")
    promoted = LAUNCHES.replace(b"conversion_target\n", b"conversion_target,promotion_date\n") \
        .replace(b"2%\n", b"2%,2025-03-11\n")
    import_files(store, [(campaigns, "campaigns.csv"), (promoted, "launches.csv")])
    text = chart_text(launch_report.launch_report_spec(launch.launch_analysis(store)))
    assert "Campaigns since the launch" in text
    assert '"Brand"' in text and '"Generic"' in text and '"$90"' in text
    assert "Social promotion from 11 Mar 2025: likes, shares and comments per 100 visitors" in text


def test_engagement_without_likes_shares_or_comments_is_said_in_words(store):
    plain = "\n".join(line for line in history_csv().decode().splitlines()
                      if ",likes," not in line).encode()
    import_files(store, [(plain, "history.csv"), (LAUNCHES, "launches.csv")])
    found = launch.launch_analysis(store)
    sentence = launch_report.engagement_sentence(found, LAUNCH_DAY + timedelta(days=10))
    assert "nan" not in sentence
    assert sentence == ("Social promotion from 11 Mar 2025: no likes, shares or comments "
                        "recorded before it, so engagement cannot be compared.")


def test_the_report_uses_the_promotion_date_it_is_given(found):
    picked = LAUNCH_DAY + timedelta(days=5)
    text = chart_text(launch_report.launch_report_spec(found, promotion=picked))
    assert "Social promotion from 6 Mar 2025" in text


def test_the_adjust_report_shows_the_what_if_split_and_its_totals(found):
    actual = launch.actual_split(found)
    moved = {**actual, "display": 0.0, "search": actual["search"] + actual["display"]}
    result = launch.what_if(found, moved)
    text = chart_text(launch_report.launch_report_spec(found, what_if=(result, moved)))
    assert "What-if split of the daily budget (not saved)" in text
    assert f'"{fmt_money(moved["search"])}"' in text and '"$0"' in text
    assert "Actual split, projected" in text
    assert "What-if split" not in chart_text(launch_report.launch_report_spec(found))


def test_the_scenario_report_shows_each_split_and_the_change_from_the_actual(found, store):
    split = {c: 100.0 for c in found.curves}
    launch.saved_scenario(store, None, "Even", split)
    comparison = launch.compared_scenarios(store, ["Even"])
    splits = launch.scenario_splits(store, ["Even"])
    text = chart_text(launch_report.launch_report_spec(found, comparison, splits=splits))
    assert "How each scenario splits the daily budget:" in text
    assert '"$100"' in text and '"$300"' in text          # each channel, and the total
    rows = comparison.set_index("scenario")
    change = rows.loc["Even", "new_customers"] - rows.loc["Actual split, projected",
                                                          "new_customers"]
    assert f'"{launch_report.fmt.format_count_delta(change)}"' in text
    assert "Changes are against the actual split run through the same response curves" in text


def test_a_scenario_that_is_the_actual_split_shows_no_change(found, store):
    launch.saved_scenario(store, None, "Same", launch.actual_split(found))
    comparison = launch.compared_scenarios(store, ["Same"])
    rows = chart_text(launch_report.comparison_table(comparison))
    same = json_rows(launch_report.comparison_table(comparison))
    line = [r["text"] for r in same if r["kind"] == "text" and r["y"] == max(
        x["y"] for x in same if x["kind"] == "text")]
    assert line[:4] == ["Same", fmt_money(comparison["spend"].iloc[-1]),
                        launch_report.fmt.format_count(comparison["new_customers"].iloc[-1]), "0"]
    assert '"vs actual split"' in rows


def json_rows(chart) -> list[dict]:
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def fmt_money(value: float) -> str:
    return launch_report.fmt.format_value(value, "currency")


def step_spec(found, step, **kwargs) -> str:
    return chart_text(launch_report.launch_report_spec(found, step=step, **kwargs))


def test_each_step_has_its_own_png_showing_what_that_step_shows(found):
    """The page's Measure, Analyse and Improve downloads were one PNG: each is its own."""
    promotion = LAUNCH_DAY + timedelta(days=10)
    measure, analyse, improve = (step_spec(found, s, promotion=promotion)
                                 for s in ("measure", "analyse", "improve"))
    assert '"field": "visitors"' in measure
    assert "Product-page traffic by day" in measure and '"field": "visitors"' not in analyse
    assert "Launch 1 Mar 2025" in measure and "Channels since the launch" not in measure
    assert "Channels since the launch" in analyse and "Launch CAC" in analyse
    assert "Product-page traffic by day" not in analyse and "likes" not in analyse
    assert launch_report.ENGAGEMENT_TITLES[True] in improve and '"field": "per_100"' in improve
    assert "Social promotion from 11 Mar 2025" in improve
    assert "Channels since the launch" not in improve and "Launch CAC" not in improve
    for name, text in (("Measure", measure), ("Analyse", analyse), ("Improve", improve)):
        assert f"Test launch: marketing launch · {name}" in text
    pngs = [launch_report.render_launch_report(found, scale=1.0, step=s, promotion=promotion)
            for s in ("measure", "analyse", "improve")]
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs) and len(set(pngs)) == 3
    with pytest.raises(ValueError, match="Unknown launch step 'nope'"):
        launch_report.launch_report_spec(found, step="nope")


def test_the_adjust_png_carries_the_what_if_its_warnings_and_the_curves_in_words(found):
    actual = launch.actual_split(found)
    cut = {**actual, "display": 1.0}            # far under display's least day
    result = launch.what_if(found, cut)
    assert result["outside_seen"][0]["side"] == "below"
    text = step_spec(found, "adjust", what_if=(result, cut))
    assert "What-if split of the daily budget" in text
    assert "Display: $1 a day is far below the least it has spent in a day" in text
    assert "each extra $100 a day brings about" in text


def test_the_improve_charts_keep_short_axis_titles_and_one_legend(found):
    totals = launch_windows.daily_totals(found.daily)
    for per_visitor in (False, True):
        spec = launch_report.engagement_chart(totals, LAUNCH_DAY, per_visitor=per_visitor).to_dict()
        titles = [layer["encoding"]["y"].get("title") for layer in spec["layer"]
                  if "y" in layer.get("encoding", {}) and "field" in layer["encoding"]["y"]]
        # a long axis title is cut at a chart's height: the long words are the chart's title
        assert titles and all(len(t) <= 16 for t in titles)
    dash = launch_report.engagement_chart(totals, LAUNCH_DAY).to_dict()["layer"][0]["encoding"]
    assert dash["strokeDash"]["scale"]["domain"] == dash["color"]["scale"]["domain"]
