"""Writing: batches, the set-based versioned upsert of history and
definitions, and undo.

Versioned tables keep every value ever imported: a changed row is marked
superseded_by=<new batch> and the new row inserted, so undoing a batch is
"delete its rows, clear the marks it set". History never leaves DuckDB: a
file's rows go from its all-text staging table to a parsed temp table to
`observations` in a handful of set-based statements.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime

import duckdb
import pandas as pd

from ..model import KPI, KeyResult, Launch, Metric, Target
from . import staging
from .db import quote_identifier

_DIFF = "_lodestar_diff"
_INCOMING = "_lodestar_incoming"
_KEYS = "_lodestar_keys"
_CURRENCY_SIGNS = ("$", "€", "£", "¥", "USD", "EUR", "GBP", "usd", "eur", "gbp")

# Whitelist of versioned definition tables: key columns, then every data column.
DEFINITION_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "metrics": (("name",), ("name", "department", "unit", "direction", "aggregation",
                            "formula", "description", "dimension_name", "inferred")),
    "kpis": (("title",), ("title", "metric", "target", "target_kind", "period", "department",
                          "objective", "owner", "tolerance", "supporting")),
    "targets": (("kpi", "period"), ("kpi", "period", "target")),
    "key_results": (("objective", "title"),
                    ("objective", "title", "metric", "start_value", "target_value",
                     "start_date", "deadline", "owner", "department", "weight")),
    "launches": (("launch",), ("launch", "launch_date", "department", "conversion_target",
                               "cac_target")),
}
VERSIONED_TABLES = ("observations", *DEFINITION_TABLES)


# --- batches -----------------------------------------------------------------

def open_batch(con: duckdb.DuckDBPyConnection, *, run_id: int | None, file: str,
               sheet: str | None, kind: str, sha256: str | None, rows: int) -> int:
    """Insert a batch row (counts filled in by close_batch) and return its id.
    The first batch of a run gives the run its id (run_id None)."""
    batch_id = int(con.execute("select nextval('batch_ids')").fetchone()[0])
    run_id = batch_id if run_id is None else run_id
    con.execute("insert into batches (id, run_id, file, sheet, kind, sha256, imported_at, rows) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, run_id, file, sheet, kind, sha256, datetime.now(), rows])
    return batch_id


def close_batch(con: duckdb.DuckDBPyConnection, batch_id: int, inserted: int, updated: int,
                unchanged: int) -> None:
    con.execute("update batches set inserted = ?, updated = ?, unchanged = ? where id = ?",
                [inserted, updated, unchanged, batch_id])


def drop_batch(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Forget a batch that changed nothing (a re-import leaves no trace)."""
    con.execute("delete from batches where id = ?", [batch_id])


def batch_list(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "select id, run_id, file, sheet, kind, sha256, imported_at, rows, inserted, updated, "
        "unchanged, undone_at from batches order by id").df()


def batch_row(con: duckdb.DuckDBPyConnection, batch_id: int) -> dict | None:
    cursor = con.execute("select id, run_id, file, sheet, kind, imported_at, undone_at "
                         "from batches where id = ?", [batch_id])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


# --- history -----------------------------------------------------------------

def metric_name_sql(column_sql: str) -> str:
    """SQL for definitions.metric_key: lowercase, trimmed, spaces/dashes/dots as "_"."""
    return f"trim(regexp_replace(lower(trim({column_sql})), '[\\s.\\-]+', '_', 'g'), '_')"


@dataclass(frozen=True)
class ParsedHistory:
    """A select over a raw table giving one parsed row per (line, value column):
    line, part, metric, dimension, obs_date, value, bad_value, bad_date,
    no_metric, percent, currency, department. Empty values are left out."""
    sql: str
    params: tuple


