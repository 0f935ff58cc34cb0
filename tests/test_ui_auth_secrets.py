"""Where the editor password comes from when the environment has none:
Streamlit's secrets. No secrets file is local use (open mode); a file that
cannot be read locks editing and says why in the log, never opening the
dashboard to everyone because of a typo in the file."""
from __future__ import annotations

import logging

import pytest
import streamlit as st
from streamlit import config

from ui import auth


@pytest.fixture
def secrets_at(monkeypatch, tmp_path):
    """Points Streamlit's secrets at one file of the test's own (restored after)."""
    monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
    before = config.get_option("secrets.files")

    def point(content: bytes | None):
        path = tmp_path / "secrets.toml"
        if content is not None:
            path.write_bytes(content)
        config.set_option("secrets.files", [str(path)])
        st.secrets._reset()            # Streamlit parses the file once, then keeps it

    yield point
    config.set_option("secrets.files", before)
    st.secrets._reset()


def test_no_secrets_file_is_open_mode(secrets_at, caplog):
    secrets_at(None)
    assert auth.editor_password() is None
    assert not caplog.records


def test_the_password_in_the_secrets_file(secrets_at):
    secrets_at(b"LODESTAR_EDITOR_PASSWORD = 'from the file'\n")
    assert auth.editor_password() == "from the file"


@pytest.mark.parametrize("content, cause", [
    (b"LODESTAR_EDITOR_PASSWORD = 'unclosed\n", "Error parsing secrets file"),
    (b"LODESTAR_EDITOR_PASSWORD = '\xff'\n", "codec can't decode"),
])
def test_a_secrets_file_that_cannot_be_read_locks_editing(secrets_at, caplog, content, cause):
    secrets_at(content)
    caplog.set_level(logging.ERROR, logger="ui.auth")
    password = auth.editor_password()
    assert password == auth.UNKNOWABLE_PASSWORD and len(password) > 30
    [record] = [r for r in caplog.records if r.name == "ui.auth"]
    assert not auth.can_edit()
    assert "Editing is locked" in record.getMessage() and cause in record.getMessage()
