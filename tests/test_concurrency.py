"""Two processes, one DuckDB file: a writer waits for the file, then either
gets it or gives up with DatabaseBusyError, and nothing is half-written."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kpi_logic.ingest.importing import import_files
from kpi_logic.store import db, open_store

from .test_importing import HERE, assert_same_database, dump, files

ROOT = Path(__file__).resolve().parents[1]

# Holds the file open (as the dashboard would mid-query) until told to let go.
HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    delay = float(sys.stdin.readline() or 0)
    time.sleep(delay)
    con.close()
    print("released", flush=True)
""")

# A CLI-like writer in its own process, so LODESTAR_LOCK_WAIT is read as at startup.
WRITER = textwrap.dedent("""
    import sys
    from kpi_logic.store import open_store
    from kpi_logic.domain.errors import DatabaseBusyError
    from kpi_logic.ingest.importing import import_files
    try:
        with open_store(sys.argv[1]) as store:
            import_files(store, [(open(sys.argv[2], "rb").read(), "history_wide_corrected.csv")])
    except DatabaseBusyError as exc:
        print(exc)
        sys.exit(3)
""")


def python(code: str, *args, env: dict | None = None, **kwargs) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT,
                            env=environment, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)


@pytest.fixture
def seeded_file(db_path):
    """A database file with one import, and a dump of it taken before anyone holds it."""
    with open_store(db_path) as store:
        import_files(store, files("history_wide.csv"))
        return db_path, dump(store)


@pytest.fixture
def holder(seeded_file):
    process = python(HOLDER, seeded_file[0], stdin=subprocess.PIPE)
    assert process.stdout.readline().strip() == "holding"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_writer_gives_up_with_database_busy_and_writes_nothing(seeded_file, holder):
    path, before = seeded_file
    writer = python(WRITER, path, HERE / "history_wide_corrected.csv",
                    env={"LODESTAR_LOCK_WAIT": "0.3"})
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 3, err
    assert "in use by another Lodestar process" in out
    assert "Nothing was changed" in out
    holder.communicate("0\n", timeout=60)
    with open_store(path) as store:
        assert_same_database(before, dump(store))


def test_writer_succeeds_when_the_other_process_lets_go_in_time(seeded_file, holder,
                                                                monkeypatch):
    path, _ = seeded_file
    monkeypatch.setattr(db, "LOCK_WAIT_SECONDS", 60.0)
    # The holder lets go half a second from now; the writer starts waiting at once.
    holder.stdin.write("0.5\n")
    holder.stdin.flush()
    with open_store(path) as store:
        [result] = import_files(store, files("history_wide_corrected.csv"))
        assert (result.inserted, result.updated) == (4, 1)
    assert holder.wait(timeout=60) == 0
