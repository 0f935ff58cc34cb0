"""A workbook measured before python-calamine opens it.

python-calamine holds a sheet whole: every cell of the rectangle from its
first to its last filled cell, with its own copy of each shared string it
uses. So a 1 KB .xlsx can put two cells at A1 and XFD1048576 (17 billion
cells), and 100 KB of references to one long shared string become 600 MB of
text. Here every part is unpacked as a stream (workbook_zip) and each
sheet's cells are placed as calamine would place them; past a limit of
limits.py the file is refused with a message naming it, before calamine
opens it. The same pass reads what calamine hides: error cells and formulas
without a saved result (it turns both into empty strings) and the 1904
date system.
"""
from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kpi_logic.domain import limits
from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.workbook_zip import Budget, drain, opened_zip, unpacked, whole

# The largest a cell's XML can be with 32,767 characters, each escaped ("&quot;").
_CELL_XML_BYTES = 8 * limits.MAX_CELL_CHARS + 64 * 1024
_METADATA_PARTS = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                   "xl/_rels/workbook.xml.rels", "xl/styles.xml")


@dataclass
class SheetScan:
    """One worksheet as calamine will read it (0-based positions)."""
    last_row: int = -1            # of a filled cell
    last_column: int = -1
    text_chars: int = 0           # characters calamine holds (a shared string at each use)
    restored: dict = field(default_factory=dict)   # (row, col) -> "#DIV/0!" or "=1+2"

    @property
    def cells(self) -> int:
        """The rectangle from A1 to the last filled cell: what calamine allocates, at most."""
        return (self.last_row + 1) * (self.last_column + 1)


@dataclass(frozen=True)
class WorkbookScan:
    date1904: bool
    sheets: dict                  # sheet name -> SheetScan


@dataclass(frozen=True)
class _Context:
    name: str                     # the file, for messages
    sheet: str
    shared: array                 # length of each shared string
    shared_chars: int             # all of them together (calamine holds them all)
    longest_shared: int


def scanned_workbook(path: str, name: str) -> WorkbookScan:
    """The workbook measured part by part (every part, hidden sheets too).

    Refuses (InputError naming the limit) what workbook_zip refuses, metadata
    parts past MAX_XML_PART_BYTES, sheets past MAX_COLUMNS, a workbook past
    MAX_CELLS or MAX_TEXT_CHARS and a cell past MAX_CELL_CHARS; a file that is
    not a workbook as such."""
    with opened_zip(path, name) as archive, open(path, "rb") as handle:
        parts = {info.filename: info for info in archive.infolist()}
        budget = Budget(name)
        metadata = {part: whole(handle, parts[part], budget)
                    for part in _METADATA_PARTS if part in parts}
        if "xl/workbook.xml" not in metadata:
            raise InputError("file is empty or not an Excel workbook; save it again as .xlsx",
                             file=name)
        members = _sheet_members(metadata.get("xl/_rels/workbook.xml.rels", b""),
                                 metadata["xl/workbook.xml"])
        shared = _shared_lengths(handle, parts.get("xl/sharedStrings.xml"), budget)
        scans = {}
        for sheet, member in members.items():
            if member in parts and member not in scans:
                context = _Context(name, sheet, shared, sum(shared), max(shared, default=0))
                scans[member] = _sheet_scan(handle, parts[member], budget, context)
        sheets = {sheet: scans.get(member, SheetScan()) for sheet, member in members.items()}
        _check_workbook(sheets, sum(shared), name)
        for info in parts.values():
            if info.filename not in budget.done:
                drain(handle, info, budget)
    props = re.search(rb"<workbookPr\b[^>]*>", metadata["xl/workbook.xml"])
    date1904 = bool(props and re.search(rb'date1904="(1|true)"', props.group(0)))
    return WorkbookScan(date1904, sheets)


