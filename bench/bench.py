"""Import and scorecard speed against DuckDB's own anchors.

    python bench/bench.py [--rows 1000000 10000000] [--repeat 3]

For each size it writes a long-format history CSV (date, metric, value,
department, region), then times:
- ours: `import_files` of that CSV into a fresh DuckDB file (parse, validate,
  version, store), against DuckDB's own `read_csv` of the same file into a table;
- many metrics: the same against `read_csv` for a CSV of MANY_METRICS metrics
  nobody defined (date, metric, value, department; rows / MANY_METRICS days:
  1,000 days at 1M rows, 10,000 at 10M), so the import also infers every
  metric's unit and aggregation and defines it;
- scorecard and okrs: `kpis.scorecard` for one department and `okrs.okr_report`,
  against one `GROUP BY (metric, month)` over the stored observations.
On PostgreSQL (a throwaway cluster the bench starts and stops itself, see
postgres_cluster.py; skipped with the reason printed when it cannot), the
same import, scorecard and okrs into a fresh database, against those on
DuckDB in the same run. Then --sessions dashboard sessions at once
(sessions.py): one Streamlit process on DuckDB, one on PostgreSQL, and
two replicas on PostgreSQL, against one session alone.
Each measurement runs --repeat times (fresh database files each time) and
the fastest run of each side counts, so a busy moment on the machine does not
decide a ratio. The peak memory of each import is the peak resident set
(resource.getrusage ru_maxrss) of a child process that does that one import
and nothing else. It prints tables of seconds and ratios; nothing here is a
pass/fail test.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# bench_excel, bench_outputs, postgres_cluster and sessions are next to this file
# (bench/ is sys.path[0]).
import bench_excel
import bench_outputs
import postgres_cluster
import sessions

from kpi_logic import store
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics import kpis, okrs

DEPARTMENTS = ("Sales", "Marketing", "Finance", "Product")
METRICS_PER_DEPARTMENT = 10
DAYS = 1000
END = date(2026, 10, 31)
BUDGET = {"import": 1.5, "scorecard": 3.0, "okrs": 3.0}
MANY_METRICS = 1000
MANY_DEPARTMENTS = 10
# PostgreSQL against DuckDB, the same work on the same data.
SERVER_BUDGET = {"import": 3.0, "scorecard": 3.0}
TIMINGS = ("read_csv", "import", "group_by", "scorecard", "okrs", "scorecard_analyzed")


def metric_names() -> list[tuple[str, str]]:
    return [(f"{d.lower()}_m{i:02d}", d) for d in DEPARTMENTS for i in range(METRICS_PER_DEPARTMENT)]


def write_history(path: Path, rows: int) -> None:
    """A long CSV of `rows` rows: every metric, every day, `regions` regions."""
    names = metric_names()
    regions = max(1, rows // (len(names) * DAYS))
    start = END - timedelta(days=DAYS - 1)
    con = duckdb.connect()
    con.execute("create table m as select * from (values " +
                ", ".join("(?, ?, ?)" for _ in names) + ") t(idx, metric, department)",
                [v for i, (n, d) in enumerate(names) for v in (i, n, d)])
    con.execute(f"""
        copy (
            select cast(? as date) + cast(day as integer) as date, m.metric,
                   round(100 + 50 * sin(day / 30.0 + m.idx) + (hash(day, m.idx, region) % 1000) / 100.0, 2) as value,
                   m.department, 'region_' || lpad(cast(region as varchar), 3, '0') as region
            from range({DAYS}) d(day), m, range({regions}) r(region)
            order by day, m.idx, region
        ) to '{path}' (header, delimiter ',')""", [start])
    con.close()


def write_many_metrics(path: Path, rows: int) -> None:
    """A long CSV of `rows` rows: MANY_METRICS metrics, each every day of
    rows / MANY_METRICS days, each in one of MANY_DEPARTMENTS departments."""
    days = max(1, rows // MANY_METRICS)
    start = END - timedelta(days=days - 1)
    con = duckdb.connect()
    con.execute(f"""
        copy (
            select cast(? as date) + cast(day as integer) as date,
                   'metric_' || lpad(cast(m as varchar), 4, '0') as metric,
                   round(100 + 50 * sin(day / 30.0 + m) + (hash(day, m) % 1000) / 100.0, 2)
                       as value,
                   'Department ' || cast(m % {MANY_DEPARTMENTS} as varchar) as department
            from range({days}) d(day), range({MANY_METRICS}) t(m)
            order by day, m
        ) to '{path}' (header, delimiter ',')""", [start])
    con.close()


def write_definitions(folder: Path) -> list[Path]:
    metrics = folder / "metrics.csv"
    lines = ["metric,department,unit,direction,aggregation,formula"]
    lines += [f"{n},{d},number,up,sum," for n, d in metric_names()]
    lines.append("sales_ratio,Sales,percent,up,sum,sales_m01 / sales_m00")
    metrics.write_text("\n".join(lines) + "\n")
    kpi_file = folder / "kpis.csv"
    rows = ["title,metric,target,target_kind,period"]
    rows += [f"KPI {n},{n},3000,min,month" for n, d in metric_names() if d == "Sales"][:6]
    rows.append("Sales ratio,sales_ratio,90%,min,month")
    kpi_file.write_text("\n".join(rows) + "\n")
    krs = folder / "key_results.csv"
    krs.write_text("objective,metric,start,target,start_date,deadline\n"
                   "Grow,sales_m00,0,400000,2026-07-01,2026-09-30\n"
                   "Grow,sales_m01,0,400000,2026-07-01,2026-09-30\n")
    return [metrics, kpi_file, krs]


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def measure(rows: int, folder: Path, repeat: int = 1, server: str | None = None) -> dict:
    """The fastest of `repeat` runs of every timing (counts from the last run);
    with `server` (a PostgreSQL superuser's URL) the pg_* timings too."""
    csv = folder / f"history_{rows}.csv"
    if not csv.exists():
        write_history(csv, rows)
    runs = [_measured(rows, folder, csv, server, n) for n in range(max(1, repeat))]
    timings = [key for key in runs[-1] if key.removeprefix("pg_") in TIMINGS]
    return {**runs[0], **runs[-1], **{key: min(run[key] for run in runs) for key in timings}}


def measure_many(rows: int, folder: Path, repeat: int = 1) -> dict:
    """The many-metrics CSV of `rows` rows imported into a fresh DuckDB file with
    no definitions, against read_csv of it: the fastest of `repeat` runs of
    each, and the import's peak memory in a process of its own."""
    csv = folder / f"many_{rows}.csv"
    if not csv.exists():
        write_many_metrics(csv, rows)
    reads, imports = [], []
    for _ in range(max(1, repeat)):
        reads.append(_read_csv_seconds(csv, folder / f"anchor_many_{rows}.duckdb"))
        ours_db = folder / f"ours_many_{rows}.duckdb"
        ours_db.unlink(missing_ok=True)
        with store.open_store(ours_db) as opened:
            seconds, results = timed(lambda: import_files(opened, [(csv, csv.name)]))
            defined = len(opened.definitions.metrics())
        imports.append(seconds)
    return {"rows": rows, "read_csv": min(reads), "import": min(imports),
            "metrics": defined, "inserted": sum(r.inserted for r in results),
            "peak_mb": peak_import_mb(csv, folder / f"peak_many_{rows}.duckdb")}


def peak_import_mb(csv: Path, database: Path) -> float:
    """Peak resident memory (MB) of a new process that imports `csv` into a fresh
    DuckDB file `database` and does nothing else (this file run with --peak-of)."""
    database.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, __file__, "--peak-of", str(csv), str(database)],
                          capture_output=True, text=True, check=True)
    database.unlink(missing_ok=True)
    return float(done.stdout.split()[-1])


