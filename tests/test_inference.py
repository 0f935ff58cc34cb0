"""What a metric known only from its history gets (kpi_logic.ingest.inference and
the import around it): a unit from how most of its values are written, and
an aggregation from the shape of its history (level -> last, flow -> sum,
percent -> mean), said in the result with how to change it."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_logic.ingest import inference
from kpi_logic.ingest.importing import import_files
from kpi_logic.ingest.inference import Marks, Shape
from kpi_logic.ingest.undo import undo_batch
from kpi_logic.store import history_shapes, memory_store, open_store

from .builders import add_observations
from .test_importing import assert_same_database, dump

RNG_SEED = 20151231
# US payroll employment in 2015, in thousands, shaped like the published series.
PAYROLLS = [140_556, 140_790, 141_060, 141_250, 141_580, 141_780, 142_060, 142_210, 142_380,
            142_700, 142_930, 143_093]
START = date(2024, 1, 1)


def daily(values, start: date = START) -> list[tuple[date, float]]:
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def monthly(values, start: date = START) -> list[tuple[date, float]]:
    return [(date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1), v)
            for i, v in enumerate(values)]


def csv_of(metric: str, rows: list[tuple[date, object]], *, column: str = "date") -> bytes:
    lines = [f"{column},{metric}"] + [f"{d.isoformat()},\"{v}\"" for d, v in rows]
    return ("\n".join(lines) + "\n").encode()


def imported(store, metric: str, rows, **options):
    [result] = import_files(store, [(csv_of(metric, rows), f"{metric}.csv")], **options)
    return result


# --- real-shaped series, through the import ---------------------------------------------

def calls_per_day(rng, zeros: bool) -> list[float]:
    """Weekdays around 50 calls, weekends around 8, a public holiday with none."""
    days = [START + timedelta(days=i) for i in range(120)]
    calls = [float(rng.poisson(50 if d.weekday() < 5 else 8)) for d in days]
    if zeros:
        calls[40] = 0.0
    return calls


def real_series() -> dict[str, tuple[list, str, str]]:
    """name -> (rows, unit expected, aggregation expected)."""
    rng = np.random.default_rng(RNG_SEED)
    weekly = [1.0, 1.1, 1.05, 1.0, 0.95, 0.55, 0.45]
    revenue = [round(4000 * weekly[i % 7] * rng.lognormal(0, 0.15), 2) for i in range(120)]
    mrr = list(itertools.accumulate(
        (rng.normal(0.03, 0.01) for _ in range(23)), lambda v, g: round(v * (1 + g), 2),
        initial=41000.0))
    headcount = list(itertools.accumulate(
        (int(rng.choice([-1, 0, 0, 1, 1, 2])) for _ in range(23)), initial=120))
    payrolls = list(itertools.accumulate(
        (int(rng.normal(230, 60)) for _ in range(11)), initial=140_556))
    balance = list(itertools.accumulate((rng.normal(150, 900) for _ in range(179)),
                                        lambda v, x: round(v + x, 2), initial=52_000.0))
    overdraft = [-v / 4 for v in balance]
    net_cash = [round(rng.normal(2_000, 9_000), 2) for _ in range(24)]
    churn = [f"{rng.normal(7.5, 0.8):.1f}%" for _ in range(24)]
    return {
        "calls": (daily(calls_per_day(rng, zeros=True)), "number", "sum"),
        "calls_no_holiday": (daily(calls_per_day(rng, zeros=False)), "number", "sum"),
        "revenue": (daily(f"${v:,.2f}" for v in revenue), "currency", "sum"),
        "mrr": (monthly(f"${v:,.2f}" for v in mrr), "currency", "last"),
        "headcount": (monthly(headcount), "number", "last"),
        "payrolls": (monthly(payrolls, date(2015, 1, 1)), "number", "last"),
        "balance": (daily(f"${v:,.2f}" for v in balance), "currency", "last"),
        "overdraft": (daily(overdraft), "number", "last"),
        "net_cash_flow": (monthly(net_cash), "number", "sum"),
        "churn_rate": (monthly(churn), "percent", "mean"),
    }


@pytest.mark.parametrize("name", sorted(real_series()))
def test_real_shaped_series_get_the_aggregation_an_analyst_would_pick(store, name):
    rows, unit, aggregation = real_series()[name]
    result = imported(store, name, rows)
    metric = store.definitions.metrics()[name]
    assert (metric.unit, metric.aggregation) == (unit, aggregation)
    [choice] = result.details["inferred"]
    assert (choice["metric"], choice["aggregation"], choice["final"]) == (name, aggregation, True)
    assert choice["text"].startswith(f"{name}: a ")
    assert choice["text"].endswith(f"aggregation {aggregation}")
    assert f"{name}: {aggregation}" in " ".join(result.notes)
    assert "metric,aggregation" in " ".join(result.notes)     # how to change it


def test_the_reasons_carry_the_numbers():
    series = real_series()
    series["payrolls"] = (monthly(PAYROLLS, date(2015, 1, 1)), "number", "last")
    with memory_store() as store:
        texts = {name: imported(store, name, series[name][0]).details["inferred"][0]["text"]
                 for name in ("payrolls", "calls", "net_cash_flow", "churn_rate")}
    assert texts["payrolls"] == ("payrolls: a level (values 141k to 143k, month-to-month "
                                 "changes typically 0.16% of the value): aggregation last")
    assert texts["calls"] == "calls: a flow (1 of 120 values is 0): aggregation sum"
    assert texts["net_cash_flow"].startswith("net_cash_flow: a flow (values -")
    assert "of both signs" in texts["net_cash_flow"]
    assert texts["churn_rate"] == "churn_rate: a percent (values written with %): aggregation mean"


def test_a_payroll_key_result_is_judged_on_the_level_not_on_twelve_levels_added_up(store):
    """DOMAIN's worked example: 143,093 thousand in December 2015, key result 140k -> 150k."""
    values = PAYROLLS
    key_result = (b"objective,metric,start,target,start_date,deadline\n"
                  b"Jobs,payrolls,140000,150000,2015-01-01,2015-12-31\n")
    import_files(store, [(csv_of("payrolls", monthly(values, date(2015, 1, 1)), column="month"),
                        "payems.csv"), (key_result, "krs.csv")])
    from kpi_logic.metrics.okrs import okr_report
    [objective] = okr_report(store, as_of=date(2016, 1, 15))["objectives"]
    [kr] = objective["key_results"]
    assert kr["current"] == 143_093
    assert kr["progress_raw"] == pytest.approx(0.3093)


