"""Hostile files, built inside the tests (nothing large is committed).

Workbooks are written part by part with a small zip writer of our own, so a
test can say exactly what a part holds and declares: a sheet that unpacks
to gigabytes is one packed block repeated (each block flushed so it stands
alone), which costs a few megabytes and a second to build, where
compressing the gigabytes would take a minute.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT = "http://schemas.openxmlformats.org/package/2006/content-types"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass(frozen=True)
class Part:
    """A zip member: its packed bytes and what its headers declare."""
    name: str
    packed: bytes
    crc: int
    size: int                  # declared unpacked size
    method: int = 8            # 8 deflate, 0 stored


def deflated(name: str, data: bytes, *, declared: int | None = None) -> Part:
    """A part packed whole; `declared` overrides the size its headers give."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(data) + packer.flush()
    return Part(name, packed, zlib.crc32(data), len(data) if declared is None else declared)


def repeated(name: str, head: bytes, block: bytes, times: int, tail: bytes) -> Part:
    """A part that unpacks to head + block * times + tail, packed once per piece."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the packer starts afresh, so `again` unpacks to `block`
    # wherever it stands.
    last = packer.compress(tail) + packer.flush()
    crc = _crc_joined(zlib.crc32(head), _crc_repeated(zlib.crc32(block), len(block), times),
                      len(block) * times)
    return Part(name, first + again * times + last, zlib.crc32(tail, crc),
                len(head) + len(block) * times + len(tail))


# CRC-32 is linear over GF(2): the CRC of A followed by B is the CRC of A times
# x^(8 len(B)) modulo the CRC polynomial, plus the CRC of B. So a block repeated
# a million times has its CRC in a few dozen multiplications instead of a pass
# over gigabytes. Polynomials are kept bit-reversed, as zlib keeps the CRC.
_POLY = 0xEDB88320
_ONE = 1 << 31


def _times(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial (bit-reversed)."""
    product, bit = 0, _ONE
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return product


def _shift(length: int) -> int:
    """x^(8 length) modulo the CRC polynomial: appending `length` bytes."""
    result, square = _ONE, _ONE >> 8        # x^0, then x^8 for one byte
    while length:
        if length & 1:
            result = _times(result, square)
        square, length = _times(square, square), length >> 1
    return result


def _crc_joined(first: int, second: int, second_length: int) -> int:
    return _times(_shift(second_length), first) ^ second


def _crc_repeated(crc: int, length: int, times: int) -> int:
    """The CRC of a block of `length` bytes (CRC `crc`) written `times` times."""
    result, result_length = 0, 0
    while times:
        if times & 1:
            result, result_length = _crc_joined(result, crc, length), result_length + length
        crc, length, times = _crc_joined(crc, crc, length), length * 2, times >> 1
    return result


def zipped(parts: list[Part]) -> bytes:
    """A zip file of these parts, written as they say (declared sizes included)."""
    out, directory = bytearray(), bytearray()
    for part in parts:
        name = part.name.encode()
        zip64 = part.size >= 0xFFFFFFFF or len(part.packed) >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, part.size, len(part.packed)) if zip64 else b""
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (len(part.packed), part.size)
        offset = len(out)
        out += struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", 45, 0, part.method, 0, 0x21,
                           part.crc, *sizes, len(name), len(extra)) + name + extra + part.packed
        directory += struct.pack("<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", 45, 45, 0, part.method,
                                 0, 0x21, part.crc, *sizes, len(name), len(extra), 0, 0, 0, 0,
                                 offset) + name + extra
    start = len(out)
    out += directory
    out += struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(parts), len(parts),
                       len(directory), start, 0)
    return bytes(out)


def workbook_parts(sheets: dict[str, Part | str], shared: list[str] | None = None) -> list[Part]:
    """The parts of a minimal workbook: sheet name -> a worksheet part, or the XML
    inside <sheetData> (packed here)."""
    names = list(sheets)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType='
                    f'"{XLSX_TYPE}.worksheet+xml"/>' for i in range(1, len(names) + 1))
    relations = "".join(f'<Relationship Id="rId{i}" Type="{RELATIONSHIPS}/worksheet" '
                        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
    listed = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, name in enumerate(names, 1))
    if shared is not None:
        types += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{XLSX_TYPE}.sharedStrings+xml"/>'
        relations += (f'<Relationship Id="rIdS" Type="{RELATIONSHIPS}/sharedStrings" '
                      'Target="sharedStrings.xml"/>')
    parts = [
        deflated("[Content_Types].xml", (
            f'<?xml version="1.0"?><Types xmlns="{CONTENT}"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override '
            f'PartName="/xl/workbook.xml" ContentType="{XLSX_TYPE}.sheet.main+xml"/>{types}</Types>'
        ).encode()),
        deflated("_rels/.rels", (
            f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode()),
        deflated("xl/workbook.xml", (
            f'<?xml version="1.0"?><workbook xmlns="{SPREADSHEET}" xmlns:r="{RELATIONSHIPS}">'
            f'<sheets>{listed}</sheets></workbook>').encode()),
        deflated("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE}">{relations}</Relationships>'
        ).encode()),
    ]
    for i, sheet in enumerate(sheets.values(), 1):
        member = f"xl/worksheets/sheet{i}.xml"
        parts.append(Part(member, sheet.packed, sheet.crc, sheet.size, sheet.method)
                     if isinstance(sheet, Part) else deflated(member, sheet_xml(sheet)))
    if shared is not None:
        parts.append(deflated("xl/sharedStrings.xml", (
            f'<?xml version="1.0"?><sst xmlns="{SPREADSHEET}">'
            + "".join(f"<si><t>{text}</t></si>" for text in shared) + "</sst>").encode()))
    return parts


def sheet_xml(rows: str) -> bytes:
    """A worksheet part around the XML of its rows."""
    return (f'<?xml version="1.0"?><worksheet xmlns="{SPREADSHEET}"><sheetData>{rows}'
            "</sheetData></worksheet>").encode()


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def number_cell(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


HISTORY_HEADER = ('<row r="1">' + text_cell("A1", "date") + text_cell("B1", "metric")
                  + text_cell("C1", "value") + "</row>")


def zip_bomb(unpacked: int) -> bytes:
    """A history workbook whose one sheet unpacks to about `unpacked` bytes: a
    header, then rows padded with spaces (valid XML), packed about 1,000 times."""
    block = (b'<row><c><v>45000</v></c><c t="inlineStr"><is><t>visitors</t></is></c>'
             b'<c><v>1</v></c></row>')
    block += b" " * (1024 * 1024 - len(block))
    head = (f'<?xml version="1.0"?><worksheet xmlns="{SPREADSHEET}"><sheetData>'
            + HISTORY_HEADER).encode()
    sheet = repeated("sheet", head, block, max(1, unpacked // len(block)),
                     b"</sheetData></worksheet>")
    return zipped(workbook_parts({"History": sheet}))
