"""Shared test builders. Fixture files live in tests/fixtures/ (small, hand-written)."""
from __future__ import annotations

from pathlib import Path

import pytest

from kpi_logic.store import memory_store, open_store

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def store():
    """A Store over a fresh in-memory database with the current schema."""
    opened = memory_store()
    yield opened
    opened.close()


@pytest.fixture
def db_path(tmp_path):
    """A path for a real DuckDB file in a temporary folder."""
    return tmp_path / "lodestar.duckdb"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    """The demo company in a DuckDB file, loaded once per test process; copy it
    before writing to it."""
    from kpi_logic.demo import company as demo
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_store(path) as store:
        demo.load_demo(store)
    return path


@pytest.fixture
def use_database(monkeypatch):
    """Point the dashboard at a database file: LODESTAR_DB set, open mode (no
    editor password), Streamlit's caches empty before and after the test."""
    import streamlit as st

    def point(path: Path) -> Path:
        monkeypatch.setenv("LODESTAR_DB", str(path))
        monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        return path

    yield point
    st.cache_data.clear()
    st.cache_resource.clear()
