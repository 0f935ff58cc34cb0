"""kpi_logic/output/exports.py: the CSV and XLSX bytes behind every table's
download buttons. What people rely on: the numbers read back as the same
numbers, dates as dates, text exactly as stored (accents, long text), and
no cell a spreadsheet would run as a formula."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import MAX_CELL_CHARS
from kpi_logic.domain.safe_text import unquoted_frame
from kpi_logic.output import exports

HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=1", '=HYPERLINK("http://x?"&A1)',
           "-2+3+cmd|' /C calc'!A0", "＝1+1"]
LONG = "Zürich – 東京 – " + "lorem ipsum " * 800          # 9,600+ characters


def sample() -> pd.DataFrame:
    """A table as the pages hand it over: text from data, numbers with gaps,
    dates, date-times and yes/no."""
    rows = len(HOSTILE) + 2
    return pd.DataFrame({
        "Name": HOSTILE + ["Café ☕ Ünïcode", LONG],
        "Value": [1234567.891, np.nan, -5.0, 0.125, 1e-7, 42.0, 3.0, 2.5, 0.0, -0.04],
        "Count": np.arange(rows, dtype="int64"),
        "Day": [date(2026, 1, d + 1) for d in range(rows - 1)] + [None],
        "Saved": pd.to_datetime(["2026-12-07 14:38:01"] * rows),
        "In effect": [True, False] * (rows // 2),
    })


def sheet_rows(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return book.read("xl/worksheets/sheet1.xml").decode()


# ---------------------------------------------------------------- CSV

def test_csv_reads_back_through_pandas_as_the_same_values():
    frame = sample()
    read = pd.read_csv(io.BytesIO(exports.csv_bytes(frame)), parse_dates=["Saved"],
                       keep_default_na=False, na_values=[""])
    back = unquoted_frame(read)              # the quote prefix off again: the text as stored
    assert back["Name"].tolist() == frame["Name"].tolist()
    assert back["Value"].tolist()[2:] == frame["Value"].tolist()[2:]     # every digit
    assert back["Value"].tolist()[0] == 1234567.891 and np.isnan(back["Value"][1])
    assert back["Count"].tolist() == frame["Count"].tolist()
    assert back["Day"].tolist()[:-1] == [d.isoformat() for d in frame["Day"][:-1]]
    assert pd.isna(back["Day"].iloc[-1])
    assert back["Saved"].tolist() == frame["Saved"].tolist()
    assert back["In effect"].tolist() == frame["In effect"].tolist()


def test_csv_is_utf8_with_a_byte_order_mark_and_quotes_formula_text():
    data = exports.csv_bytes(sample().rename(columns={"Name": "=Name"}))
    assert data.startswith(b"\xef\xbb\xbf'=Name,Value,")             # Excel then reads UTF-8
    text = data.decode("utf-8-sig")
    assert "Café ☕ Ünïcode" in text and "\r\n'=1+2," in text and "\r\n'+SUM(A1)," in text
    assert "\r\n'\t=1," in text and "\r\n'＝1+1," in text
    assert not [line for line in text.split("\r\n")
                if line.startswith(("=", "+", "-", "@", "\t", "＝"))]


def test_csv_keeps_negative_numbers_as_numbers():
    data = exports.csv_bytes(pd.DataFrame({"Change": [-5.0, -0.125]})).decode("utf-8-sig")
    assert data == "Change\r\n-5.0\r\n-0.125\r\n"


# ---------------------------------------------------------------- XLSX

def test_xlsx_gives_numbers_as_numbers_dates_as_dates_and_text_as_written():
    frame = sample()
    header, *rows = sheet_rows(exports.xlsx_bytes(frame))
    assert header == list(frame.columns)
    assert [r[0] for r in rows] == frame["Name"].tolist()       # hostile text as written, no quote
    values = [r[1] for r in rows]
    assert values[0] == 1234567.891 and values[1] == "" and values[2:] == frame["Value"][2:].tolist()
    assert all(isinstance(v, float) for i, v in enumerate(values) if i != 1)
    assert [r[2] for r in rows] == frame["Count"].tolist()
    assert [r[3] for r in rows] == frame["Day"].tolist()[:-1] + [""]
    assert all(type(r[3]) is date for r in rows[:-1])
    assert {r[4] for r in rows} == {datetime(2026, 12, 7, 14, 38, 1)}
    assert [r[5] for r in rows] == frame["In effect"].tolist()


def test_xlsx_holds_no_formula_and_quotes_formula_text_as_text_cells():
    data = exports.xlsx_bytes(sample().rename(columns={"Name": "=cmd|' /C calc'!A0"}))
    assert "<f>" not in sheet_xml(data) and "<f " not in sheet_xml(data)
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert sheet["A1"].value == "=cmd|' /C calc'!A0" and sheet["A1"].quotePrefix
    hostile = [c for c in sheet["A"][1:] if c.value in HOSTILE]
    assert len(hostile) == len(HOSTILE) and all(c.quotePrefix and c.data_type == "s"
                                                for c in hostile)


def test_xlsx_keeps_unicode_and_long_text_whole():
    rows = sheet_rows(exports.xlsx_bytes(sample()))
    assert rows[-2][0] == "Café ☕ Ünïcode"
    assert rows[-1][0] == LONG and len(LONG) > 9_000


def test_xlsx_header_is_bold_and_frozen_and_columns_fit_their_text():
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(sample()))).active
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F11"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEF"}
    assert widths["A"] == exports.WIDEST                     # the long text, capped
    assert 12 <= widths["D"] <= 14                           # "2026-01-01"
    assert 20 <= widths["E"] <= 22                           # "2026-12-07 14:38:01"
    assert widths["B"] >= len("1,234,567.89")


def test_xlsx_formats_numbers_in_their_unit_per_column_or_per_row():
    frame = pd.DataFrame({"Value": [0.125, 30870.61, 3.5, 12.0], "Share": [0.4, 0.5, 0.6, 0.7],
                          "Unit": ["percent", "currency", "duration", "number"]})
    data = exports.xlsx_bytes(frame, units={"Value": frame["Unit"].tolist(), "Share": "percent"})
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.number_format for c in sheet["A"][1:]] == ["0.0%", '"$"#,##0.00', '0.0 "h"', "General"]
    assert {c.number_format for c in sheet["B"][1:]} == {"0.0%"}
    assert [r[0] for r in sheet_rows(data)[1:]] == [0.125, 30870.61, 3.5, 12.0]     # values kept


def test_xlsx_writes_what_a_cell_cannot_hold_plainly():
    frame = pd.DataFrame({"Text": ["bell\x07here", "x" * (MAX_CELL_CHARS + 10), "ok"],
                          "Trend": [[1.0, 2.5], [], [3]], "Far": [np.inf, -np.inf, 1.0],
                          "At": pd.to_datetime(["2026-12-07 14:38:01.6"] * 3).tz_localize("UTC")})
    rows = sheet_rows(exports.xlsx_bytes(frame))[1:]
    assert rows[0][0] == "bell\ufffdhere"                          # XML holds no control character
    assert len(rows[1][0]) == MAX_CELL_CHARS                       # Excel's limit for a cell
    assert [r[1] for r in rows] == ["1.0; 2.5", "", "3"]
    assert [r[2] for r in rows] == ["", "", 1.0]                   # infinite is missing
    assert rows[0][3] == datetime(2026, 12, 7, 14, 38, 1)


def test_a_table_larger_than_a_sheet_is_refused_with_a_sentence():
    tall = pd.DataFrame({"n": np.zeros(exports.EXCEL_ROWS, dtype="int8")})
    assert "1,048,575" in exports.xlsx_refusal(tall) and "CSV" in exports.xlsx_refusal(tall)
    with pytest.raises(InputError, match="download the CSV instead"):
        exports.xlsx_bytes(tall)
    assert exports.xlsx_refusal(tall.iloc[:-1]) is None


def test_the_sheet_is_named_after_the_table_as_excel_allows():
    data = exports.xlsx_bytes(pd.DataFrame({"a": [1]}), sheet="'Marketing: plain/metrics [Q4]?' long")
    title = load_workbook(io.BytesIO(data)).active.title
    assert title == "Marketing  plain metrics  Q4"


def test_neither_writer_mutates_the_frame():
    frame = sample()
    before = frame.copy()
    exports.csv_bytes(frame)
    exports.xlsx_bytes(frame, units={"Value": "currency"})
    pd.testing.assert_frame_equal(frame, before)


# ---------------------------------------------------------------- file names

@pytest.mark.parametrize("page, table, expected", [
    ("scorecard", "Marketing plain metrics", "scorecard-marketing-plain-metrics-2026-12-07"),
    ("okrs", "Café: grow / \"win\" key results", "okrs-cafe-grow-win-key-results-2026-12-07"),
    ("okrs", "東京", "okrs-2026-12-07"),
    ("launch", "../../etc/passwd", "launch-etc-passwd-2026-12-07"),
])
def test_file_names_are_page_table_and_day_in_safe_characters(page, table, expected):
    for extension in ("csv", "xlsx"):
        name = exports.file_name(page, table, date(2026, 12, 7), extension)
        assert name == f"{expected}.{extension}"
        assert re.fullmatch(r"[a-z0-9-]+\.(csv|xlsx)", name)


def test_a_long_table_name_is_cut():
    name = exports.file_name("okrs", "x" * 500, date(2026, 12, 7), "csv")
    assert len(name) < 90 and name.endswith("-2026-12-07.csv")
