"""Issue 8, the import side: nothing a file can hold takes the dashboard or the
command line down. Every hostile file is built here, imported through the CLI
(main(argv), in-process) into a real database (a DuckDB file and a PostgreSQL
database), and must be refused with
a message naming what is wrong (the limit, the cell), leaving the database
exactly as it was. test_hostile_processes.py runs the zip bomb in processes
whose peak memory is read (the CLI and the Import and define page), and what
must hold when processes are killed or run together."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kpi_logic.cli import main as cli
from kpi_logic.domain import limits
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import Launch
from kpi_logic.ingest.importing import import_files
from kpi_logic.launch.analysis import chosen_launch
from kpi_logic.store import open_store

from . import hostile_files as H
from .test_importing import assert_same_database, dump, files

MB = 1024 ** 2


def with_seed(location) -> None:
    with open_store(location) as store:
        import_files(store, files("metrics.csv", "history_long.csv", "history_wide.csv",
                                "kpis.csv", "launches.csv"))


@pytest.fixture
def seeded(databases):
    """A database holding metrics, history (long and wide) and KPIs, on either backend."""
    return databases.copy_of("hostile-seed", with_seed)


def refused_by_cli(db, tmp_path: Path, capsys, data: bytes, name: str) -> str:
    """The CLI's refusal of the file (exit 2, one message, no traceback), the
    database unchanged."""
    with open_store(db) as store:
        before = dump(store)
    path = tmp_path / name
    path.write_bytes(data)
    code = cli.main(["--db", str(db), "import", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.startswith(f"Refused: {name}") and "Traceback" not in err
    with open_store(db) as store:
        assert_same_database(before, dump(store))
    return err


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def workbook(rows: str, shared: list[str] | None = None) -> bytes:
    return H.zipped(H.workbook_parts({"History": rows}, shared))


HEADER = H.HISTORY_HEADER
LONG_NAME = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(3_000))


def history_row(number: int, day: float = 45000, metric: str = "visitors", value="1") -> str:
    return (f'<row r="{number}">' + H.number_cell(f"A{number}", day)
            + H.text_cell(f"B{number}", metric) + H.number_cell(f"C{number}", value) + "</row>")


# --- workbooks -------------------------------------------------------------------------------

def sparse() -> bytes:
    """A 1 KB workbook with cells at A1 and XFD1048576: 17 billion cells for calamine."""
    return workbook(HEADER + '<row r="1048576">' + H.number_cell("XFD1048576", 1) + "</row>")


def sparse_line_break() -> bytes:
    """A cell at XFD2 written "<c\nr=...", valid XML that calamine places, among
    cells written as usual: the scan must not count it out."""
    odd = H.number_cell("XFD2", 1).replace("<c ", "<c\n", 1)
    return workbook(HEADER + history_row(2).replace("</row>", odd + "</row>")
                    + history_row(3))


def tall() -> bytes:
    """Within the columns, but A1:J1048576 is 10 million cells."""
    return workbook(HEADER + history_row(2) + '<row r="1048576">'
                    + H.number_cell("J1048576", 1) + "</row>")


def amplified() -> bytes:
    """One shared text of 30,000 characters used by 5,000 cells: 150 million characters."""
    rows = "".join(f'<row r="{n}">{H.number_cell(f"A{n}", 45000)}<c r="B{n}" t="s"><v>0</v></c>'
                   f'{H.number_cell(f"C{n}", 1)}</row>' for n in range(2, 5002))
    return workbook(HEADER + rows, shared=["x" * 30_000])


def liar() -> bytes:
    """A sheet that declares 2 KB and unpacks to 64 MB (an unpacker that trusts the
    header would be handed the rest)."""
    sheet = H.sheet_xml(HEADER + history_row(2) + " " * (64 * MB))
    parts = H.workbook_parts({"History": H.deflated("sheet", sheet, declared=2048)})
    return H.zipped(parts)


def packed_tight() -> bytes:
    """An honest part that unpacks to 1,000 times its packed size."""
    return workbook(HEADER + history_row(2) + " " * (32 * MB))


def many_parts() -> bytes:
    parts = H.workbook_parts({"History": HEADER + history_row(2)})
    return H.zipped(parts + [H.deflated(f"xl/media/extra{i}.xml", b"<x/>")
                             for i in range(limits.MAX_PARTS)])


def damaged() -> bytes:
    """A sheet whose XML breaks off (calamine's error, or its panic, is no traceback)."""
    parts = H.workbook_parts({"History": HEADER})
    sheet = next(p for p in parts if p.name.startswith("xl/worksheets/"))
    broken = H.deflated(sheet.name, H.sheet_xml(HEADER)[:-40] + b"<row><c r=")
    return H.zipped([broken if p is sheet else p for p in parts])


def missing_sheet() -> bytes:
    return H.zipped([p for p in H.workbook_parts({"History": HEADER})
                     if not p.name.startswith("xl/worksheets/")])


WORKBOOKS = [
    ("damaged.xlsx", damaged, "sheet 'History': this sheet is damaged and cannot be read"),
    ("missing.xlsx", missing_sheet, "sheet 'History': this sheet is damaged and cannot be read"),
    ("bomb.xlsx", lambda: H.zip_bomb(3 * 1024 ** 3), "unpacks to more than 1 GB (it declares 3.0 GB)"),
    ("sparse.xlsx", sparse, "filled cell in column XFD, which makes 16,384 columns; Lodestar "
                            "reads at most 2,000"),
    ("sparse_break.xlsx", sparse_line_break, "filled cell in column XFD, which makes 16,384 "
                                             "columns; Lodestar reads at most 2,000"),
    ("tall.xlsx", tall, "A1 to J1048576: 1,048,576 rows by 10 columns); Lodestar reads at most "
                        "4,194,304 cells"),
    ("amplified.xlsx", amplified, "more than 100,000,000 characters of text"),
    ("liar.xlsx", liar, "damaged (part 'xl/worksheets/sheet1.xml' unpacks to more than the 2 KB "
                        "it declares)"),
    ("tight.xlsx", packed_tight, "Lodestar refuses more than 100 times (the mark of a 'zip bomb')"),
    ("parts.xlsx", many_parts, "holds 1,005 parts"),
    ("long_cell.xlsx", lambda: workbook(HEADER + '<row r="2">' + H.number_cell("A2", 45000)
                                        + H.text_cell("B2", "v" * 40_000)
                                        + H.number_cell("C2", 1) + "</row>"),
     "cell B2 holds more than 32,767 characters (40,000)"),
    ("far_serial.xlsx", lambda: workbook(HEADER + history_row(2, day=2958465)),
     "cell A2 holds 2958465, which as a date is outside the dates Lodestar accepts (1900-01-01 "
     "to 2199-12-31)"),
]


@pytest.mark.parametrize("name, build, says", WORKBOOKS, ids=[w[0] for w in WORKBOOKS])
def test_a_hostile_workbook_is_refused_naming_the_limit(seeded, tmp_path, capsys, name, build,
                                                       says):
    assert says in refused_by_cli(seeded, tmp_path, capsys, build(), name)


def test_a_workbook_inside_the_limits_is_read_as_before(seeded, tmp_path, capsys):
    """The scan lets an ordinary workbook through: cells without references, an
    error cell and a formula without a saved result come out as calamine's
    neighbours (the error refused as a value, naming its cell)."""
    rows = HEADER + ('<row><c><v>45000</v></c><c t="inlineStr"><is><t>webinar_signups</t></is>'
                     '</c><c><v>12</v></c></row>')
    path = tmp_path / "plain.xlsx"
    path.write_bytes(workbook(rows))
    assert cli.main(["--db", str(seeded), "import", str(path), "--json"]) == 0
    assert '"inserted": 1' in capsys.readouterr().out
    error = HEADER + '<row r="2">' + H.number_cell("A2", 45001) + H.text_cell("B2", "visitors") \
        + '<c r="C2" t="e"><v>#DIV/0!</v></c></row>'
    assert "row 2, column 'value': '#DIV/0!' is not a number" in \
        refused_by_cli(seeded, tmp_path, capsys, workbook(error), "error.xlsx")


def test_text_written_inside_the_cells_counts_towards_the_text_limit(seeded, tmp_path, capsys,
                                                                     monkeypatch):
    """Inline text (openpyxl's write-only mode writes all text so), in cells with
    their references, is measured like shared text: 100 cells of 60 characters
    pass a limit of 10,000, 100 of 200 do not."""
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 10_000)

    def rows(chars: int) -> str:
        return HEADER + "".join(history_row(n, day=45000 + n, metric="m" * chars)
                                for n in range(2, 102))
    path = tmp_path / "inline.xlsx"
    path.write_bytes(workbook(rows(60)))
    assert cli.main(["--db", str(seeded), "import", str(path), "--json"]) == 0
    assert '"inserted": 100' in capsys.readouterr().out
    assert "cells hold more than 10,000 characters of text" in \
        refused_by_cli(seeded, tmp_path, capsys, workbook(rows(200)), "long_inline.xlsx")


