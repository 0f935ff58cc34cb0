"""One rule for a metric's name (and one for its label): domain.formulas.metric_name. The importer's SQL
twin (store.writes_history.metric_name_sql), the header matcher, the definition
rows and the CLI's --metric all follow it."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_logic.cli.main import main
from kpi_logic.domain.formatting import metric_label, metric_words
from kpi_logic.domain.formulas import NAME_SEPARATORS, metric_name
from kpi_logic.domain.model import Metric
from kpi_logic.domain.vocabulary import normalise_header
from kpi_logic.ingest.definition_rows import kpi_title, kr_title
from kpi_logic.store.writes_history import metric_name_sql

CLI = Path(__file__).parent / "fixtures" / "cli"

# Names as people write them: letters of any alphabet, digits, every separator,
# underscores, punctuation; plus characters whose lowercase is unusual.
_PIECES = st.sampled_from(list(NAME_SEPARATORS) + ["_", "İ", "ẞ", "ǅ", "Σ", "ﬃ", "%", "$"])
_NAMES = st.lists(st.one_of(st.text(min_size=1, max_size=6), _PIECES), max_size=8).map("".join)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@settings(max_examples=400, deadline=None)
@given(names=st.lists(_NAMES, min_size=1, max_size=30))
def test_the_importers_sql_names_every_metric_as_the_python_rule_does(con, names):
    names = [n.replace("\x00", "") for n in names]     # DuckDB's text cannot hold NUL
    sql = f"select {metric_name_sql('name')} from (select unnest(?::varchar[]) as name, " \
          "generate_subscripts(?::varchar[], 1) as i) order by i"
    stored = [row[0] for row in con.execute(sql, [names, names]).fetchall()]
    assert stored == [metric_name(n) for n in names]


@given(_NAMES)
def test_a_name_made_a_key_stays_that_key(name):
    key = metric_name(name)
    assert metric_name(key) == key
    assert not key.startswith("_") and not key.endswith("_")
    assert not any(c in NAME_SEPARATORS for c in key)


@pytest.mark.parametrize("written", ["Website visitors", "website-visitors", " WEBSITE.Visitors ",
                                     "website\u00a0visitors", "website__visitors_",
                                     "website - visitors"])
def test_every_spelling_the_importer_takes_is_one_key(written):
    expected = "website__visitors" if written == "website__visitors_" else "website_visitors"
    assert metric_name(written) == expected
    assert normalise_header(written) == expected      # a wide table's header is a metric name


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    db = tmp_path_factory.mktemp("names") / "lodestar.duckdb"
    files = [str(CLI / n) for n in ("metrics.csv", "history.csv")]
    assert main(["--db", str(db), "import", *files]) == 0
    return db


@pytest.mark.parametrize("spelling", ["conversion-rate", "Conversion Rate", " CONVERSION.rate "])
def test_cli_history_takes_any_spelling_the_importer_takes(loaded, capsys, spelling):
    capsys.readouterr()
    assert main(["--db", str(loaded), "history", "--metric", "conversion_rate", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert main(["--db", str(loaded), "history", "--metric", spelling, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected
    assert [r["period"] for r in expected] == ["2025-01", "2025-02", "2025-03"]


def test_cli_history_still_refuses_a_name_no_metric_has(loaded, capsys):
    assert main(["--db", str(loaded), "history", "--metric", "conversion-rates"]) == 2
    assert "no metric named 'conversion-rates'" in capsys.readouterr().err


# ---------------------------------------------------------------- one label rule

@pytest.mark.parametrize("name, words, label", [
    ("leads", "leads", "Leads"),                  # a short word is no acronym
    ("cost", "cost", "Cost"),
    ("nps", "NPS", "NPS"),
    ("paid_cac", "paid CAC", "Paid CAC"),
    ("churn_rate", "churn rate", "Churn rate"),
    ("arpu", "ARPU", "ARPU"),
    ("", "—", "—"),
])
def test_one_label_rule_in_tables_and_in_titles(name, words, label):
    assert metric_words(name) == words
    assert metric_label(name) == label


def test_a_key_results_title_and_a_kpis_title_use_the_label_rule():
    leads = Metric("leads")
    assert kr_title(leads, 100, 140) == "Increase leads from 100 to 140"
    assert kpi_title(leads, 140, "min") == "Leads at least 140"
    cac = Metric("paid_cac", unit="currency", direction="down")
    assert kr_title(cac, 50, 40) == "Reduce paid CAC from $50 to $40"
    assert kpi_title(cac, 40, "max") == "Paid CAC at most $40"


# ---------------------------------------------------------------- one department list, one cadence

def test_the_department_list_is_the_catalogues_rule(tmp_path):
    from kpi_logic.metrics import catalogue, overview
    from kpi_logic.store import open_store
    db = tmp_path / "lodestar.duckdb"
    files = [str(CLI / n) for n in ("metrics.csv", "history.csv", "kpis.csv", "key_results.csv")]
    assert main(["--db", str(db), "import", *files]) == 0
    with open_store(db, read_only=True) as store:
        listed = overview.departments(store)
        expected = catalogue.known_departments(store.definitions.metrics(), store.definitions.kpis(),
                                               store.definitions.key_results())
    assert listed == expected and listed      # the fixture names departments


@pytest.mark.parametrize("gap_days, cadence, words", [
    (1, "day", "day-to-day"), (7, "week", "week-to-week"), (7.4, "week", "week-to-week"),
    (30.5, "month", "month-to-month"), (91, "quarter", "quarter-to-quarter"),
    (365, "year", "year-to-year"), (14, "every", "date-to-date"), (3, "every", "date-to-date"),
])
def test_coverage_and_the_importers_note_read_one_cadence(gap_days, cadence, words):
    from kpi_logic.ingest.inference import _cadence
    from kpi_logic.metrics.coverage import cadence_of
    assert cadence_of(round(gap_days), recent_dates=3, weekend_dates=1) == cadence
    assert _cadence(gap_days) == words


def test_a_kpi_and_a_key_result_take_their_department_by_one_rule():
    from kpi_logic.domain.model import KPI, KeyResult
    from kpi_logic.metrics.catalogue import kpi_department
    metrics = {"leads": Metric("leads", department="Sales")}
    kr = KeyResult("Grow", "Increase leads from 100 to 140", "leads", 100.0, 140.0,
                   date(2025, 1, 1), date(2025, 3, 31))
    kpi = KPI("Leads at least 140", "leads", 140.0, "min", department="Growth")
    assert kpi_department(kr, metrics) == "Sales"                  # its metric's
    assert kpi_department(kpi, metrics) == "Growth"                # its own
