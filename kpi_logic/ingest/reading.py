"""Reading uploaded CSV and Excel files into all-text staging tables.

`read_tables` finds each table's header row, checks the file is readable
(encoding, quoting, ragged rows, size) and leaves the rows in DuckDB as text;
the importer parses numbers and dates with the SQL in store.staging. The CSV
mechanics (encoding, delimiters, DuckDB's read_csv, decimal mark) live in
reading_csv, the workbook mechanics in reading_excel; this module finds the
header and builds the RawTable for both.

Decisions users can rely on:
- "" and an empty field are the same: missing. Rows with every cell empty are
  left out; blank-header columns are dropped when empty and refused otherwise.
- A workbook is all or nothing: one sheet that is neither history nor a
  definition stops it (the error lists every sheet); --sheet picks one.
  Hidden sheets, empty sheets and notes sheets (README, Instructions, ...)
  are skipped with a note, chart sheets skipped.
- Excel error cells arrive as their text ("#DIV/0!"): an error, not a gap.
- The CSV decisions (lines, encodings, decimal mark) are listed in reading_csv.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import pandas

from kpi_logic.domain import limits, vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import SNIFF_BYTES
from kpi_logic.ingest import excel_cells, reading_csv, reading_excel
from kpi_logic.ingest.reading_excel import column_label as _column_label
from kpi_logic.store import Store, staging

# Module names of their own, so a test can lower them (see limits.py for all limits).
MAX_FILE_BYTES = limits.MAX_FILE_BYTES
MAX_ROWS = limits.MAX_ROWS
HEADER_SEARCH_ROWS = reading_excel.HEAD_ROWS


@dataclass(frozen=True)
class RawTable:
    file: str                 # file name as given
    sheet: str | None         # None for CSV
    table: str                # temp table/view in `store.staging`: "_line" + one VARCHAR column per name in `columns`
    columns: tuple[str, ...]  # normalised header names (vocabulary.normalise_header)
    headers: tuple[str, ...]  # header cells as written
    header_row: int           # user-visible row number of the header
    n_rows: int
    decimal_comma: bool       # values use "," as decimal mark ("." groups thousands)
    source: str               # "csv" | "xlsx"
    sha256: str               # of the whole file
    notes: tuple[str, ...] = ()
    kind: str = "unknown"     # vocabulary.classify_columns of the header


@dataclass(frozen=True)
class _Header:
    index: int                # 0-based row index among the rows searched
    cells: tuple[str, ...]    # the whole row as written (leading blanks included)
    kind: str


def read_tables(store: Store, data: bytes | BinaryIO | os.PathLike | str, name: str, *,
                sheet: str | None = None) -> list[RawTable]:
    """One RawTable per recognised table in the file (one for a CSV, one per sheet).

    Refuses (InputError naming the file, sheet, row, column) empty, binary,
    non-UTF-8, gzip, password-protected, ragged or badly quoted files, files
    without a recognisable header, duplicate headers and files over the caps.
    A workbook with any sheet that is neither history nor a definition is
    refused as a whole, listing its sheets, unless `sheet=` picks one; notes
    sheets (README, Instructions, ...) are skipped with a note instead.
    """
    with _local_copy(data, name) as (path, sha256):
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
        if head.startswith(b"PK\x03\x04"):
            return _read_workbook(store, path, name, sha256, sheet)
        reading_csv.refuse_non_csv(head, name)
        if sheet:
            raise InputError(f"--sheet '{sheet}' was given, but this is a CSV file, which has no "
                             "sheets", file=name)
        return [_read_csv(store, path, name, sha256, head)]


@contextmanager
def _local_copy(data, name: str) -> Iterator[tuple[str, Callable[[], str]]]:
    """(path on disk, sha256 getter) for the upload; a temporary copy is deleted afterwards."""
    # Only a real open file may be read from its path: an upload object's .name is
    # just the user's file name and may match an unrelated file in the working folder.
    is_open_file = isinstance(data, (io.BufferedReader, io.FileIO)) and _at_start(data)
    source = data if isinstance(data, (str, os.PathLike)) else \
        getattr(data, "name", None) if is_open_file else None
    if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        size = Path(source).stat().st_size
        _check_size(size, name)
        # Hash in a thread while DuckDB loads the file: both release the GIL.
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(_file_sha256, str(source))
            yield str(source), digest.result
        return
    if isinstance(data, (str, os.PathLike)):
        raise InputError("there is no such file; check the path", file=name)
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    digest = hashlib.sha256()
    fd, temp = tempfile.mkstemp(prefix="lodestar_upload_", suffix=Path(name).suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            written = 0
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                _check_size(written, name)
                digest.update(chunk)
                out.write(chunk)
        yield temp, digest.hexdigest
    finally:
        os.unlink(temp)


def _at_start(handle) -> bool:
    try:
        return handle.tell() == 0
    except (AttributeError, OSError, ValueError):
        return False


def _check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        raise InputError(f"the file is larger than {MAX_FILE_BYTES // 1024 ** 3} GB, the most "
                         "Lodestar imports at once; split it into smaller files", file=name)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_csv(store: Store, path: str, name: str, sha256: Callable[[], str], head: bytes) -> RawTable:
    with reading_csv.utf8_file(path, name, head) as (utf8_path, text):
        delimiter, header, end_line = _csv_header(text, name)
        _check_width(header.cells, name, None, end_line)
        lead = _leading_blanks(header.cells)
        headers, keep = _kept_columns(header.cells, lead, name, None, header_row=end_line)
        table, n_rows, long_lines = reading_csv.load_csv(
            store, utf8_path, name, delimiter=delimiter, skip=end_line, width=len(header.cells),
            keep=keep)
    raw = RawTable(file=name, sheet=None, table=table, columns=tuple(n for _, n in keep),
                   headers=headers, header_row=end_line, n_rows=n_rows, decimal_comma=False,
                   source="csv", sha256=sha256(), kind=header.kind)
    try:
        _check_rows(raw)
        reading_csv.check_blank_columns(store, table, header.cells, end_line + 1, name)
        if long_lines:
            reading_csv.check_cell_lengths(store, table, list(raw.columns),
                                           dict(zip(raw.columns, raw.headers, strict=True)), name)
        if delimiter != ",":
            numbers = list(vocabulary.number_columns(raw.kind, raw.columns))
            if reading_csv.decimal_comma(store, table, numbers, dot_groups=delimiter in (";", "\t"),
                                         name=name):
                raw = replace(raw, decimal_comma=True)
    except InputError:
        staging.drop_table(store.staging, table)
        raise
    return raw


def _csv_header(text: str, name: str) -> tuple[str, _Header, int]:
    """(delimiter, header, last physical line of the header) found in the sniffed
    text: the delimiter under which a known header comes first and widest."""
    found, damage = [], {}
    for delimiter in reading_csv.DELIMITERS:
        rows, ends, damage[delimiter] = reading_csv.sniffed_rows(text, delimiter,
                                                                 HEADER_SEARCH_ROWS)
        header = _header_in(rows, name)
        if header:
            found.append((header.index, -len([c for c in header.cells if c.strip()]),
                          reading_csv.DELIMITERS.index(delimiter), delimiter, header,
                          ends[header.index]))
    if found:
        _, _, _, delimiter, header, end_line = min(found)
        return delimiter, header, end_line
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    likely = max(reading_csv.DELIMITERS, key=first_line.count)
    if damage[likely]:
        line, problem = damage[likely]
        raise reading_csv.quoting_error(problem, name, line)
    raise _no_header(reading_csv.sniffed_rows(text, likely, HEADER_SEARCH_ROWS)[0], name, None)


def _header_in(rows: list[list], name: str | None) -> _Header | None:
    """The first row within HEADER_SEARCH_ROWS that is the header of a known kind."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = tuple(_header_text(c) for c in row)
        named = [c for c in cells if c.strip()]
        kind = vocabulary.classify_columns(named, name) if named else "unknown"
        if kind != "unknown":
            return _Header(index, cells, kind)
    return None


