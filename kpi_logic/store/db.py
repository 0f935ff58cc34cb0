"""Everything that touches the database file: opening it, its schema, and
(in the modules named in docs/ARCHITECTURE.md) the SQL that reads and writes it.

DuckDB lets one process write a file at a time. The dashboard and the CLI
share the file, so nobody keeps it open while idle: `connect` is used as a
context manager around one unit of work, and a caller that finds the file
locked retries for a bounded time before giving up with DatabaseBusyError.
"""
from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Iterator

import duckdb

from kpi_logic.domain.errors import DatabaseBusyError, DatabaseSchemaError, ReadOnlyDatabaseError
from kpi_logic.store.locations import DEFAULT_DB, database_path  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 8
LOCK_WAIT_SECONDS = float(os.environ.get("LODESTAR_LOCK_WAIT", "30"))

# Versioned tables: a row is current while superseded_by is null. An import
# that changes a row marks the old one superseded_by=<new batch> and inserts
# the new one, so undoing a batch deletes its rows and clears the marks it set.
SCHEMA_V1 = """
create table if not exists schema_version (version integer not null);

create sequence if not exists batch_ids start 1;

create table if not exists batches (
    id integer primary key,
    run_id integer not null,
    file varchar not null,
    sheet varchar,
    kind varchar not null,
    sha256 varchar,
    imported_at timestamp not null,
    rows integer not null default 0,
    inserted integer not null default 0,
    updated integer not null default 0,
    unchanged integer not null default 0,
    undone_at timestamp
);

create table if not exists observations (
    metric varchar not null,
    obs_date date not null,
    dimension varchar not null default '',
    value double precision not null,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists metrics (
    name varchar not null,
    department varchar,
    unit varchar not null default 'number',
    direction varchar not null default 'up',
    aggregation varchar not null default 'sum',
    formula varchar,
    description varchar not null default '',
    dimension_name varchar,
    inferred boolean not null default false,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists kpis (
    title varchar not null,
    metric varchar not null,
    target double precision not null,
    target_kind varchar not null,
    period varchar not null default 'month',
    department varchar,
    objective varchar,
    owner varchar,
    tolerance double precision not null default 0.1,
    supporting varchar,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists targets (
    kpi varchar not null,
    period varchar not null,
    target double precision not null,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists key_results (
    objective varchar not null,
    title varchar not null,
    metric varchar not null,
    start_value double precision not null,
    target_value double precision not null,
    start_date date not null,
    deadline date not null,
    owner varchar,
    department varchar,
    weight double precision not null default 1.0,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists launches (
    launch varchar not null,
    launch_date date not null,
    department varchar not null default 'Marketing',
    conversion_target double precision,
    cac_target double precision,
    batch_id integer not null,
    superseded_by integer
);

create index if not exists observations_metric_date on observations (metric, obs_date);
"""

# Small facts about this database file (e.g. that its owner chose to start
# empty instead of with the demo company).
SCHEMA_V2 = """
create table if not exists settings (
    key varchar primary key,
    value varchar not null
);
"""

# Saved budget scenarios of a marketing launch. Not versioned by batches:
# undoing an import leaves a team's saved scenarios alone. No foreign key on
# purpose: DuckDB refuses updates to indexed columns of a referenced row,
# and renaming a scenario needs one.
SCHEMA_V3 = """
create sequence if not exists scenario_ids start 1;

create table if not exists scenarios (
    id integer primary key,
    launch varchar not null,
    name varchar not null,
    days integer not null,
    created_at timestamp not null,
    unique (launch, name)
);

create table if not exists scenario_channels (
    scenario_id integer not null,
    channel varchar not null,
    spend_per_day double precision not null,
    new_customers double precision not null,
    purchases double precision,
    visitors double precision,
    primary key (scenario_id, channel)
);
"""

# The (metric, obs_date) index made every import commit rebuild it (about
# 0.4 s per million rows) while roll-ups scan by zone maps and never used it.
SCHEMA_V4 = """
drop index if exists observations_metric_date;
"""

# Campaigns within a channel (a second breakdown of history, '' when none),
# and the date a launch's social promotion started.
SCHEMA_V5 = """
alter table observations add column campaign varchar not null default '';
alter table launches add column promotion_date date;
"""