# --- CSV ---------------------------------------------------------------------------------------

def junk_controls() -> bytes:
    """Text-like junk: control characters among letters, no NUL byte."""
    return bytes(1 + (7 * i) % 31 if i % 3 else 65 + i % 26 for i in range(300_000))


CSVS = [
    ("huge_cell.csv", lambda: csv("date,metric,value", "2025-01-01,visitors," + "9" * (20 * MB)),
     "row 2: this line is longer than 2 MB, the most one line may take (a cell holds at most "
     "32,767 characters"),
    ("long_cell.csv", lambda: csv("date,metric,value", "2025-01-01," + "v" * 40_000 + ",1"),
     "row 2, column 'metric': this cell holds 40,000 characters, more than the 32,767"),
    ("wide_100k.csv", lambda: csv("date," + ",".join(f"m{i}" for i in range(100_000)),
                                  "2025-01-01" + ",1" * 100_000),
     "row 1: the first line has at least 39,"),
    ("narrow_100k.csv", lambda: csv("date," + ",".join("m" for _ in range(100_000)),
                                    "2025-01-01" + ",1" * 100_000),
     "row 1: the header has 100,001 columns; Lodestar reads at most 2,000"),
    ("header_1mb.csv", lambda: csv("date,metric," + "v" * MB, "2025-01-01,visitors,1"),
     "row 1: the first line is longer than 256 KB, the most a header line may take"),
    ("junk.csv", junk_controls, "this is binary data, not a text (CSV) file: it holds"),
    ("nul_junk.csv", lambda: bytes(range(256)) * 400, "this is not a text (CSV) file"),
    ("utf16_huge_cell.csv", lambda: b"\xff\xfe" + "date,metric,value\n2025-01-01,a,".encode(
        "utf-16-le") + "9".encode("utf-16-le") * (3 * MB) + "\n".encode("utf-16-le"),
     "this line is longer than 2 MB"),
]


