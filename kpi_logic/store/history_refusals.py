"""The refusal path of a history import: the rows of a raw table again, with
their line numbers, for the cells and keys a refusal names; and the values
that would count a stored total twice. Only read when something is wrong
(or, for breakdown_clashes, when history already exists).
"""
from __future__ import annotations

import duckdb

from kpi_logic.store import staging
from kpi_logic.store.db import quote_identifier
from kpi_logic.store.writes_history import (
    KEYS,
    PARSED,
    HistorySource,
    key_text_sql,
    metric_name_sql,
    raw_cells_sql,
)


def breakdown_clashes(con: duckdb.DuckDBPyConnection, campaign: bool,
                      limit: int = 20) -> tuple[list[tuple], int]:
    """Staged values that would be added to a total stored by another batch (or
    a total added to a breakdown): per metric and date, the staged values
    name only channels where the stored ones name none (or the reverse); per
    metric, date and dimension value, the same for campaigns. Both would
    count the same money twice. Returns (metric, obs_date, dimension, level
    ("dimension" or "campaign"), staged breakdown named (bool), the stored
    batch, its file) for the first `limit` keys, and how many there are."""
    staged_campaign = "campaign" if campaign else "''"
    rows = con.execute(f"""
        with new as (
            select metric, obs_date, dimension, {staged_campaign} as campaign
            from {PARSED} where value is not null
        ),
        old as (
            select metric, obs_date, dimension, campaign, batch_id from observations
            where superseded_by is null and metric in (select distinct metric from new)
        ),
        new_d as (select metric, obs_date, bool_and(dimension <> '') as named,
                         bool_and(dimension = '') as blank from new group by metric, obs_date),
        old_d as (select metric, obs_date, bool_and(dimension <> '') as named,
                         bool_and(dimension = '') as blank, min(batch_id) as batch
                  from old group by metric, obs_date),
        new_c as (select metric, obs_date, dimension, bool_and(campaign <> '') as named,
                         bool_and(campaign = '') as blank from new
                  group by metric, obs_date, dimension),
        old_c as (select metric, obs_date, dimension, bool_and(campaign <> '') as named,
                         bool_and(campaign = '') as blank, min(batch_id) as batch
                  from old group by metric, obs_date, dimension),
        clashes as (
            select n.metric, n.obs_date, '' as dimension, 'dimension' as level,
                   n.named as named, o.batch
            from new_d n join old_d o on o.metric = n.metric and o.obs_date = n.obs_date
            where (n.named and o.blank) or (n.blank and o.named)
            union all
            select n.metric, n.obs_date, n.dimension, 'campaign', n.named, o.batch
            from new_c n join old_c o on o.metric = n.metric and o.obs_date = n.obs_date
             and o.dimension = n.dimension
            where (n.named and o.blank) or (n.blank and o.named)
        )
        select c.metric, c.obs_date, c.dimension, c.level, c.named, c.batch, b.file,
               count(*) over () as total
        from clashes c join batches b on b.id = c.batch
        order by c.obs_date, c.metric, c.dimension limit ?""", [limit]).fetchall()
    return [r[:7] for r in rows], (rows[0][7] if rows else 0)


def first_line(con: duckdb.DuckDBPyConnection, source: HistorySource, metric: str,
               obs_date, dimension: str | None) -> int | None:
    """The first line of the raw table giving `metric` on `obs_date` (for
    `dimension` when given), for a refusal message."""
    sql, params = _located_sql(source)
    where = "metric = ? and obs_date = ?" + ("" if dimension is None else " and dimension = ?")
    row = con.execute(f"select min(line) from ({sql}) as located where {where}",
                      [*params, metric, obs_date, *([] if dimension is None else [dimension])]
                      ).fetchall()
    return row[0][0] if row else None


