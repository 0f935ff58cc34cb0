"""Issue 8, what held and must keep holding, and the bomb's memory: imports in
their own processes. A zip bomb is refused within a bounded peak memory (read
from the child's own /proc record, not timed) by the CLI and by the Import
and define page; an import killed with SIGKILL leaves the database as it was
and its space is given back (on a server: its transaction and lock
end with its connection); imports started together are all stored; names
shaped like SQL are stored as written and never run."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import metric_name
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import is_server_url, open_store
from kpi_logic.store.writes import VERSIONED_TABLES

from . import hostile_files as H
from .conftest import duckdb_only
from .readable import shown
from .test_importing import assert_same_database, dump, files

ROOT = Path(__file__).resolve().parents[1]
PEAK_MB = 400            # a resource bound: the bomb unpacks to 3 GB


def with_seed(location) -> None:
    with open_store(location) as store:
        import_files(store, files("metrics.csv", "history_long.csv", "history_wide.csv", "kpis.csv"))


@pytest.fixture
def seeded(databases):
    """A database with metrics, history and KPIs (a DuckDB file or a server database)."""
    return databases.copy_of("processes-seed", with_seed)


# Run before a child exits: its own peak resident memory. Read from /proc, which
# keeps it per process image; getrusage and wait4 would count the parent's memory
# at the fork as the child's.
PEAK_AT_EXIT = textwrap.dedent("""
    import atexit, sys
    def _peak():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                print("peak-kb", line.split()[1], file=sys.__stderr__, flush=True)
    atexit.register(_peak)
""")


def run_measured(code: str, args: list[str], tmp_path: Path, env: dict | None = None,
                 timeout: float = 300) -> tuple[int, str, float]:
    """(exit code, stdout + stderr, peak resident memory in MB) of Python `code`
    run in a child process with `args`."""
    done = subprocess.run([sys.executable, "-c", PEAK_AT_EXIT + code, *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    peaks = [int(line.split()[1]) for line in output.splitlines() if line.startswith("peak-kb")]
    assert peaks, output
    return done.returncode, output, peaks[-1] / 1024


CLI = "import runpy, sys\nsys.argv = ['kpi_logic', *sys.argv[1:]]\nrunpy.run_module('kpi_logic', run_name='__main__')\n"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    path.write_bytes(H.zip_bomb(3 * 1024 ** 3))
    assert path.stat().st_size < 4 * 1024 ** 2
    return path


def test_the_cli_refuses_a_zip_bomb_within_bounded_memory(seeded, bomb, tmp_path):
    with open_store(seeded) as store:
        before = dump(store)
    code, output, peak = run_measured(CLI, ["--db", str(seeded), "import", str(bomb)], tmp_path)
    assert code == 2, output
    assert "bomb.xlsx: the workbook unpacks to more than 1 GB" in output
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    with open_store(seeded) as store:
        assert_same_database(before, dump(store))


# The Import and define page in AppTest, in its own process: the file uploaded as
# the browser would, "Check files" pressed, what the page shows printed.
PAGE_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from streamlit.testing.v1 import AppTest
    data = Path(sys.argv[1]).read_bytes()
    at = AppTest.from_file("views/define.py", default_timeout=120).run()
    at.file_uploader(key="define_files").set_value([(Path(sys.argv[1]).name, data, "application/zip")])
    at.run()
    at.button(key="define_check").click().run()
    print("exceptions:", len(at.exception))
    for error in at.error:
        print("error:", error.value)
""")


def test_the_define_page_refuses_a_zip_bomb_within_bounded_memory(seeded, bomb, tmp_path):
    with open_store(seeded) as store:
        before = dump(store)
    code, output, peak = run_measured(PAGE_RUN, [str(bomb)], tmp_path,
                                      env={"LODESTAR_DB": str(seeded),
                                           "LODESTAR_EDITOR_PASSWORD": ""})
    assert code == 0, output
    assert "exceptions: 0" in output
    assert "error: bomb.xlsx: the workbook unpacks to more than 1 GB" in shown(output)
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    with open_store(seeded) as store:
        assert_same_database(before, dump(store))


