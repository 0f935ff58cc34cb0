"""The board pack: one PDF of every report, for a board meeting.

A cover (the as-of date, the data-through date and the contents), then the
company overview, the scorecard of every department with KPIs, the
objectives and key results, and each launch that has started. Each page is
the same Vega-Lite spec as that page's PNG report (report.report_spec,
launch_report.launch_report_spec), drawn to PDF by vl-convert; pypdf joins
them and adds the title, the dates and one bookmark per page.

Reading and drawing are apart: board_pack_data reads the database in one
short unit of work; board_pack_pdf draws the pages (seconds each) with the
database closed, so an import or another reader never waits for the drawing.

What has no page says why on the cover (a department without KPIs, no
objectives yet, a launch still to come or without data), so a missing page
is never a silent surprise.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

import vl_convert
from pypdf import PdfReader, PdfWriter

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.periods import as_of_or_today
from kpi_logic.launch.analysis import LaunchAnalysis, launch_analysis
from kpi_logic.metrics.explain import card_explanations
from kpi_logic.metrics.okrs import okr_report
from kpi_logic.metrics.overview import every_scorecard, overview
from kpi_logic.output import launch_report, report
from kpi_logic.output.report_blocks import LINE, MUTED, WIDTH, Canvas, header, note
from kpi_logic.store import Store

TITLE = "Lodestar board pack"
COVER_HEIGHT = 480          # the contents' least height: the cover is a landscape page
_ROW = 30                   # one line of the contents


@dataclass
class BoardPackData:
    """What the board pack shows, read from the database: the overview, the scorecards
    of the departments with KPIs, the OKR report (None without objectives), the
    launches that have started, and what is left out (and why) or worth a note."""
    as_of: date
    overview: dict
    scorecards: list[dict] = field(default_factory=list)
    okrs: dict | None = None
    launches: list[LaunchAnalysis] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        """The cover, the overview, the scorecards, the OKRs when any, the launches."""
        return 2 + len(self.scorecards) + (self.okrs is not None) + len(self.launches)


def board_pack_data(store: Store, as_of: date | None = None) -> BoardPackData:
    """Everything the board pack shows as of `as_of` (default today), read once.
    Refuses a database without metric history up to that day (InputError)."""
    as_of = as_of_or_today(as_of)
    company = overview(store, as_of=as_of)
    if company["data_through"] is None:
        raise InputError("there is nothing to put in a board pack yet: the database has no "
                         "metric history up to the as-of date; import your files first")
    data = BoardPackData(as_of, company)
    idle = []
    for card in every_scorecard(store, as_of=as_of):
        if card["kpis"]:
            data.scorecards.append(
                {**card, "explanations": card_explanations(store, card["kpis"], as_of)})
        else:
            idle.append(card["department"])
    if idle:
        data.left_out.append(f"No scorecard for {_listed(idle)}: no KPIs are defined there.")
    okrs = okr_report(store, as_of=as_of)
    if okrs["objectives"]:
        data.okrs = okrs
    else:
        data.left_out.append("No objectives and key results page: no objectives are defined.")
    _read_launches(store, data)
    return data


def _read_launches(store: Store, data: BoardPackData) -> None:
    """Each launch that started by the as-of date and has data to show, by launch date."""
    launches = sorted(store.definitions.launches(),
                      key=lambda one: (one.launch_date or date.max, one.launch))
    for launch in launches:
        if launch.launch_date is None:
            data.left_out.append(f"No page for the launch {launch.launch}: it has no launch date.")
            continue
        if launch.launch_date > data.as_of:
            data.left_out.append(f"No page for the launch {launch.launch}: it starts on "
                                 f"{fmt.human_date(launch.launch_date)}, after the as-of date.")
            continue
        try:
            found = launch_analysis(store, launch.launch)
        except InputError as refusal:
            # The reason, not what to import: that is for the launch page and the CLI.
            reason = refusal.message.split(": ", 1)[0].rstrip(".")
            data.left_out.append(f"No page for the launch {launch.launch}: "
                                 f"{reason[:1].lower() + reason[1:]}.")
            continue
        data.launches.append(found)
        through = max(found.since["obs_date"])
        if through > data.as_of:
            data.notes.append(f"The page of the launch {launch.launch} counts its data through "
                              f"{fmt.human_date(through)}, past the as-of date.")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def pages(data: BoardPackData) -> list[tuple[str, dict]]:
    """(title, Vega-Lite spec) of each page after the cover, in the pack's order. Each
    title is the one its report's header shows (the reports' default titles)."""
    out = [("Company overview", report.report_spec("overview", data.overview))]
    out += [(f"{card['department']} scorecard", report.report_spec("scorecard", card))
            for card in data.scorecards]
    if data.okrs is not None:
        out.append(("Objectives and key results", report.report_spec("okrs", data.okrs)))
    out += [(f"{found.launch.launch}: marketing launch",
             launch_report.launch_report_spec(found)) for found in data.launches]
    return out


def cover_spec(data: BoardPackData, titles: list[str], made: datetime) -> dict:
    """The cover as a Vega-Lite spec drawn with the reports' blocks: the title, the
    dates, the contents (page number and title), then what is left out and why."""
    facts = [("As of", fmt.human_date(data.as_of)),
             ("Data through", fmt.human_date(data.overview.get("data_through"))),
             ("Made", f"{fmt.human_date(made.date())}, {made:%H:%M}")]
    remarks = ([("Not in this pack", "bold")] if data.left_out else []) \
        + [(f"•  {text}", "normal") for text in data.left_out] \
        + [(f"Note: {text}", "normal") for text in data.notes]
    canvas = Canvas(max(COVER_HEIGHT, 60 + _ROW * (len(titles) + len(remarks)) + 30))
    canvas.text(0, 26, "Contents", size=19, weight="bold")
    canvas.rect(0, 34, WIDTH, 1, LINE)
    y = 36
    for number, title in enumerate(titles, start=2):
        y += _ROW
        canvas.text(0, y, f"Page {number}", size=15, colour=MUTED)
        canvas.text(90, y, title, size=16, weight="bold", limit=WIDTH - 90)
    y += 20
    for text, weight in remarks:
        y += _ROW
        canvas.text(0, y, text, size=14, colour=MUTED, weight=weight, limit=WIDTH)
    return report.parts_spec([
        header(TITLE, facts), canvas.spec(),
        note("Each page is the dashboard's report of that page as of the same day. Statuses are "
             "written as icons and words as well as colours.")])


def board_pack_pdf(data: BoardPackData, made: datetime | None = None) -> bytes:
    """The board pack as PDF bytes: the cover, then one page per report, each with a
    bookmark; the document's title names the as-of date and its creation date is
    `made` (default now). Reads no database."""
    made = made or datetime.now().astimezone()
    drawn = pages(data)
    specs = [("Contents", cover_spec(data, [title for title, _ in drawn], made))] + drawn
    writer = PdfWriter()
    for number, (title, spec) in enumerate(specs):
        [page] = PdfReader(io.BytesIO(vl_convert.vegalite_to_pdf(spec))).pages
        writer.add_page(page)
        writer.add_outline_item(title=title, page_number=number)
    writer.add_metadata({
        "/Title": f"{TITLE}, as of {fmt.human_date(data.as_of)}",
        "/Subject": "Company overview, scorecards, objectives and key results, launches",
        "/Creator": "Lodestar",
        "/CreationDate": pdf_date(made),
        "/ModDate": pdf_date(made),
    })
    writer.page_mode = "/UseOutlines"        # a reader opens with the bookmarks shown
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_date(when: datetime) -> str:
    """A PDF date, D:YYYYMMDDHHmmSS with the UTC offset as +HH'mm' when `when` has one."""
    text = f"D:{when:%Y%m%d%H%M%S}"
    offset = when.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    return text + f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def board_pack(store: Store, as_of: date | None = None, made: datetime | None = None) -> bytes:
    """The board pack of `store` as of `as_of` (default today) as PDF bytes."""
    return board_pack_pdf(board_pack_data(store, as_of), made)
