"""Excel cells made text a column at a time (ingest/excel_cells.py): each cell
gets the text cell_text's rule gives it, a sheet with bad cells is refused at
the cell a row-by-row reading meets first, and a workbook column mixing
numbers, numbers written as text, blanks and dates is stored as the same
content written as CSV is, with the same refusals."""
from __future__ import annotations

import datetime as dt
import io

import duckdb
import openpyxl
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.ingest import excel_cells
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store, staging

from .test_importing import current_observations

# Every kind of value python-calamine hands over, in a value column and a date column.
VALUES = [None, "", "  ", 1200.0, 1200.5, 7, -0.0, 0.1 + 0.2, 1e16, 1e15, 999999999999999.0,
          123456789012345.6, -3.25, 5e-324, 1e-05, True, False, "1,234.50", "$12", " 12% ",
          "(5)", "visitors", "n/a", " Search ", dt.date(2025, 3, 1),
          dt.datetime(2025, 3, 1, 10, 0), dt.time(9, 30), dt.timedelta(hours=255, seconds=10),
          dt.timedelta(seconds=-90), 45000, 45000.5]
DATES = [None, "", " ", 45000, 45000.0, 45000.5, 45000.999999, 2.0, 100000.0, 60.0, 61.0,
         dt.date(2025, 3, 1), dt.datetime(2025, 3, 1, 10, 0), dt.datetime(2025, 3, 1),
         "2025-03-04", "03/04/2025", True, dt.timedelta(days=1), 45000.25]
KEEP = [(0, "date"), (1, "metric"), (2, "value")]


def reference_records(rows, header_index: int, keep, date1904: bool) -> list[list]:
    """The rows read one by one and each cell by cell_text (the rule)."""
    records = []
    for index, row in enumerate(rows):
        if index > header_index:
            cells = [excel_cells.cell_text(row[p] if p < len(row) else "", column, date1904,
                                           "f.xlsx", "S", index, p) for p, column in keep]
            if any(c is not None for c in cells):
                records.append([index + 1, *cells])
    return records


def mixed_rows() -> list[list]:
    rows = [["Sales history"], ["date", "metric", "value"]]
    for i in range(3 * len(VALUES) * len(DATES)):
        rows.append([DATES[i % len(DATES)], "visitors" if i % 5 else "", VALUES[i % len(VALUES)]])
    # Rows shorter than the header (an error cell put back past calamine's range) and empty.
    return rows + [[], [45001.0], ["", "", ""], ["", "", "", ""], [45002.0, "visitors", 3.0]]


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("size", [7, excel_cells.CHUNK_ROWS])
def test_each_cell_gets_the_text_of_the_cell_by_cell_rule(date1904, size):
    rows = mixed_rows()
    before = [list(r) for r in rows]
    frames = list(excel_cells.record_frames(rows, 1, KEEP, date1904, "f.xlsx", "S", size=size))
    records = [[line, *cells] for frame in frames
               for line, *cells in frame.itertuples(index=False, name=None)]
    assert records == reference_records(rows, 1, KEEP, date1904)
    assert all(type(c) is str or c is None for record in records for c in record[1:])
    assert all(frame.columns.tolist() == ["_line", "date", "metric", "value"] for frame in frames)
    assert rows == before


HEADER = ["date", "metric", "value"]
NUMBERS = [v for v in VALUES if type(v) in (int, float)] + [None, "", "  "] + [
    x / 7 for x in range(-40, 40)] + [2.5e-8, 1e300, -1e15, 1e15 - 1, 2.0 ** 53]


@pytest.mark.parametrize("size", [5, excel_cells.CHUNK_ROWS])
def test_a_column_of_numbers_is_staged_as_the_same_text_through_sql(size):
    # With numbers=True the value column (numbers and blanks only) stays float64
    # and load_frame writes its text in SQL: the staged rows are the rule's text.
    rows = [HEADER] + [[45000.0 + i, "visitors", v] for i, v in enumerate(NUMBERS)] + [
        [45999.0, "visitors", None]]
    frames = list(excel_cells.record_frames(rows, 0, KEEP, False, "f.xlsx", "S", size=size,
                                            numbers=True))
    assert {str(f["value"].dtype) for f in frames} == {"float64"}
    assert {str(f["metric"].dtype) for f in frames} == {"object"}
    con = duckdb.connect()
    for n, frame in enumerate(frames):
        staging.load_frame(con, frame, table="staged", append=n > 0)
    staged = [list(r) for r in con.execute(
        'select "_line", date, metric, value from staged order by "_line"').fetchall()]
    assert staged == reference_records(rows, 0, KEEP, False)


