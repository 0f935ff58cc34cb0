"""Many dashboard sessions at once, timed through Streamlit's own protocol.

A session here is what a browser tab is to the server: a websocket on
/_stcore/stream. It asks for a page with a rerun BackMsg (ClientState.page_name
is the page's url_path, "" for the default page, the overview) and the page's
time is from sending that message to receiving the ForwardMsg script_finished:
the server's whole script run, with the page's deltas read off the socket, and
no browser drawing. Every session first runs the overview once untimed (its
setup), then all sessions start together and each asks for the overview and
the scorecard `rounds` times in turn.

Sessions are spread over the replicas round robin, straight to each
replica's port: the proxy of `make team` would only choose the replica (it
adds one hop on 127.0.0.1), and a measurement must know which replica a
session is on.

The client is one asyncio process on the same machine as the servers; it
spends a small share of a core reading the servers' messages.

Before the sessions, page_figures() times every page's warm rerun (one
session in open mode, so the editor's 'Import and define' page is there too:
each page drawn once, then its median over `rounds` reruns, with the server
process's CPU time per rerun, which a busy shared machine inflates less than
the wall clock), the overview's first paint in Chromium against a
hello-world page (first_paint.py), and each server's peak memory (VmHWM).

    python bench/sessions.py [--sessions 20] [--rounds 3]     # DuckDB only
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

if __name__ == "__main__":      # run as a script: the repository's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# first_paint is next to this file (bench/ is sys.path[0], as for bench.py).
from first_paint import first_paints, start_server
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from deploy.team import free_port

# Every page's url_path ("" is the default page, the overview); define is an editor's.
EVERY_PAGE = {"overview": "", "scorecard": "scorecard", "okrs": "okrs", "metrics": "metrics",
              "explorer": "explorer", "launch": "launch", "define": "define"}
# The pages the concurrent sessions ask for in turn.
PAGES = {"overview": "", "scorecard": "scorecard"}
# A page that has not finished in this time is a failure, not a slow figure.
PAGE_TIMEOUT_SECONDS = 300.0


class PageFailed(RuntimeError):
    """A page did not run to its end, or showed an error."""


async def run_page(ws, page: str) -> int:
    """Asks for `page` and waits for its script run to end; returns how many
    elements it drew. A page that shows an exception or Lodestar's error
    message, or is not found, raises PageFailed."""
    ask = BackMsg()
    ask.rerun_script.page_name = EVERY_PAGE[page]
    ask.rerun_script.query_string = ""
    await ws.send(ask.SerializeToString())
    elements = 0
    while True:
        message = ForwardMsg()
        message.ParseFromString(await ws.recv())
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            elements += 1
            element = message.delta.new_element
            if element.WhichOneof("type") == "exception" or (
                    element.WhichOneof("type") == "alert" and "reference" in element.alert.body):
                raise PageFailed(f"{page} showed an error: {element}")
        elif kind == "page_not_found":
            raise PageFailed(f"page {page!r} not found")
        elif kind == "script_finished":
            if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                return elements
            if message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                raise PageFailed(f"{page} ended with status {message.script_finished}")


async def one_session(port: int, rounds: int, ready: asyncio.Barrier) -> dict:
    """The timed pages of one session: {page: [seconds, ...], "elements": {page: n}}."""
    times: dict = {page: [] for page in PAGES}
    drawn: dict[str, int] = {}
    async with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                       max_size=None, open_timeout=60, ping_timeout=None) as ws:
        await asyncio.wait_for(run_page(ws, "overview"), PAGE_TIMEOUT_SECONDS)
        await ready.wait()
        for _ in range(rounds):
            for page in PAGES:
                started = time.perf_counter()
                drawn[page] = await asyncio.wait_for(run_page(ws, page), PAGE_TIMEOUT_SECONDS)
                times[page].append(time.perf_counter() - started)
    return {**times, "elements": drawn}


async def _all_sessions(ports: list[int], sessions: int, rounds: int) -> list[dict]:
    ready = asyncio.Barrier(sessions)
    return await asyncio.gather(*(one_session(ports[n % len(ports)], rounds, ready)
                                  for n in range(sessions)))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.9: p90) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed_sessions(ports: list[int], sessions: int, rounds: int) -> dict:
    """Median and p90 seconds per page over every session and round, and the
    elements each page drew (the same in every setup, or a page went wrong)."""
    runs = asyncio.run(_all_sessions(ports, sessions, rounds))
    result: dict = {"sessions": sessions, "replicas": len(ports)}
    for page in PAGES:
        values = [t for run in runs for t in run[page]]
        result[page] = {"median": statistics.median(values), "p90": percentile(values, 0.9),
                        "n": len(values)}
        result[f"{page}_elements"] = sorted({run["elements"][page] for run in runs})
    return result


def dashboard_environment(base: dict[str, str], location: str) -> dict[str, str]:
    """A replica's environment: `location` (a DuckDB file or a postgresql:// URL) and
    an editor password, so every session is a viewer, as a team's readers are."""
    env = {k: v for k, v in base.items()
           if k not in ("LODESTAR_DB", "LODESTAR_DATABASE_URL", "LODESTAR_VIEWER_DATABASE_URL")}
    env["LODESTAR_DATABASE_URL" if "://" in location else "LODESTAR_DB"] = str(location)
    env["LODESTAR_EDITOR_PASSWORD"] = secrets.token_urlsafe(16)
    return env


