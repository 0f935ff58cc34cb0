from datetime import date

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.metrics.rollups import data_through, rolled_up
from tests.builders import add_daily, add_metric, add_observations
from tests.conftest import duckdb_only

D = date.fromisoformat


def expected(rows, dimension=False):
    """rolled_up's frame from (metric, period, [dimension,] label, value, first, last) tuples."""
    columns = ["metric", "period"] + (["dimension"] if dimension else []) + \
        ["label", "value", "first_date", "last_date"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("period", "first_date", "last_date"):
        frame[column] = pd.Series([D(v) for v in frame[column]], dtype="object")
    text = {c: "str" for c in ("metric", "dimension", "label") if c in columns}
    return frame.astype({"value": "float64", **text})


@pytest.fixture
def shop(store):
    """The DOMAIN worked example, two channels: day 1 200 visitors / 20 buyers
    (search), day 2 1,800 visitors / 18 buyers (social)."""
    add_metric(store, "purchases")
    add_metric(store, "visitors")
    add_metric(store, "conversion", formula="purchases / visitors", unit="percent")
    add_observations(store, "visitors", [("2025-03-01", 200, "search"), ("2025-03-02", 1800, "social")])
    add_observations(store, "purchases", [("2025-03-01", 20, "search"), ("2025-03-02", 18, "social")])
    return store


def test_conversion_is_computed_from_summed_parts(shop):
    result = rolled_up(shop, ["conversion"], "month")
    assert_frame_equal(result, expected([
        ("conversion", "2025-03-01", "2025-03", 38 / 2000, "2025-03-01", "2025-03-02")]))
    assert result["value"].iloc[0] == pytest.approx(0.019)       # not the 5.5% mean of rates


def test_formula_per_dimension_uses_that_dimension_parts(shop):
    result = rolled_up(shop, ["conversion"], "month", by="dimension")
    assert_frame_equal(result, expected([
        ("conversion", "2025-03-01", "search", "2025-03", 0.10, "2025-03-01", "2025-03-01"),
        ("conversion", "2025-03-01", "social", "2025-03", 0.01, "2025-03-02", "2025-03-02"),
    ], dimension=True))


def test_dimension_filter_keeps_one_dimension_value(shop):
    result = rolled_up(shop, ["visitors", "conversion"], "month", dimension="social")
    assert_frame_equal(result, expected([
        ("visitors", "2025-03-01", "2025-03", 1800.0, "2025-03-02", "2025-03-02"),
        ("conversion", "2025-03-01", "2025-03", 0.01, "2025-03-02", "2025-03-02"),
    ]))


def test_day_grain_gives_daily_rates(shop):
    result = rolled_up(shop, "conversion", "day")
    assert result["value"].tolist() == pytest.approx([0.10, 0.01])
    assert result["label"].tolist() == ["2025-03-01", "2025-03-02"]


def test_mrr_is_the_last_value_of_the_month(store):
    # DOMAIN worked example: recorded on the 1st, 10th and 28th -> the 28th's value.
    add_metric(store, "mrr", aggregation="last", unit="currency")
    add_observations(store, "mrr", [("2025-03-01", 100), ("2025-03-28", 105), ("2025-03-10", 110),
                                  ("2025-04-05", 130)])
    assert_frame_equal(rolled_up(store, ["mrr"], "month"), expected([
        ("mrr", "2025-03-01", "2025-03", 105.0, "2025-03-01", "2025-03-28"),
        ("mrr", "2025-04-01", "2025-04", 130.0, "2025-04-05", "2025-04-05"),
    ]))


def test_last_sums_each_dimension_latest_value(store):
    # Each region's latest MRR in the quarter, added up: 90 (eu, March) + 50 (us, February).
    add_metric(store, "mrr", aggregation="last")
    add_observations(store, "mrr", [("2025-01-31", 100, "eu"), ("2025-03-31", 90, "eu"),
                                  ("2025-01-31", 40, "us"), ("2025-02-28", 50, "us")])
    assert_frame_equal(rolled_up(store, "mrr", "quarter"), expected([
        ("mrr", "2025-01-01", "2025-Q1", 140.0, "2025-01-31", "2025-03-31")]))


@pytest.mark.parametrize("aggregation, value", [
    ("sum", 12.0), ("mean", 3.0), ("min", 1.0), ("max", 6.0), ("last", 2.0)])
def test_each_aggregation(store, aggregation, value):
    add_metric(store, "m", aggregation=aggregation)
    add_observations(store, "m", [("2025-05-01", 3), ("2025-05-02", 6), ("2025-05-03", 1),
                                ("2025-05-04", 2)])
    assert rolled_up(store, "m", "month")["value"].tolist() == [value]


def test_mean_across_dimensions_is_the_mean_of_observations(store):
    add_metric(store, "nps", aggregation="mean")
    add_observations(store, "nps", [("2025-05-01", 10, "eu"), ("2025-05-02", 20, "eu"),
                                  ("2025-05-01", 60, "us")])
    assert rolled_up(store, "nps", "month")["value"].tolist() == [30.0]


@pytest.mark.parametrize("grain, labels, values", [
    ("day", ["2024-12-30", "2024-12-31", "2025-01-01", "2025-03-31", "2025-04-01"], [1, 2, 4, 8, 16]),
    ("week", ["2025-W01", "2025-W14"], [7, 24]),
    ("month", ["2024-12", "2025-01", "2025-03", "2025-04"], [3, 4, 8, 16]),
    ("quarter", ["2024-Q4", "2025-Q1", "2025-Q2"], [3, 12, 16]),
    ("year", ["2024", "2025"], [3, 28]),
])
def test_grains_cut_at_calendar_boundaries(store, grain, labels, values):
    add_observations(store, "leads", [("2024-12-30", 1), ("2024-12-31", 2), ("2025-01-01", 4),
                                    ("2025-03-31", 8), ("2025-04-01", 16)])
    result = rolled_up(store, "leads", grain)
    assert result["label"].tolist() == labels
    assert result["value"].tolist() == values


def test_nested_formulas(store):
    add_metric(store, "revenue")
    add_metric(store, "cogs")
    add_metric(store, "gross_profit", formula="revenue - cogs")
    add_metric(store, "gross_margin", formula="gross_profit / revenue")
    add_daily(store, "revenue", "2025-01-30", [100, 300, 0])
    add_daily(store, "cogs", "2025-01-30", [50, 50, 10])
    result = rolled_up(store, ["gross_margin", "gross_profit"], "month")
    assert_frame_equal(result, expected([
        ("gross_margin", "2025-01-01", "2025-01", 300 / 400, "2025-01-30", "2025-01-31"),
        ("gross_margin", "2025-02-01", "2025-02", np.nan, "2025-02-01", "2025-02-01"),
        ("gross_profit", "2025-01-01", "2025-01", 300.0, "2025-01-30", "2025-01-31"),
        ("gross_profit", "2025-02-01", "2025-02", -10.0, "2025-02-01", "2025-02-01"),
    ]))


def test_formula_has_no_value_where_a_component_has_no_data(shop):
    add_observations(shop, "visitors", [("2025-04-01", 500)])
    result = rolled_up(shop, "conversion", "month")
    assert result["label"].tolist() == ["2025-03"]


def test_corrected_values_replace_superseded_ones(store):
    add_observations(store, "leads", [("2025-03-01", 10), ("2025-03-02", 5)])
    add_observations(store, "leads", [("2025-03-02", 7)])     # a later file corrects day 2
    assert rolled_up(store, "leads", "month")["value"].tolist() == [17.0]


def test_start_and_end_bound_the_observation_dates(store):
    add_daily(store, "leads", "2025-03-01", [1] * 31)
    result = rolled_up(store, "leads", "month", start=D("2025-03-05"), end="2025-03-14")
    assert_frame_equal(result, expected([
        ("leads", "2025-03-01", "2025-03", 10.0, "2025-03-05", "2025-03-14")]))


def test_metrics_come_back_in_the_order_asked(shop):
    result = rolled_up(shop, ["visitors", "purchases"], "month")
    assert result["metric"].tolist() == ["visitors", "purchases"]


def test_no_data_gives_an_empty_frame_with_the_columns(shop):
    result = rolled_up(shop, ["conversion", "visitors"], "month", start="2030-01-01")
    assert_frame_equal(result, expected([]))


def test_unknown_metric_is_refused(shop):
    with pytest.raises(InputError, match="'visits'"):
        rolled_up(shop, ["visitors", "visits"], "month")


def test_formula_over_an_undefined_metric_is_refused(store):
    add_metric(store, "cac", formula="spend / new_customers")
    add_metric(store, "spend")
    with pytest.raises(InputError, match="new_customers"):
        rolled_up(store, "cac", "month")


def test_data_through(shop):
    add_metric(shop, "mrr", aggregation="last")
    add_observations(shop, "mrr", [("2025-06-01", 1)])
    assert data_through(shop) == D("2025-06-01")
    assert data_through(shop, ["conversion"]) == D("2025-03-02")
    assert data_through(shop, "mrr") == D("2025-06-01")


def test_data_through_empty_database(store):
    assert data_through(store) is None


@duckdb_only("register() and half-read results are DuckDB's connection API")
def test_reads_leave_no_unfinished_result_on_the_connection(shop):
    # DuckDB 2 refuses to register a frame while a result is half read.
    rolled_up(shop, "conversion", "month")
    data_through(shop)
    data_through(shop, "conversion")
    shop.connection.register("_probe", pd.DataFrame({"a": [1]}))
    shop.connection.unregister("_probe")


def test_by_dimension_on_no_data_keeps_the_dimension_column(shop):
    result = rolled_up(shop, "visitors", "month", by="dimension", end="2000-01-01")
    assert_frame_equal(result, expected([], dimension=True))
