"""Every page and CLI command works for every date the importer accepts: a company
whose history, key results and launches sit at both edges of 1900-01-01..2199-12-31,
imported through the real importer, drawn on every page and printed by every
command, looked at from days at both edges."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.cli.main import main
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store

ROOT = Path(__file__).resolve().parents[1]
PAGES = {name: str(ROOT / "views" / f"{name}.py")
         for name in ("scorecard", "okrs", "metrics", "launch", "define")}
APP = str(ROOT / "app.py")
FIRST, LAST = date(1900, 1, 1), date(2199, 12, 31)
CHANNELS = {"search": (400, 1000, 30, 20), "social": (300, 900, 12, 6)}   # spend, visitors, ...


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def edge_company() -> list[tuple[bytes, str]]:
    """Files for a company that only exists at the edges of the accepted dates."""
    history = ["date,metric,value"]
    for day in days(FIRST, 59) + days(date(2199, 11, 1), 61):
        history.append(f"{day},calls,{40 + day.day}")
    for day in (FIRST, date(1900, 2, 1), date(2199, 11, 1), date(2199, 12, 1)):
        history.append(f"{day},mrr,{1000 + day.month}")
    channels = ["date,channel,metric,value"]
    for day in days(FIRST, 31) + days(date(2199, 12, 1), 31):
        for channel, values in CHANNELS.items():
            for metric, value in zip(("spend", "visitors", "purchases", "new_customers"), values, strict=True):
                channels.append(f"{day},{channel},{metric},{value + day.day % 5}")
    files = {
        "metrics.csv": ["metric,department,unit,direction,aggregation,formula",
                        "calls,Sales,number,up,sum,", "mrr,Sales,currency,up,last,",
                        "spend,Marketing,currency,up,sum,", "visitors,Marketing,number,up,sum,",
                        "purchases,Marketing,number,up,sum,",
                        "new_customers,Marketing,number,up,sum,",
                        "cac,Marketing,currency,down,,spend / new_customers"],
        "history.csv": history,
        "channels.csv": channels,
        "kpis.csv": ["title,metric,target,target_kind,period,department",
                     "Calls,calls,1000,min,month,Sales", "MRR,mrr,900,min,quarter,Sales",
                     "CAC,cac,50,max,month,Marketing"],
        "key_results.csv": ["objective,title,metric,start,target,start_date,deadline,department",
                            "Early,Calls in Q1 1900,calls,0,5000,1900-01-01,1900-03-31,Sales",
                            "Late,Calls in Q4 2199,calls,0,5000,2199-10-01,2199-12-31,Sales"],
        "launches.csv": ["launch,launch_date,department,conversion_target,cac_target",
                         "Early,1900-01-15,Marketing,0.02,50", "Late,2199-12-15,Marketing,0.02,50"],
    }
    return [("\n".join(lines).encode(), name) for name, lines in files.items()]


def with_edge_company(location) -> None:
    with open_store(location) as store:
        import_files(store, edge_company())


@pytest.fixture
def edge_db(databases, use_database):
    """The edge company on this case's backend, a copy of its own for the pages."""
    return use_database(databases.copy_of("edges", with_edge_company))


@pytest.fixture
def edge_location(databases):
    """The edge company itself, for commands that only read it."""
    return databases.shared("edges", with_edge_company)


AS_OF = ["1900-01-01", "1900-02-20", "1900-04-02", "2199-12-16", "2199-12-31", None]


def page(script: str, **query: str | None) -> AppTest:
    at = AppTest.from_file(script, default_timeout=90)
    for name, value in query.items():
        if value is not None:
            at.query_params[name] = value
    return at.run()


