"""kpi_logic.domain.safe_text: no cell the app shows, lets people download or writes
to a workbook is one a spreadsheet would run, and quoting loses nothing."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from python_calamine import CalamineWorkbook

from kpi_logic.demo import company as demo
from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.safe_text import (
    is_formula_like,
    is_plain_number,
    spreadsheet_safe,
    spreadsheet_safe_frame,
    spreadsheet_safe_workbook,
    unquoted,
    unquoted_frame,
)
from kpi_logic.ingest import template
from kpi_logic.ingest.importing import import_files
from tests.hostile import FORMULAS, HOSTILE, HYPERLINK, runs_as_formula

# Texts the app writes itself that start with a sign: numbers, left alone.
APP_NUMBERS = ["-5", "+5", "-12.5%", "-$1.2k", "-51 min", "+0.5 pp", "-3.2 h", "-1,234",
               "-$1,234.50", "+$1.2k (+12.5%)", "+5,000 (new)", "-37 (-18.0%)", "-€40", "+4.56B"]
# Texts that look numeric at first but carry more: quoted.
NOT_NUMBERS = ["-5+5", "-5 (x)", "+1+1", "-2+3+cmd|' /C calc'!A0", "-", "- counts visitors",
               "-5%%", "-$", "+A1", "-1e5", "-12.5% of A1", "-5 (=A1)", "=5", "@5", " -5",
               "-5\t", "-1,23"]


@pytest.mark.parametrize("text", APP_NUMBERS)
def test_numbers_the_app_writes_are_plain_numbers_and_stay_as_they_are(text):
    assert is_plain_number(text)
    assert spreadsheet_safe(text) == text


@pytest.mark.parametrize("text", NOT_NUMBERS + list(FORMULAS))
def test_formula_like_text_gets_a_quote_prefix(text):
    assert not is_plain_number(text)
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -12.5, 0, None, float("nan"), date(2025, 3, 1), True,
                                   "Conversion rate", "5-a-side", "", "'quoted already"])
def test_numbers_dates_missing_values_and_harmless_text_pass_unchanged(value):
    assert spreadsheet_safe(value) is value


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
       st.sampled_from(["number", "currency", "percent", "duration"]))
def test_every_formatted_value_the_app_writes_is_left_alone(number, unit):
    for text in (fmt.format_value(number, unit), fmt.format_delta(number, unit),
                 fmt.format_change({"abs": number, "pct": number / 7}, unit),
                 fmt.format_count_delta(number), fmt.format_pct_change(number)):
        assert spreadsheet_safe(text) == text, text


@given(st.text())
def test_no_safe_text_starts_a_formula_unless_it_is_a_plain_number(text):
    safe = spreadsheet_safe(text)
    assert not runs_as_formula(safe)
    assert not safe.lstrip(" \n").startswith(("=", "+", "-", "@")) or is_plain_number(safe) \
        or safe.startswith("'")


@given(st.text())
def test_unquoted_gives_back_exactly_what_was_quoted(text):
    assert unquoted(spreadsheet_safe(text)) == text


@given(st.text(alphabet="'=+-@ ab1", max_size=8))
def test_quoting_round_trips_text_that_already_starts_with_apostrophes(text):
    assert unquoted(spreadsheet_safe(text)) == text
    assert unquoted(spreadsheet_safe("'" + text)) == "'" + text


def test_a_typed_quote_prefix_means_text_as_in_a_spreadsheet():
    assert unquoted("'=A1") == "=A1"
    assert unquoted("'Mia") == "'Mia"              # no formula after it: a real apostrophe


def test_frames_keep_numbers_as_numbers_and_quote_text_cells_and_names():
    frame = pd.DataFrame({"name": [HYPERLINK, "plain", None], "=total": [-5.0, 1.5, None],
                          "when": pd.to_datetime(["2025-03-01", None, "2025-04-01"]),
                          "flag": [True, False, True], "trend": [[1, 2], [-3], []]})
    before = frame.copy()
    safe = spreadsheet_safe_frame(frame)
    pd.testing.assert_frame_equal(frame, before)                # not mutated
    assert list(safe.columns) == ["name", "'=total", "when", "flag", "trend"]
    assert safe["name"].tolist()[:2] == ["'" + HYPERLINK, "plain"] and pd.isna(safe["name"][2])
    assert safe["'=total"].dtype == frame["=total"].dtype
    for column in ("when", "flag", "trend"):
        assert safe[column].tolist() == frame[column].tolist()
    back = unquoted_frame(safe).set_axis(frame.columns, axis=1)
    pd.testing.assert_frame_equal(back, frame)


def test_is_formula_like_reads_past_leading_spaces_and_line_breaks():
    assert is_formula_like("  =1+1") and is_formula_like("\n@SUM(A1)")
    assert not is_formula_like("  plain") and not is_formula_like("-5")


# ----------------------------------------------------------------- workbooks

# xlsx is XML, which keeps a carriage return as a line feed.
XLSX_TEXT = [text.replace("\r", "\n") for text in HOSTILE]


def hostile_book() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    for text in HOSTILE:
        sheet.append([text, -5, "-12.5%"])
    spreadsheet_safe_workbook(book)
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def test_a_written_workbook_holds_formula_text_as_text_cells():
    book = load_workbook(io.BytesIO(hostile_book()))
    cells = [cell for row in book["data"].iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    first = [row[0] for row in book["data"].iter_rows()]
    assert [c.value for c in first] == XLSX_TEXT               # exactly as written
    assert all(c.quotePrefix for c in first if c.value in FORMULAS or c.value[0] in "=+-@")
    assert [row[1].value for row in book["data"].iter_rows()] == [-5] * len(HOSTILE)


def test_a_written_workbook_reads_back_as_the_same_text():
    rows = CalamineWorkbook.from_filelike(io.BytesIO(hostile_book())).get_sheet_by_name(
        "data").to_python()
    assert [row[0] for row in rows] == XLSX_TEXT


def test_the_template_workbook_writes_formula_text_from_its_data_as_text(store, monkeypatch):
    frames = template.template_frames()
    frames["metrics"].loc[0, "description"] = HYPERLINK
    frames["kpis"].loc[0, "owner"] = "@SUM(1+1)"
    monkeypatch.setattr(template, "template_frames", lambda: frames)
    data = template.template_workbook()
    book = load_workbook(io.BytesIO(data))
    assert not [(s.title, c.coordinate) for s in book.worksheets for row in s.iter_rows()
                for c in row if c.data_type == "f"]
    import_files(store, [(data, template.FILE_NAME)])
    assert store.definitions.metrics()["website_visitors"].description == HYPERLINK


def test_the_demo_workbook_writer_holds_formula_text_as_text():
    data = demo.workbook_bytes({"sheet": pd.DataFrame({"text": list(FORMULAS)})},
                               date(2025, 1, 1))
    book = load_workbook(io.BytesIO(data))
    assert [c.data_type for row in book["sheet"].iter_rows(min_row=2) for c in row] == \
        ["s"] * len(FORMULAS)
