"""The database file: schema creation, migration of older files, settings,
and the rule that the engine never imports Streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from kpi_logic.store import (
    DEFAULT_DB,
    SCHEMA_VERSION,
    database_path,
    db,
    open_store,
    quote_identifier,
    schema_version,
    set_setting,
    setting,
    transaction,
)

ENGINE = Path(__file__).resolve().parents[1] / "kpi_logic"


def test_new_file_gets_current_schema(db_path):
    with open_store(db_path) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION
    assert db_path.exists()


def test_older_file_is_migrated_not_dropped(db_path):
    old = duckdb.connect(str(db_path))
    old.execute(db.SCHEMA_V1)
    old.execute("insert into schema_version values (1)")
    old.execute("insert into batches (id, run_id, file, kind, imported_at, rows) "
                "values (1, 1, 'sales.csv', 'history', now(), 1)")
    old.execute("insert into observations values ('revenue', date '2025-03-01', '', 5000, 1, null)")
    old.close()

    with open_store(db_path) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION
        assert store.connection.execute("select metric, value from observations").fetchall() == [("revenue", 5000.0)]
        set_setting(store.connection, "start_empty", "yes")
        assert setting(store.connection, "start_empty") == "yes"


def test_file_from_a_newer_release_is_refused(db_path):
    newer = duckdb.connect(str(db_path))
    newer.execute("create table schema_version (version integer)")
    newer.execute("insert into schema_version values (?)", [SCHEMA_VERSION + 1])
    newer.close()
    with pytest.raises(RuntimeError, match="newer Lodestar"):
        with open_store(db_path):
            pass


def test_read_only_open_of_a_missing_file_creates_it(db_path):
    with open_store(db_path, read_only=True) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION


def test_database_path_prefers_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_DB", str(tmp_path / "env.duckdb"))
    assert database_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    assert database_path() == tmp_path / "env.duckdb"
    monkeypatch.delenv("LODESTAR_DB")
    assert database_path() == DEFAULT_DB


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(ValueError):
        with transaction(store.connection):
            set_setting(store.connection, "k", "v")
            raise ValueError("boom")
    assert setting(store.connection, "k") is None


def test_quote_identifier_doubles_quotes():
    assert quote_identifier('we"ird') == '"we""ird"'


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", sorted(ENGINE.rglob("*.py")), ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_never_imports_streamlit(module):
    assert "streamlit" not in _imported_modules(module)
