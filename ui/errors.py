"""What a page shows when something goes wrong: one short message, never a
traceback (that goes to the server log).

- A refusal (InputError): the engine's message, written for the person who
  gave the input.
- A busy database: what holds it, and a fragment that checks again every
  RETRY_SECONDS without a click; once the file is free it reruns the page
  (or, after a failed write, says to try again).
- A database a viewer cannot read as it is (older schema, none yet): what
  an editor must do.
- A write refused in a viewer's session: sign in as an editor.
- Anything else: a short apology with a reference; the traceback is logged
  under that reference.

Pages turn an exception into their message one way: `with
message_on_failure():` around the engine call (the one `except Exception` of
the dashboard, below). Streamlit's control flow (st.stop, st.rerun,
st.switch_page) raises exceptions that are not Exceptions, so it passes.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from kpi_logic.domain.errors import (
    DatabaseBusyError,
    DatabaseSchemaError,
    InputError,
    ReadOnlyDatabaseError,
)
from ui import data
from ui.text import md_text

log = logging.getLogger(__name__)
RETRY_SECONDS = 3


class Attempt:
    """How a `message_on_failure` block ended: `failed` once its exception is shown."""
    failed = False


@contextmanager
def message_on_failure(*, then_stop: bool = False) -> Iterator[Attempt]:
    """Runs the with-block; an exception it raises becomes the page's message
    (see show) and the page goes on after the block, or stops there with
    then_stop. Yields an Attempt that says whether the block failed."""
    attempt = Attempt()
    try:
        yield attempt
    except Exception as exc:  # noqa: BLE001 - the page's edge: any failure is a message (show logs the unexpected), never a traceback
        attempt.failed = True
        show(exc)
        if then_stop:
            st.stop()


def guarded(fn, *args, **kwargs) -> None:
    """Runs fn; an exception it raises becomes a message on the page (see show)."""
    with message_on_failure():
        fn(*args, **kwargs)


def show(exc: Exception) -> None:
    """The page's message for `exc`; logs the traceback of an unexpected one."""
    if isinstance(exc, DatabaseBusyError):
        busy(exc.holder, after_write=exc.writing)
    elif isinstance(exc, InputError):
        # The message quotes the user's cells (names, values): text, not Markdown.
        st.error(md_text(str(exc), keep_lines=True), icon=":material/block:")
    elif isinstance(exc, DatabaseSchemaError):
        st.info(schema_message(exc), icon=":material/info:")
    elif isinstance(exc, ReadOnlyDatabaseError):
        st.warning("Viewer mode: only an editor can change data, and nothing was changed. "
                   "Sign in as an editor in the sidebar.", icon=":material/visibility:")
    else:
        unexpected(exc)


def schema_message(exc: DatabaseSchemaError) -> str:
    if exc.found == 0:
        return data.NOTHING_FOR_VIEWERS
    if exc.found > exc.known:
        return (f"This database was written by a newer Lodestar (schema {exc.found}; this one "
                f"reads {exc.known}). Ask whoever runs the dashboard to upgrade Lodestar.")
    return (f"This database was written by an older Lodestar (schema {exc.found}; this one "
            f"reads {exc.known}) and must be upgraded before it can be shown. An editor must "
            "open the dashboard once (Editor sign-in, in the sidebar) to upgrade it; until then "
            "nothing in it is changed.")


def unexpected(exc: Exception) -> None:
    reference = uuid.uuid4().hex[:8]
    log.error("Unexpected error on a dashboard page (reference %s)", reference, exc_info=exc)
    st.error("Something went wrong while drawing this part of the page, and it was left "
             f"out. Reload to try again; if it persists, tell whoever runs the dashboard "
             f"(server log reference {reference}).", icon=":material/error:")


def busy_text(holder: str | None) -> str:
    """Says what holds the database, in a sentence."""
    if holder == data.THIS_DASHBOARD:
        return f"The database is busy with {holder}."
    if holder:
        return (f"The database is busy: another program ({holder}) has it open, most likely "
                "an import from the command line.")
    return "The database is busy: another program has it open, most likely an import."


def busy(holder: str | None, *, after_write: bool = False) -> None:
    """The busy message, checked again every RETRY_SECONDS (no click needed)."""
    _until_free(busy_text(holder), time.monotonic(), after_write)


@st.fragment(run_every=RETRY_SECONDS)
def _until_free(text: str, since: float, after_write: bool) -> None:
    # First called in the failing run, then every RETRY_SECONDS on its own.
    still = data.busy_now(writing=after_write)
    if still is None and not after_write:
        st.rerun()          # the whole page, now that it can be read
    if still is None:
        st.success("The database is free again: nothing was changed, so try again now.",
                   icon=":material/check_circle:")
        return
    # A probe that found another session's turn learnt nothing about the file.
    now = text if still.holder in (None, data.THIS_DASHBOARD) else busy_text(still.holder)
    tail = ("Nothing was changed; this message says when to try again." if after_write
            else f"This page tries again every {RETRY_SECONDS} seconds by itself "
                 "and appears as soon as the file is free.")
    st.warning(f"{now} {tail}", icon=":material/hourglass_top:")
    waited = time.monotonic() - since
    if waited >= RETRY_SECONDS:     # shows that it is still checking
        st.caption(f"Waiting for {waited:.0f} s.")


def send_logs_to_the_server_log() -> None:
    """The app's records (tracebacks included) on stderr beside Streamlit's
    own, with time and origin; leaves logging alone when something (a test
    run, a host's config) set it up already."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("ui", "kpi_logic"):
        logging.getLogger(name).setLevel(logging.INFO)
