"""In a real headless Chromium, a database whose text is hostile
(tests/hostile.py): no page fetches or links the hostile host, every payload
reads as literal text, and the tables' own "Download as CSV" (Streamlit's
toolbar, the data editor's included) writes no cell a spreadsheet would run.
Screenshots at 1440 px go to tests/artifacts/hostile-*.png."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests import hostile as h
from tests.e2e_support import CHROMIUM, ROOT, StreamlitServer, load_demo
from tests.test_e2e import browser, settled  # noqa: F401 - the browser fixture is shared

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "tests" / "artifacts"
VIEWPORT = {"width": 1440, "height": 1000}
WAIT_MS = 60_000
# (name, path, text the page ends with, a payload its text shows or None when
# the data is only in tables, which draw on a canvas)
PAGES = [
    ("overview", "/", "Needs attention", h.LINK),
    ("scorecard-image", "/scorecard?" + urlencode({"department": h.IMAGE}), "Plain metrics",
     h.IMAGE),
    ("scorecard-link", "/scorecard?" + urlencode({"department": h.LINK}), "Plain metrics",
     h.LINK),
    ("okrs", "/okrs", "Key result detail", h.LINK),
    ("metrics", "/metrics", "Make it a KPI", None),
    ("launch-analyse", "/launch?step=Analyse", "Campaigns", h.LINK),
    ("launch-adjust", "/launch?step=Adjust", "Optimise", h.COLOUR),
    ("launch-scenarios", "/launch?" + urlencode({"step": "Scenarios",
                                                 "compare": ",".join(h.SCENARIOS[:2])}),
     "How each one splits", h.IMAGE),
    ("define", "/define", "Import and define", None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile-e2e") / "lodestar.duckdb"
    load_demo(db)
    h.hostile_database(db)
    app = StreamlitServer(db, tmp_path_factory.mktemp("hostile-e2e-log") / "streamlit.log")
    try:
        yield app.start()
    finally:
        app.stop()


@pytest.fixture
def visit(browser, server):
    """Opens a path in a fresh context; yields (page, the URLs it requested)."""
    contexts = []

    def opened(path: str, text: str):
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        # Without the File System Access API the toolbar's CSV download falls
        # back to an ordinary download, which the test can read.
        context.add_init_script("delete window.showSaveFilePicker;")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        # An alert() from <img onerror=...> would open a dialog: record it as a request.
        page.on("dialog", lambda dialog: (requested.append(f"dialog {dialog.message}"),
                                          dialog.dismiss()))
        page.goto(server.url + path)
        settled(page, text)
        return page, requested
    yield opened
    for context in contexts:
        context.close()


def assert_nothing_live(page, requested: list[str]) -> None:
    page.wait_for_timeout(500)      # let images that markup would add start loading
    assert not [url for url in requested if h.HOST in url or url.startswith("dialog")]
    main = page.locator("[data-testid=stMain], [data-testid=stSidebar]")
    assert not main.locator(f"a[href*='{h.HOST}'], img[src*='{h.HOST}'], img[src=x]").count()
    assert not main.locator(".katex").count()                   # $x^2$ stayed text
    assert page.locator("[data-testid=stException]").count() == 0


def page_text(page) -> str:
    return h.plain(page.locator("[data-testid=stMain]").inner_text().replace("\u2060", ""))


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hostile-{name}.png"), full_page=True)


def downloaded_csv(page, table) -> list[list[str]]:
    """The rows the table's own toolbar "Download as CSV" writes."""
    table.hover()
    with page.expect_download() as download:
        page.locator("[data-testid=stElementToolbar]").get_by_role(
            "button", name="Download as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula_cells(rows: list[list[str]]) -> None:
    assert rows
    ran = [cell for row in rows for cell in row if h.runs_as_formula(cell)]
    assert not ran, ran


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("name, path, text, payload", PAGES)
def test_no_page_fetches_or_links_the_hostile_host(visit, name, path, text, payload):
    page, requested = visit(path, text)
    assert_nothing_live(page, requested)
    if payload:
        assert h.plain(payload) in page_text(page)
    screenshot(page, name)


def test_the_scorecard_definition_popover_shows_an_image_owner_as_text(visit):
    # Sales (the LINK department) has the KPIs whose owner is the IMAGE payload.
    page, requested = visit("/scorecard?" + urlencode({"department": h.LINK}), "Plain metrics")
    popover = page.locator("[data-testid=stPopoverBody]")
    for button in page.get_by_role("button", name="Definition").all():
        button.click()
        popover.wait_for()
        text = h.plain(popover.inner_text().replace("\u2060", ""))
        if f"Owner: {h.IMAGE}" in text:
            break
        page.keyboard.press("Escape")
        popover.wait_for(state="hidden")
    assert f"Owner: {h.IMAGE}" in text and "measures" in text
    # Dropdown options are plain text in Streamlit: the department as typed, unescaped.
    assert page.get_by_role("combobox", name="Department").input_value() == h.LINK
    assert not popover.locator("a, img, .katex").count()         # no link, image or LaTeX
    assert_nothing_live(page, requested)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile-scorecard-definition.png"))


def test_the_okrs_objective_headings_are_text_not_links(visit):
    page, requested = visit("/okrs", "Key result detail")
    headings = page.locator("[data-testid=stMain] h4")
    texts = [h.plain(t.replace("\u2060", "")) for t in headings.all_inner_texts()]
    assert h.plain(h.LINK) in texts and h.plain(h.IMAGE) in texts
    assert not headings.locator(f"a[href*='{h.HOST}'], img").count()
    assert_nothing_live(page, requested)


@pytest.mark.parametrize("path, text, tab, quoted", [
    ("/metrics", "Make it a KPI", None, h.AT_SUM),
    ("/launch?" + urlencode({"step": "Scenarios"}), "Compare with the actual", None, h.DDE),
    ("/define", "Import and define", "Import history", h.HYPERLINK),
])
def test_a_tables_csv_download_holds_no_formula_cell(visit, path, text, tab, quoted):
    page, _ = visit(path, text)
    if tab:
        page.get_by_role("tab", name=tab).click()
    rows = downloaded_csv(page, page.locator("[data-testid=stDataFrame]:visible").first)
    assert_no_formula_cells(rows)
    assert "'" + quoted in {cell for row in rows for cell in row}


def test_the_definitions_editor_downloads_quoted_text(visit):
    page, _ = visit("/define", "Import and define")
    page.get_by_role("tab", name="Definitions").click()
    page.locator("[data-testid=stMain]").get_by_text("Launches", exact=True).click()
    # The grid draws on a canvas; its accessible header row says which table it is.
    page.locator("th", has_text="Launch date").first.wait_for(state="attached")
    settled(page, "Add rows at the bottom")
    rows = downloaded_csv(page, page.locator("[data-testid=stDataFrame]:visible").last)
    assert_no_formula_cells(rows)
    assert rows[1][0] == "'" + h.LAUNCH


def test_chart_tooltips_show_department_names_as_text(visit):
    # Streamlit's Vega tooltips escape & and < and read no Markdown: the HTML
    # department shows as its characters. Swept with the mouse over the bars.
    page, requested = visit("/", "Needs attention")
    # The pinned KPIs and their sparklines (48 px high) come first: the health chart
    # is the first taller chart, below the fold until scrolled to.
    charts = page.locator("[data-testid=stVegaLiteChart]")
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        if box and box["height"] > 120:
            break
    tooltip = page.locator("#vg-tooltip-element.visible")
    seen = set()
    for across in (0.2, 0.3, 0.4):
        for step in range(1, 30):
            page.mouse.move(box["x"] + box["width"] * across, box["y"] + box["height"] * step / 30)
            page.wait_for_timeout(100)
            if tooltip.count():
                assert not tooltip.locator("img, a").count()
                seen.add(h.plain(tooltip.inner_text()))
    assert any(h.HTML in text for text in seen), seen
    assert any(h.IMAGE in text for text in seen), seen
    assert_nothing_live(page, requested)