CSVS += [
    # Past the sniffed start a NUL byte is no longer "binary data" by count: its line is named.
    ("nul_late.csv", lambda: csv("date,metric,channel,value",
                                 *[f"2025-01-01,visits,web{n},1" for n in range(20_000)],
                                 "2025-01-02,visits,we\x00b,1"),
     "nul_late.csv, row 20002: this line holds a NUL character"),
    ("nul_utf16.csv", lambda: "date,metric,channel,value\n2025-01-01,visits,we\x00b,1\n"
     .encode("utf-16"), "nul_utf16.csv, row 2: this line holds a NUL character"),
]


@pytest.mark.parametrize("name, build, says", CSVS, ids=[c[0] for c in CSVS])
def test_a_hostile_csv_gets_its_own_message(seeded, tmp_path, capsys, name, build, says):
    assert says in refused_by_cli(seeded, tmp_path, capsys, build(), name)


# --- numbers, names and dates ------------------------------------------------------------------

VALUES = [
    ("far_future.csv", csv("date,metric,value", "9999-12-31,far_future,1"),
     "row 2, column 'date': '9999-12-31' is outside the dates Lodestar accepts (1900-01-01 to "
     "2199-12-31)"),
    ("far_past.csv", csv("date,metric,value", "1899-12-31,old,1"), "'1899-12-31' is outside"),
    ("far_month.csv", csv("month,visitors", "2200-01,5"), "'2200-01' is outside"),
    ("far_quarter.csv", csv("quarter,visitors", "9999-Q4,5"), "'9999-Q4' is outside"),
    ("far_year.csv", csv("year,visitors", "9999,5"), "'9999' is outside"),
    ("far_dayfirst.csv", csv("date,metric,value", "31/12/9999,visitors,1", "13/01/2025,visitors,2"),
     "'31/12/9999' is outside"),
    ("far_offset.csv", csv("date,metric,value", "2199-12-31T23:00:00-05:00,visitors,1"),
     "is outside the dates"),
    ("overflow.csv", csv("date,metric,value", "2025-01-01,big,1e309"),
     "'1e309' is beyond the numbers Lodestar stores (smaller than 1e100 in size)"),
    ("negative_overflow.csv", csv("date,metric,value", "2025-01-01,big,-1e309"),
     "'-1e309' is beyond the numbers Lodestar stores"),
    # Two values near a double's largest would add up to infinity, which PostgreSQL
    # refuses to compute: a page's sum would fail instead of showing a number.
    ("googol.csv", csv("date,metric,value", "2025-01-01,big,1.7e308", "2025-01-02,big,1e100"),
     "row 2, column 'value': '1.7e308' is beyond the numbers Lodestar stores (smaller than "
     "1e100 in size)"),
    ("inf.csv", csv("date,metric,value", "2025-01-01,big,inf"), "'inf' is not a number"),
    ("minus_one.csv", csv("date,metric,value", "2025-01-01,-1,5"),
     "row 2, column 'metric': '-1' is not a metric name: it has no letter (signs, dots and "
     "spaces separate words, so it would be stored as '1')"),
    # A name past MAX_NAME_CHARS (a server could not index a long, varied one).
    ("long_name.csv", csv("date,metric,value", "2025-01-01," + LONG_NAME + ",1"),
     f"row 2, column 'metric': '{LONG_NAME[:57]}...' is not a metric name: it is 3,000 "
     "characters long, and a metric name is at most 200"),
    ("long_header.csv", csv("date," + LONG_NAME, "2025-01-01,1"),
     "is not a metric name: it is 3,000 characters long"),
    ("numbered_columns.csv", csv("date,visitors,3.5", "2025-01-01,1,2"),
     "column '3.5' (row 1): '3.5' is not a metric name"),
    ("nul_cell.xlsx", workbook(HEADER + '<row r="2">' + H.number_cell("A2", 45000)
                               + H.text_cell("B2", "visits_x0000_web") + H.number_cell("C2", 1)
                               + "</row>"),
     "sheet 'History', row 2, column 'metric': the cell holds a NUL character (written _x0000_"),
    ("nul_header.xlsx", workbook('<row r="1">' + H.text_cell("A1", "date")
                                 + H.text_cell("B1", "visits_x0000_") + '</row><row r="2">'
                                 + H.number_cell("A2", 45000) + H.number_cell("B2", 1) + "</row>"),
     "sheet 'History', row 1, column 'B': the cell holds a NUL character"),
    ("far_workbook.xlsx", workbook(HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>9999-12-31'
                                   '</t></is></c>' + H.text_cell("B2", "visitors")
                                   + H.number_cell("C2", 1) + "</row>"),
     "row 2, column 'date': '9999-12-31' is outside the dates"),
]


