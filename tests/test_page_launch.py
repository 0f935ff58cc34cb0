"""AppTest of the Marketing launch page on the demo company (kpi_logic.demo: one
launch, five channels, display clearly dearer than the CAC target)."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.domain import formatting as fmt
from kpi_logic.ingest.importing import import_files
from kpi_logic.launch import analysis as launch
from kpi_logic.launch import windows as launch_windows
from kpi_logic.store import launches as launch_store
from kpi_logic.store import open_store
from tests.readable import shown

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "launch.py")
CHANNELS = ["display", "email", "partners", "search_ads", "social"]


@pytest.fixture
def page_db(demo_database, use_database):
    return use_database(demo_database)


def opened(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def number(text: str) -> float:
    """'9,237' / '11.6k' / '$51.00' as a float."""
    text = text.replace("$", "").replace(",", "")
    scale = {"k": 1e3, "M": 1e6}.get(text[-1], 1)
    return float(text.rstrip("kM")) * scale


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def split(at: AppTest) -> dict[str, float]:
    return {s.key.removeprefix("launch_budget_"): s.value for s in at.slider}


def test_analyse_shows_every_channel_and_flags_the_expensive_one(page_db):
    at = opened(step="Analyse")
    table = table_with(at, "cac_vs_target").set_index("channel")
    # channels in words on the page ("search_ads" as "Search ads")
    assert sorted(table.index) == sorted(fmt.dimension_label(c) for c in CHANNELS)
    assert table.loc["Display", "cac_vs_target"] == "⚠ above target"
    assert set(table.drop(index="Display")["cac_vs_target"]) == {"✔ within target"}
    assert table.loc["Display", "cac"] > 55 > table["cac"].drop("Display").max()
    assert len(at.warning) == 1 and "**Display**" in shown(at.warning[0].value)
    assert "above the CAC target of $55" in shown(at.warning[0].value)
    with open_store(page_db) as store:
        total = launch.launch_kpis(launch.launch_analysis(store))
    assert number(metric(at, "New customers since launch")) == total["new_customers"]
    badges = [shown(m.value) for m in at.markdown if "· target" in m.value]
    assert badges == [f"**{fmt.status_badge(total['conversion_status'])}** · target at least 2.2%",
                      f"**{fmt.status_badge(total['cac_status'])}** · target at most $55"]


def test_analyse_breaks_channels_down_by_campaign(page_db):
    at = opened(step="Analyse")
    table = table_with(at, "campaign")
    assert [tuple(r) for r in table[["channel", "campaign"]].to_numpy()] == [
        ("Display", "Launch banners"), ("Display", "Retargeting"),
        ("Search ads", "Brand terms"), ("Search ads", "Pathfinder keywords"),
        ("Social", "Creator promotion"), ("Social", "Launch posts")]
    with open_store(page_db) as store:
        found = launch.launch_analysis(store)
    pd.testing.assert_series_equal(table["cac"], found.campaigns["cac"], check_names=False)
    by_campaign = table.set_index("campaign")
    assert by_campaign.loc["Brand terms", "cac"] < by_campaign.loc["Pathfinder keywords", "cac"]
    search = found.kpis.set_index("channel").loc["search_ads"]
    assert by_campaign.loc[["Brand terms", "Pathfinder keywords"], "spend"].sum() == \
        pytest.approx(search["spend"])
    sentence = next(text for text in map(shown, (c.value for c in at.caption))
                    if text.startswith("Best converting: "))
    assert sentence.startswith("Best converting: Brand terms on Search ads")
    assert "Above the CAC target of $55: Launch banners on Display ($" in sentence
    assert "Without a campaign breakdown: Email, Partners." in sentence


def test_measure_states_the_comparison_windows(page_db):
    at = opened()
    assert at.segmented_control(key="launch_step").value == "Measure"
    assert number(metric(at, "Visitors per day since")) > number(metric(at, "Visitors per day before"))
    assert any(re.search(r"\d+ days before \(\d{1,2} [A-Z][a-z]{2} \d{4} to", shown(c.value))
               for c in at.caption)
    at.segmented_control(key="launch_step").set_value("Adjust").run()
    assert at.query_params["step"] == "Adjust" and at.query_params["launch"] == "Pathfinder launch"
    assert at.slider


def test_moving_a_slider_changes_the_projection_and_keeps_the_total(page_db):
    at = opened(step="Adjust")
    before = split(at)
    projected = number(metric(at, "Projected new customers"))
    at.slider(key="launch_budget_display").set_value(500.0).run()
    after = split(at)
    assert after["display"] == 500.0
    assert sum(after.values()) == pytest.approx(sum(before.values()))
    assert after["search_ads"] > before["search_ads"]          # display's money went elsewhere
    assert number(metric(at, "Projected new customers")) > projected
    totals = table_with(at, "scenario").set_index("scenario")
    assert totals.loc["What-if", "spend"] == pytest.approx(totals.loc["Actual", "spend"])


def test_without_a_fixed_total_only_the_moved_channel_changes(page_db):
    at = opened(step="Adjust")
    before = split(at)
    at.toggle(key="launch_keep_total").set_value(False).run()
    at.slider(key="launch_budget_display").set_value(0.0).run()
    after = split(at)
    assert after == {**before, "display": 0.0}
    totals = table_with(at, "scenario").set_index("scenario")
    assert totals.loc["What-if", "spend"] < totals.loc["Actual", "spend"]
    at.button(key="launch_reset").click().run()
    assert split(at) == before


def test_optimise_is_at_least_as_good_as_the_actual_and_says_what_moved(page_db):
    at = opened(step="Adjust")
    total = sum(split(at).values())
    at.button(key="launch_optimise").click().run()
    assert not at.exception and not at.error
    assert sum(split(at).values()) == pytest.approx(total)
    totals = table_with(at, "scenario").set_index("scenario")
    # the same money to the cent: the budget box starts at the actual total, unrounded
    assert totals.loc["What-if", "spend"] == pytest.approx(totals.loc["Actual", "spend"], abs=0.005)
    assert totals.loc["What-if", "new_customers"] >= totals.loc["Actual split, projected", "new_customers"]
    assert totals.loc["What-if", "new_customers"] >= totals.loc["Actual", "new_customers"]
    moves = " ".join(shown(m.value) for m in at.markdown)
    assert "Cut Display from" in moves and "In total: +" in moves


def test_optimise_respects_bounds_and_refuses_impossible_ones(page_db):
    at = opened(step="Adjust")
    at.number_input(key="launch_max_display").set_value(1000.0).run()
    at.button(key="launch_optimise").click().run()
    assert split(at)["display"] <= 1000.0 + 1e-6
    at.number_input(key="launch_min_email").set_value(1e6).run()
    at.button(key="launch_optimise").click().run()
    assert not at.exception
    assert "minimums add up to" in shown(at.error[0].value)


def test_goal_mode_finds_the_least_spend_for_the_customers(page_db):
    at = opened(step="Adjust")
    total = sum(split(at).values())
    at.radio(key="launch_opt_mode").set_value("goal").run()
    goal = at.number_input(key="launch_opt_goal").value
    at.button(key="launch_optimise").click().run()
    assert sum(split(at).values()) < total              # the actual customers, cheaper
    projected = table_with(at, "scenario").set_index("scenario").loc["What-if", "new_customers"]
    with open_store(page_db) as store:
        days = launch.launch_analysis(store).days
    assert projected / days == pytest.approx(goal, rel=1e-3)


def save(at: AppTest, name: str) -> AppTest:
    at.text_input(key="launch_scenario_name").input(name).run()
    return at.button(key="launch_save").click().run()


def test_saving_two_scenarios_and_comparing_them_with_the_actual(page_db):
    at = opened(step="Adjust")
    save(at, "Actual split")
    assert "Saved 'Actual split'" in shown(at.success[0].value)
    at.slider(key="launch_budget_display").set_value(300.0).run()
    save(at, "Less display")
    save(at, "Less display")
    assert "already exists" in shown(at.error[0].value)

    at = opened(step="Scenarios", compare="Actual split,Less display")
    comparison = table_with(at, "scenario")
    assert comparison["scenario"].tolist() == ["Actual", "Actual split, projected",
                                               "Actual split", "Less display"]
    rows = comparison.set_index("scenario")
    assert rows.loc["Less display", "new_customers"] > rows.loc["Actual split", "new_customers"]
    assert rows.loc["Less display", "cac"] < rows.loc["Actual", "cac"]
    assert len(at.get("vega_lite_chart")) == 1
    splits = table_with(at, "total").set_index("scenario")
    assert splits.loc["Less display", "display"] == 300.0
    assert splits.loc["Less display", "total"] == pytest.approx(splits.loc["Actual", "total"])
    assert splits.loc["Actual split", "display"] == pytest.approx(splits.loc["Actual", "display"])
    at.multiselect(key="launch_compare_picker").unselect("Actual split").run()
    assert at.query_params["compare"] == "Less display"
    with open_store(page_db) as store:
        assert launch_store.list_scenarios(store.connection)["name"].tolist() == ["Actual split", "Less display"]


def test_rename_and_delete_a_scenario(page_db):
    save(opened(step="Adjust"), "Plan A")
    at = opened(step="Scenarios")
    at.text_input(key="launch_manage_name").input("Plan B").run()
    at.button(key="launch_rename").click().run()
    assert table_with(at, "spend_per_day")["name"].tolist() == ["Plan B"]
    at.button(key="launch_delete").click().run()
    assert "No scenarios saved yet" in shown(at.info[0].value)


def test_viewer_mode_cannot_save_rename_or_delete(page_db, monkeypatch):
    save(opened(step="Adjust"), "Plan A")
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "secret")
    at = opened(step="Adjust")
    assert not [b for b in at.button if b.key in ("launch_save",)]
    assert any("Viewer mode" in shown(c.value) for c in at.caption)
    at = opened(step="Scenarios", compare="Plan A")
    assert not [b for b in at.button if b.key in ("launch_rename", "launch_delete")]
    assert table_with(at, "scenario")["scenario"].tolist()[-1] == "Plan A"


def test_improve_compares_engagement_around_the_launchs_promotion_date(page_db):
    with open_store(page_db) as store:
        spec = launch.launch_analysis(store).launch
    at = opened(step="Improve")
    assert at.date_input(key="launch_promotion").value == spec.promotion_date
    table = table_with(at, "measure").set_index("measure")
    # the demo's social promotion runs from day 21 to 42 and triples engagement
    assert table.loc["All three", "after"] > 1.5 * table.loc["All three", "before"]
    assert any("Per 100 product-page visitors" in shown(c.value) for c in at.caption)
    with open_store(page_db) as store:
        found = launch.launch_analysis(store)
    engine = launch_windows.engagement_change(found.daily, spec.promotion_date).table.set_index("measure")
    assert table.loc["Likes", "after"] == pytest.approx(100 * engine.loc["likes", "after"])
    assert "promo" not in at.query_params          # the definition's date needs no URL


def test_a_picked_promotion_date_travels_in_the_link(page_db):
    with open_store(page_db) as store:
        spec = launch.launch_analysis(store).launch
    at = opened(step="Improve")
    later = spec.promotion_date + timedelta(days=21)      # the day the promotion ended
    at.date_input(key="launch_promotion").set_value(later).run()
    assert at.query_params["promo"] == later.isoformat()
    table = table_with(at, "measure").set_index("measure")
    assert table.loc["All three", "after"] < table.loc["All three", "before"]
    shared = opened(step="Improve", promo=later.isoformat())
    assert shared.date_input(key="launch_promotion").value == later
    ignored = opened(step="Improve", promo="not-a-date")
    assert ignored.date_input(key="launch_promotion").value == spec.promotion_date


def test_the_picked_promotion_date_survives_other_steps_until_the_definition_changes(page_db):
    with open_store(page_db) as store:
        spec = launch.launch_analysis(store).launch
    at = opened(step="Improve")
    picked = spec.promotion_date + timedelta(days=3)
    at.date_input(key="launch_promotion").set_value(picked).run()
    at.segmented_control(key="launch_step").set_value("Analyse").run()
    assert at.query_params["promo"] == picked.isoformat()     # a link copied here keeps it
    at.segmented_control(key="launch_step").set_value("Improve").run()
    assert at.date_input(key="launch_promotion").value == picked
    moved = spec.promotion_date + timedelta(days=7)
    with open_store(page_db) as store:          # the analyst corrects the launch definition
        import_files(store, [(f"launch,launch_date,cac_target,conversion_target,promotion_date\n"
                            f"{spec.launch},{spec.launch_date},55,2.2%,{moved}\n".encode(),
                            "launches.csv")])
    at.run()
    assert at.date_input(key="launch_promotion").value == moved
    assert "promo" not in at.query_params


def test_a_database_without_a_launch_says_what_to_import(database, use_database):
    with open_store(use_database(database)):
        pass
    at = opened()
    assert "No launch is defined yet" in shown(at.info[0].value)


def test_a_launch_without_channel_history_is_explained_not_a_traceback(database, use_database):
    with open_store(use_database(database)) as store:
        import_files(store, [(b"launch,launch_date\nAutumn,2025-09-01\n", "launches.csv")])
    at = opened(step="Adjust")
    assert "no channel history from its launch date 2025-09-01" in shown(at.error[0].value)


@pytest.mark.parametrize("step", ["Measure", "Analyse", "Adjust", "Improve", "Scenarios"])
def test_every_step_of_the_demo_launch_draws_without_an_error_box(page_db, step):
    """A widget refusing its arguments shows as an error box, not an exception."""
    at = opened(step=step)
    assert not at.error, [shown(e.value) for e in at.error]


def test_each_slider_starts_at_the_actual_as_its_label_shows_it(page_db):
    """A slider showing $734 beside 'actual $735' read as a mistake."""
    at = opened(step="Adjust")
    with open_store(page_db) as store:
        actual = launch.actual_split(launch.launch_analysis(store))
    for channel, spend in actual.items():
        slider = at.slider(key=f"launch_budget_{channel}")
        assert slider.value == pytest.approx(spend)             # the actual itself, unrounded
        shown_actual = fmt.format_value(spend, "currency", whole=True)
        assert f"(actual {shown_actual})" in shown(slider.label)
        # the slider writes its value with "%,.0f": rounded, not cut ("%d" cut $734.60 to $734)
        assert slider.proto.format == "$%,.0f"
        assert f"${round(spend + 1e-9):,}" == shown_actual


def test_the_optimiser_speaks_money_and_warns_once_when_a_channel_leaves_its_range(page_db):
    at = opened(step="Adjust")
    at.button(key="launch_optimise").click().run()
    moves = [shown(m.value) for m in at.markdown if "Cut Display from" in shown(m.value)]
    assert moves and re.search(r"Cut Display from \$[\d,]+ to \$[\d,]+ a day \(its next customer "
                               r"cost \$[\d,]+\)", moves[0])
    assert "+0.00" not in moves[0] and "for the same daily spend" in moves[0]
    assert not at.warning               # within the daily spend seen: nothing extrapolates
    with open_store(page_db) as store:
        curves = launch.launch_analysis(store).curves
    assert split(at)["display"] >= curves["display"].min_spend_seen - 1e-6
    # allowed outside the range seen, the optimiser cuts display under its least day
    at.toggle(key="launch_opt_within_seen").set_value(False).run()
    at.button(key="launch_optimise").click().run()
    warnings = [shown(w.value) for w in at.warning]
    below = [w for w in warnings if w.startswith("Display: $") and "far below the least" in w]
    assert len(below) == 1, warnings    # shown once, not under the what-if and again under the moves
    assert len(warnings) == len(set(warnings))


def test_the_curves_are_in_plain_words_and_the_fit_is_kept_for_an_analyst(page_db):
    at = opened(step="Adjust")
    words = " ".join(shown(m.value) for m in at.markdown)
    for channel in CHANNELS:
        assert re.search(rf"{fmt.dimension_label(channel)}: each extra \$100 a day brings about "
                         rf"[\d.]+ more new customers a day at today's \$[\d,]+ a day", words)
    assert "of the day-to-day variation" in words
    fits = table_with(at, "r2")
    assert fits["channel"].tolist() == [fmt.dimension_label(c) for c in CHANNELS]
    assert {"b", "min_spend_seen"} <= set(fits.columns)


def test_the_steps_wrap_on_a_narrow_screen(page_db):
    assert opened().segmented_control(key="launch_step").proto.wrap is True
