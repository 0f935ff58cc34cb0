"""ui.data reads the data version once per script run: a rerun whose results
are all cached opens the database file once, a write the page makes through
ui.data is seen by its next read in the same run, and a write by another
connection (a CLI import) is seen on the next rerun.

Opens are counted by wrapping kpi_logic.store.open_store, which ui.data looks
up on every unit of work; AppTest runs the scripts in this process."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic import store as kpi_store
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store
from tests.conftest import FIXTURES, duckdb_only
from ui import data

# One more metric, in the metrics-definition format (the write every test makes).
SIGNUPS_CSV = (b"metric,department,unit,direction,aggregation,formula,description\n"
               b"signups,Sales,number,up,sum,,New accounts\n")
SEVEN = "Metrics: 7"     # tests/fixtures/metrics_page/metrics.csv defines seven
EIGHT = "Metrics: 8"     # ... plus signups


@pytest.fixture
def page_db(database, use_database):
    path = database
    with open_store(path) as store:
        import_files(store, [((FIXTURES / "metrics_page" / "metrics.csv").read_bytes(),
                            "metrics.csv")])
    return use_database(path)


@pytest.fixture
def opens(monkeypatch) -> list[str]:
    """The locations open_store was called with, in order (clear it to start counting)."""
    calls: list[str] = []
    real = open_store

    def counting(path=None, **kwargs):
        calls.append(str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(kpi_store, "open_store", counting)
    return calls


def five_cached_reads():
    import streamlit as st

    from ui import data
    st.markdown(f"Metrics: {len(data.cached('load_metrics'))}")
    for name in ("load_kpis", "load_key_results", "load_targets", "load_launches"):
        data.cached(name)


def read_write_read():
    import streamlit as st

    from kpi_logic.ingest.importing import import_files
    from tests.test_ui_data import SIGNUPS_CSV
    from ui import data

    def import_then_fail(store, files):
        import_files(store, files)
        raise RuntimeError("failed after writing")

    st.markdown(f"Metrics: {len(data.cached('load_metrics'))}")
    if st.button("Add signups", key="uidata_add"):
        data.run(import_files, [(SIGNUPS_CSV, "signups.csv")])
    if st.button("Add signups, then fail", key="uidata_fail"):
        try:
            data.run(import_then_fail, [(SIGNUPS_CSV, "signups.csv")])
        except RuntimeError as e:
            st.error(str(e))
    st.markdown(f"Metrics: {len(data.cached('load_metrics'))}")


def markdown(at: AppTest) -> list[str]:
    assert not at.exception, at.exception
    return [m.value for m in at.markdown]


@pytest.fixture
def never_settled(monkeypatch):
    """A DuckDB file never counts as settled: every run reads its version."""
    monkeypatch.setattr(data, "SETTLED_SECONDS", 10**9)


def settle(location) -> None:
    """Date a DuckDB file (and its log) a minute back, as if last written then."""
    for path in (Path(location), Path(f"{location}.wal")):
        if path.exists():
            back = path.stat().st_mtime - 60
            os.utime(path, (back, back))


def test_a_rerun_whose_results_are_all_cached_opens_the_file_once(page_db, opens,
                                                                  never_settled):
    at = AppTest.from_function(five_cached_reads, default_timeout=30).run()
    # The first run: one open for the data version, one per result it computes.
    assert (markdown(at), len(opens)) == ([SEVEN], 1 + 5)
    for _ in range(2):
        opens.clear()
        at.run()
        assert (markdown(at), opens) == ([SEVEN], [str(page_db)])


@pytest.mark.parametrize("button", ["uidata_add", "uidata_fail"])
def test_a_write_through_ui_data_is_seen_by_the_next_read_in_the_same_run(page_db, button):
    at = AppTest.from_function(read_write_read, default_timeout=30).run()
    assert markdown(at) == [SEVEN, SEVEN]
    at.button(key=button).click().run()
    # The read before the write is this run's; the one after sees the write
    # (also when the work failed after writing).
    assert markdown(at) == [SEVEN, EIGHT]
    at.run()
    assert markdown(at) == [EIGHT, EIGHT]


def test_a_write_through_ui_data_reads_its_version_on_the_same_connection(page_db, opens):
    at = AppTest.from_function(read_write_read, default_timeout=30).run()
    opens.clear()
    at.button(key="uidata_add").click().run()
    # version, import (which leaves its version behind), the one new result
    assert (markdown(at), len(opens)) == ([SEVEN, EIGHT], 3)


def test_another_connection_s_write_between_reruns_is_seen_on_the_next_rerun(page_db):
    at = AppTest.from_function(five_cached_reads, default_timeout=30).run()
    assert markdown(at) == [SEVEN]
    at.run()
    with open_store(page_db) as store:      # a CLI import in between
        import_files(store, [(SIGNUPS_CSV, "signups.csv")])
    at.run()
    assert markdown(at) == [EIGHT]


def test_another_browser_session_s_write_is_seen_on_this_session_s_next_rerun(page_db):
    reader = AppTest.from_function(five_cached_reads, default_timeout=30).run()
    writer = AppTest.from_function(read_write_read, default_timeout=30).run()
    writer.button(key="uidata_add").click().run()
    assert markdown(writer)[-1] == EIGHT
    reader.run()
    assert markdown(reader) == [EIGHT]


@duckdb_only("a server has no file to look at")
def test_a_settled_file_is_not_opened_again_until_it_changes(page_db, opens):
    settle(page_db)
    first = AppTest.from_function(five_cached_reads, default_timeout=30).run()
    other = AppTest.from_function(five_cached_reads, default_timeout=30).run()
    opens.clear()
    for session in (first, other, first):
        session.run()
        assert markdown(session) == [SEVEN]
    # Unchanged since its version was read: no session opened it again.
    assert opens == []
    with open_store(page_db) as store:      # a CLI import in between
        import_files(store, [(SIGNUPS_CSV, "signups.csv")])
    settle(page_db)         # dated back too: its modification time still differs
    opens.clear()
    first.run()
    assert markdown(first) == [EIGHT]
    # the version, then the five results under the new version
    assert opens == [str(page_db)] * (1 + 5)


def test_outside_a_script_run_every_call_reads_the_file(page_db, opens):
    before = data.version()
    with kpi_store.open_store(page_db) as store:        # counted: the patched open_store
        import_files(store, [(SIGNUPS_CSV, "signups.csv")])
        assert "signups" in store.definitions.metrics()
    assert data.version() != before
    assert opens.count(str(page_db)) == 3