def _header_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    return str(cell)


def _no_header(rows: list[list], name: str, sheet: str | None) -> InputError:
    first = next((r for r in rows if any(str(c).strip() for c in r if c is not None)), None)
    seen = ", ".join(str(c).strip() for c in first if str(c).strip())[:200] if first else "nothing"
    return InputError(
        f"no recognisable header in the first {HEADER_SEARCH_ROWS} rows (the first filled row "
        f"has: {seen}). Expected one of: {vocabulary.describe_kinds()}",
        file=name, sheet=sheet)


def _check_width(cells, name: str, sheet: str | None, header_row: int) -> None:
    if len(cells) > limits.MAX_COLUMNS:
        raise InputError(f"the header has {len(cells):,} columns; Lodestar reads at most "
                         f"{limits.MAX_COLUMNS:,} (a wide file holds one column per metric): split "
                         "the file", file=name, sheet=sheet, row=header_row)


def _leading_blanks(cells) -> int:
    return next((i for i, c in enumerate(cells) if str(c).strip()), len(cells))


def _kept_columns(cells, lead: int, name: str, sheet: str | None, *, header_row: int):
    """(headers as written, [(position, normalised name)]) of the named header cells.

    Refuses two cells with the same normalised name, naming both.
    """
    headers, keep, seen = [], [], {}
    for position in range(lead, len(cells)):
        written = str(cells[position]).strip()
        if not written:
            continue
        excel_cells.checked_text(written, file=name, sheet=sheet, row=header_row,
                                 column=_column_label(position))
        normal = vocabulary.normalise_header(written)
        if normal in seen:
            raise InputError(
                f"two columns have the same header: '{seen[normal][1]}' (column "
                f"{_column_label(seen[normal][0])}) and '{written}' (column {_column_label(position)}); "
                "rename or delete one", file=name, sheet=sheet, row=header_row, column=written)
        seen[normal] = (position, written)
        headers.append(written)
        keep.append((position, normal))
    return tuple(headers), keep


