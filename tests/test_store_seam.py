"""The Store seam: open_store, choosing a file or a server, transactions through
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
from kpi_logic.store import api, database_location, is_server_url, open_store, redacted
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


# Port 1 on the loopback answers nothing: a server that is down.
DOWN = "postgresql://lodestar:s3cret-pw@127.0.0.1:1/kpis"


@pytest.mark.parametrize("how", ["argument", "LODESTAR_DATABASE_URL", "LODESTAR_DB"])
def test_a_server_that_cannot_be_reached_is_named_without_its_password(how, tmp_path,
                                                                       monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LODESTAR_DATABASE_URL", raising=False)
    if how != "argument":
        monkeypatch.setenv(how, DOWN)
    with pytest.raises(InputError, match="Cannot open the team database "
                                         "postgresql://lodestar:\\*\\*\\*@127.0.0.1:1/kpis") as raised:
        with open_store(DOWN if how == "argument" else None):
            pass
    assert "s3cret" not in str(raised.value) and "s3cret" not in caplog.text
    assert list(tmp_path.iterdir()) == []       # no DuckDB file made instead


def test_the_server_url_wins_over_the_file_and_the_argument_over_both(tmp_path, monkeypatch):
    monkeypatch.setenv("LODESTAR_DB", str(tmp_path / "file.duckdb"))
    assert database_location() == str(tmp_path / "file.duckdb")
    monkeypatch.setenv("LODESTAR_DATABASE_URL", DOWN)
    assert database_location() == DOWN and is_server_url(database_location())
    assert database_location(tmp_path / "x.duckdb") == str(tmp_path / "x.duckdb")
    assert redacted(DOWN) == "postgresql://lodestar:***@127.0.0.1:1/kpis"
    assert redacted("postgresql://h/db?user=u&password=pw") == "postgresql://h/db?user=u&password=***"
    assert redacted(tmp_path / "x.duckdb") == str(tmp_path / "x.duckdb")


def test_the_cli_names_a_server_it_cannot_reach_without_a_traceback(capsys, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--db", DOWN, "metrics"]) == 2
    assert main(["--db", DOWN, "demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("Cannot open the team database postgresql://lodestar:***@127.0.0.1:1/kpis") == 2
    assert "Traceback" not in err and "s3cret" not in err and list(tmp_path.iterdir()) == []


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


def test_files_are_staged_in_duckdb_whatever_the_backend(store, backend):
    staged = store.staging.execute("select 'staged' as here").fetchall()
    assert staged == [("staged",)] and type(store.staging).__module__.startswith("_duckdb")
    # DuckDB stages in the database itself; a server's store in an in-memory DuckDB.
    assert (store.staging is store.connection) == (backend == "duckdb")


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
