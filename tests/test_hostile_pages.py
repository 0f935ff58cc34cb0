"""Every page on a database whose text is hostile (tests/hostile.py): each
payload shows as literal text, never as a link, an image, bold, colour,
LaTeX or HTML, and no table carries a cell a spreadsheet would run."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.store import open_store
from tests import hostile as h
from tests.conftest import load_demo

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
# Proto fields Streamlit renders as Markdown: alert, heading, caption and
# markdown bodies, every label (widgets, metrics, expanders, tabs, popovers,
# page links) and every help tooltip. Selectbox options are plain text.
MARKDOWN_FIELDS = {"body", "label", "help"}


def with_hostile_demo(location) -> None:
    load_demo(location)
    with open_store(location) as store:
        h.make_hostile(store)


@pytest.fixture
def hostile_db(databases, use_database):
    """The demo company with hostile text in every name, on either backend, a copy per test."""
    return use_database(databases.copy_of("hostile-demo", with_hostile_demo))


def opened(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------ what a page sent

def nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def proto_strings(message, names=MARKDOWN_FIELDS):
    for field, value in message.ListFields():
        values = value if isinstance(value, (list, tuple)) or hasattr(value, "append") else [value]
        for item in values:
            if field.type == field.TYPE_MESSAGE:
                yield from proto_strings(item, names)
            elif field.type == field.TYPE_STRING and field.name in names:
                yield item


def markdown_of(at: AppTest) -> list[str]:
    """Every string of the page that Streamlit reads as Markdown."""
    return [s for node in nodes(at._tree) if getattr(node, "proto", None) is not None
            for s in proto_strings(node.proto)]


def without_code_spans(markdown: str) -> str:
    # ui.text.md_code puts data in code spans, which Markdown shows literally.
    return re.sub(r"(?<!\\)(`+)(.+?)(?<!`)\1(?!`)", "", markdown)


def tables_of(at: AppTest) -> list:
    """(frame, column labels) of every st.dataframe and st.data_editor."""
    out = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        labels = [c.get("label") for c in config.values() if isinstance(c, dict)]
        out.append((frame.value, labels))
    return out


def assert_text_only(at: AppTest) -> list[str]:
    """No hostile payload stands unescaped in any Markdown of the page and no
    table cell, column name or column label would run in a spreadsheet;
    returns the page's Markdown as it reads."""
    markdown = markdown_of(at)
    for text in markdown:
        active = h.unescaped(without_code_spans(text))
        assert not active, f"{active} unescaped in {text!r}"
    for frame, labels in tables_of(at):
        cells = [c for column in frame.columns for c in frame[column].tolist()]
        for cell in [*cells, *frame.columns, *labels]:
            assert not h.runs_as_formula(cell), f"{cell!r} would run in a spreadsheet"
    return [h.shown(text) for text in markdown]


def shows(readable: list[str], payload: str) -> bool:
    return any(h.plain(payload) in text for text in readable)


def quoted_cells(at: AppTest) -> set[str]:
    return {c for frame, _ in tables_of(at) for column in frame.columns
            for c in frame[column].tolist() if isinstance(c, str) and c.startswith("'")}


# ------------------------------------------------------------------ the pages

def test_overview_shows_departments_and_alerts_as_text(hostile_db):
    at = opened("app.py")
    readable = assert_text_only(at)
    for department in h.DEPARTMENTS.values():       # the page links, one per department
        assert shows(readable, department), department
    assert any(h.plain(h.HYPERLINK) in text for text in readable)   # alerts name KPIs


@pytest.mark.parametrize("department", [h.IMAGE, h.LINK, h.DDE])
def test_scorecard_cards_and_definitions_are_text(hostile_db, department):
    at = opened("views/scorecard.py", department=department)
    readable = assert_text_only(at)
    assert shows(readable, department)
    with open_store(hostile_db, read_only=True) as store:
        kpis = store.connection.execute("select title, owner from kpis where superseded_by is null "
                           "and department = ?", [department]).fetchall()
    cards = [h.shown(m.label).split(" ", 1)[1] for m in at.metric]
    assert sorted(cards) == sorted(h.plain(title) for title, _ in kpis)
    # The Definition popovers: each owner, escaped.
    assert all(shows(readable, f"Owner: {owner}") for _, owner in kpis if owner)


def test_scorecard_plain_metrics_table_quotes_formula_names(hostile_db):
    at = opened("views/scorecard.py", department=h.HTML)     # HR: "hires" is now "+1+1"
    assert_text_only(at)
    assert "'" + h.PLUS in quoted_cells(at)


def test_okrs_objectives_and_key_results_are_text(hostile_db):
    at = opened("views/okrs.py")
    readable = assert_text_only(at)
    headings = [text for text in readable if text.startswith("####")]
    for objective in (h.LINK, h.IMAGE, h.COLOUR, h.LATEX, h.HTML):
        assert any(h.plain(objective) in text for text in headings), objective
    assert "'" + h.HYPERLINK in quoted_cells(at)            # a key result title, quoted


def test_metrics_catalogue_quotes_formula_cells(hostile_db):
    at = opened("views/metrics.py")
    assert_text_only(at)
    quoted = quoted_cells(at)
    for name in (h.HYPERLINK, h.AT_SUM, h.PLUS, h.DDE, h.CR):
        assert "'" + name in quoted, name
    catalogue = at.dataframe[0].value
    assert h.IMAGE in catalogue["Metric"].tolist()          # a table cell is text already


def test_explorer_shows_metric_and_channel_names_as_text(hostile_db):
    at = opened("views/explorer.py", metric="spend", split="1")
    readable = assert_text_only(at)
    labels = {label for _, labels in tables_of(at) for label in labels}
    for channel in h.CHANNELS.values():            # a column each, quoted where it would run
        assert channel in labels or "'" + channel in labels, channel
    assert shows(readable, "Spend by channel, per month")
    # A metric named like a formula: its title and the command line shown as text.
    at = opened("views/explorer.py", metric=h.METRICS["calls_made"])
    readable = assert_text_only(at)
    assert any(h.plain(h.HYPERLINK) in text for text in readable)


@pytest.mark.parametrize("step", ["Measure", "Analyse", "Adjust", "Improve", "Scenarios"])
def test_launch_steps_show_channels_and_scenarios_as_text(hostile_db, step):
    at = opened("views/launch.py", step=step, compare=",".join(h.SCENARIOS[:2]))
    readable = assert_text_only(at)
    if step == "Analyse":
        assert shows(readable, h.LINK)          # display: the channel above the CAC target
        assert "'" + h.AT_SUM in quoted_cells(at)
    if step == "Adjust":
        assert shows([h.shown(s.label) for s in at.slider], h.COLOUR)
    if step == "Scenarios":
        assert {"'" + h.DDE, "'" + h.PLUS} <= quoted_cells(at)


def test_define_tables_quote_file_names_and_the_editor_saves_nothing_unchanged(hostile_db):
    at = opened("views/define.py")
    assert_text_only(at)
    assert "'" + h.HYPERLINK in quoted_cells(at)             # a batch's file name
    # Launches: the name (=HYPERLINK...) and department (@SUM...) show quoted in
    # the editor, and saving the untouched table changes nothing.
    at.segmented_control(key="define_kind").set_value("launches").run()
    assert_text_only(at)
    editor = next(f for f in at.dataframe if "launch" in f.value.columns).value
    assert editor["launch"].tolist() == ["'" + h.LAUNCH]
    assert editor["department"].tolist() == ["'" + h.DEPARTMENTS["Marketing"]]
    at.button(key="define_save_launches").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Nothing changed" in i.value for i in at.info)
