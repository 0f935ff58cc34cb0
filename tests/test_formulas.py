import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import (
    formula_metrics,
    formula_order,
    formula_problems,
    formula_unit,
    formula_value,
    formula_values,
    parse_formula,
    typed_formula,
)


def values(text, **columns):
    series = {name: pd.Series(data, dtype="float64") for name, data in columns.items()}
    return formula_values(parse_formula(text), series)


@pytest.mark.parametrize("text, expected", [
    ("a + b * c", 2 + 3 * 4),            # * binds tighter than +
    ("(a + b) * c", (2 + 3) * 4),
    ("a - b - c", 2 - 3 - 4),            # left associative
    ("c / b / a", 4 / 3 / 2),
    ("-a * -b", 6),                      # unary minus
    ("- (a + b)", -5),
    ("+a", 2),
    ("(c - a) / c", 0.5),                # gross margin shape
    ("a * 100", 200),
    ("a / .5", 4),
    ("1.5 * a", 3),
])
def test_formula_values_follow_arithmetic_precedence(text, expected):
    result = values(text, a=[2.0], b=[3.0], c=[4.0])
    assert result.iloc[0] == pytest.approx(expected)


def test_conversion_from_summed_parts_not_mean_of_rates():
    # DOMAIN worked example: 38 buyers of 2,000 visitors is 1.9%, not 5.5%.
    days = pd.DataFrame({"purchases": [20.0, 18.0], "website_visitors": [200.0, 1800.0]})
    formula = parse_formula("purchases / website_visitors")
    two_days = formula_values(formula, days.sum().to_frame().T)
    assert two_days.iloc[0] == pytest.approx(0.019)
    assert formula_values(formula, days).mean() == pytest.approx(0.055)


@pytest.mark.parametrize("numerator, denominator", [(5.0, 0.0), (0.0, 0.0), (-3.0, 0.0)])
def test_division_by_zero_is_nan_never_inf(numerator, denominator):
    result = values("a / b", a=[numerator, 6.0], b=[denominator, 3.0])
    assert_series_equal(result, pd.Series([np.nan, 2.0]))


def test_division_by_constant_zero_is_nan():
    assert values("a / 0", a=[1.0, 2.0]).isna().all()


def test_missing_component_value_stays_missing():
    assert_series_equal(values("a + b", a=[1.0, np.nan], b=[1.0, 1.0]), pd.Series([2.0, np.nan]))


def test_formula_values_keeps_index_and_does_not_mutate():
    index = pd.Index(["2025-01", "2025-02"])
    a = pd.Series([10.0, 20.0], index=index)
    b = pd.Series([2.0, 0.0], index=index)
    before_a, before_b = a.copy(), b.copy()
    result = formula_values(parse_formula("a / b"), {"a": a, "b": b})
    assert_series_equal(result, pd.Series([5.0, np.nan], index=index))
    assert_series_equal(a, before_a)
    assert_series_equal(b, before_b)


def test_formula_values_refuses_a_missing_column():
    with pytest.raises(InputError, match="'b'"):
        formula_values(parse_formula("a / b"), {"a": pd.Series([1.0])})


def test_names_are_normalised_to_lowercase():
    formula = parse_formula("Purchases / Website_Visitors")
    assert formula_metrics(formula) == {"purchases", "website_visitors"}


def test_formula_metrics_lists_each_name_once():
    assert formula_metrics(parse_formula("(revenue - cogs) / revenue * 100")) == {"revenue", "cogs"}


def test_names_with_digits_and_underscores():
    assert formula_metrics(parse_formula("q2_leads + 3rd_party_leads")) == {"q2_leads", "3rd_party_leads"}


@pytest.mark.parametrize("text, position", [
    ("a +", 4),
    ("a b", 3),
    ("(a + b", 7),
    ("a + b)", 6),
    ("a % b", 3),
    ("a ** b", 4),
    ("1.2.3 + a", 1),
    ("=a+b", 1),
    ("a / ()", 6),
])
def test_syntax_errors_name_the_position(text, position):
    with pytest.raises(InputError, match=f"at character {position}:"):
        parse_formula(text)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_formula_is_refused(text):
    with pytest.raises(InputError, match="empty"):
        parse_formula(text)


def test_parser_never_evaluates_python():
    with pytest.raises(InputError):
        parse_formula("__import__('os').system('true')")


def test_no_problems_for_good_definitions():
    metrics = {"purchases": None, "visitors": None, "conversion": "purchases / visitors",
               "conversion_pct": "conversion * 100"}
    assert formula_problems(metrics) == []


