"""ui.data on a team's PostgreSQL server: the dashboard's sessions run side by
side (no process-wide turn, which DuckDB's one-writer rule needs), the
handle never shows the password in its URL, and a viewer's session reading
through the read-only role writes nothing even when a page's code leaves the
read-only transaction behind, which the same URL alone would let through."""
from __future__ import annotations

import threading
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store
from tests.conftest import FIXTURES, postgres_only
from ui import data

SERVER_ONLY = postgres_only("the URL variables, the read-only role and sessions side by side "
                            "are a server's")
TIMEOUT = 90


def with_user(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    login = f"{user}:{password}" if password else user
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


@pytest.fixture
def team_database(database, monkeypatch):
    """The dashboard pointed at a server database (a few stored rows) through
    LODESTAR_DATABASE_URL, with a password in the URL (trust auth ignores it)."""
    with open_store(database) as store:
        import_files(store, [((FIXTURES / "metrics_page" / "metrics.csv").read_bytes(),
                              "metrics.csv")])
    url = with_user(str(database), "postgres", "never-shown-" + uuid.uuid4().hex[:8])
    monkeypatch.setenv("LODESTAR_DATABASE_URL", url)
    monkeypatch.delenv("LODESTAR_VIEWER_DATABASE_URL", raising=False)
    monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def viewer_role(team_database, postgres_server):
    """A role of this test that may only read the team database."""
    role = f"viewer_{uuid.uuid4().hex[:10]}"
    owner_url = with_user(team_database, "postgres")
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute(f'create role "{role}" login')
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(f'grant select on all tables in schema public to "{role}"')
    yield with_user(team_database, role)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(f'drop owned by "{role}"')      # its grants, so the role can go
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute(f'drop role "{role}"')


@SERVER_ONLY
def test_sessions_of_one_dashboard_run_side_by_side_on_a_server(team_database):
    assert data.database().lock is None
    # Each thread holds a unit of work open until both are inside: with a turn
    # to take (DuckDB's lock) the second would wait for the first, which waits
    # at the barrier, and the barrier breaks.
    both_inside = threading.Barrier(2, timeout=30)
    seen, failures = [], []

    def unit_of_work():
        try:
            with data.database().session() as store:
                both_inside.wait()
                seen.append(store.definitions.data_version())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=unit_of_work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(seen) == 2 and seen[0] == seen[1]


@SERVER_ONLY
def test_the_handle_shows_its_location_without_the_password(team_database):
    password = urlsplit(team_database).password
    handle = data.database()
    assert handle.location == team_database
    assert handle.shown == team_database.replace(f":{password}@", ":***@")
    assert password not in repr(handle)


def sneaky_write(store) -> None:
    """A write a page forgot to hide that also leaves the viewer's read-only
    transaction behind, as careless code could."""
    store.connection.execute("rollback")
    store.connection.execute("begin read write")
    store.connection.execute("insert into settings (key, value) values ('intruder', 'yes')")
    store.connection.execute("commit")


def viewer_attempt() -> None:
    import streamlit as st

    from tests.test_ui_data_server import sneaky_write
    from ui import data, widgets
    try:
        data.run(sneaky_write)
    except Exception as exc:  # noqa: BLE001 - shown as the page would show it
        widgets.show_error(exc)
    else:
        st.success("written")


def intruders(url: str) -> int:
    with psycopg.connect(with_user(url, "postgres")) as con:
        return con.execute("select count(*) from settings where key = 'intruder'").fetchone()[0]


@SERVER_ONLY
def test_a_viewer_reading_through_the_read_only_role_writes_nothing(team_database, viewer_role,
                                                                     monkeypatch):
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "correct horse")
    monkeypatch.setenv("LODESTAR_VIEWER_DATABASE_URL", viewer_role)
    at = AppTest.from_function(viewer_attempt, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Viewer mode: only an editor can change data, and nothing was changed. "
        "Sign in as an editor in the sidebar."]
    assert intruders(team_database) == 0

    # The same code through the same URL without the role does write: the
    # read-only transaction alone guards only code that stays inside it.
    monkeypatch.delenv("LODESTAR_VIEWER_DATABASE_URL")
    AppTest.from_function(viewer_attempt, default_timeout=TIMEOUT).run()
    assert intruders(team_database) == 1


@SERVER_ONLY
def test_busy_now_after_a_refused_write_waits_for_the_other_writer_not_for_readers(team_database):
    assert data.busy_now(writing=True) is None
    with open_store(team_database) as writer, writer.transaction():
        # Another writer holds the server's write lock: a read goes on, a write would wait.
        assert data.busy_now() is None
        held = data.busy_now(writing=True)
        assert held is not None and held.writing
    assert data.busy_now(writing=True) is None
