"""Writing metric history: the parsed rows of a file, their checks, and the
versioned upsert into `observations`.

The happy path touches the raw text once: one statement parses every cell
into `_lodestar_parsed` (metric, dimension, campaign, obs_date, value,
bad_value), and
every later step (bad cells, duplicates, the diff, the insert) reads that
narrow table. Line numbers are not kept there: only a refusal needs them, and
the refusal path parses the raw table again with `parsed_history`.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from . import staging
from .db import quote_identifier

PARSED = "_lodestar_parsed"
_KEYS = "_lodestar_keys"
_DIFF = "_lodestar_history_diff"
WORK_TABLES = (PARSED, _KEYS, _DIFF)
_CURRENCY_SIGNS = ("$", "€", "£", "¥", "USD", "EUR", "GBP", "usd", "eur", "gbp")


@dataclass(frozen=True)
class HistorySource:
    """Where a history table's parts are: `values` lists (value column, metric
    name) per value column; the name is None in long tables, where it comes
    from `metric_column`."""
    table: str
    values: tuple[tuple[str, str | None], ...]
    date_sql: str
    decimal_comma: bool
    metric_column: str | None = None
    dimension: str | None = None
    campaign: str | None = None
    department: str | None = None


def metric_name_sql(column_sql: str) -> str:
    """SQL for definitions.metric_key: lowercase, trimmed, spaces/dashes/dots as "_"."""
    return f"trim(regexp_replace(lower(trim({column_sql})), '[\\s.\\-]+', '_', 'g'), '_')"


def _keys(campaign: bool) -> str:
    """The key columns after metric and obs_date. A table without a campaign
    column leaves campaign out of the work tables and checks altogether: every
    row of it has campaign '' (the column's default), and the narrower SQL
    keeps the common import fast."""
    return "dimension, campaign" if campaign else "dimension"


def _key_text_sql(column: str | None) -> str:
    """A dimension or campaign cell as stored: trimmed, '' when absent or empty."""
    if not column:
        return "''"
    d = quote_identifier(column)
    # trim copies every string; most cells have nothing to trim (and LIKE is
    # cheaper here than starts_with/ends_with).
    return f"(case when {d} like ' %' or {d} like '% ' then trim({d}) else coalesce({d}, '') end)"


def _metric_sql(source: HistorySource, name: str | None, params: list) -> str:
    if name is None:
        return quote_identifier(source.metric_column)   # normalised later, per distinct name
    params.append(name)
    return "cast(? as varchar)"


def stage_history(con: duckdb.DuckDBPyConnection, source: HistorySource) -> None:
    """Parse every value cell once into the work table PARSED (nothing is checked
    yet). Empty cells stay as rows with value null and bad_value false."""
    cells, params = _cells_sql(source)
    con.execute(f"drop table if exists {PARSED}")
    con.execute(f"create temp table {PARSED} as {cells}", params)


def _cells_sql(source: HistorySource) -> tuple[str, list]:
    """One row per value cell (metric, dimension, [campaign,] obs_date, value,
    bad_value), every cell parsed once: the SQL and its parameters."""
    selects, params = [], []
    campaign = (f"{_key_text_sql(source.campaign)} as campaign, " if source.campaign else "")
    for column, name in source.values:
        metric = _metric_sql(source, name, params)
        value_sql, invalid_sql = staging.number_sql(quote_identifier(column), source.decimal_comma)
        selects.append(f"select {metric} as metric, {_key_text_sql(source.dimension)} as "
                       f"dimension, {campaign}{source.date_sql} as obs_date, {value_sql} as value, "
                       f"{invalid_sql} as bad_value from {quote_identifier(source.table)}")
    return " union all ".join(selects), params


def batch_rows(batch_id: int | None, campaign: bool = False) -> tuple[str, list]:
    """(from-clause, params) of the rows the checks read: PARSED, or the rows
    insert_first_import stored under `batch_id` with their marks undone
    (with their campaign when `campaign`)."""
    if batch_id is None:
        return PARSED, []
    return (f"(select metric, {_keys(campaign)}, nullif(obs_date, date '-infinity') as obs_date, "
            "case when isnan(value) then null else value end as value, isnan(value) as bad_value "
            "from observations where batch_id = ?) as batch_rows", [batch_id])


def history_checks(con: duckdb.DuckDBPyConnection, long: bool, batch_id: int | None = None,
                   campaign: bool = False) -> dict:
    """Facts about the staged history (or the rows of a first import under
    `batch_id`), names from a long table's metric column made keys first (a
    wide table's come from its headers): bad (cells with a bad date, value or
    metric), metrics (names with values, sorted), first_date, last_date, rows
    (cells with a value), series (metric, dimension and campaign keys with a
    value), batch (`batch_id`), campaign (whether the table has campaigns)."""
    rows = _per_metric(con, batch_rows(batch_id, campaign), campaign)
    names = [r[0] for r in rows if r[0] is not None and long]
    # Names are few: find those written differently from their key
    # ("Website visitors") and rewrite only their rows.
    odd = [r[0] for r in con.execute(
        f"select name from (select unnest(?::varchar[]) as name) as names "
        f"where name <> {metric_name_sql('name')}", [names]).fetchall()]
    if odd:
        target, where, params = ((PARSED, "", []) if batch_id is None
                                 else ("observations", "batch_id = ? and ", [batch_id]))
        con.execute(f"update {target} set metric = {metric_name_sql('metric')} "
                    f"where {where}metric in (select unnest(?::varchar[]))", [*params, odd])
        rows = _per_metric(con, batch_rows(batch_id, campaign), campaign)
    named = [r for r in rows if r[3] and r[0]]
    return {"bad": sum(r[4] for r in rows),
            "metrics": sorted(r[0] for r in named),
            "first_date": min((r[1] for r in named), default=None),
            "last_date": max((r[2] for r in named), default=None),
            "rows": sum(r[3] for r in rows),
            "series": sum(r[5] for r in rows), "batch": batch_id, "campaign": campaign}


def _per_metric(con: duckdb.DuckDBPyConnection, rows: tuple[str, list],
                campaign: bool) -> list[tuple]:
    series = ("case when campaign = '' then dimension else dimension || chr(31) || campaign end"
              if campaign else "dimension")
    return con.execute(f"""
        select metric, min(obs_date), max(obs_date), count(value),
               count(*) filter (where bad_value or (value is not null
                                and (obs_date is null or coalesce(metric, '') = ''))),
               approx_count_distinct({series}) filter (where value is not null)
        from {rows[0]} group by metric""", rows[1]).fetchall()


def duplicate_keys(con: duckdb.DuckDBPyConnection, checks: dict) -> tuple[int, int]:
    """(keys given twice, keys given two different values) among the staged
    values (or a first import's rows under checks["batch"]) `checks` (from
    history_checks, no bad cells) describes. Identical repeats are collapsed
    into PARSED so each key is stored once (a first import's rows are then
    deleted: the caller stores PARSED instead)."""
    batch_id, campaign = checks.get("batch"), checks.get("campaign", False)
    rows, keys = batch_rows(batch_id, campaign), _keys(campaign)
    if _distinct_keys(con, checks) == checks["rows"]:
        return 0, 0
    con.execute(f"drop table if exists {_KEYS}")
    # _KEYS always has a campaign column: the refusal path joins it by campaign.
    con.execute(f"""
        create temp table {_KEYS} as
        select metric, obs_date, dimension, {"campaign" if campaign else "'' as campaign"},
               min(value) as value, max(value) as other_value
        from {rows[0]} where value is not null
        group by metric, obs_date, {keys} having count(*) > 1""", rows[1])
    repeated, clashes = con.execute(
        f"select count(*), count(*) filter (where value <> other_value) from {_KEYS}").fetchall()[0]
    if repeated and not clashes:
        con.execute(f"create or replace temp table {PARSED} as select distinct metric, {keys}, "
                    f"obs_date, value, false as bad_value from {rows[0]} where value is not null",
                    rows[1])
        if batch_id is not None:
            con.execute("delete from observations where batch_id = ?", [batch_id])
    return int(repeated), int(clashes)


def _distinct_keys(con: duckdb.DuckDBPyConnection, checks: dict) -> int:
    """How many different (metric, date, dimension, campaign) keys the staged values have,
    or fewer when a 64-bit hash collides: only then does the exact check run."""
    rows, first, last = checks["rows"], checks["first_date"], checks["last_date"]
    campaign = checks.get("campaign", False)
    source, keys = batch_rows(checks.get("batch"), campaign), _keys(campaign)
    if not rows:
        return 0
    days = (last - first).days + 1
    # A bitmap of days per metric and dimension counts distinct dates without a
    # hash table of every key (several times faster); only while the bitmaps
    # stay smaller than that table would be (8 bytes a row).
    if checks["series"] * days <= 64 * rows:
        return con.execute(
            f"select sum(bit_count(days)) from (select bitstring_agg(cast(obs_date - "
            f"cast(? as date) as integer), 0, {int(days) - 1}) as days from {source[0]} "
            f"where value is not null group by metric, {keys}) as series",
            [first, *source[1]]).fetchall()[0][0]
    return con.execute(f"select count(distinct hash(metric, obs_date, {keys})) "
                       f"from {source[0]} where value is not null", source[1]).fetchall()[0][0]


def has_current_rows(con: duckdb.DuckDBPyConnection, metrics: list[str] | None) -> bool:
    """Whether any of `metrics` (None: any metric at all) has a current row."""
    where = "" if metrics is None else " and metric in (select unnest(?::varchar[]))"
    return bool(con.execute(f"select count(*) from (select 1 from observations where "
                            f"superseded_by is null{where} limit 1) as one",
                            [] if metrics is None else [metrics]).fetchall()[0][0])


def insert_first_import(con: duckdb.DuckDBPyConnection, source: HistorySource,
                        batch_id: int) -> int:
    """Store every value cell of `source` straight into observations under
    `batch_id` (no work table): the rows inserted. Bad cells are stored marked
    (date -infinity, value NaN, metric '') for history_checks(batch_id=...);
    only for a first import, in a transaction a refusal rolls back."""
    cells, params = _cells_sql(source)
    keys = _keys(bool(source.campaign))
    return int(con.execute(f"""
        insert into observations (metric, obs_date, {keys}, value, batch_id, superseded_by)
        select coalesce(metric, ''), coalesce(obs_date, date '-infinity'), {keys},
               case when bad_value then 'nan'::double else value end, cast(? as integer), null
        from ({cells}) as cells
        where value is not null or bad_value""", [batch_id, *params]).fetchall()[0][0])


def upsert_observations(con: duckdb.DuckDBPyConnection, batch_id: int,
                        metrics: list[str], campaign: bool = False) -> tuple[int, int, int]:
    """Versioned upsert of the staged, checked history (with a campaign column
    when `campaign`): (inserted, updated, unchanged). A changed value
    supersedes the current row. When none of `metrics` has a current row (a
    first import) every value is simply new."""
    keys = _keys(campaign)
    existing = con.execute("select count(*) from (select 1 from observations where superseded_by "
                           "is null and metric in (select unnest(?::varchar[])) limit 1) as one",
                           [metrics]).fetchall()[0][0]
    if not existing:
        inserted = con.execute(f"insert into observations (metric, obs_date, {keys}, value, "
                               f"batch_id, superseded_by) select metric, obs_date, {keys}, "
                               f"value, ?, null from {PARSED} where value is not null",
                               [batch_id]).fetchall()[0][0]
        return int(inserted), 0, 0
    return _upsert_changes(con, batch_id, campaign)


def _upsert_changes(con: duckdb.DuckDBPyConnection, batch_id: int,
                    campaign: bool) -> tuple[int, int, int]:
    staged = "p.campaign" if campaign else "''"
    con.execute(f"drop table if exists {_DIFF}")
    # Only new and changed values are kept: a re-import of the same file is
    # one join that leaves an empty table.
    con.execute(f"""
        create temp table {_DIFF} as
        select p.metric, p.obs_date, p.dimension, {staged} as campaign, p.value,
               o.value as old_value
        from {PARSED} p
        left join observations o
          on o.superseded_by is null and o.metric = p.metric
         and o.obs_date = p.obs_date and o.dimension = p.dimension
         and o.campaign = {staged}
        where p.value is not null and (o.value is null or o.value <> p.value)""")
    total = con.execute(f"select count(value) from {PARSED}").fetchall()[0][0]
    inserted, updated = con.execute(f"select count(*) filter (where old_value is null), "
                                    f"count(old_value) from {_DIFF}").fetchall()[0]
    if updated:
        con.execute(f"""
            update observations set superseded_by = ?
            from {_DIFF} d
            where observations.superseded_by is null and observations.metric = d.metric
              and observations.obs_date = d.obs_date and observations.dimension = d.dimension
              and observations.campaign = d.campaign
              and d.old_value is not null""", [batch_id])
    if inserted or updated:
        con.execute(f"insert into observations (metric, obs_date, dimension, campaign, value, "
                    f"batch_id, superseded_by) select metric, obs_date, dimension, campaign, "
                    f"value, ?, null from {_DIFF}", [batch_id])
    return int(inserted), int(updated), int(total - inserted - updated)


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


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the history work tables (after a refusal they may be left)."""
    for table in WORK_TABLES:
        con.execute(f"drop table if exists {table}")


