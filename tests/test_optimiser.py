"""The optimiser: the best split for a budget or a goal, within bounds, and what it moved."""
from __future__ import annotations

import numpy as np
import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.launch import optimiser as O
from kpi_logic.launch.curves import Curve

CURVES = {"search": Curve("power", 0.3, 0.6, 0.9, 30),
          "social": Curve("power", 0.8, 0.5, 0.8, 30),
          "email": Curve("constant_cac", 0.05, 1.0, None, 30)}


def customers(allocation) -> float:
    return sum(CURVES[c].new_customers(x) for c, x in allocation.items())


@pytest.mark.parametrize("budget, minimums, maximums", [
    (1000.0, None, None), (1000.0, None, {"email": 100.0}), (50.0, None, None),
    (1000.0, {"search": 300.0}, {"email": 200.0}), (250.0, {"social": 250.0}, None),
    (900.0, None, {"search": 300.0, "social": 300.0, "email": 300.0})])
def test_optimal_allocation_beats_actual_and_equal_split_within_bounds(budget, minimums, maximums):
    allocation = O.optimal_allocation(CURVES, budget, minimums, maximums)
    assert sum(allocation.values()) == pytest.approx(budget)
    for channel, spend in allocation.items():
        assert (minimums or {}).get(channel, 0.0) - 1e-9 <= spend <= (maximums or {}).get(channel, np.inf) + 1e-9
    equal = {c: budget / 3 for c in CURVES}
    actual = {"search": 0.5 * budget, "social": 0.3 * budget, "email": 0.2 * budget}
    for other in (equal, actual):
        if all((minimums or {}).get(c, 0) <= x <= (maximums or {}).get(c, np.inf) for c, x in other.items()):
            assert customers(allocation) >= customers(other) - 1e-9


def test_optimal_allocation_equalises_marginal_cost_and_fills_the_cheapest_constant_channel():
    allocation = O.optimal_allocation(CURVES, 1000.0)
    # Power channels stop where their next customer costs what email's do (20).
    assert CURVES["search"].marginal_cac(allocation["search"]) == pytest.approx(20.0)
    assert CURVES["social"].marginal_cac(allocation["social"]) == pytest.approx(20.0)
    assert allocation["social"] == pytest.approx(64.0)
    assert allocation["email"] == pytest.approx(1000.0 - 64.0 - allocation["search"])


def test_optimal_allocation_is_at_least_as_good_as_any_point_on_a_grid():
    two = {"search": CURVES["search"], "social": CURVES["social"]}
    best = O.optimal_allocation(two, 500.0)
    grid = max(two["search"].new_customers(x) + two["social"].new_customers(500.0 - x)
               for x in np.linspace(0, 500, 2001))
    assert sum(two[c].new_customers(x) for c, x in best.items()) >= grid - 1e-9


def test_optimal_allocation_spends_the_budget_even_where_curves_buy_nothing():
    dead = {"a": Curve("constant_cac", 0.0, 1.0, None, 3), "b": Curve("power", 0.0, 0.5, None, 3)}
    allocation = O.optimal_allocation(dead, 100.0, maximums={"a": 30.0})
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
        O.optimal_allocation(CURVES, budget, minimums, maximums)


def test_minimise_spend_for_finds_the_cheapest_split_reaching_the_goal():
    allocation = O.minimise_spend_for(CURVES, 20.0)
    total = sum(allocation.values())
    assert customers(allocation) == pytest.approx(20.0, rel=1e-6)
    assert customers(O.optimal_allocation(CURVES, total * 0.99)) < 20.0
    assert total == pytest.approx(64.0 + allocation["search"] + allocation["email"])


def test_minimise_spend_for_respects_minimums_already_enough():
    allocation = O.minimise_spend_for(CURVES, 1.0, minimums={"social": 100.0})
    assert allocation["social"] == pytest.approx(100.0) and sum(allocation.values()) == pytest.approx(100.0)


@pytest.mark.parametrize("goal, maximums, message", [
    (500.0, {"search": 10.0, "social": 10.0, "email": 10.0}, "out of reach: at most"),
    (0.0, None, "must be above 0")])
def test_unreachable_goals_are_refused(goal, maximums, message):
    with pytest.raises(InputError, match=message):
        O.minimise_spend_for(CURVES, goal, maximums=maximums)