def test_a_level_broken_down_by_region_is_a_level(store):
    rng = np.random.default_rng(7)
    lines = ["month,region,metric,value"]
    for region, size in (("north", 40), ("south", 75), ("east", 12)):
        for (day, value) in monthly(itertools.accumulate(
                (int(rng.choice([0, 0, 1, -1])) for _ in range(11)), initial=size)):
            lines.append(f"{day},{region},headcount,{value}")
    import_files(store, [(("\n".join(lines) + "\n").encode(), "people.csv")])
    metric = store.definitions.metrics()["headcount"]
    assert (metric.aggregation, metric.dimension_name) == ("last", "region")


# --- too little history, and deciding once --------------------------------------------------

def test_a_single_value_is_summed_for_now_and_decided_when_three_dates_are_in(store):
    first = imported(store, "payrolls", monthly([142_000], date(2015, 1, 1)))
    assert store.definitions.metrics()["payrolls"].aggregation == "sum"
    [choice] = first.details["inferred"]
    assert (choice["shape"], choice["final"]) == ("too little history", False)
    assert choice["text"] == ("payrolls: values on 1 date only, too few to tell a level from a "
                              "flow; decided when it has 3: aggregation sum for now")
    imported(store, "payrolls", monthly([142_000, 142_210], date(2015, 1, 1)))
    assert store.definitions.metrics()["payrolls"].aggregation == "sum"
    third = imported(store, "payrolls", monthly([142_000, 142_210, 142_400], date(2015, 1, 1)))
    assert store.definitions.metrics()["payrolls"].aggregation == "last"
    [choice] = third.details["inferred"]
    assert choice["text"].endswith("aggregation last (it was sum while its history was too "
                                   "short)")
    # Undoing the import that decided puts the undecided metric back exactly.
    undo_batch(store, third.batch)
    assert store.definitions.metrics()["payrolls"].aggregation == "sum"


def test_a_later_history_import_does_not_flip_a_decided_choice(store):
    imported(store, "payrolls", monthly([142_000, 142_210, 142_400], date(2015, 1, 1)))
    assert store.definitions.metrics()["payrolls"].aggregation == "last"
    # Wild values that alone would read as a flow: the level stays a level, said nowhere new.
    later = imported(store, "payrolls", monthly([5, 90_000, 3], date(2015, 4, 1)))
    assert later.details["inferred"] == []
    assert store.definitions.metrics()["payrolls"].aggregation == "last"


