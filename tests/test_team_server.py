"""What a team's PostgreSQL server adds to the embedded file: writers take turns
under one lock, a page reads one snapshot, viewers may read through a role that
cannot write, replicas migrate a new database once, and the demo's numbers are
the same as on DuckDB to the last digit of the JSON."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

from kpi_logic.cli.main import main
from kpi_logic.domain.errors import DatabaseBusyError, InputError, ReadOnlyDatabaseError
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store
from tests.conftest import load_demo, postgres_only

server_only = postgres_only("the write lock, snapshots and roles belong to the server")

HISTORY = "date,signups,revenue\n2026-01-05,10,100.5\n2026-01-12,12,98.25\n"
MORE = "date,visits\n2026-01-05,300\n2026-01-12,320\n"


def _import(location, name: str, text: str, **open_args):
    with open_store(location, **open_args) as store:
        return import_files(store, [(text.encode(), name)])


def _count(location, table: str) -> int:
    with open_store(location, read_only=True) as store:
        return store.connection.execute(f"select count(*) from {table}").fetchall()[0][0]


@server_only
def test_a_writer_waits_for_the_one_holding_the_lock_then_sees_its_rows(database):
    _import(database, "history.csv", HISTORY)
    holding, released = threading.Event(), threading.Event()
    done: dict = {}

    def first_writer():
        with open_store(database) as store, store.transaction():
            store.settings.set("held", "yes")
            holding.set()
            released.wait(10)
            done["first_committed"] = time.monotonic()

    def second_writer():
        done["results"] = _import(database, "more.csv", MORE, wait_seconds=20)
        done["second_finished"] = time.monotonic()

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert holding.wait(10)
    # With no time to wait, the second import is refused and writes nothing.
    with pytest.raises(DatabaseBusyError, match="Nothing was changed"):
        _import(database, "more.csv", MORE, wait_seconds=0.2)
    waiter = threading.Thread(target=second_writer)
    waiter.start()
    time.sleep(0.5)
    assert "second_finished" not in done        # still waiting for the lock
    released.set()
    holder.join(10)
    waiter.join(30)
    assert done["second_finished"] >= done["first_committed"]
    assert [r.inserted for r in done["results"]] == [2]
    with open_store(database, read_only=True) as store:
        assert store.settings.get("held") == "yes"
        assert len(store.batches.in_effect()) == 2


@server_only
def test_a_page_reads_one_snapshot_while_an_import_commits(database):
    _import(database, "history.csv", HISTORY)
    with open_store(database, read_only=True, migrate=False) as page:
        version = page.definitions.data_version()
        metrics = set(page.definitions.metrics())
        _import(database, "more.csv", MORE)          # commits while the page reads
        assert page.definitions.data_version() == version
        assert set(page.definitions.metrics()) == metrics == {"revenue", "signups"}
    with open_store(database, read_only=True, migrate=False) as next_run:
        assert next_run.definitions.data_version() != version
        assert "visits" in next_run.definitions.metrics()


@server_only
def test_a_refused_import_leaves_the_server_exactly_as_it_was(database):
    _import(database, "history.csv", HISTORY)
    before = {t: _count(database, t) for t in ("batches", "observations", "metrics")}
    with pytest.raises(InputError, match="row 3, column 'signups'"):
        _import(database, "history.csv", HISTORY.replace("12,98.25", "twelve,98.25")
                .replace("2026-01-12", "2026-01-19"))
    assert {t: _count(database, t) for t in before} == before


@server_only
def test_a_changed_value_supersedes_and_undo_restores_it_on_the_server(database):
    _import(database, "history.csv", HISTORY)
    [result] = _import(database, "history.csv", HISTORY.replace("98.25", "99"))
    assert (result.inserted, result.updated) == (0, 1)
    assert main(["--db", database, "undo", str(result.batch)]) == 0
    with open_store(database, read_only=True) as store:
        assert store.connection.execute(
            "select value from observations where metric = 'revenue' and superseded_by is null "
            "and obs_date = ?", ["2026-01-12"]).fetchall() == [(98.25,)]


@server_only
def test_replicas_opening_a_new_database_at_once_migrate_it_once(database):
    errors: list = []

    def open_one():
        try:
            with open_store(database) as store:
                store.definitions.data_version()
        except Exception as exc:   # noqa: BLE001 - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert _count(database, "schema_version") == 1


@server_only
def test_a_viewer_role_reads_and_cannot_write_even_through_a_forgotten_button(database,
                                                                               monkeypatch):
    _import(database, "history.csv", HISTORY)
    role = "viewer_" + database.rsplit("/", 1)[1][-12:]
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f"create role {role} login password 'view-only-pw'")
        admin.execute(f"grant select on all tables in schema public to {role}")
    viewer = database.replace("postgresql://postgres@", f"postgresql://{role}:view-only-pw@")
    monkeypatch.setenv("LODESTAR_VIEWER_DATABASE_URL", viewer)
    try:
        with open_store(database, read_only=True, migrate=False) as store:
            assert store.connection.execute("select current_user").fetchall() == [(role,)]
            assert set(store.definitions.metrics()) == {"revenue", "signups"}
            with pytest.raises(ReadOnlyDatabaseError, match="nothing was written"):
                store.settings.set("start_empty", "yes")
        monkeypatch.delenv("LODESTAR_VIEWER_DATABASE_URL")
        # Without a viewer role, a read-only open is a read-only transaction.
        with open_store(database, read_only=True) as store:
            with pytest.raises(ReadOnlyDatabaseError):
                store.settings.set("start_empty", "yes")
        with open_store(database, read_only=True) as store:
            assert store.settings.get("start_empty") is None
    finally:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(f"drop owned by {role}")
            admin.execute(f"drop role {role}")


@server_only
def test_a_server_without_lodestar_tables_is_not_created_by_a_reader(database, capsys):
    assert main(["--db", database, "metrics"]) == 2
    assert "holds no Lodestar data yet" in capsys.readouterr().err
    with psycopg.connect(database) as con:
        assert con.execute("select count(*) from information_schema.tables "
                           "where table_schema = 'public'").fetchone()[0] == 0


def _demo_json(location, capsys) -> dict[str, str]:
    commands = [["okrs", "--json"], ["launch", "--json"], ["metrics", "--json"]]
    commands += [["scorecard", "--json", "--department", d]
                 for d in ("Customer service", "Finance", "HR", "Marketing", "Product", "Sales")]
    found = {}
    for command in commands:
        assert main(["--db", str(location), *command]) == 0, command
        found[" ".join(command)] = capsys.readouterr().out
    return found


def test_the_demo_gives_the_same_json_on_both_backends(templates, postgres_server, capsys):
    on_duckdb = _demo_json(templates.get("duckdb", None, "demo", load_demo), capsys)
    on_server = _demo_json(templates.get("postgres", postgres_server, "demo", load_demo), capsys)
    for command, text in on_duckdb.items():
        assert len(text) > 200, command
        assert on_server[command] == text, command


@pytest.mark.parametrize("through", ["2024-02-29", "2025-06-30", None])
def test_every_metrics_coverage_is_the_same_on_both_backends(templates, postgres_server, through):
    """A server reads each metric's latest dates backwards from its index
    (store/freshness.py); the rows must be DuckDB's, for all metrics and for a list."""
    from datetime import date
    day = date.fromisoformat(through) if through else date.max
    found = []
    for backend, server in (("duckdb", None), ("postgres", postgres_server)):
        with open_store(templates.get(backend, server, "demo", load_demo), read_only=True) as store:
            every = store.history.coverage_rows(None, through=day)
            some = store.history.coverage_rows([every[0][0], every[-1][0], every[0][0],
                                                "no_such_metric"], through=day)
        found.append((every, some))
    (every, some), on_server = found
    assert len(every) > 20 and {1, 31} <= {row[3] for row in every}, "daily and monthly metrics"
    assert len(some) == 2
    assert on_server == (every, some)