# --- kill -9 in the middle of an import --------------------------------------------------------

# Imports argv[2] and says so once its batch is opened (inside the run's
# transaction, before any row is written); with "self" it kills itself once
# every row is written, just before the commit.
KILLED_IMPORT = textwrap.dedent("""
    import os, signal, sys
    from kpi_logic.store import open_store
    from kpi_logic.ingest.importing import import_files
    from kpi_logic.store import writes
    opened, closed = writes.open_batch, writes.close_batch
    def announced(*args, **kwargs):
        print("writing", flush=True)
        return opened(*args, **kwargs)
    def killed(*args, **kwargs):
        if sys.argv[3] == "self":
            os.kill(os.getpid(), signal.SIGKILL)
        return closed(*args, **kwargs)
    writes.open_batch, writes.close_batch = announced, killed
    with open_store(sys.argv[1]) as store:
        import_files(store, [(open(sys.argv[2], "rb"), "big.csv")])
""")


def big_history(path: Path, rows: int = 400_000) -> Path:
    """Long history of 40 metrics in 50 regions, `rows` rows (past DuckDB's
    122,880-row groups, which it writes to the file before the commit)."""
    with open(path, "w") as out:
        out.write("date,metric,region,value\n")
        for i in range(rows):
            out.write(f"{2000 + i // 2000}-01-01,m{i % 40},r{(i // 40) % 50},{i % 997}\n")
    return path


def consistent(store) -> None:
    """Every versioned row belongs to a batch, and so does every superseding mark."""
    for table in VERSIONED_TABLES:
        orphans = store.connection.execute(
            f"select count(*) from {table} where batch_id not in (select id from batches) "
            "or (superseded_by is not null and superseded_by not in (select id from batches))"
        ).fetchall()[0][0]
        assert orphans == 0, table


@pytest.mark.parametrize("who", ["self", "test"])
def test_an_import_killed_mid_way_leaves_the_database_as_it_was(seeded, tmp_path, who):
    source = big_history(tmp_path / "big.csv")
    with open_store(seeded) as store:
        before = dump(store)
    on_file = not is_server_url(str(seeded))
    size = Path(seeded).stat().st_size if on_file else 0
    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(seeded), str(source), who],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        if who == "test":
            child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=120) == -signal.SIGKILL
    finally:
        child.kill()
        child.communicate()
    with open_store(seeded) as store:           # writable: gives the killed import's space back
        consistent(store)
        assert_same_database(before, dump(store))
    if on_file:
        assert Path(seeded).stat().st_size <= size + 256 * 1024
    # The killed writer holds nothing: a writer that will not wait gets in at once.
    with open_store(seeded, wait_seconds=0) as store:
        [result] = import_files(store, [(b"date,after_kill\n2025-01-01,1\n", "after.csv")])
    assert result.inserted == 1


@duckdb_only("about the blocks of DuckDB's file")
def test_space_past_the_blocks_duckdb_uses_is_given_back(seeded):
    """What a killed writer leaves (blocks nothing refers to) is cut off at the
    next writable open; a read-only open leaves the file alone."""
    with open_store(seeded) as store:
        before = dump(store)
    size = seeded.stat().st_size
    with open(seeded, "ab") as out:
        out.write(b"\0" * (4 * 1024 * 1024))
    with open_store(seeded, read_only=True) as store:
        assert_same_database(before, dump(store))
    assert seeded.stat().st_size == size + 4 * 1024 * 1024
    with open_store(seeded) as store:
        assert_same_database(before, dump(store))
    assert seeded.stat().st_size <= size + 256 * 1024


# --- imports at the same time ------------------------------------------------------------------

