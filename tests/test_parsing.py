"""Number and date parsing (store.staging SQL), the date order of a column, and header vocabulary."""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_logic.domain import vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.reading import read_tables
from kpi_logic.store import staging

from .conftest import FIXTURES

READ = FIXTURES / "read"
# Hypothesis runs many examples; one plain DuckDB connection serves them all.
SHARED = duckdb.connect()


def one_number(text, decimal_comma=False):
    row = staging.parse_numbers(SHARED, [text], decimal_comma).iloc[0]
    return (None if pandas.isna(row["value"]) else float(row["value"])), bool(row["invalid"])


def one_date(text, order="ymd", allow_year=False):
    row = staging.parse_dates(SHARED, [text], order, allow_year=allow_year).iloc[0]
    return (None if pandas.isna(row["value"]) else row["value"].date()), bool(row["invalid"])


@pytest.mark.parametrize("text, value", [
    ("1", 1.0), ("-10", -10.0), ("+5", 5.0), ("0.5", 0.5), (".5", 0.5), ("  42  ", 42.0),
    ("1,234", 1234.0), ("1,000,000", 1_000_000.0), ("1,234.56", 1234.56),
    ("12.5%", 0.125), ("-3%", -0.03), ("(1,234.50)", -1234.5), ("($40)", -40.0),
    ("$1,200", 1200.0), ("-$1,200", -1200.0), ("€ 3.50", 3.5), ("3.50 €", 3.5), ("£7", 7.0),
    ("¥100", 100.0), ("USD 100", 100.0), ("100 eur", 100.0), ("1e5", 100000.0),
    ("1.53e4", 15300.0), ("−7", -7.0),
])
def test_numbers_that_parse(text, value):
    parsed, invalid = one_number(text)
    assert not invalid
    assert parsed == pytest.approx(value)


@pytest.mark.parametrize("text", [None, "", "   ", "null", "NULL", "none", "n/a", "N/A", "na", "-"])
def test_missing_is_null_never_zero(text):
    assert one_number(text) == (None, False)


@pytest.mark.parametrize("text", [
    "=1+2", "#DIV/0!", "#N/A", "#VALUE!", "300,0,00.40", "30,0,0.406", "1,23", "abc", "12abc",
    "(5", "5)", "1_000", "nan", "inf", "5,5", "1.2.3", "$", "%",
])
def test_invalid_numbers_are_errors_not_missing(text):
    assert one_number(text) == (None, True)


@pytest.mark.parametrize("text, value", [
    ("5,5", 5.5), ("1.234,5", 1234.5), ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5),
    ("€ 3,50", 3.5), ("-1,53e4", -15300.0), ("+1,53e4", 15300.0), ("12", 12.0),
    ("12,5%", 0.125), ("(1.234,50)", -1234.5), ("1.234.567,89", 1234567.89),
])
def test_decimal_comma_numbers(text, value):
    parsed, invalid = one_number(text, decimal_comma=True)
    assert not invalid
    assert parsed == pytest.approx(value)


@pytest.mark.parametrize("text", ["1,2,3", "12.34.5", "=1+2", "1.23,4"])
def test_decimal_comma_refuses_malformed(text):
    assert one_number(text, decimal_comma=True) == (None, True)


def test_parse_numbers_returns_rows_in_order_and_leaves_input_alone():
    texts = ["3", None, "x", "1,000"]
    frame = staging.parse_numbers(SHARED, texts)
    expected = pandas.DataFrame({"text": ["3", None, "x", "1,000"],
                                 "value": [3.0, None, None, 1000.0],
                                 "invalid": [False, False, True, False]})
    pandas.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert texts == ["3", None, "x", "1,000"]


def grouped(number: float, places: int) -> str:
    return f"{number:,.{places}f}"


@settings(max_examples=150, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 4),
       st.sampled_from(["{}", "${}", "€ {}", "{} USD", "{}%"]), st.booleans())
def test_any_formatted_number_parses_back(number, places, template, accounting):
    text = template.format(grouped(abs(number) if accounting else number, places))
    if accounting and number:
        text = f"({text})"
    expected = float(grouped(abs(number) if accounting else number, places).replace(",", ""))
    if accounting and number:
        expected = -expected
    if template == "{}%":
        expected /= 100
    parsed, invalid = one_number(text)
    assert not invalid, text
    assert parsed == pytest.approx(expected, rel=1e-12, abs=1e-12), text


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(1, 3),
       st.sampled_from([".", " "]))