def metric_hints(con: duckdb.DuckDBPyConnection, source: HistorySource,
                 names: list[str]) -> dict[str, tuple[bool, bool, str | None]]:
    """Per metric among `names`: (some value written with %, some with a
    currency sign, the first department named). Reads the raw text again, so
    it runs only when a history file brings metrics nobody defined."""
    dept = quote_identifier(source.department) if source.department else "null"
    selects, params = [], []
    for column, name in source.values:
        metric = _metric_sql(source, name, params)
        if name is None:
            metric = metric_name_sql(metric)
        text = quote_identifier(column)
        selects.append(f"select {metric} as metric, {text} as text, nullif(trim({dept}), '') "
                       f"as department from {quote_identifier(source.table)} "
                       f"where not {staging.missing_sql(text)}")
    signs = " or ".join(f"strpos(text, '{sign}') > 0" for sign in _CURRENCY_SIGNS)
    odd = "try_cast(text as double) is null"   # plain numbers skip the sign checks
    rows = con.execute(f"""
        select metric, bool_or({odd} and strpos(text, '%') > 0), bool_or({odd} and ({signs})),
               min(department)
        from ({' union all '.join(selects)}) as cells
        where metric in (select unnest(?::varchar[]))
        group by metric""", [*params, names]).fetchall()
    return {r[0]: (bool(r[1]), bool(r[2]), r[3]) for r in rows}


# --- the refusal path: rows again, with their line numbers ---------------------------------

def _located_sql(source: HistorySource) -> tuple[str, list]:
    """A select of every value cell with its line and value column number:
    line, part, metric, dimension, campaign, obs_date, value, bad_value, bad_date,
    no_metric. Empty value cells are left out."""
    selects, params = [], []
    for number, (column, name) in enumerate(source.values):
        metric = _metric_sql(source, name, params)
        if name is None:
            metric = metric_name_sql(metric)
        value_sql, invalid_sql = staging.number_sql(quote_identifier(column), source.decimal_comma)
        selects.append(
            f"select _line as line, {number} as part, coalesce({metric}, '') as metric, "
            f"{_key_text_sql(source.dimension)} as dimension, "
            f"{_key_text_sql(source.campaign)} as campaign, {source.date_sql} as obs_date, "
            f"{value_sql} as value, {invalid_sql} as bad_value "
            f"from {quote_identifier(source.table)}")
    sql = f"""
        select line, part, metric, dimension, campaign, obs_date, value, bad_value,
               obs_date is null as bad_date, metric = '' as no_metric
        from ({' union all '.join(selects)}) as cells
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
            from located l join {_KEYS} k on {same.format(a='l', b='k')}
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
