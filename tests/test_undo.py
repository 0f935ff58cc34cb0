"""Undo puts back exactly the state before a batch, or refuses and changes nothing."""
from __future__ import annotations

import pandas as pd
import pytest

from kpi_logic.errors import InputError
from kpi_logic.importing import import_files, import_frames, list_batches, undo_batch
from kpi_logic.store.definitions import data_version, load_kpis, load_metrics

from .test_importing import assert_same_database, dump, files


def without_batches(state: dict) -> dict:
    return {table: frame for table, frame in state.items() if table != "batches"}


@pytest.fixture
def two_imports(con):
    """history_wide.csv, then a correction of it; the states before and after the correction."""
    [first] = import_files(con, files("history_wide.csv"))
    after_first = dump(con)
    [second] = import_files(con, files("history_wide_corrected.csv"))
    return con, first.batch, second.batch, after_first


def test_undo_restores_the_state_before_the_batch(two_imports):
    con, _, second, after_first = two_imports
    result = undo_batch(con, second)
    assert (result["batch"], result["deleted"], result["restored"]) == (second, 5, 1)
    assert_same_database(without_batches(after_first), without_batches(dump(con)))
    undone = list_batches(con).set_index("id").loc[second, "undone_at"]
    assert pd.notna(undone)


def test_undo_is_refused_while_a_later_batch_replaced_its_rows(two_imports):
    con, first, second, _ = two_imports
    before = dump(con)
    with pytest.raises(InputError) as refused:
        undo_batch(con, first)
    assert f"batch {second} (history_wide_corrected.csv)" in str(refused.value)
    assert "undo that first" in str(refused.value)
    assert_same_database(before, dump(con))


def test_undo_in_reverse_order_empties_the_store(two_imports):
    con, first, second, _ = two_imports
    undo_batch(con, second)
    undo_batch(con, first)
    for table in ("observations", "metrics"):
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0


def test_undoing_twice_or_an_unknown_batch_is_refused(two_imports):
    con, _, second, _ = two_imports
    undo_batch(con, second)
    before = dump(con)
    with pytest.raises(InputError, match="already undone"):
        undo_batch(con, second)
    with pytest.raises(InputError, match="there is no batch 999"):
        undo_batch(con, 999)
    assert_same_database(before, dump(con))


def test_undone_file_can_be_imported_again(two_imports):
    con, _, second, _ = two_imports
    undo_batch(con, second)
    [again] = import_files(con, files("history_wide_corrected.csv"))
    assert again.batch is not None and again.batch != second
    assert (again.inserted, again.updated) == (4, 1)


def test_undo_of_a_definition_edit_restores_the_old_target(con):
    import_files(con, files("metrics.csv", "history_wide.csv", "kpis.csv"))
    edit = pd.DataFrame({"title": ["Churn under 5%"], "metric": ["churn_rate"],
                         "target": ["4%"], "target_kind": ["max"], "period": ["quarter"],
                         "tolerance": [0.05], "department": ["Product"]})
    [result] = import_frames(con, [(edit, "KPI editor", "kpis")])
    targets = lambda: {k.title: k.target for k in load_kpis(con)}  # noqa: E731
    assert targets()["Churn under 5%"] == pytest.approx(0.04)
    undo_batch(con, result.batch)
    assert targets()["Churn under 5%"] == pytest.approx(0.05)


def test_undo_removes_metrics_the_batch_inferred_and_changes_the_data_version(con):
    import_files(con, files("metrics.csv"))
    [history] = import_files(con, files("history_wide.csv"))
    version = data_version(con)
    undo_batch(con, history.batch)
    assert "revenue" not in load_metrics(con)
    assert "churn_rate" in load_metrics(con)   # defined by metrics.csv, untouched
    assert data_version(con) != version