def parsed_history(table: str, values: list[tuple[str, str | None]], *, date_sql: str,
                   decimal_comma: bool, metric_column: str | None, dimension: str | None,
                   department: str | None) -> ParsedHistory:
    """The parsing select of a history table (nothing runs here).

    `values` lists (value column, metric name) per value column; the name is
    None in long tables, where it comes from metric_column. percent/currency
    mark values written with % or a currency sign (the unit of a new metric).
    """
    dim = f"coalesce(trim({quote_identifier(dimension)}), '')" if dimension else "''"
    dept = f"nullif(trim({quote_identifier(department)}), '')" if department else "null"
    selects, params = [], []
    for number, (column, name) in enumerate(values):
        if name is None:
            metric = _metric_name_fast(quote_identifier(metric_column))
        else:
            metric = "cast(? as varchar)"
            params.append(name)
        value_sql, _ = staging.number_sql(quote_identifier(column), decimal_comma)
        selects.append(
            f"select _line as line, {number} as part, {metric} as metric, {dim} as dimension, "
            f"{date_sql} as obs_date, {value_sql} as value, {quote_identifier(column)} as text, "
            f"cast({dept} as varchar) as department from {quote_identifier(table)}")
    _, invalid_sql = staging.number_sql("text", decimal_comma)
    signs = " or ".join(f"strpos(text, '{sign}') > 0" for sign in _CURRENCY_SIGNS)
    unusual = "try_cast(text as double) is null"   # plain numbers skip the sign checks
    # The invalid test (a full regex) runs only where no number came out.
    sql = f"""
        select line, part, coalesce(metric, '') as metric, dimension, obs_date, value,
               value is null and {invalid_sql} as bad_value, obs_date is null as bad_date,
               coalesce(metric, '') = '' as no_metric,
               {unusual} and strpos(text, '%') > 0 as percent,
               {unusual} and ({signs}) as currency, department
        from ({' union all '.join(selects)}) as cells
        where value is not null or {invalid_sql}"""
    return ParsedHistory(sql, tuple(params))


def _metric_name_fast(column_sql: str) -> str:
    # Most names are already lowercase words: skip the regex rewrite for them.
    return (f"case when regexp_full_match({column_sql}, '[a-z0-9_]+') then {column_sql} "
            f"else {metric_name_sql(column_sql)} end")


def group_history(con: duckdb.DuckDBPyConnection, parsed: ParsedHistory) -> tuple[int, int]:
    """Parse and group the history by key in one pass (identical duplicates
    collapse): (rows with a bad date, value or metric, keys with two different
    values). The grouped rows feed upsert_observations and metric_hints."""
    con.execute(f"drop table if exists {_KEYS}")
    con.execute(f"""
        create temp table {_KEYS} as
        select metric, obs_date, dimension, min(value) as value, max(value) as other_value,
               bool_or(percent) as percent, bool_or(currency) as currency,
               min(department) as department,
               count(*) filter (where bad_value or bad_date or no_metric) as bad
        from ({parsed.sql}) as parsed
        group by metric, obs_date, dimension""", list(parsed.params))
    bad, clashes = con.execute(f"select coalesce(sum(bad), 0), "
                               f"count(*) filter (where value <> other_value) "
                               f"from {_KEYS}").fetchone()
    return int(bad), int(clashes)


def history_problems(con: duckdb.DuckDBPyConnection, parsed: ParsedHistory,
                     limit: int = 20) -> tuple[list[tuple], int]:
    """The first `limit` rows with a bad date, value or metric, and how many
    there are. Each row is (line, part, bad_date, bad_value, no_metric)."""
    rows = con.execute(f"""
        select line, part, bad_date, bad_value, no_metric, count(*) over () as total
        from ({parsed.sql}) as parsed
        where bad_date or bad_value or no_metric
        order by line, part
        limit ?""", [*parsed.params, limit]).fetchall()
    return [r[:5] for r in rows], (rows[0][5] if rows else 0)


def raw_cells(con: duckdb.DuckDBPyConnection, table: str, lines: list[int],
              columns: list[str]) -> dict[int, tuple]:
    """The text of some cells of a raw table, by line (for refusal messages)."""
    if not lines:
        return {}
    cols = ", ".join(quote_identifier(c) for c in columns)
    marks = ", ".join("?" for _ in lines)
    rows = con.execute(f"select _line, {cols} from {quote_identifier(table)} "
                       f"where _line in ({marks})", lines).fetchall()
    return {r[0]: r[1:] for r in rows}