def _peak_of(csv: Path, database: Path) -> None:
    with store.open_store(database) as opened:
        import_files(opened, [(csv, csv.name)])
    # ru_maxrss is in kilobytes on Linux.
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _read_csv_seconds(csv: Path, database: Path) -> float:
    """DuckDB's own read of `csv` into a table of a fresh file: the anchor."""
    database.unlink(missing_ok=True)
    anchor = duckdb.connect(str(database))
    seconds, _ = timed(lambda: anchor.execute(
        f"create table t as select * from read_csv('{csv}')"))
    anchor.close()
    return seconds


def _measured(rows: int, folder: Path, csv: Path, server: str | None = None, run: int = 0) -> dict:
    t_read = _read_csv_seconds(csv, folder / f"anchor_{rows}.duckdb")

    ours_db = folder / f"ours_{rows}.duckdb"
    ours_db.unlink(missing_ok=True)
    with store.open_store(ours_db) as opened:
        timings = _timed_engine(opened, csv, folder)
        # The same group-by in plain DuckDB, on the store's connection, as a yardstick.
        timings["group_by"], _ = timed(lambda: opened.connection.execute(
            "select metric, cast(date_trunc('month', obs_date) as date), sum(value) "
            "from observations where superseded_by is null group by 1, 2").fetchall())
    result = {"rows": rows, "read_csv": t_read, **timings}
    if run == 0:
        result["peak_mb"] = peak_import_mb(csv, folder / f"peak_{rows}.duckdb")
    if server:
        url = postgres_cluster.new_database(server, f"bench_{rows}_{run}")
        with store.open_store(url) as opened:
            result.update({f"pg_{key}": value
                           for key, value in _timed_engine(opened, csv, folder).items()})
            # Right after an import the server has no statistics on the new rows
            # (autovacuum analyzes them within about a minute); the scorecard
            # once they are there tells a plan's cost from the scan's.
            opened.connection.execute("vacuum analyze observations")
            result["pg_scorecard_analyzed"], _ = timed(lambda: kpis.scorecard(
                opened, "Sales", as_of=END + timedelta(days=1)))
        postgres_cluster.drop_database(server, url)
    return result


