"""Editor sign-in: wrong passwords lock sign-in for a growing time, per browser
session and for the whole server; while locked even the right password is
refused; failures are logged without what was typed."""
from __future__ import annotations

import logging

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ui import throttle
from ui.throttle import Throttle, lock_seconds, wait_words

PASSWORD = "correct horse battery"
WRONG = ["Tr0ub4dor&3", "hunter2", "letmein!", "p4ssw0rd-guess"]


# ---------------------------------------------------------------- the throttle itself

def test_the_lock_grows_from_the_third_failure_and_is_capped():
    assert [lock_seconds(n) for n in range(1, 12)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert lock_seconds(10_000) == 60


def test_a_locked_throttle_does_not_compare_and_is_not_lengthened():
    gate, compared = Throttle(), []

    def wrong():
        compared.append(1)
        return False

    assert [gate.attempt(wrong, now=100.0) for _ in range(3)] == [(False, 0), (False, 0), (False, 1)]
    assert gate.attempt(lambda: True, now=100.5) == (None, 0.5)     # right, but locked
    assert gate.attempt(wrong, now=100.9) == (None, pytest.approx(0.1))
    assert len(compared) == 3 and gate.failures == 3
    assert gate.attempt(wrong, now=101.0) == (False, 2)             # the lock ended: counted
    assert gate.attempt(lambda: True, now=103.0) == (True, 0)
    assert (gate.failures, gate.seconds_left(103.0)) == (0, 0)


@pytest.mark.parametrize("seconds, words", [(0.2, "1 second"), (1, "1 second"), (7.1, "8 seconds"),
                                            (59.5, "1 minute"), (61, "2 minutes")])
def test_wait_words(seconds, words):
    assert wait_words(seconds) == words


# ---------------------------------------------------------------- through the sidebar

def sign_in_sidebar():
    from ui import auth
    auth.sidebar_mode()


@pytest.fixture
def long_locks(monkeypatch, use_database, tmp_path):
    """A password set, a fresh server-wide count, and locks of ten minutes so
    that no test depends on how fast it runs."""
    use_database(tmp_path / "unused.duckdb")     # clears st.cache_resource: a fresh server count
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", PASSWORD)
    monkeypatch.setattr(throttle, "FIRST_DELAY_SECONDS", 600.0)
    monkeypatch.setattr(throttle, "MAX_DELAY_SECONDS", 600.0)


def session() -> AppTest:
    at = AppTest.from_function(sign_in_sidebar, default_timeout=30).run()
    assert not at.exception
    return at


def typed(at: AppTest, password: str) -> list[str]:
    """Types into the sign-in box and clicks Unlock; returns the errors shown."""
    at.text_input(key="auth_password").input(password)
    at.button(key="auth_unlock").click().run()
    assert not at.exception
    return [e.value for e in at.error]


def unlocked(at: AppTest) -> bool:
    return bool(at.session_state["editor_unlocked"]) if "editor_unlocked" in at.session_state \
        else False


def test_the_right_password_unlocks_after_a_typo(long_locks):
    at = session()
    assert typed(at, WRONG[0]) == ["That password is not right."]
    assert typed(at, PASSWORD) == []
    assert unlocked(at)


def test_wrong_passwords_in_a_row_lock_sign_in_even_for_the_right_one(long_locks, caplog):
    caplog.set_level(logging.INFO)
    at = session()
    assert typed(at, WRONG[0]) == ["That password is not right."]
    assert typed(at, WRONG[1]) == ["That password is not right."]
    assert typed(at, WRONG[2]) == ["That password is not right. Too many wrong passwords: "
                                   "try again in 10 minutes."]
    refused = ["Too many wrong passwords: sign-in is locked. Try again in 10 minutes."]
    assert typed(at, PASSWORD) == refused
    assert not unlocked(at)

    # Per server: a new browser session (a reload, another tab, another
    # person) is locked out too, right password or not.
    other = session()
    assert typed(other, PASSWORD) == refused
    assert not unlocked(other)

    failures = [r for r in caplog.records if r.name == "ui.auth" and r.levelno == logging.WARNING]
    assert len(failures) == 3
    assert "3 in a row on this server" in failures[-1].getMessage()
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in [PASSWORD, *WRONG[:3]]:
        assert secret not in logged


def test_a_new_session_does_not_reset_the_server_count(long_locks):
    # Two wrong passwords here and one in a fresh session: the third in a row
    # on the server locks both, though each session alone is under three.
    first, second = session(), session()
    typed(first, WRONG[0])
    typed(first, WRONG[1])
    assert "Too many wrong passwords" in typed(second, WRONG[2])[0]
    assert typed(first, PASSWORD) == [
        "Too many wrong passwords: sign-in is locked. Try again in 10 minutes."]


def test_the_session_count_survives_a_success_elsewhere(long_locks):
    # A session that failed three times stays locked even after an editor
    # somewhere else signs in (which clears the server-wide count).
    guesser, editor = session(), session()
    for wrong in WRONG[:3]:
        typed(guesser, wrong)
    st.cache_resource.clear()               # as if the server-wide lock had run out
    assert typed(editor, PASSWORD) == [] and unlocked(editor)
    assert typed(guesser, PASSWORD) == [
        "Too many wrong passwords: sign-in is locked. Try again in 10 minutes."]