def conflicting_duplicates(con: duckdb.DuckDBPyConnection, parsed: ParsedHistory,
                           limit: int = 20) -> tuple[list[tuple], int]:
    """Keys given two different values: (metric, date, dimension, first line,
    first value, other line, other value), and how many keys."""
    rows = con.execute(f"""
        with parsed as ({parsed.sql}),
        clashing as (
            select p.metric, p.obs_date, p.dimension, min(p.line) as first_line
            from {_KEYS} k join parsed p
              on p.metric = k.metric and p.obs_date = k.obs_date and p.dimension = k.dimension
            where k.value <> k.other_value
            group by p.metric, p.obs_date, p.dimension
        ),
        firsts as (
            select c.*, p.value as first_value
            from clashing c join parsed p
              on p.line = c.first_line and p.metric = c.metric
             and p.obs_date = c.obs_date and p.dimension = c.dimension
        ),
        others as (
            select f.metric, f.obs_date, f.dimension, f.first_line, f.first_value,
                   min(p.line) as other_line
            from firsts f join parsed p
              on p.metric = f.metric and p.obs_date = f.obs_date
             and p.dimension = f.dimension and p.value <> f.first_value
            group by f.metric, f.obs_date, f.dimension, f.first_line, f.first_value
        )
        select o.metric, o.obs_date, o.dimension, o.first_line, o.first_value, o.other_line,
               p.value as other_value, count(*) over () as total
        from others o join parsed p
          on p.line = o.other_line and p.metric = o.metric
         and p.obs_date = o.obs_date and p.dimension = o.dimension
        order by o.first_line
        limit ?""", [*parsed.params, limit]).fetchall()
    return [r[:7] for r in rows], (rows[0][7] if rows else 0)


def history_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Metrics, date range and number of values of the grouped history (for previews)."""
    first, last, n = con.execute(
        f"select min(obs_date), max(obs_date), count(*) from {_KEYS}").fetchone()
    metrics = [r[0] for r in con.execute(
        f"select distinct metric from {_KEYS} order by metric").fetchall()]
    return {"metrics": metrics, "first_date": first, "last_date": last, "values": n}


def upsert_observations(con: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[int, int, int]:
    """Versioned upsert of the grouped history (group_history): (inserted,
    updated, unchanged). A changed value supersedes the current row."""
    con.execute(f"drop table if exists {_DIFF}")
    con.execute(f"""
        create temp table {_DIFF} as
        select i.metric, i.obs_date, i.dimension, i.value, o.value as old_value
        from {_KEYS} i
        left join observations o
          on o.superseded_by is null and o.metric = i.metric
         and o.obs_date = i.obs_date and o.dimension = i.dimension""")
    inserted, updated, unchanged = con.execute(f"""
        select count(*) filter (where old_value is null),
               count(*) filter (where old_value <> value),
               count(*) filter (where old_value = value)
        from {_DIFF}""").fetchone()
    if updated:
        con.execute(f"""
            update observations set superseded_by = ?
            from {_DIFF} d
            where observations.superseded_by is null and observations.metric = d.metric
              and observations.obs_date = d.obs_date and observations.dimension = d.dimension
              and d.old_value <> d.value""", [batch_id])
    if inserted or updated:
        con.execute(f"""
            insert into observations (metric, obs_date, dimension, value, batch_id, superseded_by)
            select metric, obs_date, dimension, value, ?, null
            from {_DIFF}
            where old_value is null or old_value <> value""", [batch_id])
    con.execute(f"drop table {_DIFF}")
    return int(inserted), int(updated), int(unchanged)


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables of the importer (after a refusal they may be left)."""
    for table in (_DIFF, _INCOMING, _KEYS):
        con.execute(f"drop table if exists {table}")


def metric_hints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[bool, bool, str | None]]:
    """Per metric of the grouped history: (written with %, written with a
    currency sign, the first department named)."""
    rows = con.execute(f"select metric, bool_or(percent), bool_or(currency), min(department) "
                       f"from {_KEYS} group by metric").fetchall()
    return {r[0]: (bool(r[1]), bool(r[2]), r[3]) for r in rows}


# --- definitions ---------------------------------------------------------------