@pytest.mark.parametrize("name, data, says", VALUES, ids=[v[0] for v in VALUES])
def test_values_outside_what_lodestar_stores_are_refused_by_name(seeded, tmp_path, capsys,
                                                                 name, data, says):
    assert says in refused_by_cli(seeded, tmp_path, capsys, data, name)


DEFINITIONS = [
    ("key_results.csv", csv("objective,title,metric,start,target,start_date,deadline",
                            "Grow,Far,visitors,1,2,2025-01-01,9999-12-31"),
     "row 2, column 'deadline': '9999-12-31' is outside the dates Lodestar accepts"),
    ("launches.csv", csv("launch,launch_date,conversion_target,cac_target",
                         "Far,9999-12-31,3%,$40"), "'9999-12-31' is outside the dates"),
    ("launches.csv", csv("launch,launch_date,conversion_target,cac_target,promotion_date",
                         "Soon,2026-01-01,3%,$40,9999-01-01"), "column 'promotion_date'"),
    ("launches.csv", csv("launch,launch_date,conversion_target,cac_target",
                         "Cheap,2199-12-31,3%,-1"),
     "row 2, column 'cac_target': must be an amount above 0"),
    ("launches.csv", csv("launch,launch_date,conversion_target,cac_target",
                         "Certain,2026-01-01,150%,40"),
     "row 2, column 'conversion_target': must be a share above 0% and at most 100%"),
    ("targets.csv", csv("kpi,period,target", "Conversion at least 3%,9999-03,10"),
     "row 2, column 'period': '9999-03' is outside the years Lodestar accepts (1900 to 2199)"),
    ("metrics.csv", csv("metric,unit", LONG_NAME + ",number"),
     "row 2, column 'metric': '" + LONG_NAME[:57] + "...' is not a metric name: it is 3,000 "
     "characters long"),
    ("metrics.csv", csv("metric,unit", "-1,number"),
     "row 2, column 'metric': '-1' is not a metric name: it has no letter"),
    ("metrics.csv", csv("metric,formula", "deep," + "(" * 5000 + "visitors" + ")" * 5000),
     "parentheses and signs go more than 50 levels deep"),
    ("metrics.csv", csv("metric,formula", "long," + " + ".join(["visitors"] * 1000)),
     "has 999 operators; Lodestar computes formulas of at most 200"),
    ("metrics.csv", csv("metric,formula", *(f"chain_{i},chain_{i + 1} + 1" for i in range(5000)),
                        "chain_5000,visitors"),
     "its formula builds on formula metrics 5,001 levels deep; Lodestar computes at most 50"),
]


