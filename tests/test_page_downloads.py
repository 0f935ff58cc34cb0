"""AppTest: every table the pages show on the demo company has its CSV and
XLSX buttons (ui/tables.py Download), keyed by page and table. The bytes
are tested in tests/test_exports.py and tests/test_export_tables.py, a real
click in tests/test_e2e.py."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.launch import analysis as launch
from kpi_logic.metrics import okrs
from kpi_logic.store import open_store

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 90


@pytest.fixture
def page_db(demo_database, use_database):
    return use_database(demo_database)


def opened(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / f"{page}.py"), default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def download_stems(at: AppTest) -> list[str]:
    """The key stem of each table's pair of buttons, in page order; checks the pair."""
    buttons = {b.key: b for b in at.get("download_button")}
    stems = [key.removesuffix("_csv") for key in buttons if key.endswith("_csv")]
    for stem in stems:
        csv, xlsx = buttons[f"{stem}_csv"], buttons[f"{stem}_xlsx"]
        assert (csv.label, xlsx.label) == ("CSV", "XLSX")
        assert not xlsx.proto.disabled
        assert "values" in csv.help and "numbers as numbers" in xlsx.help
    return stems


def test_the_scorecard_offers_its_plain_metrics(page_db):
    # the first KPI (a formula) explained by its components, then the plain metrics
    assert download_stems(opened("scorecard", department="Marketing")) == [
        "scorecard_drivers", "scorecard_plain_metrics"]


def test_the_okrs_page_offers_each_objectives_key_results(page_db):
    with open_store(page_db, read_only=True) as store:
        objectives = okrs.okr_report(store, as_of=date.today())["objectives"]
    assert len(objectives) >= 3
    assert download_stems(opened("okrs")) == ["okrs_goal rates by department"] + [
        f"okrs_{o['objective']} key results" for o in objectives]


def test_the_metrics_catalogue_offers_the_catalogue_and_a_targets_history(page_db):
    assert download_stems(opened("metrics")) == ["metrics_catalogue", "metrics_kpi_history"]


@pytest.mark.parametrize("step, stems", [
    ("Analyse", ["launch_channels", "launch_campaigns"]),
    ("Adjust", ["launch_whatif_totals", "launch_whatif_channels", "launch_curves"]),
    ("Improve", ["launch_engagement"]),
])
def test_the_launch_page_offers_every_table_of_a_step(page_db, step, stems):
    assert download_stems(opened("launch", step=step)) == stems


def test_the_launch_scenarios_step_offers_the_list_comparison_and_splits(page_db):
    with open_store(page_db) as store:
        found = launch.launch_analysis(store)
        launch.saved_scenario(store, found.launch.launch, "Plan A", launch.actual_split(found))
    at = opened("launch", step="Scenarios", compare="Plan A")
    assert download_stems(at) == ["launch_scenarios", "launch_comparison", "launch_splits"]


def test_import_and_define_offers_the_import_history(page_db):
    assert download_stems(opened("define")) == ["define_batches"]
