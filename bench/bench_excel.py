"""Excel import speed against python-calamine's and pandas' reads of the same sheet.

    python bench/bench_excel.py [--rows 30000 120000] [--repeat 3]

For each size it writes a wide history workbook as Excel writes one (a
date column with a date format, a region column of shared text, 30 metric
columns of numbers with two decimals), then times:
- raw: python-calamine's read of the sheet into Python values
  (`CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()`);
- pandas: `pandas.read_excel(engine="calamine")` of the same sheet;
- ours: `import_files` of the workbook into a fresh DuckDB file (the scan
  for hostile files, reading, parsing every cell, validation, versioned store).
Each runs --repeat times and the fastest of each counts, so a busy moment on
a shared machine does not decide a ratio. A workbook holds at most
limits.MAX_CELLS cells (4,194,304), so the larger size is 120,000 rows.
bench.py calls `report` after its CSV tables.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pandas
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpi_logic import store
from kpi_logic.ingest.importing import import_files

SHEET = "History"
METRICS = 30
REGIONS = 10
FIRST_DAY = date(2000, 1, 1)
BUDGET = 1.5           # our import against pandas.read_excel(engine="calamine")
AIM = 2.0              # ... and against python-calamine's raw read
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override '
        'PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        f'{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_NS}" xmlns:r="{_REL}">'
        f'<sheets><sheet name="{SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/'
        'worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="'
        f'{_REL}/styles" Target="styles.xml"/><Relationship Id="rId3" Type="{_REL}/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
    # Style 1 is Excel's short date (number format 14).
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_NS}"><fonts count="1">'
        '<font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/>'
        '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'),
}


def column_letters(position: int) -> str:
    label, position = "", position + 1
    while position:
        position, rest = divmod(position - 1, 26)
        label = chr(65 + rest) + label
    return label


def write_workbook(path: Path, rows: int) -> None:
    """A wide history workbook: date, region, metric_00..metric_29, `rows` data rows
    (each day once per region), every cell with its reference, as Excel writes them."""
    letters = [column_letters(c) for c in range(METRICS + 2)]
    headers = ["date", "region"] + [f"metric_{m:02d}" for m in range(METRICS)]
    shared = headers + [f"region_{r:02d}" for r in range(REGIONS)]
    first_serial = (FIRST_DAY - date(1899, 12, 30)).days
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text)
        book.writestr("xl/sharedStrings.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_NS}" count="{len(shared)}">'
            + "".join(f"<si><t>{s}</t></si>" for s in shared) + "</sst>"))
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}">'
                        f"<sheetData>".encode())
            sheet.write(('<row r="1">' + "".join(
                f'<c r="{letters[c]}1" t="s"><v>{c}</v></c>' for c in range(len(headers)))
                + "</row>").encode())
            for row in range(rows):
                n = row + 2
                cells = [f'<c r="A{n}" s="1"><v>{first_serial + row // REGIONS}</v></c>',
                         f'<c r="B{n}" t="s"><v>{len(headers) + row % REGIONS}</v></c>']
                cells += [f'<c r="{letters[m + 2]}{n}"><v>{_value(row, m)!r}</v></c>'
                          for m in range(METRICS)]
                sheet.write(f'<row r="{n}">{"".join(cells)}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


def _value(row: int, metric: int) -> float:
    """A value with two decimals that differs from cell to cell."""
    return round(100 + (row * 7919 + metric * 104729) % 90000 / 100, 2)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(rows: int, folder: Path, repeat: int = 3) -> dict:
    """The fastest of `repeat` runs of the raw read, pandas' read and our import."""
    path = folder / f"history_{rows}.xlsx"
    if not path.exists():
        write_workbook(path, rows)
    best = {"raw": [], "pandas": [], "ours": []}
    for run in range(max(1, repeat)):
        best["raw"].append(timed(lambda: python_calamine.CalamineWorkbook.from_path(
            str(path)).get_sheet_by_name(SHEET).to_python()))
        best["pandas"].append(timed(lambda: pandas.read_excel(path, sheet_name=SHEET,
                                                              engine="calamine")))
        database = folder / f"excel_{rows}_{run}.duckdb"
        database.unlink(missing_ok=True)
        with store.open_store(database) as opened:
            started = time.perf_counter()
            results = import_files(opened, [(path, path.name)])
            best["ours"].append(time.perf_counter() - started)
        database.unlink(missing_ok=True)
        inserted = sum(r.inserted for r in results)
        if inserted != rows * METRICS:
            raise AssertionError(f"{inserted:,} values stored, {rows * METRICS:,} expected")
    return {"rows": rows, "cells": rows * (METRICS + 2), **{k: min(v) for k, v in best.items()}}


def table(results: list[dict]) -> str:
    lines = ["| rows x columns | python-calamine raw read s | pandas.read_excel s | "
             f"our import s | ours / pandas (budget {BUDGET}x) | ours / raw (aim {AIM}x) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['rows']:,} x {METRICS + 2} | {r['raw']:.2f} | {r['pandas']:.2f} | "
                     f"{r['ours']:.2f} | {r['ours'] / r['pandas']:.2f} | "
                     f"{r['ours'] / r['raw']:.2f} |")
    return "\n".join(lines)


def report(folder: Path, repeat: int = 3, sizes: tuple[int, ...] = (30_000, 120_000)) -> str:
    """The table for `sizes`, workbooks written into `folder`."""
    results = []
    for rows in sizes:
        results.append(measure(rows, folder, repeat))
        print(f"Excel {rows:,} rows: {results[-1]}", file=sys.stderr)
    return table(results)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[30_000, 120_000])
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per size; the fastest of each timing counts (default 3)")
    parser.add_argument("--folder", type=Path, default=None,
                        help="where to keep the workbooks (default: a temp folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lodestar_bench_excel_") as temp:
        folder = args.folder or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        print(report(folder, args.repeat, tuple(args.rows)))
    # Others' work on a shared machine shows in the load; read the ratios with it.
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