def test_any_decimal_comma_number_parses_back(number, places, group):
    english = f"{number:,.{places}f}"
    text = english.replace(",", "#").replace(".", ",").replace("#", group)
    parsed, invalid = one_number(text, decimal_comma=True)
    assert not invalid, text
    assert parsed == pytest.approx(float(english.replace(",", "")), rel=1e-12), text


@pytest.mark.parametrize("text, order, value", [
    ("2025-03-01", "ymd", dt.date(2025, 3, 1)),
    ("2025-3-1", "ymd", dt.date(2025, 3, 1)),
    ("2025/03/01", "ymd", dt.date(2025, 3, 1)),
    ("2025-03-01 10:00:00", "ymd", dt.date(2025, 3, 1)),
    ("2025-03-01T10:00", "ymd", dt.date(2025, 3, 1)),
    ("2025-03-01T10:00:00Z", "ymd", dt.date(2025, 3, 1)),
    ("2025-03-01T23:30:00-02:00", "ymd", dt.date(2025, 3, 2)),   # 01:30 UTC next day
    ("2025-03-01 00:30:00+0200", "ymd", dt.date(2025, 2, 28)),
    ("2025-03", "ymd", dt.date(2025, 3, 1)),
    ("2025-Q1", "ymd", dt.date(2025, 1, 1)),
    ("2025 Q3", "ymd", dt.date(2025, 7, 1)),
    ("Q4 2025", "ymd", dt.date(2025, 10, 1)),
    ("q2-2025", "ymd", dt.date(2025, 4, 1)),
    ("01/03/2025", "dmy", dt.date(2025, 3, 1)),
    ("01/03/2025", "mdy", dt.date(2025, 1, 3)),
    ("13.12.2004 15:16", "dmy", dt.date(2004, 12, 13)),
    ("45000", "ymd", dt.date(2023, 3, 15)),
    ("2024-02-29", "ymd", dt.date(2024, 2, 29)),
])
def test_dates_that_parse(text, order, value):
    assert one_date(text, order) == (value, False)


@pytest.mark.parametrize("text, order", [
    ("2025-02-30", "ymd"), ("2023-02-29", "ymd"), ("01-01-90", "dmy"), ("13/13/2025", "dmy"),
    ("01/03/2025", "ymd"),                    # undecided order: the column's order is needed
    ("2021-05-25 04:55:03 EST", "ymd"),       # zone names are ambiguous: refused
    ("2025", "ymd"), ("March 2025", "ymd"), ("=TODAY()", "ymd"), ("2025-Q5", "ymd"),
    ("-025-01-01", "ymd"), (" 025-01-01", "ymd"),   # DuckDB's cast alone reads 26 BC and year 25
])
def test_invalid_dates(text, order):
    assert one_date(text, order) == (None, True)


def test_bare_year_only_when_allowed():
    assert one_date("2025", allow_year=True) == (dt.date(2025, 1, 1), False)


@pytest.mark.parametrize("text", [None, "", "null", "-"])
def test_missing_dates_are_null(text):
    assert one_date(text) == (None, False)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2150, 12, 31)),
       st.sampled_from([("%Y-%m-%d", "ymd"), ("%d/%m/%Y", "dmy"), ("%m/%d/%Y", "mdy"),
                        ("%d.%m.%Y", "dmy"), ("%Y-%m-%dT%H:%M:%S", "ymd")]))
def test_any_formatted_date_parses_back(day, form):
    pattern, order = form
    assert one_date(day.strftime(pattern), order) == (day, False)


def read_one(store, name):
    [raw] = read_tables(store, (READ / name).read_bytes(), name)
    return raw


@pytest.mark.parametrize("name, prefer, order", [
    ("dates_dayfirst.csv", None, "dmy"),
    ("dates_dayfirst.csv", "dmy", "dmy"),
    ("dates_ambiguous.csv", "mdy", "mdy"),
    ("dates_ambiguous.csv", "dmy", "dmy"),
    ("long_basic.csv", None, "ymd"),
])
def test_date_order_decided_over_the_whole_column(store, name, prefer, order):
    assert staging.date_order(store.staging, read_one(store, name), "date", prefer) == order


