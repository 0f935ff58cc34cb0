"""Undo (of a batch, a run, everything) puts back exactly the state before,
or refuses and changes nothing; removing definitions is a batch undo reverses."""
from __future__ import annotations

import pandas as pd
import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.importing import import_files, import_frames
from kpi_logic.ingest.undo import (
    list_batches,
    remove_definitions,
    run_of,
    undo_all,
    undo_batch,
    undo_run,
)
from kpi_logic.store.writes import VERSIONED_TABLES

from .test_importing import assert_same_database, dump, files


def without_batches(state: dict) -> dict:
    return {table: frame for table, frame in state.items() if table != "batches"}


@pytest.fixture
def two_imports(store):
    """history_wide.csv, then a correction of it; the states before and after the correction."""
    [first] = import_files(store, files("history_wide.csv"))
    after_first = dump(store)
    [second] = import_files(store, files("history_wide_corrected.csv"))
    return store, first.batch, second.batch, after_first


def test_undo_restores_the_state_before_the_batch(two_imports):
    store, _, second, after_first = two_imports
    result = undo_batch(store, second)
    assert (result["batch"], result["deleted"], result["restored"]) == (second, 5, 1)
    assert_same_database(without_batches(after_first), without_batches(dump(store)))
    undone = list_batches(store).set_index("id").loc[second, "undone_at"]
    assert pd.notna(undone)


def test_undo_is_refused_while_a_later_batch_replaced_its_rows(two_imports):
    store, first, second, _ = two_imports
    before = dump(store)
    with pytest.raises(InputError) as refused:
        undo_batch(store, first)
    assert f"batch {second} (history_wide_corrected.csv)" in str(refused.value)
    assert "undo that first" in str(refused.value)
    assert_same_database(before, dump(store))


def test_undo_in_reverse_order_empties_the_store(two_imports):
    store, first, second, _ = two_imports
    undo_batch(store, second)
    undo_batch(store, first)
    for table in ("observations", "metrics"):
        assert store.connection.execute(f"select count(*) from {table}").fetchone()[0] == 0


def test_undoing_twice_or_an_unknown_batch_is_refused(two_imports):
    store, _, second, _ = two_imports
    undo_batch(store, second)
    before = dump(store)
    with pytest.raises(InputError, match="already undone"):
        undo_batch(store, second)
    with pytest.raises(InputError, match="there is no batch 999"):
        undo_batch(store, 999)
    assert_same_database(before, dump(store))


def test_undone_file_can_be_imported_again(two_imports):
    store, _, second, _ = two_imports
    undo_batch(store, second)
    [again] = import_files(store, files("history_wide_corrected.csv"))
    assert again.batch is not None and again.batch != second
    assert (again.inserted, again.updated) == (4, 1)


def test_undo_of_a_definition_edit_restores_the_old_target(store):
    import_files(store, files("metrics.csv", "history_wide.csv", "kpis.csv"))
    edit = pd.DataFrame({"title": ["Churn under 5%"], "metric": ["churn_rate"],
                         "target": ["4%"], "target_kind": ["max"], "period": ["quarter"],
                         "tolerance": [0.05], "department": ["Product"]})
    [result] = import_frames(store, [(edit, "KPI editor", "kpis")])
    targets = lambda: {k.title: k.target for k in store.definitions.kpis()}
    assert targets()["Churn under 5%"] == pytest.approx(0.04)
    undo_batch(store, result.batch)
    assert targets()["Churn under 5%"] == pytest.approx(0.05)


def test_undo_removes_metrics_the_batch_inferred_and_changes_the_data_version(store):
    import_files(store, files("metrics.csv"))
    [history] = import_files(store, files("history_wide.csv"))
    version = store.definitions.data_version()
    undo_batch(store, history.batch)
    assert "revenue" not in store.definitions.metrics()
    assert "churn_rate" in store.definitions.metrics()   # defined by metrics.csv, untouched
    assert store.definitions.data_version() != version


# --- a metric's definition is not undone from under history, KPIs or formulas -----------

def test_undoing_a_definition_that_later_history_uses_is_refused(store):
    metrics, history = import_files(store, files("metrics.csv", "history_long.csv"))
    before = dump(store)
    with pytest.raises(InputError) as refused:
        undo_batch(store, metrics.batch)
    message = str(refused.value)
    assert f"batch(es) {history.batch} still use; undo those first" in message
    assert f"website_visitors: its history (batch {history.batch}, history_long.csv)" in message
    assert_same_database(before, dump(store))
    undo_batch(store, history.batch)
    undo_batch(store, metrics.batch)
    assert store.definitions.metrics() == {}


def test_undoing_a_definition_a_later_kpi_uses_names_the_kpi(store):
    [metrics] = import_files(store, files("metrics.csv"))
    import_files(store, files("history_wide.csv", "kpis.csv"))
    with pytest.raises(InputError, match="conversion_rate: KPI 'Conversion at least 3%'"):
        undo_batch(store, metrics.batch)


