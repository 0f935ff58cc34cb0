"""The marketing launch: channel KPIs, before/after windows, the launch summary and
optimiser read from the store, and saved scenarios (the curves, projections and
optimiser themselves are in test_curves.py, test_budget.py and test_optimiser.py)."""
from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.launch import analysis as L
from kpi_logic.launch import budget as B
from kpi_logic.launch import windows as W
from kpi_logic.store import launches as launch_store
from tests.builders import add_batch, add_daily

LAUNCH_DAY = date(2025, 3, 1)


# --- channel KPIs ----------------------------------------------------------

def channel_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["channel", "spend", "visitors", "purchases", "new_customers"])


def test_channel_kpis_come_from_summed_components():
    daily = channel_rows(("search", 100.0, 200.0, 20.0, 10.0), ("search", 300.0, 1800.0, 18.0, 10.0),
                         ("partners", 100.0, 50.0, 0.0, 0.0))
    before = daily.copy()
    kpis = L.channel_kpis(daily, cac_target=25.0)
    expected = pd.DataFrame({
        "channel": ["partners", "search"], "spend": [100.0, 400.0], "visitors": [50.0, 2000.0],
        "purchases": [0.0, 38.0], "new_customers": [0.0, 20.0],
        # 38 / 2000, not the mean of 10% and 1%
        "conversion_rate": [0.0, 0.019], "cac": [np.nan, 20.0],
        "budget_share": [0.2, 0.8], "customer_share": [0.0, 1.0],
        "above_cac_target": pd.Series([None, False], dtype=object)})
    assert_frame_equal(kpis, expected)
    assert_frame_equal(daily, before)


def test_channels_above_the_cac_target_are_flagged():
    kpis = L.channel_kpis(channel_rows(("search", 900.0, 100.0, 10.0, 10.0),
                                       ("email", 100.0, 100.0, 10.0, 10.0)), cac_target=40.0)
    assert dict(zip(kpis["channel"], kpis["above_cac_target"], strict=True)) == {"email": False, "search": True}
    no_target = L.channel_kpis(channel_rows(("search", 900.0, 100.0, 10.0, 10.0)))
    assert no_target["above_cac_target"].tolist() == [None]


def test_blended_totals_never_divide_by_zero():
    kpis = L.channel_kpis(channel_rows(("partners", 100.0, 0.0, 0.0, 0.0)))
    assert B.blended(kpis) == {"spend": 100.0, "visitors": 0.0, "purchases": 0.0,
                               "new_customers": 0.0, "conversion_rate": None, "cac": None}


# --- before and after ------------------------------------------------------

def traffic(start: date, values, channel: str = "") -> pd.DataFrame:
    return pd.DataFrame({"obs_date": [start + timedelta(days=i) for i in range(len(values))],
                         "channel": channel, "visitors": values})


def test_traffic_uplift_uses_equal_windows_either_side_of_the_launch():
    daily = pd.concat([traffic(date(2025, 2, 26), [10.0, 10.0, 10.0, 30.0, 30.0, 30.0, 50.0, 50.0]),
                       traffic(LAUNCH_DAY, [10.0, 10.0], "search")])
    uplift = W.traffic_uplift(daily, LAUNCH_DAY)
    assert (uplift.before_start, uplift.before_end, uplift.after_start, uplift.after_end, uplift.days) == (
        date(2025, 2, 26), date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 3), 3)
    # 30 before per day; from the launch 40 + 40 + 30 over 3 days
    assert uplift.table.iloc[0].to_dict() == {"measure": "visitors per day", "before": 10.0,
                                              "after": 110 / 3, "change": 110 / 3 - 10.0,
                                              "relative_change": (110 / 3 - 10.0) / 10.0}
    assert "3 days before (26 Feb 2025 to 28 Feb 2025) vs 3 days from (1 Mar 2025 to 3 Mar 2025)" in uplift.windows_text()
    assert W.traffic_uplift(daily, LAUNCH_DAY, window_days=1).before_start == date(2025, 2, 28)


def test_traffic_uplift_without_days_before_says_why():
    uplift = W.traffic_uplift(traffic(LAUNCH_DAY, [10.0, 20.0]), LAUNCH_DAY)
    assert uplift.days == 0 and uplift.table.empty
    assert uplift.reason == "No visitors data before 2025-03-01: the comparison needs days on both sides."


