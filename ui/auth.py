"""Viewer and editor modes.

When LODESTAR_EDITOR_PASSWORD is set (environment or .streamlit/secrets.toml)
the dashboard is read-only until someone enters it; unset, everything is open
(local single-user use). The sidebar always says which mode is on. A secrets
file that exists but cannot be read locks editing (and says why in the log)
rather than opening it to everyone.

Wrong passwords are throttled per browser session and per server (every
session of this process shares one count): see ui/throttle.py. Each failure
is logged (WARNING, never the text typed); the comparison takes constant time.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import time

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from ui import state
from ui.throttle import Throttle, wait_words

log = logging.getLogger(__name__)
SESSION_THROTTLE = "auth_throttle"   # session-state key of this session's Throttle
# The password while the secrets cannot be read: random per process, never shown.
UNKNOWABLE_PASSWORD = secrets.token_urlsafe(32)


def editor_password() -> str | None:
    value = os.environ.get("LODESTAR_EDITOR_PASSWORD")
    if value:
        return value
    try:
        return st.secrets.get("LODESTAR_EDITOR_PASSWORD") or None
    except StreamlitSecretNotFoundError as exc:
        if exc.error_id == "no-secrets-found":     # no secrets file: local use, open mode
            return None
        problem = exc                              # a file it cannot parse, a bad path
    except (OSError, UnicodeDecodeError) as exc:   # a file it cannot open or decode
        problem = exc
    # A password is meant to be set, so editing stays locked rather than open to everyone.
    log.error("Editing is locked: Streamlit's secrets cannot be read (%s). Fix the secrets "
              "file or set LODESTAR_EDITOR_PASSWORD in the environment.", problem)
    return UNKNOWABLE_PASSWORD


def can_edit() -> bool:
    """True when writes are allowed in this browser session."""
    return editor_password() is None or bool(st.session_state.get(state.EDITOR_UNLOCKED))


@st.cache_resource
def server_throttle() -> Throttle:
    """The wrong-password count shared by every session of this server process."""
    return Throttle()


def session_throttle() -> Throttle:
    if SESSION_THROTTLE not in st.session_state:
        st.session_state[SESSION_THROTTLE] = Throttle()
    return st.session_state[SESSION_THROTTLE]


def sign_in_refusal(typed: str, password: str) -> str | None:
    """Unlocks editing in this session when `typed` is the password and no
    lock is running; otherwise returns the refusal to show (a lock is
    refused without comparing, even the right password)."""
    now = time.monotonic()
    mine, server = session_throttle(), server_throttle()
    left = mine.seconds_left(now)
    if not left:
        right, left = server.attempt(lambda: hmac.compare_digest(typed.encode(), password.encode()),
                                     now)
        if right:
            mine.record(True, now)
            st.session_state[state.EDITOR_UNLOCKED] = True
            log.info("Editor signed in from %s", _who())
            return None
        if right is False:
            left = max(left, mine.record(False, now))
            log.warning("Wrong editor password from %s (%d in a row on this server, %d in this "
                        "session)%s", _who(), server.failures, mine.failures,
                        f"; sign-in locked for {left:.0f} s" if left else "")
            return "That password is not right." + (
                f" Too many wrong passwords: try again in {wait_words(left)}." if left else "")
    log.info("Editor sign-in refused from %s: locked for %.0f s more", _who(), left)
    return f"Too many wrong passwords: sign-in is locked. Try again in {wait_words(left)}."


def _who() -> str:
    # Only for the log; a proxy in front shows as its own address.
    try:
        return st.context.ip_address or "localhost"
    except RuntimeError:  # a script run with no server behind it (AppTest): no runtime to ask
        return "an unknown address"


def sidebar_mode() -> None:
    """Show the mode in the sidebar, with the unlock form in viewer mode."""
    password = editor_password()
    with st.sidebar:
        if password is None:
            st.caption(":material/lock_open: Open mode: no editor password is set, everyone can import and edit.")
            return
        if st.session_state.get(state.EDITOR_UNLOCKED):
            st.caption(":material/edit: Editor mode: you can import and edit.")
            if st.button("Lock editing", key="auth_lock"):
                st.session_state[state.EDITOR_UNLOCKED] = False
                st.rerun()
            return
        st.caption(":material/visibility: Viewer mode: read-only.")
        with st.popover("Editor sign-in"):
            typed = st.text_input("Editor password", type="password", key="auth_password")
            if st.button("Unlock editing", key="auth_unlock"):
                refusal = sign_in_refusal(typed, password)
                if refusal is None:
                    st.rerun()
                st.error(refusal)
