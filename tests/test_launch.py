"""The marketing launch: response curves, channel KPIs, the optimiser, before/after,
the launch summary read from the store, and saved scenarios."""
from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic import launch as L
from kpi_logic.errors import InputError
from kpi_logic.store import launches as launch_store
from tests.builders import add_batch, add_daily, add_observations

LAUNCH_DAY = date(2025, 3, 1)


def synthetic(a: float, b: float, days: int = 60, noise: float = 0.0, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spend = rng.uniform(50, 2000, days)
    customers = a * spend ** b * np.exp(rng.normal(0, noise, days))
    return pd.DataFrame({"obs_date": [LAUNCH_DAY + timedelta(days=i) for i in range(days)],
                         "spend": spend, "new_customers": customers})


# --- response curves -------------------------------------------------------

@pytest.mark.parametrize("a, b, noise", [(0.5, 0.7, 0.0), (0.5, 0.7, 0.02), (2.0, 0.4, 0.02),
                                         (0.05, 0.95, 0.02)])
def test_fitted_curve_recovers_a_and_b_within_5_percent(a, b, noise):
    curve = L.fitted_curve(synthetic(a, b, noise=noise))
    assert curve.model == "power"
    assert curve.a == pytest.approx(a, rel=0.05)
    assert curve.b == pytest.approx(b, rel=0.05)
    assert curve.days == 60 and curve.r2 > 0.95


def test_fitted_curve_does_not_mutate_its_input():
    daily = synthetic(0.5, 0.7)
    before = daily.copy()
    L.fitted_curve(daily)
    assert_frame_equal(daily, before)


def test_fewer_than_ten_days_fall_back_to_constant_cac_from_summed_components():
    daily = pd.DataFrame({"spend": [100.0, 300.0, 0.0], "new_customers": [4.0, 6.0, 1.0]})
    curve = L.fitted_curve(daily, "search")
    # The zero-spend day is left out; the rest give 10 customers for 400.
    assert (curve.model, curve.a, curve.b, curve.r2, curve.days) == ("constant_cac", 10 / 400, 1.0, None, 2)
    assert curve.max_spend_seen == 300.0
    assert "only 2 day(s)" in curve.reason and "needs 10" in curve.reason


def test_flat_spend_falls_back_to_constant_cac():
    daily = pd.DataFrame({"spend": [50.0] * 12, "new_customers": [2.0, 3.0] * 6})
    curve = L.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.a == pytest.approx(30 / 600)
    assert "barely changed" in curve.reason


def test_increasing_returns_fall_back_to_constant_cac():
    daily = synthetic(0.001, 1.5)
    curve = L.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.b == 1.0
    assert "outside 0 < b <= 1" in curve.reason
    assert curve.a == pytest.approx(daily["new_customers"].sum() / daily["spend"].sum())


def test_days_without_customers_count_for_constant_cac_but_not_for_the_fit():
    daily = synthetic(0.5, 0.7)
    daily.loc[daily.index[:5], "new_customers"] = 0.0
    curve = L.fitted_curve(daily)
    assert curve.model == "power" and curve.days == 55
    assert curve.b == pytest.approx(0.7, rel=0.01)


def test_a_channel_with_no_customers_gets_a_curve_that_buys_none():
    daily = pd.DataFrame({"spend": [30.0, 40.0], "new_customers": [0.0, 0.0]})
    curve = L.fitted_curve(daily, "partners")
    assert curve.a == 0.0 and curve.new_customers(100.0) == 0.0
    assert curve.marginal_cac(100.0) is None
    assert "no new customers on any of its 2 day(s) with spend" in curve.reason
    assert L.Curve("power", 0.0, 0.5, None, 12).marginal_cac(0.0) is None


@pytest.mark.parametrize("curve, spend, expected", [
    (L.Curve("constant_cac", 0.05, 1.0, None, 5), 100.0, 20.0),
    (L.Curve("power", 0.5, 0.5, 0.9, 20), 100.0, 1 / (0.25 / 10)),
    (L.Curve("power", 0.5, 0.5, 0.9, 20), 0.0, 0.0)])
def test_marginal_cac_is_the_cost_of_the_next_customer(curve, spend, expected):
    assert curve.marginal_cac(spend) == pytest.approx(expected)


@pytest.mark.parametrize("spend, message", [
    ([100.0, -20.0, 50.0], "spend is negative on 2025-03-02 (-20.00)"),
    ([0.0, 0.0, 0.0], "no day with spend above zero"),
    ([None, None, None], "no day with spend above zero"),
])
def test_bad_spend_is_refused_with_a_clear_message(spend, message):
    daily = pd.DataFrame({"obs_date": [LAUNCH_DAY + timedelta(days=i) for i in range(3)],
                          "spend": spend, "new_customers": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="Channel 'search'") as refused:
        L.fitted_curve(daily, "search")
    assert message in str(refused.value)


def test_missing_columns_are_refused():
    with pytest.raises(InputError, match="no new_customers history"):
        L.fitted_curve(pd.DataFrame({"spend": [1.0]}), "search")


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
    assert dict(zip(kpis["channel"], kpis["above_cac_target"])) == {"email": False, "search": True}
    no_target = L.channel_kpis(channel_rows(("search", 900.0, 100.0, 10.0, 10.0)))
    assert no_target["above_cac_target"].tolist() == [None]


def test_blended_totals_never_divide_by_zero():
    kpis = L.channel_kpis(channel_rows(("partners", 100.0, 0.0, 0.0, 0.0)))
    assert L.blended(kpis) == {"spend": 100.0, "visitors": 0.0, "purchases": 0.0,
                               "new_customers": 0.0, "conversion_rate": None, "cac": None}


# --- projections -----------------------------------------------------------

CURVES = {"search": L.Curve("power", 0.3, 0.6, 0.9, 30),
          "social": L.Curve("power", 0.8, 0.5, 0.8, 30),
          "email": L.Curve("constant_cac", 0.05, 1.0, None, 30)}


def test_projection_scales_purchases_and_visitors_from_the_actual():
    actual = L.channel_kpis(channel_rows(("email", 300.0, 600.0, 30.0, 15.0)))
    frame = L.projected({"email": CURVES["email"]}, {"email": 20.0}, 10, actual)
    expected = pd.DataFrame({"channel": ["email"], "spend_per_day": [20.0], "spend": [200.0],
                             "new_customers": [10.0], "purchases": [20.0], "visitors": [400.0],
                             "conversion_rate": [0.05], "cac": [20.0]})
    assert_frame_equal(frame, expected)


def test_projection_without_actuals_leaves_purchases_unknown_and_unfunded_channels_at_zero():
    frame = L.projected(CURVES, {"search": 100.0}, 2)
    assert frame["channel"].tolist() == ["search", "social", "email"]
    assert frame["spend"].tolist() == [200.0, 0.0, 0.0]
    assert frame["new_customers"].iloc[0] == pytest.approx(2 * 0.3 * 100 ** 0.6)
    assert frame["purchases"].isna().all() and frame["cac"].isna().tolist() == [False, True, True]


@pytest.mark.parametrize("allocation, days, message", [
    ({"tiktok": 5.0}, 10, "tiktok"), ({"search": -1.0}, 10, "cannot be negative"),
    ({"search": 1.0}, 0, "at least one day")])
def test_projection_refusals(allocation, days, message):
    with pytest.raises(InputError, match=message):
        L.projected(CURVES, allocation, days)


def test_projection_vs_actual_puts_the_what_if_beside_the_actual():
    kpis = L.channel_kpis(channel_rows(("email", 300.0, 600.0, 30.0, 15.0)))
    plan = L.projected({"email": CURVES["email"], "social": CURVES["social"]},
                       {"email": 20.0, "social": 100.0}, 10, kpis)
    table = L.projection_vs_actual(kpis, plan)
    expected = pd.DataFrame({
        "channel": ["email", "social"], "actual_spend": [300.0, np.nan], "projected_spend": [200.0, 1000.0],
        "actual_new_customers": [15.0, np.nan], "projected_new_customers": [10.0, 80.0],
        "actual_cac": [20.0, np.nan], "projected_cac": [20.0, 12.5],
        "actual_conversion_rate": [0.05, np.nan], "projected_conversion_rate": [0.05, np.nan]})
    assert_frame_equal(table, expected)


# --- the optimiser ---------------------------------------------------------

def customers(allocation) -> float:
    return sum(CURVES[c].new_customers(x) for c, x in allocation.items())


@pytest.mark.parametrize("budget, minimums, maximums", [
    (1000.0, None, None), (1000.0, None, {"email": 100.0}), (50.0, None, None),
    (1000.0, {"search": 300.0}, {"email": 200.0}), (250.0, {"social": 250.0}, None),
    (900.0, None, {"search": 300.0, "social": 300.0, "email": 300.0})])
def test_optimal_allocation_beats_actual_and_equal_split_within_bounds(budget, minimums, maximums):
    allocation = L.optimal_allocation(CURVES, budget, minimums, maximums)
    assert sum(allocation.values()) == pytest.approx(budget)
    for channel, spend in allocation.items():
        assert (minimums or {}).get(channel, 0.0) - 1e-9 <= spend <= (maximums or {}).get(channel, np.inf) + 1e-9
    equal = {c: budget / 3 for c in CURVES}
    actual = {"search": 0.5 * budget, "social": 0.3 * budget, "email": 0.2 * budget}
    for other in (equal, actual):
        if all((minimums or {}).get(c, 0) <= x <= (maximums or {}).get(c, np.inf) for c, x in other.items()):
            assert customers(allocation) >= customers(other) - 1e-9


def test_optimal_allocation_equalises_marginal_cost_and_fills_the_cheapest_constant_channel():
    allocation = L.optimal_allocation(CURVES, 1000.0)
    # Power channels stop where their next customer costs what email's do (20).
    assert CURVES["search"].marginal_cac(allocation["search"]) == pytest.approx(20.0)
    assert CURVES["social"].marginal_cac(allocation["social"]) == pytest.approx(20.0)
    assert allocation["social"] == pytest.approx(64.0)
    assert allocation["email"] == pytest.approx(1000.0 - 64.0 - allocation["search"])


def test_optimal_allocation_is_at_least_as_good_as_any_point_on_a_grid():
    two = {"search": CURVES["search"], "social": CURVES["social"]}
    best = L.optimal_allocation(two, 500.0)
    grid = max(two["search"].new_customers(x) + two["social"].new_customers(500.0 - x)
               for x in np.linspace(0, 500, 2001))
    assert sum(two[c].new_customers(x) for c, x in best.items()) >= grid - 1e-9


def test_optimal_allocation_spends_the_budget_even_where_curves_buy_nothing():
    dead = {"a": L.Curve("constant_cac", 0.0, 1.0, None, 3), "b": L.Curve("power", 0.0, 0.5, None, 3)}
    allocation = L.optimal_allocation(dead, 100.0, maximums={"a": 30.0})
    assert sum(allocation.values()) == pytest.approx(100.0) and allocation["a"] <= 30.0


@pytest.mark.parametrize("budget, minimums, maximums, message", [
    (100.0, {"search": 80.0, "social": 40.0}, None,
     "The minimums add up to 120.00 per day, more than the daily budget of 100.00"),
    (100.0, None, {"search": 10.0, "social": 10.0, "email": 10.0},
     "The maximums add up to 30.00 per day, less than the daily budget of 100.00"),
    (100.0, {"search": 50.0}, {"search": 20.0}, "Channel 'search': its minimum \\(50.00\\) is above"),
    (100.0, {"tiktok": 5.0}, None, "The minimums names channel\\(s\\) tiktok"),
    (-5.0, None, None, "must be 0 or more"),
    (100.0, {"search": -1.0}, None, "must be 0 or more")])
def test_infeasible_bounds_are_refused(budget, minimums, maximums, message):
    with pytest.raises(InputError, match=message):
        L.optimal_allocation(CURVES, budget, minimums, maximums)


def test_minimise_spend_for_finds_the_cheapest_split_reaching_the_goal():
    allocation = L.minimise_spend_for(CURVES, 20.0)
    total = sum(allocation.values())
    assert customers(allocation) == pytest.approx(20.0, rel=1e-6)
    assert customers(L.optimal_allocation(CURVES, total * 0.99)) < 20.0
    assert total == pytest.approx(64.0 + allocation["search"] + allocation["email"])


def test_minimise_spend_for_respects_minimums_already_enough():
    allocation = L.minimise_spend_for(CURVES, 1.0, minimums={"social": 100.0})
    assert allocation["social"] == pytest.approx(100.0) and sum(allocation.values()) == pytest.approx(100.0)


@pytest.mark.parametrize("goal, maximums, message", [
    (500.0, {"search": 10.0, "social": 10.0, "email": 10.0}, "out of reach: at most"),
    (0.0, None, "must be above 0")])
def test_unreachable_goals_are_refused(goal, maximums, message):
    with pytest.raises(InputError, match=message):
        L.minimise_spend_for(CURVES, goal, maximums=maximums)


def test_moves_explained_says_what_moved_where():
    before = {"search": 400.0, "social": 300.0, "email": 300.0}
    changes = L.allocation_changes(CURVES, before, L.optimal_allocation(CURVES, 1000.0))
    sentences = L.moves_explained(changes)
    assert sentences[0].startswith("Cut search from 400.00 to 24.59 per day (its next customer cost 61.03)")
    assert sentences[-2].startswith("Raised email from 300.00 to 911.41")
    assert sentences[-1].startswith("In total: +14.2 new customers per day")
    same = L.allocation_changes(CURVES, before, before)
    assert L.moves_explained(same) == ["Nothing moved: the new split is the same as the current one."]


def test_allocations_far_beyond_the_spend_seen_are_warned_about():
    curves = {"email": L.Curve("power", 0.1, 0.9, 0.5, 30, "", 200.0),
              "search": L.Curve("power", 0.3, 0.6, 0.5, 30, "", 1000.0),
              "old": L.Curve("power", 0.3, 0.6, 0.5, 30)}
    warnings = L.extrapolation_warnings(curves, {"email": 900.0, "search": 1400.0, "old": 5000.0})
    assert warnings == ["email: 900.00 per day is 4.5 times the most it has spent in a day (200.00), "
                        "so its projection extrapolates the curve. Treat it with care, or set a "
                        "maximum for the channel."]


# --- before and after ------------------------------------------------------

def traffic(start: date, values, channel: str = "") -> pd.DataFrame:
    return pd.DataFrame({"obs_date": [start + timedelta(days=i) for i in range(len(values))],
                         "channel": channel, "visitors": values})


def test_traffic_uplift_uses_equal_windows_either_side_of_the_launch():
    daily = pd.concat([traffic(date(2025, 2, 26), [10.0, 10.0, 10.0, 30.0, 30.0, 30.0, 50.0, 50.0]),
                       traffic(LAUNCH_DAY, [10.0, 10.0], "search")])
    uplift = L.traffic_uplift(daily, LAUNCH_DAY)
    assert (uplift.before_start, uplift.before_end, uplift.after_start, uplift.after_end, uplift.days) == (
        date(2025, 2, 26), date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 3), 3)
    # 30 before per day; from the launch 40 + 40 + 30 over 3 days
    assert uplift.table.iloc[0].to_dict() == {"measure": "visitors per day", "before": 10.0,
                                              "after": 110 / 3, "change": 110 / 3 - 10.0,
                                              "relative_change": (110 / 3 - 10.0) / 10.0}
    assert "3 day(s) before (2025-02-26 to 2025-02-28)" in uplift.windows_text()
    assert L.traffic_uplift(daily, LAUNCH_DAY, window_days=1).before_start == date(2025, 2, 28)


def test_traffic_uplift_without_days_before_says_why():
    uplift = L.traffic_uplift(traffic(LAUNCH_DAY, [10.0, 20.0]), LAUNCH_DAY)
    assert uplift.days == 0 and uplift.table.empty
    assert uplift.reason == "No visitors data before 2025-03-01: the comparison needs days on both sides."


def test_traffic_from_zero_has_no_relative_change():
    uplift = L.traffic_uplift(traffic(date(2025, 2, 28), [0.0, 10.0]), LAUNCH_DAY)
    assert uplift.table["change"].iloc[0] == 10.0 and np.isnan(uplift.table["relative_change"].iloc[0])


@pytest.mark.parametrize("when", [None, pd.NaT])
def test_a_missing_launch_date_is_refused(when):
    with pytest.raises(InputError, match="no launch date: add launch_date"):
        L.traffic_uplift(traffic(LAUNCH_DAY, [1.0]), when)


def test_engagement_per_visitor_before_and_after_a_promotion():
    daily = pd.DataFrame({"obs_date": [date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 2)],
                          "visitors": [100.0, 100.0, 100.0], "likes": [2.0, 2.0, 10.0],
                          "shares": [0.0, 0.0, 5.0], "comments": [1.0, None, 5.0]})
    change = L.engagement_change(daily, date(2025, 3, 2))
    table = change.table.set_index("measure")
    assert table.loc["likes", "before"] == pytest.approx(4 / 200)
    assert table.loc["engagement", "after"] == pytest.approx(20 / 100)
    assert table.loc["engagement", "before"] == pytest.approx(5 / 200)
    assert np.isnan(table.loc["shares", "relative_change"])


