"""In a real browser: while another process holds the database file, a
viewer sees a short message (no traceback), and the page comes back by
itself once the file is free, without a click. AppTest cannot show the
second half: its runs never fire the message's timer."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e_support import CHROMIUM, StreamlitServer, launch_chromium
from tests.test_concurrency import HOLDER, python
from tests.test_e2e import screenshot, settled

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")

WAIT_MS = 60_000


def test_a_held_database_shows_a_message_and_the_page_returns_by_itself(demo_file, tmp_path):
    path = tmp_path / "lodestar.duckdb"
    shutil.copy(demo_file, path)
    holder = python(HOLDER, path, stdin=subprocess.PIPE)
    app = StreamlitServer(path, tmp_path / "streamlit.log",
                          env={"LODESTAR_EDITOR_PASSWORD": "correct horse"})
    try:
        assert holder.stdout.readline().strip() == "holding"
        app.start()
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(WAIT_MS)
                page.goto(app.url + "/scorecard")
                busy = page.get_by_text("The database is busy")
                busy.wait_for()
                assert f"process {holder.pid}" in busy.inner_text()
                assert "tries again every 3 seconds" in busy.inner_text()
                body = page.locator("body").inner_text()
                assert "Traceback" not in body and "DatabaseBusyError" not in body
                assert not page.locator("[data-testid=stException]").count()
                screenshot(page, "busy-database")

                holder.communicate("0\n", timeout=60)      # the import ends
                # No click, no reload: the page draws itself once the file is free.
                page.get_by_role("heading", name="Department scorecard").wait_for()
                page.locator("[data-testid=stMetric]").first.wait_for()   # the KPI cards
                settled(page, "Department scorecard")
                assert not busy.count()
                screenshot(page, "busy-database-recovered")
            finally:
                browser.close()
        assert "Traceback" not in app.output()
    finally:
        app.stop()
        if holder.poll() is None:
            holder.kill()
        holder.wait()
