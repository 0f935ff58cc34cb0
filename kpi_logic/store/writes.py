"""Writing: batches, the set-based versioned upsert and removal of
definitions, and undo. Metric history has its own module, writes_history.

Versioned tables keep every value ever imported: a changed row is marked
superseded_by=<new batch> and the new row inserted, so undoing a batch is
"delete its rows, clear the marks it set". A removal only sets the marks.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import NamedTuple

import duckdb
import pandas as pd

from kpi_logic.domain.model import KPI, CheckIn, KeyResult, Launch, Metric, Objective, Target
from kpi_logic.store.db import quote_identifier

_DIFF = "_lodestar_diff"
_INCOMING = "_lodestar_incoming"

# Whitelist of versioned definition tables: key columns, then every data column.
DEFINITION_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "metrics": (("name",), ("name", "department", "unit", "direction", "aggregation",
                            "formula", "description", "dimension_name", "label", "inferred")),
    "kpis": (("title",), ("title", "metric", "target", "target_kind", "period", "department",
                          "objective", "owner", "tolerance", "supporting", "pinned")),
    "targets": (("kpi", "period"), ("kpi", "period", "target")),
    "key_results": (("objective", "title"),
                    ("objective", "title", "metric", "start_value", "target_value",
                     "start_date", "deadline", "owner", "department", "weight")),
    "launches": (("launch",), ("launch", "launch_date", "department", "conversion_target",
                               "cac_target", "promotion_date")),
    "objectives": (("objective",), ("objective", "owner", "department", "cycle", "description",
                                    "parent")),
    "checkins": (("kind", "objective", "title", "period"),
                 ("kind", "objective", "title", "period", "note", "confidence", "checked_by",
                  "checked_at")),
}
VERSIONED_TABLES = ("observations", *DEFINITION_TABLES)

# The SQL type of the definition columns that are not text (schema in db.py):
# a list parameter is cast to an array of it, which PostgreSQL needs to
# unnest a list of None.
_COLUMN_TYPES = {**dict.fromkeys(("target", "tolerance", "start_value", "target_value", "weight",
                                  "conversion_target", "cac_target"), "double precision"),
                 **dict.fromkeys(("start_date", "deadline", "launch_date", "promotion_date"),
                                 "date"),
                 "inferred": "boolean", "pinned": "boolean", "checked_at": "timestamp"}


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


def earlier_batch(con: duckdb.DuckDBPyConnection, *, sha256: str | None, sheet: str | None,
                  kind: str) -> tuple | None:
    """(id, file, imported_at) of a batch still in effect that imported the same
    content (same file bytes, sheet and kind), or None."""
    if not sha256:
        return None
    rows = con.execute(
        "select id, file, imported_at from batches "
        "where sha256 = ? and kind = ? and coalesce(sheet, '') = coalesce(?, '') "
        "and undone_at is null order by id desc limit 1", [sha256, kind, sheet]).fetchall()
    return rows[0] if rows else None


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
    return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None


# --- raw cells (for refusal messages) -----------------------------------------

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


# --- definitions ---------------------------------------------------------------

def definition_rows(con: duckdb.DuckDBPyConnection, table: str,
                    selects: dict[str, tuple[str, str, str]],
                    clear_marks: tuple[str, ...] = ()) -> pd.DataFrame:
    """The non-blank rows of a raw definition table, parsed: "_line", then per
    field (value SQL, bad SQL, raw column SQL) its value, "<field>__bad" (the
    cell cannot be read) and "<field>__said" (the cell is not empty). A cell
    holding one of `clear_marks` (any case) is said, with no value."""
    marks = ", ".join("?" for _ in clear_marks) or "null"
    parts, blank, params = [], [], []
    for name, (value, bad, column) in selects.items():
        cleared = f"coalesce(lower(trim({column})) in ({marks}), false)"
        value, bad = (f"case when {cleared} then null else {value} end",
                      f"case when {cleared} then false else coalesce({bad}, false) end")
        parts.append(f"{value} as {quote_identifier(name)}, {bad} as "
                     f"{quote_identifier(name + '__bad')}, coalesce(trim({column}), '') <> '' "
                     f"as {quote_identifier(name + '__said')}")
        blank.append(f"({value}) is null and not {bad}")
        params += list(clear_marks) * 4
    where = " and ".join(blank) or "false"
    return con.execute(f"select _line, {', '.join(parts)} from {quote_identifier(table)} "
                       f"where not ({where}) order by _line", params).df()


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the definition work tables (after a refusal they may be left)."""
    for table in (_DIFF, _INCOMING):
        con.execute(f"drop table if exists {table}")


