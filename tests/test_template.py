"""The template workbook: what it shows is what an import of it produces."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook

from kpi_logic.domain.model import KPI, KeyResult, Launch, Target
from kpi_logic.ingest import definition_rows, template
from kpi_logic.ingest.edits import current_definitions
from kpi_logic.ingest.importing import import_files, import_frames
from kpi_logic.metrics import kpis, okrs

AFTER_JUNE = date(2025, 7, 1)


@pytest.fixture
def imported(store):
    results = import_files(store, [(template.template_workbook(), template.FILE_NAME)])
    return store, results


def sheet_frame(book, name: str) -> pd.DataFrame:
    """A sheet as the user sees it: header on HEADER_ROW, example rows below."""
    rows = list(book[name].iter_rows(min_row=template.HEADER_ROW, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_every_sheet_imports_cleanly_into_an_empty_database(imported):
    _, results = imported
    assert [(r.sheet, r.kind, r.inserted, r.updated) for r in results] == [
        ("metrics", "metrics", 7, 0), ("history", "history", 30, 0), ("kpis", "kpis", 2, 0),
        ("targets", "targets", 2, 0), ("objectives", "objectives", 2, 0),
        ("key_results", "key_results", 2, 0), ("launches", "launches", 1, 0),
        ("checkins", "checkins", 2, 0)]
    # The README sheet is the one thing skipped, and it says so.
    assert all(r.batch is not None and len(r.notes) == 1 and "'README'" in r.notes[0]
               for r in results)
    assert results[1].details["header_row"] == template.HEADER_ROW


def test_the_kpis_targets_key_results_and_launch_it_shows_are_stored(imported):
    store, _ = imported
    assert store.definitions.kpis() == [
        KPI("CAC at most $40", "cac", 40.0, "max", "month", "Marketing", "Grow online sales",
            "Mia", 0.1, ("marketing_spend", "new_customers"), pinned=True),
        KPI("Conversion at least 3%", "conversion_rate", 0.03, "min", "month", "Marketing",
            "Grow online sales", "Mia", 0.1, ("website_visitors", "purchases"))]
    assert store.definitions.targets() == [Target("CAC at most $40", "2025-05", 42.0),
                                 Target("CAC at most $40", "2025-06", 38.0)]
    assert store.definitions.key_results() == [
        KeyResult("Delight customers", "Increase NPS from 20 to 40", "nps", 20.0, 40.0,
                  date(2025, 4, 1), date(2025, 6, 30), "Leo", "Product", 1.0),
        KeyResult("Grow online sales", "Cut CAC from $50 to $35", "cac", 50.0, 35.0,
                  date(2025, 4, 1), date(2025, 6, 30), "Mia", "Marketing", 1.0)]
    assert store.definitions.launches() == [Launch("Spring campaign", date(2025, 3, 10), "Marketing",
                                         0.03, 40.0, date(2025, 3, 24))]
    metrics = store.definitions.metrics()
    assert metrics["conversion_rate"].formula == "purchases / website_visitors"
    assert (metrics["cac"].unit, metrics["cac"].direction) == ("currency", "down")


def test_the_worked_example_gives_the_numbers_a_reader_can_check_by_hand(imported):
    store, _ = imported
    card = kpis.scorecard(store, "Marketing", period="2025-06", as_of=AFTER_JUNE)
    june = {k["title"]: (k["value"], k["target"], k["status"]) for k in card["kpis"]}
    # June: 455 purchases / 14,000 visitors; $14,500 / 420 new customers, against
    # the per-period target of $38 rather than the KPI's $40.
    assert june == {"Conversion at least 3%": (pytest.approx(0.0325), 0.03, "healthy"),
                    "CAC at most $40": (pytest.approx(14_500 / 420), 38.0, "healthy")}
    report = okrs.okr_report(store, as_of=AFTER_JUNE)
    nps = report["objectives"][0]["key_results"][0]
    assert (nps["current"], nps["progress"]) == (33.0, pytest.approx(0.65))  # (33-20)/(40-20)


def test_the_workbook_shows_the_example_frames(imported):
    book = load_workbook(io.BytesIO(template.template_workbook()))
    assert book.sheetnames == [template.README_SHEET, *template.SHEETS]
    for name, expected in template.template_frames().items():
        shown = sheet_frame(book, name)
        for column in shown.columns:   # Excel gives datetimes back for dates
            if shown[column].map(lambda v: hasattr(v, "date")).all():
                shown[column] = shown[column].map(lambda v: v.date())
        pd.testing.assert_frame_equal(shown, expected, check_dtype=False)


def test_every_header_cell_explains_its_column(imported):
    book = load_workbook(io.BytesIO(template.template_workbook()))
    for name, (_, described) in template.SHEETS.items():
        header = next(book[name].iter_rows(min_row=template.HEADER_ROW,
                                           max_row=template.HEADER_ROW))
        assert [c.comment.text for c in header] == list(described.values())


@pytest.mark.parametrize("kind", ["metrics", "kpis", "targets", "key_results", "launches"])
def test_columns_are_ones_the_importer_knows_and_required_marks_are_true(kind):
    assert set(template.columns(kind)) <= set(definition_rows.COLUMNS[kind])
    required = {c for sheet, c, need, _ in template.readme_rows()
                if sheet == kind and need == "required"}
    assert required == set(definition_rows.REQUIRED[kind])


def test_readme_rows_cover_every_column_of_every_sheet():
    listed = [(sheet, column) for sheet, column, _, _ in template.readme_rows()]
    assert listed == [(s, c) for s in template.SHEETS for c in template.columns(s)]


def test_template_frames_are_new_each_call():
    first = template.template_frames()
    first["kpis"].loc[0, "target"] = 99
    assert template.template_frames()["kpis"].loc[0, "target"] == 0.03


def test_a_readme_sheet_is_skipped_by_the_importer_with_a_note(store):
    results = import_files(store, [(template.template_workbook(readme=True), template.FILE_NAME)])
    assert template.README_SHEET not in {r.sheet for r in results}
    readme_note = f"sheet '{template.README_SHEET}' holds notes or instructions and was skipped"
    assert all(any(n.startswith(readme_note) for n in r.notes) for r in results)
    assert sum(r.inserted for r in results) == 7 + 30 + 2 + 2 + 2 + 2 + 1 + 2


def test_the_readme_sheet_can_be_left_out(store):
    data = template.template_workbook(readme=False)
    assert load_workbook(io.BytesIO(data)).sheetnames == list(template.SHEETS)
    assert all(not r.notes for r in import_files(store, [(data, template.FILE_NAME)]))


@pytest.mark.parametrize("kind", template.EDITABLE)
def test_editable_tables_read_back_unchanged_through_import_frames(imported, kind):
    store, _ = imported
    frame = template.editable_frame(kind, current_definitions(store, kind))
    assert list(frame.columns) == template.columns(kind)
    [result] = import_frames(store, [(frame, f"Edited {kind}", kind)])
    assert (result.batch, result.inserted, result.updated, result.unchanged) == \
        (None, 0, 0, len(frame))


def test_an_edited_kpi_table_changes_only_the_edited_kpi(imported):
    store, _ = imported
    frame = template.editable_frame("kpis", store.definitions.kpis())
    edited = frame.copy()
    edited.loc[edited["title"] == "CAC at most $40", "target"] = 45.0
    [result] = import_frames(store, [(edited, "Edited KPIs", "kpis")])
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    assert {k.title: k.target for k in store.definitions.kpis()} == {
        "CAC at most $40": 45.0, "Conversion at least 3%": 0.03}
    assert frame.loc[frame["title"] == "CAC at most $40", "target"].tolist() == [40.0]


def test_key_result_dates_are_editable_datetimes(imported):
    store, _ = imported
    frame = template.editable_frame("key_results", store.definitions.key_results())
    assert str(frame["deadline"].dtype).startswith("datetime64")
    assert frame["deadline"].tolist() == [pd.Timestamp("2025-06-30")] * 2


@pytest.mark.parametrize("kind, drop, expected", [
    ("kpis", [0], ["CAC at most $40"]),
    ("kpis", [], []),
    ("targets", [1], ["CAC at most $40 / 2025-06"]),
    ("key_results", [0, 1], ["Delight customers / Increase NPS from 20 to 40",
                             "Grow online sales / Cut CAC from $50 to $35"]),
])
def test_removed_keys_names_deleted_rows(imported, kind, drop, expected):
    store, _ = imported
    original = template.editable_frame(kind, current_definitions(store, kind))
    before = original.copy()
    edited = original.drop(index=drop)
    assert template.removed_keys(kind, original, edited) == expected
    pd.testing.assert_frame_equal(original, before)


def test_a_renamed_kpi_counts_as_removed(imported):
    store, _ = imported
    original = template.editable_frame("kpis", store.definitions.kpis())
    edited = original.assign(title=["CAC under $40", "Conversion at least 3%"])
    assert template.removed_keys("kpis", original, edited) == ["CAC at most $40"]
