"""Linked and plain metrics, vanity candidates, crowded departments, the catalogue."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, KeyResult, Metric
from kpi_logic.metrics import catalogue
from kpi_logic.store import writes
from tests.builders import add_batch, add_metrics, add_observations

Q2 = dict(start_date=date(2025, 4, 1), deadline=date(2025, 6, 30))
COMPONENTS = {"conversion_rate": {"purchases", "visitors"},
              "cac": {"spend", "new_customers"},
              "gross_margin": {"revenue", "cogs"},
              "margin_ratio": {"gross_margin", "revenue"},     # a formula over a formula
              "loop_a": {"loop_b"}, "loop_b": {"loop_a"}}      # a cycle must not hang


def test_metric_uses_follows_kpis_supporting_metrics_krs_and_formula_components():
    kpis = [KPI("Conversion", "conversion_rate", 0.03, "min", supporting=("bounce_rate",)),
            KPI("Margin", "margin_ratio", 0.5, "min")]
    krs = [KeyResult("Grow", "Cut CAC to 40", "cac", 50, 40, **Q2),
           KeyResult("Grow", "More visitors", "visitors", 100, 200, **Q2)]
    uses = catalogue.metric_uses(kpis, krs, COMPONENTS)
    assert uses == {
        "conversion_rate": ["KPI: Conversion"], "purchases": ["KPI: Conversion"],
        "visitors": ["KPI: Conversion", "KR: More visitors"], "bounce_rate": ["KPI: Conversion"],
        "margin_ratio": ["KPI: Margin"], "gross_margin": ["KPI: Margin"],
        "revenue": ["KPI: Margin"], "cogs": ["KPI: Margin"],
        "cac": ["KR: Cut CAC to 40"], "spend": ["KR: Cut CAC to 40"],
        "new_customers": ["KR: Cut CAC to 40"]}


def test_metric_uses_survives_a_formula_cycle_and_does_not_mutate():
    components = {k: set(v) for k, v in COMPONENTS.items()}
    uses = catalogue.metric_uses([KPI("Loop", "loop_a", 1, "min")], [], components)
    assert uses == {"loop_a": ["KPI: Loop"], "loop_b": ["KPI: Loop"]}
    assert components == COMPONENTS


@pytest.mark.parametrize("name, linked, vanity", [
    ("likes", False, True), ("page_views", False, True), ("social_shares", False, True),
    ("Instagram Followers", False, True), ("comments", False, True),
    ("likes", True, False),                       # linked to a goal: not vanity
    ("email_click_through_rate", False, False), ("bounce_rate", False, False),
    ("revenue", False, False), ("previews", False, False),   # whole words only
])
def test_is_vanity_candidate(name, linked, vanity):
    assert catalogue.is_vanity_candidate(name, linked) is vanity


@pytest.mark.parametrize("counts, expected", [
    ({"Sales": 7}, {}),
    ({"Sales": 8, "HR": 2}, {"Sales": 8}),
    ({"Sales": 9, "Marketing": 12}, {"Marketing": 12, "Sales": 9}),
])
def test_crowded_departments_over_seven(counts, expected):
    kpis = [KPI(f"{d} {i}", "m", 1, "min", department=d) for d, n in counts.items() for i in range(n)]
    assert catalogue.crowded_departments(kpis) == expected


def test_crowded_departments_falls_back_to_the_metric_department():
    kpis = [KPI(f"K{i}", "leads", 1, "min") for i in range(8)]
    assert catalogue.crowded_departments(kpis) == {}
    assert catalogue.crowded_departments(kpis, {"leads": Metric("leads", department="Sales")}) == {"Sales": 8}


def test_latest_values_takes_each_metric_latest_period_with_a_value():
    rolled = pd.DataFrame({
        "metric": ["a", "a", "b", "b"],
        "period": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1), date(2025, 2, 1)],
        "label": ["2025-01", "2025-02", "2025-01", "2025-02"],
        "value": [1.0, 2.0, 3.0, float("nan")],
        "first_date": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 2), date(2025, 2, 2)],
        "last_date": [date(2025, 1, 31), date(2025, 2, 14), date(2025, 1, 30), date(2025, 2, 2)]})
    before = rolled.copy()
    expected = pd.DataFrame({"metric": ["a", "b"], "current": [2.0, 3.0],
                             "current_period": ["2025-02", "2025-01"],
                             "current_date": [date(2025, 2, 14), date(2025, 1, 30)]})
    assert_frame_equal(catalogue.latest_values(rolled), expected)
    assert_frame_equal(rolled, before)


# ---------------------------------------------------------------- catalogue

def add_definitions(store, table, items):
    writes.upsert_definitions(store.connection, table, list(items), add_batch(store, kind=table))


@pytest.fixture
def shop(store):
    add_metrics(store, {
        "visitors": {"department": "Marketing"}, "purchases": {"department": "Marketing"},
        "conversion_rate": {"department": "Marketing", "unit": "percent",
                            "formula": "purchases / visitors", "description": "buyers per visitor"},
        "likes": {"department": "Marketing"},
        "bounce_rate": {"department": "Marketing", "unit": "percent", "aggregation": "mean",
                        "direction": "down"},
        "mrr": {"department": "Sales", "unit": "currency", "aggregation": "last"},
    })
    add_observations(store, "visitors", [("2025-02-01", 1000), ("2025-03-01", 1500), ("2025-03-02", 500)])
    add_observations(store, "purchases", [("2025-02-01", 10), ("2025-03-01", 30), ("2025-03-02", 10)])
    add_observations(store, "likes", [("2025-01-05", 70)])
    add_observations(store, "mrr", [("2025-03-01", 100), ("2025-03-28", 120)])
    add_definitions(store, "kpis", [KPI("Conversion", "conversion_rate", 0.03, "min", department="Marketing")])
    add_definitions(store, "key_results", [KeyResult("Grow", "Reach MRR 200", "mrr", 100, 200, **Q2)])
    return store


def test_metric_catalogue_lists_every_metric_with_current_value_and_links(shop):
    table = catalogue.metric_catalogue(shop)
    assert list(table.columns) == catalogue.CATALOGUE_COLUMNS
    rows = table.set_index("metric")
    assert list(table["metric"]) == ["bounce_rate", "conversion_rate", "likes", "purchases",
                                     "visitors", "mrr"]
    assert rows.loc["conversion_rate", "current"] == pytest.approx(0.02)    # 40 / 2000, March
    assert rows.loc["conversion_rate", "current_date"] == date(2025, 3, 2)
    assert rows.loc["mrr", "current"] == 120                              # last, not sum
    assert rows.loc["likes", "current_period"] == "2025-01"
    assert pd.isna(rows.loc["bounce_rate", "current"])                    # defined, no history
    assert rows.loc["visitors", "used_by"] == ["KPI: Conversion"]
    assert rows.loc["mrr", "used_by"] == ["KR: Reach MRR 200"]
    assert rows["linked"].to_dict() == {"bounce_rate": False, "conversion_rate": True, "likes": False,
                                        "purchases": True, "visitors": True, "mrr": True}
    assert rows["vanity_candidate"].to_dict() == {"bounce_rate": False, "conversion_rate": False,
                                                  "likes": True, "purchases": False,
                                                  "visitors": False, "mrr": False}


def test_metric_catalogue_for_one_department(shop):
    table = catalogue.metric_catalogue(shop, department=" sales ")
    assert list(table["metric"]) == ["mrr"]
    assert table.loc[0, "department"] == "Sales"


def test_metric_catalogue_refuses_unknown_department(shop):
    with pytest.raises(InputError, match="no department 'HR'. Known departments: Marketing, Sales"):
        catalogue.metric_catalogue(shop, department="HR")


def test_metric_catalogue_of_an_empty_database(store):
    table = catalogue.metric_catalogue(store)
    assert table.empty and list(table.columns) == catalogue.CATALOGUE_COLUMNS


def test_metric_catalogue_says_when_the_current_month_is_partial(store):
    """Daily calls through 10 March: the current value is March so far, data through 10 Mar."""
    add_metrics(store, {"calls": {"department": "Sales"}, "mrr": {"department": "Sales",
                                                                "aggregation": "last"}})
    add_observations(store, "calls", [(date(2025, 2, 1 + i) if i < 28 else date(2025, 3, i - 27), 50)
                                    for i in range(38)])
    add_observations(store, "mrr", [(f"2025-{m:02d}-01", 100 * m) for m in (1, 2, 3)])
    rows = catalogue.metric_catalogue(store, as_of=date(2025, 6, 1)).set_index("metric")
    assert (rows.loc["calls", "current"], rows.loc["calls", "current_period"]) == (500, "2025-03")
    assert (rows.loc["calls", "current_partial"], rows.loc["calls", "data_through"],
            rows.loc["calls", "cadence"]) == (True, date(2025, 3, 10), "daily")
    assert (rows.loc["mrr", "current_partial"], rows.loc["mrr", "cadence"]) == (False, "monthly")


def test_metric_catalogue_ignores_data_after_the_day_looked_from(shop):
    rows = catalogue.metric_catalogue(shop, as_of=date(2025, 2, 15)).set_index("metric")
    assert rows.loc["conversion_rate", "current_period"] == "2025-02"
    assert rows.loc["mrr", "current"] != rows.loc["mrr", "current"]       # none yet: NaN


@pytest.mark.parametrize("formula, aggregation, cadence, has_data, expected", [
    ("purchases / visitors", "sum", "daily", True, "purchases / visitors"),
    (None, "sum", "daily", True, "Imported daily, summed per period"),
    (None, "last", "monthly", True, "Imported monthly, the latest value per period"),
    (None, "mean", "every 9 days", True, "Imported every 9 days, averaged per period"),
    (None, "max", None, True, "Imported, the highest value per period"),
    (float("nan"), "min", None, False, "Not imported yet (the lowest value per period)"),
])
def test_definition_text_says_how_a_metric_is_calculated(formula, aggregation, cadence,
                                                          has_data, expected):
    assert catalogue.definition_text(formula, aggregation, cadence, has_data) == expected
