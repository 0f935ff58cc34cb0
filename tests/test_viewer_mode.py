"""A viewer (LODESTAR_EDITOR_PASSWORD set, not signed in) writes nothing: no
demo load on an empty database, no migration of an older file, no write a
page offers, and not even a write a page might forget to hide (a viewer's
connection is read-only). "Nothing" is checked on the file's bytes, and on
PostgreSQL on every row of every table."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.demo import company as demo
from kpi_logic.ingest import importing, undo
from kpi_logic.launch import analysis as launch
from kpi_logic.store import (
    SCHEMA_VERSION,
    db,
    is_server_url,
    open_store,
    schema_version,
    set_setting,
)
from kpi_logic.store import launches as launch_store
from tests.test_importing import dump
from ui.data import NOTHING_FOR_VIEWERS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {name: str(ROOT / "views" / f"{name}.py")
         for name in ("overview", "scorecard", "okrs", "metrics", "explorer", "launch", "define")}
TIMEOUT = 90
PASSWORD = "correct horse"


@pytest.fixture
def viewer_db(demo_database, use_database, monkeypatch):
    """A copy of the demo database with one saved scenario, opened by a viewer."""
    with open_store(demo_database) as store:
        found = launch.launch_analysis(store)
        launch.saved_scenario(store, found.launch.launch, "Plan A", launch.actual_split(found))
    use_database(demo_database)
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", PASSWORD)
    return demo_database


def fingerprint(location) -> tuple:
    """A DuckDB file's bytes and whatever lies beside it (a write-ahead log); a
    server database's every row of every table."""
    if is_server_url(str(location)):
        with open_store(location, read_only=True, migrate=False) as store:
            return tuple((table, frame.to_csv()) for table, frame in dump(store).items())
    path = Path(location)
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir())