@pytest.mark.parametrize("name, data, says", DEFINITIONS,
                         ids=[f"{d[0]}:{d[2][:30]}" for d in DEFINITIONS])
def test_hostile_definitions_are_refused_by_row_and_column(seeded, tmp_path, capsys, name, data,
                                                          says):
    assert says in refused_by_cli(seeded, tmp_path, capsys, data, name)


def test_a_launch_years_ahead_is_not_the_default_over_one_that_has_started():
    running = Launch("Spring", date(2025, 3, 10))
    planned = Launch("Far", date(2199, 12, 31))
    later = Launch("Summer", date(2025, 6, 1))
    today = date(2025, 4, 1)
    assert chosen_launch([running, planned], today=today) == running
    assert chosen_launch([planned, running, later], today=today) == running
    assert chosen_launch([planned, later], today=date(2025, 1, 1)) == later   # none started
    assert chosen_launch([running, later], today=date(2025, 7, 1)) == later


# --- many metrics ------------------------------------------------------------------------------

def made_up_metrics(count: int) -> bytes:
    return csv("date,metric,value", *(f"2025-01-01,m{i},1" for i in range(count)))


@pytest.mark.parametrize("count, says", [
    (limits.MAX_METRICS_PER_FILE + 1, "this table holds 10,001 different metrics; Lodestar takes "
                                      "at most 10,000 from one file"),
    # Past SAMPLE_FROM_ROWS rows the names are counted in a sample before they are grouped.
    (500_000, "this table holds at least"),
])
def test_a_table_of_made_up_metric_names_is_refused(seeded, tmp_path, capsys, count, says):
    assert says in refused_by_cli(seeded, tmp_path, capsys, made_up_metrics(count), "ids.csv")


