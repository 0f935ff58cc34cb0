"""The dashboard's only door to the engine: one database handle, cached results.

The handle (st.cache_resource) holds the database's location (a DuckDB file or
a team's PostgreSQL URL, which may carry a password: it is only ever shown
through store.redacted), not an open connection: each unit of work opens the
database, does its work and closes it. Results are cached with st.cache_data
keyed on the data version, which every import, edit or undo changes, so every
process showing one database (a team's replicas) shows an import at its next
rerun.

On a DuckDB file the dashboard's units of work take turns (a lock): DuckDB lets
one process write a file at a time and the CLI must be able to import while the
dashboard is open. On PostgreSQL they run side by side: the server keeps
concurrent sessions apart (each unit of work is one snapshot; writers take its
write lock).

The data version is read once per script run and kept in session state for
the rest of that run (opening a file takes its lock, which a CLI import may
be waiting for). Work done through this module leaves the version it ended
with, so a page that writes reads its own write; the next run reads afresh,
so a CLI import between runs is seen. On a DuckDB file, "afresh" is first a
look at the file (Database.settled_version): a version read from a file
that has not changed since is that file's version still, and opening the
file for it (about 40 ms of CPU, in turn with every other session) is
skipped.

Reads open the database read-only, and a viewer's session never opens it any
other way: a viewer cannot write (a write a page forgot to hide fails
with ReadOnlyDatabaseError; on PostgreSQL viewers read through the read-only
role of LODESTAR_VIEWER_DATABASE_URL when it is set), load the demo, or even
migrate an older schema. A page read waits READ_WAIT_SECONDS for a database
another process holds, then raises DatabaseBusyError, which ui.errors shows as a
message that retries by itself.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Callable, Iterator

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from kpi_logic import store
from kpi_logic.domain.errors import DatabaseBusyError, DatabaseSchemaError, ReadOnlyDatabaseError
from ui import auth, state

log = logging.getLogger(__name__)


# A page read gives up after 2 s: long enough to ride out a short write (an
# edit, an undo, a small import's commit: well under a second), short enough
# that a page held by a long import says so at once instead of showing a
# spinner for LODESTAR_LOCK_WAIT (30 s); the message then retries by itself.
READ_WAIT_SECONDS = 2.0
# An editor who clicked Save or Import waits longer (under the page's
# spinner) for someone else's short write, but never the CLI's 30 s.
WRITE_WAIT_SECONDS = 10.0
# The dashboard's own units of work take turns (below); another session's
# calculation or import usually ends within seconds, so waiting for it
# is worth more than a busy message.
TURN_WAIT_SECONDS = 15.0
THIS_DASHBOARD = "another request of this dashboard (an import, an edit or a long calculation)"


# A DuckDB file's version is reused without opening it only when the file
# (and its WAL) last changed at least this long before the look: a change
# after the look then has a later modification time even on a file system
# that keeps whole seconds.
SETTLED_SECONDS = 2.0


def file_stamp(path: str) -> tuple | None:
    """What changes whenever DuckDB writes `path`: inode, size and modification
    time of the file and of its write-ahead log (None for a missing log); None
    when the file is missing or was modified less than SETTLED_SECONDS ago."""
    stamp, now = [], time.time_ns()
    for name in (path, f"{path}.wal"):
        try:
            found = os.stat(name)
        except FileNotFoundError:
            if name == path:
                return None
            stamp.append(None)
            continue
        if now - found.st_mtime_ns < SETTLED_SECONDS * 1e9:
            return None
        stamp.append((found.st_ino, found.st_size, found.st_mtime_ns))
    return tuple(stamp)


@dataclass
class Database:
    """Where the data is (location: a path or a URL, never shown: see `shown`) and,
    for a DuckDB file, the lock its units of work take turns with (None on a server)."""
    location: str = field(repr=False)
    lock: threading.RLock | None = field(default_factory=threading.RLock)
    # (file_stamp, data version) of the file's last version read, for every session.
    _settled: tuple | None = field(default=None, repr=False)

    def settled_version(self) -> str | None:
        """The data version last read from this DuckDB file when the file has not
        changed since (file_stamp), else None (always None on a server)."""
        seen = self._settled
        if self.lock is None or seen is None:
            return None
        return seen[1] if file_stamp(self.location) == seen[0] else None

    def remember_settled(self, stamp: tuple | None, version: str) -> None:
        """Keep `version`, read from the file as it was at `stamp` (taken before
        the read: a write after the look changes the stamp)."""
        if self.lock is not None and stamp is not None:
            self._settled = (stamp, version)

    @property
    def shown(self) -> str:
        """The location as it may be shown or logged (no password)."""
        return store.redacted(self.location)

    def session(self, *, writable: bool = False, migrate: bool = True,
                wait_seconds: float | None = None):
        """The Store (kpi_logic.store) for one unit of work, as a context manager.
        Read-only unless writable; migrate=False never writes at all. Raises
        DatabaseBusyError when the database (or, on a file, the turn) stays taken."""
        wait = (WRITE_WAIT_SECONDS if writable else READ_WAIT_SECONDS) \
            if wait_seconds is None else wait_seconds
        if self.lock is None:
            # A server: no turn to take, it keeps this process's sessions apart itself.
            return store.open_store(self.location, read_only=not writable, migrate=migrate,
                                    wait_seconds=wait)
        return self._file_session(writable, migrate, wait)

    @contextmanager
    def _file_session(self, writable: bool, migrate: bool, wait: float) -> Iterator:
        # The app's threads take turns: DuckDB refuses a read-only and a writable
        # connection to one file in one process.
        deadline = time.monotonic() + wait
        while True:
            self._take_turn(wait, writable)
            opened = False
            try:
                with store.open_store(self.location, read_only=not writable, migrate=migrate,
                                      wait_seconds=0) as opened_store:
                    opened = True
                    yield opened_store
                return
            except DatabaseBusyError:
                if opened or time.monotonic() >= deadline:
                    raise
            finally:
                self.lock.release()
            # Wait for the file without holding the turn: other sessions
            # waiting behind us then learn who holds the file, not "us".
            time.sleep(0.2)

    def _take_turn(self, wait: float, writable: bool) -> None:
        turn = self.lock.acquire(timeout=TURN_WAIT_SECONDS) if wait else self.lock.acquire(False)
        if not turn:
            raise DatabaseBusyError(f"The database is in use by {THIS_DASHBOARD}.",
                                    holder=THIS_DASHBOARD, writing=writable)


@st.cache_resource
def database() -> Database:
    location = store.database_location()
    server = store.is_server_url(location)
    log.info("The dashboard reads %s %s", "the team database" if server else "the database file",
             store.redacted(location))
    return Database(location, lock=None if server else threading.RLock())


def busy_now(writing: bool = False) -> DatabaseBusyError | None:
    """None when the database can be read right now (with `writing`, on a server:
    written, where only another writer's lock stands in the way and readers never
    wait); else the error naming what holds it. Does not wait, and writes nothing."""
    handle = database()
    try:
        if writing and handle.lock is None:
            with handle.session(writable=True, wait_seconds=0) as probe, \
                    probe.transaction(keep=False):
                return None
        with handle.session(migrate=False, wait_seconds=0):
            return None
    except DatabaseBusyError as exc:
        return exc
    except DatabaseSchemaError:     # readable, just not by a viewer
        return None


# Session-state key of this run's data version: (weak ref to the run token,
# database location as shown, version).
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
        st.session_state[VERSION_THIS_RUN] = (reference, database().shown, value)


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
        if memo and memo[0]() is token and memo[1] == database().shown:
            return memo[2]
    handle = database()
    settled = handle.settled_version()
    if settled is not None:
        _remember(settled)
        return settled
    stamp = file_stamp(handle.location) if handle.lock is not None else None
    # Reading the version is where an editor's session upgrades an older schema.
    with _work(writable=False, migrate=auth.can_edit()) as db:
        found = db.definitions.data_version()
    handle.remember_settled(stamp, found)
    return found


@contextmanager
def _work(*, writable: bool, migrate: bool) -> Iterator:
    """A session whose closing data version becomes this run's (writes included)."""
    try:
        with database().session(writable=writable, migrate=migrate) as db:
            yield db
            _remember(db.definitions.data_version())
    except BaseException:
        # A failed write may have changed something before it failed.
        forget_version()
        raise


