"""Writing metric history: the parsed rows of a file, their checks, and the
versioned upsert into `observations`.

The happy path touches the raw text once: one statement parses every cell
into `_lodestar_parsed` (metric, dimension, [campaign,] obs_date, value,
bad_value), and every later step (bad cells, duplicates, the diff, the
insert) reads that narrow table. Line numbers are not kept there: only a
refusal needs them, and the refusal path (store/history_refusals.py) parses
the raw table again.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from kpi_logic.domain.formulas import NAME_SEPARATORS
from kpi_logic.store import staging
from kpi_logic.store.db import quote_identifier

PARSED = "_lodestar_parsed"
KEYS = "_lodestar_keys"
_DIFF = "_lodestar_history_diff"
WORK_TABLES = (PARSED, KEYS, _DIFF)
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


# domain.formulas.NAME_SEPARATORS as an RE2 class, each character by its code point.
_NAME_SEPARATORS_RE2 = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in NAME_SEPARATORS) + "]+"


def metric_name_sql(column_sql: str) -> str:
    """SQL for domain.formulas.metric_name, the one rule (a test holds the two equal):
    it runs inside DuckDB so that a large table's names never come out to Python."""
    return (f"trim(regexp_replace(lower({column_sql}), '{_NAME_SEPARATORS_RE2}', '_', 'g'), "
            "'_')")


def _keys(campaign: bool) -> str:
    """The key columns after metric and obs_date. A table without a campaign
    column leaves campaign out of the work tables and checks altogether: every
    row of it has campaign '' (the column's default), and the narrower SQL
    keeps the common import fast."""
    return "dimension, campaign" if campaign else "dimension"


def key_text_sql(column: str | None) -> str:
    """A dimension or campaign cell as stored: trimmed, '' when absent or empty."""
    if not column:
        return "''"
    d = quote_identifier(column)
    # trim copies every string; most cells have nothing to trim (and LIKE is
    # cheaper here than starts_with/ends_with).
    return f"(case when {d} like ' %' or {d} like '% ' then trim({d}) else coalesce({d}, '') end)"


def metric_sql(source: HistorySource, name: str | None, params: list) -> str:
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
    params: list = []
    campaign = (f"{key_text_sql(source.campaign)} as campaign, " if source.campaign else "")
    raw = raw_cells_sql(source, f"{key_text_sql(source.dimension)} as dimension, {campaign}"
                                 f"{source.date_sql} as obs_date", params)
    value_sql, _ = staging.number_sql("cell", source.decimal_comma)
    # bad_value reads the parsed value: number_sql's invalid_sql would hold the
    # parse a second time, which DuckDB computes once but binds twice (its
    # regexes compiled again, some 50 ms per import whatever its size).
    keys = f"dimension, {'campaign, ' if campaign else ''}obs_date"
    return (f"select metric, {keys}, value, "
            f"{staging.invalid_from_value_sql('value', 'cell')} as bad_value "
            f"from (select metric, {keys}, cell, {value_sql} as value from ({raw}) as raw) "
            "as cells", params)


# A table of several value columns has its rows turned into cells: each row's
# cells and the columns' metric names unnested side by side, so the row's date
# and keys are parsed once, not once per column (a select per column joined by
# UNION ALL parsed the date of a 30-column sheet 30 times: 0.3 s more for 30,000
# rows; and DuckDB plans a union of N selects in time growing much faster than
# N: 20 s at 200 columns). A long table's single value column is one select.
UNION_UP_TO_COLUMNS = 1


def raw_cells_sql(source: HistorySource, extras: str, params: list) -> str:
    """One row per value cell of `source`'s table: metric (a name, or a long
    table's metric column as written), the cell's text as `cell`, the value
    column's number from 0 as `part`, and the select items `extras` over the
    same row. Appends its parameters to `params`."""
    table = quote_identifier(source.table)
    if len(source.values) > UNION_UP_TO_COLUMNS:
        params.append([name for _, name in source.values])
        cells = ", ".join(quote_identifier(column) for column, _ in source.values)
        return (f"select unnest(cast(? as varchar[])) as metric, unnest([{cells}]) as cell, "
                f"unnest(range({len(source.values)})) as part, {extras} from {table}")
    return " union all ".join(
        f"select {metric_sql(source, name, params)} as metric, {quote_identifier(column)} "
        f"as cell, {number} as part, {extras} from {table}"
        for number, (column, name) in enumerate(source.values))


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
    # count(distinct) keeps a set of the values each metric has (one for a file of
    # made-up metric names); approx_count_distinct kept a 1.3 KB sketch per metric,
    # 5 GB for an upload of 4 million names before the metric cap could refuse it.
    return con.execute(f"""
        select metric, min(obs_date), max(obs_date), count(value),
               count(*) filter (where bad_value or (value is not null
                                and (obs_date is null or coalesce(metric, '') = ''))),
               count(distinct {series}) filter (where value is not null)
        from {rows[0]} group by metric""", rows[1]).fetchall()


