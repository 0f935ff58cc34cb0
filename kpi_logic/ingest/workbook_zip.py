"""The parts of an .xlsx (a zip) unpacked as streams, within limits.py.

A zip says how large each part unpacks to, and an unpacker that trusts it
can be handed gigabytes by a 3 MB file: a part packed a thousand times
over (a "zip bomb"), or one that declares less than it holds. So the
declared sizes are checked before anything is unpacked, and each part is
then inflated from its raw bytes in chunks, its real size counted against
what it declared, the workbook's total and the packing ratio as it goes.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator

from kpi_logic.domain import limits
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import size_text

CHUNK = 1024 ** 2
_LOCAL_HEADER = struct.Struct("<4sHHHHHLLLHH")
_DAMAGED = "the workbook is damaged ({}); open it in Excel and save it again as .xlsx"


def opened_zip(path: str, name: str) -> zipfile.ZipFile:
    """The workbook's zip directory. Refuses a file that is not a zip, too many
    parts, and declared sizes past MAX_UNPACKED_BYTES or MAX_RATIO."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError("file is empty or not an Excel workbook; save it again as .xlsx",
                         file=name) from None
    try:
        _check_declared(archive.infolist(), name)
    except InputError:
        archive.close()
        raise
    return archive


def _check_declared(infos: list, name: str) -> None:
    if len(infos) > limits.MAX_PARTS:
        raise InputError(f"the workbook holds {len(infos):,} parts (files inside the .xlsx); a "
                         f"real one has tens and Lodestar reads at most {limits.MAX_PARTS:,}",
                         file=name)
    declared = sum(i.file_size for i in infos)
    if declared > limits.MAX_UNPACKED_BYTES:
        raise _too_large(name, f"it declares {size_text(declared)}")
    for info in infos:
        if info.file_size > limits.RATIO_FLOOR and \
                info.file_size > limits.MAX_RATIO * max(info.compress_size, 1):
            raise _packed_too_tight(name, info.filename, info.file_size / max(info.compress_size, 1))


def _too_large(name: str, found: str) -> InputError:
    return InputError(f"the workbook unpacks to more than {size_text(limits.MAX_UNPACKED_BYTES)} "
                      f"({found}), the most Lodestar reads from one .xlsx; split it into smaller "
                      "workbooks or export the data as CSV", file=name)


def _packed_too_tight(name: str, part: str, ratio: float) -> InputError:
    return InputError(f"part '{part}' of the workbook unpacks to {ratio:,.0f} times its packed "
                      f"size; spreadsheets pack about 5 to 25 times and Lodestar refuses more than "
                      f"{limits.MAX_RATIO} times (the mark of a 'zip bomb'). Export the data again "
                      "from your spreadsheet", file=name)


class Budget:
    """What one workbook has unpacked so far, against MAX_UNPACKED_BYTES; `done`
    names the parts read."""

    def __init__(self, name: str):
        self.name = name
        self.total = 0
        self.done: set[str] = set()

    def add(self, part: str, size: int) -> None:
        self.total += size
        if self.total > limits.MAX_UNPACKED_BYTES:
            raise _too_large(self.name, f"part '{part}' takes it past")


def unpacked(handle, info: zipfile.ZipInfo, budget: Budget) -> Iterator[bytes]:
    """The part's bytes in chunks of at most CHUNK, inflated from its raw data.
    Refuses a part that unpacks to more or less than it declares, past
    MAX_RATIO or past the budget, and compression methods Excel does not use."""
    name, part = budget.name, info.filename
    budget.done.add(part)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"part '{part}' of the workbook is compressed in a way Excel does not "
                         "use; save it again from Excel as .xlsx", file=name)
    _seek_data(handle, info, name)
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, packed, out, pending = info.compress_size, 0, 0, b""
    while pending or left > 0:
        if not pending:
            pending = handle.read(min(64 * 1024, left))
            if not pending:
                raise InputError(_DAMAGED.format(f"part '{part}' is cut short"), file=name)
            left -= len(pending)
            packed += len(pending)
        try:
            data = inflate.decompress(pending, CHUNK) if inflate else pending
        except zlib.error:
            raise InputError(_DAMAGED.format(f"part '{part}' cannot be unpacked"),
                             file=name) from None
        pending = inflate.unconsumed_tail if inflate else b""
        out += len(data)
        _check_unpacked(info, out, packed, name)
        budget.add(part, len(data))
        if data:
            yield data
        if inflate and inflate.eof:
            break
    if out != info.file_size:
        raise InputError(_DAMAGED.format(f"part '{part}' is shorter than it declares"), file=name)


def _check_unpacked(info: zipfile.ZipInfo, out: int, packed: int, name: str) -> None:
    if out > info.file_size:
        raise InputError(_DAMAGED.format(f"part '{info.filename}' unpacks to more than the "
                                         f"{size_text(info.file_size)} it declares"), file=name)
    if out > limits.RATIO_FLOOR and out > limits.MAX_RATIO * packed:
        raise _packed_too_tight(name, info.filename, out / packed)


def _seek_data(handle, info: zipfile.ZipInfo, name: str) -> None:
    """Put `handle` at the first byte of the part's packed data."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise InputError(_DAMAGED.format(f"part '{info.filename}' cannot be found"), file=name)
    *_, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def whole(handle, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    """A metadata part (workbook, styles, relationships) whole; refuses one past
    MAX_XML_PART_BYTES."""
    if info.file_size > limits.MAX_XML_PART_BYTES:
        raise InputError(f"part '{info.filename}' of the workbook is "
                         f"{size_text(info.file_size)}; Lodestar reads such a part up to "
                         f"{size_text(limits.MAX_XML_PART_BYTES)}. Save the workbook again "
                         "from Excel", file=budget.name)
    return b"".join(unpacked(handle, info, budget))


def drain(handle, info: zipfile.ZipInfo, budget: Budget) -> None:
    """Unpack a part only to check its size (and throw the bytes away)."""
    for _ in unpacked(handle, info, budget):
        pass
