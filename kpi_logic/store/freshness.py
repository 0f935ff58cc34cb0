"""How far each metric's history reaches (its last date, the gaps between its
latest dates). kpi_logic.metrics.coverage builds the rules on it (the cadence among
them: only there)."""
from __future__ import annotations

from datetime import date

import duckdb

from kpi_logic.store.db import is_postgres

# Steps: dates (distinct per metric, up to the day we look from) -> ranked
# (newest first) -> recent (the latest RECENT_DATES dates and the gaps between
# them) -> one row per metric. The cadence is read from recent dates only, so a
# metric that moved from monthly to daily reporting reads as daily.
RECENT_DATES = 61
# One row per metric from its recent dates and the gaps between them.
_FACTS = """
select metric,
       max(obs_date) as last_date,
       count(*) as recent_dates,
       percentile_disc(0.5) within group (order by gap_days) as step_days,
       sum(case when extract(isodow from obs_date) >= 6 then 1 else 0 end) as weekend_dates
from recent
group by metric
order by metric
"""
_COVERAGE = """
with dates as (
    select distinct metric, obs_date
    from observations
    where superseded_by is null and obs_date <= ?{metric_filter}
),
ranked as (
    select metric, obs_date,
           row_number() over (partition by metric order by obs_date desc) as recency
    from dates
),
recent as (
    select metric, obs_date,
           obs_date - lag(obs_date) over (partition by metric order by obs_date) as gap_days
    from ranked
    where recency <= ?
)
""" + _FACTS


# The same facts on a server, where history is a heap with an index on
# (metric, obs_date) of its current rows (store/db.py, version 6): each metric's
# latest RECENT_DATES distinct dates are read backwards from that index, a few
# pages per metric, instead of every date of its history. Without a list, the
# metrics are found by skipping through the index (one probe per metric).
_NAMES_GIVEN = "names(metric) as (select distinct unnest(cast(? as varchar[])))"
_NAMES_ALL = """recursive names(metric) as (
    select min(metric) from observations where superseded_by is null
    union all
    select (select min(o.metric) from observations o
            where o.superseded_by is null and o.metric > names.metric)
    from names where names.metric is not null
)"""
_COVERAGE_SERVER = """
with {names},
recent as (
    select n.metric, d.obs_date,
           d.obs_date - lag(d.obs_date) over (partition by n.metric order by d.obs_date) as gap_days
    from names n
    cross join lateral (
        select distinct o.obs_date
        from observations o
        where o.metric = n.metric and o.superseded_by is null and o.obs_date <= ?
        order by o.obs_date desc
        limit ?
    ) as d
    where n.metric is not null
)
""" + _FACTS


def coverage_rows(con: duckdb.DuckDBPyConnection, metrics: list[str] | None = None,
                  through: date = date.max) -> list[tuple]:
    """(metric, last_date, recent_dates, step_days, weekend_dates) per base metric with
    history on or before `through` (of `metrics` when given): the latest date, how many
    of the latest RECENT_DATES dates there are, the median gap between them in days
    (None with one date) and how many of them fall on a Saturday or Sunday."""
    if is_postgres(con):
        given = metrics is not None
        sql = _COVERAGE_SERVER.format(names=_NAMES_GIVEN if given else _NAMES_ALL)
        params = ([list(metrics)] if given else []) + [through]
    else:
        params = [through]
        metric_filter = ""
        if metrics is not None:
            metric_filter = " and metric in (select unnest(cast(? as varchar[])))"
            params.append(list(metrics))
        sql = _COVERAGE.format(metric_filter=metric_filter)
    return [(m, last, int(n), None if step is None else int(step), int(weekend))
            for m, last, n, step, weekend in con.execute(sql, params + [RECENT_DATES]).fetchall()]