def sampled_metric_count(con: duckdb.DuckDBPyConnection, batch_id: int | None = None) -> int:
    """Different metric names (as written) in a 10% sample of the staged history's
    row blocks (or of observations, for a first import under `batch_id`): a lower
    bound on the table's count for a tenth of a pass, where grouping them all takes
    a hash table the size of the names. The sample is seeded: the same file is
    judged the same way every time."""
    table, where, params = (PARSED, "", []) if batch_id is None else \
        ("observations", "where batch_id = ?", [batch_id])
    return int(con.execute(f"select count(distinct metric) from {table} "
                           f"tablesample 10% (system, 8) {where}", params).fetchall()[0][0])


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
    con.execute(f"drop table if exists {KEYS}")
    # KEYS always has a campaign column: the refusal path joins it by campaign.
    con.execute(f"""
        create temp table {KEYS} as
        select metric, obs_date, dimension, {"campaign" if campaign else "'' as campaign"},
               min(value) as value, max(value) as other_value
        from {rows[0]} where value is not null
        group by metric, obs_date, {keys} having count(*) > 1""", rows[1])
    repeated, clashes = con.execute(
        f"select count(*), count(*) filter (where value <> other_value) from {KEYS}").fetchall()[0]
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


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the history work tables (after a refusal they may be left)."""
    for table in WORK_TABLES:
        con.execute(f"drop table if exists {table}")


def metric_hints(con: duckdb.DuckDBPyConnection, source: HistorySource,
                 names: list[str]) -> dict[str, tuple]:
    """Per metric among `names`: (non-empty value cells, those written with %,
    those with a currency sign, the first (line, text) of each of the three
    kinds (% / currency / neither) or None, the first and the last department
    named). Reads the raw text again, so it runs only when a history file
    brings metrics nobody defined."""
    # key_text_sql trims only the cells that need it (trim copies every string).
    dept = f"nullif({key_text_sql(source.department)}, '')" if source.department else "null"
    params: list = []
    raw = raw_cells_sql(source, f"_line, {dept} as department", params)
    signs = " or ".join(f"strpos(text, '{sign}') > 0" for sign in _CURRENCY_SIGNS)
    tokens = ", ".join(f"'{t}'" for t in staging.NULL_TOKENS)
    kinds = {"percent": 1, "currency": 2, "plain": 0}
    firsts = ", ".join(f"min(_line) filter (where mark = {k}) as {name}_line, "
                       f"arg_min(text, _line) filter (where mark = {k}) as {name}_text"
                       for name, k in kinds.items())
    picked = ", ".join(f"min({k}_line), arg_min({k}_text, {k}_line)" for k in kinds)
    # Most cells are plain numbers: the CASE stops at try_cast for them and
    # looks for marks only in the rest. Cells are counted per metric as
    # written, then per metric key: each distinct name is normalised once.
    rows = con.execute(f"""
        with cells as (select metric, _line, cell as text, department from ({raw}) as raw),
        marked as (
            select metric, _line, text, department,
                   case when text is null then null
                        when try_cast(text as double) is not null then 0
                        when lower(trim(text)) in ({tokens}) then null
                        when strpos(text, '%') > 0 then 1
                        when {signs} then 2 else 0 end as mark
            from cells
        ),
        written as (
            select metric, count(mark) as cells, count(*) filter (where mark = 1) as percents,
                   count(*) filter (where mark = 2) as currencies, {firsts},
                   min(department) as first_department, max(department) as last_department
            from marked group by metric
        )
        select {metric_name_sql('metric')} as name, sum(cells), sum(percents), sum(currencies),
               {picked}, min(first_department), max(last_department)
        from written group by name
        having name in (select unnest(?::varchar[]))""", [*params, names]).fetchall()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), *(_example(r[i], r[i + 1]) for i in (4, 6, 8)),
                   r[10], r[11]) for r in rows}


def _example(line: int | None, text: str | None) -> tuple[int, str] | None:
    return None if line is None else (int(line), text)
