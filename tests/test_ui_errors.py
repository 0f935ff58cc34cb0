"""What a dashboard user sees when the database is held by another process or
something fails: one short message (never a traceback or an exception box),
the traceback in the server log, and a page that comes back by itself once
the file is free (the browser side of that is in test_e2e_safety.py)."""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_concurrency import HOLDER, python
from ui import data

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 90


@pytest.fixture
def page_db(demo_file, tmp_path, use_database) -> Path:
    """A DuckDB file: the tests that use it are about a file another process
    holds or that is not a database."""
    path = tmp_path / "lodestar.duckdb"
    shutil.copy(demo_file, path)
    return use_database(path)


@pytest.fixture
def any_page_db(demo_database, use_database):
    """The demo company on either backend."""
    return use_database(demo_database)


@pytest.fixture
def held(page_db):
    """Another process holding the database file open for writing, as a long
    CLI import does; call it to let go."""
    process = python(HOLDER, page_db, stdin=subprocess.PIPE)
    assert process.stdout.readline().strip() == "holding"

    def release():
        if process.poll() is None:
            process.communicate("0\n", timeout=60)

    release.pid = process.pid
    yield release
    if process.poll() is None:
        process.kill()
    process.wait()


def shown(at: AppTest) -> str:
    """Every text a user reads on the page and in the sidebar."""
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error",
                                  "success", "exception")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def assert_no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = shown(at)
    for leak in ("Traceback", "File \"", "Error:", "site-packages", str(ROOT)):
        assert leak not in text, leak


@pytest.mark.parametrize("password", [None, "correct horse"], ids=["open mode", "viewer"])
def test_a_held_database_is_a_short_message_and_the_page_comes_back_when_freed(
        page_db, held, monkeypatch, password):
    if password:
        monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", password)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_no_traceback(at)
    assert not at.error
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("The database is busy: another program")
    assert f"process {held.pid}" in warning          # what holds it
    assert "tries again every 3 seconds by itself" in warning
    assert not at.title, "the page itself is not drawn while its data cannot be read"
    assert any("Mode" in c or "mode" in c for c in (c.value for c in at.sidebar.caption)), \
        "the sidebar (mode, sign-in) still works"

    held()
    at.run()
    assert_no_traceback(at)
    assert not at.warning
    assert [t.value for t in at.title] == ["Company overview"]


def test_a_file_that_is_not_a_database_is_a_message_and_a_logged_traceback(page_db, caplog):
    page_db.write_bytes(b"this is not a DuckDB file\n" * 200)
    before = page_db.read_bytes()
    caplog.set_level(logging.INFO)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_no_traceback(at)
    [error] = [e.value for e in at.error]
    assert error.startswith("Something went wrong")
    assert str(page_db) not in error and "DuckDB" not in error
    reference = re.search(r"reference ([0-9a-f]{8})", error)[1]
    [record] = [r for r in caplog.records if r.name == "ui.errors"]
    assert record.levelno == logging.ERROR and reference in record.getMessage()
    assert record.exc_info and "not a valid DuckDB database file" in str(record.exc_info[1])
    assert page_db.read_bytes() == before, "nobody wrote over the file"


def test_a_failure_inside_a_page_leaves_the_page_with_a_message(any_page_db, caplog,
                                                                monkeypatch):
    def broken(store, **kwargs):
        raise ZeroDivisionError("a bug in the overview")

    data._ENGINE["overview"]                       # fills the lazy table first
    monkeypatch.setitem(data._ENGINE, "overview", broken)
    caplog.set_level(logging.INFO)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_no_traceback(at)
    assert [t.value for t in at.title] == ["Company overview"], "the page around it still draws"
    [error] = [e.value for e in at.error]
    assert error.startswith("Something went wrong") and "a bug in the overview" not in error
    [record] = [r for r in caplog.records if r.name == "ui.errors"]
    assert isinstance(record.exc_info[1], ZeroDivisionError)
    assert "broken" in caplog.text, "the traceback, with the failing function, is in the log"


def save_a_setting():
    import streamlit as st

    from ui import data, widgets
    if st.button("Save", key="errors_save"):
        try:
            data.run(lambda store: store.settings.set("start_empty", "yes"))
            st.success("saved")
        except Exception as exc:  # noqa: BLE001 - as a page shows it
            widgets.show_error(exc)


def test_a_write_that_finds_the_database_held_says_nothing_was_changed(page_db, held,
                                                                      monkeypatch):
    monkeypatch.setattr(data, "WRITE_WAIT_SECONDS", 0.5)
    before = page_db.read_bytes()
    at = AppTest.from_function(save_a_setting, default_timeout=TIMEOUT).run()
    at.button(key="errors_save").click().run()
    assert_no_traceback(at)
    [warning] = [w.value for w in at.warning]
    assert f"process {held.pid}" in warning
    # Not "tries again by itself": rerunning the page would not repeat the click.
    assert warning.endswith("Nothing was changed; this message says when to try again.")
    assert not at.success
    held()
    assert page_db.read_bytes() == before
