"""Objectives and check-ins as definitions: imported from files like every
other definition (all-or-nothing, versioned, undoable), refused row by row with
the column named, and recorded one at a time by `checkin` and the pages."""
from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, CheckIn, KeyResult
from kpi_logic.ingest import goal_rows
from kpi_logic.ingest.definition_rows import Source
from kpi_logic.ingest.edits import pin_kpi, record_checkin
from kpi_logic.ingest.importing import import_files
from kpi_logic.ingest.undo import undo_batch
from tests.builders import add_metrics

SOURCE = Source("goals.csv")
CAC = KPI("CAC at most $40", "cac", 40, "max", period="month")
ROI = KPI("ROI", "roi", 0.2, "min", period="quarter")
DEMOS = KeyResult("Grow revenue", "Book 500 demos", "demos", 0, 500, date(2026, 10, 1),
                  date(2026, 12, 31))
DEMOS_TOO = KeyResult("Grow pipeline", "Book 500 demos", "demos", 0, 500, date(2026, 10, 1),
                      date(2026, 12, 31))
NOW = datetime(2026, 12, 7, 9, 30)


def rows(**columns) -> pd.DataFrame:
    """A parsed definition frame: "_line" from 2, the given columns."""
    frame = pd.DataFrame(columns, dtype=object)
    frame.insert(0, "_line", range(2, len(frame) + 2))
    return frame


def refusal(call) -> list[str]:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.problems


# ---------------------------------------------------------------- objectives

def test_objectives_are_read_with_cycle_owner_and_parent():
    frame = rows(objective=["Grow revenue", "Win the launch"], owner=["Dana", None],
                 department=["Sales", "Marketing"], cycle=["2026-q4", "2026-H2"],
                 description=["More, bigger customers", None], parent=[None, "Grow revenue"])
    grow, launch = goal_rows.objective_definitions(frame, SOURCE)
    assert (grow.name, grow.owner, grow.cycle, grow.description) == (
        "Grow revenue", "Dana", "2026-Q4", "More, bigger customers")
    assert (launch.parent, launch.cycle, launch.description) == ("Grow revenue", "2026-H2", "")


def test_objective_refusals_name_row_and_column():
    frame = rows(objective=["A", "B", "C"], cycle=["Q4", "2026", "2026-Q5"],
                 parent=[None, "Nowhere", None])
    assert refusal(lambda: goal_rows.objective_definitions(frame, SOURCE)) == [
        "row 2, column 'cycle': 'Q4' is not a cycle like 2026-Q4, 2026-H2, 2026 or 2026-11",
        "row 4, column 'cycle': '2026-Q5' is not a cycle like 2026-Q4, 2026-H2, 2026 or 2026-11"]
    assert refusal(lambda: goal_rows.objective_definitions(rows(
        objective=["A", "B"], parent=[None, "Nowhere"]), SOURCE)) == [
        "row 3, column 'parent': 'Nowhere' is not an objective; define it in the same table "
        "or import it first"]


def test_parents_that_go_round_in_a_circle_are_refused():
    circle = rows(objective=["A", "B"], parent=["B", "A"])
    assert [p.split(":")[0] for p in refusal(
        lambda: goal_rows.objective_definitions(circle, SOURCE))] == [
        "row 2, column 'parent'", "row 3, column 'parent'"]
    assert refusal(lambda: goal_rows.objective_definitions(rows(objective=["A"], parent=["A"]),
                                                           SOURCE))


# ---------------------------------------------------------------- check-ins

def test_a_kpi_check_in_takes_its_period_or_a_date_inside_it():
    frame = rows(kpi=["CAC at most $40", "roi"], period=["2026-11-20", "2026-q4"],
                 note=["Spend cut", "On plan"], by=["Lea", None], at=[None, "2026-12-01 08:15"])
    cac, roi = goal_rows.checkin_definitions(frame, SOURCE, [CAC, ROI], [], now=NOW)
    assert cac == CheckIn("kpi", "", "CAC at most $40", "2026-11", "Spend cut", None, "Lea", NOW)
    assert (roi.title, roi.period, roi.checked_at) == ("ROI", "2026-Q4",
                                                       datetime(2026, 12, 1, 8, 15))


