"""The Store over a PostgreSQL server (a team's database).

Reads and definition writes run the same SQL modules as DuckDBStore, through
PgConnection. Files are still parsed and checked in DuckDB: `staging` is an
in-memory DuckDB database of this unit of work. The checked history (the
work table PARSED) then reaches the server with COPY, in the import's
transaction, which holds the write lock (store/postgres.py): straight into
observations when none of its metrics has a current row, else into a
temporary table that the breakdown check and the versioned upsert read. Two
imports never interleave, and a refused or failed one leaves nothing behind.
"""
from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Callable

import duckdb

from kpi_logic.store import db, history_refusals, writes_history
from kpi_logic.store.duckdb_store import (
    DuckDBBatches,
    DuckDBDefinitions,
    DuckDBHistory,
    DuckDBLaunches,
    DuckDBScenarios,
    DuckDBSettings,
)
from kpi_logic.store.postgres import PgConnection, write_lock

# The columns of the staged history a server needs, with their SQL types.
_PARSED_COLUMNS = {"metric": "varchar", "obs_date": "date", "dimension": "varchar",
                   "campaign": "varchar", "value": "double precision"}
_COPY_CHUNK_BYTES = 1 << 20


def copy_parsed(staging: duckdb.DuckDBPyConnection, con: PgConnection) -> int:
    """Copy the staged history's values (PARSED, rows with a value) into a temporary
    table of the same name on the server, with COPY; returns the rows copied."""
    table = writes_history.PARSED
    columns = _staged_columns(staging)
    con.execute(f"drop table if exists {table}")
    con.execute(f"create temp table {table} ("
                + ", ".join(f"{c} {_PARSED_COLUMNS[c]}" for c in columns)
                + ", bad_value boolean not null default false) on commit drop")
    names = ", ".join(columns)
    return _copied(staging, con, f"select {names} from {table} where value is not null",
                   f"{table} ({names})")


def copy_first_import(staging: duckdb.DuckDBPyConnection, con: PgConnection,
                      batch_id: int) -> int:
    """Copy the staged history's values straight into observations under
    `batch_id` (a first import: none of its metrics has a current row, so
    every value is new); returns the rows inserted."""
    names = ", ".join(_staged_columns(staging))
    # In the order of the server's index (metric, obs_date): its pages fill one
    # after another instead of all at once (a quarter less time), and a metric's
    # rows sit together in the table, fewer pages for a roll-up to read.
    return _copied(staging, con, f"select {names}, cast(? as integer) from "
                                 f"{writes_history.PARSED} where value is not null "
                                 "order by metric, obs_date",
                   f"observations ({names}, batch_id)", [batch_id])


def _staged_columns(staging: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of _PARSED_COLUMNS that the staged history has (campaign only
    when its file has one)."""
    table = writes_history.PARSED
    staged = [d[0] for d in staging.execute(f"select * from {table} limit 0").description]
    return [c for c in _PARSED_COLUMNS if c in staged]


def _copied(staging: duckdb.DuckDBPyConnection, con: PgConnection, select: str, target: str,
            params: list | None = None) -> int:
    """The rows of `select` (on staging) written into `target` (a server table and
    its columns) with COPY, through a CSV file; returns the rows copied."""
    with tempfile.TemporaryDirectory(prefix="lodestar-copy-") as folder:
        path = Path(folder) / "rows.csv"
        # DuckDB writes each double in its shortest exact form, '' as "" and
        # null as nothing: PostgreSQL's CSV reads them back the same.
        staging.execute(f"copy ({select}) to '{path}' (format csv, header false)", params or [])
        with con.raw.cursor() as cursor:
            with cursor.copy(f"copy {target} from stdin (format csv)") as copy:
                with open(path, "rb") as source:
                    while chunk := source.read(_COPY_CHUNK_BYTES):
                        copy.write(chunk)
            return cursor.rowcount


class PostgresHistory(DuckDBHistory):
    """History on the server; the staged file's rows arrive by copy_parsed."""

    # A first import is checked in staging and copied like any other: the
    # server never holds rows that were not checked.
    stores_before_checking = False

    def __init__(self, con: PgConnection, staging: Callable[[], duckdb.DuckDBPyConnection]):
        super().__init__(con)
        self._staging = staging
        self.copied = False

    def breakdown_clashes(self, campaign: bool) -> tuple[list[tuple], int]:
        # Every history import asks this after its checks, inside the run's
        # transaction (which holds the write lock), with PARSED final. With no
        # current row for its metrics nothing can clash, and upsert_observations
        # copies the values straight into observations; else the copy made here
        # is the one upsert_observations applies.
        # A copy left by an earlier file of the run (one skipped as already
        # imported) is never this file's.
        self.copied = False
        if not self.has_current_rows(self._staged_metrics()):
            return [], 0
        copy_parsed(self._staging(), self._con)
        self.copied = True
        return history_refusals.breakdown_clashes(self._con, campaign)

    def _staged_metrics(self) -> list[str]:
        return [row[0] for row in self._staging().execute(
            f"select distinct metric from {writes_history.PARSED} "
            "where value is not null").fetchall()]

    def insert_first_import(self, source: writes_history.HistorySource, batch_id: int) -> int:
        raise NotImplementedError("a server's imports are checked before they are stored")

    def upsert_observations(self, batch_id: int, metrics: list[str],
                            campaign: bool = False) -> tuple[int, int, int]:
        try:
            if not self.copied and not self.has_current_rows(metrics):
                return copy_first_import(self._staging(), self._con, batch_id), 0, 0
            if not self.copied:
                copy_parsed(self._staging(), self._con)
            return writes_history.upsert_observations(self._con, batch_id, metrics, campaign)
        finally:
            self.copied = False


class PostgresStore:
    """The Store (store/api.py) of one connection to a PostgreSQL server."""

    def __init__(self, connection: PgConnection, *, wait_seconds: float | None = None):
        self.connection = connection
        self._staging: duckdb.DuckDBPyConnection | None = None
        self._wait = db.LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
        self.batches = DuckDBBatches(connection)
        self.definitions = DuckDBDefinitions(connection)
        self.history = PostgresHistory(connection, lambda: self.staging)
        self.launches = DuckDBLaunches(connection)
        self.scenarios = DuckDBScenarios(connection)
        self.settings = DuckDBSettings(connection)

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB database where files are staged and checked (made
        on first use: a page that only reads never needs one)."""
        if self._staging is None:
            self._staging = db.memory_connection()
            # An in-memory database has nowhere to spill a large file's tables
            # unless it is given a folder, as a DuckDB file has beside it.
            folder = Path(tempfile.gettempdir()) / "lodestar-staging"
            self._staging.execute("set temp_directory = ?", [str(folder)])
        return self._staging

    def transaction(self, keep: bool = True) -> AbstractContextManager[PgConnection]:
        self.history.copied = False
        return write_lock(self.connection, self._wait, keep)

    def close(self) -> None:
        if self._staging is not None:
            self._staging.close()
        self.connection.close()


__all__ = ["PostgresStore", "copy_first_import", "copy_parsed"]
