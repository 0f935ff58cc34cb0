"""kpi_logic/output/export_tables.py on the demo company: the download of a
table that shows text ("38.5k", "✔ On track") carries the engine's numbers,
dates and words, and reads back from the XLSX as those numbers."""
from __future__ import annotations

import copy
import io
from datetime import date

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from kpi_logic.domain import formatting as fmt
from kpi_logic.ingest import undo
from kpi_logic.metrics import catalogue, kpis, okrs, rollups, suggest
from kpi_logic.output import export_tables, exports
from kpi_logic.store import open_store


@pytest.fixture
def demo(demo_database):
    with open_store(demo_database, read_only=True) as store:
        yield store


def read_back(table: exports.Table) -> pd.DataFrame:
    """The table as the XLSX download holds it, read with python-calamine."""
    data = exports.xlsx_bytes(table.values, units=table.units)
    header, *rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return pd.DataFrame(rows, columns=header).replace("", None)


def test_plain_metrics_carry_the_scorecards_numbers(demo):
    card = kpis.scorecard(demo, "Marketing", as_of=date.today())
    entries = card["metrics"]
    before = copy.deepcopy(entries)
    table = export_tables.plain_metrics(entries)
    assert entries == before
    values = table.values
    assert values["Metric"].tolist() == [m["metric_label"] for m in entries]
    assert values["Name"].tolist() == [m["metric"] for m in entries]
    assert values["Value"].tolist() == [m["value"] for m in entries]
    assert values["vs previous (%)"].tolist() == [m["vs_previous"]["pct"] for m in entries]
    assert table.units["Value"] == [m["unit"] for m in entries]
    back = read_back(table)
    # openpyxl writes 16 significant digits (Excel keeps 15)
    assert back["Value"].tolist() == pytest.approx([m["value"] for m in entries], rel=1e-14)
    assert back["Data through"].tolist() == [date.fromisoformat(m["data_through"]) for m in entries]
    assert "Trend" not in back.columns


def test_key_results_carry_progress_as_fractions_and_deadlines_as_dates(demo):
    objective = okrs.okr_report(demo, as_of=date.today())["objectives"][0]
    table = export_tables.key_results(objective)
    back = read_back(table)
    krs = objective["key_results"]
    assert back["Key result"].tolist() == [kr["title"] for kr in krs]
    assert back["Progress"].tolist() == pytest.approx([kr["progress"] for kr in krs])
    assert back["Now"].tolist() == pytest.approx([kr["current"] for kr in krs])
    assert back["Status"].tolist() == [fmt.status_word(kr["status"]) for kr in krs]
    assert back["Deadline"].tolist() == [date.fromisoformat(kr["deadline"]) for kr in krs]
    assert table.units["Progress"] == "percent"


def test_the_catalogue_carries_current_values_and_what_each_metric_serves(demo):
    rows = catalogue.metric_catalogue(demo).to_dict("records")
    back = read_back(export_tables.catalogue(rows))
    assert back["Name"].tolist() == [r["metric"] for r in rows]
    # the demo labels chat_duration_minutes; the others are their names in words
    assert back["Metric"].tolist() == [r["metric_label"] for r in rows]
    assert "Chat duration" in back["Metric"].tolist()
    assert back["Current"].tolist() == pytest.approx([r["current"] for r in rows], nan_ok=True)
    linked = next(r for r in rows if r["used_by"])
    assert back.set_index("Name").loc[linked["metric"], "Linked to"] == "; ".join(linked["used_by"])


def test_target_history_keeps_the_values_and_which_periods_were_used(demo):
    rolled = rollups.rolled_up(demo, ["website_visitors"], "month")
    history = suggest.suggestion_history(rolled, "month", date.today()).tail(12)
    back = read_back(export_tables.target_history(history, "number"))
    assert back["Period"].tolist() == history["label"].tolist()
    assert back["Value"].tolist() == pytest.approx(history["value"].tolist())
    assert back["Used"].tolist() == history["used"].tolist()


def test_batches_list_newest_first_with_times_as_date_times(demo):
    listed = undo.list_batches(demo)
    back = read_back(export_tables.batches(listed))
    assert back["Batch"].tolist() == listed["id"].tolist()[::-1]
    assert set(back["Status"]) == {"in effect"}
    assert back["Imported at"].iloc[0] == listed["imported_at"].iloc[-1].floor("s").to_pydatetime()
    assert back["Rows"].tolist() == listed["rows"].tolist()[::-1]