@server_only
def test_a_server_database_of_version_5_gains_the_history_index_and_keeps_its_rows(database):
    """Version 6 is an index a server needs; its migration runs on an older database
    under the write lock like any other, and the stored rows stay."""
    from kpi_logic.store import SCHEMA_VERSION, db
    with psycopg.connect(database, autocommit=True) as con:
        for version in range(1, 6):
            for statement in db.MIGRATIONS[version].split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute("insert into schema_version values (5)")
        con.execute("insert into batches (id, run_id, file, kind, imported_at, rows) "
                    "values (1, 1, 'old.csv', 'history', now(), 1)")
        con.execute("insert into observations (metric, obs_date, value, batch_id) "
                    "values ('revenue', date '2025-01-31', 5000, 1)")
    with open_store(database) as store:
        assert store.history.latest_date(["revenue"]).isoformat() == "2025-01-31"
    with psycopg.connect(database) as con:
        assert con.execute("select max(version) from schema_version").fetchone()[0] \
            == SCHEMA_VERSION >= 6
        [definition] = con.execute("select indexdef from pg_indexes "
                                   "where tablename = 'observations'").fetchone()
    assert "(metric, obs_date) WHERE (superseded_by IS NULL)" in definition


def test_a_file_skipped_as_imported_before_lends_no_rows_to_the_next_file_of_the_run(database):
    """The first file was imported before (skipped, after its rows were checked and,
    on a server, copied for the check); the second brings a metric nobody has yet:
    only its own rows are stored, on both backends."""
    old = (b"date,visits\n2026-01-05,300\n2026-01-12,320\n", "visits.csv")
    new = (b"date,signups\n2026-01-05,7\n", "signups.csv")
    with open_store(database) as store:
        import_files(store, [old])
        results = import_files(store, [old, new])
        stored = store.connection.execute(
            "select metric, obs_date, value from observations where batch_id = ? "
            "order by metric, obs_date", [results[1].batch]).fetchall()
        visits = store.connection.execute("select count(*) from observations "
                                          "where metric = 'visits'").fetchall()[0][0]
    assert [r.inserted for r in results] == [0, 1]
    assert [(m, d.isoformat(), v) for m, d, v in stored] == [("signups", "2026-01-05", 7.0)]
    assert visits == 2
