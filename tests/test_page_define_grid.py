"""AppTest of the definitions editor's columns on Import and define (the
template workbook's worked example): headers people read, choice lists from
the domain's vocabularies and from what exists, and a value picked from a
choice list saved through the importer like a file; and the first rows of a
checked file as they will be stored."""
from __future__ import annotations

import json
from datetime import date

import pytest

from kpi_logic.domain.model import AGGREGATIONS, DIRECTIONS, KPI_PERIODS, TARGET_KINDS, UNITS
from kpi_logic.domain.vocabulary import DIMENSION_COLUMNS
from kpi_logic.ingest import template
from kpi_logic.ingest.undo import list_batches
from tests.readable import shown
from tests.test_page_define import button, opened, page_db, saved, stored, table_with  # noqa: F401
from tests.test_page_define_details import checked


def columns(at, kind: str) -> dict:
    """The editor's column config of one kind, as the browser receives it."""
    if kind != "kpis":
        at.segmented_control(key="define_kind").set_value(kind).run()
    return json.loads(at.data_editor(key=f"define_editor_{kind}").proto.columns)


def options(config: dict, column: str) -> list[str] | None:
    """A choice-list column's options (None for any other column)."""
    type_config = config[column]["type_config"]
    return type_config.get("options") if type_config["type"] == "selectbox" else None


@pytest.mark.parametrize("kind", template.EDITABLE)
def test_every_column_of_every_grid_has_a_header_people_read(page_db, kind):
    config = columns(opened(), kind)
    assert set(config) - {"_index"} == set(template.columns(kind))   # _index: hidden
    for column in template.columns(kind):
        settings = config[column]
        assert "_" not in settings["label"] and settings["label"][0].isupper(), (column, settings)
        assert settings.get("help"), f"{kind}.{column} explains itself on hover"


def test_kpi_columns_choose_from_the_vocabularies_and_what_exists(page_db):
    config = columns(opened(), "kpis")
    assert config["target_kind"]["label"] == "Target kind"
    assert options(config, "target_kind") == list(TARGET_KINDS)
    assert options(config, "period") == list(KPI_PERIODS)
    assert options(config, "metric") == sorted(saved(page_db, lambda s: s.definitions.metrics()))
    assert options(config, "department") == ["Marketing", "Product"]
    assert options(config, "objective") == ["Delight customers", "Grow online sales"]
    assert config["pinned"]["type_config"]["type"] == "checkbox"
    assert config["target"]["type_config"]["type"] == "number"
    assert config["metric"]["required"] and not config["owner"].get("required")
    assert options(config, "title") is None and options(config, "owner") is None


def test_other_grids_choose_from_their_vocabularies(page_db):
    at = opened()
    metrics = columns(at, "metrics")
    assert [options(metrics, c) for c in ("unit", "direction", "aggregation")] == [
        list(UNITS), list(DIRECTIONS), list(AGGREGATIONS)]
    assert options(metrics, "dimension") == list(DIMENSION_COLUMNS)
    assert metrics["dimension"]["label"] == "Breakdown"
    targets = columns(at, "targets")
    assert (targets["kpi"]["label"], options(targets, "kpi")) == (
        "KPI", ["CAC at most $40", "Conversion at least 3%"])
    key_results = columns(at, "key_results")
    assert options(key_results, "objective") == ["Delight customers", "Grow online sales"]
    assert key_results["deadline"]["type_config"]["type"] == "date"
    assert key_results["start"]["label"] == "Start value"
    assert options(columns(at, "objectives"), "parent") == ["Delight customers",
                                                            "Grow online sales"]
    launches = columns(at, "launches")
    assert launches["cac_target"]["label"] == "CAC target"
    assert launches["launch_date"]["type_config"]["type"] == "date"


def test_a_value_picked_from_a_choice_list_is_saved_as_an_undoable_batch(page_db):
    before = len(saved(page_db, list_batches))
    at = opened()
    table = at.data_editor(key="define_editor_kpis").value
    row = int(table.index[table["title"] == "Conversion at least 3%"][0])
    # What the grid sends when "max", "quarter" and the tick box are chosen.
    at.session_state["define_editor_kpis"] = {
        "edited_rows": {row: {"target_kind": "max", "period": "quarter", "pinned": True}},
        "added_rows": [], "deleted_rows": []}
    button(at.run(), "define_save_kpis").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved KPIs: 0 new, 1 changed" in shown(s.value) for s in at.success)
    kpi = next(k for k in stored(page_db, "kpis") if k.title == "Conversion at least 3%")
    assert (kpi.target_kind, kpi.period, kpi.pinned) == ("max", "quarter", True)
    batches = saved(page_db, list_batches)
    assert len(batches) == before + 1 and batches.iloc[-1]["file"] == "Edited KPIs"


def test_a_choice_outside_the_list_is_still_refused_by_the_importer(page_db):
    before = stored(page_db, "kpis")
    at = opened()
    at.session_state["define_editor_kpis"] = {
        "edited_rows": {0: {"metric": "no_such_metric"}}, "added_rows": [], "deleted_rows": []}
    button(at.run(), "define_save_kpis").click().run()
    assert any("no_such_metric" in shown(e.value) for e in at.error)
    assert stored(page_db, "kpis") == before


CHANNELS = (b"date,channel,campaign,metric,value\n"
            b"03/04/2025,search_ads,Brand terms,Spend,\"$450.20\"\n"
            b"03/04/2025,search_ads,Spring,spend,\"1,000\"\n"
            b"03/04/2025,social,,conversion rate,12.5%\n"
            b"13/04/2025,search_ads,Brand terms,spend,470\n"
            b"14/04/2025,search_ads,Brand terms,spend,480\n")


def test_the_preview_shows_the_first_values_as_they_will_be_stored(page_db):
    at = checked(opened(), ("channels.csv", CHANNELS))
    first = table_with(at, "Campaign")
    assert list(first.columns) == ["Row", "Date", "Metric", "Channel", "Campaign", "Value"]
    # Day first (13/04 settles it), names as keys, $ and , and % read; three per metric.
    assert first.values.tolist() == [
        [2, date(2025, 4, 3), "spend", "search_ads", "Brand terms", 450.2],
        [3, date(2025, 4, 3), "spend", "search_ads", "Spring", 1000.0],
        [4, date(2025, 4, 3), "conversion_rate", "social", "", 0.125],
        [5, date(2025, 4, 13), "spend", "search_ads", "Brand terms", 470.0]]
    assert any("First values of channels.csv" in shown(m.value) for m in at.markdown)
    assert "spend" not in saved(page_db, lambda s: s.definitions.metrics())   # nothing saved


def test_the_notes_are_listed_in_full_under_the_preview(page_db):
    at = checked(opened(), ("payrolls.csv", b"month,payrolls\n2015-01,142000\n2015-02,142210\n"))
    preview = table_with(at, "Metrics found")
    assert "Notes" not in preview.columns
    notes = [shown(m.value) for m in at.markdown if shown(m.value).startswith("- **payrolls.csv**:")]
    assert notes and "metric(s) defined from their history" in notes[0]