def _timed_engine(opened, csv: Path, folder: Path) -> dict:
    """Import of `csv` into the empty store `opened` (after the definitions), then
    the Sales scorecard and the OKR report, each timed."""
    import_files(opened, [(p, p.name) for p in write_definitions(folder)])
    t_import, results = timed(lambda: import_files(opened, [(csv, csv.name)]))
    as_of = END + timedelta(days=1)
    t_card, card = timed(lambda: kpis.scorecard(opened, "Sales", as_of=as_of))
    t_okrs, _ = timed(lambda: okrs.okr_report(opened, as_of=as_of))
    return {"inserted": sum(r.inserted for r in results), "import": t_import,
            "scorecard": t_card, "okrs": t_okrs, "kpis": len(card["kpis"])}


def table(results: list[dict]) -> str:
    lines = [f"| rows | DuckDB read_csv s | our import s | ratio (budget {BUDGET['import']:g}x) | "
             "import peak MB | GROUP BY s | scorecard s | ratio (budget 3x) | okrs s | "
             "ratio (budget 3x) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['read_csv']:.2f} | {r['import']:.2f} | "
            f"{r['import'] / r['read_csv']:.2f} | {r['peak_mb']:,.0f} | {r['group_by']:.2f} | "
            f"{r['scorecard']:.2f} | {r['scorecard'] / r['group_by']:.2f} | {r['okrs']:.2f} | "
            f"{r['okrs'] / r['group_by']:.2f} |")
    if len(results) >= 2:
        small, big = results[0], results[-1]
        growth = big["rows"] / small["rows"]
        lines.append("")
        lines.append(f"Growth from {small['rows']:,} to {big['rows']:,} rows ({growth:.0f}x): "
                     f"import {big['import'] / small['import']:.1f}x, "
                     f"scorecard {big['scorecard'] / small['scorecard']:.1f}x, "
                     f"okrs {big['okrs'] / small['okrs']:.1f}x (linear would be {growth:.0f}x).")
    return "\n".join(lines)