def assert_drawn(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    errors = " ".join(str(e.value) for e in at.error)
    assert "out of range" not in errors and "Traceback" not in errors, (where, errors)


@pytest.mark.parametrize("as_of", AS_OF)
def test_overview_scorecard_and_okrs_at_the_edges(edge_db, as_of):
    assert_drawn(page(APP, as_of=as_of), f"overview {as_of}")
    for department in ("Sales", "Marketing"):
        at = page(PAGES["scorecard"], department=department, as_of=as_of)
        assert_drawn(at, f"scorecard {department} {as_of}")
        assert at.metric, "the KPI cards are drawn"
    assert_drawn(page(PAGES["okrs"], as_of=as_of), f"okrs {as_of}")


@pytest.mark.parametrize("period, as_of", [("1900-01", "1900-02-20"), ("1900-Q1", "1900-04-02"),
                                           ("2199-12", "2199-12-31"), ("2199", "2199-12-31"),
                                           ("1900", "2199-12-31")])
def test_scorecard_of_periods_at_the_edges(edge_db, period, as_of):
    at = page(PAGES["scorecard"], department="Sales", period=period, as_of=as_of)
    assert_drawn(at, period)
    assert any(s.label == "Period" and s.value == period for s in at.selectbox) or period == "1900"


def test_numbers_at_the_edges_are_the_engines(edge_db):
    """The cards at the far end show 2199's numbers; the 1900 key result has ended."""
    from tests.readable import shown
    at = page(PAGES["scorecard"], department="Sales", period="2199-11", as_of="2199-12-31")
    calls = next(m for m in at.metric if shown(m.label).endswith("Calls"))
    assert calls.value == f"{sum(40 + d for d in range(1, 31)):,}"        # November 2199, in full
    at = page(PAGES["okrs"], as_of="1900-04-02")
    rows = [r for d in at.dataframe if "Key result" in d.value.columns
            for r in d.value.to_dict("records")]
    early = next(r for r in rows if r["Key result"] == "Calls in Q1 1900")
    assert early["Status"] in ("★ Achieved", "✖ Missed")


@pytest.mark.parametrize("launch", ["Early", "Late"])
@pytest.mark.parametrize("step", ["Measure", "Analyse", "Adjust", "Improve", "Scenarios"])
def test_launch_page_at_the_edges(edge_db, launch, step):
    assert_drawn(page(PAGES["launch"], launch=launch, step=step), f"{launch} {step}")


def test_catalogue_and_define_pages_at_the_edges(edge_db):
    at = page(PAGES["metrics"])
    assert_drawn(at, "metrics")
    assert_drawn(page(PAGES["define"]), "define")


@pytest.mark.parametrize("args", [
    ["metrics"], ["history", "--metric", "calls", "--grain", "year"],
    ["history", "--metric", "calls", "--grain", "week"], ["batches"],
    ["scorecard", "--department", "Sales", "--period", "1900-01", "--as-of", "1900-02-20"],
    ["scorecard", "--department", "Sales", "--period", "2199-12", "--as-of", "2199-12-31"],
    ["scorecard", "--department", "Marketing", "--as-of", "2199-12-31"],
    ["okrs", "--as-of", "1900-01-01"], ["okrs", "--as-of", "2199-12-31"], ["okrs"],
    ["launch", "--launch", "Early"], ["launch", "--launch", "Late"],
])
def test_every_command_at_the_edges(edge_location, capsys, args):
    db = edge_location
    for json_flag in ([], ["--json"]):
        assert main(["--db", str(db), *args, *json_flag]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert out
        if json_flag and args[0] != "import":
            json.loads(out)


@pytest.mark.parametrize("page_name, extra", [
    ("overview", []), ("scorecard", ["--department", "Sales", "--period", "2199-12"]),
    ("okrs", []), ("launch", ["--launch", "Late"]), ("launch", ["--launch", "Early"])])
def test_png_reports_at_the_edges(edge_location, tmp_path, capsys, page_name, extra):
    db = edge_location
    out = tmp_path / "report.png"
    as_of = [] if page_name == "launch" else ["--as-of", "2199-12-31"]
    assert main(["--db", str(db), "report", "--page", page_name, *extra, *as_of,
                 "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
