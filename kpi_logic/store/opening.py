"""open_store: the one way the dashboard, the CLI and tests open the database,
a DuckDB file or a team's PostgreSQL server (store/locations.py says which)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from kpi_logic.store import db
from kpi_logic.store.api import Store
from kpi_logic.store.duckdb_store import DuckDBStore
from kpi_logic.store.locations import database_location, is_server_url


@contextmanager
def open_store(location: str | os.PathLike | None = None, *, read_only: bool = False,
               migrate: bool = True, wait_seconds: float | None = None) -> Iterator[Store]:
    """The Store for one unit of work, closed afterwards.

    `location` is a DuckDB file or a postgresql:// URL (default: see
    locations.database_location). The schema is created or migrated on first
    use; a locked file (or the server's write lock held by another writer) is
    waited for, then refused with DatabaseBusyError. read_only opens for
    viewers; with migrate=False nothing is ever written (a missing or older
    schema raises DatabaseSchemaError). See db.connect and postgres.connect.
    """
    where = database_location(location)
    if is_server_url(where):
        # psycopg is imported only by those who use a server.
        from kpi_logic.store import postgres
        from kpi_logic.store.postgres_store import PostgresStore
        with postgres.connect(where, read_only=read_only, migrate=migrate,
                              wait_seconds=wait_seconds) as con:
            opened = PostgresStore(con, wait_seconds=wait_seconds)
            try:
                yield opened
            finally:
                opened.close()
        return
    with db.connect(where, read_only=read_only, migrate=migrate,
                    wait_seconds=wait_seconds) as con:
        yield DuckDBStore(con)


def memory_store() -> DuckDBStore:
    """A Store over an empty in-memory database with the current schema (tests,
    previews); close it with .close()."""
    return DuckDBStore(db.memory_connection())
