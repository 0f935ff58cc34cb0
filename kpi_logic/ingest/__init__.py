"""Files in, batches out: reading CSV and Excel within limits, staging and
checking them in DuckDB, importing history and definitions as batches, undo,
and the template workbook."""