@pytest.mark.parametrize("name, prefer, words, row", [
    ("dates_ambiguous.csv", None, "--dayfirst or --monthfirst", None),
    ("dates_mixed_order.csv", None, "day-first dates (row 2) and month-first dates (row 3)", 3),
    ("dates_dayfirst.csv", "mdy", "month-first", 3),
    ("dates_iso_and_slash.csv", None, "mixes ISO dates", 4),
])
def test_date_order_refusals(store, name, prefer, words, row):
    with pytest.raises(InputError) as caught:
        staging.date_order(store.staging, read_one(store, name), "date", prefer)
    assert words in str(caught.value)
    assert caught.value.file == name and caught.value.column == "date"
    assert caught.value.row == row


@pytest.mark.parametrize("cells, prefer, order", [
    ([" 13/01/2025", "01/02/2025"], None, "dmy"),        # a leading space hides no d/m/y date
    (["01/13/2025 ", "02/01/2025"], None, "mdy"),
    (["2025-01-13", "45000", "n/a", ""], None, "ymd"),  # no d/m/y cells: no question to settle
    (["1.2.2025", "13.2.2025"], None, "dmy"),
    (["1-2-2025", "2-13-2025"], None, "mdy"),
])
def test_date_order_of_small_columns(store, cells, prefer, order):
    data = ("date,metric,value\n" + "".join(f"{c},visitors,1\n" for c in cells)).encode()
    [raw] = read_tables(store, data, "dates.csv")
    assert staging.date_order(store.staging, raw, "date", prefer) == order


def test_date_order_finds_iso_mixed_with_slashes_behind_spaces(store):
    data = b"date,metric,value\n01/02/2025,visitors,1\n 2025-02-13,visitors,2\n13/02/2025,visitors,3\n"
    [raw] = read_tables(store, data, "dates.csv")
    with pytest.raises(InputError, match="mixes ISO dates") as caught:
        staging.date_order(store.staging, raw, "date")
    assert caught.value.row == 3


NUMBER_TEXTS = ["3", " 42 ", None, "", "  ", "n/a", "-", "x", "=1+2", "#DIV/0!", "1,000", "12.5%",
                "(1,234.50)", "nan", "1_000", "5,5"]


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_invalid_from_a_stored_value_agrees_with_invalid_sql(decimal_comma):
    value, invalid = staging.number_sql("t", decimal_comma)
    cheap = staging.invalid_from_value_sql("v", "t")
    rows = SHARED.execute(
        f"select t, {invalid}, {cheap} from (select t, {value} as v from "
        "(select unnest(?::varchar[]) as t))", [NUMBER_TEXTS]).fetchall()
    assert [r[1] for r in rows] == [r[2] for r in rows]
    assert any(r[1] for r in rows) and not all(r[1] for r in rows)


@pytest.mark.parametrize("text", [" a", "a ", "  a b  ", "a", "", " ", None, "\ta", "%_ x _%"])
def test_trimmed_sql_is_trim(text):
    assert SHARED.execute(f"select {staging.trimmed_sql('t')} is not distinct from trim(t), "
                          f"{staging.trimmed_sql('t')} from (select ?::varchar as t)",
                          [text]).fetchone() == (True, None if text is None else text.strip(" "))