def test_traffic_from_zero_has_no_relative_change():
    uplift = W.traffic_uplift(traffic(date(2025, 2, 28), [0.0, 10.0]), LAUNCH_DAY)
    assert uplift.table["change"].iloc[0] == 10.0 and np.isnan(uplift.table["relative_change"].iloc[0])


@pytest.mark.parametrize("when", [None, pd.NaT])
def test_a_missing_launch_date_is_refused(when):
    with pytest.raises(InputError, match="no launch date: add launch_date"):
        W.traffic_uplift(traffic(LAUNCH_DAY, [1.0]), when)


def test_engagement_per_visitor_before_and_after_a_promotion():
    daily = pd.DataFrame({"obs_date": [date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 2)],
                          "visitors": [100.0, 100.0, 100.0], "likes": [2.0, 2.0, 10.0],
                          "shares": [0.0, 0.0, 5.0], "comments": [1.0, None, 5.0]})
    change = W.engagement_change(daily, date(2025, 3, 2))
    table = change.table.set_index("measure")
    assert table.loc["likes", "before"] == pytest.approx(4 / 200)
    assert table.loc["engagement", "after"] == pytest.approx(20 / 100)
    assert table.loc["engagement", "before"] == pytest.approx(5 / 200)
    assert np.isnan(table.loc["shares", "relative_change"])


def test_daily_totals_sum_channels_per_day():
    daily = pd.DataFrame({"obs_date": [LAUNCH_DAY] * 2, "spend": [10.0, 20.0], "visitors": [100.0, 300.0],
                          "purchases": [4.0, 4.0], "new_customers": [1.0, 2.0], "likes": [4.0, None],
                          "shares": [None, None], "comments": [None, None]})
    totals = W.daily_totals(daily)
    assert totals.iloc[0][["spend", "visitors", "conversion_rate", "engagement_per_visitor"]].tolist() == [
        30.0, 400.0, 0.02, 0.01]


# --- from the store ----------------------------------------------------------

def add_launch(store, name="Aurora", launch_date=LAUNCH_DAY, cac_target=25.0, conversion_target=0.02):
    batch = add_batch(store, kind="launches")
    store.connection.execute("insert into launches (launch, launch_date, conversion_target, cac_target, batch_id) "
                "values (?, ?, ?, ?, ?)", [name, launch_date, conversion_target, cac_target, batch])


SEARCH_SPEND = [100.0, 200.0, 400.0, 800.0, 150.0, 300.0, 600.0, 120.0, 250.0, 500.0, 700.0, 900.0]


def add_launch_history(store):
    """Aurora: 12 days from 1 March on 4 channels and 4 days of site traffic before."""
    start = LAUNCH_DAY.isoformat()
    add_daily(store, "visitors", "2025-02-25", [50.0, 50.0, 50.0, 50.0])
    add_daily(store, "spend", start, SEARCH_SPEND, "search")
    add_daily(store, "new_customers", start, [0.5 * x ** 0.7 for x in SEARCH_SPEND], "search")
    add_daily(store, "visitors", start, [x / 2 for x in SEARCH_SPEND], "search")
    add_daily(store, "purchases", start, [0.6 * x ** 0.7 for x in SEARCH_SPEND], "search")
    add_daily(store, "spend", start, [50.0] * 12, "social")
    add_daily(store, "new_customers", start, [1.0] * 12, "social")
    add_daily(store, "visitors", start, [100.0] * 12, "social")
    add_daily(store, "purchases", start, [1.0] * 12, "social")
    add_daily(store, "spend", start, [30.0] * 12, "partners")
    add_daily(store, "new_customers", start, [0.0] * 12, "partners")
    add_daily(store, "visitors", start, [10.0] * 12, "partners")
    add_daily(store, "visitors", start, [40.0] * 12, "email")
    add_daily(store, "purchases", start, [2.0] * 12, "email")


