"""The overview's first paint in headless Chromium, against a hello-world page.

A visit is a fresh browser context (no cookies: a new Streamlit session)
opening the page; it ends when the page is settled as the browser tests
wait for it (tests/test_e2e.py `settled`): the page's text is there, no
element is still a skeleton and the script run has finished. The hello
world is one st.title on the same Streamlit, config and browser, so the
ratio is what Lodestar adds to Streamlit's own cost of a page.

The first visit after the server started is timed apart: it pays for the
imports of the pages' modules and the first computation of the results.
"""
from __future__ import annotations

import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from playwright.sync_api import sync_playwright

from deploy.team import free_port, start_process, stop_process, wait_healthy
from tests.e2e_support import launch_chromium

HELLO_TEXT = "Hello world"
HELLO_APP = f'import streamlit as st\n\nst.title("{HELLO_TEXT}")\n'
OVERVIEW_TEXT = "Needs attention"      # the overview's last heading
SETTLED = ("!document.querySelector('[data-testid=stSkeleton]')"
           " && !document.querySelector('[data-testid^=stStatusWidgetRunning]')")
WAIT_MS = 120_000


def visit_seconds(browser, url: str, text: str) -> float:
    """Seconds from asking for `url` in a fresh context to the page settled."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        started = time.perf_counter()
        page.goto(url)
        page.get_by_text(text, exact=False).first.wait_for()
        page.wait_for_function(SETTLED)
        return time.perf_counter() - started
    finally:
        context.close()


def start_server(script: str, port: int, log: Path, env: dict[str, str], running: ExitStack):
    process = start_process(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"], log, env)
    running.callback(stop_process, process)
    wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, log)
    return process


def first_paints(app_env: dict[str, str], folder: Path, visits: int = 5) -> dict:
    """{page: {"first": s, "median": s}} for "hello" and "overview": the first
    visit after each server started, and the median of `visits` visits after it."""
    hello = folder / "hello_world.py"
    hello.write_text(HELLO_APP)
    result = {}
    with sync_playwright() as playwright, ExitStack() as running:
        browser = launch_chromium(playwright)
        running.callback(browser.close)
        for name, script, text, env in (("hello", str(hello), HELLO_TEXT, app_env),
                                        ("overview", "app.py", OVERVIEW_TEXT, app_env)):
            port = free_port()
            start_server(script, port, folder / "dashboard-logs" / f"paint-{name}-{port}.log",
                         env, running)
            url = f"http://127.0.0.1:{port}/"
            first = visit_seconds(browser, url, text)
            later = [visit_seconds(browser, url, text) for _ in range(visits)]
            result[name] = {"first": first, "median": statistics.median(later)}
    return result