def test_daily_totals_sum_channels_per_day():
    daily = pd.DataFrame({"obs_date": [LAUNCH_DAY] * 2, "spend": [10.0, 20.0], "visitors": [100.0, 300.0],
                          "purchases": [4.0, 4.0], "new_customers": [1.0, 2.0], "likes": [4.0, None],
                          "shares": [None, None], "comments": [None, None]})
    totals = L.daily_totals(daily)
    assert totals.iloc[0][["spend", "visitors", "conversion_rate", "engagement_per_visitor"]].tolist() == [
        30.0, 400.0, 0.02, 0.01]


# --- from the store ----------------------------------------------------------

def add_launch(con, name="Aurora", launch_date=LAUNCH_DAY, cac_target=25.0, conversion_target=0.02):
    batch = add_batch(con, kind="launches")
    con.execute("insert into launches (launch, launch_date, conversion_target, cac_target, batch_id) "
                "values (?, ?, ?, ?, ?)", [name, launch_date, conversion_target, cac_target, batch])


SEARCH_SPEND = [100.0, 200.0, 400.0, 800.0, 150.0, 300.0, 600.0, 120.0, 250.0, 500.0, 700.0, 900.0]


def add_launch_history(con):
    """Aurora: 12 days from 1 March on 4 channels and 4 days of site traffic before."""
    start = LAUNCH_DAY.isoformat()
    add_daily(con, "visitors", "2025-02-25", [50.0, 50.0, 50.0, 50.0])
    add_daily(con, "spend", start, SEARCH_SPEND, "search")
    add_daily(con, "new_customers", start, [0.5 * x ** 0.7 for x in SEARCH_SPEND], "search")
    add_daily(con, "visitors", start, [x / 2 for x in SEARCH_SPEND], "search")
    add_daily(con, "purchases", start, [0.6 * x ** 0.7 for x in SEARCH_SPEND], "search")
    add_daily(con, "spend", start, [50.0] * 12, "social")
    add_daily(con, "new_customers", start, [1.0] * 12, "social")
    add_daily(con, "visitors", start, [100.0] * 12, "social")
    add_daily(con, "purchases", start, [1.0] * 12, "social")
    add_daily(con, "spend", start, [30.0] * 12, "partners")
    add_daily(con, "new_customers", start, [0.0] * 12, "partners")
    add_daily(con, "visitors", start, [10.0] * 12, "partners")
    add_daily(con, "visitors", start, [40.0] * 12, "email")
    add_daily(con, "purchases", start, [2.0] * 12, "email")


