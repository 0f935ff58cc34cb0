"""AppTest of the Import and define page, on a database holding the template
workbook's worked example (kpi_logic.ingest.template: Marketing's conversion and CAC
KPIs, two CAC targets, two key results)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kpi_logic.ingest import template
from kpi_logic.ingest.edits import current_definitions, current_metrics
from kpi_logic.ingest.importing import import_files
from kpi_logic.ingest.undo import list_batches
from kpi_logic.store import has_history, open_store, set_setting, setting
from kpi_logic.store.writes import VERSIONED_TABLES
from tests.builders import in_order
from tests.conftest import FIXTURES
from tests.readable import shown

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "define.py")
UPLOADS = FIXTURES / "define_page"
WRITE_BUTTONS = {"Check files", "Import", "Undo batch", "Save", "Start from an empty database"}


def with_template(location) -> None:
    with open_store(location) as store:
        import_files(store, [(template.template_workbook(), template.FILE_NAME)])


@pytest.fixture
def page_db(databases, use_database):
    """The template workbook imported, on either backend, each test its own copy."""
    return use_database(databases.copy_of("define-page", with_template))


def opened() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def button(at: AppTest, key: str):
    return at.button(key=key)


def saved(path: Path, loader):
    with open_store(path) as store:
        return loader(store)


def stored(path: Path, kind: str) -> list:
    """The current definitions of one kind in the file."""
    return saved(path, lambda store: current_definitions(store, kind))


def dump(store) -> dict:
    """Every stored row of every versioned table and of the batch list."""
    tables = {t: in_order(store.connection.execute(f"select * from {t}").fetchall())
              for t in VERSIONED_TABLES}
    tables["batches"] = store.connection.execute("select * from batches order by id").fetchall()
    return tables


def table_with(at: AppTest, column: str):
    """The first table on the page that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def uploaded(at: AppTest, *names: str) -> AppTest:
    at.file_uploader(key="define_files").set_value(
        [(n, (UPLOADS / n).read_bytes(), "text/csv") for n in names])
    return at.run()


def test_checking_then_importing_a_file_adds_its_metrics(page_db):
    at = uploaded(opened(), "leads_wide.csv")
    assert button(at, "define_import").disabled          # check first
    button(at, "define_check").click().run()
    assert not at.exception and not at.error
    preview = table_with(at, "Metrics found")
    assert preview[["File", "Kind", "Format", "Header row", "Metrics found", "Rows", "New"]] \
        .to_dict("records") == [{"File": "leads_wide.csv", "Kind": "history", "Format": "wide",
                                 "Header row": 1, "Metrics found": "demos, leads", "Rows": 3,
                                 "New": 6}]
    assert "leads" not in saved(page_db, current_metrics)     # a check saves nothing
    assert not button(at, "define_import").disabled
    button(at, "define_import").click().run()
    assert not at.exception and not at.error
    assert any("Imported 1 table(s): 6 value(s)" in shown(s.value) for s in at.success)
    assert {"leads", "demos"} <= set(saved(page_db, current_metrics))
    history = table_with(at, "Status")
    assert history.iloc[0][["File", "Kind", "New", "Status"]].tolist() == \
        ["leads_wide.csv", "history", 6, "in effect"]
    undo_choices = at.selectbox(key="define_undo_batch").options
    assert undo_choices[0].endswith(": leads_wide.csv (history, 6 new, 0 changed)")
    assert not any("nan" in choice for choice in undo_choices)   # CSV batches have no sheet


def test_a_refused_file_shows_row_and_column_and_changes_nothing(page_db):
    with open_store(page_db) as store:
        before = dump(store)
    at = uploaded(opened(), "bad_value.csv")
    button(at, "define_check").click().run()
    assert not at.exception
    assert any("bad_value.csv" in shown(e.value) and "row 3, column 'value': 'lots' is not a number"
               in shown(e.value) for e in at.error)
    assert button(at, "define_import").disabled
    with open_store(page_db) as store:
        assert dump(store) == before


