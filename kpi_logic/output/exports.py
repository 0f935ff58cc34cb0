"""Tables as files people download: CSV and XLSX bytes of a DataFrame, safe to
open in a spreadsheet, and the files' names.

The dashboard's download buttons (ui/tables.py) hand these the values under a
table (numbers in full, dates as dates, readable column names), never the
text the page shows ("$12.6k").

- CSV: UTF-8 with a byte order mark, lines ending CRLF (RFC 4180). Excel
  reads a CSV without the mark in the computer's legacy code page ("Zürich"
  opens as "ZÃ¼rich"); with it, Excel, LibreOffice, Google Sheets and pandas
  read UTF-8 (pandas drops the mark). A CSV cannot say "this is text", so a
  cell or column name a spreadsheet would run gets the quote prefix of
  `safe_text.spreadsheet_safe_frame` (`safe_text.unquoted_frame` takes it off).
- XLSX (openpyxl): one sheet, its header row bold, frozen and filtered,
  columns as wide as their longest text (at most 60 characters), numbers as
  number cells in their unit's format (0.125 shows 12.5% and stays 0.125),
  dates as date cells, text exactly as stored; text a spreadsheet would run
  is a string cell with Excel's quote prefix (`spreadsheet_safe_workbook`),
  never a formula.
"""
from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import MAX_CELL_CHARS
from kpi_logic.domain.numbers import is_missing
from kpi_logic.domain.safe_text import spreadsheet_safe_frame, spreadsheet_safe_workbook

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's number formats for the engine's units (formatting.py's rules: percent
# values are fractions, durations hours or minutes, money shown as $).
NUMBER_FORMATS = {"number": "General", "count": "#,##0", "currency": '"$"#,##0.00',
                  "percent": "0.0%", "duration": '0.0 "h"',
                  "minutes": '0.0 "min"'}
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384      # a sheet's size in Excel, header row included
WIDEST = 60                                        # characters: a description wraps past it
REPLACEMENT = "\ufffd"                             # for control characters XML cannot hold


@dataclass(frozen=True, eq=False)
class Table:
    """A table to download: its values (column names as people read them)
    and the unit of each numeric column, in NUMBER_FORMATS, either one for the
    column or one per row (a scorecard's Value column holds money, rates and
    counts side by side). Columns without a unit are plain numbers."""
    values: pd.DataFrame
    units: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` (not its index) as CSV bytes, see the module note. Does not mutate `frame`."""
    safe = spreadsheet_safe_frame(_plain(frame))
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, *, units: Mapping[str, str | Sequence[str]] | None = None,
               sheet: str = "Table") -> bytes:
    """`frame` (not its index) as an .xlsx workbook of one sheet named after
    `sheet`, see the module note; `units` as Table's. Refuses a frame larger
    than an Excel sheet (InputError, xlsx_refusal's sentence). Does not mutate `frame`."""
    if refusal := xlsx_refusal(frame):
        raise InputError(refusal)
    plain = _plain(frame)
    book = Workbook()
    ws = book.active
    ws.title = _sheet_title(sheet)
    ws.append([_cell(str(name)) for name in plain.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for number, (name, series) in enumerate(plain.items(), start=1):
        formats = _number_formats(series, (units or {}).get(name))
        widest = len(str(name)) + 2        # room for the filter arrow
        for row, (value, number_format) in enumerate(zip(series, formats, strict=True), start=2):
            cell = ws.cell(row=row, column=number, value=_cell(value))
            if number_format:
                cell.number_format = number_format
            widest = max(widest, _width(cell.value, number_format))
        ws.column_dimensions[get_column_letter(number)].width = min(widest + 2, WIDEST)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    spreadsheet_safe_workbook(book)        # openpyxl writes any text starting "=" as a formula
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def xlsx_refusal(frame: pd.DataFrame) -> str | None:
    """Why `frame` does not fit one Excel sheet, as a sentence; None when it fits."""
    rows, columns = frame.shape
    if rows + 1 > EXCEL_ROWS:
        return (f"This table has {rows:,} rows and an Excel sheet holds {EXCEL_ROWS - 1:,} "
                "below its header: download the CSV instead.")
    if columns > EXCEL_COLUMNS:
        return (f"This table has {columns:,} columns and an Excel sheet holds "
                f"{EXCEL_COLUMNS:,}: download the CSV instead.")
    return None


def file_name(page: str, table: str, day: date, extension: str) -> str:
    """"scorecard-marketing-plain-metrics-2026-12-07.xlsx": page, table and day
    in lowercase ASCII letters, digits and hyphens (accents dropped, other
    characters as one hyphen), so every system and mail filter takes it."""
    parts = [_slug(page), _slug(table), day.isoformat()]
    return "-".join(p for p in parts if p) + "." + extension


def _slug(text: str, most: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:most].strip("-")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with what a spreadsheet cell cannot hold made plain: a list as
    its items joined by "; ", a date-time in a time zone as its wall-clock
    time, fractions of a second dropped."""
    out = frame.copy()
    for name, series in out.items():
        if pd.api.types.is_datetime64_any_dtype(series):
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_localize(None)
            out[name] = series.dt.floor("s")
        elif series.dtype == object and series.map(_is_list).any():
            out[name] = series.map(lambda v: "; ".join(map(str, v)) if _is_list(v) else v)
    return out


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _cell(value):
    """A value as an openpyxl cell value: missing (and infinite) as empty,
    numpy scalars as Python's, text XML can hold cut to Excel's cell limit."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)[:MAX_CELL_CHARS]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, (int, float, np.number)):
        return None if is_missing(value) else value.item() if isinstance(value, np.generic) else value
    if value is None or pd.isna(value):
        return None
    return _cell(str(value))


def _number_formats(series: pd.Series, unit: str | Sequence[str] | None) -> list[str | None]:
    """The number format of each cell of a column: its unit's for numbers,
    a date's for dates (with the time when any cell has one), none for text."""
    if pd.api.types.is_datetime64_any_dtype(series) or series.map(
            lambda v: isinstance(v, date)).any():
        stamps = pd.to_datetime(series, errors="coerce")
        timed = bool((stamps.dropna().dt.time != time(0)).any())
        return [DATETIME_FORMAT if timed else DATE_FORMAT] * len(series)
    units = [unit] * len(series) if unit is None or isinstance(unit, str) else list(unit)
    return [NUMBER_FORMATS.get(u or "number") if isinstance(v, (int, float, np.number))
            and not isinstance(v, (bool, np.bool_)) else None
            for v, u in zip(series, units, strict=True)]


def _width(value, number_format: str | None) -> int:
    """About how many characters a cell shows: its longest line of text."""
    if value is None:
        return 0
    if isinstance(value, (date, datetime)):
        return len(DATETIME_FORMAT if number_format == DATETIME_FORMAT else DATE_FORMAT)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return len(f"{value:,.2f}") + (1 if number_format in ("0.0%", '"$"#,##0.00') else 0)
    return max(len(line) for line in str(value).split("\n"))


def _sheet_title(text: str) -> str:
    # Excel refuses []:*?/\ in a sheet's name, more than 31 characters, and an
    # apostrophe at either end.
    title = re.sub(r"[\[\]:*?/\\]", " ", ILLEGAL_CHARACTERS_RE.sub("", text)).strip(" '")[:31]
    return title.strip(" '") or "Table"
