"""The Store seam: open_store, the refused team-server URL, transactions through
the Store, and the rule that only store/ imports DuckDB or holds SQL text."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from kpi_logic.cli.main import main
from kpi_logic.domain.errors import InputError, ReadOnlyDatabaseError
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import api, database_path, open_store
from kpi_logic.store.duckdb_store import DuckDBStore
from tests.conftest import fixture_bytes

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "kpi_logic" / "store"
# Everything but store/: the engine, the dashboard's pages and helpers, the app.
OUTSIDE_STORE = sorted(p for p in [*(ROOT / "kpi_logic").rglob("*.py"), *(ROOT / "ui").rglob("*.py"),
                                   *(ROOT / "views").rglob("*.py"), ROOT / "app.py"]
                       if STORE not in p.parents)
SQL = re.compile(r"\b(select\s+(\*|count\(|distinct\s)|select\s[^\n]*\bfrom\s+[\w\"(][^\n]*"
                 r"\b(where|group\s+by|order\s+by|join|limit)\b|insert\s+into\s|delete\s+from\s|update\s+\w+\s+set\s"
                 r"|create\s+(temp\s+|temporary\s+)?(table|view|sequence)\s|drop\s+(table|view)\s"
                 r"|begin\s+transaction|read_csv\()", re.IGNORECASE | re.DOTALL)


def test_open_store_on_a_path_creates_the_file_and_keeps_what_was_written(db_path):
    with open_store(db_path) as store:
        assert isinstance(store, DuckDBStore) and store.definitions.metrics() == {}
        store.settings.set("start_empty", "yes")
    assert db_path.exists()
    with open_store(db_path, read_only=True, migrate=False) as store:
        assert store.settings.get("start_empty") == "yes"
        assert not store.batches.any_in_effect()


@pytest.mark.parametrize("url", ["postgresql://lodestar@db.example/kpis",
                                 "POSTGRES://db.example/kpis"])
def test_a_postgresql_url_is_refused_and_nothing_is_created(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="PostgreSQL team server .* not supported"):
        with open_store(url):
            pass
    monkeypatch.setenv("LODESTAR_DB", url)
    with pytest.raises(InputError, match="give the path of a DuckDB file"):
        with open_store():
            pass
    with pytest.raises(InputError, match="PostgreSQL"):     # as the dashboard passes it: a Path
        with open_store(database_path()):
            pass
    assert list(tmp_path.iterdir()) == []


def test_the_cli_refuses_a_postgresql_url_with_the_message(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--db", "postgresql://db.example/kpis", "metrics"]) == 2
    assert main(["--db", "postgresql://db.example/kpis", "demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("not supported by this release of Lodestar yet") == 2
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_a_transaction_through_the_store_rolls_back_on_error(store):
    with pytest.raises(ValueError):
        with store.transaction():
            store.settings.set("k", "v")
            raise ValueError("boom")
    assert store.settings.get("k") is None
    with store.transaction():
        store.settings.set("k", "kept")
    assert store.settings.get("k") == "kept"


def test_a_transaction_that_is_not_kept_rolls_back_even_when_it_succeeds(store):
    with store.transaction(keep=False):
        store.settings.set("k", "dry run")
    assert store.settings.get("k") is None


def test_an_import_that_fails_leaves_nothing_through_the_store(store):
    good, bad = fixture_bytes("import/metrics.csv"), b"metric,aggregation\nleads,average-ish\n"
    with pytest.raises(InputError):
        import_files(store, [(good, "metrics.csv"), (bad, "bad.csv")])
    assert store.definitions.metrics() == {} and store.batches.listed().empty


def test_a_read_only_store_refuses_a_write(db_path):
    with open_store(db_path) as store:
        store.settings.set("k", "v")
    with pytest.raises(ReadOnlyDatabaseError):
        with open_store(db_path, read_only=True, migrate=False) as store:
            store.settings.set("k", "w")
    with open_store(db_path, read_only=True) as store:
        assert store.settings.get("k") == "v"


def test_staging_is_the_store_s_own_connection_for_duckdb(store):
    assert store.staging is store.connection


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


@pytest.mark.parametrize("module", OUTSIDE_STORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_imports_duckdb_or_holds_sql(module):
    assert not {n for n in _imports(module) if n.split(".")[0] == "duckdb"}
    assert [s for s in _strings(module) if SQL.search(s)] == []


def test_the_sql_guard_sees_sql():
    assert SQL.search("select value from settings where key = ?")
    assert SQL.search("select count(*) from batches")
    assert SQL.search("INSERT INTO batches values (?)") and SQL.search("begin transaction")
    assert not SQL.search("Select a department from the list")
    assert [s for s in _strings(STORE / "db.py") if SQL.search(s)]     # the store's own SQL
    assert "duckdb" in _imports(STORE / "db.py")


@pytest.mark.parametrize("group", ["batches", "definitions", "history", "launches", "scenarios",
                                   "settings"])
def test_the_duckdb_store_has_every_operation_of_the_protocol(store, group):
    """What the engine may call (store/api.py) is what DuckDBStore offers, with the
    same parameters: a second backend is held to the same list."""
    protocol = inspect.get_annotations(api.Store)[group]
    wanted = {name: inspect.signature(fn) for name, fn in vars(getattr(api, protocol)).items()
              if inspect.isfunction(fn) and not name.startswith("_")}
    implemented = getattr(store, group)
    assert wanted
    for name, signature in wanted.items():
        found = inspect.signature(getattr(type(implemented), name))
        assert list(found.parameters) == list(signature.parameters), (group, name)