def measure_setup(location: str, replicas: int, sessions: int, rounds: int, logs: Path,
                  env: dict[str, str]) -> dict:
    """Starts `replicas` dashboards on `location`, warms each (one session draws
    every page, so the engine's results are cached as in a running team), times
    `sessions` sessions at once, and stops the dashboards, also on an error."""
    ports = [free_port() for _ in range(replicas)]
    with ExitStack() as running:
        processes = [start_server("app.py", port, logs / f"replica{n}-{port}.log",
                                  dashboard_environment(env, location), running)
                     for n, port in enumerate(ports, start=1)]
        for port in ports:
            timed_sessions([port], 1, 1)
        result = timed_sessions(ports, sessions, rounds)
        return {**result, "peak_mb": max(peak_memory_mb(p.pid) for p in processes)}


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM of /proc/PID/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def warm_reruns(port: int, pid: int, rounds: int) -> dict:
    """{page: {"median": s, "cpu": s}}: each page drawn once, then rerun `rounds`
    times in one session; the median wall time, and the server's CPU time per rerun."""
    result = {}
    async with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                       max_size=None, open_timeout=60, ping_timeout=None) as ws:
        for page in EVERY_PAGE:
            await asyncio.wait_for(run_page(ws, page), PAGE_TIMEOUT_SECONDS)
            times, cpu = [], cpu_seconds(pid)
            for _ in range(rounds):
                started = time.perf_counter()
                await asyncio.wait_for(run_page(ws, page), PAGE_TIMEOUT_SECONDS)
                times.append(time.perf_counter() - started)
            result[page] = {"median": statistics.median(times),
                            "cpu": (cpu_seconds(pid) - cpu) / rounds}
    return result


def page_figures(duck: Path, folder: Path, rounds: int) -> dict:
    """Warm reruns of every page and the server's peak memory after them (one
    dashboard in open mode on the demo file `duck`), then first paints."""
    env = {**dashboard_environment(dict(os.environ), str(duck))}
    env.pop("LODESTAR_EDITOR_PASSWORD")     # open mode: the define page is there too
    port = free_port()
    with ExitStack() as running:
        process = start_server("app.py", port, folder / "dashboard-logs" / f"pages-{port}.log",
                               env, running)
        reruns = asyncio.run(warm_reruns(port, process.pid, rounds))
        peak = peak_memory_mb(process.pid)
    return {"reruns": reruns, "peak_mb": peak, "paint": first_paints(env, folder)}


def demo_database(location: str | Path) -> None:
    """Loads the demo company into the empty database at `location`."""
    from kpi_logic import store
    from kpi_logic.demo import company
    with store.open_store(location) as opened:
        company.load_demo(opened)