def _located_sql(source: HistorySource) -> tuple[str, list]:
    """A select of every value cell with its line and value column number:
    line, part, metric, dimension, campaign, obs_date, value, bad_value, bad_date,
    no_metric. Empty value cells are left out."""
    params: list = []
    raw = raw_cells_sql(source, f"_line as line, {key_text_sql(source.dimension)} as dimension, "
                                f"{key_text_sql(source.campaign)} as campaign, "
                                f"{source.date_sql} as obs_date", params)
    # A long table's metric column is made a key here; a wide table's names are keys.
    metric = metric_name_sql("metric") if any(name is None for _, name in source.values) \
        else "metric"
    value_sql, invalid_sql = staging.number_sql("cell", source.decimal_comma)
    sql = f"""
        select line, part, metric, dimension, campaign, obs_date, value, bad_value,
               obs_date is null as bad_date, metric = '' as no_metric
        from (select line, part, coalesce({metric}, '') as metric, dimension, campaign,
                     obs_date, {value_sql} as value, {invalid_sql} as bad_value
              from ({raw}) as raw) as cells
        where value is not null or bad_value"""
    return sql, params


def history_problems(con: duckdb.DuckDBPyConnection, source: HistorySource,
                     limit: int = 20) -> tuple[list[tuple], int]:
    """The first `limit` cells with a bad date, value or metric, and how many
    there are. Each is (line, part, bad_date, bad_value, no_metric)."""
    sql, params = _located_sql(source)
    rows = con.execute(f"""
        select line, part, bad_date, bad_value, no_metric, count(*) over () as total
        from ({sql}) as located
        where bad_date or bad_value or no_metric
        order by line, part
        limit ?""", [*params, limit]).fetchall()
    return [r[:5] for r in rows], (rows[0][5] if rows else 0)


def conflicting_duplicates(con: duckdb.DuckDBPyConnection, source: HistorySource,
                           limit: int = 20) -> tuple[list[tuple], int]:
    """Keys given two different values (duplicate_keys ran first): (metric,
    date, dimension, campaign, first line, first value, other line, other
    value), and how many keys."""
    sql, params = _located_sql(source)
    same = ("{a}.metric = {b}.metric and {a}.obs_date = {b}.obs_date "
            "and {a}.dimension = {b}.dimension and {a}.campaign = {b}.campaign")
    rows = con.execute(f"""
        with located as ({sql}),
        cells as (
            select l.metric, l.obs_date, l.dimension, l.campaign, l.line, l.value
            from located l join {KEYS} k on {same.format(a='l', b='k')}
            where k.value <> k.other_value
        ),
        firsts as (
            select metric, obs_date, dimension, campaign, min(line) as first_line from cells
            group by metric, obs_date, dimension, campaign
        ),
        paired as (
            select f.metric, f.obs_date, f.dimension, f.campaign, f.first_line,
                   a.value as first_value, min(b.line) as other_line
            from firsts f
            join cells a on a.line = f.first_line and {same.format(a='a', b='f')}
            join cells b on {same.format(a='b', b='f')} and b.value <> a.value
            group by f.metric, f.obs_date, f.dimension, f.campaign, f.first_line, a.value
        )
        select p.metric, p.obs_date, p.dimension, p.campaign, p.first_line, p.first_value,
               p.other_line, c.value as other_value, count(*) over () as total
        from paired p join cells c on c.line = p.other_line and {same.format(a='c', b='p')}
        order by p.first_line limit ?""", [*params, limit]).fetchall()
    return [r[:8] for r in rows], (rows[0][8] if rows else 0)


def metric_lines(con: duckdb.DuckDBPyConnection, source: HistorySource,
                 names: list[str]) -> list[tuple[str, int, str]]:
    """(metric key, first line, name as written) of each of `names` in a long
    table's metric column, in line order, for a refusal message."""
    column = quote_identifier(source.metric_column)
    return con.execute(f"""
        select name, min(line), arg_min(written, line) from (
            select {metric_name_sql(column)} as name, _line as line, {column} as written
            from {quote_identifier(source.table)}) as named
        where name in (select unnest(?::varchar[]))
        group by name order by 2""", [names]).fetchall()
