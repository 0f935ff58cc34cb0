"""Shared test builders. Fixture files live in tests/fixtures/ (small, hand-written).

Every test that stores data runs on both backends through one parameter,
`backend` ("duckdb" or "postgres"), which the fixtures below ask for: `store`
(an opened Store), `database` (a location nothing exists at yet) and
`demo_database` (a private copy of the demo company), so their ids read
`test_x[duckdb]` and `test_x[postgres]`. A location is a DuckDB file path or
a PostgreSQL URL; open_store, the CLI's --db and LODESTAR_DB take either.

PostgreSQL runs in a cluster each test process starts once (tests/postgres_server.py),
with a database of its own per test. Without PostgreSQL the postgres cases
are skipped, unless LODESTAR_REQUIRE_POSTGRES=1 (CI) makes that a failure.
Tests about the DuckDB file itself (locks, its bytes on disk) use `db_path`.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from kpi_logic.store import memory_store, open_store
from tests.postgres_server import PostgresServer, PostgresUnavailable, required

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BACKENDS = ["duckdb", "postgres"]

# A server a developer's shell points at must never receive the tests' writes:
# each test names its database itself.
for _variable in ("LODESTAR_DATABASE_URL", "LODESTAR_VIEWER_DATABASE_URL"):
    os.environ.pop(_variable, None)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def postgres_server():
    """This test process's PostgreSQL server, started on first use, stopped at the end."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as missing:
        if required():
            pytest.fail(f"LODESTAR_REQUIRE_POSTGRES is set: {missing}", pytrace=False)
        pytest.skip(str(missing))
    yield server
    server.stop()


class Templates:
    """Prepared databases made once per test process and backend (the demo
    company, a module's imported fixtures), which tests copy."""

    def __init__(self, folder: Path):
        self._folder = folder
        self._made: dict[tuple[str, str], str | Path] = {}

    def get(self, backend: str, server: PostgresServer | None, key: str,
            fill: Callable[[str | Path], None]) -> str | Path:
        """The template `key` on `backend`, made by fill(location) the first time."""
        if (backend, key) not in self._made:
            if server is None:
                path = self._folder / f"{key}.duckdb"
                fill(path)
                self._made[backend, key] = path
            else:
                self._made[backend, key] = server.template(fill)
        return self._made[backend, key]


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


class Databases:
    """Locations on one backend for one test: new, empty ones and copies of templates."""

    def __init__(self, backend: str, folder: Path, server: PostgresServer | None,
                 templates: Templates):
        self.backend = backend
        self._folder = folder
        self._server = server
        self._templates = templates
        self._count = 0
        self._made: list[str] = []
        self._blank: str | None = None

    def new(self, name: str = "lodestar") -> str | Path:
        """A location where nothing exists yet (open_store creates the schema)."""
        if self._server is None:
            return self._path(name)
        self._made.append(self._server.create_database())
        return self._made[-1]

    def copy_of(self, key: str, fill: Callable[[str | Path], None],
                name: str = "lodestar") -> str | Path:
        """A private copy of the template `key`, which fill(location) makes once."""
        template = self._templates.get(self.backend, self._server, key, fill)
        if self._server is None:
            return Path(shutil.copyfile(template, self._path(name)))
        self._made.append(self._server.create_database(template=template))
        return self._made[-1]

    def blank(self) -> str:
        """PostgreSQL: a database with the empty current schema, emptied again after the test."""
        template = self._templates.get(self.backend, self._server, "empty", _create_schema)
        self._blank = self._server.blank(template)
        return self._blank

    def shared(self, key: str, fill: Callable[[str | Path], None]) -> str | Path:
        """The template `key` itself, for tests that only read it (faster than a copy)."""
        return self._templates.get(self.backend, self._server, key, fill)

    def _path(self, name: str) -> Path:
        self._count += 1
        return self._folder / (f"{name}.duckdb" if self._count == 1
                               else f"{name}-{self._count}.duckdb")

    def drop_all(self) -> None:
        for url in self._made:
            self._server.drop_database(url)
        if self._blank is not None:
            self._server.reset_blank()


def duckdb_only(why: str):
    """Marks a test that runs on DuckDB alone because it is about DuckDB itself
    (its connection's API, its file), not about stored data; `why` says so.
    A test's own parametrisation of `backend` replaces the fixture's."""
    assert why, "say why the test is DuckDB-only"
    return pytest.mark.parametrize("backend", ["duckdb"], indirect=True)


def postgres_only(why: str):
    """Marks a test of something only a server has (a URL variable, roles); `why` says what."""
    assert why, "say why the test is PostgreSQL-only"
    return pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The backend this case runs on: "duckdb" (a file, or in memory) or "postgres"."""
    return request.param


@pytest.fixture
def databases(backend, request, tmp_path, templates):
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    made = Databases(backend, tmp_path, server, templates)
    yield made
    made.drop_all()


@pytest.fixture
def database(databases):
    """A location (DuckDB file path or PostgreSQL URL) where nothing exists yet."""
    return databases.new()


def _create_schema(location) -> None:
    with open_store(location):
        pass


@pytest.fixture
def store(backend, databases):
    """A Store over a fresh database with the current schema (DuckDB: in memory)."""
    if backend == "duckdb":
        opened = memory_store()
        yield opened
        opened.close()
        return
    with open_store(databases.blank()) as opened:
        yield opened


@pytest.fixture
def db_path(tmp_path):
    """A path for a real DuckDB file in a temporary folder (tests of the file itself)."""
    return tmp_path / "lodestar.duckdb"


def load_demo(location) -> None:
    from kpi_logic.demo import company as demo
    with open_store(location) as store:
        demo.load_demo(store)


@pytest.fixture(scope="session")
def demo_file(templates) -> Path:
    """The demo company in a DuckDB file, loaded once per test process; copy it
    before writing to it (DuckDB-only tests; others use demo_database)."""
    return templates.get("duckdb", None, "demo", load_demo)


@pytest.fixture
def demo_database(databases):
    """A private copy of the demo company on this case's backend."""
    return databases.copy_of("demo", load_demo)


@pytest.fixture
def use_database(monkeypatch):
    """Point the dashboard at a database (a file path or a URL): LODESTAR_DB set,
    open mode (no editor password), Streamlit's caches empty before and after the test."""
    import streamlit as st

    def point(location):
        monkeypatch.setenv("LODESTAR_DB", str(location))
        monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        return location

    yield point
    st.cache_data.clear()
    st.cache_resource.clear()
