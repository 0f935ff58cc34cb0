"""open_store for a reader that must not write (a dashboard viewer's): no
file created, no migration, writes refused by the read-only connection; and
a busy file says which process holds it."""
from __future__ import annotations

import subprocess

import duckdb
import pytest

from kpi_logic.domain.errors import DatabaseBusyError, DatabaseSchemaError, ReadOnlyDatabaseError
from kpi_logic.store import SCHEMA_VERSION, open_store, schema_version, set_setting
from kpi_logic.store.db import MIGRATIONS, lock_holder

from .test_concurrency import HOLDER, python


def test_a_reader_that_may_not_migrate_creates_no_file(tmp_path):
    path = tmp_path / "missing" / "lodestar.duckdb"
    with pytest.raises(DatabaseSchemaError) as refused:
        with open_store(path, read_only=True, migrate=False):
            pass
    assert (refused.value.found, refused.value.known) == (0, SCHEMA_VERSION)
    assert not path.parent.exists()


def test_a_reader_that_may_not_migrate_leaves_an_older_file_alone(db_path):
    con = duckdb.connect(str(db_path))
    for version in (1, 2):
        con.execute(MIGRATIONS[version])
    con.execute("insert into schema_version values (2)")
    con.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseSchemaError, match="older Lodestar") as refused:
        with open_store(db_path, read_only=True, migrate=False):
            pass
    assert refused.value.found == 2
    assert db_path.read_bytes() == before
    with open_store(db_path, read_only=True) as store:     # the CLI's reads still migrate
        assert schema_version(store.connection) == SCHEMA_VERSION


def test_migrate_false_is_only_for_reading(db_path):
    with pytest.raises(ValueError, match="read-only"):
        with open_store(db_path, migrate=False):
            pass


def test_a_write_on_a_read_only_connection_is_refused_and_nothing_changes(db_path):
    with open_store(db_path) as store:
        set_setting(store.connection, "start_empty", "no")
    before = db_path.read_bytes()
    with pytest.raises(ReadOnlyDatabaseError, match="nothing was written"):
        with open_store(db_path, read_only=True, migrate=False) as store:
            set_setting(store.connection, "start_empty", "yes")
    assert db_path.read_bytes() == before


def test_a_busy_file_names_the_process_holding_it(db_path):
    with open_store(db_path):
        pass
    holder = python(HOLDER, db_path, stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for read_only in (True, False):
            with pytest.raises(DatabaseBusyError) as busy:
                with open_store(db_path, read_only=read_only, wait_seconds=0):
                    pass
            assert busy.value.holder.endswith(f", process {holder.pid}")
            assert busy.value.writing is not read_only
            assert f"process {holder.pid}" in str(busy.value)
    finally:
        holder.communicate("0\n", timeout=60)


@pytest.mark.parametrize("message, holder", [
    ('IO Error: Could not set lock on file "/srv/l.duckdb": Conflicting lock is held in '
     '/root/.pyenv/versions/3.11.7/bin/python3.11 (PID 19384). See also https://duckdb.org',
     "python3.11, process 19384"),
    ('Could not set lock on file "x": Conflicting lock is held in /usr/bin/my app (PID 7)',
     "my app, process 7"),
    ("IO Error: Could not set lock on file", None),
])
def test_lock_holder_keeps_the_program_name_not_its_path(message, holder):
    assert lock_holder(message) == holder