def test_launch_daily_pivots_current_history_by_day_and_channel(store):
    add_daily(store, "spend", "2025-03-01", [10.0, 20.0], "search")
    add_daily(store, "spend", "2025-03-01", [15.0], "search")           # replaces the first day
    add_daily(store, "likes", "2025-03-02", [7.0], "social")
    add_daily(store, "revenue", "2025-03-01", [999.0])                  # not a launch metric
    daily = launch_store.launch_daily(store.connection)
    assert daily.columns.tolist() == ["obs_date", "channel", *launch_store.LAUNCH_METRICS]
    assert daily[["obs_date", "channel", "spend", "likes"]].to_dict("records") == [
        {"obs_date": date(2025, 3, 1), "channel": "search", "spend": 15.0, "likes": pytest.approx(np.nan, nan_ok=True)},
        {"obs_date": date(2025, 3, 2), "channel": "search", "spend": 20.0, "likes": pytest.approx(np.nan, nan_ok=True)},
        {"obs_date": date(2025, 3, 2), "channel": "social", "spend": pytest.approx(np.nan, nan_ok=True), "likes": 7.0}]


def test_launch_summary_reports_channels_totals_and_curves(store):
    add_launch(store)
    add_launch_history(store)
    summary = L.launch_summary(store)
    json.dumps(summary, allow_nan=False)            # the CLI prints it: no NaN, no inf
    assert (summary["launch"], summary["launch_date"], summary["days"]) == ("Aurora", "2025-03-01", 12)
    channels = {c["channel"]: c for c in summary["channels"]}
    assert list(channels) == ["email", "partners", "search", "social"]
    assert channels["partners"]["cac"] is None and channels["partners"]["above_cac_target"] is None
    assert channels["partners"]["curve"]["a"] == 0.0
    assert channels["social"]["cac"] == 50.0 and channels["social"]["above_cac_target"] is True
    assert channels["social"]["curve"]["model"] == "constant_cac"
    assert channels["search"]["curve"]["model"] == "power"
    assert channels["search"]["curve"]["b"] == pytest.approx(0.7, rel=1e-6)
    assert channels["email"]["curve"] is None and "no day with spend" in channels["email"]["curve_problem"]
    spend = sum(SEARCH_SPEND) + 50 * 12 + 30 * 12
    new = sum(0.5 * x ** 0.7 for x in SEARCH_SPEND) + 12
    assert summary["total"]["spend"] == pytest.approx(spend)
    assert summary["total"]["cac"] == pytest.approx(spend / new)
    assert summary["total"]["cac_status"] in ("healthy", "at_risk", "unhealthy")
    assert summary["uplift"]["before"] == 50.0


def test_launch_summary_refusals(store):
    with pytest.raises(InputError, match="No launch is defined yet"):
        L.launch_summary(store)
    add_launch(store)
    with pytest.raises(InputError, match="No launch named 'Borealis'. Known launches: Aurora"):
        L.launch_summary(store, "Borealis")
    with pytest.raises(InputError, match="no channel history from its launch date 2025-03-01"):
        L.launch_summary(store)
    add_daily(store, "spend", "2025-03-01", [10.0], "search")
    with pytest.raises(InputError, match="single day of data since its launch \\(2025-03-01\\)"):
        L.launch_summary(store)
    add_daily(store, "spend", "2025-03-02", [-10.0], "search")
    with pytest.raises(InputError, match="spend is negative on 2025-03-02"):
        L.launch_summary(store)


def test_the_latest_launch_is_the_default(store):
    add_launch(store, "Old", date(2024, 1, 1))
    add_launch(store, "Aurora")
    add_launch_history(store)
    assert L.launch_summary(store)["launch"] == "Aurora"


def test_optimised_launch_beats_the_actual_split(store):
    add_launch(store)
    add_launch_history(store)
    actual_per_day = (sum(SEARCH_SPEND) + 50 * 12 + 30 * 12) / 12
    result = L.optimised_launch(store, actual_per_day, within_seen=False)
    json.dumps(result, allow_nan=False)
    assert [a["channel"] for a in result["allocation"]] == ["partners", "search", "social"]
    assert sum(a["actual_spend"] for a in result["allocation"]) == pytest.approx(actual_per_day)
    # search's next customer (about 18) is cheaper than social's (50); partners buys none
    assert [a["spend"] for a in result["allocation"]] == pytest.approx([0.0, actual_per_day, 0.0])
    assert result["projected_new_customers"] > result["actual_projected_new_customers"]
    assert result["projected_cac"] == pytest.approx(actual_per_day / result["projected_new_customers"])
    capped = L.optimised_launch(store, actual_per_day, maximums={"search": 300.0},
                                within_seen=False)
    assert [a["spend"] for a in capped["allocation"]] == pytest.approx([0.0, 300.0, actual_per_day - 300.0])
    assert "email" in result["skipped"] and result["warnings"] == []
    # amounts in the spend metric's unit: these tests define spend as a plain number
    assert result["moves"][1] == ("Cut Partners from 30 to 0 a day (it bought no customers): "
                                  "new customers a day 0.0 → 0.0.")
    with pytest.raises(InputError, match="minimums add up to 500.00"):
        L.optimised_launch(store, 400.0, minimums={"search": 500.0}, within_seen=False)


