"""A PostgreSQL server as the database: connecting, and the connection the SQL
modules of store/ talk to.

The SQL in store/ is written once, with `?` parameters, for DuckDB; most of it
is standard SQL that PostgreSQL runs as it is. PgConnection gives a psycopg
connection DuckDB's shape (execute -> fetchall / fetchone / df), so those
modules serve both backends; the few statements that differ are chosen by
`db.is_postgres(con)` where they are.

Each unit of work is one connection. A read-only one is one REPEATABLE READ,
READ ONLY transaction: every query of a page sees the same snapshot, so a
page never shows half of an import committed meanwhile. Writes happen in
explicit transactions under an advisory lock (store/postgres_store.py).
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import psycopg
from psycopg import errors as pg_errors

from kpi_logic.domain.errors import (
    DatabaseBusyError,
    DatabaseSchemaError,
    InputError,
    ReadOnlyDatabaseError,
)
from kpi_logic.store.locations import VIEWER_URL_VARIABLE, redacted

log = logging.getLogger(__name__)

# PostgreSQL type oids whose values DuckDB's df() gives as datetime64 columns.
_DATE_OIDS = {1082, 1114, 1184}
# Seconds to wait for a server that does not answer.
CONNECT_TIMEOUT_SECONDS = 10
# Memory a roll-up of one department's history may sort or hash in before it
# spills to disk (PostgreSQL's default is 4 MB: a year of 10 metrics of 25
# regions spilled and took twice as long). Per sort or hash of a query, for
# this session only; LODESTAR_WORK_MEM changes it (PostgreSQL's units: 64MB).
WORK_MEM = os.environ.get("LODESTAR_WORK_MEM", "64MB")


class DatabaseUnavailableError(InputError):
    """The PostgreSQL server cannot be reached or refuses the login."""


class PgResult:
    """One statement's result, read to the end (DuckDB's result shape)."""

    def __init__(self, cursor: psycopg.Cursor):
        self.description = cursor.description
        if cursor.description is not None:
            self._rows = cursor.fetchall()
        elif (cursor.statusmessage or "").split(" ")[0] in ("INSERT", "UPDATE", "DELETE"):
            # DuckDB answers a change with one row: how many rows it changed.
            self._rows = [(cursor.rowcount,)]
        else:
            self._rows = []
        self._next = 0

    def fetchall(self) -> list[tuple]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def df(self) -> pd.DataFrame:
        names = [d.name for d in self.description or ()]
        frame = pd.DataFrame.from_records(self.fetchall(), columns=names)
        for d in self.description or ():
            if d.type_code in _DATE_OIDS:
                frame[d.name] = pd.to_datetime(frame[d.name])
        return frame


def placeholders(sql: str) -> str:
    """DuckDB's `?` parameters as psycopg's `%s` (a literal % doubled first).
    The SQL of store/ never has a ? inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection (autocommit: transactions are explicit) with the
    part of DuckDB's connection API that store/ uses."""

    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw

    def execute(self, sql: str, params: list | tuple | None = None) -> PgResult:
        try:
            with self.raw.cursor() as cursor:
                if params:
                    cursor.execute(placeholders(sql), list(params))
                else:
                    cursor.execute(sql)
                return PgResult(cursor)
        except (pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege) as exc:
            raise ReadOnlyDatabaseError(
                "This session reads the team database read-only: nothing was written.") from exc

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def _connect(url: str) -> PgConnection:
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                              application_name="lodestar")
    except psycopg.OperationalError as exc:
        # libpq's message names the host and the reason, never the password.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("cannot connect to %s: %s", redacted(url), reason)
        raise DatabaseUnavailableError(
            f"Cannot open the team database {redacted(url)}: {reason}. Nothing was changed; "
            "check that the server runs and the URL in LODESTAR_DATABASE_URL.") from None
    try:
        raw.execute("select set_config('work_mem', %s, false)", [WORK_MEM])
    except psycopg.DataError:
        raw.close()
        raise DatabaseUnavailableError(
            f"LODESTAR_WORK_MEM is {WORK_MEM!r}, which PostgreSQL does not take as an amount "
            "of memory: use a number with kB, MB or GB, such as 64MB.") from None
    return PgConnection(raw)


@contextmanager
def connect(url: str, *, read_only: bool = False, migrate: bool = True,
            wait_seconds: float | None = None) -> Iterator[PgConnection]:
    """A connection for one unit of work, closed afterwards; the schema is created or
    migrated first (under the write lock) unless migrate=False, which writes nothing
    and refuses a server without the current schema with DatabaseSchemaError.
    read_only: one snapshot, read-only; through $LODESTAR_VIEWER_DATABASE_URL when set."""
    from kpi_logic.store import db
    if not migrate and not read_only:
        raise ValueError("migrate=False is for read-only opens")
    wait = db.LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    con = _connect(url)
    try:
        found = db.schema_version(con)
        if found != db.SCHEMA_VERSION:
            if not migrate or found > db.SCHEMA_VERSION:
                raise db.schema_error(redacted(url), found)
            with write_lock(con, wait):
                db.ensure_schema(con, in_transaction=True)
        if read_only:
            viewer = os.environ.get(VIEWER_URL_VARIABLE)
            if viewer:
                con.close()
                con = _connect(viewer)
            con.execute("begin isolation level repeatable read, read only")
        yield con
    finally:
        if not con.raw.closed and con.in_transaction:   # a snapshot, or a failed write's
            con.execute("rollback")
        con.close()


# One key for every Lodestar write on a server: imports, edits, undo and
# migrations take turns. (A 64-bit number: "lodestar" in ASCII.)
WRITE_LOCK_KEY = 0x6C6F6465_73746172


@contextmanager
def write_lock(con: PgConnection, wait_seconds: float,
               keep: bool = True) -> Iterator[PgConnection]:
    """A transaction holding the write lock: committed when the block ends normally
    (rolled back instead with keep=False, a dry run), rolled back otherwise. Another writer holding it longer than `wait_seconds`
    gives DatabaseBusyError (nothing written)."""
    con.execute("begin")
    try:
        con.execute(f"set local lock_timeout = '{max(int(wait_seconds * 1000), 1)}ms'")
        try:
            con.execute("select pg_advisory_xact_lock(?)", [WRITE_LOCK_KEY])
        except pg_errors.LockNotAvailable:
            raise DatabaseBusyError(
                "Another import or edit is being written to the team database and took longer "
                f"than {wait_seconds:g} s. Nothing was changed; try again in a moment.",
                holder="another Lodestar writer", writing=True) from None
        con.execute("set local lock_timeout = 0")
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    else:
        con.execute("commit" if keep else "rollback")


__all__ = ["DatabaseSchemaError", "DatabaseUnavailableError", "PgConnection", "connect",
           "write_lock"]
