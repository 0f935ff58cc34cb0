"""Definition files change only the columns they hold: an empty cell keeps
what is stored, `-` or `none` clears it, and every change is listed field by
field (preview, result, CLI). Tables edited in the dashboard hold every column,
so clearing a cell there clears the field. Undo puts back exactly."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from kpi_logic.cli.main import main
from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, Metric
from kpi_logic.ingest import definition_merge as merge
from kpi_logic.ingest import template
from kpi_logic.ingest.edits import current_definitions
from kpi_logic.ingest.importing import import_files, import_frames
from kpi_logic.ingest.undo import undo_batch
from kpi_logic.metrics.catalogue import metric_catalogue
from kpi_logic.store import open_store
from kpi_logic.store.writes import DEFINITION_TABLES
from tests.builders import in_order

from .test_importing import files


@pytest.fixture
def defined(store):
    import_files(store, files("metrics.csv", "history_wide.csv", "kpis.csv", "targets.csv",
                            "key_results.csv", "launches.csv"), department="Finance")
    import_files(store, [(b"title,metric,target,target_kind,owner,objective\n"
                        b"Churn under 5%,churn_rate,5%,max,Ben,Keep customers\n", "owners.csv")])
    return store


def definitions(store) -> dict[str, list[tuple]]:
    """Every definition row ever stored, current or not, by table."""
    return {t: in_order(store.connection.execute(f"select * from {t}").fetchall())
            for t in DEFINITION_TABLES}


def imported(store, text: bytes, name: str = "defs.csv", **options):
    [result] = import_files(store, [(text, name)], **options)
    return result


# --- the case ------------------------------------------------------------------

def test_a_file_of_metric_and_aggregation_leaves_the_department_alone(defined):
    before = definitions(defined)
    preview = imported(defined, b"metric,aggregation\nnps,mean\n", dry_run=True)
    assert (preview.updated, preview.details["changes"]) == (1, [
        {"definition": "nps", "field": "aggregation", "before": "last", "after": "mean",
         "text": "nps: aggregation last -> mean"}])
    assert "changed fields: nps (aggregation)" in " ".join(preview.notes)
    result = imported(defined, b"metric,aggregation\nnps,mean\n")
    assert defined.definitions.metrics()["nps"] == Metric("nps", department="Product", unit="number",
                                                  aggregation="mean",
                                                  description="Net promoter score")
    undo_batch(defined, result.batch)
    assert definitions(defined) == before


# --- a metric's label --------------------------------------------------------------------

def test_a_label_is_what_pages_call_the_metric_and_undo_takes_it_back(defined):
    before = definitions(defined)
    result = imported(defined, b"metric,label\nnps,Net promoter score (NPS)\n")
    nps = defined.definitions.metrics()["nps"]
    assert (nps.label, nps.department, nps.aggregation) == ("Net promoter score (NPS)",
                                                            "Product", "last")
    assert fmt.display_name(nps) == "Net promoter score (NPS)"
    rows = metric_catalogue(defined).set_index("metric")
    assert rows.loc["nps", "metric_label"] == "Net promoter score (NPS)"
    assert rows.loc["churn_rate", "metric_label"] == "Churn rate"      # made from its name
    undo_batch(defined, result.batch)
    assert definitions(defined) == before


@pytest.mark.parametrize("label, says", [
    ("x" * 81, "at most 80 characters"),
    ('"two\nlines"', "one line"),
])
def test_a_label_that_is_no_title_is_refused_and_nothing_changes(defined, label, says):
    before = definitions(defined)
    with pytest.raises(InputError) as refused:
        imported(defined, f"metric,label\nnps,{label}\n".encode())
    [problem] = refused.value.problems
    assert problem.startswith("row 2, column 'label': ") and says in problem
    assert "defs.csv" in str(refused.value)
    assert definitions(defined) == before


# --- empty keeps, a mark clears ------------------------------------------------------------

@pytest.mark.parametrize("cell", ["-", "none", "(None)", " N/A ", "null"])
def test_a_clear_mark_clears_and_an_empty_cell_keeps(defined, cell):
    text = f"metric,department,description,unit\nnps,{cell},,{cell}\n".encode()
    result = imported(defined, text)
    nps = defined.definitions.metrics()["nps"]
    assert (nps.department, nps.description, nps.unit) == (None, "Net promoter score", "number")
    assert [c["text"] for c in result.details["changes"]] == ["nps: department Product -> (empty)"]


def test_a_clear_mark_in_a_number_or_date_column_clears_it(defined):
    text = (b"launch,launch_date,cac_target,promotion_date,conversion_target\n"
            b"Spring launch,2025-03-10,-,-,\n")
    result = imported(defined, text)
    [launch] = defined.definitions.launches()
    assert (launch.cac_target, launch.promotion_date, launch.conversion_target) == (
        None, None, pytest.approx(0.03))
    assert [c["text"] for c in result.details["changes"]] == [
        "Spring launch: cac_target 40 -> (empty)"]


def test_a_new_definition_takes_the_defaults_for_what_it_does_not_say(defined):
    imported(defined, b"metric,unit,department\nsignups,,-\n")
    assert defined.definitions.metrics()["signups"] == Metric("signups")


# --- every kind lists its field changes and keeps what it does not hold ------------------

def test_kpis_keep_owner_and_objective_when_the_file_has_no_such_columns(defined):
    result = imported(defined, b"title,metric,target,target_kind\n"
                               b"Churn under 5%,churn_rate,4%,max\n")
    kpi = next(k for k in defined.definitions.kpis() if k.title == "Churn under 5%")
    assert (kpi.owner, kpi.objective, kpi.period, kpi.tolerance) == (
        "Ben", "Keep customers", "quarter", pytest.approx(0.05))
    assert [c["text"] for c in result.details["changes"]] == ["Churn under 5%: target 0.05 -> 0.04"]


def test_targets_list_their_changes(defined):
    result = imported(defined, b"kpi,period,target\nConversion at least 3%,2025-03,2.8%\n")
    assert [c["text"] for c in result.details["changes"]] == [
        "Conversion at least 3% / 2025-03: target 0.025 -> 0.028"]
    assert {t.period: t.target for t in defined.definitions.targets()}["2025-03"] == pytest.approx(0.028)


def test_key_results_keep_their_owner_and_list_what_changed(defined):
    result = imported(defined, b"objective,title,metric,start,target,start_date,deadline\n"
                               b"Grow,Win more leads,leads,120,220,2025-04-01,2025-07-31\n")
    leads = next(r for r in defined.definitions.key_results() if r.title == "Win more leads")
    assert (leads.target, leads.deadline, leads.owner, leads.department) == (
        220, date(2025, 7, 31), None, "Finance")
    assert [c["text"] for c in result.details["changes"]] == [
        "Grow / Win more leads: target 200 -> 220",
        "Grow / Win more leads: deadline 2025-06-30 -> 2025-07-31"]
    ana = imported(defined, b"objective,title,metric,start,target,start_date,deadline,owner\n"
                            b"Delight customers,Increase NPS from 20 to 40,nps,20,40,"
                            b"2025-04-01,2025-06-30,\n")
    assert (ana.updated, ana.unchanged) == (0, 1)       # the empty owner keeps Ana


def test_undo_of_a_partial_file_restores_every_kind_exactly(defined):
    before = definitions(defined)
    results = import_files(defined, [
        (b"metric,aggregation,department\nnps,mean,-\nchurn_rate,,Customers\n", "m.csv"),
        (b"title,metric,target,target_kind,owner\nChurn under 5%,churn_rate,4%,max,-\n", "k.csv"),
        (b"launch,launch_date,cac_target\nSpring launch,2025-03-10,45\n", "l.csv")])
    assert [r.updated for r in results] == [2, 1, 1]
    for result in reversed(results):
        undo_batch(defined, result.batch)
    assert definitions(defined) == before


# --- the dashboard's tables hold every column: an empty cell there clears -----------------

def test_clearing_a_cell_in_the_editor_clears_it(defined):
    table = template.editable_frame("metrics", defined.definitions.metrics().values())
    edited = table.copy()
    row = edited.index[edited["metric"] == "nps"][0]
    edited.loc[row, "description"] = None
    edited.loc[row, "department"] = "Customer success"
    [saved] = import_frames(defined, [(edited, "Edited metrics", "metrics")])
    nps = defined.definitions.metrics()["nps"]
    assert (nps.description, nps.department, nps.aggregation) == ("", "Customer success", "last")
    assert {c["text"] for c in saved.details["changes"]} == {
        "nps: department Product -> Customer success",
        "nps: description Net promoter score -> (empty)"}


def test_an_editor_table_read_back_unchanged_changes_nothing(defined):
    for kind in ("kpis", "key_results", "launches"):
        table = template.editable_frame(kind, current_definitions(defined, kind))
        [saved] = import_frames(defined, [(table, f"Edited {kind}", kind)])
        assert (saved.batch, saved.updated, saved.details["changes"]) == (None, 0, []), kind


def test_a_frame_with_some_columns_changes_only_those(defined):
    frame = pd.DataFrame({"metric": ["nps"], "description": [None]})
    [saved] = import_frames(defined, [(frame, "Metric page", "metrics")])
    nps = defined.definitions.metrics()["nps"]
    assert (nps.description, nps.department, nps.aggregation) == ("", "Product", "last")
    assert saved.updated == 1


# --- the CLI prints the changes and the choices ---------------------------------------------

def test_the_cli_lists_changed_fields_and_metrics_defined_from_history(database, tmp_path,
                                                                      capsys):
    db = database
    with open_store(db) as store:
        import_files(store, files("metrics.csv"))
    history = tmp_path / "payrolls.csv"
    history.write_text("month,payrolls\n2015-01,142000\n2015-02,142210\n2015-03,142400\n")
    change = tmp_path / "aggregation.csv"
    change.write_text("metric,aggregation\nnps,mean\n")
    assert main(["--db", str(db), "import", str(history), str(change), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Changed fields (aggregation.csv):\n  nps: aggregation last -> mean" in out
    assert ("Metrics defined from history (payrolls.csv):\n  payrolls: a level (values 142,000 "
            "to 142,400, month-to-month changes typically 0.14% of the value): aggregation "
            "last") in out
    assert "Dry run: nothing was written." in out


# --- the pure parts --------------------------------------------------------------------

def test_merging_keeps_unstated_fields_of_stored_keys_only_and_mutates_nothing():
    stored = {"nps": Metric("nps", department="Product", aggregation="last")}
    items = [Metric("nps", aggregation="mean"), Metric("new")]
    stated = [frozenset({"name", "aggregation"}), frozenset({"name"})]
    merged = merge.merged_definitions(items, stated, stored)
    assert merged == [Metric("nps", department="Product", aggregation="mean"), Metric("new")]
    assert items == [Metric("nps", aggregation="mean"), Metric("new")]
    assert merge.definition_changes("metrics", merged, stored)[0]["field"] == "aggregation"


def test_changes_name_the_column_and_show_values_as_read():
    old = KPI("T", "m", 1000.0, "min", supporting=("a", "b"))
    new = replace(old, target=1250.5, supporting=(), owner="Ann")
    assert [c["text"] for c in merge.definition_changes("kpis", [new], {"T": old})] == [
        "T: target 1,000 -> 1,250.5", "T: owner (empty) -> Ann", "T: supporting a, b -> (empty)"]
    renamed = Metric("m", dimension_name="channel")
    assert merge.definition_changes("metrics", [renamed], {"m": Metric("m")})[0]["field"] == \
        "dimension"
