"""Results the dashboard's sessions share are computed once per data version:
two sessions opening the overview run the engine's overview and build each
chart once between them, and an edit through another connection (as the CLI
makes) shows on the page at its next rerun.

Engine calls and chart builds are counted by wrapping the real functions (they
still run); AppTest runs the scripts in this process, each AppTest a session."""
from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.ingest import edits
from kpi_logic.output import charts
from kpi_logic.store import open_store
from tests.readable import shown
from ui import data

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 90


@pytest.fixture
def page_db(demo_database, use_database):
    return use_database(demo_database)


def counted(monkeypatch, owner, name: str) -> list:
    """Replaces owner[name] (a dict) or owner.name (a module) by a wrapper that
    calls the real function and records each call's arguments."""
    calls: list = []
    real = owner[name] if isinstance(owner, dict) else getattr(owner, name)

    @functools.wraps(real)
    def counting(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    if isinstance(owner, dict):
        monkeypatch.setitem(owner, name, counting)
    else:
        monkeypatch.setattr(owner, name, counting)
    return calls


def opened_overview() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Company overview"]
    return at


def subheaders(at: AppTest) -> list[str]:
    return [shown(s.value) for s in at.subheader]


def test_two_sessions_share_one_overview_and_one_build_of_each_chart(page_db, monkeypatch):
    data.cached("departments")      # fills the engine's table, to wrap one of its functions
    overviews = counted(monkeypatch, data._ENGINE, "overview")
    sparklines = counted(monkeypatch, charts, "sparkline")
    bars = counted(monkeypatch, charts, "department_health_chart")
    first = opened_overview()
    drawn = len(first.get("vega_lite_chart"))
    assert (len(overviews), len(bars)) == (1, 1)
    assert sparklines, "the demo's pinned KPIs show sparklines"
    built = len(sparklines)
    second = opened_overview()
    first.run()
    # Both sessions drew every chart; the engine and the builders ran for the first only.
    assert len(second.get("vega_lite_chart")) == len(first.get("vega_lite_chart")) == drawn
    assert (len(overviews), len(bars), len(sparklines)) == (1, 1, built)
    assert subheaders(second) == subheaders(first)


def test_an_edit_by_another_connection_shows_on_the_overview_at_the_next_rerun(page_db,
                                                                               monkeypatch):
    data.cached("departments")
    overviews = counted(monkeypatch, data._ENGINE, "overview")
    at = opened_overview()
    with open_store(page_db) as store:
        pinned = {k.title for k in store.definitions.kpis() if k.pinned}
        title = next(k.title for k in store.definitions.kpis() if not k.pinned)
    assert title not in pinned
    at.run()
    assert len(overviews) == 1
    with open_store(page_db) as store:       # as the CLI would, between two reruns
        edits.pin_kpi(store, title, True)
    at.run()
    assert not at.exception, at.exception
    # The new data version: the overview computed again, the new pin on the page.
    assert len(overviews) == 2
    labels = [shown(m.label) for m in at.metric]
    assert any(label.endswith(f" {title}") for label in labels), labels


def test_the_server_does_not_walk_every_object_after_each_page_run():
    # Streamlit's default runs gc.collect(2) after every script run: with pandas,
    # DuckDB and Altair loaded that was three quarters of the server's CPU on a warm
    # rerun (bench/sessions.py). The setting the dashboard starts with keeps it off,
    # as Streamlit reads it from the project's config file.
    read = subprocess.run(
        [sys.executable, "-c", "from streamlit import config; "
         "print(config.get_option('runner.postScriptGC'))"],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, check=True)
    assert read.stdout.strip() == "False"