def _check_rows(raw: RawTable) -> None:
    where = dict(file=raw.file, sheet=raw.sheet)
    if raw.n_rows == 0:
        raise InputError("the header is there but no data rows follow it; nothing to import",
                         row=raw.header_row, **where)
    if raw.n_rows > MAX_ROWS:
        raise InputError(f"{raw.n_rows:,} rows is more than the {MAX_ROWS:,} Lodestar imports at "
                         "once; split the file", **where)


# --- Excel (the workbook mechanics are in reading_excel) ---------------------------------

def _read_workbook(store: Store, path: str, name: str, sha256: Callable[[], str],
                   sheet: str | None) -> list[RawTable]:
    """One RawTable per worksheet with a recognised header (see read_tables).
    Sheets are loaded and staged one at a time; once one has no header, the rest
    are only looked at for the refusal's list of sheets."""
    book = reading_excel.open_workbook(path, name, sheet)
    notes, found, unknown, tables = list(book.notes), [], [], []
    try:
        for each in reading_excel.loaded_sheets(book, name, sheet, notes):
            header = _header_in(each.head, each.name)
            skipped = reading_excel.notes_note(each) if header is None and sheet is None else None
            if skipped:
                notes.append(skipped)
            elif header is None:
                unknown.append((each.name, reading_excel.first_filled(each.rows())))
            else:
                found.append((each.name, header.kind))
                if not unknown:
                    tables.append(_sheet_table(store, each, header, name, sha256(), book.date1904))
            del each        # one sheet's cells in memory at a time
        if unknown:
            reading_excel.refuse_unknown_sheets(name, unknown, found)
        if not tables:
            raise InputError("the workbook has no data in any sheet", file=name)
    except InputError:
        for table in tables:
            staging.drop_table(store.staging, table.table)
        raise
    finally:
        book.book.close()
    return [replace(t, notes=tuple(notes) + t.notes) for t in tables]


def _sheet_table(store: Store, sheet: reading_excel.Sheet, header: _Header, name: str, sha256: str,
                 date1904: bool) -> RawTable:
    header_row = header.index + 1
    lead = _leading_blanks(header.cells)
    headers, keep = _kept_columns(header.cells, lead, name, sheet.name, header_row=header_row)
    columns = ["_line"] + [n for _, n in keep]
    table, n_rows = staging.new_table_name(), 0
    try:
        for frame in excel_cells.record_frames(sheet.rows(), header.index, keep, date1904,
                                               name, sheet.name, numbers=True):
            n_rows += staging.load_frame(store.staging, frame, table=table, append=n_rows > 0)
        if n_rows == 0:
            staging.load_frame(store.staging, pandas.DataFrame([], columns=columns, dtype=object),
                               table=table)
        raw = RawTable(file=name, sheet=sheet.name, table=table, columns=tuple(columns[1:]),
                       headers=headers, header_row=header_row, n_rows=n_rows,
                       decimal_comma=False, source="xlsx", sha256=sha256,
                       notes=reading_excel.merged_notes(sheet.merged, header.index),
                       kind=header.kind)
        _check_rows(raw)
    except InputError:
        staging.drop_table(store.staging, table)
        raise
    return raw
