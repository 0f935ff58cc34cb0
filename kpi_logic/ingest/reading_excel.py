"""The Excel half of reading: a workbook's sheets as rows of cells.

reading.read_tables stays the one entry point: it finds each sheet's header
and stages the table. This module knows only the workbook: which sheets to
read (hidden, chart, empty and notes sheets are skipped with a note), the
1904 date system, error cells and formulas without a saved result
(python-calamine turns both into empty strings, so they are put back from the
XML as "#DIV/0!" and "=1+2": an error, never a missing value) and merged
cells. The cells' canonical text (numbers as repr(float), integers bare,
dates ISO, serials in date columns resolved with the workbook's date system)
is excel_cells', made a column at a time.

Before python-calamine opens a workbook, workbook_scan measures it against
limits.py (a zip bomb, a sheet spanning A1:XFD1048576, shared-string
amplification are refused there). Sheets are then read one at a time and
their rows streamed in chunks (excel_cells.CHUNK_ROWS), so memory holds one
sheet's cells and a chunk of them as Python lists, never the whole sheet's.
"""
from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import python_calamine

from kpi_logic.domain import vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.ingest import workbook_scan
from kpi_logic.ingest.excel_cells import column_label

log = logging.getLogger(__name__)

HEAD_ROWS = 30            # rows a header is looked for in (reading.HEADER_SEARCH_ROWS)


@dataclass(frozen=True)
class Sheet:
    name: str
    head: list                # the first HEAD_ROWS rows (see rows())
    merged: tuple             # merged ranges ((row, col), (row, col)), 0-based
    calamine: object          # python-calamine's sheet (holds its cells)
    restored: dict            # (row, col) -> error text or "=formula", put back into rows()

    def rows(self) -> Iterator[list]:
        """Every row from row 1, cells from column A as python-calamine gives them,
        error cells and formulas without a saved result as text. New lists."""
        return _sheet_rows(self.calamine, self.restored)


@dataclass(frozen=True)
class Workbook:
    book: object              # python-calamine's workbook
    names: tuple[str, ...]    # the sheets to look for a header in, in workbook order
    scan: workbook_scan.WorkbookScan
    notes: tuple[str, ...]    # sheets skipped, for the user

    @property
    def date1904(self) -> bool:
        return self.scan.date1904


def open_workbook(path: str, name: str, sheet: str | None = None) -> Workbook:
    """The workbook, measured (workbook_scan refuses one past limits.py) and opened,
    with the names of its readable sheets (or only `sheet`) and notes on the ones
    skipped: hidden, chart and notes sheets (README, Instructions, ...) unless
    `sheet` names one. Refuses a damaged or password-protected workbook and a
    `sheet` it does not have (naming the sheets it has)."""
    scan = workbook_scan.scanned_workbook(path, name)
    book = _open_workbook(path, name)
    notes, names = [], []
    for meta in _chosen_sheets(book, name, sheet, notes):
        if sheet is None and vocabulary.is_notes_sheet(meta.name):
            notes.append(_notes_skipped(meta.name))
        else:
            names.append(meta.name)
    return Workbook(book, tuple(names), scan, tuple(notes))


def loaded_sheets(workbook: Workbook, name: str, sheet: str | None,
                  notes: list[str]) -> Iterator[Sheet]:
    """Each chosen sheet with cells, loaded one at a time (drop it before the next
    to hold one sheet in memory). An empty sheet gets a note (appended to
    `notes`), or is refused when `sheet` names it."""
    for sheet_name in workbook.names:
        calamine = _loaded_sheet(workbook.book, sheet_name, name)
        scanned = workbook.scan.sheets.get(sheet_name)
        restored = scanned.restored if scanned else {}
        loaded = Sheet(sheet_name, list(islice(_sheet_rows(calamine, restored), HEAD_ROWS)),
                       tuple(calamine.merged_cell_ranges or ()), calamine, restored)
        if first_filled(loaded.rows()) == "nothing":
            if sheet:
                raise InputError("this sheet is empty", file=name, sheet=sheet_name)
            notes.append(f"sheet '{sheet_name}' is empty and was skipped")
        else:
            yield loaded
        # Let go of this sheet's cells before calamine reads the next one.
        del loaded, calamine


def _sheet_rows(calamine, restored: dict) -> Iterator[list]:
    """Rows from row 1 and cells from column A, with the restored cells put back
    (also past calamine's range, where a row or column holds only such cells)."""
    by_row: dict[int, dict[int, str]] = {}
    for (row, col), text in restored.items():
        by_row.setdefault(row, {})[col] = text
    # iter_rows gives rows from the first row but cells from the range's first column.
    lead = [""] * (calamine.start[1] if calamine.start else 0)
    index = -1
    for index, cells in enumerate(calamine.iter_rows()):
        cells = lead + cells if lead else cells
        yield _put_back(cells, by_row[index]) if index in by_row else cells
    for past in range(index + 1, max(by_row, default=-1) + 1):
        yield _put_back([], by_row.get(past, {}))


