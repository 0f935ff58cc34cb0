"""Import and define, and the metrics catalogue, in a real headless Chromium
against `streamlit run app.py` on the demo: a KPI target typed into the
definitions grid and saved, then that save undone, each leaves the page on
the tab it was made in (the page reruns after a write; Streamlit tabs
without a key went back to the first); the catalogue shows every metric at
once and, on a phone, scrolls sideways inside its frame."""
from __future__ import annotations

from pathlib import Path

import pytest

from kpi_logic.ingest import template
from kpi_logic.ingest.edits import current_definitions
from kpi_logic.metrics.catalogue import metric_catalogue
from kpi_logic.store import open_store
from tests.e2e_support import CHROMIUM

# The same demo database and server fixtures, made anew for this module (module scope).
from tests.test_e2e import (  # noqa: F401
    browser,
    demo_db,
    expected_card,
    new_page,
    screenshot,
    server,
    settled,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(.ci/run installs it: apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")


def first_kpi(db: Path) -> tuple[str, float]:
    """(title, target) of the grid's first row, as the page lists the KPIs."""
    with open_store(db, read_only=True) as store:
        row = template.editable_frame("kpis", current_definitions(store, "kpis")).iloc[0]
    return row["title"], float(row["target"])


def stored_target(db: Path, title: str) -> float:
    with open_store(db, read_only=True) as store:
        return next(k.target for k in current_definitions(store, "kpis") if k.title == title)


def selected_tab(page) -> str:
    return page.locator("[role=tab][aria-selected=true]").inner_text().strip()


def test_the_tab_in_use_stays_after_a_save_and_after_an_undo(server, new_page, demo_db):
    title, target = first_kpi(demo_db)
    page = new_page(server.url + "/define")
    settled(page, "Import and define")
    page.get_by_role("tab", name="Definitions").click()
    settled(page, "Add rows at the bottom")
    # The grid draws on a canvas: the first row's Title cell, then two cells right
    # (Metric, Target), typed over as a person would.
    grid = page.locator("[data-testid=stDataFrame]:visible").last
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)            # the canvas takes keys once it has drawn
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 80, box["y"] + 50)
    for key in ("ArrowRight", "ArrowRight", "Enter", "Control+A"):
        page.wait_for_timeout(400)         # the grid moves its selection on the next frame
        page.keyboard.press(key)
    page.wait_for_timeout(400)
    page.keyboard.type(f"{target + 1:g}", delay=50)
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")
    page.wait_for_timeout(1000)
    settled(page, "Add rows at the bottom")     # an edit reruns the page
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"target {target:g}", exact=False).first.wait_for()
    settled(page, "Add rows at the bottom")
    assert stored_target(demo_db, title) == target + 1
    assert selected_tab(page) == "Definitions"
    assert page.get_by_text("Add rows at the bottom").is_visible()
    screenshot(page, "define-after-save")

    page.get_by_role("tab", name="Import history").click()
    settled(page, "Batch to undo")
    page.get_by_text("Yes, remove what this batch added").click()
    page.get_by_role("button", name="Undo batch").click()
    # The save's batch is the one offered first, though the list was drawn before it.
    page.get_by_text("Edited KPIs, kpis): removed 1 row", exact=False).first.wait_for()
    settled(page, "Batch to undo")
    assert stored_target(demo_db, title) == target
    assert selected_tab(page) == "Import history"
    assert page.get_by_text("Batch to undo").is_visible()


def test_the_catalogue_shows_every_metric_and_fits_a_phone(server, new_page, demo_db):
    with open_store(demo_db, read_only=True) as store:
        count = len(metric_catalogue(store))
    page = new_page(server.url + "/metrics")
    settled(page, "linked to a KPI or key result")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    table = page.locator("[data-testid=stDataFrame]").first
    # Tall enough for every row (35 px each), not a frame of ten to scroll in.
    assert table.bounding_box()["height"] >= 35 * count
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert table.bounding_box()["width"] <= 390
    screenshot(page, "metrics-catalogue-phone", {"width": 390, "height": 844})
