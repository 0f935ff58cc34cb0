from datetime import date

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.metrics.changes import changes_vs_previous, like_for_like, relative_change
from tests.builders import add_daily, add_metric, add_observations

D = date.fromisoformat
NAN = np.nan


def monthly(values: dict[str, float], metric: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"period": pd.Series([D(p) for p in values], dtype="object"),
                          "value": pd.Series(list(values.values()), dtype="float64")})
    return frame if metric is None else frame.assign(metric=metric)[["metric", "period", "value"]]


@pytest.mark.parametrize("value, base, expected", [
    (110.0, 100.0, 0.10),
    (90.0, 100.0, -0.10),
    (5000.0, 0.0, NAN),        # from zero: undefined ("new"), never inf
    (0.0, 0.0, NAN),
    (-50.0, -100.0, 0.50),     # a loss halving is an improvement of 50%
    (-0.438, 0.049, NAN),      # a rate crossing zero: -48.7 points, not "-994%"
    (50.0, -100.0, NAN),       # a loss turned into a profit: the points say it, no percent
    (0.0, 100.0, -1.0),        # down to zero is a 100% fall, not a crossing
    (None, 100.0, NAN),
    (100.0, NAN, NAN),
])
def test_relative_change(value, base, expected):
    result = relative_change(value, base)
    assert (np.isnan(result) and np.isnan(expected)) or result == pytest.approx(expected)


def test_crossing_zero_has_no_relative_change_in_a_series_either():
    series = monthly({"2025-01-01": 0.049, "2025-02-01": -0.438, "2025-03-01": -0.2})
    result = changes_vs_previous(series, "month")
    assert np.isnan(result["vs_previous_pct"].iloc[1])
    assert result["vs_previous_abs"].iloc[1] == pytest.approx(-0.487)
    assert result["vs_previous_pct"].iloc[2] == pytest.approx((-0.2 + 0.438) / 0.438)


def test_revenue_from_zero_is_new_not_infinite():
    # DOMAIN worked example: 0 last March, 5,000 this March.
    series = monthly({"2024-03-01": 0, "2025-02-01": 4000, "2025-03-01": 5000})
    result = changes_vs_previous(series, "month")
    march = result.iloc[-1]
    assert march["last_year"] == 0
    assert march["vs_last_year_abs"] == 5000
    assert np.isnan(march["vs_last_year_pct"])
    assert march["vs_previous_pct"] == pytest.approx(0.25)
    assert not np.isinf(result[["vs_previous_pct", "vs_last_year_pct"]].to_numpy()).any()


def test_changes_match_calendar_periods_not_rows():
    # February is missing: March has no previous month, April compares with March.
    series = monthly({"2025-01-01": 10, "2025-03-01": 12, "2025-04-01": 15})
    result = changes_vs_previous(series, "month")
    expected = series.assign(
        previous=[NAN, NAN, 12.0], vs_previous_abs=[NAN, NAN, 3.0], vs_previous_pct=[NAN, NAN, 0.25],
        last_year=[NAN] * 3, vs_last_year_abs=[NAN] * 3, vs_last_year_pct=[NAN] * 3)
    assert_frame_equal(result, expected)


def test_changes_stay_within_each_metric():
    series = pd.concat([monthly({"2025-01-01": 10, "2025-02-01": 20}, "leads"),
                        monthly({"2025-01-01": 100, "2025-02-01": 50}, "calls")], ignore_index=True)
    result = changes_vs_previous(series, "month")
    assert result["previous"].tolist()[1] == 10 and result["previous"].tolist()[3] == 100
    assert result["vs_previous_pct"].tolist()[3] == pytest.approx(-0.5)


