"""The board pack (`report --pdf`, the overview's download): real PDF bytes read
back with pypdf, on both backends. vl-convert writes text as text, so each
page's words can be read: the cover names its dates and contents, each page
the report it is, and a page is the PNG report's own spec drawn to PDF."""
from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import vl_convert
from pypdf import PdfReader

from kpi_logic.domain import formatting as fmt
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics.explain import explained_scorecard
from kpi_logic.metrics.overview import every_scorecard, overview
from kpi_logic.output import board_pack, report
from kpi_logic.store import open_store
from tests.conftest import load_demo
from tests.test_cli import CLI, Done, run

AS_OF = date.today() - timedelta(days=3)


@dataclass
class Made:
    """A board pack `report --pdf` wrote, and what the engine says it must hold."""
    db: object
    path: Path
    done: Done
    departments: list[str]          # with KPIs, in the pack's order
    launches: list[str]             # started by AS_OF


_MADE: dict[str, Made] = {}         # one demo pack per backend and test process (seconds each)


@pytest.fixture
def demo_pack(databases, tmp_path_factory) -> Made:
    """The demo company's board pack as of AS_OF, written by the command line."""
    if databases.backend not in _MADE:
        db = databases.shared("demo", load_demo)
        out = tmp_path_factory.mktemp("board-pack") / "board-pack.pdf"
        done = run(db, "report", "--pdf", out, "--as-of", AS_OF.isoformat())
        with open_store(db, read_only=True) as store:
            departments = [c["department"] for c in every_scorecard(store, as_of=AS_OF)
                           if c["kpis"]]
            launches = [one.launch for one in store.definitions.launches()
                        if one.launch_date <= AS_OF]
        _MADE[databases.backend] = Made(db, out, done, departments, launches)
    return _MADE[databases.backend]


def texts(pdf: bytes | Path) -> list[str]:
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def expected_titles(made: Made) -> list[str]:
    return (["Company overview"] + [f"{d} scorecard" for d in made.departments]
            + ["Objectives and key results"]
            + [f"{name}: marketing launch" for name in made.launches])


# ---- the demo company's pack ------------------------------------------------

def test_report_pdf_writes_one_page_per_report_after_a_cover(demo_pack):
    assert demo_pack.done.returncode == 0, demo_pack.done.stderr
    data = demo_pack.path.read_bytes()
    assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF")
    pages = PdfReader(io.BytesIO(data)).pages
    # cover + overview + each department with KPIs + the OKRs + each launch
    assert len(pages) == 1 + 1 + len(demo_pack.departments) + 1 + len(demo_pack.launches)
    assert len(demo_pack.departments) == 6 and demo_pack.launches == ["Pathfinder launch"]
    assert f"({len(pages)} pages, " in demo_pack.done.stdout
    assert demo_pack.done.stdout.startswith(f"Wrote {demo_pack.path} ")
    for page in pages:      # every page is a report's width, none empty or a sliver
        assert 1150 <= float(page.mediabox.width) <= 1300
        assert 450 <= float(page.mediabox.height) <= 4000


def test_each_page_names_what_it_shows_in_the_contents_order(demo_pack):
    cover, *rest = texts(demo_pack.path)
    assert cover.startswith("Lodestar board pack")
    assert f"As of: {fmt.human_date(AS_OF)}" in cover and "Data through: " in cover
    titles = expected_titles(demo_pack)
    # the contents: the titles in page order, then their page numbers (pypdf reads
    # the cover's text a column at a time)
    lines = cover.splitlines()
    start = lines.index("Contents") + 1
    assert lines[start:start + len(titles)] == titles
    assert lines[start + len(titles):start + 2 * len(titles)] == \
        [f"Page {n}" for n in range(2, len(titles) + 2)]
    # the launch page counts the data past AS_OF: the cover says so
    assert "Note: The page of the launch Pathfinder launch counts its data through" in cover
    assert [page.splitlines()[0] for page in rest] == titles
    for department, page in zip(demo_pack.departments, rest[1:], strict=False):
        assert f"Department: {department} · Period: " in page
        assert f"As of: {fmt.human_date(AS_OF)}" in page
    assert "KPI health by department" in rest[0] and "Alerts" in rest[0]
    assert "Launch date: " in rest[-1] and "Channels since the launch" in rest[-1]


def test_the_pdf_has_a_title_a_date_and_a_bookmark_per_page(demo_pack):
    reader = PdfReader(demo_pack.path)
    assert reader.metadata.title == f"Lodestar board pack, as of {fmt.human_date(AS_OF)}"
    assert re.fullmatch(r"D:\d{14}([+-]\d\d'\d\d')?", reader.metadata["/CreationDate"])
    assert reader.metadata.creation_date.date() >= date.today() - timedelta(days=1)
    assert [item.title for item in reader.outline] == ["Contents"] + expected_titles(demo_pack)
    assert [reader.get_destination_page_number(item) for item in reader.outline] == \
        list(range(len(reader.pages)))


