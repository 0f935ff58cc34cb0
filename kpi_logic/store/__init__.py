"""The one place where SQL lives. Engine modules call these functions; they
never build SQL text themselves. Submodules by area:

- db: opening the file, schema and migrations, transactions, identifier quoting
- definitions: reading the current metrics, KPIs, targets, key results, launches
- staging: loading a file's rows into a temporary all-text table, and the
  SQL expressions that parse numbers and dates
- writes: versioned upserts of observations and definitions, batches, undo
- rollups: aggregating history to periods
"""
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

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "connect", "database_path", "ensure_schema",
           "has_history", "memory_connection", "quote_identifier", "schema_version", "set_setting",
           "setting", "transaction"]
