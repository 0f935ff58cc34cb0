"""End-to-end in a real headless Chromium against `streamlit run app.py`:
a shared scorecard link (also in a new browser), a CSV upload through the
Import and define page, the PNG report, a table's XLSX and the board pack
downloads, and a full-page screenshot of every page in tests/artifacts/ to look at."""
from __future__ import annotations

import io
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from python_calamine import CalamineWorkbook

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.periods import period_label, previous_period
from kpi_logic.metrics import kpis
from kpi_logic.store import open_store
from tests.conftest import FIXTURES
from tests.e2e_support import CHROMIUM, ROOT, StreamlitServer, load_demo, png_size, running_chromium

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(.ci/run installs it: apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "tests" / "artifacts"
UPLOAD = FIXTURES / "e2e" / "webinar_signups.csv"
WAIT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
AS_OF = date.today() - timedelta(days=3)
MONTH = period_label(previous_period(previous_period(AS_OF, "month"), "month"), "month")
SHARED = "/scorecard?" + urlencode({"department": "Marketing", "period": MONTH,
                                    "as_of": AS_OF.isoformat()})


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "lodestar.duckdb"
    load_demo(path)
    return path


@pytest.fixture(scope="module")
def expected_card(demo_db) -> dict:
    """The engine's Marketing scorecard for the shared link, computed before the server starts."""
    with open_store(demo_db, read_only=True) as store:
        return kpis.scorecard(store, "Marketing", period=MONTH, as_of=AS_OF)


@pytest.fixture(scope="module")
def server(demo_db, expected_card, tmp_path_factory):
    app = StreamlitServer(demo_db, tmp_path_factory.mktemp("e2e-log") / "streamlit.log")
    try:
        yield app.start()
    finally:
        app.stop()


@pytest.fixture(scope="module")
def browser():
    with running_chromium() as chromium:
        yield chromium


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context (no cookies, no session): a new reader."""
    contexts = []

    def opened(url: str):
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        return page
    yield opened
    for context in contexts:
        context.close()


def settled(page, text: str) -> None:
    """Waits for `text`, then for the script run to finish and lazy elements to draw."""
    page.get_by_text(text, exact=False).first.wait_for()
    page.wait_for_function(
        "!document.querySelector('[data-testid=stSkeleton]')"
        " && !document.querySelector('[data-testid^=stStatusWidgetRunning]')")


def metric_cards(page) -> list[tuple[str, str]]:
    """(title, value) of each st.metric on the page, status icon dropped from the title."""
    cards = []
    for metric in page.locator("[data-testid=stMetric]").all():
        label = metric.locator("[data-testid=stMetricLabel]").inner_text().strip()
        value = metric.locator("[data-testid=stMetricValue]").inner_text().strip()
        cards.append((label.split(" ", 1)[1] if " " in label else label, value))
    return cards


def shared_scorecard(new_page, server, count: int):
    page = new_page(server.url + SHARED)
    settled(page, "Trend against target")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=stMetric]').length == {count}")
    return page


def screenshot(page, name: str, viewport: dict = VIEWPORT) -> None:
    """The whole page in tests/artifacts/NAME.png, `viewport` wide. Streamlit scrolls
    inside its main block, so the window is made as tall as the content first."""
    height = page.evaluate("Math.max(...[...document.querySelectorAll("
                           "'[data-testid=stMain], [data-testid=stSidebarContent]')]"
                           ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": viewport["width"], "height": min(max(height, 900), 8000)})
    page.wait_for_timeout(500)      # let charts re-lay out to the new size (a picture, not a check)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(viewport)


def import_on_define(page, path: Path) -> None:
    """Uploads `path` on the open Import and define page, checks it and imports it;
    returns once the page says what was imported."""
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    page.get_by_role("button", name="Check files").click()
    page.get_by_text("What would be imported").wait_for()
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Imported ", exact=False).first.wait_for()


# ---------------------------------------------------------------- tests

def test_a_shared_scorecard_link_shows_that_department_and_period(server, new_page, expected_card):
    expected = [(k["title"], fmt.format_value(k["value"], k["unit"])) for k in expected_card["kpis"]]
    assert len(expected) >= 3
    page = shared_scorecard(new_page, server, len(expected))
    screenshot(page, "scorecard")
    assert metric_cards(page) == expected
    caption = f"Marketing · {fmt.human_period(expected_card['period'])}"
    assert page.get_by_text(caption, exact=False).count() >= 1
    # the view stays in the address bar, ready to be copied on
    assert "department=Marketing" in page.url and f"period={MONTH}" in page.url

    # the same link in a new browser (no session) shows the same view
    again = shared_scorecard(new_page, server, len(expected))
    assert metric_cards(again) == expected


def test_the_scorecard_png_report_downloads(server, new_page, expected_card):
    page = shared_scorecard(new_page, server, len(expected_card["kpis"]))
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download PNG report")).click()
    data = Path(download.value.path()).read_bytes()
    width, height = png_size(data)          # refuses anything that is not a PNG
    assert len(data) > 20_000
    assert width >= 800 and height >= 400
    assert download.value.suggested_filename.endswith(".png")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scorecard-report.png").write_bytes(data)


def test_the_scorecards_plain_metrics_download_as_a_workbook_of_numbers(
        server, new_page, expected_card):
    page = shared_scorecard(new_page, server, len(expected_card["kpis"]))
    with page.expect_download() as download:
        # the last table's: "Why it moved" has its own downloads above the plain metrics
        page.get_by_role("button", name=re.compile("XLSX")).last.click()
    assert download.value.suggested_filename == (
        f"scorecard-marketing-plain-metrics-{AS_OF.isoformat()}.xlsx")
    data = Path(download.value.path()).read_bytes()
    header, *rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    table = [dict(zip(header, row, strict=True)) for row in rows]
    metrics = expected_card["metrics"]
    assert [r["Name"] for r in table] == [m["metric"] for m in metrics]
    assert [r["Value"] for r in table] == pytest.approx([m["value"] for m in metrics], rel=1e-14)
    assert all(isinstance(r["Value"], float) for r in table)      # numbers, not "38.5k"
    assert [r["Data through"] for r in table] == [date.fromisoformat(m["data_through"])
                                                  for m in metrics]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scorecard-plain-metrics.xlsx").write_bytes(data)


def test_the_board_pack_pdf_downloads_from_the_overview(server, new_page):
    """Drawn when clicked, in a thread of Streamlit's own outside the script run."""
    from pypdf import PdfReader
    page = new_page(server.url + "/?" + urlencode({"as_of": AS_OF.isoformat()}))
    settled(page, "KPI health by department")
    screenshot(page, "overview")
    with page.expect_download(timeout=240_000) as download:     # a few seconds a page
        page.get_by_role("button", name=re.compile("Download board pack")).click()
    assert download.value.suggested_filename == f"lodestar-board-pack-{AS_OF.isoformat()}.pdf"
    reader = PdfReader(download.value.path())
    cover = reader.pages[0].extract_text()
    assert cover.startswith("Lodestar board pack") and fmt.human_date(AS_OF) in cover
    assert [p.extract_text().splitlines()[0] for p in reader.pages[1:3]] == [
        "Company overview", "Customer service scorecard"]
    assert len(reader.pages) == 10      # cover, overview, 6 departments, OKRs, the launch
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "board-pack.pdf").write_bytes(Path(download.value.path()).read_bytes())