def test_a_key_result_check_in_takes_a_week_month_or_quarter_and_a_confidence():
    frame = rows(key_result=["Book 500 demos"] * 3, objective=["grow revenue"] * 3,
                 period=["2026-12-07", "2026-11", "2026-Q4"], note=["a", "b", "c"],
                 confidence=["High", "7/10", None])
    week, month, quarter = goal_rows.checkin_definitions(frame, SOURCE, [], [DEMOS, DEMOS_TOO],
                                                         now=NOW)
    assert (week.kind, week.objective, week.period, week.confidence) == (
        "key_result", "Grow revenue", "2026-W50", "high")
    assert (month.period, month.confidence, quarter.period, quarter.confidence) == (
        "2026-11", "7", "2026-Q4", None)


def test_check_in_refusals_list_every_bad_row():
    frame = rows(kpi=["CAC at most $40", "CAC at most $40", "Nope", None, "ROI", None],
                 key_result=[None, None, None, "Book 500 demos", None, None],
                 period=["2026-Q4", "2026-11", "2026-11", "2026-W50", "2026-Q4", "2026-11"],
                 note=["x", "y", "z", "w", "v", "u"],
                 confidence=[None, "high", None, None, "eleven", None])
    assert refusal(lambda: goal_rows.checkin_definitions(frame, SOURCE, [CAC, ROI],
                                                         [DEMOS, DEMOS_TOO])) == [
        "row 2, column 'period': '2026-Q4' is a quarter, and the KPI is judged by month: write "
        f"a month such as {date.today():%Y-%m}",
        "row 3, column 'confidence': a KPI's check-in has a note only (a confidence is for key "
        "results)",
        "row 4, column 'kpi': 'Nope' is not a KPI title",
        "row 5, column 'key_result': 'Book 500 demos' is a key result of several objectives "
        "(Grow pipeline, Grow revenue); name the objective",
        "row 6, column 'confidence': 'eleven' is not a confidence: write low, medium, high or "
        "1 to 10",
        "row 7, column 'kpi': name either a KPI (column kpi) or a key result (column "
        "key_result), not both or neither"]


def test_a_key_result_check_in_outside_its_time_and_a_long_note_are_refused():
    frame = rows(key_result=["Book 500 demos", "Book 500 demos"], objective=["Grow revenue"] * 2,
                 period=["2026-W02", "2026-W50"], note=["early", "x" * 2001])
    assert refusal(lambda: goal_rows.checkin_definitions(frame, SOURCE, [], [DEMOS])) == [
        "row 2, column 'period': 2026-W02 is outside the key result's time (2026-10-01 to "
        "2026-12-31)",
        "row 3, column 'note': is 2,001 characters long; a check-in's note is at most 2,000"]


def test_one_subject_and_period_twice_is_refused():
    frame = rows(kpi=["CAC at most $40", "CAC at most $40"], period=["2026-11", "2026-11-30"],
                 note=["a", "b"])
    with pytest.raises(InputError, match="the same check-in"):
        goal_rows.checkin_definitions(frame, SOURCE, [CAC], [])


def test_frames_are_not_mutated():
    frame = rows(kpi=["CAC at most $40"], period=["2026-11-20"], note=["a"])
    before = frame.copy()
    goal_rows.checkin_definitions(frame, SOURCE, [CAC], [])
    pd.testing.assert_frame_equal(frame, before)


# ---------------------------------------------------------------- through the importer

def defined(store):
    add_metrics(store, {"cac": {"department": "Marketing", "unit": "currency", "direction": "down"},
                        "demos": {"department": "Sales"}})
    files = [
        ("title,metric,target,target_kind\nCAC at most $40,cac,40,at most\n", "kpis.csv"),
        ("objective,title,metric,start,target,start_date,deadline\n"
         "Grow revenue,Book 500 demos,demos,0,500,2026-10-01,2026-12-31\n", "key_results.csv"),
        ("objective,owner,department,cycle,description\nGrow revenue,Dana,Sales,2026-Q4,More\n",
         "objectives.csv")]
    import_files(store, [(io.BytesIO(text.encode()), name) for text, name in files])