@pytest.mark.parametrize("grain, periods, previous, last_year", [
    ("quarter", ["2024-01-01", "2024-10-01", "2025-01-01"], [NAN, NAN, 2.0], [NAN, NAN, 1.0]),
    ("year", ["2023-01-01", "2024-01-01", "2025-01-01"], [NAN, 1.0, 2.0], [NAN, 1.0, 2.0]),
    ("week", ["2024-02-26", "2025-02-17", "2025-02-24"], [NAN, NAN, 2.0], [NAN, NAN, 1.0]),
])
def test_changes_at_other_grains(grain, periods, previous, last_year):
    series = monthly(dict(zip(periods, [1.0, 2.0, 3.0], strict=True)))
    result = changes_vs_previous(series, grain)
    assert_frame_equal(result[["previous", "last_year"]],
                       pd.DataFrame({"previous": previous, "last_year": last_year}))


def test_changes_vs_previous_does_not_mutate_its_input():
    series = monthly({"2025-01-01": 10, "2025-02-01": 12})
    before = series.copy()
    changes_vs_previous(series, "month")
    assert_frame_equal(series, before)


@pytest.fixture
def leads(store):
    """One lead a day from 1 Feb 2024 to 15 Mar 2025, two a day in March 2025."""
    add_daily(store, "leads", "2024-02-01", [1] * 394)
    add_daily(store, "leads", "2025-03-01", [2] * 15)
    return store


def test_partial_month_is_compared_like_for_like(leads):
    result = like_for_like(leads, "leads", "2025-03")
    row = result.iloc[0]
    assert bool(row["partial"]) and row["days"] == 15 and row["through"] == D("2025-03-15")
    assert row["value"] == 30
    assert row["previous"] == 15           # 1-15 February, not the whole month (28)
    assert row["last_year"] == 15          # 1-15 March 2024
    assert row["vs_previous_pct"] == pytest.approx(1.0)


def test_complete_month_is_compared_with_whole_periods(leads):
    row = like_for_like(leads, ["leads"], "2025-02").iloc[0]
    assert not row["partial"] and row["days"] is None
    assert (row["value"], row["previous"], row["last_year"]) == (28, 31, 29)   # 2024 was a leap year


def test_like_for_like_days_are_capped_at_the_earlier_period_end(store):
    add_daily(store, "leads", "2025-02-01", [1] * 58)      # 1 Feb .. 30 Mar
    row = like_for_like(store, "leads", "2025-03").iloc[0]
    assert row["days"] == 30 and row["previous"] == 28


def test_through_ignores_later_data(leads):
    row = like_for_like(leads, "leads", "2025-03", through=D("2025-03-10")).iloc[0]
    assert (row["value"], row["days"], row["previous"]) == (20, 10, 10)


def test_partial_formula_compares_parts_like_for_like(store):
    add_metric(store, "conversion", formula="purchases / visitors")
    add_daily(store, "visitors", "2025-02-01", [100] * 28 + [200] * 10)
    add_daily(store, "purchases", "2025-02-01", [1] * 14 + [10] * 14 + [4] * 10)
    row = like_for_like(store, "conversion", "2025-03").iloc[0]
    assert row["partial"] and row["days"] == 10
    assert row["value"] == pytest.approx(0.02)
    assert row["previous"] == pytest.approx(0.01)       # 1-10 Feb, not the whole of February


def test_like_for_like_revenue_from_zero(store):
    add_observations(store, "revenue", [("2024-03-01", 0), ("2025-02-01", 4000), ("2025-03-01", 5000)])
    row = like_for_like(store, "revenue", "2025-03").iloc[0]
    assert row["vs_last_year_abs"] == 5000 and np.isnan(row["vs_last_year_pct"])


def test_metric_without_data_in_the_period(leads):
    row = like_for_like(leads, "leads", "2026-01").iloc[0]
    assert np.isnan(row["value"]) and not row["partial"] and row["through"] is None


def test_like_for_like_refuses_unknown_metrics_and_periods(leads):
    with pytest.raises(InputError):
        like_for_like(leads, "visits", "2025-03")
    with pytest.raises(InputError):
        like_for_like(leads, "leads", "March")
