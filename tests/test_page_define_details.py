"""AppTest of what Import and define says beyond the counts: the metrics a
file defines from their history (what each got and why) and every field a
definition file changes, in the preview and after the import; and that
clearing a cell in the definitions editor clears the stored field."""
from __future__ import annotations

from kpi_logic.ingest.edits import current_metrics
from tests.readable import shown
from tests.test_page_define import button, opened, page_db, saved, table_with  # noqa: F401

PAYROLLS = b"month,payrolls\n2015-01,142000\n2015-02,142210\n2015-03,142400\n"
AGGREGATION = b"metric,aggregation\nnps,mean\n"


def checked(at, *files: tuple[str, bytes]):
    at.file_uploader(key="define_files").set_value([(n, b, "text/csv") for n, b in files])
    button(at.run(), "define_check").click().run()
    assert not at.exception and not at.error
    return at


def test_the_preview_says_what_a_metric_from_history_gets_and_why(page_db):
    at = checked(opened(), ("payrolls.csv", PAYROLLS))
    inferred = table_with(at, "Judged as").to_dict("records")
    assert inferred == [{
        "File": "payrolls.csv", "Sheet": "", "Metric": "payrolls", "Unit": "number",
        "Aggregation": "last", "Judged as": "level",
        "Why": "values 142,000 to 142,400, month-to-month changes typically 0.14% of the value"}]
    assert any("metric,aggregation" in m.value for m in at.markdown)
    assert "payrolls" not in saved(page_db, current_metrics)      # a check saves nothing


def test_a_definition_file_lists_its_field_changes_and_keeps_the_rest(page_db):
    at = checked(opened(), ("aggregation.csv", AGGREGATION))
    assert table_with(at, "Field").to_dict("records") == [{
        "File": "aggregation.csv", "Sheet": "", "Definition": "nps", "Field": "aggregation",
        "Before": "last", "After": "mean"}]
    button(at, "define_import").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.dataframe if "Field" in t.value.columns][-1]["After"].tolist() \
        == ["mean"]
    nps = saved(page_db, current_metrics)["nps"]
    assert (nps.aggregation, nps.department) == ("mean", "Product")


def test_clearing_a_cell_in_the_editor_clears_the_field_and_says_so(page_db):
    at = opened()
    at.segmented_control(key="define_kind").set_value("metrics").run()
    table = at.data_editor(key="define_editor_metrics").value
    row = int(table.index[table["metric"] == "nps"][0])
    at.session_state["define_editor_metrics"] = {
        "edited_rows": {row: {"department": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "define_save_metrics").click().run()
    assert not at.exception and not at.error
    assert any("nps: department Product -> (empty)" in shown(s.value) for s in at.success)
    nps = saved(page_db, current_metrics)["nps"]
    assert (nps.department, nps.aggregation) == (None, "last")