def test_a_column_with_text_or_dates_stays_text_with_numbers_on():
    rows = [HEADER, [45000.0, "visitors", 1.0], [45001.0, "visitors", "n/a"],
            [45002.0, "visitors", dt.date(2025, 1, 1)]]
    for cut in (2, 3):
        frame, = excel_cells.record_frames(rows[:cut + 1], 0, KEEP, False, "f.xlsx", "S",
                                           numbers=True)
        assert frame["value"].dtype == object and frame["date"].dtype == object
        assert frame["value"].tolist()[-1] in ("n/a", "2025-01-01")


@pytest.mark.parametrize("rows, says, row", [
    # A serial outside the dates on row 3 is met before a value without a header on row 4.
    ([HEADER, [45000.0, "v", 1.0], [1e9, "v", 1.0], [45000.0, "v", 1.0, "x"]],
     "cell A3 holds 1000000000, which as a date is outside the dates", 3),
    ([HEADER, [45000.0, "v", 1.0, "x"], [1e9, "v", 1.0]],
     "cell D2 has a value but its column has no header", 2),
    # On one row the named columns come first, left to right, then the others.
    ([HEADER, [45000.0, "v", 1.0], [45000.0, "v\x00w", 1.0, "x"]], "NUL character", 3),
    ([HEADER, [45000.0, "v", 1.0], [-5.0, "v\x00w", 1.0, "x"]], "cell A3 holds -5", 3),
    ([HEADER, [45000.0, "v", "a\x00"], [1e9, "v\x00", 1.0]], "NUL character", 2),
])
def test_the_cell_refused_is_the_first_a_reading_in_rows_meets(rows, says, row):
    with pytest.raises(InputError, match=says) as refused:
        excel_cells.sheet_records(rows, 0, KEEP, False, "f.xlsx", "S")
    assert refused.value.row == row and (refused.value.file, refused.value.sheet) == ("f.xlsx", "S")


def test_a_nul_is_refused_naming_its_column():
    rows = [HEADER, [45000.0, "v", 1.0], [45001.0, "v", "1\x00"]]
    with pytest.raises(InputError) as refused:
        excel_cells.sheet_records(rows, 0, KEEP, False, "f.xlsx", "S")
    assert (refused.value.row, refused.value.column) == (3, "value")


# (date cell, value cell) in the workbook, and the same line as a CSV writes it.
MIXED = [
    ((dt.date(2025, 1, 1), 1200), "2025-01-01,visitors,1200"),
    ((45659, "1,234.50"), '2025-01-02,visitors,"1,234.50"'),       # a serial, a text number
    (("2025-01-03", "$12"), "2025-01-03,visitors,$12"),
    ((dt.datetime(2025, 1, 4), " 12% "), "2025-01-04T00:00:00,visitors, 12% "),
    ((dt.date(2025, 1, 5), "(5)"), "2025-01-05,visitors,(5)"),
    ((dt.date(2025, 1, 6), None), "2025-01-06,visitors,"),
    ((dt.date(2025, 1, 7), 1 / 3), "2025-01-07,visitors,0.3333333333333333"),
    ((dt.date(2025, 1, 8), "n/a"), "2025-01-08,visitors,n/a"),
    ((45666.0, 7.5), "2025-01-09,visitors,7.5"),
    ((dt.date(2025, 1, 10), 1e16), "2025-01-10,visitors,1e+16"),
    ((dt.date(2025, 1, 11), -0.0), "2025-01-11,visitors,0"),
]


def workbook_bytes(cells: list[tuple]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(HEADER)
    for day, value in cells:
        sheet.append([day, "visitors", value])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def stored_and_refused(location, data: bytes, name: str):
    """(current observations, None) after importing the file, or (None, refusal)."""
    with open_store(location) as store:
        try:
            import_files(store, [(data, name)])
        except InputError as refused:
            return None, (refused.message, refused.problems, refused.total_problems)
        return current_observations(store), None


@pytest.mark.parametrize("bad", [None, ("abc", "abc"), ("12..5", "12..5")],
                         ids=["readable", "text", "two-dots"])
def test_a_mixed_column_is_stored_and_refused_as_the_same_csv(databases, bad):
    cells = [c for c, _ in MIXED] + ([(dt.date(2025, 1, 12), bad[0])] if bad else [])
    lines = [line for _, line in MIXED] + ([f"2025-01-12,visitors,{bad[1]}"] if bad else [])
    from_csv = stored_and_refused(databases.new("csv"),
                                  ("\n".join([",".join(HEADER), *lines]) + "\n").encode(),
                                  "history.csv")
    from_xlsx = stored_and_refused(databases.new("xlsx"), workbook_bytes(cells), "history.xlsx")
    if bad is None:
        assert from_csv[1] is None and from_xlsx[1] is None
        assert_frame_equal(from_xlsx[0], from_csv[0])
        assert len(from_xlsx[0]) == 9
    else:
        assert from_csv[0] is None and from_xlsx[1] == from_csv[1]
        assert any("row 13, column 'value'" in p for p in from_xlsx[1][1])
