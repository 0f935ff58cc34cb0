"""The one place where SQL lives. The engine receives a Store (api.py), opened
with `open_store`, and never sees a connection or builds SQL text. Submodules:

- api: the Store protocol and its groups; duckdb_store and postgres_store: its
  implementations over a DuckDB file and a PostgreSQL server (postgres: connecting,
  and the connection with DuckDB's shape); opening: open_store; locations: which
  database to open, and how to show its location

- db: opening the file, schema and migrations, transactions, identifier quoting
- definitions: reading the current metrics, KPIs, targets, key results, launches
- staging: loading a file's rows into a temporary all-text table, and the
  SQL expressions that parse numbers and dates
- writes: versioned upserts of observations and definitions, batches, undo
- rollups: aggregating history to periods
"""
from kpi_logic.store.api import Store
from kpi_logic.store.db import (
                 SCHEMA_VERSION,
                 connect,
                 ensure_schema,
                 has_history,
                 memory_connection,
                 quote_identifier,
                 schema_version,
                 set_setting,
                 setting,
                 transaction,
)
from kpi_logic.store.locations import (
                 DEFAULT_DB,
                 database_location,
                 database_path,
                 is_server_url,
                 redacted,
)
from kpi_logic.store.opening import memory_store, open_store

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "Store", "connect", "database_path", "ensure_schema",
           "database_location", "has_history", "is_server_url", "memory_connection", "memory_store",
           "open_store", "quote_identifier", "redacted", "schema_version", "set_setting", "setting", "transaction"]
