"""Shared test builders. Fixture files live in tests/fixtures/ (small, hand-written)."""
from __future__ import annotations

from pathlib import Path

import pytest

from kpi_logic import store

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def con():
    """A fresh in-memory database with the current schema."""
    connection = store.memory_connection()
    yield connection
    connection.close()


@pytest.fixture
def db_path(tmp_path):
    """A path for a real DuckDB file in a temporary folder."""
    return tmp_path / "lodestar.duckdb"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