def definition_rows(con: duckdb.DuckDBPyConnection, table: str,
                    selects: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """The non-blank rows of a raw definition table, parsed: "_line", then per
    field its value and "<field>__bad" (true when the cell cannot be read)."""
    parts = ", ".join(f"{value} as {quote_identifier(name)}, "
                      f"coalesce({bad}, false) as {quote_identifier(name + '__bad')}"
                      for name, (value, bad) in selects.items())
    blank = " and ".join(f"({value}) is null and not coalesce({bad}, false)"
                         for value, bad in selects.values()) or "false"
    return con.execute(f"select _line, {parts} from {quote_identifier(table)} "
                       f"where not ({blank}) order by _line").df()

def _definition_row(item, inferred: bool = False) -> tuple:
    if isinstance(item, Metric):
        return (*astuple(item), inferred)
    if isinstance(item, KPI):
        values = astuple(item)
        return (*values[:-1], ", ".join(item.supporting) or None)
    if isinstance(item, (Target, KeyResult, Launch)):
        return astuple(item)
    raise TypeError(f"not a definition: {item!r}")


def upsert_definitions(con: duckdb.DuckDBPyConnection, table: str, items: list,
                       batch_id: int, *, inferred: bool = False) -> tuple[int, int, int]:
    """Versioned upsert of definitions by key: (inserted, updated, unchanged).

    Current rows the items do not mention are kept."""
    keys, columns = DEFINITION_TABLES[table]
    cols = ", ".join(columns)
    con.execute(f"drop table if exists {_INCOMING}")
    con.execute(f"create temp table {_INCOMING} as select {cols} from {table} limit 0")
    if items:
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"insert into {_INCOMING} values ({marks})",
                        [_definition_row(i, inferred) for i in items])
    on = " and ".join(f"c.{k} = i.{k}" for k in keys)
    same = " and ".join(f"c.{c} is not distinct from i.{c}" for c in columns)
    con.execute(f"drop table if exists {_DIFF}")
    con.execute(f"""
        create temp table {_DIFF} as
        select i.*, c.{keys[0]} is not null as existed, coalesce({same}, false) as same
        from {_INCOMING} i
        left join (select * from {table} where superseded_by is null) c on {on}""")
    inserted, updated, unchanged = con.execute(
        f"select count(*) filter (where not existed), count(*) filter (where existed and not same), "
        f"count(*) filter (where same) from {_DIFF}").fetchone()
    match = " and ".join(f"{table}.{k} = d.{k}" for k in keys)
    con.execute(f"update {table} set superseded_by = ? from {_DIFF} d "
                f"where {table}.superseded_by is null and {match} and d.existed and not d.same",
                [batch_id])
    con.execute(f"insert into {table} ({cols}, batch_id, superseded_by) "
                f"select {cols}, ?, null from {_DIFF} where not same", [batch_id])
    con.execute(f"drop table {_DIFF}")
    con.execute(f"drop table {_INCOMING}")
    return int(inserted), int(updated), int(unchanged)


# --- undo ----------------------------------------------------------------------

def superseding_batches(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[tuple[int, str]]:
    """Later batches in effect that replaced rows of this batch: (id, file)."""
    union = " union ".join(
        f"select superseded_by as id from {t} where batch_id = ? and superseded_by is not null"
        for t in VERSIONED_TABLES)
    return con.execute(f"select b.id, b.file from ({union}) s join batches b on b.id = s.id "
                       "order by b.id", [batch_id] * len(VERSIONED_TABLES)).fetchall()


def undo_rows(con: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[int, int]:
    """Delete the batch's rows, restore the rows it superseded, mark it undone:
    (deleted, restored)."""
    deleted = restored = 0
    for table in VERSIONED_TABLES:
        deleted += con.execute(f"select count(*) from {table} where batch_id = ?",
                               [batch_id]).fetchone()[0]
        restored += con.execute(f"select count(*) from {table} where superseded_by = ?",
                                [batch_id]).fetchone()[0]
        con.execute(f"delete from {table} where batch_id = ?", [batch_id])
        con.execute(f"update {table} set superseded_by = null where superseded_by = ?",
                    [batch_id])
    con.execute("update batches set undone_at = ? where id = ?", [datetime.now(), batch_id])
    return int(deleted), int(restored)
