"""Budget what-ifs: projections, extrapolation warnings, scenario comparison, rebalancing a split."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.launch import budget as B
from kpi_logic.launch.analysis import channel_kpis
from kpi_logic.launch.curves import Curve


def channel_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["channel", "spend", "visitors", "purchases", "new_customers"])


# --- projections -----------------------------------------------------------

CURVES = {"search": Curve("power", 0.3, 0.6, 0.9, 30),
          "social": Curve("power", 0.8, 0.5, 0.8, 30),
          "email": Curve("constant_cac", 0.05, 1.0, None, 30)}


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


def test_allocations_far_beyond_the_spend_seen_are_warned_about():
    curves = {"email": Curve("power", 0.1, 0.9, 0.5, 30, "", 200.0),
              "search": Curve("power", 0.3, 0.6, 0.5, 30, "", 1000.0),
              "old": Curve("power", 0.3, 0.6, 0.5, 30)}
    warnings = B.extrapolation_warnings(curves, {"email": 900.0, "search": 1400.0, "old": 5000.0})
    assert warnings == ["Email: $900 a day is 4.5 times the most it has spent in a day ($200), "
                        "so its projection extrapolates the curve. Treat it with care, or set a "
                        "maximum for the channel."]


def test_allocations_far_below_the_spend_seen_are_warned_about_too():
    """Under the least day a power curve makes customers look ever cheaper: as unsafe."""
    curves = {"display": Curve("power", 0.05, 0.7, 0.7, 60, "", 8000.0, 700.0),
              "email": Curve("power", 0.1, 0.9, 0.5, 30, "", 200.0, 50.0)}
    allocation = {"display": 79.82, "email": 40.0}      # email: within 1.5 times its least day
    assert B.outside_seen(curves, allocation) == [
        {"channel": "display", "spend_per_day": 79.82, "side": "below", "seen_per_day": 700.0}]
    (warning,) = B.extrapolation_warnings(curves, allocation)
    assert warning.startswith("Display: $80 a day is far below the least it has spent in a day "
                              "($700), so its projection extrapolates the curve")
    assert "set a minimum" in warning
    # spending nothing buys nothing: no curve is needed to say so
    assert B.outside_seen(curves, {"display": 0.0, "email": 50.0}) == []


# --- scenario comparison ---------------------------------------------------

@pytest.mark.parametrize("count", [0, 5])
def test_comparing_needs_one_to_four_scenarios(count):
    actual = channel_kpis(channel_rows(("search", 1.0, 1.0, 1.0, 1.0)))
    with pytest.raises(InputError, match="Pick 1 to 4 scenarios"):
        B.scenario_comparison(actual, {f"s{i}": actual for i in range(count)})


# --- rebalancing a split -----------------------------------------------------

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
