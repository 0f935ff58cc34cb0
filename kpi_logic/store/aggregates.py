"""The SQL that aggregates history to periods (kpi_logic.metrics.rollups builds on it).

History stays in the database: one query aggregates every requested base
metric at once, and pandas only ever sees one row per metric and period.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import duckdb
import pandas as pd

from kpi_logic.domain.numbers import to_digits
from kpi_logic.store.db import first

# date_trunc units by grain: a whitelist, so the grain never reaches SQL as user text.
_TRUNC = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
AGGREGATIONS = ("sum", "mean", "min", "max", "last")
# The columns a roll-up can keep apart (a whitelist too: `by` reaches SQL as a name).
SPLITS = (None, "dimension", "campaign")

# Steps: direct (sum, mean, min, max: straight from the rows to the period),
# per_dimension -> latest -> by_last (last: the value on the latest date of
# each dimension value and campaign, then summed across them) -> rolled_up.
# {by_o}, {by_d}, {by_l} name the column a split keeps (dimension or campaign),
# or nothing for one row per metric and period.
# History is scanned once per kind of aggregation; `last` needs a second,
# keyed look-up of the latest rows.
_ROLLUP = """
with wanted(metric, aggregation) as (
    values {wanted}
),
direct as (
    select o.metric, cast(date_trunc('{unit}', cast(o.obs_date as timestamp)) as date) as period{by_o},
           sum(o.value) as total, count(*) as n, min(o.value) as low, max(o.value) as high,
           min(o.obs_date) as first_date, max(o.obs_date) as last_date
    from observations o
    where o.superseded_by is null
      and o.metric in (select metric from wanted where aggregation <> 'last'){filters}
    group by o.metric, cast(date_trunc('{unit}', cast(o.obs_date as timestamp)) as date){by_o}
),
per_dimension as (
    select o.metric, cast(date_trunc('{unit}', cast(o.obs_date as timestamp)) as date) as period, o.dimension,
           o.campaign, min(o.obs_date) as first_date, max(o.obs_date) as last_date
    from observations o
    where o.superseded_by is null
      and o.metric in (select metric from wanted where aggregation = 'last'){filters}
    group by o.metric, cast(date_trunc('{unit}', cast(o.obs_date as timestamp)) as date), o.dimension, o.campaign
),
latest as (
    select p.metric, p.period, p.dimension, p.campaign, p.first_date, p.last_date, o.value
    from per_dimension p
    join observations o
      on o.metric = p.metric and o.dimension = p.dimension and o.campaign = p.campaign
     and o.obs_date = p.last_date
    where o.superseded_by is null
      and o.metric in (select metric from wanted where aggregation = 'last'){filters}
),
by_last as (
    select metric, period{by_l}, sum(value) as value,
           min(first_date) as first_date, max(last_date) as last_date
    from latest
    group by metric, period{by_l}
),
rolled_up as (
    select d.metric, d.period{by_d},
           case w.aggregation
               when 'sum' then d.total
               when 'mean' then d.total / d.n
               when 'min' then d.low
               when 'max' then d.high
           end as value,
           d.first_date, d.last_date
    from direct d
    join wanted w on w.metric = d.metric
    union all
    select metric, period{by_l}, value, first_date, last_date
    from by_last
)
select * from rolled_up
"""

_LATEST_DATE = """
select max(obs_date) from observations
where superseded_by is null and metric in (select unnest(cast(? as varchar[])))
"""
_LATEST_DATE_ALL = "select max(obs_date) from observations where superseded_by is null"

def _filters(start: date | None, end: date | None, dimension: str | None) -> tuple[str, list]:
    """SQL conditions on `o` for the optional bounds, and their parameters."""
    sql, params = "", []
    if start is not None:
        sql += "\n      and o.obs_date >= ?"
        params.append(start)
    if end is not None:
        sql += "\n      and o.obs_date <= ?"
        params.append(end)
    if dimension is not None:
        sql += "\n      and o.dimension = ?"
        params.append(dimension)
    return sql, params


def rolled_up_rows(con: duckdb.DuckDBPyConnection, aggregations: Mapping[str, str], grain: str,
                   *, start: date | None = None, end: date | None = None,
                   dimension: str | None = None, by: str | None = None) -> pd.DataFrame:
    """Base metrics aggregated to `grain` in one query: columns metric, period,
    [by,] value, first_date, last_date (dates as datetime.date).

    `aggregations` maps metric name -> aggregation. Only current rows count;
    start/end bound obs_date (inclusive); `dimension` keeps one dimension value.
    by="dimension" or "campaign" keeps one row per dimension value or per
    campaign ('' for rows without one; a campaign's rows summed across the
    dimension values it runs in), else the whole.
    """
    if grain not in _TRUNC:
        raise ValueError(f"unknown grain {grain!r}")
    if by not in SPLITS:
        raise ValueError(f"cannot split by {by!r}")
    unknown = {a for a in aggregations.values() if a not in AGGREGATIONS}
    if unknown:
        raise ValueError(f"unknown aggregation(s) {sorted(unknown)}")
    columns = ["metric", "period", *([by] if by else []),
               "value", "first_date", "last_date"]
    if not aggregations:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns}).astype({"value": "float64"})
    filters, filter_params = _filters(start, end, dimension)
    sql = _ROLLUP.format(
        wanted=", ".join("(?, ?)" for _ in aggregations), unit=_TRUNC[grain], filters=filters,
        **{f"by_{alias}": f", {alias}.{by}" if by else "" for alias in ("o", "d")},
        by_l=f", {by}" if by else "")
    params = [v for pair in aggregations.items() for v in pair] + filter_params * 3
    rows = con.execute(sql, params).fetchall()
    frame = pd.DataFrame(rows, columns=columns, dtype="object")
    # Totals to domain.numbers.TOTAL_DIGITS: the same on DuckDB and PostgreSQL.
    frame["value"] = [to_digits(float(v)) if v is not None else math.nan
                      for v in frame["value"]]
    frame["value"] = frame["value"].astype("float64")
    return frame


def latest_date(con: duckdb.DuckDBPyConnection, metrics: list[str] | None = None) -> date | None:
    """The latest obs_date among current rows (of `metrics`, when given)."""
    if metrics is None:
        return first(con, _LATEST_DATE_ALL)[0]
    return first(con, _LATEST_DATE, [list(metrics)])[0]
