"""Coverage: cadences, how far data reach, and what that makes of a period."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_logic.domain.model import Metric
from kpi_logic.domain.periods import period_end, period_start
from kpi_logic.metrics import coverage as cov
from tests.builders import add_daily, add_metric, add_observations

D = date.fromisoformat


@pytest.mark.parametrize("step, recent, weekend, cadence", [
    (1, 60, 17, "day"),
    (1, 60, 0, "business_day"),        # daily data that never fall on a weekend
    (1, 5, 0, "day"),                  # too few dates to tell a weekday habit
    (7, 20, 3, "week"),
    (28, 12, 4, "month"),
    (31, 12, 4, "month"),
    (91, 8, 2, "quarter"),
    (365, 3, 1, "year"),
    (9, 4, 1, "every"),                # MRR on the 1st, 10th and 28th
    (None, 1, 0, None),                # one date: no cadence
])
def test_cadence_of_the_median_gap(step, recent, weekend, cadence):
    assert cov.cadence_of(step, recent, weekend) == cadence


@pytest.mark.parametrize("last, cadence, step, through", [
    ("2025-03-10", "day", 1, "2025-03-10"),
    ("2025-03-01", "month", 31, "2025-03-31"),       # a monthly value dated the 1st covers its month
    ("2025-01-31", "month", 31, "2025-01-31"),       # ... and one dated the last day, the same month
    ("2025-03-24", "week", 7, "2025-03-30"),         # a Monday covers its ISO week
    ("2025-03-30", "week", 7, "2025-03-30"),         # a Sunday (week ending) is its week's last day
    ("2025-02-01", "quarter", 91, "2025-03-31"),
    ("2025-03-07", "business_day", 1, "2025-03-09"), # Friday covers the weekend after it
    ("2025-03-06", "business_day", 1, "2025-03-06"),
    ("2025-03-28", "every", 9, "2025-04-05"),
    ("2025-03-10", None, None, "2025-03-10"),
])
def test_covered_through(last, cadence, step, through):
    assert cov.covered_through(D(last), cadence, step) == D(through)


def coverage(last, cadence, step=None):
    return cov.Coverage("m", D(last), cov.covered_through(D(last), cadence, step), cadence, step)


@pytest.mark.parametrize("period, end, last, cadence, step, state", [
    ("2025-03-01", "2025-03-31", "2025-03-15", "day", 1, "partial"),       # daily through the 15th
    ("2025-03-01", "2025-03-31", "2025-03-31", "day", 1, "complete"),
    ("2025-01-01", "2025-03-31", "2025-03-01", "month", 31, "complete"),   # March is in
    ("2025-01-01", "2025-03-31", "2025-02-01", "month", 28, "partial"),    # March to come
    ("2025-01-01", "2025-03-31", "2025-02-28", "month", 30, "partial"),    # month-end data
    ("2025-03-01", "2025-03-31", "2025-03-28", "every", 9, "complete"),    # MRR 1st, 10th, 28th
    ("2025-03-01", "2025-03-31", "2025-03-24", "week", 7, "partial"),      # one week to come
    ("2025-03-01", "2025-03-31", "2025-03-10", None, None, "complete"),    # one date: cannot tell
    ("2025-05-01", "2025-05-31", "2025-03-10", "day", 1, "stale"),         # stopped in March
    ("2025-04-01", "2025-04-30", "2025-03-01", "month", 31, "stale"),      # April not in yet
    ("2025-05-01", "2025-05-31", "2025-03-10", None, None, "stale"),
])
def test_period_coverage_states(period, end, last, cadence, step, state):
    assert cov.period_coverage(D(period), D(end), coverage(last, cadence, step)).state == state


def test_no_data_at_all_is_empty():
    nothing = cov.Coverage("m", None, None, None, None)
    assert cov.period_coverage(D("2025-03-01"), D("2025-03-31"), nothing).state == "empty"


@pytest.mark.parametrize("period, end, last, cadence, share, days", [
    ("2025-03-01", "2025-03-31", "2025-03-10", "day", 10 / 31, 10),          # DOMAIN: 1,000 x 10/31
    ("2025-01-01", "2025-03-31", "2025-02-01", "month", 2 / 3, 59),          # two of three months
    ("2025-03-01", "2025-03-31", "2025-03-07", "business_day", 5 / 21, 9),   # 5 of 21 weekdays
    ("2025-03-01", "2025-03-31", "2025-03-17", "week", 23 / 31, 23),
])
def test_partial_share_counts_the_cadence_units(period, end, last, cadence, share, days):
    got = cov.period_coverage(D(period), D(end), coverage(last, cadence, 7 if cadence == "week" else 1))
    assert got.state == "partial" and got.share == pytest.approx(share) and got.days == days


cadences = st.sampled_from([("day", 1), ("business_day", 1), ("week", 7), ("month", 30),
                            ("quarter", 91), ("year", 365), ("every", 9), (None, None)])
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 12, 31))
grains = st.sampled_from(["month", "quarter", "year"])


@settings(max_examples=300, deadline=None)
@given(last=days, cadence=cadences, grain=grains, anchor=days)
def test_every_period_is_exactly_one_state_consistent_with_the_cover(last, cadence, grain, anchor):
    name, step = cadence
    covered = coverage(last.isoformat(), name, step)
    start = period_start(anchor, grain)
    end = period_end(anchor, grain)
    got = cov.period_coverage(start, end, covered)
    assert covered.covered_through >= last
    if name is None:
        assert got.state == ("stale" if last < start else "complete")
    elif covered.covered_through >= end:
        assert got.state == "complete" and got.share == 1.0
    elif covered.covered_through < start:
        assert got.state == "stale" and got.share == 0.0
    else:
        assert got.state == "partial" and 0 < got.share <= 1
        assert 1 <= got.days <= (end - start).days


@settings(max_examples=200, deadline=None)
@given(first=days, extra=st.integers(1, 400), cadence=cadences, anchor=days, grain=grains)
def test_later_data_never_cover_less(first, extra, cadence, anchor, grain):
    """More data never turn a complete period partial or a partial one stale."""
    name, step = cadence
    later = first + timedelta(days=extra)
    if later > date(2199, 12, 31):
        return
    start, end = period_start(anchor, grain), period_end(anchor, grain)
    order = {"stale": 0, "partial": 1, "complete": 2}
    before = cov.period_coverage(start, end, coverage(first.isoformat(), name, step))
    after = cov.period_coverage(start, end, coverage(later.isoformat(), name, step))
    assert order[after.state] >= order[before.state]
    assert after.share >= before.share


def test_formula_is_covered_as_far_as_its_least_covered_part():
    spend = coverage("2025-03-20", "day", 1)
    customers = coverage("2025-03-01", "month", 31)
    late = coverage("2025-03-10", "day", 1)
    assert cov.combined("cac", [spend, customers]).covered_through == D("2025-03-20")
    got = cov.combined("cac", [spend, late])
    assert (got.metric, got.data_through, got.covered_through) == ("cac", D("2025-03-10"), D("2025-03-10"))
    assert cov.combined("cac", [spend, cov.Coverage("x", None, None, None, None)]).data_through is None


@pytest.mark.parametrize("name, flow", [
    ("calls", True), ("mrr", False), ("nps", False), ("conversion", False), ("profit", True),
    ("cac", False), ("arpu", True), ("doubled", True), ("unknown", False),
])
def test_is_flow(name, flow):
    metrics = {m.name: m for m in [
        Metric("calls"), Metric("revenue"), Metric("costs"), Metric("visitors"), Metric("buyers"),
        Metric("spend"), Metric("customers"), Metric("mrr", aggregation="last"),
        Metric("users", aggregation="last"), Metric("nps", aggregation="mean"),
        Metric("conversion", formula="buyers / visitors"),
        Metric("profit", formula="revenue - costs"),
        Metric("cac", formula="spend / customers"),
        Metric("arpu", formula="revenue / users"),       # per user in the period: adds up
        Metric("doubled", formula="2 * profit"),
    ]}
    assert cov.is_flow(name, metrics) is flow


# ---------------------------------------------------------------- from the store

def test_coverages_read_each_metrics_cadence_from_its_history(store):
    add_daily(store, "calls", "2025-01-01", [50] * 69)                      # to 10 March
    add_observations(store, "mrr", [(f"2025-{m:02d}-01", 100 + m) for m in range(1, 7)])
    weekdays = [date(2025, 1, 1) + timedelta(days=i) for i in range(90)]
    add_observations(store, "tickets", [(d, 5) for d in weekdays if d.weekday() < 5])
    add_observations(store, "once", [("2025-02-14", 1)])
    add_metric(store, "cac", formula="calls / mrr")
    got = cov.coverages(store, ["calls", "mrr", "tickets", "once", "cac", "nothing"])
    assert (got["calls"].cadence, got["calls"].covered_through) == ("day", D("2025-03-10"))
    assert (got["mrr"].cadence, got["mrr"].covered_through) == ("month", D("2025-06-30"))
    assert (got["tickets"].cadence, got["tickets"].data_through,
            got["tickets"].covered_through) == ("business_day", D("2025-03-31"), D("2025-03-31"))
    assert (got["once"].cadence, got["once"].covered_through) == (None, D("2025-02-14"))
    assert got["cac"].covered_through == D("2025-03-10")
    assert got["nothing"].data_through is None


def test_coverages_ignore_data_after_the_day_looked_from(store):
    add_daily(store, "calls", "2025-01-01", [50] * 120)
    got = cov.coverages(store, ["calls"], as_of=D("2025-03-10"))["calls"]
    assert (got.data_through, got.covered_through) == (D("2025-03-10"), D("2025-03-10"))


def test_cadence_follows_the_recent_dates(store):
    """Monthly for years, then daily: the metric is daily now."""
    add_observations(store, "signups", [(f"{y}-{m:02d}-01", 10) for y in (2022, 2023) for m in range(1, 13)])
    add_daily(store, "signups", "2024-01-01", [1] * 100)
    assert cov.coverages(store, ["signups"])["signups"].cadence == "day"


@settings(max_examples=40, deadline=None)
@given(cadence=st.sampled_from(["day", "week", "month", "quarter"]),
       count=st.integers(3, 40), first=st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_generated_history_reads_back_its_cadence(cadence, count, first):
    from kpi_logic.domain.periods import next_period
    from kpi_logic.store import memory_store
    store = memory_store()
    try:
        dates, current = [], period_start(first, cadence)
        for _ in range(count):
            dates.append(current)
            current = next_period(current, cadence)
        add_observations(store, "m", [(d, 1) for d in dates])
        got = cov.coverages(store, ["m"])["m"]
        assert got.cadence == cadence and got.data_through == dates[-1]
        assert got.covered_through == period_end(dates[-1], cadence)
    finally:
        store.close()