def run(fn, *args, **kwargs):
    """Call an engine function with a fresh Store (writes and uncached
    reads): writable for an editor (or in open mode), read-only for a viewer,
    whose write attempts raise ReadOnlyDatabaseError."""
    editor = auth.can_edit()
    try:
        with _work(writable=editor, migrate=editor) as db:
            return fn(db, *args, **kwargs)
    except ReadOnlyDatabaseError:
        # A write path a page forgot to hide from viewers: the read-only database refused it.
        log.warning("A viewer session tried to write (%s): refused, nothing written",
                    getattr(fn, "__qualname__", fn))
        raise


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(fn_name: str, db: str, data_version_key: str, args: tuple, kwargs: tuple):
    # db (the location as shown) and data_version_key are part of the cache key:
    # a new import or another database gives new results; the same view is reused.
    # A miss opens the file a second time in the run's first call: reading the
    # version in this same session would mean calling st.cache_data while
    # holding Database.lock, and a session computing the same key (holding
    # Streamlit's per-key compute lock) would then wait for us forever.
    fn = _ENGINE[fn_name]
    # version() (called first) has created or upgraded the schema if this
    # session may: a cached read never writes.
    with database().session(migrate=False) as db:
        return fn(db, *args, **dict(kwargs))


def cached(fn_name: str, *args, **kwargs):
    """An engine result, cached per database and data version.

    Returns a shared object: callers must not mutate it.
    """
    return _cached(fn_name, database().shown, version(), args,
                   tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=4)