def _put_back(cells: list, found: dict[int, str]) -> list:
    """`cells` with the restored texts in the cells calamine left empty (a new list)."""
    width = max([len(cells), *(col + 1 for col in found)])
    cells = list(cells) + [""] * (width - len(cells))
    for col, text in found.items():
        if cells[col] in ("", None):
            cells[col] = text
    return cells


def _notes_skipped(sheet: str) -> str:
    return (f"sheet '{sheet}' holds notes or instructions and was skipped; name it with "
            "--sheet to import it")


def notes_note(sheet: Sheet) -> str | None:
    """The note for a sheet without a header whose first filled cell says it is instructions."""
    first = next((str(c) for row in sheet.rows() for c in row
                  if c is not None and str(c).strip()), "")
    return _notes_skipped(sheet.name) if vocabulary.is_notes_text(first) else None


def _open_workbook(path: str, name: str):
    try:
        # From the path, so calamine reads parts from disk instead of a copy of the file.
        return python_calamine.CalamineWorkbook.from_path(path)
    except python_calamine.PasswordError:
        raise InputError("workbook is password-protected; remove the password and upload again",
                         file=name) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # several types for a damaged zip; a Rust panic is a BaseException
        log.info("python-calamine could not open %s", name, exc_info=True)
        raise InputError("file is empty or not an Excel workbook; save it again as .xlsx",
                         file=name) from None


def _loaded_sheet(book, sheet: str, name: str):
    """python-calamine's sheet; refuses one it cannot read (a damaged part)."""
    try:
        return book.get_sheet_by_name(sheet)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's errors and its panics (BaseException) alike
        log.info("python-calamine could not read sheet %r of %s", sheet, name, exc_info=True)
        raise InputError("this sheet is damaged and cannot be read; open the workbook in Excel "
                         "and save it again as .xlsx", file=name, sheet=sheet) from None


def _chosen_sheets(book, name: str, sheet: str | None, notes: list[str]) -> list:
    worksheets = [m for m in book.sheets_metadata
                  if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    if sheet is not None:
        match = [m for m in worksheets if m.name == sheet]
        if not match:
            names = [m.name for m in worksheets]
            close = difflib.get_close_matches(sheet, names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(f"there is no sheet '{sheet}'; the sheets are: "
                             f"{', '.join(names)}.{hint}", file=name)
        return match
    visible = []
    for meta in worksheets:
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            notes.append(f"hidden sheet '{meta.name}' was skipped; name it with --sheet to import it")
        else:
            visible.append(meta)
    return visible


def refuse_unknown_sheets(name: str, unknown: list[tuple[str, str]],
                          recognised: list[tuple[str, str]]):
    """Raise the refusal of a workbook with sheets of no known kind, listing every sheet.

    `unknown` lists (sheet, its first filled row), `recognised` (sheet, kind) of
    the sheets whose header was found.
    """
    found = [f"'{sheet}': no header found (first filled row: {first})" for sheet, first in unknown]
    found += [f"'{sheet}': {kind.replace('_', ' ')}" for sheet, kind in recognised]
    raise InputError(
        f"sheet '{unknown[0][0]}' is neither history nor a definition table, so the workbook was "
        "not imported. Fix or delete that sheet, or import one sheet with --sheet. Expected one of: "
        f"{vocabulary.describe_kinds()}", file=name, sheet=unknown[0][0], problems=found)


def first_filled(rows) -> str:
    """The first row with a filled cell, its cells joined with ", " (at most 120
    characters), or "nothing". Reads `rows` (any iterable) only up to that row."""
    row = next((r for r in rows if any(str(c).strip() for c in r)), [])
    return ", ".join(str(c).strip() for c in row if str(c).strip())[:120] or "nothing"


def merged_notes(merged, header_index: int) -> tuple[str, ...]:
    """A note naming the merged ranges below the header (their other cells read as empty)."""
    in_data = [r for r in merged if r[1][0] > header_index]
    if not in_data:
        return ()
    spans = ", ".join(f"{column_label(a[1])}{a[0] + 1}:{column_label(b[1])}{b[0] + 1}"
                      for a, b in in_data[:5])
    return (f"merged cells in the data ({spans}): only the top-left cell of each holds the value; "
            "the other cells are read as empty",)
