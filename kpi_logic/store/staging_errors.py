"""DuckDB's CSV read errors turned into facts ingest can word for a user.

Only store/ sees DuckDB's exceptions and their text: staging.load_csv raises
CsvLoadError, whose fields say where and what went wrong.
"""
from __future__ import annotations

import re

import duckdb

# What DuckDB writes when it refuses a CSV (stable across 1.x and 2.x).
_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LINE_SIZE = re.compile(r"Maximum line size of \d+ bytes exceeded")
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")

# The exceptions a refused CSV raises (bad quoting, ragged rows, bad UTF-8, long lines).
CSV_READ_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException)


class CsvLoadError(Exception):
    """A CSV DuckDB could not load. `line` is the file's line (or None), `fields`
    (expected, found) for a ragged row, `line_too_long` when a line passed the
    size allowed, `not_utf8` for an encoding error; str() is DuckDB's message."""

    def __init__(self, message: str):
        super().__init__(message)
        line = _LINE.search(message)
        fields = _FIELDS.search(message)
        self.line: int | None = int(line.group(1)) if line else None
        self.fields: tuple[int, int] | None = (
            (int(fields.group(1)), int(fields.group(2))) if fields else None)
        self.line_too_long = bool(_LINE_SIZE.search(message))
        self.not_utf8 = "unicode" in message.lower()