def test_a_page_is_its_png_reports_spec_drawn_to_pdf(demo_pack):
    """The overview and a scorecard page (with why each KPI moved, as the CLI's PNG)
    are the specs render_report rasterises."""
    with open_store(demo_pack.db, read_only=True) as store:
        company = overview(store, as_of=AS_OF)
        first = every_scorecard(store, as_of=AS_OF)[0]
        card = explained_scorecard(store, first["department"], as_of=AS_OF)
    pages = PdfReader(demo_pack.path).pages
    for number, spec in ((1, report.report_spec("overview", company)),
                         (2, report.report_spec("scorecard", card))):
        [alone] = PdfReader(io.BytesIO(vl_convert.vegalite_to_pdf(spec))).pages
        assert pages[number].mediabox == alone.mediabox
        assert pages[number].extract_text() == alone.extract_text()


# ---- refusals -----------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("--as-of", "2026-13-01"), "--as-of '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    (("--as-of", "9999-12-31"), "outside the dates Lodestar works with"),
    (("--department", "Sales"), "--department is for one PNG page (--page)"),
    (("--out", "x.png"), "--out is for one PNG page (--page)"),
])
def test_a_bad_argument_is_refused_in_one_line(demo_pack, tmp_path, args, message):
    out = tmp_path / "pack.pdf"
    done = run(demo_pack.db, "report", "--pdf", out, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Refused: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("where, message", [
    ("missing/pack.pdf", "No such file or directory"),
    (".", "it is a folder"),
])
def test_an_unwritable_file_is_refused_before_any_drawing(demo_pack, tmp_path, where, message):
    done = run(demo_pack.db, "report", "--pdf", tmp_path / where)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not (tmp_path / "missing").exists()


def test_page_and_pdf_are_one_choice(demo_pack, tmp_path):
    both = run(demo_pack.db, "report", "--page", "overview", "--pdf", tmp_path / "x.pdf")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    neither = run(demo_pack.db, "report", "--out", tmp_path / "x.png")
    assert neither.returncode == 2 and "one of the arguments --page --pdf is required" in neither.stderr
    no_out = run(demo_pack.db, "report", "--page", "overview")
    assert no_out.returncode == 2 and "--page needs --out FILE.png" in no_out.stderr


def test_a_database_without_history_is_refused(database, tmp_path):
    assert run(database, "import", CLI / "metrics.csv").returncode == 0
    done = run(database, "report", "--pdf", tmp_path / "pack.pdf")
    assert done.returncode == 2
    assert "nothing to put in a board pack yet" in done.stderr
    assert not (tmp_path / "pack.pdf").exists()


# ---- what has no page ---------------------------------------------------------

SMALL_AS_OF = date(2025, 4, 15)
FINANCE = (b"metric,department,unit\nrevenue,Finance,currency\n", "finance_metrics.csv")
FINANCE_HISTORY = (b"date,revenue\n2025-03-05,100\n2025-03-20,120\n", "finance_history.csv")
LAUNCHES = (b"launch,launch_date\nSpring,2025-03-01\nAutumn,2025-10-01\n", "launches.csv")


def small_company(location) -> None:
    """Marketing with KPIs; Finance with a metric and no KPI; no objectives; a launch
    with one day of data and one still to come."""
    with open_store(location) as store:
        import_files(store, [((CLI / n).read_bytes(), n)
                             for n in ("metrics.csv", "history.csv", "kpis.csv")]
                     + [FINANCE, FINANCE_HISTORY, LAUNCHES])


@pytest.fixture
def small(databases):
    return databases.shared("board-pack-small", small_company)


def test_what_has_no_page_is_named_on_the_cover(small):
    with open_store(small, read_only=True) as store:
        data = board_pack.board_pack_data(store, SMALL_AS_OF)
    assert [c["department"] for c in data.scorecards] == ["Marketing"]
    assert data.okrs is None and data.launches == []
    assert data.left_out == [
        "No scorecard for Finance: no KPIs are defined there.",
        "No objectives and key results page: no objectives are defined.",
        "No page for the launch Spring: launch 'Spring' has a single day of data since its "
        "launch (2025-03-05).",
        "No page for the launch Autumn: it starts on 1 Oct 2025, after the as-of date."]
    pdf = board_pack.board_pack_pdf(data)
    cover, *rest = texts(pdf)
    assert len(rest) + 1 == data.page_count == 3
    assert [page.splitlines()[0] for page in rest] == ["Company overview", "Marketing scorecard"]
    flat = " ".join(cover.split())
    assert "Not in this pack" in flat
    for line in data.left_out:
        assert f"• {line}" in flat


def test_the_dashboards_board_pack_is_made_when_asked_and_kept(small, use_database):
    """The overview's download calls data.board_pack's callable in a thread of
    Streamlit's own, outside any script run: there it reads, draws and caches."""
    from ui import data
    use_database(small)
    make = data.board_pack(SMALL_AS_OF)         # cheap: nothing drawn yet
    made = []
    worker = threading.Thread(target=lambda: made.append(make()))
    worker.start()
    worker.join(timeout=120)
    [pdf] = made
    assert texts(pdf)[0].startswith("Lodestar board pack")
    assert f"As of: {fmt.human_date(SMALL_AS_OF)}" in texts(pdf)[0]
    assert make() == pdf        # the same bytes (made at the same minute): from the cache