# A server reads a metric's current rows through an index: the coverage of a
# scorecard's metrics (their latest 61 dates) is a few probes instead of a scan
# of their whole history, a period's roll-up reads that period only, and an
# import learns at once whether its metrics are new. A DuckDB file needs none
# (it skips blocks by their min/max, see V4), so version 6 changes nothing there.
SCHEMA_V6 = ""
SCHEMA_V6_SERVER = """
create index if not exists observations_current on observations (metric, obs_date)
    where superseded_by is null;
"""

# Each entry migrates a database from version N-1 to N. Append, never edit.
# Objectives as definitions of their own, check-ins (notes per KPI or key
# result and period, versioned like every definition) and pinned KPIs.
SCHEMA_V7 = """
create table if not exists objectives (
    objective varchar not null,
    owner varchar,
    department varchar,
    cycle varchar,
    description varchar not null default '',
    parent varchar,
    batch_id integer not null,
    superseded_by integer
);

create table if not exists checkins (
    kind varchar not null,
    objective varchar not null default '',
    title varchar not null,
    period varchar not null,
    note varchar not null,
    confidence varchar,
    checked_by varchar,
    checked_at timestamp not null,
    batch_id integer not null,
    superseded_by integer
);

alter table kpis add column pinned boolean default false;
"""

# A metric's display name: what pages, reports and exports call it ("Chat duration"
# for chat_duration_minutes); its name stays the key that formulas and files use.
SCHEMA_V8 = """
alter table metrics add column label varchar;
"""

MIGRATIONS: dict[int, str] = {1: SCHEMA_V1, 2: SCHEMA_V2, 3: SCHEMA_V3, 4: SCHEMA_V4,
                           5: SCHEMA_V5, 6: SCHEMA_V6, 7: SCHEMA_V7,
                           8: SCHEMA_V8}
# What a PostgreSQL server runs after MIGRATIONS[N]: its physical design only
# (indexes), never a table or column DuckDB lacks.
SERVER_MIGRATIONS: dict[int, str] = {6: SCHEMA_V6_SERVER}


