"""Every page on a 390 px phone and a 1440 px laptop in a real Chromium: nothing
wider than the screen (a table may scroll inside its own box), and every chart
drawn inside its column, neither wider than it nor squeezed to nothing.

One server and one browser for all cases; each case opens its page fresh.
"""
from __future__ import annotations

import pytest

from tests.e2e_support import CHROMIUM, StreamlitServer, load_demo, running_chromium

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(.ci/run installs it: apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")

WAIT_MS = 90_000
PAGES = {"overview": "/", "scorecard": "/scorecard?department=Marketing", "okrs": "/okrs",
         "metrics": "/metrics", "explorer": "/explorer?metric=spend&split=1&grain=week",
         "launch": "/launch", "define": "/define"}
WIDTHS = (390, 1440)

# Elements whose right edge passes the screen, unless an ancestor that scrolls or
# clips sideways holds them and itself ends inside the screen (a table's grid).
OVERFLOWING = """() => {
  const width = window.innerWidth, found = [];
  const clipped = (element) => {
    for (let up = element.parentElement; up; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(overflow))
        return up.getBoundingClientRect().right <= width + 1;
    }
    return false;
  };
  for (const element of document.querySelectorAll('[data-testid=stMain] *')) {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (!box.width || style.visibility === 'hidden' || style.display === 'none') continue;
    if (box.right > width + 1 && !clipped(element)) {
      const name = element.getAttribute('data-testid') || element.tagName.toLowerCase();
      found.push(`${name} ends at ${Math.round(box.right)}: ` +
                 (element.innerText || element.textContent || '').trim().slice(0, 40));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, found: found.slice(0, 10)};
}"""

# Each Vega chart's drawing (svg or canvas) against the box Streamlit gives it,
# the extent of its marks (bars, text, points) and its widest bar.
CHARTS = """() => [...document.querySelectorAll('[data-testid=stMain] .vega-embed')].map(embed => {
  const drawing = embed.querySelector('svg.marks, canvas');
  const column = embed.closest('[data-testid=stElementContainer]') || embed.parentElement;
  const box = drawing ? drawing.getBoundingClientRect() : {left: 0, right: 0, width: 0};
  const marks = [...embed.querySelectorAll('svg .role-mark > *')]
    .map(m => m.getBoundingClientRect()).filter(r => r.width > 0 || r.height > 0);
  const bars = [...embed.querySelectorAll('svg .mark-rect path')]
    .map(m => m.getBoundingClientRect().width);
  return {drawn: box.width, column: column.getBoundingClientRect().width,
          left: box.left, right: box.right,
          marksLeft: Math.min(...marks.map(r => r.left)),
          marksRight: Math.max(...marks.map(r => r.right)),
          widestBar: Math.max(0, ...bars),
          text: (embed.innerText || '').trim().slice(0, 40)};
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-layout")
    load_demo(folder / "lodestar.duckdb")
    app = StreamlitServer(folder / "lodestar.duckdb", folder / "streamlit.log")
    try:
        yield app.start()
    finally:
        app.stop()


@pytest.fixture(scope="module")
def browser():
    with running_chromium() as chromium:
        yield chromium


def opened(browser, server, path: str, width: int):
    """The page at `width` once its script run ended and its charts were drawn."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.url + path)
    page.locator("[data-testid=stMain] h1").first.wait_for()
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
    page.wait_for_function("!document.querySelector('[data-testid=stSkeleton]')")
    page.wait_for_timeout(1500)         # charts and grids lay themselves out after the run
    return context, page


CASES = [pytest.param(name, width, id=f"{name}-{width}") for name in PAGES for width in WIDTHS]


@pytest.mark.parametrize("name, width", CASES)
def test_nothing_on_the_page_is_wider_than_the_screen(browser, server, name, width):
    context, page = opened(browser, server, PAGES[name], width)
    try:
        assert page.locator("[data-testid=stException]").count() == 0
        layout = page.evaluate(OVERFLOWING)
        assert layout["scroll"] <= layout["width"], layout
        assert layout["found"] == [], layout["found"]
        charts = page.evaluate(CHARTS)
        for chart in charts:
            assert 0 < chart["drawn"] <= chart["column"] + 1, chart
            assert chart["left"] - 2 <= chart["marksLeft"], chart
            assert chart["marksRight"] <= chart["right"] + 2, chart
    finally:
        context.close()


def test_the_okrs_page_draws_its_bars_and_goal_tiles_compactly_on_a_phone(browser, server):
    """The objective bars were squeezed to nothing at 390 px and the four goal
    tiles stood one under another: now the bars span the column and the tiles
    sit two by two."""
    context, page = opened(browser, server, PAGES["okrs"], 390)
    try:
        charts = page.evaluate(CHARTS)
        assert len(charts) >= 3 and all(c["drawn"] >= 0.9 * c["column"] for c in charts)
        # the objectives' and the first objective's key results' bars: a track
        # across the column, and each progress bar drawn
        for chart in charts[:2]:
            assert chart["widestBar"] >= 0.8 * chart["drawn"], chart
        tops = page.evaluate("""() => [...document.querySelectorAll(
            '.st-key-okrs_goal_rates [data-testid=stMetric]')].map(
            m => Math.round(m.getBoundingClientRect().top))""")
        assert len(tops) == 4 and len(set(tops)) == 2, tops
    finally:
        context.close()