def test_launch_daily_pivots_current_history_by_day_and_channel(con):
    add_daily(con, "spend", "2025-03-01", [10.0, 20.0], "search")
    add_daily(con, "spend", "2025-03-01", [15.0], "search")           # replaces the first day
    add_daily(con, "likes", "2025-03-02", [7.0], "social")
    add_daily(con, "revenue", "2025-03-01", [999.0])                  # not a launch metric
    daily = launch_store.launch_daily(con)
    assert daily.columns.tolist() == ["obs_date", "channel", *launch_store.LAUNCH_METRICS]
    assert daily[["obs_date", "channel", "spend", "likes"]].to_dict("records") == [
        {"obs_date": date(2025, 3, 1), "channel": "search", "spend": 15.0, "likes": pytest.approx(np.nan, nan_ok=True)},
        {"obs_date": date(2025, 3, 2), "channel": "search", "spend": 20.0, "likes": pytest.approx(np.nan, nan_ok=True)},
        {"obs_date": date(2025, 3, 2), "channel": "social", "spend": pytest.approx(np.nan, nan_ok=True), "likes": 7.0}]


def test_launch_summary_reports_channels_totals_and_curves(con):
    add_launch(con)
    add_launch_history(con)
    summary = L.launch_summary(con)
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


def test_launch_summary_refusals(con):
    with pytest.raises(InputError, match="No launch is defined yet"):
        L.launch_summary(con)
    add_launch(con)
    with pytest.raises(InputError, match="No launch named 'Borealis'. Known launches: Aurora"):
        L.launch_summary(con, "Borealis")
    with pytest.raises(InputError, match="no channel history from its launch date 2025-03-01"):
        L.launch_summary(con)
    add_daily(con, "spend", "2025-03-01", [10.0], "search")
    with pytest.raises(InputError, match="single day of data since its launch \\(2025-03-01\\)"):
        L.launch_summary(con)
    add_daily(con, "spend", "2025-03-02", [-10.0], "search")
    with pytest.raises(InputError, match="spend is negative on 2025-03-02"):
        L.launch_summary(con)


