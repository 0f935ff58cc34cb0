"""read_tables: finding the header, loading rows as text, and refusing unreadable files."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tempfile

import pandas
import pytest

from kpi_logic.domain import vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.ingest import excel_cells, reading
from kpi_logic.ingest.reading import read_tables
from kpi_logic.store import staging

from .conftest import CORPUS, FIXTURES

READ = FIXTURES / "read"


def rows_of(store, raw) -> pandas.DataFrame:
    return store.staging.execute(f'select * from "{raw.table}" order by "_line"').df()


def values(data: pandas.DataFrame, column) -> list:
    """A column as a list, missing cells as None."""
    series = data[column] if isinstance(column, str) else data.iloc[:, column]
    return [None if pandas.isna(v) else v for v in series]


def frame(lines, columns, rows) -> pandas.DataFrame:
    data = pandas.DataFrame(rows, columns=list(columns), dtype="str")
    data.insert(0, "_line", pandas.Series(lines, dtype="int32"))
    return data


def read_fixture(store, name, **kwargs):
    return read_tables(store, (READ / name).read_bytes(), name, **kwargs)


def temp_tables(store) -> set[str]:
    return {r[0] for r in store.staging.execute(
        "select table_name from information_schema.tables where table_name like '\\_raw\\_%' escape '\\'"
    ).fetchall()}


def test_long_history_is_read_as_text_with_user_line_numbers(store):
    [raw] = read_fixture(store, "long_basic.csv")
    assert (raw.kind, raw.source, raw.sheet, raw.header_row, raw.n_rows) == \
        ("history_long", "csv", None, 1, 8)
    assert raw.columns == ("date", "metric", "value", "department", "channel")
    assert raw.sha256 == hashlib.sha256((READ / "long_basic.csv").read_bytes()).hexdigest()
    expected = frame(range(2, 10), raw.columns, [
        ["2025-01-01", "revenue", "$1,200", "Sales", "Search"],
        ["2025-01-01", "revenue", "€ 3.50", "Sales", "Social"],
        ["2025-01-02", "revenue", "(1,234.50)", "Sales", "Search"],
        ["2025-01-02", "conversion_rate", "12.5%", "Marketing", "Search"],
        ["2025-01-03", "conversion_rate", None, "Marketing", "Social"],
        ["2025-01-03", "leads", "-10", "Sales", "Email"],
        ["2025-01-04", "leads", "n/a", "Sales", "Email"],
        ["2025-01-04", "leads", "1,000,000", "Sales", "Partners"],
    ])
    pandas.testing.assert_frame_equal(rows_of(store, raw), expected, check_dtype=False)


def test_header_below_title_notes_blank_rows_and_a_blank_column(store):
    [raw] = read_fixture(store, "wide_title_rows.csv")
    assert (raw.kind, raw.header_row, raw.headers) == ("history_wide", 5, ("Month", "Revenue", "Leads"))
    expected = frame([6, 7, 8], ["month", "revenue", "leads"],
                     [["2025-01", "12,000", "30"], ["2025-02", "13,500", None],
                      ["2025-03", "9,000", "41"]])
    pandas.testing.assert_frame_equal(rows_of(store, raw), expected, check_dtype=False)


@pytest.mark.parametrize("name, kind, columns, n_rows", [
    ("tab_separated.tsv", "history_long", ("date", "metric", "value"), 2),
    ("pipe_separated.txt", "history_long", ("date", "metric", "value"), 2),
    ("utf8_bom.csv", "history_long", ("date", "metric", "value"), 1),
    # blank-header columns with nothing in them are dropped, so are all-empty rows
    ("blank_trailing_columns.csv", "history_long", ("date", "metric", "value"), 2),
    ("metrics.csv", "metrics", ("metric", "department", "unit", "direction", "aggregation",
                                "formula", "description"), 3),
    ("kpis.csv", "kpis", ("title", "metric", "target", "target_kind", "period", "department",
                          "tolerance"), 2),
    ("targets.csv", "targets", ("kpi", "period", "target"), 2),
    ("key_results.csv", "key_results", ("objective", "title", "metric", "start", "target",
                                        "start_date", "deadline", "owner"), 2),
    ("launches.csv", "launches", ("launch", "launch_date", "department", "conversion_target",
                                  "cac_target"), 1),
])
def test_delimiters_encodings_and_definition_files(store, name, kind, columns, n_rows):
    [raw] = read_fixture(store, name)
    assert (raw.kind, raw.columns, raw.decimal_comma, raw.n_rows) == (kind, columns, False, n_rows)
    assert len(rows_of(store, raw)) == n_rows


def test_quoted_separators_quotes_and_newlines_survive(store):
    [raw] = read_fixture(store, "quoted_crlf.csv")
    assert values(rows_of(store, raw), "department") == \
        ['Product, "core" team', "Product\r\nand design", "Product"]


def test_utf16_with_bom_reads_like_utf8(store):
    text = (READ / "long_basic.csv").read_text(encoding="utf-8")
    [utf16] = read_tables(store, text.encode("utf-16"), "unicode.txt")
    [utf8] = read_fixture(store, "long_basic.csv")
    pandas.testing.assert_frame_equal(rows_of(store, utf16), rows_of(store, utf8))


def test_bytes_file_object_and_path_give_the_same_table(store):
    path = READ / "long_basic.csv"
    with open(path, "rb") as handle:
        from_handle = read_tables(store, handle, "long_basic.csv")[0]
    from_bytes = read_tables(store, io.BytesIO(path.read_bytes()), "long_basic.csv")[0]
    from_path = read_tables(store, path, "long_basic.csv")[0]
    assert from_handle.sha256 == from_bytes.sha256 == from_path.sha256
    pandas.testing.assert_frame_equal(rows_of(store, from_handle), rows_of(store, from_bytes))
    pandas.testing.assert_frame_equal(rows_of(store, from_path), rows_of(store, from_bytes))


def parsed_values(store, raw) -> list:
    """The value column parsed with the decimal mark read_tables decided."""
    value, _ = staging.number_sql('"value"', raw.decimal_comma)
    return [r[0] for r in store.staging.execute(f'select {value} from "{raw.table}" order by "_line"').fetchall()]


@pytest.mark.parametrize("name, decimal_comma, numbers", [
    ("semicolon_decimal_comma.csv", True, [1234.5, 5.5, 3.5, 1234.5, 12]),
    ("semicolon_decimal_dot.csv", False, [1.5, 2]),
    # Dot thousands groups alone are European evidence in a ";" or tab file...
    ("semicolon_thousands_dots.csv", True, [1234, 2500, 12]),
    ("tab_thousands_dots.tsv", True, [1234567, 7]),
    # ...but a comma-separated file keeps the dot as its decimal mark.
    ("comma_thousands_shape.csv", False, [1.234, 2.5]),
])
def test_decimal_mark_is_decided_from_the_whole_file(store, name, decimal_comma, numbers):
    [raw] = read_fixture(store, name)
    assert raw.decimal_comma is decimal_comma
    assert parsed_values(store, raw) == numbers


@pytest.mark.parametrize("text, row, words", [
    ("date;metric;value\n2025-01-01;a;1.234\n2025-01-02;a;1.25\n", 3,
     "numbers here use dots between thousands ('1.234' on line 2), but '1.25' on this line can "
     "only be a decimal dot"),
    # The dot decimal may come first; the evidence quoted is its own cell and line.
    ("date;metric;value\n2025-01-01;a;3\n2025-01-02;a;0.5\n2025-01-03;a; 12.000 \n", 3,
     "dots between thousands ('12.000' on line 4), but '0.5' on this line"),
    ("date;metric;value\n2025-01-01;a;3\n2025-01-02;a;7,25\n2025-01-03;a;5.5\n", 4,
     "a decimal comma ('7,25' on line 3), but '5.5' on this line can only be a decimal dot"),
    # Pipe files take no dot groups as evidence, so "5.555" stays ambiguous there.
    ("date|metric|value\n2025-01-01|a|3\n2025-01-02|a|7,25\n2025-01-03|a|5.555\n", 4,
     "a decimal comma ('7,25' on line 3), but '5.555' on this line has a single dot and no "
     "comma, so it could mean a decimal or a thousands separator"),
])
def test_mixed_decimal_refusal_quotes_a_real_cell_of_each_kind(store, text, row, words):
    with pytest.raises(InputError) as caught:
        read_tables(store, text.encode(), "eu.csv")
    assert (caught.value.row, caught.value.column) == (row, "value")
    assert words in str(caught.value)


def test_temporary_upload_copy_is_deleted(store, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    read_fixture(store, "long_basic.csv")
    read_tables(store, (READ / "long_basic.csv").read_text().encode("utf-16"), "u.txt")
    with pytest.raises(InputError):
        read_fixture(store, "ragged_too_many.csv")
    assert list(tmp_path.iterdir()) == []


BAD_CSV = [
    ("empty.csv", "file is empty", None),
    ("header_only.csv", "no data rows", 1),
    ("ragged_too_many.csv", "4 fields but the header has 3", 5),
    ("ragged_too_few.csv", "2 fields but the header has 3", 3),
    ("unterminated_quote.csv", "never closed", 3),
    ("stray_quote.csv", "quote in the middle of a value", 3),
    ("latin1.csv", "file is not UTF-8; save it as CSV UTF-8", 2),
    ("no_header.csv", "no recognisable header", None),
    ("duplicate_headers.csv", "same header: 'Value' (column C) and 'value' (column D)", 1),
    ("blank_header_with_data.csv", "column D has values but no header", 3),
    ("semicolon_mixed_decimal.csv", "decimal comma ('5,5' on line 2)", 5),
    ("semicolon_thousands_and_decimal_dots.csv", "('1.234' on line 2)", 4),
]


@pytest.mark.parametrize("name, words, row", BAD_CSV)
def test_unreadable_csv_refused_naming_file_and_row(store, name, words, row):
    before = temp_tables(store)
    with pytest.raises(InputError) as caught:
        read_fixture(store, name)
    assert words in str(caught.value)
    assert str(caught.value).startswith(name)
    assert caught.value.row == row
    assert temp_tables(store) == before        # a refusal leaves no staging table behind


@pytest.mark.parametrize("data, name, words", [
    (gzip.compress(b"date,metric,value\n2025-01-01,a,1\n", mtime=0), "history.csv.gz", ".gz"),
    (b"\x00\x01\x02binary\x00junk" * 10, "history.csv", "not a text (CSV) file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "book.xlsx", "password-protected"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "book.xls", "save it as .xlsx"),
    (b"", "book.xlsx", "file is empty or not an Excel workbook"),
    (b"date,metric,value\n", "book.xlsx", "file is empty or not an Excel workbook"),
    (b"PK\x03\x04 not really a zip", "book.xlsx", "file is empty or not an Excel workbook"),
])
def test_files_that_are_not_csv_or_xlsx(store, data, name, words):
    with pytest.raises(InputError) as caught:
        read_tables(store, data, name)
    assert words in str(caught.value) and str(caught.value).startswith(name)


def test_size_and_row_caps(store, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 7)
    with pytest.raises(InputError, match="more than the 7"):
        read_fixture(store, "long_basic.csv")
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="larger than"):
        read_fixture(store, "long_basic.csv")


def test_sheet_option_refused_for_csv(store):
    with pytest.raises(InputError, match="CSV file, which has no sheets"):
        read_fixture(store, "long_basic.csv", sheet="History")


# --- Excel --------------------------------------------------------------------------------

def test_workbook_sheets_below_titles_with_typed_cells_and_error_cells(store):
    history, kpis = read_fixture(store, "history.xlsx")
    assert (history.sheet, history.kind, history.header_row, history.source) == \
        ("History", "history_long", 3, "xlsx")
    assert history.headers == ("Date", "Metric", "Value", "Channel")
    expected = frame([4, 5, 6, 7, 8, 9], history.columns, [
        ["2025-01-01", "revenue", "1200", "Search"],
        ["2025-01-02T10:00:00", "revenue", "1200.5", "Social"],
        ["2025-01-03", "conversion_rate", "0.125", "Search"],
        ["2025-01-04", "revenue", "#DIV/0!", "Search"],        # an error, never a missing value
        ["2025-01-05", "revenue", None, "Email"],
        ["2023-03-15", "revenue", "(1,234.50)", "Email"],      # serial 45000 in a date column
    ])
    pandas.testing.assert_frame_equal(rows_of(store, history), expected, check_dtype=False)
    assert (kpis.sheet, kpis.kind, kpis.n_rows) == ("kpis", "kpis", 1)
    assert any("hidden sheet 'Scratch' was skipped" in note for note in history.notes)


def test_sheet_option_picks_one_sheet_and_suggests_names(store):
    [kpis] = read_fixture(store, "history.xlsx", sheet="kpis")
    assert kpis.sheet == "kpis"
    with pytest.raises(InputError) as caught:
        read_fixture(store, "history.xlsx", sheet="kpi")
    assert "the sheets are: History, kpis, Scratch" in str(caught.value)
    assert "Did you mean 'kpis'?" in str(caught.value)
    with pytest.raises(InputError, match="no recognisable header|neither history"):
        read_fixture(store, "history.xlsx", sheet="Scratch")     # hidden, named: read, and refused


def test_1904_date_system_and_durations(store):
    [raw] = read_fixture(store, "date1904.xlsx")
    expected = frame([2, 3], ["month", "revenue", "handle_time"],
                     [["2021-01-01", "15", "255:10:10"], ["2021-01-02", "16", "0:05:00"]])
    pandas.testing.assert_frame_equal(rows_of(store, raw), expected, check_dtype=False)


@pytest.mark.parametrize("name, words", [
    ("serial_overflow.xlsx", "cell A2 holds 2994626"),
    ("unknown_sheet.xlsx", "sheet 'Lists' is neither history nor a definition"),
])
def test_bad_workbooks(store, name, words):
    before = temp_tables(store)
    with pytest.raises(InputError) as caught:
        read_fixture(store, name)
    assert words in str(caught.value) and str(caught.value).startswith(name)
    assert temp_tables(store) == before


def test_unknown_sheet_error_lists_every_sheet(store):
    with pytest.raises(InputError) as caught:
        read_fixture(store, "unknown_sheet.xlsx")
    assert caught.value.problems == [
        "'Lists': no header found (first filled row: Regions we sell in)",
        "'History': history long"]


def test_notes_sheets_are_skipped_with_a_note_and_the_data_sheet_read(store):
    [history] = read_fixture(store, "notes_sheets.xlsx")
    assert (history.sheet, history.kind, history.header_row, history.n_rows) == \
        ("History", "history_long", 3, 1)    # a title starting "Notes:" above data is no notes sheet
    assert values(rows_of(store, history), "metric") == ["visitors"]
    skipped = [n for n in history.notes if "holds notes or instructions and was skipped" in n]
    assert [n.split("'")[1] for n in skipped] == ["README", "Guide"]   # by name; by first cell


def test_a_notes_sheet_named_with_sheet_is_read(store):
    [readme] = read_fixture(store, "notes_sheets.xlsx", sheet="README")
    assert (readme.kind, readme.header_row, readme.n_rows) == ("history_long", 2, 1)
    with pytest.raises(InputError, match="no recognisable header|neither history"):
        read_fixture(store, "notes_sheets.xlsx", sheet="Guide")


@pytest.mark.parametrize("sheet_name, notes", [
    ("README", True), ("Read me", True), ("read-me", True), (" Instructions ", True),
    ("Notes", True), ("About", True), ("Help", True),
    ("Notebook", False), ("History", False), ("Helpdesk tickets", False),
])
def test_notes_sheet_names(sheet_name, notes):
    assert vocabulary.is_notes_sheet(sheet_name) is notes


@pytest.mark.parametrize("first_cell, notes", [
    ("Instructions: fill the History sheet", True), ("Read me first", True),
    ("How to use this workbook", True), ("NOTES", True),
    ("Notebook sales", False), ("About 500 visitors", False), ("This workbook holds our numbers", False),
])
def test_notes_sheet_first_cells(first_cell, notes):
    assert vocabulary.is_notes_text(first_cell) is notes


def test_merged_cells_and_empty_sheets_are_noted(store):
    [merged] = read_fixture(store, "merged.xlsx")
    assert any("merged cells in the data (B2:B3)" in note for note in merged.notes)
    assert values(rows_of(store, merged), "metric") == ["visitors", None]
    [data] = read_fixture(store, "empty_first_sheet.xlsx")
    assert data.sheet == "Data" and "sheet 'Empty' is empty and was skipped" in data.notes


@pytest.mark.parametrize("value, column, date1904, text", [
    (None, "value", False, None), ("  ", "value", False, None), (True, "value", False, "true"),
    (1200.0, "value", False, "1200"), (1200.5, "value", False, "1200.5"), (7, "value", False, "7"),
    (0.1 + 0.2, "value", False, "0.30000000000000004"), (1e16, "value", False, "1e+16"),
    (45000, "date", False, "2023-03-15"), (45000.5, "date", False, "2023-03-15T12:00:00"),
    (42736, "month", True, "2021-01-02"), (2025, "year", False, "2025"),
    (dt.date(2025, 3, 1), "date", False, "2025-03-01"),
    (dt.datetime(2025, 3, 1, 10, 0), "date", False, "2025-03-01T10:00:00"),
    (dt.timedelta(hours=255, minutes=10, seconds=10), "handle_time", False, "255:10:10"),
    (dt.timedelta(seconds=-90), "handle_time", False, "-0:01:30"), (" Search ", "channel", False, " Search "),
])
def test_excel_cells_as_canonical_text(value, column, date1904, text):
    assert excel_cells.cell_text(value, column, date1904, "f.xlsx", "S", 1, 0) == text


def test_sheet_records_leave_the_rows_alone_and_skip_empty_rows():
    rows = [["title", "", ""], ["date", "metric", "value"], [45000.0, "visitors", 10.0],
            ["", "", ""], [45001.0, "visitors", ""]]
    before = [list(r) for r in rows]
    records = excel_cells.sheet_records(rows, 1, [(0, "date"), (1, "metric"), (2, "value")],
                                          False, "f.xlsx", "S")
    assert records == [[3, "2023-03-15", "visitors", "10"], [5, "2023-03-16", "visitors", None]]
    assert rows == before


# --- The shared corpus: tricky files from other projects' test suites ----------------------

def needs_corpus(test):
    """Mark a test as reading ../shared/corpus, skipped with a reason when it is absent."""
    skip = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder not present")
    return pytest.mark.corpus(skip(test))


corpus_files = sorted(p for folder in ("csv", "xlsx") for p in (CORPUS / folder).glob("*")) \
    if CORPUS.is_dir() else []
# What each corpus file must give: a table of this kind and row count, or a refusal.
CORPUS_READABLE = {"derived_formula_injection_metrics.csv": ("history_long", 15)}


@needs_corpus
@pytest.mark.parametrize("path", corpus_files, ids=lambda p: p.name)
def test_corpus_file_is_read_right_or_refused_naming_it(store, path):
    try:
        tables = read_tables(store, path.read_bytes(), path.name)
    except InputError as refused:
        assert path.name not in CORPUS_READABLE, str(refused)
        assert str(refused).startswith(path.name)
        return
    assert [(t.kind, t.n_rows) for t in tables] == [CORPUS_READABLE[path.name]]


@needs_corpus
def test_corpus_formula_injection_text_is_kept_verbatim(store):
    [raw] = read_tables(store, (CORPUS / "csv" / "derived_formula_injection_metrics.csv").read_bytes(),
                        "derived_formula_injection_metrics.csv")
    data = rows_of(store, raw)
    assert values(data, "metric")[:3] == ["value", "-10", "@value"]
    assert values(data, "metric")[9] == '""=10+2'
    assert values(data, "value")[-2:] == ["=1+2", "-10"]
    assert values(data, "_line") == list(range(2, 17))
    number, invalid = staging.number_sql('"value"')
    parsed = store.staging.execute(f'select "_line", {number}, {invalid} from "{raw.table}" '
                         'where "_line" >= 15 order by 1').fetchall()
    assert parsed == [(15, None, True), (16, -10.0, False)]   # a formula is an error; -10 a number


@pytest.fixture
def any_header(monkeypatch):
    """Accept any first row as a header, to check the CSV/Excel mechanics on the corpus."""
    monkeypatch.setattr(vocabulary, "classify_columns", lambda columns, name=None: "history_wide")


SPECTRUM = ["comma_in_quotes", "escaped_quotes", "newlines_crlf", "quotes_and_newlines", "empty"]


@needs_corpus
@pytest.mark.parametrize("stem", SPECTRUM)
def test_corpus_spectrum_content_matches_expected_json(store, any_header, stem):
    name = f"spectrum_{stem}.csv"
    [raw] = read_tables(store, (CORPUS / "csv" / name).read_bytes(), name)
    expected = json.loads((CORPUS / "expected" / f"spectrum_{stem}.json").read_text())
    got = rows_of(store, raw).drop(columns="_line").fillna("")   # "" is missing: documented
    assert got.to_dict("records") == expected


@needs_corpus
@pytest.mark.parametrize("name, column, expected", [
    ("duckdb_utf8bom.csv", "id", ["1", "2"]),
    ("duckdb_utf16.csv", "name", None),
    ("duckdb_leading_zeros.csv", "codgeo", ["09001", "09002", "09003", "09004", "09005", "09006"]),
    ("duckdb_multiple_nulls.csv", "age", ["31", "null", "26"]),
    ("duckdb_thousands_multi_column_quote.csv", "money",
     ["100,000.00", "300,000.20", "300,000,000.40", "50", "9999999999.20"]),
])
def test_corpus_csv_cells_stay_as_written(store, any_header, name, column, expected):
    [raw] = read_tables(store, (CORPUS / "csv" / name).read_bytes(), name)
    got = values(rows_of(store, raw), column)
    if expected is None:     # UTF-16: decoded, not garbled
        assert got[0] == "José Álvarez" and "\ufffd" not in "".join(got)
    else:
        assert got == expected


@needs_corpus
@pytest.mark.parametrize("name, words, row", [
    ("duckdb_error_too_many.csv", "3 fields but the header has 2", 6),
    ("duckdb_error_too_little.csv", "1 fields but the header has 2", 7),
    ("duckdb_unterminated.csv", "never closed", 1),
    ("duckdb_latin1.csv", "not UTF-8", 2),
    ("duckdb_invalid_utf.csv", "not UTF-8", 1),
    ("duckdb_mixed_line_endings.csv", "could not be read as CSV", None),
])
def test_corpus_broken_csv_refused_with_line_even_with_any_header(store, any_header, name, words,
                                                                  row):
    with pytest.raises(InputError) as caught:
        read_tables(store, (CORPUS / "csv" / name).read_bytes(), name)
    assert words in str(caught.value) and caught.value.row == row


@needs_corpus
def test_corpus_excel_mechanics(store, any_header):
    def read(name, **kwargs):
        return read_tables(store, (CORPUS / "xlsx" / name).read_bytes(), name, **kwargs)
    # 1904 date system: 2021-01-01, and a 255-hour duration not wrapped to a time of day
    [book] = read("calamine_date_1904.xlsx")
    assert book.headers == ("2021-01-01", "15")
    assert values(rows_of(store, book), 1) == ["2021-01-02", "255:10:10"]
    # error cells keep their text (python-calamine alone gives empty strings)
    [errors] = read("calamine_errors.xlsx")
    assert values(rows_of(store, errors), 1) == \
        ["#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"]
    [middle] = read("calamine_temperature-in-middle.xlsx")
    assert (middle.header_row, middle.headers) == (4, ("label", "value"))
    assert values(rows_of(store, middle), "value") == ["22.2222", "72"]
    [sheet] = read("duckdbexcel_two_sheets.xlsx", sheet="My Sheet")
    assert (sheet.header_row, values(rows_of(store, sheet), "x")) == (3, ["foo"])
    with pytest.raises(InputError, match="Did you mean 'My Sheet'"):
        read("duckdbexcel_two_sheets.xlsx", sheet="my sheet")
    tables = read("pycalamine_any_sheets.xlsx")
    assert [t.sheet for t in tables] == ["Visible"]       # hidden skipped, chart sheet excluded
    assert len([n for n in tables[0].notes if n.startswith("hidden sheet")]) == 2
    with pytest.raises(InputError, match="cell A2 holds 2994626"):
        read("pycalamine_issue139.xlsx")
    with pytest.raises(InputError, match="no data rows"):
        read("duckdbexcel_header_only.xlsx")


@pytest.mark.parametrize("bad_line, words", [
    (b"2025-01-02,caf\xe9,1\n", "file is not UTF-8"),
    (b'2025-01-02,"caf,1\n', "never closed"),
])
def test_damage_past_the_sniffed_start_is_found_by_duckdb_with_its_line(store, bad_line, words):
    data = b"date,metric,value\n" + b"2025-01-01,visitors,200\n" * 12000 + bad_line
    assert len(data) > reading.SNIFF_BYTES
    with pytest.raises(InputError) as caught:
        read_tables(store, data, "late.csv")
    assert words in str(caught.value) and caught.value.row == 12002


def test_reading_leaves_no_pending_result_on_the_connection(store):
    # DuckDB 2 refuses register()/sql() while an execute() result is unfetched.
    read_fixture(store, "semicolon_decimal_comma.csv")
    read_fixture(store, "blank_trailing_columns.csv")
    assert [t.sheet for t in read_fixture(store, "history.xlsx")] == ["History", "kpis"]
    assert store.staging.sql("select 1").fetchall() == [(1,)]


def test_an_upload_object_is_never_read_from_a_same_named_local_file(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kpis.csv").write_text("name,age\nx,1\n")     # unrelated file, same name

    class Upload(io.BytesIO):     # like Streamlit's UploadedFile: a BytesIO with a .name
        name = "kpis.csv"
    [raw] = read_tables(store, Upload((READ / "kpis.csv").read_bytes()), "kpis.csv")
    assert raw.kind == "kpis"


def test_formula_without_a_saved_result_is_its_formula_text_never_missing(store):
    [raw] = read_fixture(store, "formulas.xlsx")
    expected = frame(range(2, 7), raw.columns, [
        ["2025-01-01", "visitors", "=1+2"],
        ["2025-01-02", "visitors", "10"],                 # a saved result stays its number
        ["2025-01-03", "visitors", None],                 # a saved empty text stays missing
        ["2025-01-04", "visitors", "7"],
        [None, None, '=SUM(C2:C5)&"<"'],                  # past calamine's range, still read
    ])
    pandas.testing.assert_frame_equal(rows_of(store, raw), expected)


def test_formula_without_a_saved_result_is_refused_by_the_importer(store):
    from kpi_logic.ingest.importing import import_files
    data = (READ / "formulas.xlsx").read_bytes()
    with pytest.raises(InputError) as caught:
        import_files(store, [(data, "formulas.xlsx")])
    assert "row 2, column 'value': '=1+2' is not a number" in str(caught.value)
    assert "row 3" not in str(caught.value) and "row 4" not in str(caught.value)
