"""The review loop's forms in a real headless Chromium against `streamlit run
app.py` on the demo: an objective added on the OKRs page, a refused key result
whose message sits under its field, and a check-in written on a KPI card,
each checked in the database afterwards."""
from __future__ import annotations

from pathlib import Path

import pytest

from kpi_logic.metrics import kpis, okrs
from kpi_logic.store import open_store
from tests.e2e_support import CHROMIUM, launch_chromium

# The same demo database and server fixtures, made anew for this module (module scope).
from tests.test_e2e import WAIT_MS, demo_db, expected_card, server, settled  # noqa: F401

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(.ci/run installs it: apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        opened = context.new_page()
        opened.set_default_timeout(WAIT_MS)
        try:
            yield opened
        finally:
            chromium.close()


def read(db: Path, fn, *args, **kwargs):
    with open_store(db, read_only=True) as store:
        return fn(store, *args, **kwargs)


def form_tab(page, tab: str):
    page.get_by_text("Add or edit objectives and key results").click()
    page.get_by_role("tab", name=tab).click()


def test_an_objective_added_in_the_form_is_stored(server, page, demo_db):
    page.goto(server.url + "/okrs")
    settled(page, "Completion rate")
    form_tab(page, "Objective")
    page.get_by_role("textbox", name="Name", exact=True).fill("Win the enterprise market")
    page.get_by_role("textbox", name="Owner", exact=True).first.fill("Dana Reyes")
    page.get_by_role("button", name="Save objective").click()
    page.get_by_text("Objective saved", exact=False).first.wait_for()
    stored = read(demo_db, okrs.okr_report)["objectives"]
    added = next(o for o in stored if o["objective"] == "Win the enterprise market")
    assert (added["owner"], [f["code"] for f in added["flags"]]) == ("Dana Reyes",
                                                                     ["no_key_results"])


def test_a_refused_key_result_says_why_under_the_field(server, page, demo_db):
    before = read(demo_db, okrs.okr_report)["objectives"]
    page.goto(server.url + "/okrs")
    settled(page, "Completion rate")
    form_tab(page, "New key result")
    panel = page.get_by_role("tabpanel", name="New key result")
    panel.get_by_role("spinbutton", name="Start value").fill("50")
    panel.get_by_role("spinbutton", name="Target", exact=True).fill("50")
    panel.get_by_role("button", name="Save key result").click()
    page.get_by_text("equals the start value", exact=False).first.wait_for()
    assert read(demo_db, okrs.okr_report)["objectives"] == before


def test_a_check_in_written_on_a_kpi_card_is_stored(server, page, demo_db):
    card = read(demo_db, kpis.scorecard, "Customer service")
    page.goto(server.url + "/scorecard?department=Customer+service")
    settled(page, "Trend against target")
    index = [k["title"] for k in card["kpis"]].index("Chat duration")
    page.get_by_role("button", name="Check in").nth(index).click()
    dialog = page.locator("[data-testid=stPopoverBody]").last
    dialog.get_by_role("textbox", name="What happened, what comes next").fill("More product questions in chat")
    dialog.get_by_role("textbox", name="Your name").fill("Ravi")
    dialog.get_by_role("button", name="Save check-in").click()
    page.get_by_text("More product questions in chat", exact=False).first.wait_for()
    chat = read(demo_db, kpis.scorecard, "Customer service")["kpis"][index]
    assert (chat["checkins"][0]["note"], chat["checkins"][0]["by"]) == (
        "More product questions in chat", "Ravi")