def test_an_explicit_definition_always_wins(store):
    definition = b"metric,aggregation\npayrolls,sum\n"
    rows = csv_of("payrolls", monthly([142_000, 142_210, 142_400]))
    [_, history] = import_files(store, [(rows, "p.csv"), (definition, "m.csv")])
    assert history.details["inferred"] == []
    assert store.definitions.metrics()["payrolls"].aggregation == "sum"
    # Defined after the fact: a later import leaves it alone too.
    imported(store, "mrr", monthly([1.0]))
    import_files(store, [(b"metric,unit\nmrr,number\n", "d.csv")])
    imported(store, "mrr", monthly([1.0, 1.01, 1.02]))
    assert store.definitions.metrics()["mrr"].aggregation == "sum"


def test_a_dry_run_says_the_same_and_writes_nothing(store):
    rows = monthly([142_000, 142_210, 142_400])
    before = dump(store)
    preview = imported(store, "payrolls", rows, dry_run=True)
    assert_same_database(before, dump(store))
    assert preview.details["inferred"] == imported(store, "payrolls", rows).details["inferred"]


class CountedConnection:
    """The real connection of a store, counting the statements sent through it."""

    def __init__(self, connection):
        self._connection = connection
        self.statements = 0

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self._connection.execute(*args, **kwargs)


def statements_to_define(location, metrics: int) -> int:
    """Statements an import of `metrics` metrics nobody defined (five days each,
    a department column) sends to the database: on PostgreSQL those the server
    receives (the file is checked in a DuckDB of its own), on DuckDB all of them."""
    text = "date,metric,value,department\n" + "".join(
        f"2026-03-0{day},m{m:03d},{100 + m + 2 * day},Team {m % 3}\n"
        for m in range(metrics) for day in range(1, 6))
    with open_store(location) as opened:
        counted = CountedConnection(opened.connection)
        [result] = import_files(type(opened)(counted), [(text.encode(), "many.csv")])
        assert len(result.details["inferred"]) == metrics
        assert len(opened.definitions.metrics()) == metrics
    return counted.statements


def test_defining_many_metrics_takes_as_many_statements_as_defining_a_few(databases):
    """Inference and definitions are one statement for all metrics, never one per
    metric: a file of a thousand metrics imports at the pace of its rows."""
    assert statements_to_define(databases.new(), 300) == statements_to_define(databases.new(), 3)


# --- units -------------------------------------------------------------------------

def test_one_currency_cell_among_plain_numbers_does_not_make_money(store):
    values = [40, 38, "$1400", 45, 51, 47]
    result = imported(store, "signups", daily(values))
    assert store.definitions.metrics()["signups"].unit == "number"
    [note] = [n for n in result.notes if n.startswith("signups:")]
    assert note.startswith("signups: 1 of 6 values carry a currency sign (row 4: '$1400'); a "
                           "unit needs more than half of the values to carry its sign")


def test_marks_are_counted_per_metric_however_its_name_is_written(store):
    text = (b"date,metric,value\n2025-03-01,Signups,40\n2025-03-02,signups,$1400\n"
            b"2025-03-03,SIGNUPS,38\n2025-03-04, signups ,45\n2025-03-05,signups,50\n")
    [result] = import_files(store, [(text, "signups.csv")])
    assert store.definitions.metrics()["signups"].unit == "number"
    [note] = [n for n in result.notes if n.startswith("signups:")]
    assert note.startswith("signups: 1 of 5 values carry a currency sign (row 3: '$1400')")


@pytest.mark.parametrize("marks, unit, says", [
    (Marks(10, currency=6), "currency", None),
    (Marks(10, currency=5, currency_example=(3, "$5")), "number", "5 of 10 values carry a "
     "currency sign (row 3: '$5')"),
    (Marks(10, percent=9, plain_example=(7, "7.5")), "percent", "1 are not (row 7: '7.5') and "
     "are stored as written"),
    (Marks(10, percent=2, percent_example=(2, "12%")), "number", "2 of 10 values are written "
     "with % (row 2: '12%'), stored as fractions"),
    (Marks(4, percent=1, currency=1), "number", "carry a currency sign and 1 of 4 values are "
     "written with %"),
    (Marks(4), "number", None),
])
def test_a_unit_needs_more_than_half_of_the_values_to_carry_its_sign(marks, unit, says):
    chosen, note = inference.unit_choice("m", marks)
    assert chosen == unit
    assert (note is None) if says is None else (says in note)