def _board_pack(db: str, data_version_key: str, as_of: date) -> bytes:
    # The data in one short unit of work (cached like any read), then the pages
    # drawn with the database closed: a DuckDB file's turn is not held for them.
    from kpi_logic.output.board_pack import board_pack_pdf
    return board_pack_pdf(_cached("board_pack_data", db, data_version_key, (),
                                  (("as_of", as_of),)))


@st.cache_data(show_spinner=False, max_entries=8)
def _scorecard_png(db: str, data_version_key: str, department: str, period: str | None,
                   as_of: date) -> bytes:
    from kpi_logic.output.report import render_report
    return render_report("scorecard", _cached(
        "explained_scorecard", db, data_version_key, (department,),
        (("as_of", as_of), ("period", period))))


def scorecard_png(department: str, period: str | None, as_of: date) -> Callable[[], bytes]:
    """The department's scorecard PNG, with why each KPI moved, drawn when called (a
    download button's deferred data, as board_pack's)."""
    return partial(_scorecard_png, database().shown, version(), department, period, as_of)


def board_pack(as_of: date) -> Callable[[], bytes]:
    """The board pack's PDF as of `as_of`, made when called: a download button's
    deferred data, which Streamlit calls in a thread of its own when the button is
    clicked, outside any script run (so the data version is this run's, read now).
    Cached per database, data version and as-of date: a second click is instant.
    Reads only, like a viewer."""
    return partial(_board_pack, database().shown, version(), as_of)


def _engine_functions() -> dict:
    from kpi_logic.ingest import edits, undo
    from kpi_logic.launch import analysis as launch
    from kpi_logic.metrics import catalogue, explain, history, kpis, okrs, overview, rollups
    from kpi_logic.output import board_pack
    return {
        "board_pack_data": board_pack.board_pack_data,
        "scorecard": kpis.scorecard,
        "explanation": explain.explanation,
        "explained_scorecard": explain.explained_scorecard,
        "okr_report": okrs.okr_report,
        "launch_analysis": launch.launch_analysis,
        "kr_history": okrs.kr_history,
        "overview": overview.overview,
        "metric_catalogue": catalogue.metric_catalogue,
        "rolled_up": rollups.rolled_up,
        "history_scope": history.history_scope,
        "metric_history": history.metric_history,
        "departments": overview.departments,
        "load_metrics": edits.current_metrics,
        **{f"load_{kind}": partial(edits.current_definitions, kind=kind)
           for kind in ("kpis", "key_results", "targets", "launches", "objectives")},
        "current_definitions": edits.current_definitions,
        "import_batches": undo.list_batches,
        "has_history": edits.has_history,
        "setting": edits.setting,
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
VIEWER_DEMO_NOTICE = "You are looking at the demo company (made-up data)."
NOTHING_FOR_VIEWERS = ("Nothing to show yet: this dashboard's database is empty. An editor must "
                       "sign in (Editor sign-in, in the sidebar) to load the demo company or "
                       "import files; the pages show them as soon as they are in.")


def has_data() -> bool:
    """True when some import is in effect; False for an empty database, a
    missing file or one without Lodestar's schema (a viewer reads nothing
    there, and creates nothing)."""
    try:
        return bool(cached("has_history"))
    except DatabaseSchemaError as exc:
        if exc.found == 0:
            return False
        raise


def ensure_demo_on_first_start() -> None:
    """Once per session and mode: for an editor (or in open mode), load the demo
    company into an empty database unless its owner chose to start empty; then
    set the sidebar's demo notice. A viewer's session loads nothing (it never
    writes): on an empty database it stays unchecked, so the notice appears
    once an editor has loaded the demo."""
    editor = auth.can_edit()
    if st.session_state.get(state.DEMO_CHECKED) is editor:
        return
    if editor and not has_data() and cached("setting", "start_empty") is None:
        from kpi_logic.demo import company as demo
        with st.spinner("First start: loading the demo company..."):
            try:
                run(demo.load_demo)
            except DatabaseBusyError as exc:
                # Nobody asked for this write: the page may retry it by itself.
                raise DatabaseBusyError(str(exc), holder=exc.holder) from None
    if not has_data():
        return
    if cached("setting", "demo_loaded") and not cached("setting", "start_empty"):
        st.session_state[state.NOTICE] = DEMO_NOTICE if editor else VIEWER_DEMO_NOTICE
    st.session_state[state.DEMO_CHECKED] = editor
