"""Suggested KPI targets from a metric's complete-period history."""
from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.metrics.suggest import (
    default_percentile,
    rounded_target,
    suggested_target,
    suggestion_history,
    suggestion_note,
)


@pytest.mark.parametrize("values, kind, expected", [
    ([10, 20, 30, 40, 50], "min", 40.0),            # last three: 30, 40, 50
    ([50, 1, 40, 30], "max", 30.0),                 # last three: 1, 40, 30 -> 30
    ([5, 7], "min", 6.0),                           # fewer than three: median of what there is
    ([4], "max", 4.0),
    ([1, 2, None, 3, float("nan"), 100], "min", 3.0),  # missing periods are skipped
    ([0.031, 0.029, 0.035], "min", 0.031),
])
def test_median3_is_the_median_of_the_last_three_values(values, kind, expected):
    assert suggested_target(values, kind) == pytest.approx(expected)


@pytest.mark.parametrize("values, kind, q, expected", [
    ([1, 2, 3, 4, 5], "min", None, 4.0),             # default for at least: 75th percentile
    ([1, 2, 3, 4, 5], "max", None, 2.0),             # default for at most: 25th percentile
    ([1, 2, 3, 4, 5], "min", 0.5, 3.0),
    ([10, 20], "min", 0.9, 19.0),                    # interpolated between values
    (list(range(100, 114)) , "min", 0.0, 102.0),     # only the last 12 periods count
    ([3, 3, 3], "max", 1.0, 3.0),
])
def test_percentile_of_the_recent_history(values, kind, q, expected):
    assert suggested_target(values, kind, "percentile", q) == pytest.approx(expected)


@pytest.mark.parametrize("values", [[], [None, float("nan")]])
@pytest.mark.parametrize("method", ["median3", "percentile"])
def test_no_history_gives_no_suggestion(values, method):
    assert suggested_target(values, "min", method) is None


@pytest.mark.parametrize("kind, method, q, message", [
    ("at least", "median3", None, "target kind 'at least'"),
    ("min", "mean", None, "suggestion method 'mean'"),
    ("min", "percentile", 1.5, "between 0 and 100, not 150"),
    ("max", "percentile", -0.1, "between 0 and 100"),
])
def test_refuses_unknown_kind_method_and_percentile_out_of_range(kind, method, q, message):
    with pytest.raises(InputError, match=message):
        suggested_target([1, 2, 3], kind, method, q)


def test_suggested_target_does_not_mutate_its_input():
    values = pd.Series([3.0, 1.0, 2.0])
    suggested_target(values, "min", "percentile", 0.5)
    assert values.tolist() == [3.0, 1.0, 2.0]


def test_default_percentile_stretches_in_the_good_direction():
    assert default_percentile("min") == 0.75
    assert default_percentile("max") == 0.25


def _rolled(rows):
    return pd.DataFrame({
        "metric": "leads",
        "period": [date.fromisoformat(p) for p, _ in rows],
        "label": [p[:7] for p, _ in rows],
        "value": [float(v) if v is not None else math.nan for _, v in rows],
        "first_date": [date.fromisoformat(p) for p, _ in rows],
        "last_date": [date.fromisoformat(p) for p, _ in rows],
    })


ROLLED = _rolled([("2025-01-01", 10), ("2025-02-01", 12), ("2025-03-01", None),
                  ("2025-04-01", 14), ("2025-05-01", 16), ("2025-06-01", 3)])


@pytest.mark.parametrize("as_of, method, labels, used", [
    # June is still running on 15 June: left out; March has no value: left out.
    (date(2025, 6, 15), "median3", ["2025-01", "2025-02", "2025-04", "2025-05"],
     [False, True, True, True]),
    # A month ending the day before as_of is complete.
    (date(2025, 7, 1), "median3", ["2025-01", "2025-02", "2025-04", "2025-05", "2025-06"],
     [False, False, True, True, True]),
    (date(2025, 6, 30), "percentile", ["2025-01", "2025-02", "2025-04", "2025-05"],
     [True, True, True, True]),
])
def test_suggestion_history_keeps_complete_periods_and_marks_the_used_ones(as_of, method,
                                                                            labels, used):
    history = suggestion_history(ROLLED, "month", as_of, method)
    assert history["label"].tolist() == labels
    assert history["used"].tolist() == used
    assert list(history.columns) == ["period", "label", "value", "used"]


def test_suggestion_history_feeds_the_suggestion_without_the_running_month():
    history = suggestion_history(ROLLED, "month", date(2025, 6, 15))
    # 12, 14, 16 -> 14; the half-finished June (3) would have pulled it down.
    assert suggested_target(history["value"], "min") == 14.0


def test_suggestion_history_does_not_mutate_the_rolled_frame():
    before = ROLLED.copy()
    suggestion_history(ROLLED, "month", date(2025, 6, 15), "percentile")
    assert_frame_equal(ROLLED, before)


def test_suggestion_history_of_nothing_is_empty():
    history = suggestion_history(ROLLED.iloc[0:0], "quarter", date(2025, 6, 15))
    assert history.empty
    assert list(history.columns) == ["period", "label", "value", "used"]


@pytest.mark.parametrize("method, kind, q, used, grain, expected", [
    ("median3", "min", None, 3, "month", "Median of the last 3 complete months."),
    ("median3", "min", None, 2, "quarter",
     "Median of the last 2 complete quarters (only 2 complete quarters with data so far)."),
    ("percentile", "min", 0.75, 12, "month",
     "75th percentile of the last 12 complete months: about 25% of them would have met"),
    ("percentile", "max", 0.25, 8, "month",
     "25th percentile of the last 8 complete months: about 25% of them would have met"),
    ("percentile", "max", 0.1, 8, "month", "about 10% of them would have met"),
    ("median3", "min", None, 0, "year", "No complete year with data yet"),
])
def test_suggestion_note_says_how_the_target_was_made(method, kind, q, used, grain, expected):
    assert expected in suggestion_note(method, kind, q, used, grain)


@pytest.mark.parametrize("value, expected", [
    (0.0342871, 0.0343), (41.237, 41.2), (123456.0, 123000.0), (-7.777, -7.78),
    (0.0, 0.0), (None, None),
])
def test_rounded_target_keeps_three_significant_digits(value, expected):
    assert rounded_target(value) == expected