def many_table(results: list[dict]) -> str:
    """The many-metrics import against read_csv of the same file."""
    lines = [f"| rows | metrics x days | metrics defined | DuckDB read_csv s | our import s | "
             f"ratio (budget {BUDGET['import']:g}x) | import peak MB |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {MANY_METRICS:,} x {r['rows'] // MANY_METRICS:,} | "
            f"{r['metrics']:,} | {r['read_csv']:.2f} | {r['import']:.2f} | "
            f"{r['import'] / r['read_csv']:.2f} | {r['peak_mb']:,.0f} |")
    return "\n".join(lines)


def server_table(results: list[dict]) -> str:
    """PostgreSQL's import, scorecard and okrs against DuckDB's, same data, same run."""
    lines = ["| rows | DuckDB import s | PostgreSQL import s | ratio (budget 3x) | "
             "DuckDB scorecard s | PostgreSQL scorecard s | ratio (budget 3x) | "
             "after VACUUM ANALYZE s | ratio | DuckDB okrs s | PostgreSQL okrs s | ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        cells = [f"{r['rows']:,}"]
        for key in ("import", "scorecard", "okrs"):
            cells += [f"{r[key]:.2f}", f"{r['pg_' + key]:.2f}", f"{r['pg_' + key] / r[key]:.2f}"]
        analyzed = r["pg_scorecard_analyzed"]
        cells[7:7] = [f"{analyzed:.2f}", f"{analyzed / r['scorecard']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    if (argv or sys.argv[1:])[:1] == ["--peak-of"]:     # the child of peak_import_mb
        _peak_of(*(Path(a) for a in (argv or sys.argv[1:])[1:3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per size; the fastest of each timing counts (default 3)")
    parser.add_argument("--folder", type=Path, default=None,
                        help="where to keep the generated files (default: a temp folder)")
    parser.add_argument("--sessions", type=int, default=20,
                        help="dashboard sessions at once (default 20; 0 skips the dashboards)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each session asks for the overview and the scorecard (default 3)")
    parser.add_argument("--no-postgres", action="store_true", help="DuckDB only")
    parser.add_argument("--only-imports", action="store_true",
                        help="the two import tables only (no PostgreSQL, no dashboards)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lodestar_bench_") as temp, ExitStack() as stack:
        folder = args.folder or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.only_imports:
            args.no_postgres, args.sessions = True, 0
        absent = "--no-postgres" if args.no_postgres else postgres_cluster.missing()
        # Stopped when the block ends, also on an error or Ctrl-C.
        server = None if absent else stack.enter_context(postgres_cluster.cluster())
        results = []
        for rows in args.rows:
            result = measure(rows, folder, args.repeat, server)
            print(f"{rows:,} rows: {result}", file=sys.stderr)
            results.append(result)
        many = []
        for rows in args.rows:
            result = measure_many(rows, folder, args.repeat)
            print(f"{rows:,} rows of {MANY_METRICS} metrics: {result}", file=sys.stderr)
            many.append(result)
        print(table(results))
        print()
        print(many_table(many))
        print()
        print(bench_excel.report(folder, args.repeat))
        print()
        print(server_table(results) if server else f"PostgreSQL rows skipped: {absent}.")
        if args.sessions > 0:
            demo = server and postgres_cluster.new_database(server, "bench_demo")
            print()
            print(sessions.report(folder, demo, args.sessions, args.rounds))
            if not server:
                print(f"PostgreSQL setups skipped: {absent}.")
        print("\n" + bench_outputs.outputs_report(args.repeat))
    # Others' work on a shared machine shows in the load; read the ratios with it.
    print(f"\nThe whole run took {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores "
          f"(load average at the end {os.getloadavg()[0]:.1f}).")


if __name__ == "__main__":
    main()
