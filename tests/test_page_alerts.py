"""AppTest of the overview's "Needs attention": the same list as `alerts` and the
digest (overview.alert_list), each sentence saying since when it holds, on the hand-made
history of tests/test_alerts.py; text from data shown as text."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from kpi_logic.domain.model import KPI
from kpi_logic.metrics.overview import alert_list
from kpi_logic.store import open_store
from tests.readable import shown
from tests.test_alert_commands import fill
from tests.test_alerts import add_definitions, changing_company

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOSTILE = "[Leads](http://example.com/x) **now** <b>"


def fill_hostile(location) -> None:
    """The hand-made history with a second KPI on leads whose title is Markdown and HTML."""
    with open_store(location) as store:
        changing_company(store)
        add_definitions(store, "kpis", [KPI(HOSTILE, "leads", 100, "min", department="Sales")])


def overview_at(as_of: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["as_of"] = as_of
    at.run()
    assert not at.exception, at.exception
    return at


def attention(at: AppTest) -> list[str]:
    """The Markdown lines under "Needs attention" (each alert is one)."""
    return [m.value for m in at.markdown if ":material/" in m.value]


def test_the_overview_shows_the_alert_list_with_since(databases, use_database):
    location = use_database(databases.copy_of("alerts-company", fill))
    at = overview_at("2026-12-07")
    with open_store(location, read_only=True) as store:
        expected = alert_list(store, as_of=date(2026, 12, 7))
    assert len(expected) == 4
    lines = [shown(line) for line in attention(at)]
    assert [line.split(" ", 1)[1] for line in lines] == [a["text"] for a in expected]
    assert lines[0].startswith(":red[:material/error:]")
    assert any(shown(c.value).startswith("Status changes since 30 Nov 2026") for c in at.caption)


def test_nothing_to_say_is_said(databases, use_database):
    use_database(databases.copy_of("alerts-company", fill))
    at = overview_at("2026-11-15")
    assert attention(at) == []
    assert [s.value for s in at.success] == [
        "Nothing needs attention: no status changed, every key result is on pace and every "
        "metric has new data."]


def test_data_text_in_an_alert_is_shown_as_text(databases, use_database):
    use_database(databases.copy_of("alerts-hostile", fill_hostile))
    lines = attention(overview_at("2026-12-07"))
    [hostile] = [line for line in lines if "example" in line]
    assert shown(hostile).split(" ", 1)[1].startswith(f"Sales: {HOSTILE} went from healthy")
    # every bracket, asterisk and angle bracket of the title escaped: no link, no bold, no tag
    assert "\\[Leads\\]\\(http" in hostile and "\\*\\*now\\*\\*" in hostile and "\\<b\\>" in hostile