def test_moves_explained_says_what_moved_where():
    before = {"search": 400.0, "social": 300.0, "email": 300.0}
    changes = O.allocation_changes(CURVES, before, O.optimal_allocation(CURVES, 1000.0))
    sentences = O.moves_explained(changes)
    # daily money in the spend's unit, to the whole dollar, as a marketing lead reads it
    assert sentences[0] == ("Cut Search from $400 to $25 a day (its next customer cost $61): "
                            "new customers a day 10.9 → 2.0.")
    assert sentences[-2].startswith("Raised Email from $300 to $911 a day")
    # the same total: no "+0.00 spend"
    assert sentences[-1] == "In total: +14.2 new customers a day for the same daily spend."
    assert O.moves_explained(changes, unit="number")[0].startswith("Cut Search from 400 to 25 a day")
    same = O.allocation_changes(CURVES, before, before)
    assert O.moves_explained(same) == ["Nothing moved: the new split is the same as the current one."]


def test_optimised_split_for_a_budget_or_a_goal_explained_against_the_actual():
    actual = {"search": 500.0, "social": 300.0, "email": 200.0}
    best = O.optimised_split(CURVES, actual, budget=1000.0, maximums={"email": 400.0})
    assert best["allocation"] == pytest.approx(O.optimal_allocation(CURVES, 1000.0,
                                                                    maximums={"email": 400.0}))
    assert best["changes"]["spend_before"].tolist() == [500.0, 300.0, 200.0]
    assert best["moves"][-1].startswith("In total: +") and best["warnings"] == []
    cheapest = O.optimised_split(CURVES, actual, goal=20.0)
    assert customers(cheapest["allocation"]) == pytest.approx(20.0, rel=1e-6)


@pytest.mark.parametrize("budget, goal", [(None, None), (100.0, 5.0)])
def test_optimised_split_needs_a_budget_or_a_goal(budget, goal):
    with pytest.raises(InputError, match="either a daily budget .* or a daily customer goal"):
        O.optimised_split(CURVES, {}, budget=budget, goal=goal)


def test_moves_explained_says_how_much_more_or_less_is_spent():
    before = {"search": 400.0, "social": 300.0, "email": 300.0}
    changes = O.allocation_changes(CURVES, before, {**before, "search": 900.0})
    assert O.moves_explained(changes)[-1].endswith("for $500 a day more.")
    # a move that rounds to the same dollars is no move
    tiny = O.allocation_changes(CURVES, {"search": 734.6}, {"search": 734.9})
    assert O.moves_explained(tiny, threshold=0.0) == [
        "Nothing moved: the new split is the same as the current one."]


SEEN = {"display": Curve("power", 0.05, 0.7, 0.7, 60, "", 8000.0, 700.0),
        "email": Curve("power", 1.0, 0.5, 0.6, 60, "", 600.0, 70.0)}


def test_the_optimiser_stays_within_the_daily_spend_seen_by_default():
    actual = {"display": 2300.0, "email": 250.0}
    free = O.optimised_split(SEEN, actual, budget=2550.0, within_seen=False)
    # unbounded, the curves pull display far under its least day and email far over its most
    assert free["allocation"]["display"] < 700.0 / 1.5 and free["allocation"]["email"] > 900.0
    assert {(o["channel"], o["side"]) for o in free["outside_seen"]} == {("display", "below"),
                                                                         ("email", "above")}
    assert any(w.startswith("Display: $") and "far below the least it has spent in a day ($700)"
               in w for w in free["warnings"])
    bounded = O.optimised_split(SEEN, actual, budget=2550.0)
    assert 700.0 - 1e-6 <= bounded["allocation"]["display"] <= 8000.0
    assert 70.0 - 1e-6 <= bounded["allocation"]["email"] <= 600.0 + 1e-6
    assert bounded["outside_seen"] == [] and bounded["warnings"] == []
    assert bounded["minimums"] == {"display": 700.0, "email": 70.0}
    # a bound given replaces the range seen for its channel
    opened = O.optimised_split(SEEN, actual, budget=2550.0, maximums={"email": 1000.0})
    assert opened["allocation"]["email"] > 600.0 and opened["maximums"]["email"] == 1000.0


@pytest.mark.parametrize("budget, message", [
    (500.0, "A daily budget of \\$500 is below what the channels spent together on their "
            "smallest days \\(\\$770\\)"),
    (9000.0, "above what the channels spent together on their largest days \\(\\$8,600\\)")])
def test_a_budget_outside_the_range_seen_is_refused_saying_how_to_allow_it(budget, message):
    with pytest.raises(InputError, match=message):
        O.optimised_split(SEEN, {}, budget=budget)
    assert O.optimised_split(SEEN, {}, budget=budget, within_seen=False)["outside_seen"]


def test_seen_bounds_give_way_to_a_bound_set_on_the_other_side():
    low, high = O.seen_bounds(SEEN, maximums={"display": 300.0}, minimums={"email": 900.0})
    assert low == {"display": 300.0, "email": 900.0} and high == {"display": 300.0, "email": 900.0}