def test_undoing_a_metric_redefinition_restores_the_inferred_one(store):
    import_files(store, files("history_long.csv"))
    [metrics] = import_files(store, files("metrics.csv"))
    undo_batch(store, metrics.batch)
    assert store.definitions.metrics()["purchases"].department is None
    assert "nps" not in store.definitions.metrics()


# --- whole runs and a fresh start ------------------------------------------------------

def test_undo_run_puts_back_the_state_before_the_run(store):
    import_files(store, files("history_wide.csv"))
    before = dump(store)
    results = import_files(store, files("metrics.csv", "history_wide_corrected.csv", "kpis.csv",
                                      "targets.csv"))
    run = list_batches(store).set_index("id").loc[results[0].batch, "run_id"]
    undone = undo_run(store, int(run))
    assert [u["batch"] for u in undone] == sorted((r.batch for r in results), reverse=True)
    assert_same_database(without_batches(before), without_batches(dump(store)))
    with pytest.raises(InputError, match=f"run {run} was already undone"):
        undo_run(store, int(run))
    with pytest.raises(InputError, match="there is no run 999"):
        undo_run(store, 999)


def test_undo_run_is_all_or_nothing(store):
    [first] = import_files(store, files("history_wide.csv"))
    import_files(store, files("history_wide_corrected.csv"))
    before = dump(store)
    with pytest.raises(InputError, match="history_wide_corrected.csv"):
        undo_run(store, first.batch)
    assert_same_database(before, dump(store))


def test_undo_all_empties_every_table_newest_first(store):
    import_files(store, files("metrics.csv", "history_long.csv"))
    import_files(store, files("history_wide.csv", "kpis.csv", "key_results.csv"))
    live = list_batches(store)["id"].tolist()
    undone = undo_all(store)
    assert [u["batch"] for u in undone] == sorted(live, reverse=True)
    for table in VERSIONED_TABLES:
        assert store.connection.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
    assert list_batches(store)["undone_at"].notna().all()
    assert undo_all(store) == []


# --- removing definitions --------------------------------------------------------------

@pytest.fixture
def defined(store):
    import_files(store, files("metrics.csv", "history_wide.csv", "kpis.csv", "targets.csv",
                            "key_results.csv"))
    return store


def test_removing_a_kpi_takes_its_targets_and_undo_brings_both_back(defined):
    before = dump(defined)
    result = remove_definitions(defined, "kpis", ["Conversion at least 3%"])
    assert (result.kind, result.updated, result.inserted) == ("kpis", 1, 0)
    assert result.details["removed"] == ["Conversion at least 3%"]
    assert "Conversion at least 3%" not in {k.title for k in defined.definitions.kpis()}
    assert {t.kpi for t in defined.definitions.targets()} == {"Churn under 5%"}
    assert "1 per-period target(s)" in " ".join(result.notes)
    undo_batch(defined, result.batch)
    assert_same_database(without_batches(before), without_batches(dump(defined)))


@pytest.mark.parametrize("key", [("Churn under 5%", "2025-Q2"), "Churn under 5% / 2025-Q2"])
def test_a_two_part_key_is_a_pair_or_its_text(defined, key):
    remove_definitions(defined, "targets", [key])
    assert {(t.kpi, t.period) for t in defined.definitions.targets()} == {
        ("Conversion at least 3%", "2025-03")}


@pytest.mark.parametrize("metric, user", [
    ("churn_rate", "KPI 'Churn under 5%'"),
    ("nps", "key result 'Increase NPS from 20 to 40'"),
    ("purchases", "formula of 'conversion_rate'"),
])
def test_removing_a_metric_in_use_is_refused_naming_the_user(defined, metric, user):
    before = dump(defined)
    with pytest.raises(InputError) as refused:
        remove_definitions(defined, "metrics", [metric])
    assert f"{metric}: used by {user}" in str(refused.value)
    assert_same_database(before, dump(defined))


def test_removing_an_unused_metric_keeps_its_history(store):
    import_files(store, files("metrics.csv", "history_long.csv"))
    remove_definitions(store, "metrics", ["conversion_rate"])    # its formula used visitors
    result = remove_definitions(store, "metrics", ["website_visitors"], source="Metric editor")
    assert "website_visitors" not in store.definitions.metrics()
    assert list_batches(store).iloc[-1]["file"] == "Metric editor"
    assert store.connection.execute("select count(*) from observations where metric = 'website_visitors' "
                       "and superseded_by is null").fetchone()[0] == 3
    undo_batch(store, result.batch)
    assert "website_visitors" in store.definitions.metrics()


def test_removing_an_unknown_key_is_refused_and_nothing_is_a_no_op(defined):
    before = dump(defined)
    with pytest.raises(InputError, match="nothing to remove called 'No such KPI'"):
        remove_definitions(defined, "kpis", ["Churn under 5%", "No such KPI"])
    assert remove_definitions(defined, "kpis", []).batch is None
    assert_same_database(before, dump(defined))


def test_run_of_names_the_run_undo_run_takes(store):
    results = import_files(store, files("metrics.csv", "history_long.csv"))
    assert [u["batch"] for u in undo_run(store, run_of(results))] == [r.batch for r in results][::-1]
    assert run_of(import_files(store, files("metrics.csv"), dry_run=True)) is None