def test_ten_thousand_metrics_are_defined_in_one_statement(database):
    with open_store(database) as store:
        [result] = import_files(store, [(made_up_metrics(limits.MAX_METRICS_PER_FILE), "m.csv")])
        defined = store.connection.execute("select count(*) from metrics where superseded_by is null "
                              "and batch_id = ?", [result.batch]).fetchall()[0][0]
    assert (result.inserted, defined) == (limits.MAX_METRICS_PER_FILE,) * 2


def test_long_sections_around_the_cells_are_no_long_cell(database):
    """Column widths before the cells and merged ranges after them can run to
    hundreds of kilobytes in a real workbook; only a cell is held to 32,767."""
    rows = HEADER + "".join(f'<row r="{n}">{H.number_cell(f"A{n}", 45000 + n)}'
                            f'{H.text_cell(f"B{n}", "visitors")}{H.number_cell(f"C{n}", n)}</row>'
                            for n in range(2, 12))
    widths = "<cols>" + "".join(f'<col min="{i}" max="{i}" width="9"/>'
                                for i in range(1, 16_000)) + "</cols>"
    merged = "<mergeCells>" + "".join(f'<mergeCell ref="E{i}:F{i}"/>'
                                      for i in range(1, 20_001)) + "</mergeCells>"
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{H.SPREADSHEET}">{widths}<sheetData>{rows}'
             f"</sheetData>{merged}</worksheet>").encode()
    assert len(widths) > 8 * limits.MAX_CELL_CHARS and len(merged) > 8 * limits.MAX_CELL_CHARS
    book = H.zipped(H.workbook_parts({"History": H.deflated("sheet", sheet)}))
    with open_store(database) as store:
        [result] = import_files(store, [(book, "formatted.xlsx")])
    assert (result.rows, result.inserted) == (10, 10)


def test_a_wide_file_with_long_lines_is_read_whole(database):
    """1,800 metrics of 20-digit values: lines past 32 KB, read a second time and
    their cells measured, all of them short."""
    names = [f"metric_{i:04d}" for i in range(1_800)]
    value = "1234567890.123456789"
    data = csv("date," + ",".join(names), *(f"2025-01-0{d}," + ",".join([value] * 1_800)
                                             for d in (1, 2)))
    assert len(data.splitlines()[1]) > limits.MAX_CELL_CHARS
    with open_store(database) as store:
        [result] = import_files(store, [(data, "wide.csv")])
    assert result.inserted == 3_600


def test_a_bad_cell_in_a_wide_file_is_named_by_row_and_column(database):
    """Past UNION_UP_TO_COLUMNS value columns the cells are unnested row by row:
    the refusal still names the cell's line and header, and nothing is stored."""
    names = [f"metric_{i:03d}" for i in range(300)]
    rows = [",".join(["2025-01-01", *(["7"] * 300)]),
            ",".join(["2025-01-02", *(["7"] * 299), "seven"])]
    with open_store(database) as store:
        with pytest.raises(InputError) as refused:
            import_files(store, [(csv("date," + ",".join(names), *rows), "wide.csv")])
        assert store.connection.execute("select count(*) from observations").fetchall() == [(0,)]
    assert "row 3, column 'metric_299': 'seven'" in str(refused.value)
