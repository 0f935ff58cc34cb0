"""The Excel half of reading: a workbook's sheets as rows of cells, and cells as text.

reading.read_tables stays the one entry point: it finds each sheet's header
and stages the table. This module knows only the workbook: which sheets to
read (hidden, chart, empty and notes sheets are skipped with a note), the
1904 date system, error cells and formulas without a saved result
(python-calamine turns both into empty strings, so they are put back from the
XML as "#DIV/0!" and "=1+2": an error, never a missing value), merged cells,
and the canonical text of a cell (numbers as repr(float), integers bare,
dates ISO, serials in date columns resolved with the workbook's date system).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import zipfile
from dataclasses import dataclass

import python_calamine

from . import vocabulary
from .errors import InputError

EXCEL_EPOCHS = {False: dt.datetime(1899, 12, 30), True: dt.datetime(1904, 1, 1)}
LAST_SERIAL = {False: 2958465, True: 2957003}     # 9999-12-31 in each date system


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list                # rows of cells as python-calamine gives them, error cells and
                              # formulas without a saved result as text
    merged: tuple             # merged ranges ((row, col), (row, col)), 0-based


@dataclass(frozen=True)
class Workbook:
    sheets: tuple[Sheet, ...]     # the sheets to look for a header in, in workbook order
    date1904: bool
    notes: tuple[str, ...]        # sheets skipped, for the user


def workbook_sheets(path: str, name: str, sheet: str | None = None) -> Workbook:
    """The workbook's readable sheets (or only `sheet`), with notes on the ones skipped.

    Skips hidden, chart and empty sheets, and sheets named as notes (README,
    Instructions, ...), each with a note, unless `sheet` names it. Refuses a
    damaged or password-protected workbook, a `sheet` it does not have (naming
    the sheets it has), and an empty `sheet`.
    """
    book = _open_workbook(path, name)
    date1904, restored = _workbook_xml(path)
    notes, sheets = [], []
    for meta in _chosen_sheets(book, name, sheet, notes):
        if sheet is None and vocabulary.is_notes_sheet(meta.name):
            notes.append(_notes_skipped(meta.name))
            continue
        calamine = book.get_sheet_by_name(meta.name)
        rows = _with_restored(calamine.to_python(skip_empty_area=False),
                              restored.get(meta.name, {}))
        if not any(str(c).strip() for row in rows for c in row):
            if sheet:
                raise InputError("this sheet is empty", file=name, sheet=meta.name)
            notes.append(f"sheet '{meta.name}' is empty and was skipped")
            continue
        sheets.append(Sheet(meta.name, rows, tuple(calamine.merged_cell_ranges or ())))
    return Workbook(tuple(sheets), date1904, tuple(notes))


def _notes_skipped(sheet: str) -> str:
    return (f"sheet '{sheet}' holds notes or instructions and was skipped; name it with "
            "--sheet to import it")


def notes_note(sheet: Sheet) -> str | None:
    """The note for a sheet without a header whose first filled cell says it is instructions."""
    first = next((str(c) for row in sheet.rows for c in row if c is not None and str(c).strip()), "")
    return _notes_skipped(sheet.name) if vocabulary.is_notes_text(first) else None


def _with_restored(rows: list[list], cells: dict[tuple[int, int], str]) -> list[list]:
    """`rows` with the `cells` calamine left empty put back as text ("#DIV/0!", "=1+2").

    A new list, input unchanged; grown when a restored cell lies past calamine's
    range (a last row or column holding only such cells).
    """
    if not cells:
        return rows
    width = max([len(r) for r in rows] + [p + 1 for _, p in cells])
    height = max(len(rows), max(i for i, _ in cells) + 1)
    rows = [list(row) + [""] * (width - len(row)) for row in rows]
    rows += [[""] * width for _ in range(height - len(rows))]
    for (index, position), text in cells.items():
        if rows[index][position] in ("", None):
            rows[index][position] = text
    return rows


def _open_workbook(path: str, name: str):
    try:
        with open(path, "rb") as handle:
            return python_calamine.CalamineWorkbook.from_filelike(handle)
    except python_calamine.PasswordError:
        raise InputError("workbook is password-protected; remove the password and upload again",
                         file=name) from None
    except Exception:  # calamine raises several types for a damaged zip
        raise InputError("file is empty or not an Excel workbook; save it again as .xlsx",
                         file=name) from None


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


def refuse_unknown_sheets(name: str, unknown: list[Sheet], recognised: list[tuple[str, str]]):
    """Raise the refusal of a workbook with sheets of no known kind, listing every sheet.

    `recognised` lists (sheet, kind) of the sheets whose header was found.
    """
    found = [f"'{s.name}': no header found (first filled row: {first_filled(s.rows)})"
             for s in unknown]
    found += [f"'{sheet}': {kind.replace('_', ' ')}" for sheet, kind in recognised]
    raise InputError(
        f"sheet '{unknown[0].name}' is neither history nor a definition table, so the workbook was "
        "not imported. Fix or delete that sheet, or import one sheet with --sheet. Expected one of: "
        f"{vocabulary.describe_kinds()}", file=name, sheet=unknown[0].name, problems=found)


def first_filled(rows) -> str:
    """The first row with a filled cell, its cells joined with ", " (at most 120 characters)."""
    row = next((r for r in rows if any(str(c).strip() for c in r)), [])
    return ", ".join(str(c).strip() for c in row if str(c).strip())[:120] or "nothing"


def _workbook_xml(path: str) -> tuple[bool, dict[str, dict[tuple[int, int], str]]]:
    """(uses the 1904 date system, {sheet: {(row, col): text}}) read from the workbook XML.

    python-calamine turns error cells (#DIV/0!, #N/A) and formulas without a
    saved result (workbooks written by a program, never opened in Excel) into
    empty strings, which would make an error look like a missing value; the
    XML still has the error text and the formula.
    """
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml")
        props = re.search(rb"<workbookPr\b[^>]*>", workbook)
        date1904 = bool(props and re.search(rb'date1904="(1|true)"', props.group(0)))
        restored = {}
        for sheet, member in _sheet_members(archive, workbook).items():
            xml = archive.read(member) if member in archive.namelist() else b""
            found = _error_cells(xml) if b't="e"' in xml else {}
            if b"<f" in xml:
                found.update(_unsaved_formulas(xml))
            if found:
                restored[sheet] = found
    return date1904, restored


def _sheet_members(archive, workbook: bytes) -> dict[str, str]:
    rels = archive.read("xl/_rels/workbook.xml.rels")
    targets = {m.group(1).decode(): m.group(2).decode() for m in re.finditer(
        rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode() for m in re.finditer(
        rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    members = {}
    for m in re.finditer(rb"<sheet\b[^>]*>", workbook):
        tag = m.group(0)
        sheet_name = re.search(rb'name="([^"]*)"', tag)
        rel = re.search(rb'r:id="([^"]*)"', tag)
        if sheet_name and rel and rel.group(1).decode() in targets:
            target = targets[rel.group(1).decode()].lstrip("/")
            member = target if target.startswith("xl/") else "xl/" + target
            members[_xml_text(sheet_name.group(1))] = member
    return members


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    cells = {}
    for m in re.finditer(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', xml, re.S):
        ref = _cell_ref(m.group(1))
        value = re.search(rb"<v>([^<]*)</v>", m.group(2))
        if ref and value:
            cells[ref] = _xml_text(value.group(1))
    return cells


# A formula is the first child of its cell: <c r="C2"><f>1+2</f><v>3</v></c>;
# a shared formula's other cells hold only <f t="shared" si="0"/>.
_FORMULA_CELL = re.compile(rb'<c\b([^>]*?)(?<!/)>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)(.*?)</c>', re.S)


def _unsaved_formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """{(row, col): "=formula"} for formula cells with no saved result (no <v>, or an empty one).

    An empty <v> of a string formula (t="str") is a saved empty text, not a missing result.
    """
    cells = {}
    for m in _FORMULA_CELL.finditer(xml):
        attributes, formula, rest = m.groups()
        value = re.search(rb"<v>([^<]*)</v>", rest)
        saved = value is not None and (value.group(1) != b"" or b't="str"' in attributes)
        ref = _cell_ref(attributes)
        if ref and not saved:
            cells[ref] = "=" + (_xml_text(formula) if formula else "(shared formula)")
    return cells


def _cell_ref(attributes: bytes) -> tuple[int, int] | None:
    """(row, col), 0-based, from a cell's r="C2" attribute."""
    ref = re.search(rb'\br="([A-Z]+)([0-9]+)"', attributes)
    if not ref:
        return None
    col = 0
    for letter in ref.group(1).decode():
        col = col * 26 + ord(letter) - 64
    return int(ref.group(2)) - 1, col - 1


def column_label(position: int) -> str:
    """Spreadsheet letters for a 0-based column position (0 -> A, 27 -> AB)."""
    label = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        label = chr(65 + rest) + label
    return label


def merged_notes(merged, header_index: int) -> tuple[str, ...]:
    """A note naming the merged ranges below the header (their other cells read as empty)."""
    in_data = [r for r in merged if r[1][0] > header_index]
    if not in_data:
        return ()
    spans = ", ".join(f"{column_label(a[1])}{a[0] + 1}:{column_label(b[1])}{b[0] + 1}"
                      for a, b in in_data[:5])
    return (f"merged cells in the data ({spans}): only the top-left cell of each holds the value; "
            "the other cells are read as empty",)


def sheet_records(rows, header_index: int, keep: list[tuple[int, str]], date1904: bool,
                  name: str, sheet: str) -> list[list]:
    """[row number, cell text per `keep` column] for each data row below the header.

    `keep` lists (position, normalised name) of the header's named columns.
    Rows with every kept cell empty are left out. Refuses a value in a column
    without a header and a serial date Excel cannot show. Does not mutate `rows`.
    """
    positions = {p for p, _ in keep}
    records = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        cells = [cell_text(row[p] if p < len(row) else "", column, date1904, name, sheet, index, p)
                 for p, column in keep]
        stray = next((p for p, c in enumerate(row) if p not in positions and str(c).strip()), None)
        if stray is not None:
            raise InputError(f"cell {column_label(stray)}{index + 1} has a value but its column has "
                             "no header; give the column a header or delete it",
                             file=name, sheet=sheet, row=index + 1)
        if any(c is not None for c in cells):
            records.append([index + 1] + cells)
    return records


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
    return str(value)


def _serial_date(serial: float, date1904: bool, name: str, sheet: str, index: int,
                 position: int) -> str:
    if not 0 < serial <= LAST_SERIAL[date1904]:
        raise InputError(f"cell {column_label(position)}{index + 1} holds {serial:.10g}, which is not a "
                         "date Excel can show (out of range); enter a real date",
                         file=name, sheet=sheet, row=index + 1)
    moment = EXCEL_EPOCHS[date1904] + dt.timedelta(days=serial)
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