def test_objective_and_check_in_files_import_and_undo(store):
    defined(store)
    text = ("KPI,Key result,Period,Note,Confidence,Checked by,Checked at\n"
            "CAC at most $40,,2026-11,Spend cut mid-month,,Lea,2026-12-02 10:00\n"
            ",Book 500 demos,2026-W49,Webinar next week,low,Sam,2026-12-04 09:00\n")
    result, = import_files(store, [(io.BytesIO(text.encode()), "weekly review.csv")])
    assert (result.kind, result.inserted) == ("checkins", 2)
    assert [(c.title, c.checked_by, c.confidence) for c in store.definitions.checkins()] == [
        ("Book 500 demos", "Sam", "low"), ("CAC at most $40", "Lea", None)]
    # the same rows again with a new note: one change, the other unchanged
    again, = import_files(store, [(io.BytesIO(text.replace("Spend cut mid-month", "Spend cut")
                                              .encode()), "weekly review 2.csv")])
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    undo_batch(store, again.batch)
    assert store.definitions.checkins()[1].note == "Spend cut mid-month"
    undo_batch(store, result.batch)
    assert store.definitions.checkins() == []
    assert store.definitions.objectives()[0].owner == "Dana"


def test_a_refused_check_in_file_changes_nothing(store):
    defined(store)
    before = (store.definitions.checkins(), store.batches.listed().to_dict("records"))
    text = "kpi,period,note\nCAC at most $40,2026-11,fine\nNo such KPI,2026-11,x\n"
    with pytest.raises(InputError, match="No such KPI"):
        import_files(store, [(io.BytesIO(text.encode()), "checkins.csv")])
    assert (store.definitions.checkins(), store.batches.listed().to_dict("records")) == before


def test_record_checkin_replaces_the_period_and_undo_brings_it_back(store):
    defined(store)
    first = record_checkin(store, kpi="CAC at most $40", period="2026-11", note="First", by="Lea")
    second = record_checkin(store, kpi="CAC at most $40", period="2026-11", note="Second",
                            by="Lea")
    assert (first.inserted, second.updated) == (1, 1)
    assert [c.note for c in store.definitions.checkins()] == ["Second"]
    undo_batch(store, second.batch)
    assert [c.note for c in store.definitions.checkins()] == ["First"]


def test_record_checkin_names_the_field_not_a_row(store):
    defined(store)
    with pytest.raises(InputError) as caught:
        record_checkin(store, key_result="Book 500 demos", period="2026-W50", note="x",
                       confidence="sure")
    assert str(caught.value) == ("Check-in: confidence: 'sure' is not a confidence: write low, "
                                 "medium, high or 1 to 10")


def test_pinning_a_kpi_is_a_batch_of_its_own(store):
    defined(store)
    pinned = pin_kpi(store, "CAC at most $40")
    assert [k.pinned for k in store.definitions.kpis()] == [True]
    assert pin_kpi(store, "CAC at most $40").batch is None       # already pinned
    undo_batch(store, pinned.batch)
    assert [k.pinned for k in store.definitions.kpis()] == [False]
    with pytest.raises(InputError, match="'Nope' is not a KPI title"):
        pin_kpi(store, "Nope")


def test_a_version_6_file_gains_objectives_check_ins_and_pins_and_keeps_its_kpis(tmp_path):
    """Schema 7 adds two tables and a column; a KPI stored before is not pinned."""
    import duckdb

    from kpi_logic.store import SCHEMA_VERSION, db, open_store
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        for version in range(1, 7):
            con.execute(db.MIGRATIONS[version])
        con.execute("insert into schema_version values (6)")
        con.execute("insert into batches (id, run_id, file, kind, imported_at, rows) "
                    "values (1, 1, 'kpis.csv', 'kpis', now(), 1)")
        con.execute("insert into kpis (title, metric, target, target_kind, batch_id) "
                    "values ('CAC at most $40', 'cac', 40, 'max', 1)")
        con.execute("insert into metrics (name, unit, direction, aggregation, batch_id) "
                    "values ('chat_minutes', 'number', 'down', 'mean', 1)")
    with open_store(path) as store:
        assert [(k.title, k.pinned) for k in store.definitions.kpis()] == [
            ("CAC at most $40", False)]
        assert (store.definitions.objectives(), store.definitions.checkins()) == ([], [])
        assert db.schema_version(store.connection) == SCHEMA_VERSION == 8
        # schema 8: a metric from before labels has none, and is shown by its name in words
        chat = store.definitions.metrics()["chat_minutes"]
        assert chat.label is None and fmt.display_name(chat) == "Chat minutes"
