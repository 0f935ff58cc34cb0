"""Why a KPI moved: the decompositions add up exactly, the worked examples hold,
and `explain` agrees with the scorecard on what changed (metrics/drivers.py,
metrics/explain.py)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_logic.cli.common import jsonable
from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import formula_metrics, formula_values, parse_formula
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics.drivers import (
    affine_terms,
    component_contributions,
    dimension_contributions,
    dimension_shape,
)
from kpi_logic.metrics.explain import explanation
from kpi_logic.metrics.kpis import scorecard
from kpi_logic.metrics.results import Explanation
from tests.test_cli import run_json
from tests.test_results import typed_dict_problems


def value_of(formula, values: dict) -> float:
    import pandas as pd
    columns = {m: pd.Series([float(values[m])]) for m in formula_metrics(formula)}
    return float(formula_values(formula, columns).iloc[0])


# --- components (Shapley) -----------------------------------------------------------------

def test_cac_rising_splits_into_spend_and_fewer_customers_as_worked_in_the_docs():
    """Spend 1,000 -> 1,100 and customers 25 -> 22 move CAC from 40 to 50: spend
    adds (4.00 + 4.55) / 2, the fewer customers (5.45 + 6.00) / 2."""
    shares = component_contributions(parse_formula("spend / customers"),
                                     {"spend": 1000, "customers": 25},
                                     {"spend": 1100, "customers": 22})
    assert shares == pytest.approx({"spend": (100 / 25 + 100 / 22) / 2,
                                    "customers": (1000 / 22 - 40 + 50 - 1100 / 25) / 2})
    assert sum(shares.values()) == pytest.approx(10)


def test_a_sum_gives_each_component_its_own_change():
    shares = component_contributions(parse_formula("likes + shares - 2 * spam"),
                                     {"likes": 10, "shares": 5, "spam": 1},
                                     {"likes": 17, "shares": 2, "spam": 3})
    assert shares == pytest.approx({"likes": 7, "shares": -3, "spam": -4})


@pytest.mark.parametrize("before, after", [
    ({"spend": 100, "customers": 0}, {"spend": 100, "customers": 4}),    # undefined before
    ({"spend": 100, "customers": 4}, {"spend": None, "customers": 4}),   # a part without data
])
def test_no_split_where_the_formula_is_undefined(before, after):
    assert component_contributions(parse_formula("spend / customers"), before, after) is None


FORMULAS = ["a / b", "(a - b) / a", "a * b - c", "(a + b) / (c + 1)", "a / b * c", "-a + 3 * b",
            "(a - b) / b / c"]
positive = st.floats(min_value=0.5, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(text=st.sampled_from(FORMULAS), values=st.lists(positive, min_size=6, max_size=6))
def test_the_drivers_add_up_to_the_change_exactly(text, values):
    formula = parse_formula(text)
    before = dict(zip("abc", values[:3], strict=True))
    after = dict(zip("abc", values[3:], strict=True))
    shares = component_contributions(formula, before, after)
    change = value_of(formula, after) - value_of(formula, before)
    # Exact up to float rounding, which scales with the largest part: when two parts
    # move far (a product of 4,466 and 1 turning into 1 and 4,466) each contribution is
    # some ten million while their sum is a few hundredths.
    scale = 1 + abs(change) + sum(map(abs, shares.values()))
    assert sum(shares.values()) == pytest.approx(change, rel=1e-9, abs=1e-12 * scale)


def test_a_component_that_did_not_move_contributes_nothing():
    shares = component_contributions(parse_formula("a / b * c"), {"a": 3, "b": 4, "c": 5},
                                     {"a": 6, "b": 4, "c": 5})
    assert shares["b"] == pytest.approx(0) and shares["c"] == pytest.approx(0)


# --- dimension values ---------------------------------------------------------------------

@pytest.mark.parametrize("text, shape", [
    ("revenue - costs", ("affine", ({"revenue": 1.0, "costs": -1.0},))),
    ("2 * (a + b) - 3", ("affine", ({"a": 2.0, "b": 2.0},))),
    ("purchases / visitors", ("ratio", ({"purchases": 1.0}, {"visitors": 1.0}))),
    ("(revenue - cogs) / revenue", ("ratio", ({"revenue": 1.0, "cogs": -1.0}, {"revenue": 1.0}))),
    ("a * b", None), ("a / b / c", None), ("(a + 1) / b", None), ("a / (b * c)", None),
])
def test_which_formulas_split_over_a_dimension(text, shape):
    assert dimension_shape(parse_formula(text).tree) == shape


def test_affine_terms_refuse_a_product_of_metrics():
    assert affine_terms(parse_formula("a * b").tree) is None
    assert affine_terms(parse_formula("a / 4").tree) == ({"a": 0.25}, 0.0)


def test_a_ratio_splits_into_mix_and_rate_per_value_by_hand():
    """Search: 600/15 -> 700/12, display: 400/10 -> 400/10; CAC 40 -> 50. Display's own
    CAC did not move, but its share of the customers rose 0.40 -> 0.45: mix only."""
    shape = dimension_shape(parse_formula("spend / customers").tree)
    rows = dimension_contributions(
        shape, {"search": {"spend": 600, "customers": 15}, "display": {"spend": 400, "customers": 10}},
        {"search": {"spend": 700, "customers": 12}, "display": {"spend": 400, "customers": 10}})
    by = {r["value"]: r for r in rows}
    assert [r["value"] for r in rows] == ["search", "display"]          # largest first
    assert by["display"]["rate"] == pytest.approx(0)
    assert by["display"]["mix"] == pytest.approx(400 / 22 - 16)
    assert by["search"]["rate"] == pytest.approx((700 / 12 - 40) * (0.6 + 12 / 22) / 2)
    assert sum(r["contribution"] for r in rows) == pytest.approx(10)


def test_a_new_channel_is_all_mix():
    shape = dimension_shape(parse_formula("purchases / visitors").tree)
    rows = dimension_contributions(
        shape, {"web": {"purchases": 10, "visitors": 100}},
        {"web": {"purchases": 10, "visitors": 100}, "app": {"purchases": 30, "visitors": 100}})
    app = next(r for r in rows if r["value"] == "app")
    assert app["rate"] == 0 and app["mix"] == pytest.approx(app["contribution"])
    assert sum(r["contribution"] for r in rows) == pytest.approx(40 / 200 - 10 / 100)


amounts = st.floats(min_value=0, max_value=1e5, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(text=st.sampled_from(["a / b", "(a - c) / b", "a - c", "a + 2 * c"]),
       cells=st.lists(st.tuples(amounts, amounts, amounts, amounts, amounts, amounts),
                      min_size=1, max_size=6))
def test_dimension_values_add_up_to_the_change_of_the_whole(text, cells):
    formula = parse_formula(text)
    before = {f"v{i}": {"a": c[0], "b": c[1] + 1, "c": c[2]} for i, c in enumerate(cells)}
    after = {f"v{i}": {"a": c[3], "b": c[4] + 1, "c": c[5]} for i, c in enumerate(cells)}
    whole = [{m: sum(v[m] for v in side.values()) for m in "abc"} for side in (before, after)]
    change = value_of(formula, whole[1]) - value_of(formula, whole[0])
    rows = dimension_contributions(dimension_shape(formula.tree), before, after)
    assert math.isclose(sum(r["contribution"] for r in rows), change,
                        rel_tol=1e-9, abs_tol=1e-9 * (1 + abs(change)))
    for r in rows:
        if r["mix"] is not None:
            assert r["mix"] + r["rate"] == pytest.approx(r["contribution"], abs=1e-9)


# --- explain, from a store ----------------------------------------------------------------

METRICS = (b"metric,department,unit,direction,aggregation,formula,dimension\n"
           b"spend,Marketing,currency,down,sum,,channel\n"
           b"customers,Marketing,number,up,sum,,channel\n"
           b"cac,Marketing,currency,down,,spend / customers,\n"
           b"chat_minutes,Marketing,minutes,down,mean,,channel\n")
KPIS = (b"title,metric,target,target_kind\n"
        b"CAC at most $45,cac,45,max\n"
        b"Chat time at most 10 min,chat_minutes,10,max\n")
HISTORY = (b"date,metric,channel,value\n"
           b"2025-03-01,spend,search,600\n2025-03-01,customers,search,15\n"
           b"2025-03-01,spend,display,400\n2025-03-01,customers,display,10\n"
           b"2025-04-01,spend,search,700\n2025-04-01,customers,search,12\n"
           b"2025-04-01,spend,display,400\n2025-04-01,customers,display,10\n"
           b"2025-03-01,chat_minutes,search,9\n2025-04-01,chat_minutes,search,11\n"
           b"2025-03-01,chat_minutes,display,10\n2025-04-01,chat_minutes,display,12\n")


@pytest.fixture
def channels(store):
    import_files(store, [(METRICS, "metrics.csv"), (KPIS, "kpis.csv"),
                         (HISTORY, "history.csv")])
    return store


def test_explain_splits_april_by_component_and_channel_and_agrees_with_the_scorecard(channels):
    explained = explanation(channels, "cac at most $45", as_of="2025-05-10")
    assert (explained["period"], explained["compared_with"]) == ("2025-04", "2025-03")
    assert (explained["value"], explained["previous"]) == pytest.approx((50, 40))
    assert explained["change"] == pytest.approx({"abs": 10, "pct": 0.25})
    drivers = {d["component"]: d["contribution"] for d in explained["drivers"]}
    assert drivers == pytest.approx({"spend": (4 + 100 / 22) / 2, "customers": 10 - (4 + 100 / 22) / 2})
    shares = {s["dimension"]: s for s in explained["by_dimension"]}
    assert explained["dimension_name"] == "channel"
    assert shares["display"]["mix"] == pytest.approx(400 / 22 - 16)
    assert (shares["search"]["previous"], shares["search"]["value"]) == pytest.approx((40, 700 / 12))
    assert sum(s["contribution"] for s in explained["by_dimension"]) == pytest.approx(10)
    [card] = [k for k in scorecard(channels, "Marketing", as_of="2025-05-10")["kpis"]
              if k["title"] == "CAC at most $45"]
    assert card["vs_previous"]["abs"] == pytest.approx(explained["change"]["abs"])
    assert typed_dict_problems(jsonable(explained), Explanation, "explain", set()) == []
    line = fmt.explanation_line(explained)
    assert line.startswith("Spend / customers") is False and "rose $10" in line
    assert "by channel: Search +$7.82, Display +$2.18" in line


def test_a_mean_does_not_split_by_channel_and_says_why(channels):
    explained = explanation(channels, "Chat time at most 10 min", as_of="2025-05-10")
    assert explained["change"]["abs"] == pytest.approx(2)
    assert explained["by_dimension"] == [] and "mean" in explained["note"]
    assert [d["contribution"] for d in explained["drivers"]] == pytest.approx([2])


def test_no_earlier_period_means_nothing_to_compare(channels):
    explained = explanation(channels, "CAC at most $45", period="2025-03", as_of="2025-05-10")
    assert explained["change"] == {"abs": None, "pct": None} and explained["drivers"] == []
    assert "no value in Feb 2025" in explained["note"]


@pytest.mark.parametrize("title, period, vs, says", [
    ("CAC at most 45", None, "previous", "did you mean 'CAC at most $45'"),
    ("CAC at most $45", "2025-Q1", "previous", "judged per month"),
    ("CAC at most $45", "2025-07", "previous", "starts after 2025-05-10"),
    ("CAC at most $45", None, "yesterday", "'previous' or 'last_year'"),
])
def test_explain_refuses_what_it_cannot_answer(channels, title, period, vs, says):
    with pytest.raises(InputError, match=None) as refused:
        explanation(channels, title, period=period, vs=vs, as_of="2025-05-10")
    assert says in str(refused.value)


def test_the_cli_explains_a_demo_kpi_in_its_contract(demo_file):
    explained = run_json(demo_file, "explain", "--kpi", "Customer acquisition cost")
    assert typed_dict_problems(explained, Explanation, "explain", set()) == []
    assert set(explained) >= {"kpi", "period", "compared_with", "value", "previous", "change",
                              "drivers", "by_dimension"}
    assert sum(d["contribution"] for d in explained["drivers"]) == pytest.approx(
        explained["change"]["abs"], abs=1e-9)
    assert {d["component"] for d in explained["drivers"]} == {"marketing_spend", "new_customers"}
    last_year = run_json(demo_file, "explain", "--kpi", "Customer acquisition cost",
                         "--vs", "last_year")
    assert last_year["compared_with"][:4] == str(int(explained["period"][:4]) - 1)


def test_a_metric_without_dimension_values_is_not_split(store):
    import_files(store, [(b"metric,department,aggregation\nleads,Sales,sum\n", "m.csv"),
                         (b"title,metric,target,target_kind\nLeads,leads,10,min\n", "k.csv"),
                         (b"date,metric,value\n2025-03-01,leads,10\n2025-04-01,leads,14\n", "h.csv")])
    explained = explanation(store, "Leads", as_of="2025-05-10")
    assert explained["change"]["abs"] == 4
    assert (explained["by_dimension"], explained["dimension_name"], explained["note"]) == ([], None, None)


def test_no_split_when_one_part_has_no_dimension_values(store):
    """Spend by channel over customers counted for the company only: every customer would
    fall to "(no channel)" and every channel would look free. No split, and why."""
    import_files(store, [
        (b"metric,department,aggregation,formula,dimension\nspend,M,sum,,channel\n"
         b"customers,M,sum,,\ncac,M,,spend / customers,\n", "m.csv"),
        (b"title,metric,target,target_kind\nCAC,cac,45,max\n", "k.csv"),
        (b"date,metric,channel,value\n2025-03-01,spend,search,600\n2025-04-01,spend,search,700\n"
         b"2025-03-01,customers,,25\n2025-04-01,customers,,22\n", "h.csv")])
    explained = explanation(store, "CAC", as_of="2025-05-10")
    assert explained["change"]["abs"] == pytest.approx(700 / 22 - 600 / 25)
    assert explained["by_dimension"] == []
    assert "Customers has no values broken down that way" in explained["note"]