def test_optimised_launch_keeps_each_channel_within_its_daily_spend_seen(store):
    add_launch(store)
    add_launch_history(store)
    actual_per_day = (sum(SEARCH_SPEND) + 50 * 12 + 30 * 12) / 12
    result = L.optimised_launch(store, actual_per_day)
    by_channel = {a["channel"]: a for a in result["allocation"]}
    # social and partners spent the same every day: their range seen is that one amount
    assert by_channel["partners"]["spend"] == pytest.approx(30.0)
    assert by_channel["social"]["spend"] == pytest.approx(50.0)
    assert by_channel["search"]["spend"] == pytest.approx(actual_per_day - 80.0)
    assert (by_channel["search"]["lowest_seen"], by_channel["search"]["highest_seen"]) == (100.0, 900.0)
    assert (by_channel["search"]["minimum"], by_channel["search"]["maximum"]) == (100.0, 900.0)
    assert result["within_seen"] is True and result["outside_seen"] == []
    with pytest.raises(InputError, match="below what the channels spent together on their "
                                         "smallest days \\(180\\)"):
        L.optimised_launch(store, 100.0)


# --- scenarios ---------------------------------------------------------------

def test_scenarios_round_trip(store):
    add_launch(store)
    add_launch_history(store)
    found = L.launch_analysis(store)
    plan = B.projected(found.curves, {"search": 300.0, "social": 10.0}, found.days, found.kpis)
    launch_store.save_scenario(store.connection, "Aurora", " More search ", found.days, plan)
    launch_store.save_scenario(store.connection, "Aurora", "Even", found.days,
                               B.projected(found.curves, {c: 100.0 for c in found.curves}, found.days))
    days, stored = launch_store.load_scenario(store.connection, "Aurora", "More search")
    assert days == 12
    assert_frame_equal(stored, plan[["channel", "spend_per_day", "new_customers", "purchases", "visitors"]]
                       .sort_values("channel").reset_index(drop=True))
    listed = launch_store.list_scenarios(store.connection, "Aurora")
    assert listed["name"].tolist() == ["More search", "Even"]
    assert listed["spend_per_day"].tolist() == [310.0, 300.0]

    with pytest.raises(InputError, match="already exists for Aurora"):
        launch_store.save_scenario(store.connection, "Aurora", "Even", 12, plan)
    launch_store.rename_scenario(store.connection, "Aurora", "Even", "Equal split")
    with pytest.raises(InputError, match="already exists"):
        launch_store.rename_scenario(store.connection, "Aurora", "Equal split", "More search")

    table = L.compared_scenarios(store, ["More search", "Equal split"])
    assert table["scenario"].tolist() == ["Actual", "Actual split, projected", "More search", "Equal split"]
    actual_spend = sum(SEARCH_SPEND) + 600 + 360
    assert table["spend"].tolist() == pytest.approx([actual_spend, actual_spend, 310 * 12, 300 * 12])
    assert table["new_customers"].iloc[2] == pytest.approx(plan["new_customers"].sum())
    assert np.isnan(table["purchases"].iloc[3])        # saved without actuals: unknown, not zero

    half = plan.assign(new_customers=plan["new_customers"] / 2)
    launch_store.save_scenario(store.connection, "Aurora", "Half the days", found.days // 2, half)
    scaled = L.compared_scenarios(store, ["Half the days", "More search"]).set_index("scenario")
    # saved over 6 days, compared over today's 12: per-day budget, totals doubled
    assert scaled.loc["Half the days", "spend"] == pytest.approx(310 * 12)
    assert scaled.loc["Half the days", "new_customers"] == pytest.approx(plan["new_customers"].sum())
    launch_store.delete_scenario(store.connection, "Aurora", "Half the days")

    launch_store.save_scenario(store.connection, "Aurora", "More search", found.days, plan.head(1), replace=True)
    assert launch_store.load_scenario(store.connection, "Aurora", "More search")[1]["channel"].tolist() == ["partners"]
    assert launch_store.list_scenarios(store.connection)["name"].tolist() == ["Equal split", "More search"]

    launch_store.delete_scenario(store.connection, "Aurora", "More search")
    assert launch_store.list_scenarios(store.connection)["name"].tolist() == ["Equal split"]
    assert store.connection.execute("select count(*) from scenario_channels").fetchone()[0] == 3
    with pytest.raises(InputError, match="No scenario named 'More search'"):
        L.compared_scenarios(store, ["More search"])


@pytest.mark.parametrize("name", ["", "   ", None])
def test_scenarios_need_a_name(store, name):
    with pytest.raises(InputError, match="Give the scenario a name"):
        launch_store.save_scenario(store.connection, "Aurora", name, 1, pd.DataFrame())


def test_launch_kpis_and_actual_split(store):
    add_launch(store, cac_target=60.0, conversion_target=0.5)
    add_launch_history(store)
    found = L.launch_analysis(store)
    total = L.launch_kpis(found)
    assert (total["cac_status"], total["conversion_status"]) == ("healthy", "unhealthy")
    assert total["cac"] == pytest.approx(total["spend"] / total["new_customers"])
    # email has no spend, so no curve and no place in the split
    assert L.actual_split(found) == pytest.approx(
        {"partners": 30.0, "search": sum(SEARCH_SPEND) / 12, "social": 50.0})


def test_what_if_sets_a_split_beside_the_actual_over_the_same_days(store):
    add_launch(store)
    add_launch_history(store)
    found = L.launch_analysis(store)
    actual = L.actual_split(found)
    same = L.what_if(found, actual)
    totals = same["totals"].set_index("scenario")
    assert totals.index.tolist() == ["Actual", "Actual split, projected", "What-if"]
    # over the channels with a curve only: email's visitors are not in the actual
    assert totals.loc["Actual", "visitors"] == pytest.approx(sum(SEARCH_SPEND) / 2 + 1200 + 120)
    assert_frame_equal(totals.loc[["What-if"]].reset_index(drop=True),
                       totals.loc[["Actual split, projected"]].reset_index(drop=True))
    more = L.what_if(found, {**actual, "search": 3000.0})
    assert more["channels"].set_index("channel").loc["search", "projected_spend"] == 3000.0 * 12
    assert more["warnings"] and more["warnings"][0].startswith("Search: 3,000 a day")
    assert more["outside_seen"] == [{"channel": "search", "spend_per_day": 3000.0, "side": "above",
                                     "seen_per_day": 900.0}]
    less = L.what_if(found, {**actual, "search": 20.0})
    assert less["outside_seen"][0]["side"] == "below" and "far below" in less["warnings"][0]
    with pytest.raises(InputError, match="names channel\\(s\\) email"):
        L.what_if(found, {"email": 10.0})


def test_saved_scenario_stores_the_projection_of_a_daily_split(store):
    add_launch(store)
    add_launch_history(store)
    L.saved_scenario(store, "Aurora", "Search only", {"search": 400.0})
    days, stored = launch_store.load_scenario(store.connection, "Aurora", "Search only")
    assert days == 12 and stored["channel"].tolist() == ["partners", "search", "social"]
    assert stored["spend_per_day"].tolist() == [0.0, 400.0, 0.0]
    assert stored["new_customers"].iloc[1] == pytest.approx(12 * 0.5 * 400 ** 0.7, rel=1e-6)
    with pytest.raises(InputError, match="already exists"):
        L.saved_scenario(store, "Aurora", "Search only", {"search": 10.0})
    L.saved_scenario(store, "Aurora", "Search only", {"search": 10.0}, replace=True)
    assert launch_store.load_scenario(store.connection, "Aurora", "Search only")[1]["spend_per_day"].sum() == 10.0


def test_split_table_puts_each_daily_split_in_a_row():
    splits = {"Actual": {"search": 300.0, "social": 50.0}, "More search": {"search": 350.0}}
    before = {k: dict(v) for k, v in splits.items()}
    expected = pd.DataFrame({"scenario": ["Actual", "More search"], "search": [300.0, 350.0],
                             "social": [50.0, 0.0], "total": [350.0, 350.0]})
    assert_frame_equal(L.split_table(splits), expected)
    assert splits == before
    odd = L.split_table({"Actual": {"total": 10.0, "search": 5.0}})
    assert odd.columns.tolist() == ["scenario", "search", "total (channel)", "total"]
    assert odd.iloc[0].tolist() == ["Actual", 5.0, 10.0, 15.0]


def test_scenario_splits_read_the_saved_allocations_beside_the_actual(store):
    add_launch(store)
    add_launch_history(store)
    found = L.launch_analysis(store)
    L.saved_scenario(store, "Aurora", "All search", {"search": 400.0, "social": 0.0,
                                                   "partners": 0.0})
    table = L.scenario_splits(store, ["All search"]).set_index("scenario")
    assert table.loc["All search", "search"] == 400.0
    assert table.loc["Actual", "social"] == pytest.approx(50.0)      # 50 a day since launch
    assert table.loc["Actual", "total"] == pytest.approx(sum(L.actual_split(found).values()))
    with pytest.raises(InputError, match="No scenario named 'Nope'"):
        L.scenario_splits(store, ["Nope"])


def test_campaign_sentences_name_the_best_the_dear_and_the_channels_without_campaigns():
    campaigns = L.campaign_kpis(pd.DataFrame({
        "channel": ["search", "search", "display"], "campaign": ["Brand", "Generic", "Banners"],
        "spend": [100.0, 300.0, 900.0], "visitors": [100.0, 400.0, 1000.0],
        "purchases": [10.0, 8.0, 5.0], "new_customers": [10.0, 6.0, 5.0]}), cac_target=55)
    assert L.campaign_sentences(campaigns, ["display", "email", "search"], 55) == [
        "Best converting: Brand on Search (10.0% of visitors buy).",
        "Above the CAC target of $55: Banners on Display ($180).",
        "Without a campaign breakdown: Email."]
    search = L.campaign_kpis(pd.DataFrame({
        "channel": ["search"] * 2, "campaign": ["Brand", "Generic"], "spend": [100.0, 300.0],
        "visitors": [100.0, 400.0], "purchases": [10.0, 8.0], "new_customers": [10.0, 6.0]}),
        cac_target=90)
    assert L.campaign_sentences(search, ["search"], 90)[1] == \
        "No campaign is above the CAC target of $90."
    assert len(L.campaign_sentences(campaigns, ["search", "display"], None)) == 1
    dud = L.campaign_kpis(pd.DataFrame({
        "channel": ["search"], "campaign": ["Dud"], "spend": [70.0], "visitors": [50.0],
        "purchases": [0.0], "new_customers": [0.0]}), cac_target=25)
    assert L.campaign_sentences(dud, ["search"], 25) == [
        "No campaign is above the CAC target of $25.",
        "No new customers at all: Dud on Search ($70 spent)."]


def test_the_actual_in_a_comparison_counts_only_channels_with_a_curve(store):
    """Email has visitors and purchases but no spend, so no curve: no scenario can
    hold it, and the actual it is compared with leaves it out too."""
    add_launch(store)
    add_launch_history(store)
    found = L.launch_analysis(store)
    assert "email" in found.curve_problems
    L.saved_scenario(store, "Aurora", "Same", L.actual_split(found))
    table = L.compared_scenarios(store, ["Same"]).set_index("scenario")
    with_curves = found.kpis[found.kpis["channel"] != "email"]
    assert table.loc["Actual", "visitors"] == with_curves["visitors"].sum()
    assert table.loc["Actual", "purchases"] == pytest.approx(with_curves["purchases"].sum())


def test_scenarios_of_a_renamed_launch_are_found_orphaned(store):
    add_launch(store)
    add_launch_history(store)
    L.saved_scenario(store, "Aurora", "Plan", {"search": 300.0})
    assert launch_store.orphaned_scenarios(store.connection) == []
    store.connection.execute("update launches set superseded_by = 99")       # Aurora renamed away
    add_launch(store, name="Aurora 2")
    assert launch_store.orphaned_scenarios(store.connection) == ["Aurora"]
