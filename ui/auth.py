"""Viewer and editor modes.

When LODESTAR_EDITOR_PASSWORD is set (environment or .streamlit/secrets.toml)
the dashboard is read-only until someone enters it; unset, everything is open
(local single-user use). The sidebar always says which mode is on.
"""
from __future__ import annotations

import hmac
import os

import streamlit as st

from ui import state


def editor_password() -> str | None:
    value = os.environ.get("LODESTAR_EDITOR_PASSWORD")
    if value:
        return value
    try:
        return st.secrets.get("LODESTAR_EDITOR_PASSWORD") or None
    except Exception:  # no secrets file: local use
        return None


def can_edit() -> bool:
    """True when writes are allowed in this browser session."""
    return editor_password() is None or bool(st.session_state.get(state.EDITOR_UNLOCKED))


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
                if hmac.compare_digest(typed.encode(), password.encode()):
                    st.session_state[state.EDITOR_UNLOCKED] = True
                    st.rerun()
                else:
                    st.error("That password is not right.")
