from datetime import date, datetime

import pandas as pd
import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.periods import (
    as_of_or_today,
    parse_period,
    period_end,
    period_label,
    period_start,
    period_starts,
    previous_period,
    same_period_last_year,
)


@pytest.mark.parametrize("d, grain, start, end, label", [
    (date(2025, 3, 5), "day", date(2025, 3, 5), date(2025, 3, 5), "2025-03-05"),
    (date(2025, 3, 5), "week", date(2025, 3, 3), date(2025, 3, 9), "2025-W10"),
    (date(2025, 3, 5), "month", date(2025, 3, 1), date(2025, 3, 31), "2025-03"),
    (date(2025, 3, 5), "quarter", date(2025, 1, 1), date(2025, 3, 31), "2025-Q1"),
    (date(2025, 3, 5), "year", date(2025, 1, 1), date(2025, 12, 31), "2025"),
    # leap year February, last day of each quarter
    (date(2024, 2, 10), "month", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
    (date(2025, 2, 10), "month", date(2025, 2, 1), date(2025, 2, 28), "2025-02"),
    (date(2025, 6, 30), "quarter", date(2025, 4, 1), date(2025, 6, 30), "2025-Q2"),
    (date(2025, 9, 30), "quarter", date(2025, 7, 1), date(2025, 9, 30), "2025-Q3"),
    (date(2025, 12, 31), "quarter", date(2025, 10, 1), date(2025, 12, 31), "2025-Q4"),
    # ISO weeks crossing the year: 2024-12-30 is in week 1 of 2025; 2021-01-03 in week 53 of 2020
    (date(2024, 12, 31), "week", date(2024, 12, 30), date(2025, 1, 5), "2025-W01"),
    (date(2021, 1, 3), "week", date(2020, 12, 28), date(2021, 1, 3), "2020-W53"),
])
def test_period_bounds_and_label(d, grain, start, end, label):
    assert period_start(d, grain) == start
    assert period_end(d, grain) == end
    assert period_label(d, grain) == label
    assert parse_period(label) == (grain, start, end)


@pytest.mark.parametrize("value", [datetime(2025, 3, 5, 14, 0), pd.Timestamp("2025-03-05"), "2025-03-05"])
def test_dates_in_other_shapes_are_accepted(value):
    assert period_start(value, "month") == date(2025, 3, 1)


@pytest.mark.parametrize("label, expected", [
    ("2025-q1", ("quarter", date(2025, 1, 1), date(2025, 3, 31))),
    ("2025-w09", ("week", date(2025, 2, 24), date(2025, 3, 2))),
    (" 2025-03 ", ("month", date(2025, 3, 1), date(2025, 3, 31))),
    ("2024-02-29", ("day", date(2024, 2, 29), date(2024, 2, 29))),
])
def test_parse_period_is_lenient_about_case_and_spaces(label, expected):
    assert parse_period(label) == expected


@pytest.mark.parametrize("label", ["2025-13", "2025-Q5", "2025-02-30", "2023-02-29", "2025-W53",
                                   "March 2025", "", "25-03", "2025/03"])
def test_parse_period_refuses_what_is_not_a_period(label):
    with pytest.raises(InputError, match="2025-Q1"):
        parse_period(label)


@pytest.mark.parametrize("d, grain, previous", [
    (date(2025, 3, 1), "day", date(2025, 2, 28)),
    (date(2024, 3, 1), "day", date(2024, 2, 29)),
    (date(2025, 1, 8), "week", date(2024, 12, 30)),
    (date(2025, 1, 15), "month", date(2024, 12, 1)),
    (date(2025, 3, 31), "month", date(2025, 2, 1)),
    (date(2025, 2, 1), "quarter", date(2024, 10, 1)),
    (date(2025, 7, 1), "quarter", date(2025, 4, 1)),
    (date(2025, 7, 1), "year", date(2024, 1, 1)),
])
def test_previous_period(d, grain, previous):
    assert previous_period(d, grain) == previous


@pytest.mark.parametrize("d, grain, last_year", [
    (date(2024, 2, 29), "day", date(2023, 2, 28)),
    (date(2025, 3, 15), "day", date(2024, 3, 15)),
    (date(2025, 2, 26), "week", date(2024, 2, 26)),     # 2025-W09 -> 2024-W09
    (date(2021, 1, 1), "week", date(2019, 12, 23)),     # 2020-W53 -> 2019-W52
    (date(2025, 3, 15), "month", date(2024, 3, 1)),
    (date(2024, 2, 29), "month", date(2023, 2, 1)),
    (date(2025, 12, 31), "quarter", date(2024, 10, 1)),
    (date(2025, 6, 1), "year", date(2024, 1, 1)),
])
def test_same_period_last_year(d, grain, last_year):
    assert same_period_last_year(d, grain) == last_year


def test_period_starts_cover_the_range():
    assert period_starts(date(2024, 11, 15), date(2025, 2, 1), "month") == [
        date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]
    assert period_starts(date(2025, 1, 1), date(2024, 1, 1), "month") == []


def test_unknown_grain_is_refused():
    with pytest.raises(InputError, match="fortnight"):
        period_start(date(2025, 1, 1), "fortnight")




@pytest.mark.parametrize("label", ["9999-12", "1899-12", "2200", "2200-Q1", "1899-12-31", "0001-01"])
def test_period_outside_the_accepted_dates_is_refused(label):
    with pytest.raises(InputError, match="outside the dates Lodestar works with, 1900-01-01 to 2199-12-31"):
        parse_period(label)


@pytest.mark.parametrize("label, end", [("2199-12", date(2199, 12, 31)), ("2199", date(2199, 12, 31)),
                                        ("1900-01", date(1900, 1, 31)), ("2199-W52", date(2199, 12, 29))])
def test_periods_at_the_edges_of_the_accepted_dates(label, end):
    grain, start, last = parse_period(label)
    assert last == end
    assert previous_period(start, grain) < start and same_period_last_year(start, grain) < start


def test_as_of_outside_the_accepted_dates_is_refused():
    with pytest.raises(InputError, match="the as-of date 9999-12-31: outside"):
        as_of_or_today(date(9999, 12, 31))
    assert as_of_or_today(None) == date.today()
    assert as_of_or_today("2199-12-31") == date(2199, 12, 31)