def _sheet_members(rels: bytes, workbook: bytes) -> dict[str, str]:
    """{sheet name: zip part} from the workbook and its relationships."""
    targets = {m.group(1).decode(): m.group(2).decode() for m in re.finditer(
        rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode() for m in re.finditer(
        rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    members = {}
    for m in re.finditer(rb"<sheet\b[^>]*>", workbook):
        sheet_name = re.search(rb'name="([^"]*)"', m.group(0))
        rel = re.search(rb'r:id="([^"]*)"', m.group(0))
        if sheet_name and rel and rel.group(1).decode() in targets:
            target = targets[rel.group(1).decode()].lstrip("/")
            members[xml_text(sheet_name.group(1))] = \
                target if target.startswith("xl/") else "xl/" + target
    return members


def xml_text(raw: bytes) -> str:
    """XML text with its five entities resolved."""
    text = raw.decode("utf-8", errors="replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _pieces(chunks: Iterator[bytes], starts: tuple[bytes, ...],
            too_long: Callable[[bytes], InputError]) -> Iterator[bytes]:
    """The stream cut just before the last element start of each buffer, so each
    piece holds whole elements (what lies outside them, such as merged ranges
    after the cells, passes through). Refuses (too_long(buffer)) an element
    longer than a cell of MAX_CELL_CHARS can be."""
    carry, keep = b"", max(map(len, starts)) - 1
    for chunk in chunks:
        buffer = carry + chunk
        cut = max(buffer.rfind(s) for s in starts)
        if cut < 0:                  # no element here: keep only a start cut in two
            cut = max(len(buffer) - keep, 0)
        elif cut == 0 and len(buffer) > _CELL_XML_BYTES:
            cut = _element_end(buffer, starts)
            if cut < 0:
                raise too_long(buffer)
        if cut > 0:
            yield buffer[:cut]
        carry = buffer[cut:]
    if carry:
        yield carry


_ENDS = {b"<row": b">", b"<c ": b"</c>", b"<c>": b"</c>", b"<si>": b"</si>", b"<si ": b"</si>"}


def _element_end(buffer: bytes, starts: tuple[bytes, ...]) -> int:
    """Where the element starting `buffer` ends (-1 when it does not end in it)."""
    start = next(s for s in starts if buffer.startswith(s))
    tag_end = buffer.find(b">")
    if start == b"<row" or buffer[tag_end - 1:tag_end] == b"/":
        return tag_end + 1 if tag_end > 0 else -1
    end = buffer.find(_ENDS[start])
    return end + len(_ENDS[start]) if end >= 0 else -1


def _cell_too_long(name: str, sheet: str | None, where: str, chars: int | None = None) -> InputError:
    found = f" ({chars:,})" if chars else ""
    return InputError(f"{where} holds more than {limits.MAX_CELL_CHARS:,} characters{found}, the "
                      "most a cell can hold in Excel and in Lodestar", file=name, sheet=sheet)


_SHARED = re.compile(rb"<si\b[^>]*>(.*?)</si>", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_TAGS = re.compile(rb"<[^>]*>")


def _text_length(xml: bytes) -> int:
    """Characters of an XML fragment's text: its byte length (never fewer than its
    characters), made exact only past MAX_CELL_CHARS."""
    if len(xml) <= limits.MAX_CELL_CHARS:
        return len(xml)
    return len(xml_text(_TAGS.sub(b"", _PHONETIC.sub(b"", xml))))


def _shared_lengths(handle, info, budget: Budget) -> array:
    """The length of every shared string, in order."""
    lengths = array("q")
    if info is None:
        return lengths

    def too_long(_: bytes) -> InputError:
        return _cell_too_long(budget.name, None, f"shared text {len(lengths) + 1:,}")
    for piece in _pieces(unpacked(handle, info, budget), (b"<si>", b"<si "), too_long):
        lengths.extend(_text_length(m.group(1)) for m in _SHARED.finditer(piece))
    return lengths


_TOKEN = re.compile(rb"<row\b([^>]*)>|<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
# A cell's reference as spreadsheet programs write it (first attribute): its
# letters and its digits, found apart (two lists of bytes cost far less than a
# list of pairs).
_REF_LETTERS = re.compile(rb'<c r="([A-Z]+)')
_REF_DIGITS = re.compile(rb'<c r="[A-Z]+([0-9]+)"')
# A cell start the counts above miss: "<c" then a tab, a line break or "/" (XML
# allows them, calamine reads them); such a piece is placed cell by cell.
_ODD_CELL_START = re.compile(rb"<c[\t\r\n/]")
_SHARED_USES = re.compile(rb'<c\b[^>]*?\bt="s"[^>]*>\s*<v>([0-9]+)</v>')
_ROW_NUMBER = re.compile(rb'\br="([0-9]+)"')
_CELL_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_INLINE = re.compile(rb"<is>(.*?)</is>", re.S)


def column_index(letters: bytes) -> int:
    """0-based column of spreadsheet letters (b"A" -> 0, b"AB" -> 27)."""
    col = 0
    for letter in letters:
        col = col * 26 + letter - 64
    return col - 1


def cell_name(row: int, col: int) -> str:
    """"B12" for 0-based (11, 1)."""
    label, position = "", col + 1
    while position:
        position, rest = divmod(position - 1, 26)
        label = chr(65 + rest) + label
    return f"{label}{row + 1}"


def _sheet_scan(handle, info, budget: Budget, context: _Context) -> SheetScan:
    """A worksheet placed as calamine places it. Refuses, as soon as it is
    found, a sheet past MAX_COLUMNS, MAX_CELLS or MAX_TEXT_CHARS and a cell past
    MAX_CELL_CHARS."""
    scan, at = SheetScan(), (-1, -1)

    def too_long(buffer: bytes) -> InputError:
        ref = _CELL_REF.search(buffer[:256])
        where = f"cell {ref.group(1).decode()}{ref.group(2).decode()}" if ref else \
            f"a cell of row {at[0] + 1:,}"
        return _cell_too_long(context.name, context.sheet, where)
    for piece in _pieces(unpacked(handle, info, budget), (b"<row", b"<c ", b"<c>"), too_long):
        letters = _REF_LETTERS.findall(piece)
        digits = _REF_DIGITS.findall(piece) if letters else []
        if letters and len(letters) == len(digits) == piece.count(b"<c ") + piece.count(b"<c>") \
                and not _ODD_CELL_START.search(piece) \
                and context.longest_shared <= limits.MAX_CELL_CHARS:
            at = _placed_piece(piece, letters, digits, scan, context)
        else:
            at = _scanned_piece(piece, scan, at, context)
        _check_sheet(scan, context)
    return scan


def _placed_piece(piece: bytes, letters: list[bytes], digits: list[bytes], scan: SheetScan,
                  context: _Context) -> tuple[int, int]:
    """_scanned_piece for a piece whose every cell has its reference ("B12"), as
    spreadsheet programs write them: the same limits from C-speed searches, not
    a Python step per cell. Empty cells count too (calamine leaves them out), so
    the rectangle is never underestimated; cells that may hide text (errors,
    formulas) or hold a long one are placed one by one. Inline strings (as
    openpyxl's write-only mode writes text) count as _cell_chars counts them."""
    scan.last_row = max(scan.last_row, int(_largest(digits)) - 1)
    scan.last_column = max(scan.last_column, column_index(_largest(letters)))
    uses = piece.count(b't="s"') * context.longest_shared
    if scan.text_chars + context.shared_chars + uses > limits.MAX_TEXT_CHARS:
        uses = sum(context.shared[i] for i in map(int, _SHARED_USES.findall(piece))
                   if i < len(context.shared))
    scan.text_chars += uses
    if b"<is>" in piece:
        scan.text_chars += sum(map(_text_length, _INLINE.findall(piece)))
    for m in _TOKEN.finditer(piece) if b't="e"' in piece or b"<f" in piece else ():
        if m.group(3) and (b't="e"' in m.group(2) or b"<f" in m.group(3)):
            _scanned_piece(m.group(0), scan, (-1, -1), context, shared_counted=True)
    cells = piece.split(b"<c ") if len(piece) > limits.MAX_CELL_CHARS else []
    for cell in cells if cells and max(map(len, cells)) > limits.MAX_CELL_CHARS else ():
        if len(cell) > limits.MAX_CELL_CHARS and b"<f" not in cell and b't="e"' not in cell:
            _scanned_piece(b"<c " + cell, scan, (-1, -1), context, shared_counted=True)
    return int(digits[-1]) - 1, column_index(letters[-1])


def _largest(texts: list[bytes]) -> bytes:
    """The largest row number or column letters: the longest, then the highest
    (a zero-padded one only looks larger, never smaller)."""
    texts = set(texts)          # each is repeated along its row or column
    longest = len(max(texts, key=len))
    if len(min(texts, key=len)) == longest:
        return max(texts)
    return max(t for t in texts if len(t) == longest)


def _scanned_piece(piece: bytes, scan: SheetScan, at: tuple[int, int], context: _Context,
                   shared_counted: bool = False) -> tuple[int, int]:
    """Place the piece's cells into `scan` (mutated) one by one, as calamine does:
    a cell without a reference follows the one before it. (row, column) reached.
    `shared_counted`: the text of these cells' shared and inline strings was
    already counted."""
    row, col = at
    for m in _TOKEN.finditer(piece):
        if m.group(1) is not None:                     # <row ...>
            number = _ROW_NUMBER.search(m.group(1))
            row, col = (int(number.group(1)) - 1 if number else row + 1), -1
            continue
        attributes, content = m.group(2), m.group(3)
        ref = _CELL_REF.search(attributes)
        cell_row, col = (int(ref.group(2)) - 1, column_index(ref.group(1))) if ref else (row, col + 1)
        # An empty or formatting-only cell is left out by calamine.
        if not content or not (b"<v" in content or b"<is" in content or b"<f" in content):
            continue
        scan.last_row, scan.last_column = max(scan.last_row, cell_row), max(scan.last_column, col)
        kind = _TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        chars = _cell_chars(kind, content, context.shared)
        restored = _hidden_text(kind, content)
        if max(chars, len(restored or "")) > limits.MAX_CELL_CHARS:
            raise _cell_too_long(context.name, context.sheet, f"cell {cell_name(cell_row, col)}",
                                 max(chars, len(restored or "")))
        scan.text_chars += 0 if shared_counted and kind in (b"s", b"inlineStr") else chars
        if restored is not None:
            scan.restored[(cell_row, col)] = restored
    return row, col


def _cell_chars(kind: bytes, content: bytes, shared: array) -> int:
    """The characters calamine will hold for a cell (numbers, booleans, errors: none)."""
    if kind == b"s":
        index = _VALUE.search(content)
        position = int(index.group(1)) if index and index.group(1).isdigit() else -1
        return shared[position] if 0 <= position < len(shared) else 0
    if kind == b"inlineStr":
        inline = _INLINE.search(content)
        return _text_length(inline.group(1)) if inline else 0
    if kind == b"str":
        value = _VALUE.search(content)
        return _text_length(value.group(1)) if value else 0
    return 0


def _hidden_text(kind: bytes, content: bytes) -> str | None:
    """The text calamine turns into an empty string: an error cell's error
    ("#DIV/0!"), a formula without a saved result ("=1+2"); None otherwise.
    An empty <v> of a string formula (t="str") is a saved empty text."""
    value = _VALUE.search(content)
    if kind == b"e":
        return xml_text(value.group(1)) if value else None
    formula = _FORMULA.search(content) if b"<f" in content else None
    if formula is None or (value is not None and (value.group(1) != b"" or kind == b"str")):
        return None
    return "=" + (xml_text(formula.group(1)) if formula.group(1) else "(shared formula)")


def _check_sheet(scan: SheetScan, context: _Context) -> None:
    if scan.last_column + 1 > limits.MAX_COLUMNS:
        raise InputError(
            f"this sheet has a filled cell in column {cell_name(0, scan.last_column)[:-1]}, "
            f"which makes {scan.last_column + 1:,} columns; Lodestar reads at most "
            f"{limits.MAX_COLUMNS:,}. Delete the cells beyond your table",
            file=context.name, sheet=context.sheet)
    if scan.cells > limits.MAX_CELLS:
        raise _too_many_cells(context.name, context.sheet, scan, scan.cells)
    if scan.text_chars + context.shared_chars > limits.MAX_TEXT_CHARS:
        raise _too_much_text(context.name, context.sheet)


def _too_many_cells(name: str, sheet: str, scan: SheetScan, total: int) -> InputError:
    return InputError(
        f"the workbook spans {total:,} cells (this sheet runs from A1 to "
        f"{cell_name(scan.last_row, scan.last_column)}: {scan.last_row + 1:,} rows by "
        f"{scan.last_column + 1:,} columns); Lodestar reads at most {limits.MAX_CELLS:,} cells "
        "from one workbook. Delete the cells beyond your table, split the workbook or export "
        "the data as CSV", file=name, sheet=sheet)


def _too_much_text(name: str, sheet: str | None) -> InputError:
    return InputError(
        f"the workbook's cells hold more than {limits.MAX_TEXT_CHARS:,} characters of text (a "
        "shared text counted in every cell that uses it), the most Lodestar reads from one "
        "workbook. Split it or export the data as CSV", file=name, sheet=sheet)


def _check_workbook(sheets: dict, shared_chars: int, name: str) -> None:
    """Refuse a workbook whose sheets together pass MAX_CELLS or MAX_TEXT_CHARS."""
    cells = sum(scan.cells for scan in sheets.values())
    if cells > limits.MAX_CELLS:
        sheet, scan = max(sheets.items(), key=lambda item: item[1].cells)
        raise _too_many_cells(name, sheet, scan, cells)
    if sum(scan.text_chars for scan in sheets.values()) + shared_chars > limits.MAX_TEXT_CHARS:
        raise _too_much_text(name, None)
