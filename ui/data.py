"""The dashboard's only door to the engine: one database handle, cached results.

The handle (st.cache_resource) holds the file path and a lock, not an open
connection: DuckDB lets one process write a file at a time and the CLI must
be able to import while the dashboard is open, so each unit of work opens the
file, does its work and closes it. Results are cached with st.cache_data keyed
on the data version, which every import, edit or undo changes.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

import streamlit as st

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


def version() -> str:
    """The current data version (cheap; not cached on purpose)."""
    with database().session() as con:
        return data_version(con)


def run(fn, *args, **kwargs):
    """Call an engine function with a fresh connection (writes and uncached reads)."""
    with database().session() as con:
        return fn(con, *args, **kwargs)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(fn_name: str, db: str, data_version_key: str, args: tuple, kwargs: tuple):
    # db and data_version_key are part of the cache key: a new import or
    # another database file gives new results; the same view is reused.
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
    with database().session() as con:
        if not store.has_history(con) and store.setting(con, "start_empty") is None:
            with st.spinner("First start: loading the demo company..."):
                demo.load_demo(con)
            st.session_state[state.NOTICE] = DEMO_NOTICE
        elif store.setting(con, "demo_loaded") and not store.setting(con, "start_empty"):
            st.session_state[state.NOTICE] = DEMO_NOTICE
    st.session_state["app_demo_checked"] = True
