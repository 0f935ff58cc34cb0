"""AppTest of the Metrics catalogue page on a tiny hand-built company
(tests/fixtures/metrics_page: Marketing with a conversion KPI and a likes
count, Sales with leads and deals, monthly history January to June 2025)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.ingest.edits import current_definitions, current_metrics
from kpi_logic.ingest.importing import import_files
from kpi_logic.ingest.undo import undo_batch
from kpi_logic.store import open_store
from tests.conftest import FIXTURES
from tests.readable import shown

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "metrics.py")
COMPANY = FIXTURES / "metrics_page"


def with_company(location) -> None:
    with open_store(location) as store:
        import_files(store, [((COMPANY / n).read_bytes(), n)
                             for n in ("metrics.csv", "history.csv", "kpis.csv")])


@pytest.fixture
def page_db(databases, use_database):
    """The metrics page's company imported, on either backend, each test its own copy."""
    return use_database(databases.copy_of("metrics-page", with_company))


def opened(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def catalogue_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Linked to" in d.value.columns)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def target_input(at: AppTest):
    return next(t for t in at.text_input if t.label.startswith("Target"))


def saved(path: Path, loader):
    with open_store(path) as store:
        return loader(store)


def stored(path: Path, kind: str) -> list:
    """The current definitions of one kind in the file."""
    return saved(path, lambda store: current_definitions(store, kind))


def test_catalogue_shows_definitions_current_values_and_links(page_db):
    at = opened()
    assert not at.exception
    table = catalogue_table(at).set_index("Name")
    assert sorted(table.index) == ["conversion_rate", "deals_lost", "deals_won", "leads",
                                   "likes", "purchases", "website_visitors"]
    conversion = table.loc["conversion_rate"]
    assert conversion["Definition"] == "purchases / website_visitors"
    assert conversion["Current"] == "3.0%"      # June: 42 / 1,400
    assert conversion["Period"] == "Jun 2025"
    assert conversion["Linked to"] == "KPI: Conversion at least 3%"
    assert conversion["Aggregation"] == "from its parts"
    # Formula components serve the KPI too.
    assert table.loc["website_visitors", "Linked to"] == "KPI: Conversion at least 3%"
    assert table.loc["leads", "Definition"] == "Imported monthly, summed per period"
    assert table.loc["leads", "Current"] == "150"
    assert table.loc["leads", "Linked to"] == "plain"
    assert table.loc["likes", "Linked to"] == "plain · vanity candidate: not linked to any goal"
    assert any("Vanity candidates: Likes." in shown(w.value) for w in at.warning)


def test_department_and_search_come_from_the_url_and_filter_the_table(page_db):
    at = opened(department="Sales", q="deals")
    table = catalogue_table(at)
    assert table["Name"].tolist() == ["deals_lost", "deals_won"]
    assert at.text_input(key="metrics_search").value == "deals"
    assert not at.warning          # likes is in Marketing: no vanity warning here


def test_picking_a_department_and_searching_go_into_the_url(page_db):
    at = opened()
    at.selectbox(key="shared_department").set_value("Marketing").run()
    at.text_input(key="metrics_search").input("visit").run()
    assert (at.query_params["department"], at.query_params["q"]) == ("Marketing", "visit")
    assert catalogue_table(at)["Name"].tolist() == ["conversion_rate", "website_visitors"]


def test_suggested_target_is_the_median_of_the_last_three_complete_months(page_db):
    at = opened()
    at.selectbox(key="metrics_kpi_metric").set_value("leads").run()
    # Leads April-June: 130, 140, 150.
    assert target_input(at).value == "140"
    assert any("Median of the last 3 complete months. From Apr 2025 130, May 2025 140, "
               "Jun 2025 150." in shown(c.value) for c in at.caption)
    history = next(d.value for d in at.dataframe if "Used" in d.value.columns)
    assert history["Period"].tolist()[-3:] == ["Apr 2025", "May 2025", "Jun 2025"]
    assert history["Used"].tolist() == [""] * 3 + ["✔ used"] * 3


def test_percentile_suggestion_follows_the_chosen_percentile(page_db):
    at = opened()
    at.selectbox(key="metrics_kpi_metric").set_value("leads").run()
    at.radio(key="metrics_kpi_method").set_value("percentile").run()
    # 75th percentile of 100, 120, 110, 130, 140, 150 is 137.5 -> "138" (3 digits).
    assert target_input(at).value == "138"
    at.slider(key="metrics_kpi_q_min").set_value(50).run()
    assert target_input(at).value == "125"


def test_making_a_kpi_saves_it_through_the_importer(page_db):
    at = opened()
    at.selectbox(key="metrics_kpi_metric").set_value("leads").run()
    at.text_input(key="metrics_kpi_title").set_value("Leads at least 140")
    at.text_input(key="metrics_kpi_owner").set_value("Dana")
    button(at, "Make it a KPI").click().run()
    assert not at.exception
    assert not at.error
    assert any("'leads' is now a KPI" in shown(s.value) for s in at.success)
    kpi = next(k for k in stored(page_db, "kpis") if k.metric == "leads")
    assert (kpi.title, kpi.target, kpi.target_kind, kpi.period, kpi.department, kpi.owner,
            kpi.tolerance) == ("Leads at least 140", 140.0, "min", "month", "Sales", "Dana", 0.1)
    table = catalogue_table(at).set_index("Name")
    assert table.loc["leads", "Linked to"] == "KPI: Leads at least 140"
    # The message names the batch, and undoing it removes the KPI again.
    batch = int(re.search(r"Import batch (\d+)", shown(at.success[0].value)).group(1))
    with open_store(page_db) as store:
        undo_batch(store, batch)
    assert "leads" not in [k.metric for k in stored(page_db, "kpis")]


def test_a_bad_target_shows_the_engines_message_and_changes_nothing(page_db):
    before = stored(page_db, "kpis")
    at = opened()
    at.selectbox(key="metrics_kpi_metric").set_value("leads").run()
    target_input(at).set_value("lots")
    button(at, "Make it a KPI").click().run()
    assert not at.exception
    assert any("column 'target': 'lots' is not a number" in shown(e.value) for e in at.error)
    assert stored(page_db, "kpis") == before


def test_library_adds_a_metric_whose_components_exist(page_db):
    at = opened()
    at.selectbox(key="metrics_library_department").set_value("Sales").run()
    at.selectbox(key="metrics_library_kpi").set_value("win_rate").run()
    needs = next(d.value for d in at.dataframe if "Needs metric" in d.value.columns)
    assert needs.to_dict("list") == {"Needs metric": ["deals_lost", "deals_won"],
                                     "In your database": ["✔ yes", "✔ yes"]}
    button(at, "Add metric definition").click().run()
    assert not at.exception
    metric = saved(page_db, current_metrics)["win_rate"]
    assert (metric.formula, metric.unit, metric.department) == \
        ("deals_won / (deals_won + deals_lost)", "percent", "Sales")
    assert "win_rate" in catalogue_table(at)["Name"].tolist()


def test_library_says_what_is_missing_and_offers_no_add(page_db):
    at = opened()
    at.selectbox(key="metrics_library_department").set_value("Marketing").run()
    at.selectbox(key="metrics_library_kpi").set_value("customer_acquisition_cost").run()
    needs = next(d.value for d in at.dataframe if "Needs metric" in d.value.columns)
    assert needs.to_dict("list") == {"Needs metric": ["marketing_spend", "new_customers"],
                                     "In your database": ["✖ missing", "✖ missing"]}
    assert any("import history for 'marketing_spend', 'new_customers' first" in shown(i.value)
               for i in at.info)
    assert "Add metric definition" not in [b.label for b in at.button]


def test_library_entry_already_defined_is_not_added_again(page_db):
    at = opened()
    at.selectbox(key="metrics_library_department").set_value("Marketing").run()
    at.selectbox(key="metrics_library_kpi").set_value("conversion_rate").run()
    assert any("'conversion_rate' is already defined" in shown(i.value) for i in at.info)
    assert any("Your database's `conversion_rate`: `purchases / website_visitors`" in c.value
               for c in at.caption)
    assert "Add metric definition" not in [b.label for b in at.button]


def test_viewer_mode_has_no_write_path(page_db, monkeypatch):
    monkeypatch.setenv("LODESTAR_EDITOR_PASSWORD", "secret")
    at = opened()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Make it a KPI" not in labels
    assert "Add metric definition" not in labels
    assert not [t for t in at.text_input if t.label.startswith("Target")]
    assert any("Viewer mode" in shown(c.value) for c in at.caption)
    # Reading still works.
    assert "conversion_rate" in catalogue_table(at)["Name"].tolist()


def test_a_lower_is_better_metric_defaults_to_an_at_most_target(page_db):
    at = opened()
    at.selectbox(key="metrics_kpi_metric").set_value("deals_lost").run()
    assert at.radio(key="metrics_kpi_kind_deals_lost").value == "max"
    assert target_input(at).label == "Target (at most)"
    # Deals lost April-June: 19, 16, 15.
    assert target_input(at).value == "16"


def test_the_catalogue_shows_every_row_its_long_texts_wide_and_offers_a_png(page_db):
    at = opened()
    catalogue = next(d for d in at.dataframe if "Linked to" in d.value.columns)
    columns = json.loads(catalogue.proto.columns)
    assert columns["Metric"]["width"] == 190 and columns["Metric"]["pinned"]
    assert columns["Definition"]["width"] >= 300
    assert columns["Linked to"]["width"] == "large" or columns["Linked to"]["width"] >= 400
    assert at.download_button(key="metrics_png").label == "Download PNG report"


def test_library_defines_a_recorded_metric_before_its_history(page_db):
    at = opened()
    at.selectbox(key="metrics_library_department").set_value("Sales").run()
    at.selectbox(key="metrics_library_kpi").set_value("mrr").run()
    assert any("shows values once its history is imported" in shown(c.value) for c in at.caption)
    button(at, "Add metric definition").click().run()
    assert not at.exception
    metric = saved(page_db, current_metrics)["mrr"]
    assert (metric.formula, metric.unit, metric.aggregation) == (None, "currency", "last")
    row = catalogue_table(at).set_index("Name").loc["mrr"]
    assert (row["Definition"], row["Current"]) == (
        "Not imported yet (the latest value per period)", "—")


def test_on_the_demo_company_vanity_counts_are_named_and_the_library_fits(demo_database,
                                                                         use_database):
    use_database(demo_database)
    at = opened(department="Marketing")
    assert not at.exception
    table = catalogue_table(at).set_index("Name")
    assert set(table["Department"]) == {"Marketing"}
    for vanity in ("likes", "page_views"):
        assert table.loc[vanity, "Linked to"] == "plain · vanity candidate: not linked to any goal"
    assert table.loc["conversion_rate", "Linked to"].startswith("KPI: ")
    at.selectbox(key="metrics_library_department").set_value("Finance").run()
    at.selectbox(key="metrics_library_kpi").set_value("gross_profit_margin").run()
    needs = next(d.value for d in at.dataframe if "Needs metric" in d.value.columns)
    assert set(needs["In your database"]) == {"✔ yes"}
    assert "Add metric definition" in [b.label for b in at.button]
