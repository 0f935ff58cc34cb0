"""open_store: the one way the dashboard, the CLI and tests open the database."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Iterator

from kpi_logic.domain.errors import InputError
from kpi_logic.store import db
from kpi_logic.store.api import Store
from kpi_logic.store.duckdb_store import DuckDBStore

# The team server (issue 11) stores in PostgreSQL; until then such a URL is
# refused before anything is opened or created. A URL that went through Path()
# has lost one of its slashes ("postgresql:/host/db"), so the scheme is enough.
_SERVER_URL = re.compile(r"^postgres(ql)?:", re.IGNORECASE)


def refuse_server_url(path_or_url: str | os.PathLike | None) -> None:
    """Raise InputError for a database URL this release cannot open yet."""
    text = str(path_or_url or os.environ.get("LODESTAR_DB") or "")
    if _SERVER_URL.match(text):
        raise InputError("A PostgreSQL team server (postgresql://...) is not supported by this "
                         "release of Lodestar yet: give the path of a DuckDB file instead. "
                         "Nothing was opened.")


@contextmanager
def open_store(path_or_url: str | os.PathLike | None = None, *, read_only: bool = False,
               migrate: bool = True, wait_seconds: float | None = None) -> Iterator[Store]:
    """The Store for one unit of work, closed afterwards.

    `path_or_url` is a DuckDB file (default $LODESTAR_DB, else
    data/lodestar.duckdb). The file is created and migrated on first use;
    a locked file is waited for, then refused with DatabaseBusyError.
    read_only opens for viewers; with migrate=False nothing is ever written
    (a missing or older file raises DatabaseSchemaError). See db.connect.
    """
    refuse_server_url(path_or_url)
    with db.connect(path_or_url, read_only=read_only, migrate=migrate,
                    wait_seconds=wait_seconds) as con:
        yield DuckDBStore(con)


def memory_store() -> DuckDBStore:
    """A Store over an empty in-memory database with the current schema (tests,
    previews); close it with .close()."""
    return DuckDBStore(db.memory_connection())
