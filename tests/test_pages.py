"""AppTest of the dashboard's entry point and the overview, scorecard and OKRs
pages on the demo company: each page shows the engine's numbers for the view
its widgets or its URL ask for."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.periods import period_label, previous_period
from kpi_logic.metrics import kpis, okrs, overview
from kpi_logic.metrics.explain import explanation
from kpi_logic.store import has_history, open_store
from tests.readable import shown
from ui.data import DEMO_NOTICE
from ui.text import md_status

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {name: str(ROOT / "views" / f"{name}.py") for name in ("overview", "scorecard", "okrs", "define")}
TIMEOUT = 90     # the first run of a page imports Altair and rolls up the demo's history


@pytest.fixture
def page_db(demo_database, use_database):
    """A private copy of the demo database (a file, or a PostgreSQL database) behind
    LODESTAR_DB, open mode, empty caches."""
    return use_database(demo_database)


def opened(script: str, **query: str) -> AppTest:
    at = AppTest.from_file(script, default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def overview_page(**query: str) -> AppTest:
    """The overview as the app opens it: its department links need the app's navigation."""
    at = opened(APP, **query)
    assert texts(at.title) == ["Company overview"]
    return at


def engine(location, fn, *args, **kwargs):
    with open_store(location, read_only=True) as store:
        return fn(store, *args, **kwargs)


def cards(at: AppTest) -> dict[str, tuple[str, str | None]]:
    """KPI cards as {title: (value, delta)}; the label starts with the status icon."""
    return {shown(m.label).split(" ", 1)[1]: (m.value, m.delta) for m in at.metric}


def expected_cards(card: dict) -> dict[str, tuple[str, str | None]]:
    return {k["title"]: (fmt.format_value(k["value"], k["unit"]),
                         None if k["vs_previous"]["abs"] is None
                         else fmt.format_change(k["vs_previous"], k["unit"]))
            for k in card["kpis"]}