def test_undo_removes_a_batch_and_says_what_it_put_back(page_db):
    targets_batch = next(b.id for b in saved(page_db, list_batches).itertuples()
                         if b.kind == "targets")
    at = opened()
    assert button(at, "define_undo").disabled             # not without the confirmation
    at.selectbox(key="define_undo_batch").set_value(targets_batch)
    at.checkbox(key="define_undo_confirm").check()
    button(at.run(), "define_undo").click().run()
    assert not at.exception and not at.error
    assert any("removed 2 row(s) it had added or changed and put back 0" in shown(s.value)
               for s in at.success)
    assert stored(page_db, "targets") == []
    assert table_with(at, "Status").set_index("Kind").loc["targets", "Status"] \
        .startswith("undone")


def test_editing_a_kpi_target_in_the_table_saves_it(page_db):
    at = opened()
    table = at.data_editor(key="define_editor_kpis").value
    row = table.index[table["title"] == "CAC at most $40"][0]
    at.session_state["define_editor_kpis"] = {
        "edited_rows": {int(row): {"target": 45.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "define_save_kpis").click().run()
    assert not at.exception and not at.error
    assert any("Saved KPIs: 0 new, 1 changed" in shown(s.value) for s in at.success)
    kpi = next(k for k in stored(page_db, "kpis") if k.title == "CAC at most $40")
    assert kpi.target == 45.0
    # The table shows the stored value afterwards, not a replay of the edit.
    table = at.data_editor(key="define_editor_kpis").value
    assert table.loc[table["title"] == "CAC at most $40", "target"].tolist() == [45.0]


def test_a_refused_edit_shows_row_and_column_and_saves_nothing(page_db):
    before = stored(page_db, "kpis")
    at = opened()
    at.session_state["define_editor_kpis"] = {
        "edited_rows": {1: {"target_kind": "around"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "define_save_kpis").click().run()
    assert not at.exception
    assert any("row 3, column 'target_kind': 'around' is not one of min, max" in shown(e.value)
               for e in at.error)
    assert stored(page_db, "kpis") == before


def test_deleting_a_row_removes_that_kpi_as_an_undoable_batch(page_db):
    before = {k.title for k in stored(page_db, "kpis")}
    at = opened()
    at.session_state["define_editor_kpis"] = {
        "edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    button(at, "define_save_kpis").click().run()
    assert not at.exception
    assert any("removed CAC at most $40" in shown(s.value) for s in at.success)
    assert {k.title for k in stored(page_db, "kpis")} == before - {"CAC at most $40"}


def test_start_from_an_empty_database_undoes_everything_and_keeps_the_demo_away(page_db):
    with open_store(page_db) as store:
        set_setting(store.connection, "demo_loaded", "2025-06-30")
    at = opened()
    assert button(at, "define_empty").disabled
    at.checkbox(key="define_empty_confirm").check().run()
    button(at, "define_empty").click().run()
    assert not at.exception and not at.error
    assert any("The database is empty: 8 import(s) undone." in shown(s.value) for s in at.success)
    with open_store(page_db) as store:
        assert not has_history(store.connection)
        assert setting(store.connection, "start_empty") == "yes"
    assert "define_empty" not in [b.key for b in at.button]


def test_the_fresh_start_is_not_offered_without_the_demo(page_db):
    at = opened()
    assert "define_empty" not in [b.key for b in at.button]
    assert at.download_button(key="define_template").label == "Download the template workbook"


def test_viewer_mode_has_no_uploader_and_no_write_button(page_db, monkeypatch):
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "secret")
    at = opened()
    assert not at.exception
    assert any("Viewer mode" in shown(i.value) for i in at.info)
    assert not at.file_uploader
    assert not at.data_editor
    assert not at.download_button
    assert not WRITE_BUTTONS & {b.label for b in at.button}


def test_the_date_order_option_settles_ambiguous_dates(page_db):
    at = uploaded(opened(), "ambiguous_dates.csv")
    button(at, "define_check").click().run()
    assert any("ambiguous_dates.csv" in shown(e.value) for e in at.error)
    at.selectbox(key="define_date_order").set_value("dayfirst")
    button(at.run(), "define_check").click().run()
    assert not at.error
    preview = table_with(at, "Metrics found").iloc[0]
    assert (preview["Date order"], preview["From"], preview["To"]) == \
        ("day-month-year", date(2025, 2, 1), date(2025, 4, 3))
    button(at, "define_import").click().run()
    assert not at.error
    with open_store(page_db) as store:
        assert store.connection.execute("select min(obs_date), max(obs_date) from observations "
                           "where metric = 'leads'").fetchone() == (date(2025, 2, 1),
                                                                     date(2025, 4, 3))


def test_changing_an_option_after_the_check_asks_for_a_new_check(page_db):
    at = uploaded(opened(), "leads_wide.csv")
    button(at, "define_check").click().run()
    assert not button(at, "define_import").disabled
    at.text_input(key="define_department").set_value("Sales").run()
    assert button(at, "define_import").disabled


def test_the_template_workbook_uploads_into_an_empty_database(database, use_database):
    path = use_database(database)
    at = opened()
    assert any("Nothing imported yet." in shown(i.value) for i in at.info)
    at.file_uploader(key="define_files").set_value(
        (template.FILE_NAME, template.template_workbook(), "application/octet-stream"))
    button(at.run(), "define_check").click().run()
    preview = table_with(at, "Metrics found")
    assert preview[["Sheet", "Kind", "Header row"]].values.tolist() == [
        ["metrics", "metrics", 3], ["history", "history", 3], ["kpis", "kpis", 3],
        ["targets", "targets", 3], ["objectives", "objectives", 3],
        ["key_results", "key results", 3], ["launches", "launches", 3],
        ["checkins", "checkins", 3]]
    button(at, "define_import").click().run()
    assert not at.error
    assert [k.title for k in stored(path, "kpis")] == ["CAC at most $40",
                                                         "Conversion at least 3%"]
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_launchs_promotion_date_can_be_set_in_the_table(page_db):
    at = opened()
    at.segmented_control(key="define_kind").set_value("launches").run()
    table = at.data_editor(key="define_editor_launches").value
    assert table["launch"].tolist() == ["Spring campaign"]
    assert table["promotion_date"].tolist() == [pd.Timestamp(2025, 3, 24)]
    at.session_state["define_editor_launches"] = {
        "edited_rows": {0: {"promotion_date": "2025-03-31"}}, "added_rows": [],
        "deleted_rows": []}
    at.run()
    button(at, "define_save_launches").click().run()
    assert not at.exception and not at.error
    [launch] = stored(page_db, "launches")
    assert (launch.launch_date, launch.promotion_date) == (date(2025, 3, 10), date(2025, 3, 31))
    assert launch.cac_target == 40.0


def test_renaming_a_launch_says_its_saved_scenarios_are_left_behind(page_db):
    from kpi_logic.store import launches as launch_store
    with open_store(page_db) as store:
        launch_store.save_scenario(store.connection, "Spring campaign", "Plan A", 10, pd.DataFrame({
            "channel": ["search"], "spend_per_day": [100.0], "new_customers": [20.0],
            "purchases": [25.0], "visitors": [900.0]}))
    at = opened()
    at.segmented_control(key="define_kind").set_value("launches").run()
    at.session_state["define_editor_launches"] = {
        "edited_rows": {0: {"launch": "Spring launch"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "define_save_launches").click().run()
    assert not at.exception and not at.error
    assert any("saved scenarios of Spring campaign now belong to no launch" in shown(s.value)
               for s in at.success)