def first(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, or None; the result is read to the end.

    DuckDB 2 keeps a result that was only partly fetched (fetchone) open, and
    then refuses to register a DataFrame on that connection ("unfinished
    result"), so every single-row read goes through here.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                holder = lock_holder(str(exc))
                raise DatabaseBusyError(
                    f"The database {path} is in use by another Lodestar process"
                    + (f" ({holder})" if holder else "")
                    + f" and stayed locked for {wait_seconds:g} s. Nothing was changed; "
                    "try again in a moment.", holder=holder, writing=not read_only) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


# DuckDB names the lock's owner: '... Conflicting lock is held in
# /usr/bin/python3.11 (PID 4242) ...'.
_HOLDER = re.compile(r"lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_holder(message: str) -> str | None:
    """'python3.11, process 4242' from DuckDB's lock error, or None when it
    does not say. Only the program's file name: a page shows it, not paths."""
    found = _HOLDER.search(message)
    if not found:
        return None
    return f"{PurePath(found['program']).name}, process {found['pid']}"


@contextmanager
def connect(path: str | os.PathLike | None = None, *, read_only: bool = False,
            wait_seconds: float | None = None,
            migrate: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database for one unit of work and close it afterwards.

    Creates the file and its schema on first use and migrates an older file.
    A read_only open of a file that does not exist yet falls back to a
    writable open so the schema can be created.

    migrate=False (read_only only) writes nothing, ever: a missing file or
    an older schema is refused with DatabaseSchemaError instead (the
    dashboard's viewers must not change the file, not even to upgrade it).
    A write on a read-only connection raises ReadOnlyDatabaseError.
    """
    db = database_path(path)
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    if not migrate and not read_only:
        raise ValueError("migrate=False is for read-only opens")
    if str(db) != ":memory:":
        if not migrate and not db.exists():
            raise schema_error(db, 0)
        db.parent.mkdir(parents=True, exist_ok=True)
        if read_only and not db.exists():
            read_only = False
    con = _open(db, read_only, wait)
    _quiet(con)
    try:
        if not read_only:
            ensure_schema(con)
            if str(db) != ":memory:":
                reclaim_unused_tail(con, db)
        elif (found := schema_version(con)) != SCHEMA_VERSION:
            if not migrate or found > SCHEMA_VERSION:
                raise schema_error(db, found)
            # An older file is migrated once, writably, before the read.
            con.close()
            con = _open(db, False, wait)
            ensure_schema(con)
            con.close()
            con = _open(db, True, wait)
            _quiet(con)
        yield con
    except duckdb.InvalidInputException as exc:
        if read_only and "read-only mode" in str(exc):
            raise ReadOnlyDatabaseError(
                f"{db} is open read-only here: nothing was written.") from exc
        raise
    finally:
        con.close()


# DuckDB's file: three 4 KB headers, then its blocks.
_HEADER_BYTES = 3 * 4096


def reclaim_unused_tail(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Give back the space a writer killed mid-import left at the end of the file;
    returns the bytes given back.

    DuckDB writes a large insert's rows to the file before it commits
    (optimistic writes). When the process is killed, nothing refers to those
    blocks, but the file keeps them: a kill -9 during a 4-million-row import
    left a 3 MB database at 19 MB. DuckDB cuts the file back to the blocks it
    accounts for whenever a checkpoint writes something, so a writable open of a
    file longer than that makes one (a table created and dropped). Another
    connection's transaction can make the checkpoint wait for a later open.
    """
    size = path.stat().st_size if path.exists() else 0
    row = first(con, "select block_size, total_blocks from pragma_database_size() "
                     "where database_name = current_database()")
    if not row or size <= _HEADER_BYTES + row[0] * (row[1] + 1):
        return 0
    try:
        con.execute("create table _lodestar_reclaim as select 1 as one")
        con.execute("drop table _lodestar_reclaim")
        con.execute("checkpoint")
    except duckdb.Error:
        log.info("could not reclaim %s bytes at the end of %s; a later open will", size, path,
                    exc_info=True)
        return 0
    return size - path.stat().st_size


def memory_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the current schema (tests, previews)."""
    con = duckdb.connect(":memory:")
    _quiet(con)
    ensure_schema(con)
    return con


def _quiet(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB draws a progress bar on stdout for long queries; the CLI's output
    # (tables, JSON lines) must stay clean.
    con.execute("set enable_progress_bar = false")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first(con, "select count(*) from information_schema.tables "
                        "where table_name = 'schema_version' "
                        "and table_schema = current_schema()")[0]
    if not exists:
        return 0
    row = first(con, "select max(version) from schema_version")
    return int(row[0] or 0)


def schema_error(db: Path | str, found: int) -> DatabaseSchemaError:
    if found > SCHEMA_VERSION:
        text = (f"{db} was written by a newer Lodestar (schema {found}, this release "
                f"knows {SCHEMA_VERSION}). Upgrade Lodestar to open it.")
    elif found == 0:
        text = f"{db} holds no Lodestar data yet: an import or the demo creates it."
    else:
        text = (f"{db} was written by an older Lodestar (schema {found}, this release "
                f"reads {SCHEMA_VERSION}): it must be upgraded, which any writable open "
                "does (an editor's dashboard, or any command of python -m kpi_logic).")
    return DatabaseSchemaError(text, found=found, known=SCHEMA_VERSION)


def ensure_schema(con: duckdb.DuckDBPyConnection, *, in_transaction: bool = False) -> None:
    """Create or migrate the schema to SCHEMA_VERSION, in one transaction (the
    caller's when in_transaction: a server's migration runs under its write lock).
    The same statements serve DuckDB and PostgreSQL."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise schema_error("This database", current)
    if current == SCHEMA_VERSION:
        return
    if in_transaction:
        _migrate(con, current)
        return
    con.execute("begin transaction")
    try:
        _migrate(con, current)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _migrate(con, current: int) -> None:
    for version in range(current + 1, SCHEMA_VERSION + 1):
        statements = MIGRATIONS[version]
        if is_postgres(con):
            statements += SERVER_MIGRATIONS.get(version, "")
        for statement in statements.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute("delete from schema_version")
        con.execute("insert into schema_version values (?)", [version])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection,
                keep: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit when the block ends normally, roll back otherwise.
    keep=False rolls back in any case (a dry run: everything checked, nothing kept)."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    else:
        con.execute("commit" if keep else "rollback")


def is_postgres(con) -> bool:
    """Whether a connection handed to store/'s SQL is a PostgreSQL one
    (store/postgres.py), for the few statements whose SQL differs."""
    return getattr(con, "dialect", "duckdb") == "postgres"


def quote_identifier(name: str) -> str:
    """The one way an identifier reaches SQL text: double-quoted, quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


def setting(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = first(con, "select value from settings where key = ?", [key])
    return row[0] if row else None


def set_setting(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert into settings (key, value) values (?, ?) "
                "on conflict (key) do update set value = excluded.value", [key, value])


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    """True when any batch (import or edit) is in effect."""
    return first(con, "select count(*) from batches where undone_at is null")[0] > 0
