"""Facts about the shape of metrics' stored history, in one query for all
of them: what inference.aggregation_choice needs to tell a level (a stock)
from a flow. Runs once per history import, only for metrics nobody defined.
"""
from __future__ import annotations

import duckdb

from kpi_logic.store.db import is_postgres

# Changes are measured within a series (one channel, region or campaign); a
# metric broken down into thousands of them is judged on a few, so the sort
# that pairs each value with the one before stays small on a 10M-row import.
SERIES_PER_METRIC = 4
# Dates are counted up to this many: inference needs to know only whether a
# metric has fewer than inference.MIN_DATES (a test holds the two together).
# Each series' first few dates are all a metric's first few need: counting
# every (metric, date) pair took a hash table the size of the history.
DATES_COUNTED = 3

# DuckDB-only on purpose: one pass groups the rows by series (a handful of
# groups per metric, whatever the rows), then by metric: min(x, n) (the n
# smallest) gives a series' first dates and a metric's first series by hash
# without sorting every row. The picked series' values are paired with the
# one before in a list sorted by date: a window over them (a sort per metric
# and series) took three times as long on a file of 1,000 metrics. `kept`
# is not materialized: scanning observations twice is cheaper than copying it.
_SHAPES = """
with kept as not materialized (
    select metric, hash(dimension, campaign) as series, obs_date, value
    from observations
    where superseded_by is null and metric in (select unnest(?::varchar[]))
),
per_series as (
    select metric, series, count(*) as n_values, min(value) as low, max(value) as high,
           count(*) filter (where value = 0) as zeros, min(obs_date, ?) as first_dates
    from kept group by metric, series
),
facts as (
    select metric, sum(n_values) as n_values,
           least(len(list_distinct(flatten(list(first_dates)))), ?) as dates,
           min(low) as low, max(high) as high, sum(zeros) as zeros, min(series, ?) as picked
    from per_series group by metric
),
picked as (select metric, unnest(picked) as series from facts),
series_values as (
    select k.metric, list_sort(list({'day': k.obs_date, 'value': k.value})) as s
    from kept k join picked p on k.metric = p.metric and k.series = p.series
    group by k.metric, k.series
),
paired as (
    select metric,
           unnest([s[i + 1].day - s[i].day for i in range(1, len(s))]) as gap_days,
           unnest([abs(s[i + 1].value - s[i].value) / nullif(abs(s[i].value), 0)
                   for i in range(1, len(s))]) as change
    from series_values
),
changes as (
    select metric, count(change) as steps,
           percentile_cont(0.5) within group (order by change) as change,
           percentile_cont(0.5) within group (order by gap_days) as gap_days
    from paired where change is not null group by metric
)
select f.metric, f.n_values, f.dates, f.low, f.high, f.zeros,
       coalesce(c.steps, 0), c.change, c.gap_days
from facts f
left join changes c on c.metric = f.metric
order by f.metric
"""


# PostgreSQL has neither min(x, n) nor list functions: its series are the
# first SERIES_PER_METRIC keys by name (a rank over every row), paired with a
# window; the same facts, dates counted up to DATES_COUNTED as well.
_SHAPES_POSTGRES = """
with ranked as materialized (
    select metric, dense_rank() over (partition by metric order by dimension, campaign)
           as series, obs_date, value
    from observations
    where superseded_by is null and metric in (select unnest(?::varchar[]))
),
facts as (
    select metric, count(*) as n_values, least(count(distinct obs_date), ?) as dates,
           min(value) as low, max(value) as high,
           count(*) filter (where value = 0) as zeros
    from ranked group by metric
),
paired as (
    select metric, obs_date - lag(obs_date) over w as gap_days,
           abs(value - lag(value) over w) / nullif(abs(lag(value) over w), 0) as change
    from ranked where series <= ?
    window w as (partition by metric, series order by obs_date)
),
""" + _SHAPES[_SHAPES.index("changes as ("):]


def history_shapes(con: duckdb.DuckDBPyConnection, metrics: list[str]) -> dict[str, tuple]:
    """Per metric among `metrics`, from its current history: (values, dates
    (counted up to DATES_COUNTED), lowest, highest, zeros, changes measured, median change as a share of
    the value before it, median days between consecutive dates)."""
    if not metrics:
        return {}
    if is_postgres(con):
        params = [list(metrics), DATES_COUNTED, SERIES_PER_METRIC]
        rows = con.execute(_SHAPES_POSTGRES, params).fetchall()
    else:
        params = [list(metrics), DATES_COUNTED, DATES_COUNTED, SERIES_PER_METRIC]
        rows = con.execute(_SHAPES, params).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def dated_before(con: duckdb.DuckDBPyConnection, metrics: list[str], batch_id: int,
                 at_least: int) -> set[str]:
    """The metrics among `metrics` that had values on at least `at_least`
    dates before batch `batch_id` (rows it superseded count, its own do not)."""
    if not metrics:
        return set()
    return {r[0] for r in con.execute(
        "select metric from observations where metric in (select unnest(?::varchar[])) "
        "and batch_id <> ? and (superseded_by is null or superseded_by = ?) "
        "group by metric having count(distinct obs_date) >= ?",
        [list(metrics), batch_id, batch_id, at_least]).fetchall()}
