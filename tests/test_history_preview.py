"""The first rows of a history file as the import preview shows them
(store/history_preview.py through the importer's details["first_rows"]):
parsed by the import's own SQL, a few per metric, in the file's order."""
from __future__ import annotations

from datetime import date

from kpi_logic.ingest.importing import import_files
from kpi_logic.store import history_preview, memory_store


def first_rows(data: bytes, name: str = "file.csv", **options) -> list[dict]:
    with memory_store() as store:
        [result] = import_files(store, [(data, name)], dry_run=True, **options)
        return result.details["first_rows"]


def test_a_wide_file_gives_each_metric_its_first_values_in_the_files_order():
    rows = first_rows(b"month,Leads,Revenue\n2025-01,120,\"$1,200.50\"\n2025-02,,1300\n"
                      b"2025-03,150,(20)\n2025-04,160,1400\n")
    assert [(r["line"], r["date"], r["metric"], r["value"]) for r in rows] == [
        (2, date(2025, 1, 1), "leads", 120.0), (2, date(2025, 1, 1), "revenue", 1200.5),
        (3, date(2025, 2, 1), "revenue", 1300.0),       # an empty cell is no value
        (4, date(2025, 3, 1), "leads", 150.0), (4, date(2025, 3, 1), "revenue", -20.0),
        (5, date(2025, 4, 1), "leads", 160.0)]
    assert {r["dimension"] for r in rows} == {r["campaign"] for r in rows} == {None}


def test_the_date_order_chosen_is_the_one_shown():
    data = b"date,metric,value\n03/04/2025,visits,10\n04/04/2025,visits,12\n"
    assert [r["date"] for r in first_rows(data, date_order="dmy")] == [date(2025, 4, 3),
                                                                       date(2025, 4, 4)]
    assert [r["date"] for r in first_rows(data, date_order="mdy")] == [date(2025, 3, 4),
                                                                       date(2025, 4, 4)]


def test_a_long_file_is_capped_per_metric_and_in_all():
    lines = [f"2025-01-{day:02d},search,Brand,{metric},{day}" for day in range(1, 29)
             for metric in ("spend", "clicks", "new_customers")]
    rows = first_rows(("date,channel,campaign,metric,value\n" + "\n".join(lines)).encode())
    assert len(rows) == 3 * history_preview.PER_METRIC
    assert {(r["dimension"], r["campaign"]) for r in rows} == {("search", "Brand")}
    assert [r["value"] for r in rows if r["metric"] == "spend"] == [1.0, 2.0, 3.0]


def test_a_table_wider_than_the_union_limit_is_read_the_same_way():
    names = [f"m{i}" for i in range(40)]        # past writes_history.UNION_UP_TO_COLUMNS
    data = ("date," + ",".join(names) + "\n" + "2025-01-01," + ",".join(str(i) for i in
                                                                        range(40))).encode()
    rows = first_rows(data)
    assert len(rows) == history_preview.MOST_ROWS
    assert [(r["metric"], r["value"]) for r in rows[:3]] == [("m0", 0.0), ("m1", 1.0),
                                                             ("m2", 2.0)]
