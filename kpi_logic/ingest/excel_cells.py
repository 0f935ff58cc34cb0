"""Excel cells as canonical text, a column at a time.

A sheet's data rows become staging frames of text: numbers as repr(float)
(integers bare), dates ISO, serials in date columns resolved with the
workbook's date system, text as written. With `numbers`, a column of numbers
only (blank cells aside) stays a float64 array, NaN where blank: the staging
table's text comes from it in SQL by the same rule (staging.load_frame), a
million Python strings fewer for a 30-column sheet. cell_text says it for one cell and
is the rule; record_frames gives the same text for a chunk of rows column by
column: it sorts a column's cells by type in one pass and converts each kind
with numpy or one C-level map (a 30-column sheet of 30,000 rows would
otherwise cost a million Python calls). Rare kinds (booleans, durations,
date-times as serials) go through cell_text one by one. When a chunk holds
bad cells, the one refused is the one the row-by-row reading meets first.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice, repeat
from operator import methodcaller

import numpy
import pandas

from kpi_logic.domain import vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import FIRST_DATE, LAST_DATE

EXCEL_EPOCHS = {False: dt.datetime(1899, 12, 30), True: dt.datetime(1904, 1, 1)}
CHUNK_ROWS = 50_000       # rows staged at a time

# A cell's kind, from its exact type; any other type goes through cell_text.
_EMPTY, _NUMBER, _TEXT, _MOMENT, _OTHER = range(5)
_KINDS = {type(None): _EMPTY, float: _NUMBER, int: _NUMBER, str: _TEXT,
          dt.date: _MOMENT, dt.datetime: _MOMENT, dt.time: _MOMENT}
_ISO = methodcaller("isoformat")


def column_label(position: int) -> str:
    """Spreadsheet letters for a 0-based column position (0 -> A, 27 -> AB)."""
    label = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        label = chr(65 + rest) + label
    return label


def sheet_records(rows, header_index: int, keep: list[tuple[int, str]], date1904: bool,
                  name: str, sheet: str) -> list[list]:
    """[row number, cell text per `keep` column] for each data row below the header
    (record_frames as lists)."""
    return [[line, *cells] for frame in record_frames(rows, header_index, keep, date1904,
                                                      name, sheet)
            for line, *cells in frame.itertuples(index=False, name=None)]


def record_frames(rows, header_index: int, keep: list[tuple[int, str]], date1904: bool,
                  name: str, sheet: str, size: int = CHUNK_ROWS, *,
                  numbers: bool = False) -> Iterator[pandas.DataFrame]:
    """The data rows below the header as text frames of at most `size` rows:
    "_line" (the row number) and one object column per `keep` entry
    ((position, normalised name) of the header's named columns), text or None;
    with `numbers`, a column holding only numbers is float64 instead (NaN: blank).

    Rows with every kept cell empty are left out. Refuses a value in a column
    without a header, a serial date outside the accepted range and a NUL
    character. Reads `rows` (any iterable of rows from row 1) as it goes and
    does not mutate them.
    """
    rows = iter(rows)
    for _ in islice(rows, header_index + 1):
        pass
    first = header_index + 1
    while chunk := list(islice(rows, size)):
        frame = _chunk_frame(chunk, first, keep, date1904, name, sheet, numbers)
        first += len(chunk)
        if len(frame):
            yield frame


def _chunk_frame(chunk: list[list], first: int, keep: list[tuple[int, str]], date1904: bool,
                 name: str, sheet: str, numbers: bool = False) -> pandas.DataFrame:
    """The text frame of `chunk`, whose first row has 0-based index `first`."""
    width = max(max(map(len, chunk)), max((p + 1 for p, _ in keep), default=0))
    cells = numpy.empty((len(chunk), width), dtype=object)
    if width:
        # Rows from calamine share its range's width; put-back rows may be shorter.
        cells[:] = [row if len(row) == width else row + [""] * (width - len(row))
                    for row in chunk]
    else:
        cells[:] = ""
    where = (name, sheet, first)
    texts, refusals, filled = {}, [], numpy.zeros(len(chunk), dtype=bool)
    for order, (position, column) in enumerate(keep):
        text, refused = _column_text(cells[:, position], column, date1904, where, position,
                                     numbers)
        texts[column] = text
        filled |= ~numpy.isnan(text) if text.dtype == numpy.float64 else numpy.not_equal(text, None)
        if refused is not None:
            refusals.append((refused[0], order, refused[1]))
    kept = {p for p, _ in keep}
    for position in (p for p in range(width) if p not in kept):
        stray = _first_stray(cells[:, position])
        if stray is not None:
            refusals.append((stray, len(keep), _stray_refusal(position, first + stray, name, sheet)))
    if refusals:
        raise min(refusals, key=lambda r: r[:2])[2]
    lines = numpy.arange(first + 1, first + 1 + len(chunk))
    # object, not pandas' string dtype: that would turn None into NaN.
    frame = {"_line": pandas.Series(lines[filled]),
             **{c: pandas.Series(t[filled], dtype=t.dtype) for c, t in texts.items()}}
    return pandas.DataFrame(frame, columns=["_line", *texts])


def _column_text(cells: numpy.ndarray, column: str, date1904: bool, where: tuple,
                 position: int, numbers: bool = False
                 ) -> tuple[numpy.ndarray, tuple[int, InputError] | None]:
    """(each cell's text or None, (row in chunk, refusal) of the first bad cell or None);
    with `numbers`, a column of numbers and blanks as float64 (NaN: blank) instead."""
    kinds = numpy.fromiter(map(_KINDS.get, map(type, cells), repeat(_OTHER)),
                           dtype=numpy.int8, count=len(cells))
    if numbers and column not in vocabulary.SERIAL_DATE_COLUMNS:
        values = _number_column(cells, kinds)
        if values is not None:
            return values, None
    text = numpy.full(len(cells), None, dtype=object)
    refused = []
    at = numpy.flatnonzero(kinds == _TEXT)
    if len(at):
        _put_texts(text, at, cells[at], refused, column, where)
    at = numpy.flatnonzero(kinds == _NUMBER)
    if len(at):
        numbers = cells[at].astype(numpy.float64)
        if column in vocabulary.SERIAL_DATE_COLUMNS:
            _put_serial_dates(text, at, numbers, date1904, refused, column, where, position)
        else:
            text[at] = number_texts(numbers)
    at = numpy.flatnonzero(kinds == _MOMENT)
    if len(at):
        text[at] = list(map(_ISO, cells[at]))
    for row in numpy.flatnonzero(kinds == _OTHER):
        _put_one(text, int(row), cells[row], refused, column, where, position, date1904)
    return text, min(refused, key=lambda r: r[0]) if refused else None


def _number_column(cells: numpy.ndarray, kinds: numpy.ndarray) -> numpy.ndarray | None:
    """The column as float64 (NaN: blank) when it holds numbers and blank cells
    only (calamine's "" or None); None otherwise."""
    number = kinds == _NUMBER
    rest = ~number
    if not number.any() or (kinds[rest] > _TEXT).any():
        return None
    text = rest & (kinds == _TEXT)
    if text.any() and any(map(str.strip, cells[text])):
        return None
    values = numpy.full(len(cells), numpy.nan)
    values[number] = cells[number].astype(numpy.float64)
    return None if numpy.isnan(values[number]).any() else values


def number_texts(numbers: numpy.ndarray) -> list[str]:
    """cell_text of each number: integers below 1e15 bare, others repr(float)."""
    whole = (numbers == numpy.trunc(numbers)) & (numpy.abs(numbers) < 1e15)
    if whole.all():
        return list(map(str, numbers.astype(numpy.int64).tolist()))
    out = numpy.array(list(map(repr, numbers.tolist())), dtype=object)
    if whole.any():
        out[whole] = list(map(str, numbers[whole].astype(numpy.int64).tolist()))
    return list(out)


def _put_texts(text: numpy.ndarray, at: numpy.ndarray, values: numpy.ndarray, refused: list,
               column: str, where: tuple) -> None:
    """Text cells as written; blank ones stay None, one with a NUL is refused."""
    written = numpy.fromiter(map(bool, map(str.strip, values)), dtype=bool, count=len(values))
    text[at[written]] = values[written]
    if "\x00" in "".join(values[written]):
        row = next(int(r) for r, v in zip(at[written], values[written], strict=True) if "\x00" in v)
        _put_one(text, row, text[row], refused, column, where, 0, False)


def _put_serial_dates(text: numpy.ndarray, at: numpy.ndarray, serials: numpy.ndarray,
                      date1904: bool, refused: list, column: str, where: tuple,
                      position: int) -> None:
    """Serials in a date column as ISO dates (_serial_date's rule); whole days at
    once, times of day and serials outside the accepted dates one by one."""
    epoch = EXCEL_EPOCHS[date1904]
    low = (dt.datetime.combine(FIRST_DATE, dt.time()) - epoch).days
    high = (dt.datetime.combine(LAST_DATE, dt.time()) - epoch).days + 1
    days = (serials == numpy.floor(serials)) & (serials >= low) & (serials < high)
    if days.any():
        dates = numpy.datetime64(epoch.date(), "D") + serials[days].astype(numpy.int64)
        text[at[days]] = numpy.datetime_as_string(dates, unit="D").tolist()
    for row, serial in zip(at[~days], serials[~days], strict=True):
        _put_one(text, int(row), float(serial), refused, column, where, position, date1904)


def _put_one(text: numpy.ndarray, row: int, value, refused: list, column: str, where: tuple,
             position: int, date1904: bool) -> None:
    """cell_text of one cell into `text`, or its refusal appended to `refused`."""
    name, sheet, first = where
    try:
        text[row] = cell_text(value, column, date1904, name, sheet, first + row, position)
    except InputError as exc:
        refused.append((row, exc))


def _first_stray(cells: numpy.ndarray) -> int | None:
    """The first row with a value in a column without a header (None when there is none)."""
    filled = numpy.fromiter(map(bool, map(str.strip, map(str, cells))), dtype=bool,
                            count=len(cells))
    return int(filled.argmax()) if filled.any() else None


def _stray_refusal(position: int, index: int, name: str, sheet: str) -> InputError:
    return InputError(f"cell {column_label(position)}{index + 1} has a value but its column has "
                      "no header; give the column a header or delete it",
                      file=name, sheet=sheet, row=index + 1)


def cell_text(value, column: str, date1904: bool, name: str, sheet: str, index: int,
              position: int) -> str | None:
    """A cell as canonical text: numbers as repr(float) (integers bare), dates ISO."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if column in vocabulary.SERIAL_DATE_COLUMNS:
            return _serial_date(float(value), date1904, name, sheet, index, position)
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    return checked_text(str(value), file=name, sheet=sheet, row=index + 1, column=column)


def checked_text(text: str, **where) -> str:
    """`text` from a cell; refuses a NUL character. A workbook writes one as
    _x0000_ and python-calamine turns that back into the character, which
    PostgreSQL cannot store in text (and no one means in a name or a label)."""
    if "\x00" in text:
        raise InputError("the cell holds a NUL character (written _x0000_ in the workbook's "
                         "XML), which Lodestar does not store; delete it from the cell", **where)
    return text


def _serial_date(serial: float, date1904: bool, name: str, sheet: str, index: int,
                 position: int) -> str:
    epoch = EXCEL_EPOCHS[date1904]
    # Checked as a number first: a serial past 2958465 is past any date Python holds.
    if not (dt.datetime.combine(FIRST_DATE, dt.time()) - epoch).days <= serial < \
            (dt.datetime.combine(LAST_DATE, dt.time()) - epoch).days + 1:
        raise InputError(f"cell {column_label(position)}{index + 1} holds {serial:.10g}, which as "
                         f"a date is outside the dates Lodestar accepts ({FIRST_DATE:%Y-%m-%d} to "
                         f"{LAST_DATE:%Y-%m-%d}); enter a real date",
                         file=name, sheet=sheet, row=index + 1)
    moment = epoch + dt.timedelta(days=serial)
    if moment.time() == dt.time(0):
        return moment.date().isoformat()
    return moment.replace(microsecond=0).isoformat()


def _duration_text(value: dt.timedelta) -> str:
    """255:10:10 for a 255-hour duration (never wrapped to a time of day)."""
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{int(hours)}:{int(minutes):02d}:{int(seconds):02d}"
    fraction = round(seconds - int(seconds), 6)
    return text + (f"{fraction:.6f}".rstrip("0")[1:] if fraction else "")