def test_a_csv_uploaded_on_import_and_define_is_imported(server, new_page, demo_db):
    page = new_page(server.url + "/define")
    settled(page, "Import and define")
    import_on_define(page, UPLOAD)
    page.get_by_text("Imported 1 table(s): 6 value(s)", exact=False).wait_for()
    screenshot(page, "define-after-import")
    with open_store(demo_db, read_only=True) as store:
        rows = store.connection.execute("select obs_date, value from observations where metric = ? "
                           "and superseded_by is null order by obs_date", ["webinar_signups"]).fetchall()
    assert [(d.isoformat(), v) for d, v in rows] == [
        ("2026-05-01", 120), ("2026-06-01", 135), ("2026-07-01", 98),
        ("2026-08-01", 143), ("2026-09-01", 160), ("2026-10-01", 171)]


@pytest.mark.parametrize("name, path, text", [
    ("overview", "/?as_of=" + AS_OF.isoformat(), "Needs attention"),
    ("okrs", "/okrs?as_of=" + AS_OF.isoformat(), "Key result detail"),
    ("metrics", "/metrics", "Metrics catalogue"),
    ("explorer", "/explorer?metric=spend&split=1&grain=week", "Spend by channel, per week"),
    ("launch", "/launch", "Marketing launch"),
    ("define", "/define", "Import and define"),
])
def test_every_page_renders_in_the_browser(server, new_page, name, path, text):
    page = new_page(server.url + path)
    settled(page, text)
    screenshot(page, name)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in page.content()


def test_the_first_visit_after_a_restart_through_a_shared_link_gets_the_apps_navigation(
        demo_db, tmp_path, new_page):
    fresh = tmp_path / "fresh.duckdb"
    shutil.copy(demo_db, fresh)
    app = StreamlitServer(fresh, tmp_path / "streamlit.log")
    try:
        page = new_page(app.start().url + "/okrs?department=Sales")
        settled(page, "Objectives and key results")
        sidebar = page.locator("[data-testid=stSidebar]").inner_text()
        screenshot(page, "first-visit-okrs")
        assert "Department scorecard" in sidebar
        assert "Open mode" in sidebar
    finally:
        app.stop()


def test_viewer_mode_signs_in_to_reach_import_and_define(demo_db, tmp_path, new_page):
    viewer = tmp_path / "viewer.duckdb"
    shutil.copy(demo_db, viewer)
    app = StreamlitServer(viewer, tmp_path / "streamlit.log",
                          env={"LODESTAR_EDITOR_PASSWORD": "correct horse"})
    try:
        page = new_page(app.start().url + "/")
        settled(page, "Needs attention")
        nav = page.locator("[data-testid=stSidebarNav]")
        sidebar = page.locator("[data-testid=stSidebar]")
        assert "Viewer mode" in sidebar.inner_text()
        assert "Import and define" not in nav.inner_text()
        screenshot(page, "viewer-mode")

        page.get_by_role("button", name=re.compile("Editor sign-in")).click()
        page.get_by_label("Editor password").fill("wrong")
        page.get_by_role("button", name="Unlock editing").click()
        page.get_by_text("That password is not right.").wait_for()
        page.get_by_label("Editor password").fill("correct horse")
        page.get_by_role("button", name="Unlock editing").click()
        nav.get_by_text("Import and define").wait_for()
        assert "Editor mode" in sidebar.inner_text()
    finally:
        app.stop()
