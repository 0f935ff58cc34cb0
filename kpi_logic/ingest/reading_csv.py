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
import mmap
import os
import re
import tempfile
from contextlib import contextmanager
from typing import Iterator

from kpi_logic.domain import limits
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import SNIFF_BYTES, size_text
from kpi_logic.ingest.reading_excel import column_label
from kpi_logic.store import Store, staging
from kpi_logic.store.staging_errors import CsvLoadError

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
    """(path of a UTF-8 version of the file, decoded text of its first SNIFF_BYTES,
    cut after its last whole line). Refuses a file that is neither UTF-8 nor
    UTF-16 with BOM (naming the line), binary data, and a first line longer than
    the sniffed start (naming the limit it passes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text": DuckDB reads only UTF-8, so re-encode a copy, as a stream.
        fd, temp = tempfile.mkstemp(prefix="lodestar_utf8_", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                text = _utf16_copied(path, out, name)
            yield temp, _sniffed_text(text, len(text) < SNIFF_BYTES, name)
        finally:
            os.unlink(temp)
        return
    complete = len(head) < SNIFF_BYTES
    if not complete:
        _refuse_nul_byte(path, name)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        line = head[:exc.start].count(b"\n") + 1
        raise InputError("file is not UTF-8; save it as CSV UTF-8 (the first character that is "
                         "not UTF-8 is on this line)", file=name, row=line) from None
    yield path, _sniffed_text(text, complete, name)


def _utf16_copied(path: str, out, name: str) -> str:
    """Write the UTF-16 file at `path` to `out` as text, a megabyte at a time;
    returns the text of its first SNIFF_BYTES."""
    decoder, start, lines = codecs.getincrementaldecoder("utf-16")(), "", 0
    try:
        with open(path, "rb") as source:
            while chunk := source.read(1024 ** 2):
                text = decoder.decode(chunk)
                if "\x00" in text:
                    raise _nul_refusal(name, lines + text.count("\n", 0, text.index("\x00")) + 1)
                lines += text.count("\n")
                start = start or text[:SNIFF_BYTES]
                out.write(text)
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise InputError(f"the file says it is UTF-16 but is damaged; {CSV_HELP}",
                         file=name) from None
    return start


def _refuse_nul_byte(path: str, name: str) -> None:
    """Refuses a UTF-8 file holding a NUL byte past its sniffed start (there the
    binary-data check finds it), naming its line: DuckDB would read it into a
    cell, and PostgreSQL cannot store it in text. One pass at memory speed."""
    with open(path, "rb") as source, \
            mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = data.find(b"\x00")
        if at >= 0:
            raise _nul_refusal(name, data[:at].count(b"\n") + 1)


def _nul_refusal(name: str, line: int) -> InputError:
    return InputError("this line holds a NUL character (a zero byte), which is not text; "
                      "remove it (a damaged export often leaves one) and import again",
                      file=name, row=line)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _sniffed_text(text: str, complete: bool, name: str) -> str:
    """The sniffed start cut after its last whole line, refused when it holds
    binary data or no whole line at all."""
    controls = _CONTROL.findall(text)
    # A text export has no control characters; one stray (a ^Z at the end) is forgiven.
    if len(controls) > max(3, len(text) // 1000):
        first = _CONTROL.search(text).start()
        raise InputError(f"this is binary data, not a text (CSV) file: it holds {len(controls):,} "
                         f"control characters in its first {size_text(SNIFF_BYTES)}, the first on "
                         f"this line; {CSV_HELP}", file=name, row=text.count("\n", 0, first) + 1)
    if complete:
        return text
    end = max(text.rfind("\n"), text.rfind("\r"))
    if end < 0:
        raise _first_line_too_long(text, name)
    return text[:end]


def _first_line_too_long(text: str, name: str) -> InputError:
    """The refusal of a file whose first line does not end within SNIFF_BYTES."""
    columns = max(text.count(d) for d in DELIMITERS) + 1
    if columns > limits.MAX_COLUMNS:
        return InputError(f"the first line has at least {columns:,} columns (it goes on past "
                          f"the first {size_text(SNIFF_BYTES)}); Lodestar reads at most "
                          f"{limits.MAX_COLUMNS:,} columns: split the file", file=name, row=1)
    return InputError(f"the first line is longer than {size_text(SNIFF_BYTES)}, the most a header "
                      "line may take; a header names columns in a few words each. Check that "
                      "this is the right file", file=name, row=1)


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
        if "field limit" in str(exc):
            return rows, ends, (reader.line_num, _LONG_CELL)
        if "eof" in str(exc).lower() or "end of data" in str(exc).lower():
            return rows, ends, (start, "a quote opened on this line is never closed")
        return rows, ends, (reader.line_num, "this line has a quote in the middle of a value")
    return rows, ends, None


_LONG_CELL = "long cell"      # a "problem" of sniffed_rows that is no quoting problem


def quoting_error(problem: str, name: str, line: int) -> InputError:
    """The refusal of a badly quoted record, `problem` as sniffed_rows words it."""
    if problem == _LONG_CELL:
        return cell_too_long(name, line)
    return InputError(f"{problem}; put quotes only around whole values and double any quote "
                      f"inside a quoted value (\"\"), or {CSV_HELP}", file=name, row=line)


# A cell past MAX_CELL_CHARS makes its line longer than this, and lines of real
# exports are far shorter: a first load allows this much, and only a file with a
# longer line is loaded again and has its cells measured (a pass over every cell
# costs a tenth of an import).
SHORT_LINE_BYTES = limits.MAX_CELL_CHARS


def load_csv(store: Store, path: str, name: str, *, delimiter: str, skip: int, width: int,
             keep: list[tuple[int, str]]) -> tuple[str, int, bool]:
    """(staging table, rows, whether a line is longer than SHORT_LINE_BYTES) of the
    UTF-8 file at `path` after its first `skip` lines. Refuses ragged rows, bad
    quoting, bad UTF-8 and a line past MAX_LINE_BYTES (naming the line)."""
    for line_bytes in (SHORT_LINE_BYTES, limits.MAX_LINE_BYTES):
        table = staging.new_table_name()
        try:
            n_rows = staging.load_csv(store.staging, path, table=table, delimiter=delimiter, skip=skip,
                                      width=width, keep=keep, first_line=skip + 1,
                                      max_line_bytes=line_bytes)
            return table, n_rows, line_bytes > SHORT_LINE_BYTES
        except CsvLoadError as exc:
            staging.drop_table(store.staging, table)
            if not (exc.line_too_long and line_bytes == SHORT_LINE_BYTES):
                raise _csv_error(exc, path, name, delimiter) from None
    raise AssertionError("unreachable: the second load returns or raises")


def check_blank_columns(store: Store, table: str, cells, first_line: int, name: str) -> None:
    """Refuse data sitting under a blank header cell (it would be dropped silently)."""
    blank = [i for i in range(len(cells)) if not str(cells[i]).strip()]
    found = staging.first_filled_cell(store.staging, table, blank, first_line) if blank else None
    if found:
        raise InputError(f"column {column_label(found[0])} has values but no header; give it a "
                         "header or delete it", file=name, row=found[1])


def decimal_comma(store: Store, table: str, numbers: list[str], *, dot_groups: bool, name: str) -> bool:
    """Whether the number cells of `table` use a decimal comma; refuses a file
    mixing both marks, naming a line of each.

    With `dot_groups` (";" or tab files) "1.234" is European thousands grouping,
    evidence of a decimal comma just as "5,5" is.
    """
    comma, dot = staging.decimal_evidence(store.staging, table, numbers, dot_groups=dot_groups)
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


def check_cell_lengths(store: Store, table: str, columns: list[str], headers: dict[str, str],
                       name: str) -> None:
    """Refuse a cell longer than MAX_CELL_CHARS (Excel's own limit), naming it
    (one pass over the cells: only for a file with long lines)."""
    found = staging.first_long_cell(store.staging, table, columns, limits.MAX_CELL_CHARS)
    if found:
        column, line, chars = found
        raise InputError(f"this cell holds {chars:,} characters, more than the "
                         f"{limits.MAX_CELL_CHARS:,} a cell can hold in Excel and in Lodestar",
                         file=name, row=line, column=headers.get(column, column))


def cell_too_long(name: str, line: int) -> InputError:
    """The refusal of a line holding a cell past what Python's CSV reader takes."""
    return InputError(f"a cell on this line is longer than {limits.MAX_CELL_CHARS:,} characters, "
                      "the most a cell can hold in Excel and in Lodestar", file=name, row=line)


def _csv_error(exc: CsvLoadError, path: str, name: str, delimiter: str) -> InputError:
    """DuckDB's refusal of the file worded for the person who uploaded it."""
    if exc.fields and exc.line:
        expected, got = exc.fields
        return InputError(f"this line has {got} fields but the header has {expected}; check for a "
                          "missing or extra separator, or quote values that contain one",
                          file=name, row=exc.line)
    if exc.line_too_long:
        return InputError(f"this line is longer than {size_text(limits.MAX_LINE_BYTES)}, the most "
                          f"one line may take (a cell holds at most {limits.MAX_CELL_CHARS:,} "
                          "characters, Excel's own limit); check that this is the right file",
                          file=name, row=exc.line)
    if exc.not_utf8:
        return InputError("file is not UTF-8; save it as CSV UTF-8", file=name, row=exc.line)
    bad_line, problem = _quoting_problem(path, delimiter)
    if bad_line:
        return quoting_error(problem, name, bad_line)
    return InputError(f"the file could not be read as CSV ({str(exc).splitlines()[0]}); {CSV_HELP}",
                      file=name, row=exc.line)


def _quoting_problem(path: str, delimiter: str) -> tuple[int | None, str]:
    """(line, what is wrong) for the first badly quoted record, found with Python's strict reader."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if "field limit" in str(exc):
                return reader.line_num, _LONG_CELL
            if "eof" in str(exc).lower() or "end of data" in str(exc).lower():
                return start, "a quote opened on this line is never closed"
            return reader.line_num, "this line has a quote in the middle of a value"
        except UnicodeDecodeError:
            return None, ""
    return None, ""