def selectbox(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


def texts(elements) -> list[str]:
    """The elements' text as it reads (data text in Markdown is escaped)."""
    return [shown(e.value) for e in elements]


# ---------------------------------------------------------------- every page

@pytest.mark.parametrize("page, title", [
    ("views/overview.py", "Company overview"),
    ("views/scorecard.py", "Department scorecard"),
    ("views/okrs.py", "Objectives and key results"),
    ("views/metrics.py", None),
    ("views/explorer.py", "Metric explorer"),
    ("views/launch.py", None),
    ("views/define.py", None),
])
def test_every_page_renders_through_the_navigation(page_db, page, title):
    at = opened(APP)
    assert not at.exception
    at.switch_page(str(ROOT / page)).run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert at.title, "every page has a title"
    if title:
        assert at.title[0].value == title


def test_app_opens_on_the_overview_with_the_demo_notice(page_db):
    at = opened(APP)
    assert texts(at.title) == ["Company overview"]
    assert DEMO_NOTICE in texts(at.sidebar.info)
    assert any("Open mode" in c for c in texts(at.sidebar.caption))


# ---------------------------------------------------------------- scorecard

def test_scorecard_department_picker_drives_the_cards(page_db):
    at = opened(PAGES["scorecard"])
    assert not at.exception
    selectbox(at, "Department").set_value("Marketing").run()
    assert not at.exception
    expected = engine(page_db, kpis.scorecard, "Marketing", as_of=date.today())
    assert len(expected["kpis"]) >= 3
    assert cards(at) == expected_cards(expected)
    assert at.query_params["department"] == "Marketing"

    selectbox(at, "Department").set_value("Sales").run()
    sales = engine(page_db, kpis.scorecard, "Sales", as_of=date.today())
    assert cards(at) == expected_cards(sales)
    assert not set(cards(at)) & set(expected_cards(expected))


def test_scorecard_shows_status_target_and_plain_metrics(page_db):
    at = opened(PAGES["scorecard"], department="Marketing")
    card = engine(page_db, kpis.scorecard, "Marketing", as_of=date.today())
    labels = [shown(m.label) for m in at.metric]
    for kpi in card["kpis"]:
        assert f"{md_status(kpi['status'], fmt.status_icon(kpi['status']))} {kpi['title']}" in labels
        rule = fmt.target_rule(kpi["target"], kpi["target_kind"], kpi["unit"])
        assert any(fmt.status_badge(kpi["status"]) in t and rule in t for t in texts(at.markdown))
    assert card["metrics"], "the demo's Marketing has plain metrics (likes, shares...)"
    plain = next(d.value for d in at.dataframe if "Metric" in d.value.columns)
    assert list(plain["Metric"]) == [fmt.metric_label(m["metric"]) for m in card["metrics"]]
    assert list(plain["Value"]) == [fmt.format_value(m["value"], m["unit"]) for m in card["metrics"]]


def test_scorecard_flags_a_department_with_too_many_kpis(page_db):
    card = engine(page_db, kpis.scorecard, "Marketing", as_of=date.today())
    assert card["too_many_kpis"], "the demo gives Marketing 8 KPIs to show the warning"
    at = opened(PAGES["scorecard"], department="Marketing")
    assert any(w.startswith(f"Marketing watches {card['kpi_count']} KPIs") for w in texts(at.warning))
    at = opened(PAGES["scorecard"], department="Sales")
    assert not any("stop being key" in w for w in texts(at.warning))


def test_scorecard_query_parameters_restore_the_view(page_db):
    as_of = date.today() - timedelta(days=40)
    month = period_label(previous_period(previous_period(as_of, "month"), "month"), "month")
    at = opened(PAGES["scorecard"], department="Sales", period=month, as_of=as_of.isoformat())
    assert not at.exception
    assert selectbox(at, "Department").value == "Sales"
    assert selectbox(at, "Period").value == month
    assert at.date_input[0].value == as_of
    expected = engine(page_db, kpis.scorecard, "Sales", period=month, as_of=as_of)
    assert cards(at) == expected_cards(expected)
    assert any(t.startswith(f"Sales · {fmt.human_period(month)}") for t in texts(at.caption))
    # the URL still says the same view, so it can be copied on
    assert at.query_params["department"] == "Sales"
    assert at.query_params["period"] == month
    assert at.query_params["as_of"] == as_of.isoformat()


def test_scorecard_refuses_an_unknown_period_without_a_traceback(page_db):
    at = opened(PAGES["scorecard"], department="Sales", period="2025-13")
    assert not at.exception
    # not one of the offered periods: the picker falls back to the latest complete one
    assert selectbox(at, "Period").value == ""
    assert at.metric


def test_scorecard_says_a_period_is_partial_and_judges_summed_kpis_on_pace(page_db):
    """Looked at on the 16th: data through the 16th, so the month is 'so far'."""
    as_of = previous_period(date.today(), "month") + timedelta(days=15)
    month = period_label(as_of, "month")
    at = opened(PAGES["scorecard"], department="Sales", period=month, as_of=as_of.isoformat())
    assert not at.exception
    card = engine(page_db, kpis.scorecard, "Sales", period=month, as_of=as_of)
    paced = [k for k in card["kpis"] if k["pace"]]
    assert paced and all(k["partial"] for k in card["kpis"])
    notes = texts(at.markdown)
    for kpi in paced:
        # judged on pace; where the period will land is said by its forecast, which
        # takes the plain pace's place on the card, on a line of its own under the status
        assert kpi["forecast"] and fmt.coverage_note(kpi) == \
            f"so far: data through {fmt.short_date(as_of)}"
        heading = fmt.heading_note(kpi)
        assert heading.startswith("heading for ")
        coverage = f"*(so far: data through {fmt.short_date(as_of)})*"
        assert any(coverage in t and f"Heading{heading[len('heading'):]}" in t
                   for t in notes), heading


def test_a_cards_why_says_why_its_kpi_moved_once_opened(page_db):
    """The card's "Why?" holds the KPI's change on the previous period and its largest
    drivers; closed, it computes and shows nothing (the chart's panel shows the first KPI)."""
    at = opened(PAGES["scorecard"], department="Marketing")
    card = engine(page_db, kpis.scorecard, "Marketing", as_of=date.today())
    kpi = next(k for k in card["kpis"][1:] if k["title"] == "Customer acquisition cost")
    index = card["kpis"].index(kpi)
    explained = engine(page_db, explanation, kpi["title"], period=kpi["period"])
    line = fmt.explanation_line(explained)
    assert line not in texts(at.markdown)
    at.session_state[f"scorecard_why_{index}"] = True
    at.run()
    assert not at.exception
    shown_texts = texts(at.markdown)
    assert line in shown_texts
    # its formula's parts, each from its value before to its value now, with its share
    assert len(explained["drivers"]) == 2
    for driver in explained["drivers"]:
        words = (f"{driver['label']}: {fmt.format_value(driver['before'], driver['unit'])} → "
                 f"{fmt.format_value(driver['after'], driver['unit'])}, "
                 f"{fmt.format_delta(driver['contribution'], explained['unit'])}")
        assert any(words in t.replace("*", "") for t in shown_texts), words


def test_scorecard_long_after_the_data_says_they_are_stale_not_healthy(page_db):
    as_of = date.today() + timedelta(days=120)
    at = opened(PAGES["scorecard"], department="Sales", as_of=as_of.isoformat())
    assert not at.exception
    card = engine(page_db, kpis.scorecard, "Sales", as_of=as_of)
    assert {k["status"] for k in card["kpis"]} == {"no_data"} and all(k["stale"] for k in card["kpis"])
    assert any(t.startswith(f"{len(card['kpis'])} of {len(card['kpis'])} KPIs have no data for")
               for t in texts(at.info))
    since = fmt.coverage_note(card["kpis"][0])
    assert since.startswith("no data since ")
    badge = f":gray[**○ N{since[1:]}**]"    # said once: "○ No data since 6 Dec 2026", in grey
    assert sum(t.startswith(badge) for t in texts(at.markdown)) == len(card["kpis"])


# ---------------------------------------------------------------- OKRs

def kr_tables(at: AppTest) -> list:
    return [d.value for d in at.dataframe if "Key result" in d.value.columns]


def test_okrs_lists_objectives_and_key_results_with_engine_statuses(page_db):
    at = opened(PAGES["okrs"])
    assert not at.exception
    report = engine(page_db, okrs.okr_report, as_of=date.today())
    assert len(report["objectives"]) >= 3
    headings = [t for t in texts(at.markdown) if t.startswith("#### ")]
    assert headings == [f"#### {o['objective']}" for o in report["objectives"]]
    tables = kr_tables(at)
    assert len(tables) == len(report["objectives"])
    for table, objective in zip(tables, report["objectives"], strict=True):
        krs = objective["key_results"]
        assert list(table["Key result"]) == [kr["title"] for kr in krs]
        assert list(table["Status"]) == [fmt.status_badge(kr["status"]) for kr in krs]
        assert list(table["Progress"]) == [round(kr["progress"] * 100) for kr in krs]
        assert list(table["Deadline"]) == [fmt.human_date(kr["deadline"]) for kr in krs]


def test_okrs_say_which_value_a_key_result_stands_at_and_that_ended_ones_are_missed(page_db):
    report = engine(page_db, okrs.okr_report, as_of=date.today())
    results = [kr for o in report["objectives"] for kr in o["key_results"]]
    assert any(kr["status"] == "missed" for kr in results), "last quarter's CAC key result"
    at = opened(PAGES["okrs"])
    rows = [row for table in kr_tables(at) for row in table.to_dict("records")]
    assert [r["Status"] for r in rows] == [fmt.status_badge(kr["status"]) for kr in results]
    assert "✖ Missed" in [r["Status"] for r in rows]
    assert [r["Measured"] for r in rows] == [fmt.measured_note(kr) + (" (data end early)"
                                             if kr["partial"] else "") for kr in results]


def test_okrs_department_in_the_url_filters_objectives(page_db):
    report = engine(page_db, okrs.okr_report, department="Sales", as_of=date.today())
    at = opened(PAGES["okrs"], department="Sales")
    assert selectbox(at, "Department").value == "Sales"
    headings = [t for t in texts(at.markdown) if t.startswith("#### ")]
    assert headings == [f"#### {o['objective']}" for o in report["objectives"]]
    assert all(o["department"] == "Sales" for o in report["objectives"])


# ---------------------------------------------------------------- overview

def test_overview_shows_every_department_with_kpis_and_the_alerts(page_db):
    at = overview_page()
    assert not at.exception
    view = engine(page_db, overview.overview, as_of=date.today())
    assert len(view["departments"]) == 6
    # the chart gives each department's counts; under it a link into each scorecard
    assert [(shown(p.label), p.proto.query_string) for p in at.page_link] == [
        (row["department"], urlencode({"department": row["department"]}))
        for row in view["departments"]]
    badges = {fmt.status_badge(s): s for s in ("healthy", "at_risk", "unhealthy", "no_data")}
    counts = {m.label: int(m.value) for m in at.metric if m.label in badges}
    assert counts == {badge: sum(d[s] for d in view["departments"]) for badge, s in badges.items()}
    alerts = " ".join(texts(at.markdown))
    assert view["alerts"], "the demo company has something that needs attention"
    for alert in view["alerts"]:
        assert alert["text"] in alerts
    assert any(t.startswith("As of ") and "data through" in t for t in texts(at.caption))


def test_overview_as_of_in_the_url(page_db):
    as_of = date.today() - timedelta(days=30)
    at = overview_page(as_of=as_of.isoformat())
    assert at.date_input[0].value == as_of
    assert any(t.startswith(f"As of {fmt.human_date(as_of)}") for t in texts(at.caption))
    view = engine(page_db, overview.overview, as_of=as_of)
    links = [shown(p.label) for p in at.page_link]
    assert len(links) == len(view["departments"])


def test_overview_offers_the_board_pack_beside_the_png(page_db):
    """Two downloads, both drawn when clicked (not on every rerun: the PDF takes
    seconds); test_e2e downloads the PDF in a browser."""
    as_of = date.today() - timedelta(days=30)
    at = overview_page(as_of=as_of.isoformat())
    assert not at.exception
    png, pdf = at.download_button(key="overview_png"), at.download_button(key="overview_pdf")
    assert png.label == "Download PNG report"
    assert pdf.label == "Download board pack (PDF)"
    assert "every department's scorecard" in pdf.help
    assert pdf.proto.HasField("deferred_file_id")      # nothing drawn until it is clicked


@pytest.mark.parametrize("page", ["overview", "scorecard", "okrs"])
def test_a_link_says_latest_unless_someone_picked_a_date(page_db, page):
    """A link shared today must not show today's view forever."""
    at = opened(APP if page == "overview" else PAGES[page])
    assert not at.exception
    assert "as_of" not in at.query_params and at.date_input[0].value == date.today()
    picked = date.today() - timedelta(days=45)
    at.date_input[0].set_value(picked).run()
    assert at.query_params["as_of"] == picked.isoformat()
    at.date_input[0].set_value(date.today()).run()        # back to today: latest again
    assert "as_of" not in at.query_params
    shared = opened(APP if page == "overview" else PAGES[page], as_of=picked.isoformat())
    # a link with a chosen day keeps it
    assert shared.date_input[0].value == picked and shared.query_params["as_of"] == picked.isoformat()


@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01", "1899-12-31"])
def test_a_link_with_a_date_outside_the_range_opens_on_today(page_db, far):
    for page in (APP, PAGES["scorecard"], PAGES["okrs"]):
        at = opened(page, as_of=far)
        assert not at.exception, (page, far)
        assert at.date_input[0].value == date.today()
        assert at.date_input[0].min == date(1900, 1, 1) and at.date_input[0].max == date(2199, 12, 31)


# ---------------------------------------------------------------- first start, viewer mode

def test_app_on_an_empty_database_loads_the_demo_and_says_so(database, use_database):
    path = use_database(database)
    at = opened(APP)
    assert not at.exception
    assert DEMO_NOTICE in texts(at.sidebar.info)
    with open_store(path, read_only=True) as store:
        assert has_history(store.connection)
        assert overview.departments(store)
    assert at.page_link, "the overview shows the demo's departments"


def test_viewer_mode_hides_import_and_define(page_db, monkeypatch):
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "correct horse")
    at = opened(APP)
    assert not at.exception
    assert any("Viewer mode" in c for c in texts(at.sidebar.caption))
    with pytest.raises(ValueError, match="define"):
        at.switch_page(PAGES["define"])
    at.switch_page(PAGES["scorecard"]).run()
    assert not at.exception
    assert at.metric
    # Cards keep Definition and Why?; what writes (check in, make a key result) is hidden.
    labels = {pop.proto.popover.label for pop in at.get("popover")}
    assert {"Definition", "Why?"} <= labels
    assert not labels & {"Check in", "Make a key result from this KPI"}


def test_an_unlocked_editor_session_reaches_import_and_define(page_db, monkeypatch):
    # AppTest reruns only the page, not app.py's sidebar, after the first run,
    # so the session starts unlocked here; the browser test types the password.
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "correct horse")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["editor_unlocked"] = True
    at.run()
    assert not at.exception
    assert any("Editor mode" in c for c in texts(at.sidebar.caption))
    at.switch_page(PAGES["define"]).run()
    assert not at.exception
    assert at.file_uploader
