"""metrics/history.py: a metric, or a formula typed over metric names, by
period, whole or split by its dimension, each period marked partial when its
data or the range asked for cover only part of it (CLI `history` and the
Metric explorer page). Every test runs on DuckDB and on PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.metrics.history import history_scope, metric_history
from kpi_logic.metrics.rollups import rolled_up
from tests.builders import add_metric, add_observations

FIRST = date(2025, 2, 24)           # a Monday; daily data for 15 days, to Monday 10 March
DAYS = [FIRST + timedelta(days=i) for i in range(15)]
VISITORS = {"search": [100 + i for i in range(15)], "social": [50 + 7 * i for i in range(15)]}
PURCHASES = {"search": [5 + i % 3 for i in range(15)], "social": [1 + i % 2 for i in range(15)]}


@pytest.fixture
def shop(store):
    """Visitors and purchases by channel every day from 24 Feb to 10 Mar 2025, a stored
    conversion formula over them, and revenue dated the 1st of each month (monthly)."""
    for name, values in (("visitors", VISITORS), ("purchases", PURCHASES)):
        add_metric(store, name, dimension_name="channel", department="Marketing")
        add_observations(store, name, [(day, values[channel][i], channel)
                                       for channel in values for i, day in enumerate(DAYS)])
    add_metric(store, "conversion", formula="purchases / visitors", unit="percent")
    add_metric(store, "revenue", unit="currency")
    add_observations(store, "revenue", [("2025-01-01", 1000), ("2025-02-01", 1200),
                                        ("2025-03-01", 900)])
    return store


def summed(values: dict, days: range, channels=("search", "social")) -> float:
    return float(sum(values[c][i] for c in channels for i in days))


FEBRUARY, MARCH = range(0, 5), range(5, 15)      # 24-28 Feb, 1-10 Mar


def test_a_metric_by_month_has_rolled_ups_numbers_and_its_last_month_is_partial(shop):
    history = metric_history(shop, "visitors", grain="month")
    assert history["rows"] == [
        {"period": "2025-02", "value": summed(VISITORS, FEBRUARY), "partial": False},
        {"period": "2025-03", "value": summed(VISITORS, MARCH), "partial": True}]
    assert rolled_up(shop, "visitors", "month")["value"].tolist() == \
        [r["value"] for r in history["rows"]]
    assert (history["unit"], history["aggregation"], history["formula"]) == ("number", "sum", None)
    assert (history["data_through"], history["covered_through"], history["cadence"]) == \
        ("2025-03-10", "2025-03-10", "daily")
    assert history["split"] == [] and history["dimension_name"] == "channel"


def test_a_typed_formula_is_each_periods_ratio_of_summed_parts(shop):
    history = metric_history(shop, formula="purchases / visitors", grain="month")
    expected = [summed(PURCHASES, days) / summed(VISITORS, days) for days in (FEBRUARY, MARCH)]
    assert [r["value"] for r in history["rows"]] == pytest.approx(expected)
    # Not the mean of the daily rates, and the same as the stored formula metric.
    daily = [sum(PURCHASES[c][i] for c in PURCHASES) / sum(VISITORS[c][i] for c in VISITORS)
             for i in FEBRUARY]
    assert history["rows"][0]["value"] != pytest.approx(sum(daily) / len(daily))
    stored = metric_history(shop, "conversion", grain="month")
    assert [r["value"] for r in stored["rows"]] == pytest.approx(expected)
    assert (history["metric"], history["formula"], history["unit"], history["aggregation"]) == \
        (None, "purchases / visitors", "percent", None)
    assert [r["partial"] for r in history["rows"]] == [False, True]


def test_a_typed_formula_may_use_formula_metrics_and_numbers(shop):
    history = metric_history(shop, formula=" Conversion * 100 ", grain="month")
    stored = metric_history(shop, "conversion", grain="month")
    assert [r["value"] for r in history["rows"]] == \
        pytest.approx([r["value"] * 100 for r in stored["rows"]])
    assert (history["formula"], history["unit"]) == ("Conversion * 100", "number")


def test_split_by_dimension_gives_a_series_per_channel_adding_up_to_the_whole(shop):
    history = metric_history(shop, "visitors", grain="week", by_dimension=True)
    assert {r["dimension"] for r in history["split"]} == {"search", "social"}
    whole = {r["period"]: r["value"] for r in history["rows"]}
    assert list(whole) == ["2025-W09", "2025-W10", "2025-W11"]
    for period, value in whole.items():
        assert sum(r["value"] for r in history["split"] if r["period"] == period) == \
            pytest.approx(value)
    social = [r for r in history["split"] if r["dimension"] == "social"]
    assert [r["value"] for r in social] == [sum(VISITORS["social"][0:7]),
                                           sum(VISITORS["social"][7:14]), VISITORS["social"][14]]
    # Week 11 holds Monday 10 March only: partial in the whole and in each series.
    assert [r["partial"] for r in social] == [False, False, True]
    assert [r["partial"] for r in history["rows"]] == [False, False, True]


def test_a_split_formula_is_each_channels_own_ratio(shop):
    history = metric_history(shop, formula="purchases / visitors", grain="month",
                             by_dimension=True)
    search = [r["value"] for r in history["split"] if r["dimension"] == "search"]
    assert search == pytest.approx([summed(PURCHASES, days, ["search"])
                                    / summed(VISITORS, days, ["search"])
                                    for days in (FEBRUARY, MARCH)])


def test_a_range_keeps_its_days_and_marks_the_periods_it_cuts_partial(shop):
    history = metric_history(shop, "visitors", grain="month", start="2025-02-26",
                             end=date(2025, 3, 3))
    assert history["rows"] == [
        {"period": "2025-02", "value": summed(VISITORS, range(2, 5)), "partial": True},
        {"period": "2025-03", "value": summed(VISITORS, range(5, 8)), "partial": True}]
    assert (history["start"], history["end"], history["covered_through"]) == \
        ("2025-02-26", "2025-03-03", "2025-03-03")
    # A range on period boundaries cuts nothing.
    february = metric_history(shop, "visitors", grain="month", start="2025-02-01",
                              end="2025-02-28")
    assert [r["partial"] for r in february["rows"]] == [False]


def test_a_monthly_value_covers_its_month(shop):
    history = metric_history(shop, "revenue", grain="quarter")
    assert history["rows"] == [{"period": "2025-Q1", "value": 3100.0, "partial": False}]
    monthly = metric_history(shop, "revenue", grain="month", end="2025-03-15")
    assert [r["partial"] for r in monthly["rows"]] == [False, False, False]
    assert monthly["covered_through"] == "2025-03-31"
    assert monthly["unit"] == "currency"


def test_one_dimension_value_keeps_only_its_rows(shop):
    history = metric_history(shop, formula="purchases / visitors", grain="month",
                             dimension="social")
    assert [r["value"] for r in history["rows"]] == pytest.approx(
        [summed(PURCHASES, days, ["social"]) / summed(VISITORS, days, ["social"])
         for days in (FEBRUARY, MARCH)])


def test_the_scope_says_where_the_data_reach_and_which_channels_they_have(shop):
    scope = history_scope(shop, "visitors")
    assert (scope.first_date, scope.last_date) == (FIRST, date(2025, 3, 10))
    assert (scope.dimension_name, scope.dimensions, scope.unit) == \
        ("channel", ("search", "social"), "number")
    formula = history_scope(shop, formula="purchases / visitors")
    assert (formula.dimensions, formula.unit) == (("search", "social"), "percent")
    revenue = history_scope(shop, "Revenue")            # a name as people write it
    assert (revenue.first_date, revenue.last_date) == (date(2025, 1, 1), date(2025, 3, 1))
    assert (revenue.dimension_name, revenue.dimensions, revenue.unit) == (None, (), "currency")
    # Parts with no channel in common: no split to offer.
    mixed = history_scope(shop, formula="revenue / visitors", grain="month")
    assert (mixed.dimension_name, mixed.dimensions) == (None, ())
    # Its values start with February, the first month both parts have data in.
    assert (mixed.first_date, mixed.last_date) == (date(2025, 2, 1), date(2025, 3, 10))
    assert history_scope(shop, formula="revenue / visitors", grain="year").first_date == \
        date(2025, 1, 1)


def test_a_metric_without_history_has_an_empty_scope_and_history(shop):
    add_metric(shop, "signups")
    assert history_scope(shop, "signups").first_date is None
    assert metric_history(shop, "signups")["rows"] == []


@pytest.mark.parametrize("kwargs, says", [
    ({"formula": "purchases / visiter"}, "formula 'purchases / visiter' uses unknown metric "
                                         "'visiter'; did you mean 'visitors'?"),
    ({"formula": "purchases /"}, "formula 'purchases /' cannot be read at character 12: "
                                 "expected a metric name or a number, found the end of the "
                                 "formula"),
    ({"formula": "2 * 3"}, "formula '2 * 3' names no metric"),
    ({"formula": "   "}, "the formula is empty"),
    ({"metric": "leads"}, "no metric named 'leads'"),
    ({}, "name a metric or type a formula"),
    ({"metric": "visitors", "formula": "visitors"}, "name a metric or type a formula"),
    ({"metric": "visitors", "start": "2025-03-05", "end": "2025-03-01"},
     "the range starts on 2025-03-05, after its last day 2025-03-01"),
    ({"metric": "visitors", "grain": "fortnight"}, "'fortnight' is not a period length"),
    ({"metric": "visitors", "start": "1800-01-01"}, "outside the dates Lodestar works with"),
])
def test_what_cannot_be_shown_is_refused_in_one_sentence(shop, kwargs, says):
    kwargs = {"grain": "month", **kwargs}
    with pytest.raises(InputError) as refused:
        metric_history(shop, kwargs.pop("metric", None), **kwargs)
    assert says in str(refused.value)
    assert str(refused.value).count(". ") == 0, "one sentence"