def test_unknown_metric_is_named():
    problems = formula_problems({"purchases": None, "conversion": "purchases / visitor"})
    assert len(problems) == 1
    assert "conversion" in problems[0] and "unknown metric 'visitor'" in problems[0]


def test_syntax_error_is_reported_per_metric():
    problems = formula_problems({"a": None, "b": "a +"})
    assert len(problems) == 1 and problems[0].startswith("metric 'b':")
    assert "character 4" in problems[0]


@pytest.mark.parametrize("metrics, cycle", [
    ({"a": "b / 2", "b": "a * 2"}, "a -> b -> a"),
    ({"a": "a + 1"}, "a -> a"),
    ({"a": "b", "b": "c", "c": "a", "d": None}, "a -> b -> c -> a"),
])
def test_cycles_are_reported_once(metrics, cycle):
    problems = formula_problems(metrics)
    assert len(problems) == 1
    assert cycle in problems[0]


def test_formula_order_puts_components_first():
    order = formula_order({"pct": "conversion * 100", "conversion": "p / v", "p": None, "v": None})
    assert order.index("conversion") < order.index("pct")
    assert order.index("p") < order.index("conversion")


def test_formula_order_refuses_a_cycle():
    with pytest.raises(InputError):
        formula_order({"a": "b", "b": "a"})


KNOWN = ["purchases", "website_visitors", "visitors", "revenue", "cost_of_goods_sold"]


def test_a_typed_formula_over_known_metrics_is_parsed():
    formula = typed_formula(" Purchases / website_visitors ", KNOWN)
    assert formula.text == "Purchases / website_visitors"
    assert formula_metrics(formula) == {"purchases", "website_visitors"}


@pytest.mark.parametrize("text, says", [
    ("purchases / website_visitor", "formula 'purchases / website_visitor' uses unknown metric "
                                    "'website_visitor'; did you mean 'website_visitors' or "
                                    "'visitors'?"),
    ("purchases / sessions", "uses unknown metric 'sessions'; the Metrics catalogue lists "
                             "every name."),
    ("leads / calls", "uses unknown metric 'calls', 'leads'"),
    ("purchases / (visitors", "formula 'purchases / (visitors' cannot be read at character 22: "
                              "a ')' is missing (write metric names, numbers, + - * / and "
                              "parentheses, like 'purchases / visitors')."),
    ("100 / 3", "formula '100 / 3' names no metric"),
])
def test_a_typed_formula_is_refused_in_one_sentence(text, says):
    with pytest.raises(InputError) as refused:
        typed_formula(text, KNOWN)
    assert says in refused.value.message
    assert refused.value.message.count(". ") == 0


UNITS = {"purchases": "number", "visitors": "number", "revenue": "currency", "cogs": "currency",
         "spend": "currency", "churn": "percent", "hours": "duration"}


@pytest.mark.parametrize("text, unit", [
    ("purchases / visitors", "percent"),                 # a ratio of like things: a rate
    ("(revenue - cogs) / revenue", "percent"),           # gross margin
    ("spend / purchases", "currency"),                   # money per customer
    ("revenue - cogs", "currency"),
    ("purchases / visitors * 100", "number"),            # a rate x 100: points (NPS)
    ("churn * revenue", "currency"),                     # a rate of an amount
    ("revenue / 12", "currency"),
    ("hours / purchases", "duration"),
    ("purchases / spend", "number"),                     # a count per dollar
    ("churn / churn", "number"),
    ("revenue + purchases", "number"),                   # unlike things: nothing better to say
    ("-revenue", "currency"),
    ("Revenue", "currency"),
])
def test_a_formulas_unit_is_read_from_its_parts(text, unit):
    assert formula_unit(parse_formula(text), UNITS) == unit


@pytest.mark.parametrize("values, expected", [
    ({"a": 5, "b": 1, "c": 2}, 4.0),
    ({"a": 5, "b": 1, "c": 0}, None),          # divides by zero: undefined, as formula_values
    ({"a": 5, "b": 1}, None),                  # a component missing
    ({"a": float("inf"), "b": 1, "c": 2}, None),
])
def test_formula_value_is_formula_values_for_single_numbers(values, expected):
    formula = parse_formula("(a - b) / c * 2")
    assert formula_value(formula, values) == expected
    if expected is not None:
        columns = {k: pd.Series([v]) for k, v in values.items()}
        assert formula_values(formula, columns).iloc[0] == expected
