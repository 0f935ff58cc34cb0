"""The database file: schema creation, migration of older files, settings,
and the rule that the engine never imports Streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from kpi_logic import store
from kpi_logic.store import db

ENGINE = Path(__file__).resolve().parents[1] / "kpi_logic"


def test_new_file_gets_current_schema(db_path):
    with store.connect(db_path) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION
    assert db_path.exists()


def test_older_file_is_migrated_not_dropped(db_path):
    old = duckdb.connect(str(db_path))
    old.execute(db.SCHEMA_V1)
    old.execute("insert into schema_version values (1)")
    old.execute("insert into batches (id, run_id, file, kind, imported_at, rows) "
                "values (1, 1, 'sales.csv', 'history', now(), 1)")
    old.execute("insert into observations values ('revenue', date '2025-03-01', '', 5000, 1, null)")
    old.close()

    with store.connect(db_path) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert con.execute("select metric, value from observations").fetchall() == [("revenue", 5000.0)]
        store.set_setting(con, "start_empty", "yes")
        assert store.setting(con, "start_empty") == "yes"


def test_file_from_a_newer_release_is_refused(db_path):
    newer = duckdb.connect(str(db_path))
    newer.execute("create table schema_version (version integer)")
    newer.execute("insert into schema_version values (?)", [store.SCHEMA_VERSION + 1])
    newer.close()
    with pytest.raises(RuntimeError, match="newer Lodestar"):
        with store.connect(db_path):
            pass


def test_read_only_open_of_a_missing_file_creates_it(db_path):
    with store.connect(db_path, read_only=True) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION


def test_database_path_prefers_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_DB", str(tmp_path / "env.duckdb"))
    assert store.database_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    assert store.database_path() == tmp_path / "env.duckdb"
    monkeypatch.delenv("LODESTAR_DB")
    assert store.database_path() == store.DEFAULT_DB


def test_transaction_rolls_back_on_error(con):
    with pytest.raises(ValueError):
        with store.transaction(con):
            store.set_setting(con, "k", "v")
            raise ValueError("boom")
    assert store.setting(con, "k") is None


def test_quote_identifier_doubles_quotes():
    assert store.quote_identifier('we"ird') == '"we""ird"'


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
