"""The command line's start, the PNG reports and the board pack against their anchors.

    python bench/bench_outputs.py [--repeat 5] [--pack-repeat 2]

On the demo company (loaded into a fresh DuckDB file, history through END), it
times:
- the command line: `python -m kpi_logic --help` in a new process, against
  `python -c "import duckdb"` (the least a command that reads data costs);
- each PNG report (overview, the scorecard of the department with the most
  KPIs, OKRs, the launch, the metrics catalogue) drawn from the engine's data
  (read once beforehand, not timed), against vl-convert's own
  `vegalite_to_png` of the exact spec that report renders, in the same run;
- the board pack (board_pack_pdf of the data read once): the whole, and the
  part spent building its pages' Vega-Lite specs.
Each is run --repeat times and the fastest counts. It prints tables of seconds
and ratios; nothing here is a pass/fail test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

END = date(2026, 12, 6)             # the demo's last day of history
AS_OF = date(2026, 12, 7)
MADE = datetime(2026, 12, 7, 9, 0)
BUDGET = {"cli": 0.25, "png": 1.3}  # seconds for --help; times vl-convert of the spec


def fastest(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs of fn(), in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _process(*args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def cli_times(repeat: int) -> dict:
    """Wall time of `--help` and of `import duckdb`, each in a new interpreter."""
    return {"help": fastest(lambda: _process("-m", "kpi_logic", "--help"), repeat),
            "duckdb": fastest(lambda: _process("-c", "import duckdb"), repeat)}


def demo_database(folder: Path) -> Path:
    from kpi_logic.demo.company import load_demo
    from kpi_logic.store import open_store
    path = folder / "demo.duckdb"
    with open_store(path) as store:
        load_demo(store, end=END)
    return path


def report_cases(path: Path) -> list[tuple[str, Callable[[], bytes], Callable[[], dict]]]:
    """(name, draw the PNG, its spec) of each report, from the data read once."""
    from kpi_logic.launch.analysis import launch_analysis
    from kpi_logic.metrics.catalogue import metric_catalogue
    from kpi_logic.metrics.kpis import scorecard
    from kpi_logic.metrics.okrs import okr_report
    from kpi_logic.metrics.overview import every_scorecard, overview
    from kpi_logic.output import catalogue_report, launch_report, report
    from kpi_logic.store import open_store
    with open_store(path, read_only=True) as store:
        company = overview(store, as_of=AS_OF)
        largest = max(every_scorecard(store, as_of=AS_OF), key=lambda c: len(c["kpis"]))
        card = scorecard(store, largest["department"], as_of=AS_OF)
        okrs = okr_report(store, as_of=AS_OF)
        found = launch_analysis(store, None)
        rows = metric_catalogue(store, None, as_of=AS_OF).to_dict("records")
    cases = [(f"scorecard ({card['department']}, {len(card['kpis'])} KPIs)", "scorecard", card),
             ("overview", "overview", company), ("okrs", "okrs", okrs)]
    out = [(name, lambda k=kind, d=data: report.render_report(k, d),
            lambda k=kind, d=data: report.report_spec(k, d)) for name, kind, data in cases]
    out.append(("launch", lambda: launch_report.render_launch_report(found),
                lambda: launch_report.launch_report_spec(found)))
    out.append(("catalogue", lambda: catalogue_report.render_catalogue(rows, as_of=AS_OF),
                lambda: catalogue_report.catalogue_spec(rows, as_of=AS_OF)))
    return out


def report_times(path: Path, repeat: int) -> list[dict]:
    import vl_convert
    results = []
    for name, draw, spec_of in report_cases(path):
        draw()                      # the first drawing starts vl-convert's engine
        spec = spec_of()
        png = fastest(draw, repeat)
        anchor = fastest(lambda s=spec: vl_convert.vegalite_to_png(s, scale=2.0), repeat)
        spec_s = fastest(spec_of, repeat)
        results.append({"report": name, "png": png, "vl_convert": anchor, "spec": spec_s})
    return results


def board_pack_times(path: Path, repeat: int) -> dict:
    from kpi_logic.output.board_pack import board_pack_data, board_pack_pdf, cover_spec, pages
    from kpi_logic.store import open_store
    with open_store(path, read_only=True) as store:
        data = board_pack_data(store, AS_OF)

    def specs() -> None:
        drawn = pages(data)
        cover_spec(data, [title for title, _ in drawn], MADE)
    return {"pages": data.page_count, "pack": fastest(lambda: board_pack_pdf(data, MADE), repeat),
            "specs": fastest(specs, repeat)}


def tables(cli: dict, reports: list[dict], pack: dict) -> str:
    lines = ["| command line | s |", "|---|---:|",
             f"| `python -m kpi_logic --help` | {cli['help']:.2f} |",
             f"| `python -c \"import duckdb\"` | {cli['duckdb']:.2f} |",
             f"| ratio (budget --help <= {BUDGET['cli']} s) | {cli['help'] / cli['duckdb']:.2f} |",
             "", f"| report PNG | PNG s | vl-convert of its spec s | ratio (budget "
             f"{BUDGET['png']}x) | building the spec s |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['report']} | {r['png']:.2f} | {r['vl_convert']:.2f} | "
              f"{r['png'] / r['vl_convert']:.2f} | {r['spec']:.2f} |" for r in reports]
    lines += ["", "| board pack | pages | whole s | building the specs s |", "|---|---:|---:|---:|",
              f"| demo, as of {AS_OF.isoformat()} | {pack['pages']} | {pack['pack']:.1f} | "
              f"{pack['specs']:.1f} |"]
    return "\n".join(lines)


def outputs_report(repeat: int = 5, pack_repeat: int = 2) -> str:
    """The section's tables (the demo loaded into a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="lodestar_outputs_") as folder:
        cli = cli_times(repeat)
        path = demo_database(Path(folder))
        reports = report_times(path, repeat)
        pack = board_pack_times(path, pack_repeat)
    return tables(cli, reports, pack)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each timing; the fastest counts (default 5)")
    parser.add_argument("--pack-repeat", type=int, default=2,
                        help="runs of the board pack (default 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(outputs_report(args.repeat, args.pack_repeat))
    print(f"\nThe run took {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores "
          f"(load average at the end {os.getloadavg()[0]:.1f}).")


if __name__ == "__main__":
    main()