def measure_setups(folder: Path, server_url: str | None, count: int, rounds: int) -> list[dict]:
    """One session alone and `count` at once on one DuckDB process (today's setup),
    then, with a PostgreSQL database `server_url` (empty), `count` at once on one
    process and on two replicas there; each result names its setup."""
    duck = folder / "demo.duckdb"
    duck.unlink(missing_ok=True)
    demo_database(duck)
    setups = [("1 process, DuckDB, 1 session alone", str(duck), 1, 1),
              ("1 process, DuckDB (today)", str(duck), 1, count)]
    if server_url:
        demo_database(server_url)
        setups += [("1 process, PostgreSQL", server_url, 1, count),
                   ("2 replicas, PostgreSQL", server_url, 2, count)]
    logs = folder / "dashboard-logs"
    results = []
    for name, location, replicas, sessions in setups:
        result = measure_setup(location, replicas, sessions, rounds, logs, dict(os.environ))
        print(f"{name}: {result}", file=sys.stderr)
        results.append({"setup": name, **result})
    return results


def pages_table(figures: dict) -> str:
    """Warm reruns per page, first paints against hello world, peak memory."""
    reruns = figures["reruns"]
    lines = ["| page | warm rerun median ms | server CPU per rerun ms |", "|---|---:|---:|"]
    lines += [f"| {page} | {r['median'] * 1000:.0f} | {r['cpu'] * 1000:.0f} |"
              for page, r in reruns.items()]
    hello, overview = figures["paint"]["hello"], figures["paint"]["overview"]
    lines += ["", "| first paint in Chromium | hello world s | overview s | ratio |",
              "|---|---:|---:|---:|"]
    for visit, label in (("median", "a later visit (median)"), ("first", "first visit after start")):
        lines.append(f"| {label} | {hello[visit]:.2f} | {overview[visit]:.2f} | "
                     f"{overview[visit] / hello[visit]:.2f} |")
    lines += ["", f"Peak memory of the dashboard (VmHWM) after every page: "
                  f"{figures['peak_mb']:.0f} MB."]
    return "\n".join(lines)


def report(folder: Path, server_url: str | None, count: int, rounds: int) -> str:
    """Every figure of the pages (page_figures, then measure_setups) as tables."""
    setups = measure_setups(folder, server_url, count, rounds)
    figures = page_figures(folder / "demo.duckdb", folder, max(rounds, 5))
    print(f"pages: {figures}", file=sys.stderr)
    return pages_table(figures) + "\n\n" + table(setups)


def table(results: list[dict]) -> str:
    """Median and p90 seconds per page, and each median against today's setup's."""
    today = next((r for r in results if r["sessions"] > 1 and "DuckDB" in r["setup"]), results[0])
    lines = ["| setup | sessions at once | overview median s | overview p90 s | "
             "scorecard median s | scorecard p90 s | medians vs 1 process on DuckDB | "
             "peak memory MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = " / ".join(f"{r[p]['median'] / today[p]['median']:.2f}" for p in PAGES)
        lines.append(f"| {r['setup']} | {r['sessions']} | {r['overview']['median']:.2f} | "
                     f"{r['overview']['p90']:.2f} | {r['scorecard']['median']:.2f} | "
                     f"{r['scorecard']['p90']:.2f} | {ratio} | {r['peak_mb']:.0f} |")
    drawn = {p: sorted({n for r in results for n in r[f"{p}_elements"]}) for p in PAGES}
    lines += ["", "Elements drawn per page (the same in every setup when all went well): "
              + ", ".join(f"{p} {n}" for p, n in drawn.items()) + "."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The dashboard's pages on the demo (DuckDB)")
    parser.add_argument("--sessions", type=int, default=20, help="sessions at once (default 20)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="reruns per session and page (default 3; warm reruns at least 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lodestar_sessions_") as temp:
        print(report(Path(temp), None, args.sessions, args.rounds))
    print(f"\nLoad average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")


if __name__ == "__main__":
    main()