@pytest.mark.parametrize("cells, dot_groups, expected", [
    ({"z": ["1.5", "2.5"], "b": ["3", "4"]}, False, (None, None)),   # dots alone: no question
    ({"z": ["1.5", "2.5"], "b": ["3", "4"]}, True, (None, None)),
    ({"z": ["1,234", "2"], "b": ["3", "4"]}, False, (None, None)),   # a thousands group
    ({"z": ["1", "5,5"], "b": ["3.5", "4"]}, False, (("z", 3, "5,5"), ("b", 2, "3.5"))),
    ({"z": ["1", "5,5"], "b": ["3", "4.25"]}, False, (("z", 3, "5,5"), ("b", 3, "4.25"))),
    ({"z": ["1.5", "5,5"], "b": ["3.5", "4"]}, False, (("z", 3, "5,5"), ("z", 2, "1.5"))),  # same line: the first column
    ({"z": [" 5,5 ", "1"], "b": ["2", "3"]}, False, (("z", 2, " 5,5 "), None)),
    # Dot thousands groups count only with dot_groups (";" and tab files).
    ({"z": ["1.234", "2"], "b": ["3", "4"]}, False, (None, None)),
    ({"z": ["2", "1.234"], "b": ["3", "4"]}, True, (("z", 3, "1.234"), None)),
    ({"z": ["2", "€ 1.234.567"], "b": ["3", "4"]}, True, (("z", 3, "€ 1.234.567"), None)),
    ({"z": ["2", "1.234"], "b": ["5.5", "4"]}, True, (("z", 3, "1.234"), ("b", 2, "5.5"))),
    # Not thousands groups: too many leading digits, a short group, an exponent.
    ({"z": ["1234.567", "12.34", "1.234e5"], "b": ["3", "4", "5"]}, True, (None, None)),
    # With dot groups, "5.555" is a thousands group, not a dot decimal.
    ({"z": ["1", "5,5"], "b": ["5.555", "4"]}, True, (("b", 2, "5.555"), None)),
    ({"z": ["1", "5,5"], "b": ["5.555", "4"]}, False, (("z", 3, "5,5"), ("b", 2, "5.555"))),
])
def test_decimal_evidence(store, cells, dot_groups, expected):
    # Comma-separated and quoted, so read_tables itself does not look for decimal commas.
    rows = "".join(f'2025-01-0{i + 1},"{a}","{b}"\n' for i, (a, b) in enumerate(zip(cells["z"], cells["b"], strict=True)))
    [raw] = read_tables(store, ("date,z,b\n" + rows).encode(), "wide.csv")
    assert staging.decimal_evidence(store.staging, raw.table, ["z", "b"], dot_groups=dot_groups) == expected


@pytest.mark.parametrize("written, normal", [
    ("Date", "date"), ("  Start Date ", "start_date"), ("target-kind", "target_kind"),
    ("Metric Name", "metric"), ("conv.rate", "conv_rate"), ("\ufeffid", "id"), (None, ""),
])
def test_normalise_header(written, normal):
    assert vocabulary.normalise_header(written) == normal


@pytest.mark.parametrize("columns, name, kind", [
    (["Date", "Metric", "Value"], None, "history_long"),
    (["date", "metric", "value", "department", "channel", "campaign"], None, "history_long"),
    (["Month", "Revenue", "Leads"], None, "history_wide"),
    (["week", "visitors"], None, "history_wide"),
    (["metric", "unit", "direction"], None, "metrics"),
    (["metric", "department"], None, "unknown"),
    (["metric", "department"], "metrics.csv", "metrics"),   # only metric is required
    (["Metric"], "Metrics", "metrics"),
    (["title", "metric", "target", "target_kind"], None, "kpis"),
    (["kpi", "period", "target"], None, "targets"),
    (["metric", "period", "target"], None, "targets"),
    (["objective", "title", "metric", "start", "target", "start_date", "deadline"], None,
     "key_results"),
    (["launch", "launch_date", "cac_target"], None, "launches"),
    (["name", "age"], None, "unknown"),
    (["date"], None, "unknown"),
    (["date", "metric"], None, "unknown"),
    # both a metrics and a kpis header: the sheet name breaks the tie
    (["metric", "target", "target_kind", "description"], "metrics", "metrics"),
    (["metric", "target", "target_kind", "description"], "kpis.csv", "kpis"),
    (["metric", "target", "target_kind", "description"], None, "kpis"),
])
def test_classify_columns(columns, name, kind):
    assert vocabulary.classify_columns(columns, name) == kind


def test_number_columns_per_kind():
    assert vocabulary.number_columns("history_wide", ["month", "revenue", "department", "leads"]) \
        == ("revenue", "leads")
    assert vocabulary.number_columns("kpis", ["title", "metric", "target", "tolerance"]) \
        == ("target", "tolerance")


@pytest.mark.parametrize("text, says", [
    ("1e309", "is beyond the numbers Lodestar stores (smaller than 1e100 in size)"),
    ("-$1e200", "is beyond the numbers"), ("−1e200", "is beyond the numbers"),
    ("(2e100)", "is beyond the numbers"), ("9.9e99x", "is not a number"),
    ("1e2_00", "is not a number"), ("inf", "is not a number"),
])
def test_a_refused_number_is_told_why(text, says):
    """The reason given for a cell number_sql refused: too large, or not a number at all."""
    con = duckdb.connect()
    assert staging.parse_numbers(con, [text])["invalid"].iloc[0]
    assert staging.refused_cell(con, text, "number").startswith(f"'{text}' {says}")