def app(*, editor: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if editor:
        at.session_state["editor_unlocked"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def batches(path) -> pd.DataFrame:
    with open_store(path, read_only=True) as store:
        return undo.list_batches(store)


# ---------------------------------------------------------------- first start

def test_a_viewer_on_a_database_emptied_by_undo_loads_nothing(viewer_db):
    with open_store(viewer_db) as store:
        undo.undo_all(store)             # emptied by undo, without choosing "start empty"
    before, listed = fingerprint(viewer_db), batches(viewer_db)
    at = app()
    assert [i.value for i in at.info] == [NOTHING_FOR_VIEWERS]
    assert not at.title, "no page pretends to have data"
    assert fingerprint(viewer_db) == before
    pd.testing.assert_frame_equal(batches(viewer_db), listed)
    assert batches(viewer_db)["undone_at"].notna().all(), "the demo was not loaded"

    # The same database opened by an editor gets the demo company.
    at = app(editor=True)
    assert [t.value for t in at.title] == ["Company overview"]
    assert batches(viewer_db)["undone_at"].isna().any()


def test_a_viewer_with_no_database_file_creates_none(tmp_path, use_database, monkeypatch):
    path = use_database(tmp_path / "none" / "lodestar.duckdb")
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", PASSWORD)
    at = app()
    assert [i.value for i in at.info] == [NOTHING_FOR_VIEWERS]
    assert not path.exists() and not path.parent.exists()


def older_file(path: Path) -> None:
    """A database as the release before campaigns left it (schema 4), with one value."""
    con = duckdb.connect(str(path))
    for version in range(1, 5):
        con.execute(db.MIGRATIONS[version])
    con.execute("insert into schema_version values (4)")
    con.execute("insert into batches (id, run_id, file, kind, imported_at, rows) "
                "values (1, 1, 'old.csv', 'history', current_timestamp, 1)")
    con.execute("insert into observations (metric, obs_date, value, batch_id) "
                "values ('revenue', date '2025-01-31', 5000, 1)")
    con.close()


def test_a_viewer_leaves_an_older_schema_file_as_it_is(tmp_path, use_database, monkeypatch):
    path = use_database(tmp_path / "old.duckdb")
    older_file(path)
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", PASSWORD)
    before = fingerprint(path)
    at = app()
    [info] = [i.value for i in at.info]
    assert f"older Lodestar (schema 4; this one reads {SCHEMA_VERSION})" in info
    assert "An editor must open the dashboard once" in info
    assert fingerprint(path) == before
    con = duckdb.connect(str(path), read_only=True)
    assert schema_version(con) == 4
    con.close()

    app(editor=True)                  # an editor's first visit upgrades it
    with open_store(path, read_only=True, migrate=False) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION


# ---------------------------------------------------------------- every page, every write

def test_a_viewer_touring_every_page_writes_nothing(viewer_db):
    before = fingerprint(viewer_db)
    at = app()
    for name in ("scorecard", "okrs", "metrics", "explorer", "launch"):
        at.switch_page(PAGES[name]).run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert not at.error, (name, [e.value for e in at.error])
    for step in ("Measure", "Analyse", "Adjust", "Improve", "Scenarios"):
        at.query_params["step"] = step
        at.switch_page(PAGES["launch"]).run()
        assert not at.exception, step
    with pytest.raises(ValueError, match="define"):
        at.switch_page(PAGES["define"])           # not in a viewer's navigation
    labels = {b.label for b in at.button}
    assert not labels & {"Save this split", "Rename", "Delete", "Make it a KPI",
                         "Add metric definition", "Import", "Undo batch", "Save"}
    # /define typed into the address bar runs the page on its own: it stops at once.
    page = AppTest.from_file(PAGES["define"], default_timeout=TIMEOUT).run()
    assert any("Viewer mode" in i.value for i in page.info)
    assert not page.file_uploader and not page.data_editor and not page.button
    assert fingerprint(viewer_db) == before


def _launch_name(store) -> str:
    return launch.launch_analysis(store).launch.launch


# Every write a page offers, as the page calls it through ui.data.run.
WRITES = {
    "import files": lambda store: importing.import_files(
        store, [(b"date,revenue\n2025-01-31,1\n", "revenue.csv")]),
    "edit definitions": lambda store: importing.import_frames(store, [(pd.DataFrame([{
        "metric": "signups", "department": "Sales", "unit": "number", "direction": "up",
        "aggregation": "sum"}]), "Edited Metrics", "metrics")]),
    "remove a KPI": lambda store: undo.remove_definitions(
        store, "kpis", [store.definitions.kpis()[0].title], source="Edited KPIs"),
    "undo a batch": lambda store: undo.undo_batch(store, int(undo.list_batches(store)["id"].max())),
    "start empty": lambda store: undo.undo_all(store),
    "start-empty setting": lambda store: set_setting(store.connection, "start_empty", "yes"),
    "load the demo": lambda store: demo.load_demo(store),
    "save a scenario": lambda store: launch.saved_scenario(
        store, _launch_name(store), "Plan B", launch.actual_split(launch.launch_analysis(store))),
    "rename a scenario": lambda store: launch_store.rename_scenario(
        store.connection, _launch_name(store), "Plan A", "Plan C"),
    "delete a scenario": lambda store: launch_store.delete_scenario(store.connection, _launch_name(store), "Plan A"),
}


def attempt(name: str) -> None:
    import streamlit as st

    from tests.test_viewer_mode import WRITES
    from ui import data, widgets
    try:
        data.run(WRITES[name])
    except Exception as exc:  # noqa: BLE001 - shown as the page would show it
        widgets.show_error(exc)
    else:
        st.success("written")


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_a_page_forgot_to_hide_is_refused_for_a_viewer(viewer_db, caplog, name,
                                                               monkeypatch):
    if name == "load the demo":       # onto the demo itself it would change nothing
        with open_store(viewer_db) as store:
            undo.undo_all(store)
    before = fingerprint(viewer_db)
    caplog.set_level(logging.WARNING, logger="ui")
    at = AppTest.from_function(attempt, args=(name,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Viewer mode: only an editor can change data, and nothing was changed. "
        "Sign in as an editor in the sidebar."]
    assert fingerprint(viewer_db) == before
    assert any("A viewer session tried to write" in r.getMessage() for r in caplog.records)

    # The same call writes for an editor: the refusal above was the viewer's.
    monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD")
    at = AppTest.from_function(attempt, args=(name,), default_timeout=TIMEOUT).run()
    assert [s.value for s in at.success] == ["written"], [e.value for e in at.error]
    assert fingerprint(viewer_db) != before