def _column_list(column: str, values: tuple) -> list:
    """One column's values as a list parameter; numbers as floats throughout
    (psycopg refuses a list that mixes ints and floats)."""
    if _COLUMN_TYPES.get(column) == "double precision":
        return [None if v is None else float(v) for v in values]
    return list(values)


def _definition_row(item, inferred: bool = False) -> tuple:
    if isinstance(item, Metric):
        return (*_fields(item), inferred)
    if isinstance(item, KPI):
        return tuple(", ".join(item.supporting) or None if f.name == "supporting"
                     else getattr(item, f.name) for f in fields(item))
    if isinstance(item, (Target, KeyResult, Launch, Objective, CheckIn)):
        return _fields(item)
    raise TypeError(f"not a definition: {item!r}")


def _fields(item) -> tuple:
    # Not dataclasses.astuple, which deep-copies every field.
    return tuple(getattr(item, f.name) for f in fields(item))


class DefinitionCounts(NamedTuple):
    inserted: int
    updated: int
    unchanged: int
    confirmed: int    # inferred metrics now described by someone, otherwise unchanged


def upsert_definitions(con: duckdb.DuckDBPyConnection, table: str, items: list,
                       batch_id: int, *, inferred: bool = False) -> DefinitionCounts:
    """Versioned upsert of definitions by key. Current rows the items do not
    mention are kept. A metric inferred from history that comes back with the
    same settings is not a change: its row is rewritten as confirmed
    (inferred = false) and counted as unchanged and confirmed."""
    keys, columns = DEFINITION_TABLES[table]
    cols = ", ".join(columns)
    con.execute(f"drop table if exists {_INCOMING}")
    con.execute(f"create temp table {_INCOMING} as select {cols} from {table} limit 0")
    if items:
        # One statement, a list per column: executemany ran one insert per row
        # (200,000 metrics defined from one file took minutes under the lock).
        rows = [_definition_row(i, inferred) for i in items]
        con.execute(f"insert into {_INCOMING} select "
                    + ", ".join(f"unnest(cast(? as {_COLUMN_TYPES.get(c, 'varchar')}[]))"
                                for c in columns),
                    [_column_list(c, values)
                     for c, values in zip(columns, zip(*rows, strict=True), strict=True)])
    on = " and ".join(f"c.{k} = i.{k}" for k in keys)
    same = " and ".join(f"c.{c} is not distinct from i.{c}" for c in columns if c != "inferred")
    flag = "c.inferred and not i.inferred" if table == "metrics" else "false"
    con.execute(f"drop table if exists {_DIFF}")
    con.execute(f"""
        create temp table {_DIFF} as
        select i.*, c.{keys[0]} is not null as existed, coalesce({same}, false) as same,
               coalesce({same} and {flag}, false) as confirms
        from {_INCOMING} i
        left join (select * from {table} where superseded_by is null) c on {on}""")
    counts = DefinitionCounts(*con.execute(
        f"select count(*) filter (where not existed), count(*) filter (where existed and not same), "
        f"count(*) filter (where same), count(*) filter (where confirms) from {_DIFF}").fetchone())
    match = " and ".join(f"{table}.{k} = d.{k}" for k in keys)
    written = "(not d.same or d.confirms)"
    con.execute(f"update {table} set superseded_by = ? from {_DIFF} d "
                f"where {table}.superseded_by is null and {match} and d.existed and {written}",
                [batch_id])
    con.execute(f"insert into {table} ({cols}, batch_id, superseded_by) "
                f"select {cols}, ?, null from {_DIFF} d where {written}", [batch_id])
    drop_work_tables(con)
    return DefinitionCounts(*(int(n) for n in counts))


def key_texts(table: str) -> str:
    """SQL for a definition row's key as text ("objective / title" for two parts)."""
    keys = DEFINITION_TABLES[table][0]
    return " || ' / ' || ".join(f"cast({k} as varchar)" for k in keys)


