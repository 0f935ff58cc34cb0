"""The CSV half of reading: a CSV's encoding, its rows per delimiter, loading it
through DuckDB's read_csv and its decimal mark.

reading.read_tables stays the one entry point: it finds the header (trying
each delimiter) and builds the RawTable. This module knows only the CSV text.
A CSV never passes through pandas: Python looks at the first 64 KB to find the
encoding, delimiter and header, DuckDB's read_csv (strict) loads the rest.

Decisions users can rely on:
- "_line" is the CSV line as an editor shows it while no record spans lines
  and no blank line sits between data rows (after one, it counts records).
- UTF-8 (with or without BOM) and UTF-16 with BOM are read; anything else is
  refused, never decoded with replacement characters.
- In a ";" or tab file, decimal commas ("5,5") or dot thousands groups ("1.234")
  make every number decimal-comma; if the file also has dot decimals ("5.5")
  it is refused, naming a line of each. Comma-separated files use dots.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from .errors import InputError
from .reading_excel import column_label
from .store import staging

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
CSV_HELP = "save it from your spreadsheet as 'CSV UTF-8' and upload it again"


def refuse_non_csv(head: bytes, name: str) -> None:
    """Refuses (InputError) a file whose first bytes show it is not a text CSV:
    empty, gzip, old or protected Excel, binary."""
    if name.lower().endswith((".xlsx", ".xlsm")) and not head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("file is empty or not an Excel workbook; save it again as .xlsx",
                         file=name)
    if not head:
        raise InputError("the file is empty; export it again with a header row and data", file=name)
    if head.startswith(b"\x1f\x8b"):
        raise InputError("this is a compressed (.gz) file; unzip it and upload the CSV inside",
                         file=name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        if name.lower().endswith((".xlsx", ".xlsm")):
            raise InputError("workbook is password-protected; remove the password and upload again",
                             file=name)
        raise InputError("this is an old Excel (.xls) workbook or a protected file; open it in "
                         "Excel and save it as .xlsx (without a password) or as CSV UTF-8", file=name)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"this is not a text (CSV) file; {CSV_HELP}", file=name)


@contextmanager
def utf8_file(path: str, name: str, head: bytes) -> Iterator[tuple[str, str]]:
    """(path of a UTF-8 version of the file, decoded text of its first 64 KB).
    Refuses a file that is neither UTF-8 nor UTF-16 with BOM, naming the line."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text": DuckDB reads only UTF-8, so re-encode a copy.
        try:
            text = Path(path).read_bytes().decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"the file says it is UTF-16 but is damaged; {CSV_HELP}",
                             file=name) from None
        fd, temp = tempfile.mkstemp(prefix="lodestar_utf8_", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            yield temp, text[:SNIFF_BYTES]
        finally:
            os.unlink(temp)
        return
    complete = len(head) < SNIFF_BYTES
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        line = head[:exc.start].count(b"\n") + 1
        raise InputError(f"file is not UTF-8; save it as CSV UTF-8 (the first character that is "
                         f"not UTF-8 is on this line)", file=name, row=line) from None
    if not complete:
        text = text[:max(text.rfind("\n"), 0)]
    yield path, text


def sniffed_rows(text: str, delimiter: str, max_rows: int):
    """(up to max_rows rows, last line of each row, (line, problem) of the first
    quoting damage or None)."""
    rows, ends = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            rows.append(row)
            ends.append(reader.line_num)
            if len(rows) >= max_rows:
                break
    except csv.Error as exc:
        start = (ends[-1] if ends else 0) + 1
        if "eof" in str(exc).lower() or "end of data" in str(exc).lower():
            return rows, ends, (start, "a quote opened on this line is never closed")
        return rows, ends, (reader.line_num, "this line has a quote in the middle of a value")
    return rows, ends, None


def quoting_error(problem: str, name: str, line: int) -> InputError:
    """The refusal of a badly quoted record, `problem` as sniffed_rows words it."""
    return InputError(f"{problem}; put quotes only around whole values and double any quote "
                      f"inside a quoted value (\"\"), or {CSV_HELP}", file=name, row=line)


def load_csv(con, path: str, name: str, *, delimiter: str, skip: int, width: int,
             keep: list[tuple[int, str]]) -> tuple[str, int]:
    """(staging table, rows) of the UTF-8 file at `path` after its first `skip`
    lines. Refuses ragged rows, bad quoting and bad UTF-8 (naming the line)."""
    table = staging.new_table_name()
    try:
        n_rows = staging.load_csv(con, path, table=table, delimiter=delimiter,
                                  skip=skip, width=width, keep=keep, first_line=skip + 1)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        staging.drop_table(con, table)
        raise _csv_error(exc, path, name, delimiter) from None
    return table, n_rows


def check_blank_columns(con, table: str, cells, first_line: int, name: str) -> None:
    """Refuse data sitting under a blank header cell (it would be dropped silently)."""
    blank = [i for i in range(len(cells)) if not str(cells[i]).strip()]
    found = staging.first_filled_cell(con, table, blank, first_line) if blank else None
    if found:
        raise InputError(f"column {column_label(found[0])} has values but no header; give it a "
                         "header or delete it", file=name, row=found[1])


def decimal_comma(con, table: str, numbers: list[str], *, dot_groups: bool, name: str) -> bool:
    """Whether the number cells of `table` use a decimal comma; refuses a file
    mixing both marks, naming a line of each.

    With `dot_groups` (";" or tab files) "1.234" is European thousands grouping,
    evidence of a decimal comma just as "5,5" is.
    """
    comma, dot = staging.decimal_evidence(con, table, numbers, dot_groups=dot_groups)
    if comma is None:
        return False
    if dot:
        _, comma_line, comma_text = comma
        column, line, text = dot
        mark = "a decimal comma" if "," in comma_text else "dots between thousands"
        doubt = "can only be a decimal dot" if dot_groups else \
            "has a single dot and no comma, so it could mean a decimal or a thousands separator"
        raise InputError(
            f"numbers here use {mark} ('{comma_text.strip()}' on line {comma_line}), but "
            f"'{text.strip()}' on this line {doubt}; write every number the same way",
            file=name, row=line, column=column)
    return True


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _csv_error(exc: Exception, path: str, name: str, delimiter: str) -> InputError:
    """The DuckDB read error `exc` worded for the person who uploaded the file."""
    message = str(exc)
    line = _LINE.search(message)
    fields = _FIELDS.search(message)
    if fields and line:
        expected, got = fields.groups()
        return InputError(f"this line has {got} fields but the header has {expected}; check for a "
                          "missing or extra separator, or quote values that contain one",
                          file=name, row=int(line.group(1)))
    if "unicode" in message.lower():
        return InputError("file is not UTF-8; save it as CSV UTF-8", file=name,
                          row=int(line.group(1)) if line else None)
    bad_line, problem = _quoting_problem(path, delimiter)
    if bad_line:
        return quoting_error(problem, name, bad_line)
    return InputError(f"the file could not be read as CSV ({message.splitlines()[0]}); {CSV_HELP}",
                      file=name, row=int(line.group(1)) if line else None)


def _quoting_problem(path: str, delimiter: str) -> tuple[int | None, str]:
    """(line, what is wrong) for the first badly quoted record, found with Python's strict reader."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if "eof" in str(exc).lower() or "end of data" in str(exc).lower():
                return start, "a quote opened on this line is never closed"
            return reader.line_num, "this line has a quote in the middle of a value"
        except UnicodeDecodeError:
            return None, ""
    return None, ""
