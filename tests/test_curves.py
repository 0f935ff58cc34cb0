"""Response curves: fitting, falling back to constant CAC, refusals, the table of fits."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.launch import curves as C

LAUNCH_DAY = date(2025, 3, 1)


def synthetic(a: float, b: float, days: int = 60, noise: float = 0.0, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spend = rng.uniform(50, 2000, days)
    customers = a * spend ** b * np.exp(rng.normal(0, noise, days))
    return pd.DataFrame({"obs_date": [LAUNCH_DAY + timedelta(days=i) for i in range(days)],
                         "spend": spend, "new_customers": customers})


@pytest.mark.parametrize("a, b, noise", [(0.5, 0.7, 0.0), (0.5, 0.7, 0.02), (2.0, 0.4, 0.02),
                                         (0.05, 0.95, 0.02)])
def test_fitted_curve_recovers_a_and_b_within_5_percent(a, b, noise):
    curve = C.fitted_curve(synthetic(a, b, noise=noise))
    assert curve.model == "power"
    assert curve.a == pytest.approx(a, rel=0.05)
    assert curve.b == pytest.approx(b, rel=0.05)
    assert curve.days == 60 and curve.r2 > 0.95


def test_fitted_curve_does_not_mutate_its_input():
    daily = synthetic(0.5, 0.7)
    before = daily.copy()
    C.fitted_curve(daily)
    assert_frame_equal(daily, before)


def test_fewer_than_ten_days_fall_back_to_constant_cac_from_summed_components():
    daily = pd.DataFrame({"spend": [100.0, 300.0, 0.0], "new_customers": [4.0, 6.0, 1.0]})
    curve = C.fitted_curve(daily, "search")
    # The zero-spend day is left out; the rest give 10 customers for 400.
    assert (curve.model, curve.a, curve.b, curve.r2, curve.days) == ("constant_cac", 10 / 400, 1.0, None, 2)
    assert curve.max_spend_seen == 300.0
    assert "only 2 day(s)" in curve.reason and "needs 10" in curve.reason


def test_flat_spend_falls_back_to_constant_cac():
    daily = pd.DataFrame({"spend": [50.0] * 12, "new_customers": [2.0, 3.0] * 6})
    curve = C.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.a == pytest.approx(30 / 600)
    assert "barely changed" in curve.reason


def test_increasing_returns_fall_back_to_constant_cac():
    daily = synthetic(0.001, 1.5)
    curve = C.fitted_curve(daily)
    assert curve.model == "constant_cac" and curve.b == 1.0
    assert "outside 0 < b <= 1" in curve.reason
    assert curve.a == pytest.approx(daily["new_customers"].sum() / daily["spend"].sum())


def test_days_without_customers_count_for_constant_cac_but_not_for_the_fit():
    daily = synthetic(0.5, 0.7)
    daily.loc[daily.index[:5], "new_customers"] = 0.0
    curve = C.fitted_curve(daily)
    assert curve.model == "power" and curve.days == 55
    assert curve.b == pytest.approx(0.7, rel=0.01)


def test_a_channel_with_no_customers_gets_a_curve_that_buys_none():
    daily = pd.DataFrame({"spend": [30.0, 40.0], "new_customers": [0.0, 0.0]})
    curve = C.fitted_curve(daily, "partners")
    assert curve.a == 0.0 and curve.new_customers(100.0) == 0.0
    assert curve.marginal_cac(100.0) is None
    assert "no new customers on any of its 2 day(s) with spend" in curve.reason
    assert C.Curve("power", 0.0, 0.5, None, 12).marginal_cac(0.0) is None


@pytest.mark.parametrize("curve, spend, expected", [
    (C.Curve("constant_cac", 0.05, 1.0, None, 5), 100.0, 20.0),
    (C.Curve("power", 0.5, 0.5, 0.9, 20), 100.0, 1 / (0.25 / 10)),
    (C.Curve("power", 0.5, 0.5, 0.9, 20), 0.0, 0.0)])
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
        C.fitted_curve(daily, "search")
    assert message in str(refused.value)


def test_missing_columns_are_refused():
    with pytest.raises(InputError, match="no new_customers history"):
        C.fitted_curve(pd.DataFrame({"spend": [1.0]}), "search")


def test_curve_fits_lists_curves_and_channels_without_one():
    fits = C.curve_fits({"search": C.Curve("power", 0.3, 0.6, 0.9, 30, "", 800.0, 120.0),
                         "email": C.Curve("constant_cac", 0.05, 1.0, None, 4, "Constant CAC: few")},
                        {"partners": "no day with spend"})
    expected = pd.DataFrame({
        "channel": ["search", "email", "partners"], "model": ["power", "constant_cac", None],
        "a": [0.3, 0.05, np.nan], "b": [0.6, 1.0, np.nan], "r2": [0.9, np.nan, np.nan],
        "days": [30, 4, 0], "min_spend_seen": [120.0, np.nan, np.nan],
        "max_spend_seen": [800.0, np.nan, np.nan],
        "note": ["", "Constant CAC: few", "no day with spend"]})
    assert_frame_equal(fits, expected)


def test_curve_words_say_what_an_extra_100_a_day_brings_in_plain_words():
    curve = C.Curve("power", 0.5, 0.5, 0.87, 60, "", 2000.0, 400.0)
    words = C.curve_words("display", curve, 900.0)
    more = 0.5 * (1000.0 ** 0.5 - 900.0 ** 0.5)
    assert words == (f"Display: each extra $100 a day brings about {more:.1f} more new customers a "
                     "day at today's $900 a day (fewer for each further $100); the curve explains "
                     "87% of the day-to-day variation, on days spending $400 to $2,000.")
    flat = C.Curve("constant_cac", 0.02, 1.0, None, 5, "Constant CAC: few days", 300.0, 100.0)
    assert "about 2.0 more new customers" in C.curve_words("email", flat, 200.0)
    assert "constant CAC" in C.curve_words("email", flat, 200.0)


def test_a_fitted_curve_knows_the_least_and_the_most_spent_in_a_day():
    days = pd.DataFrame({"spend": [0.0, 120.0, 300.0, 80.0], "new_customers": [0, 3, 6, 2]})
    curve = C.fitted_curve(days)
    assert (curve.min_spend_seen, curve.max_spend_seen) == (80.0, 300.0)
    assert curve.as_dict()["min_spend_seen"] == 80.0