ONE_IMPORT = textwrap.dedent("""
    import sys
    from kpi_logic.store import open_store
    from kpi_logic.ingest.importing import import_files
    with open_store(sys.argv[1]) as store:
        [result] = import_files(store, [(open(sys.argv[2], "rb").read(), sys.argv[3])])
    print(result.inserted)
""")


def test_imports_started_together_are_all_stored(seeded, tmp_path):
    names = [f"team_{n}.csv" for n in range(4)]
    for n, name in enumerate(names):
        rows = "".join(f"2025-01-{day:02d},team_{n}_leads,{day * (n + 1)}\n" for day in range(1, 29))
        (tmp_path / name).write_text("date,metric,value\n" + rows)
    children = [subprocess.Popen([sys.executable, "-c", ONE_IMPORT, str(seeded),
                                  str(tmp_path / name), name], cwd=ROOT, text=True,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for name in names]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 4, outputs
    assert [out.strip() for out, _ in outputs] == ["28"] * 4
    with open_store(seeded, read_only=True) as store:
        stored = dict(store.connection.execute(
            "select b.file, count(o.metric) from batches b join observations o "
            "on o.batch_id = b.id where b.file like 'team_%' group by b.file").fetchall())
        consistent(store)
    assert stored == {name: 28 for name in names}


# --- text shaped like SQL ----------------------------------------------------------------------

INJECTIONS = ["x'); drop table observations; --", "'; delete from batches where '1'='1",
              "Robert'); DROP TABLE metrics;--", '"; update kpis set target = 0; --',
              "1); select * from duckdb_settings(); --"]


def csv_bytes(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def test_text_shaped_like_sql_is_stored_as_written_and_never_run(seeded):
    written = list(zip(INJECTIONS, reversed(INJECTIONS), INJECTIONS[2:] + INJECTIONS[:2], strict=True))
    history = csv_bytes([["date", "metric", "department", "channel", "value"]]
                        + [[f"2025-02-{n + 1:02d}", metric, department, channel, n]
                           for n, (metric, department, channel) in enumerate(written)])
    sheet_name = "'); drop table batches; --"
    book = H.zipped(H.workbook_parts({sheet_name: H.HISTORY_HEADER + (
        '<row r="2">' + H.number_cell("A2", 45000) + H.text_cell("B2", "safe_metric")
        + H.number_cell("C2", 1) + "</row>")}))
    file_name = "x'; drop table kpis; --.csv"
    with open_store(seeded) as store:
        counts = {t: store.connection.execute(f"select count(*) from {t}").fetchall()[0][0]
                  for t in VERSIONED_TABLES}
        results = import_files(store, [(history, file_name), (book, "book.xlsx")])
        stored = store.connection.execute("select metric, dimension from observations where batch_id = ? "
                             "order by value", [results[0].batch]).fetchall()
        departments = {m.name: m.department for m in store.definitions.metrics().values()}
        batches = store.connection.execute("select file, sheet from batches where id in (?, ?) order by id",
                              [results[0].batch, results[1].batch]).fetchall()
        after = {t: store.connection.execute(f"select count(*) from {t}").fetchall()[0][0]
                 for t in VERSIONED_TABLES}
        with pytest.raises(InputError, match="'1; drop table kpis' is not a number"):
            import_files(store, [(b"date,metric,value\n2025-03-01,visitors,1; drop table kpis\n",
                                "value.csv")])
        assert store.connection.execute("select count(*) from kpis").fetchall()[0][0] == after["kpis"]
    assert stored == [(metric_name(metric), channel) for metric, _, channel in written]
    assert [departments[metric_name(metric)] for metric, _, _ in written] == \
        [department for _, department, _ in written]
    assert batches == [(file_name, None), ("book.xlsx", sheet_name)]
    assert after == {**counts, "observations": counts["observations"] + 6,
                     "metrics": counts["metrics"] + 6}
