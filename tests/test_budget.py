"""Budget what-ifs: response curves, projections, the optimiser, scenario comparison."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic import budget as B
from kpi_logic.errors import InputError
from kpi_logic.launch import channel_kpis

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
    curve = B.fitted_curve(synthetic(a, b, noise=noise))
    assert curve.model == "power"
    assert curve.a == pytest.approx(a, rel=0.05)
    assert curve.b == pytest.approx(b, rel=0.05)
    assert curve.days == 60 and curve.r2 > 0.95


def test_fitted_curve_does_not_mutate_its_input():
    daily = synthetic(0.5, 0.7)
    before = daily.copy()
    B.fitted_curve(daily)
    assert_frame_equal(daily, before)


def test_fewer_than_ten_days_fall_back_to_constant_cac_from_summed_components():
    daily = pd.DataFrame({"spend": [100.0, 300.0, 0.0], "new_customers": [4.0, 6.0, 1.0]})
    curve = B.fitted_curve(daily, "search")
    # The zero-spend day is left out; the rest give 10 customers for 400.
    assert (curve.model, curve.a, curve.b, curve.r2, curve.days) == ("constant_cac", 10 / 400, 1.0, None, 2)
    assert curve.max_spend_seen == 300.0
    assert "only 2 day(s)" in curve.reason and "needs 10" in curve.reason


def test_flat_spend_falls_back_to_constant_cac():
    daily = pd.DataFrame({"spend": [50.0] * 12, "new_customers": [2.0, 3.0] * 6})
    curve = B.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.a == pytest.approx(30 / 600)
    assert "barely changed" in curve.reason


def test_increasing_returns_fall_back_to_constant_cac():
    daily = synthetic(0.001, 1.5)
    curve = B.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.b == 1.0
    assert "outside 0 < b <= 1" in curve.reason
    assert curve.a == pytest.approx(daily["new_customers"].sum() / daily["spend"].sum())


def test_days_without_customers_count_for_constant_cac_but_not_for_the_fit():
    daily = synthetic(0.5, 0.7)
    daily.loc[daily.index[:5], "new_customers"] = 0.0
    curve = B.fitted_curve(daily)
    assert curve.model == "power" and curve.days == 55
    assert curve.b == pytest.approx(0.7, rel=0.01)


def test_a_channel_with_no_customers_gets_a_curve_that_buys_none():
    daily = pd.DataFrame({"spend": [30.0, 40.0], "new_customers": [0.0, 0.0]})
    curve = B.fitted_curve(daily, "partners")
    assert curve.a == 0.0 and curve.new_customers(100.0) == 0.0
    assert curve.marginal_cac(100.0) is None
    assert "no new customers on any of its 2 day(s) with spend" in curve.reason
    assert B.Curve("power", 0.0, 0.5, None, 12).marginal_cac(0.0) is None


@pytest.mark.parametrize("curve, spend, expected", [
    (B.Curve("constant_cac", 0.05, 1.0, None, 5), 100.0, 20.0),
    (B.Curve("power", 0.5, 0.5, 0.9, 20), 100.0, 1 / (0.25 / 10)),
    (B.Curve("power", 0.5, 0.5, 0.9, 20), 0.0, 0.0)])
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
        B.fitted_curve(daily, "search")
    assert message in str(refused.value)


def test_missing_columns_are_refused():
    with pytest.raises(InputError, match="no new_customers history"):
        B.fitted_curve(pd.DataFrame({"spend": [1.0]}), "search")


def channel_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["channel", "spend", "visitors", "purchases", "new_customers"])


# --- projections -----------------------------------------------------------

CURVES = {"search": B.Curve("power", 0.3, 0.6, 0.9, 30),
          "social": B.Curve("power", 0.8, 0.5, 0.8, 30),
          "email": B.Curve("constant_cac", 0.05, 1.0, None, 30)}


def test_projection_scales_purchases_and_visitors_from_the_actual():
    actual = channel_kpis(channel_rows(("email", 300.0, 600.0, 30.0, 15.0)))
    frame = B.projected({"email": CURVES["email"]}, {"email": 20.0}, 10, actual)
    expected = pd.DataFrame({"channel": ["email"], "spend_per_day": [20.0], "spend": [200.0],
                             "new_customers": [10.0], "purchases": [20.0], "visitors": [400.0],
                             "conversion_rate": [0.05], "cac": [20.0]})
    assert_frame_equal(frame, expected)


def test_projection_without_actuals_leaves_purchases_unknown_and_unfunded_channels_at_zero():
    frame = B.projected(CURVES, {"search": 100.0}, 2)
    assert frame["channel"].tolist() == ["search", "social", "email"]
    assert frame["spend"].tolist() == [200.0, 0.0, 0.0]
    assert frame["new_customers"].iloc[0] == pytest.approx(2 * 0.3 * 100 ** 0.6)
    assert frame["purchases"].isna().all() and frame["cac"].isna().tolist() == [False, True, True]


@pytest.mark.parametrize("allocation, days, message", [
    ({"tiktok": 5.0}, 10, "tiktok"), ({"search": -1.0}, 10, "cannot be negative"),
    ({"search": 1.0}, 0, "at least one day")])
def test_projection_refusals(allocation, days, message):
    with pytest.raises(InputError, match=message):
        B.projected(CURVES, allocation, days)


def test_projection_vs_actual_puts_the_what_if_beside_the_actual():
    kpis = channel_kpis(channel_rows(("email", 300.0, 600.0, 30.0, 15.0)))
    plan = B.projected({"email": CURVES["email"], "social": CURVES["social"]},
                       {"email": 20.0, "social": 100.0}, 10, kpis)
    table = B.projection_vs_actual(kpis, plan)
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
    allocation = B.optimal_allocation(CURVES, budget, minimums, maximums)
    assert sum(allocation.values()) == pytest.approx(budget)
    for channel, spend in allocation.items():
        assert (minimums or {}).get(channel, 0.0) - 1e-9 <= spend <= (maximums or {}).get(channel, np.inf) + 1e-9
    equal = {c: budget / 3 for c in CURVES}
    actual = {"search": 0.5 * budget, "social": 0.3 * budget, "email": 0.2 * budget}
    for other in (equal, actual):
        if all((minimums or {}).get(c, 0) <= x <= (maximums or {}).get(c, np.inf) for c, x in other.items()):
            assert customers(allocation) >= customers(other) - 1e-9


def test_optimal_allocation_equalises_marginal_cost_and_fills_the_cheapest_constant_channel():
    allocation = B.optimal_allocation(CURVES, 1000.0)
    # Power channels stop where their next customer costs what email's do (20).
    assert CURVES["search"].marginal_cac(allocation["search"]) == pytest.approx(20.0)
    assert CURVES["social"].marginal_cac(allocation["social"]) == pytest.approx(20.0)
    assert allocation["social"] == pytest.approx(64.0)
    assert allocation["email"] == pytest.approx(1000.0 - 64.0 - allocation["search"])


def test_optimal_allocation_is_at_least_as_good_as_any_point_on_a_grid():
    two = {"search": CURVES["search"], "social": CURVES["social"]}
    best = B.optimal_allocation(two, 500.0)
    grid = max(two["search"].new_customers(x) + two["social"].new_customers(500.0 - x)
               for x in np.linspace(0, 500, 2001))
    assert sum(two[c].new_customers(x) for c, x in best.items()) >= grid - 1e-9


def test_optimal_allocation_spends_the_budget_even_where_curves_buy_nothing():
    dead = {"a": B.Curve("constant_cac", 0.0, 1.0, None, 3), "b": B.Curve("power", 0.0, 0.5, None, 3)}
    allocation = B.optimal_allocation(dead, 100.0, maximums={"a": 30.0})
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
        B.optimal_allocation(CURVES, budget, minimums, maximums)


def test_minimise_spend_for_finds_the_cheapest_split_reaching_the_goal():
    allocation = B.minimise_spend_for(CURVES, 20.0)
    total = sum(allocation.values())
    assert customers(allocation) == pytest.approx(20.0, rel=1e-6)
    assert customers(B.optimal_allocation(CURVES, total * 0.99)) < 20.0
    assert total == pytest.approx(64.0 + allocation["search"] + allocation["email"])


def test_minimise_spend_for_respects_minimums_already_enough():
    allocation = B.minimise_spend_for(CURVES, 1.0, minimums={"social": 100.0})
    assert allocation["social"] == pytest.approx(100.0) and sum(allocation.values()) == pytest.approx(100.0)


@pytest.mark.parametrize("goal, maximums, message", [
    (500.0, {"search": 10.0, "social": 10.0, "email": 10.0}, "out of reach: at most"),
    (0.0, None, "must be above 0")])
def test_unreachable_goals_are_refused(goal, maximums, message):
    with pytest.raises(InputError, match=message):
        B.minimise_spend_for(CURVES, goal, maximums=maximums)


def test_moves_explained_says_what_moved_where():
    before = {"search": 400.0, "social": 300.0, "email": 300.0}
    changes = B.allocation_changes(CURVES, before, B.optimal_allocation(CURVES, 1000.0))
    sentences = B.moves_explained(changes)
    assert sentences[0].startswith("Cut search from 400.00 to 24.59 per day (its next customer cost 61.03)")
    assert sentences[-2].startswith("Raised email from 300.00 to 911.41")
    assert sentences[-1].startswith("In total: +14.2 new customers per day")
    same = B.allocation_changes(CURVES, before, before)
    assert B.moves_explained(same) == ["Nothing moved: the new split is the same as the current one."]


def test_allocations_far_beyond_the_spend_seen_are_warned_about():
    curves = {"email": B.Curve("power", 0.1, 0.9, 0.5, 30, "", 200.0),
              "search": B.Curve("power", 0.3, 0.6, 0.5, 30, "", 1000.0),
              "old": B.Curve("power", 0.3, 0.6, 0.5, 30)}
    warnings = B.extrapolation_warnings(curves, {"email": 900.0, "search": 1400.0, "old": 5000.0})
    assert warnings == ["email: 900.00 per day is 4.5 times the most it has spent in a day (200.00), "
                        "so its projection extrapolates the curve. Treat it with care, or set a "
                        "maximum for the channel."]



# --- scenario comparison ---------------------------------------------------

@pytest.mark.parametrize("count", [0, 5])
def test_comparing_needs_one_to_four_scenarios(count):
    actual = channel_kpis(channel_rows(("search", 1.0, 1.0, 1.0, 1.0)))
    with pytest.raises(InputError, match="Pick 1 to 4 scenarios"):
        B.scenario_comparison(actual, {f"s{i}": actual for i in range(count)})


# --- what the page and the CLI ask for ---------------------------------------

@pytest.mark.parametrize("allocation, channel, spend, expected", [
    # the others make room in proportion to what they had
    ({"a": 100.0, "b": 300.0, "c": 100.0}, "a", 300.0, {"a": 300.0, "b": 150.0, "c": 50.0}),
    # cutting one channel gives its money to the others in proportion
    ({"a": 100.0, "b": 300.0, "c": 100.0}, "b", 0.0, {"a": 250.0, "b": 0.0, "c": 250.0}),
    # others all at zero share what is freed evenly
    ({"a": 100.0, "b": 0.0, "c": 0.0}, "a", 40.0, {"a": 40.0, "b": 30.0, "c": 30.0}),
    # more than the total: the others drop to zero and the total grows
    ({"a": 100.0, "b": 100.0}, "a", 500.0, {"a": 500.0, "b": 0.0}),
    ({"a": 100.0}, "a", 50.0, {"a": 50.0}),
])
def test_rebalanced_keeps_the_total(allocation, channel, spend, expected):
    before = dict(allocation)
    result = B.rebalanced(allocation, channel, spend)
    assert result == pytest.approx(expected)
    assert list(result) == list(allocation)
    assert allocation == before


@pytest.mark.parametrize("channel, spend, message", [
    ("tiktok", 10.0, "'tiktok' is not in this budget split"), ("a", -1.0, "cannot be negative")])
def test_rebalanced_refusals(channel, spend, message):
    with pytest.raises(InputError, match=message):
        B.rebalanced({"a": 1.0}, channel, spend)


def test_curve_fits_lists_curves_and_channels_without_one():
    fits = B.curve_fits({"search": B.Curve("power", 0.3, 0.6, 0.9, 30, "", 800.0),
                         "email": B.Curve("constant_cac", 0.05, 1.0, None, 4, "Constant CAC: few")},
                        {"partners": "no day with spend"})
    expected = pd.DataFrame({
        "channel": ["search", "email", "partners"], "model": ["power", "constant_cac", None],
        "a": [0.3, 0.05, np.nan], "b": [0.6, 1.0, np.nan], "r2": [0.9, np.nan, np.nan],
        "days": [30, 4, 0], "max_spend_seen": [800.0, np.nan, np.nan],
        "note": ["", "Constant CAC: few", "no day with spend"]})
    assert_frame_equal(fits, expected)


def test_optimised_split_for_a_budget_or_a_goal_explained_against_the_actual():
    actual = {"search": 500.0, "social": 300.0, "email": 200.0}
    best = B.optimised_split(CURVES, actual, budget=1000.0, maximums={"email": 400.0})
    assert best["allocation"] == pytest.approx(B.optimal_allocation(CURVES, 1000.0,
                                                                    maximums={"email": 400.0}))
    assert best["changes"]["spend_before"].tolist() == [500.0, 300.0, 200.0]
    assert best["moves"][-1].startswith("In total: +") and best["warnings"] == []
    cheapest = B.optimised_split(CURVES, actual, goal=20.0)
    assert customers(cheapest["allocation"]) == pytest.approx(20.0, rel=1e-6)


@pytest.mark.parametrize("budget, goal", [(None, None), (100.0, 5.0)])
def test_optimised_split_needs_a_budget_or_a_goal(budget, goal):
    with pytest.raises(InputError, match="either a daily budget .* or a daily customer goal"):
        B.optimised_split(CURVES, {}, budget=budget, goal=goal)