@pytest.mark.parametrize("name, unit", [
    ("chat_duration_minutes", "minutes"), ("handle_time_mins", "minutes"),
    ("first_response_hours", "duration"), ("Resolution hrs", "duration"),
    ("minutes", "number"),                # one word is not a name with a unit in it
    ("admin", "number"), ("shipments", "number"),
])
def test_a_plain_metric_named_for_its_time_unit_is_a_duration(name, unit):
    assert inference.unit_choice(name, Marks(10))[0] == unit
    # marks decide before the name: a currency column named "..._hours" is money
    assert inference.unit_choice(name, Marks(10, currency=8))[0] == "currency"


# --- the rule over generated series (hypothesis) ------------------------------------------

_names = itertools.count()


@pytest.fixture(scope="module")
def shared():
    connection = memory_store()
    yield connection
    connection.close()


def chosen(store, values, unit: str = "number", step_days: int = 1) -> inference.Choice:
    """The choice for a metric with these values on consecutive dates, through
    the real shape query."""
    name = f"m{next(_names)}"
    add_observations(store, name, [(START + timedelta(days=i * step_days), v)
                                 for i, v in enumerate(values)], define=False)
    return inference.aggregation_choice(name, unit, Shape(*store.history.shapes([name])[name]))


levels = st.tuples(
    st.floats(1, 1e9), st.sampled_from([1, -1]),
    st.lists(st.floats(-inference.LEVEL_CHANGE_MAX * 0.9, inference.LEVEL_CHANGE_MAX * 0.9),
             min_size=2, max_size=60))


@settings(max_examples=60, deadline=None)
@given(levels)
def test_values_of_one_sign_moving_a_little_are_a_level(shared, level):
    start, sign, moves = level
    values = list(itertools.accumulate(moves, lambda v, m: v * (1 + m), initial=sign * start))
    choice = chosen(shared, values)
    assert (choice.aggregation, choice.shape) == ("last", "level")


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e7), st.lists(st.tuples(st.floats(0.06, 0.9), st.booleans()),
                                   min_size=2, max_size=60))
def test_values_moving_a_lot_are_a_flow(shared, start, moves):
    values = list(itertools.accumulate(
        moves, lambda v, m: v * (1 + m[0]) if m[1] else v / (1 + m[0]), initial=start))
    assert chosen(shared, values).aggregation == "sum"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), min_size=3, max_size=40),
       st.data())
def test_a_zero_or_values_of_both_signs_make_a_flow(shared, values, data):
    position = data.draw(st.integers(0, len(values) - 1))
    if data.draw(st.booleans()):
        values[position] = 0.0
    else:
        values[position] = -abs(values[position]) - 1
        values[(position + 1) % len(values)] = abs(values[position]) + 1
    assert chosen(shared, values).aggregation == "sum"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.001, 1), min_size=1, max_size=30))
def test_a_percent_is_averaged_whatever_its_shape(shared, values):
    assert chosen(shared, values, unit="percent").aggregation == "mean"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=2))
def test_fewer_than_three_dates_decide_nothing_yet(shared, values):
    choice = chosen(shared, values)
    assert (choice.aggregation, choice.final) == ("sum", False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1, 1e6), min_size=3, max_size=40), st.floats(1e-3, 1e3),
       st.sampled_from([1, 7, 30]), st.randoms())
def test_the_choice_ignores_scale_cadence_and_row_order(shared, values, scale, days, random):
    alone = chosen(shared, values).aggregation
    assert chosen(shared, [v * scale for v in values], step_days=days).aggregation == alone
    # Rows stored in another order pair each value with the one before it all the same.
    name = f"m{next(_names)}"
    rows = [(START + timedelta(days=i), v) for i, v in enumerate(values)]
    random.shuffle(rows)
    add_observations(shared, name, rows, define=False)
    shape = Shape(*shared.history.shapes([name])[name])
    assert inference.aggregation_choice(name, "number", shape).aggregation == alone


def test_the_rule_in_words():
    """The thresholds the README states."""
    assert (inference.LEVEL_CHANGE_MAX, inference.MIN_DATES) == (0.05, 3)
    # The shape query counts a metric's dates only this far: enough to tell fewer from more.
    assert history_shapes.DATES_COUNTED >= inference.MIN_DATES
    level = Shape(values=12, dates=12, low=100, high=104, zeros=0, steps=11, change=0.05,
                  gap_days=31)
    assert inference.aggregation_choice("x", "number", level).aggregation == "last"
    flow = Shape(**{**level.__dict__, "change": 0.0501})
    assert inference.aggregation_choice("x", "number", flow).aggregation == "sum"
