"""Test helpers that put metric definitions and history straight into a store.

They bypass the importer on purpose, so engine tests stay independent of it:

    store = memory_store()
    add_metric(store, "mrr", aggregation="last", unit="currency")
    add_observations(store, "mrr", [("2025-03-01", 100), ("2025-03-28", 120)])
    add_observations(store, "visitors", [("2025-03-01", 50, "search")])   # with a dimension

Every call records one batch (kind "test") and returns its id. Observations
replace the current row with the same (metric, date, dimension) the way an
import does: the old row is marked superseded_by the new batch.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from kpi_logic.store.db import first

_METRIC_FIELDS = ("department", "unit", "direction", "aggregation", "formula",
                  "description", "dimension_name", "inferred")


def add_batch(store, file: str = "test", kind: str = "test", rows: int = 0) -> int:
    """A new batch row; returns its id."""
    batch = first(store.connection, "select nextval('batch_ids')")[0]
    store.connection.execute(
        "insert into batches (id, run_id, file, kind, imported_at, rows, inserted) "
        "values (?, ?, ?, ?, ?, ?, ?)", [batch, batch, file, kind, datetime.now(), rows, rows])
    return batch


def add_metric(store, name: str, **fields) -> int:
    """Defines (or redefines) a metric; fields are columns of `metrics`
    (department, unit, direction, aggregation, formula, description, dimension_name)."""
    unknown = set(fields) - set(_METRIC_FIELDS)
    if unknown:
        raise TypeError(f"add_metric: unknown fields {sorted(unknown)}")
    batch = add_batch(store, file=f"metric {name}", kind="metrics", rows=1)
    store.connection.execute("update metrics set superseded_by = ? where name = ? and superseded_by is null",
                [batch, name])
    columns = ["name", "batch_id", *fields]
    placeholders = ", ".join("?" for _ in columns)
    store.connection.execute(f"insert into metrics ({', '.join(columns)}) values ({placeholders})",
                [name, batch, *fields.values()])
    return batch


def add_metrics(store, definitions: dict[str, dict]) -> None:
    """add_metric for each name -> fields."""
    for name, fields in definitions.items():
        add_metric(store, name, **fields)


def add_observations(store, metric: str, rows, *, define: bool = True) -> int:
    """Adds history rows (date, value) or (date, value, dimension) for one metric.

    Dates may be date objects or ISO text. A metric with no definition yet is
    defined with the defaults (aggregation sum) unless define=False.
    """
    if define and not first(
            store.connection, "select count(*) from metrics where name = ? and superseded_by is null",
            [metric])[0]:
        add_metric(store, metric)
    batch = add_batch(store, file=f"history {metric}", kind="history", rows=len(rows))
    dates = [r[0] if isinstance(r[0], date) else date.fromisoformat(r[0]) for r in rows]
    dimensions = [r[2] if len(r) > 2 else "" for r in rows]
    values = [float(r[1]) for r in rows]
    # Lists go in as array parameters (no registered frame), so this works
    # whatever results the caller left open on `store`.
    new_rows = ("select unnest(cast(? as date[])) as obs_date, "
                "unnest(cast(? as varchar[])) as dimension, unnest(cast(? as double precision[])) as value")
    store.connection.execute(
        "update observations set superseded_by = ? where metric = ? and superseded_by is null "
        f"and exists (select 1 from ({new_rows}) n where n.obs_date = observations.obs_date "
        "and n.dimension = observations.dimension)", [batch, metric, dates, dimensions, values])
    store.connection.execute(
        "insert into observations (metric, obs_date, dimension, value, batch_id) "
        f"select ?, obs_date, dimension, value, ? from ({new_rows}) n",
        [metric, batch, dates, dimensions, values])
    return batch


def add_daily(store, metric: str, start: str, values, dimension: str = "") -> int:
    """One observation per day from `start`, for quick series: add_daily(store, "leads", "2025-03-01", [1, 2, 3])."""
    day_one = date.fromisoformat(start)
    rows = [(day_one + timedelta(days=i), v, dimension) for i, v in enumerate(values)]
    return add_observations(store, metric, rows)


def in_order(rows: list[tuple]) -> list[tuple]:
    """Rows sorted by every column, missing values last (DuckDB's `order by all`,
    which PostgreSQL lacks)."""
    return sorted(rows, key=lambda row: tuple((value is None, value) for value in row))
