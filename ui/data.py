"""The dashboard's only door to the engine: one database handle, cached results.

The handle (st.cache_resource) holds the file path and a lock, not an open
connection: DuckDB lets one process write a file at a time and the CLI must
be able to import while the dashboard is open, so each unit of work opens the
file, does its work and closes it. Results are cached with st.cache_data keyed
on the data version, which every import, edit or undo changes.

The data version is read once per script run and kept in session state for
the rest of that run (opening the file takes its lock, which a CLI import may
be waiting for). Work done through this module leaves the version it ended
with, so a page that writes reads its own write; the next run reads afresh,
so a CLI import between runs is seen.
"""
from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from kpi_logic import store
from kpi_logic.store.definitions import data_version
from ui import state


@dataclass
class Database:
    path: Path
    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def session(self) -> Iterator:
        """An open connection for one unit of work; app threads take turns."""
        with self.lock, store.connect(self.path) as con:
            yield con


@st.cache_resource
def database() -> Database:
    return Database(store.database_path())


# Session-state key of this run's data version: (weak ref to the run token,
# database path, version).
VERSION_THIS_RUN = "_data_version_this_run"


def _run_token() -> object | None:
    """An object that is the same for the whole current script run and new on
    the next one; None outside a Streamlit run (then nothing is remembered).

    Streamlit has no public run id. ScriptRunContext.reset(), called at the start
    of every run (and fragment rerun), builds a new parallel_coordinator and
    assigns it nowhere else. The memo holds it by weak reference: it owns a
    thread pool that should not outlive its run, and a dead reference never
    matches, so a later object at the same address cannot be mistaken for it.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else getattr(ctx, "parallel_coordinator", None)


def _remember(value: str) -> None:
    token = _run_token()
    try:
        reference = weakref.ref(token) if token is not None else None
    except TypeError:       # a run token that cannot be weakly referenced: no memo
        reference = None
    if reference is not None:
        st.session_state[VERSION_THIS_RUN] = (reference, str(database().path), value)


def forget_version() -> None:
    """Make the next read in this run open the file for the data version."""
    if _run_token() is not None:
        st.session_state.pop(VERSION_THIS_RUN, None)


def version() -> str:
    """The data version for this script run: read from the file on the run's
    first call, and again after work through this module that failed."""
    token = _run_token()
    if token is not None:
        memo = st.session_state.get(VERSION_THIS_RUN)
        if memo and memo[0]() is token and memo[1] == str(database().path):
            return memo[2]
    with _work() as con:
        return data_version(con)


@contextmanager
def _work() -> Iterator:
    """A session whose closing data version becomes this run's (writes included)."""
    try:
        with database().session() as con:
            yield con
            _remember(data_version(con))
    except BaseException:
        # A failed write may have changed something before it failed.
        forget_version()
        raise


def run(fn, *args, **kwargs):
    """Call an engine function with a fresh connection (writes and uncached reads)."""
    with _work() as con:
        return fn(con, *args, **kwargs)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(fn_name: str, db: str, data_version_key: str, args: tuple, kwargs: tuple):
    # db and data_version_key are part of the cache key: a new import or
    # another database file gives new results; the same view is reused.
    # A miss opens the file a second time in the run's first call: reading the
    # version in this same session would mean calling st.cache_data while
    # holding Database.lock, and a session computing the same key (holding
    # Streamlit's per-key compute lock) would then wait for us forever.
    fn = _ENGINE[fn_name]
    with database().session() as con:
        return fn(con, *args, **dict(kwargs))


def cached(fn_name: str, *args, **kwargs):
    """An engine result, cached per database file and data version.

    Returns a shared object: callers must not mutate it.
    """
    return _cached(fn_name, str(database().path), version(), args,
                   tuple(sorted(kwargs.items())))


def _engine_functions() -> dict:
    from kpi_logic import catalogue, kpis, launch, okrs, overview, rollups
    from kpi_logic.store import definitions
    return {
        "scorecard": kpis.scorecard,
        "okr_report": okrs.okr_report,
        "launch_analysis": launch.launch_analysis,
        "kr_history": okrs.kr_history,
        "overview": overview.overview,
        "metric_catalogue": catalogue.metric_catalogue,
        "rolled_up": rollups.rolled_up,
        "departments": overview.departments,
        "load_metrics": definitions.load_metrics,
        "load_kpis": definitions.load_kpis,
        "load_key_results": definitions.load_key_results,
        "load_targets": definitions.load_targets,
        "load_launches": definitions.load_launches,
    }


class _LazyEngine(dict):
    def __missing__(self, key):
        self.update(_engine_functions())
        return dict.__getitem__(self, key)


_ENGINE = _LazyEngine()


def today() -> date:
    return date.today()


DEMO_NOTICE = ("You are looking at the demo company (made-up data). Import your own files on "
               "'Import and define', or start from an empty database there.")


def ensure_demo_on_first_start() -> None:
    """Load the demo company into an empty database, once, unless its owner chose empty."""
    if st.session_state.get("app_demo_checked"):
        return
    from kpi_logic import demo
    with _work() as con:
        if not store.has_history(con) and store.setting(con, "start_empty") is None:
            with st.spinner("First start: loading the demo company..."):
                demo.load_demo(con)
            st.session_state[state.NOTICE] = DEMO_NOTICE
        elif store.setting(con, "demo_loaded") and not store.setting(con, "start_empty"):
            st.session_state[state.NOTICE] = DEMO_NOTICE
    st.session_state["app_demo_checked"] = True