def test_the_latest_launch_is_the_default(con):
    add_launch(con, "Old", date(2024, 1, 1))
    add_launch(con, "Aurora")
    add_launch_history(con)
    assert L.launch_summary(con)["launch"] == "Aurora"


def test_optimised_launch_beats_the_actual_split(con):
    add_launch(con)
    add_launch_history(con)
    actual_per_day = (sum(SEARCH_SPEND) + 50 * 12 + 30 * 12) / 12
    result = L.optimised_launch(con, actual_per_day)
    json.dumps(result, allow_nan=False)
    assert [a["channel"] for a in result["allocation"]] == ["partners", "search", "social"]
    assert sum(a["actual_spend"] for a in result["allocation"]) == pytest.approx(actual_per_day)
    # search's next customer (about 18) is cheaper than social's (50); partners buys none
    assert [a["spend"] for a in result["allocation"]] == pytest.approx([0.0, actual_per_day, 0.0])
    assert result["projected_new_customers"] > result["actual_projected_new_customers"]
    assert result["projected_cac"] == pytest.approx(actual_per_day / result["projected_new_customers"])
    capped = L.optimised_launch(con, actual_per_day, maximums={"search": 300.0})
    assert [a["spend"] for a in capped["allocation"]] == pytest.approx([0.0, 300.0, actual_per_day - 300.0])
    assert "email" in result["skipped"] and result["warnings"] == []
    assert result["moves"][1] == ("Cut partners from 30.00 to 0.00 per day (it bought no customers): "
                                  "new customers per day 0.0 -> 0.0.")
    with pytest.raises(InputError, match="minimums add up to 500.00"):
        L.optimised_launch(con, 400.0, minimums={"search": 500.0})


