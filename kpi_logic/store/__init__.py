"""The one place where SQL lives. The engine receives a Store (api.py), opened
with `open_store`, and never sees a connection or builds SQL text. Submodules:

- api: the Store protocol and its groups; duckdb_store: its DuckDB implementation;
  opening: open_store (refuses a postgresql:// URL until the team server exists)

- db: opening the file, schema and migrations, transactions, identifier quoting
- definitions: reading the current metrics, KPIs, targets, key results, launches
- staging: loading a file's rows into a temporary all-text table, and the
  SQL expressions that parse numbers and dates
- writes: versioned upserts of observations and definitions, batches, undo
- rollups: aggregating history to periods
"""
from kpi_logic.store.api import Store
from kpi_logic.store.db import (
                 DEFAULT_DB,
                 SCHEMA_VERSION,
                 connect,
                 database_path,
                 ensure_schema,
                 has_history,
                 memory_connection,
                 quote_identifier,
                 schema_version,
                 set_setting,
                 setting,
                 transaction,
)
from kpi_logic.store.opening import memory_store, open_store, refuse_server_url

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "Store", "connect", "database_path", "ensure_schema",
           "has_history", "memory_connection", "memory_store", "open_store", "quote_identifier",
           "refuse_server_url", "schema_version", "set_setting", "setting", "transaction"]