def current_keys(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The key texts (key_texts) of the current rows of a definition table."""
    return {r[0] for r in con.execute(
        f"select {key_texts(table)} from {table} where superseded_by is null").fetchall()}


def supersede_keys(con: duckdb.DuckDBPyConnection, table: str, keys: list[str],
                   batch_id: int) -> int:
    """Mark the current rows with these key texts superseded by the batch (a
    removal: no new row); returns how many."""
    return int(con.execute(
        f"update {table} set superseded_by = ? where superseded_by is null "
        f"and {key_texts(table)} in (select unnest(?::varchar[]))", [batch_id, keys]
    ).fetchall()[0][0])


def metric_users(con: duckdb.DuckDBPyConnection, names: list[str],
                 exclude_batch: int | None = None) -> list[tuple[str, str, str | None, int]]:
    """Current KPIs (metric or supporting), key results and history that use
    these metrics, outside one batch: (metric, "KPI" | "key result" |
    "history", title or None, batch id). Formulas are the caller's (parsed)."""
    skip = "and batch_id <> ?" if exclude_batch is not None else ""
    extra = [exclude_batch] if exclude_batch is not None else []
    wanted = "(select unnest(?::varchar[]) as name)"
    # supporting is "a, b": metric names have no spaces, so compare ",a,b," with ",a,".
    supporting = "strpos(',' || replace(coalesce(k.supporting, ''), ' ', '') || ',', " \
        "',' || m.name || ',') > 0"
    return con.execute(f"""
        select m.name, 'KPI', k.title, k.batch_id from kpis k join {wanted} m
          on k.metric = m.name or {supporting}
        where k.superseded_by is null {skip}
        union all
        select m.name, 'key result', r.title, r.batch_id from key_results r join {wanted} m
          on r.metric = m.name where r.superseded_by is null {skip}
        union all
        select metric, 'history', null, min(batch_id) from observations
        where superseded_by is null and metric in (select unnest(?::varchar[])) {skip}
        group by metric
        order by 1, 4""", [names, *extra] * 3).fetchall()


def supersede_targets_of(con: duckdb.DuckDBPyConnection, kpis: list[str], batch_id: int) -> int:
    """Mark the current per-period targets of these KPI titles superseded; how many."""
    return int(con.execute("update targets set superseded_by = ? where superseded_by is null "
                           "and kpi in (select unnest(?::varchar[]))", [batch_id, kpis]
                           ).fetchall()[0][0])


def formula_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(name, formula, batch id) of the current formula metrics."""
    return con.execute("select name, formula, batch_id from metrics where superseded_by is null "
                       "and formula is not null order by name").fetchall()


# --- undo ----------------------------------------------------------------------

def superseding_batches(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[tuple[int, str]]:
    """Later batches in effect that replaced rows of this batch: (id, file)."""
    union = " union ".join(
        f"select superseded_by as id from {t} where batch_id = ? and superseded_by is not null"
        for t in VERSIONED_TABLES)
    return con.execute(f"select b.id, b.file from ({union}) s join batches b on b.id = s.id "
                       "order by b.id", [batch_id] * len(VERSIONED_TABLES)).fetchall()


def metrics_only_in(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[str]:
    """Metrics a batch defined that undoing it would leave undefined (it
    added them, rather than replacing an older definition)."""
    return [r[0] for r in con.execute(
        "select name from metrics where batch_id = ? and superseded_by is null "
        "and name not in (select name from metrics where superseded_by = ?) order by name",
        [batch_id, batch_id]).fetchall()]


def batches_in_effect(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> list[int]:
    """Ids of the batches not undone (of one run, or all), newest first."""
    run = "and run_id = ?" if run_id is not None else ""
    return [r[0] for r in con.execute(
        f"select id from batches where undone_at is null {run} order by id desc",
        [run_id] if run_id is not None else []).fetchall()]


def undo_rows(con: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[int, int]:
    """Delete the batch's rows, restore the rows it superseded, mark it undone:
    (deleted, restored)."""
    deleted = restored = 0
    for table in VERSIONED_TABLES:
        deleted += con.execute(f"delete from {table} where batch_id = ?",
                               [batch_id]).fetchall()[0][0]
        restored += con.execute(f"update {table} set superseded_by = null "
                                f"where superseded_by = ?", [batch_id]).fetchall()[0][0]
    con.execute("update batches set undone_at = ? where id = ?", [datetime.now(), batch_id])
    return int(deleted), int(restored)