# --- scenarios ---------------------------------------------------------------

def test_scenarios_round_trip(con):
    launch_store.ensure_scenarios_table(con)
    launch_store.ensure_scenarios_table(con)          # idempotent
    add_launch(con)
    add_launch_history(con)
    found = L.launch_analysis(con)
    plan = L.projected(found.curves, {"search": 300.0, "social": 10.0}, found.days, found.kpis)
    launch_store.save_scenario(con, "Aurora", " More search ", found.days, plan)
    launch_store.save_scenario(con, "Aurora", "Even", found.days,
                               L.projected(found.curves, {c: 100.0 for c in found.curves}, found.days))
    days, stored = launch_store.load_scenario(con, "Aurora", "More search")
    assert days == 12
    assert_frame_equal(stored, plan[["channel", "spend_per_day", "new_customers", "purchases", "visitors"]]
                       .sort_values("channel").reset_index(drop=True))
    listed = launch_store.list_scenarios(con, "Aurora")
    assert listed["name"].tolist() == ["More search", "Even"]
    assert listed["spend_per_day"].tolist() == [310.0, 300.0]

    with pytest.raises(InputError, match="already exists for Aurora"):
        launch_store.save_scenario(con, "Aurora", "Even", 12, plan)
    launch_store.rename_scenario(con, "Aurora", "Even", "Equal split")
    with pytest.raises(InputError, match="already exists"):
        launch_store.rename_scenario(con, "Aurora", "Equal split", "More search")

    table = L.compared_scenarios(con, ["More search", "Equal split"])
    assert table["scenario"].tolist() == ["Actual", "Actual split, projected", "More search", "Equal split"]
    actual_spend = sum(SEARCH_SPEND) + 600 + 360
    assert table["spend"].tolist() == pytest.approx([actual_spend, actual_spend, 310 * 12, 300 * 12])
    assert table["new_customers"].iloc[2] == pytest.approx(plan["new_customers"].sum())
    assert np.isnan(table["purchases"].iloc[3])        # saved without actuals: unknown, not zero

    half = plan.assign(new_customers=plan["new_customers"] / 2)
    launch_store.save_scenario(con, "Aurora", "Half the days", found.days // 2, half)
    scaled = L.compared_scenarios(con, ["Half the days", "More search"]).set_index("scenario")
    # saved over 6 days, compared over today's 12: per-day budget, totals doubled
    assert scaled.loc["Half the days", "spend"] == pytest.approx(310 * 12)
    assert scaled.loc["Half the days", "new_customers"] == pytest.approx(plan["new_customers"].sum())
    launch_store.delete_scenario(con, "Aurora", "Half the days")

    launch_store.save_scenario(con, "Aurora", "More search", found.days, plan.head(1), replace=True)
    assert launch_store.load_scenario(con, "Aurora", "More search")[1]["channel"].tolist() == ["partners"]
    assert launch_store.list_scenarios(con)["name"].tolist() == ["Equal split", "More search"]

    launch_store.delete_scenario(con, "Aurora", "More search")
    assert launch_store.list_scenarios(con)["name"].tolist() == ["Equal split"]
    assert con.execute("select count(*) from scenario_channels").fetchone()[0] == 3
    with pytest.raises(InputError, match="No scenario named 'More search'"):
        L.compared_scenarios(con, ["More search"])


@pytest.mark.parametrize("name", ["", "   ", None])
def test_scenarios_need_a_name(con, name):
    launch_store.ensure_scenarios_table(con)
    with pytest.raises(InputError, match="Give the scenario a name"):
        launch_store.save_scenario(con, "Aurora", name, 1, pd.DataFrame())


@pytest.mark.parametrize("count", [0, 5])
def test_comparing_needs_one_to_four_scenarios(count):
    actual = L.channel_kpis(channel_rows(("search", 1.0, 1.0, 1.0, 1.0)))
    with pytest.raises(InputError, match="Pick 1 to 4 scenarios"):
        L.scenario_comparison(actual, {f"s{i}": actual for i in range(count)})
