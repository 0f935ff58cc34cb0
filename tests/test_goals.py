"""The review loop's rules: objective hygiene flags, the goal-management KPIs
(completion, met by deadline, on pace, checked in) and check-ins as the report
shows them; then the same through the OKR report, the scorecard and the CLI."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest

from kpi_logic.domain.model import CheckIn, KeyResult
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics import goals
from kpi_logic.metrics.kpis import scorecard
from kpi_logic.metrics.okrs import okr_report
from kpi_logic.store import open_store
from tests.builders import add_daily, add_metrics
from tests.test_cli import run, run_json

Q4 = {"start_date": date(2026, 10, 1), "deadline": date(2026, 12, 31)}


def kr(title: str, metric: str = "demos", owner: str | None = "Sam") -> KeyResult:
    return KeyResult("Grow", title, metric, 0, 100, owner=owner, **Q4)


def entry(status: str, ended: bool = False, checked: str | None = None,
          start: str = "2026-10-01", department: str = "Sales") -> dict:
    return {"status": status, "ended": ended, "start_date": start, "department": department,
            "checkins": [{"period": "2026-W49", "note": "n", "confidence": None, "by": None,
                          "at": checked}] if checked else []}


@pytest.mark.parametrize("titles, codes", [
    ([], ["no_key_results"]),
    (["a"], ["one_key_result"]),
    (["a", "b"], []),
    (["a", "b", "c", "d", "e"], []),
    (["a", "b", "c", "d", "e", "f"], ["too_many_key_results"]),
])
def test_an_objective_with_one_or_more_than_five_key_results_is_flagged(titles, codes):
    assert [f["code"] for f in goals.objective_flags([kr(t) for t in titles])] == codes


def test_key_results_without_owner_and_on_vanity_counts_are_flagged():
    flags = goals.objective_flags([kr("Reach 1M likes", "page_likes", owner=None),
                                   kr("Book demos"), kr("Raise views", "page_views", owner="")])
    assert [f["code"] for f in flags] == ["kr_without_owner", "vanity_metric"]
    assert flags[0]["text"] == ("No owner for 'Reach 1M likes', 'Raise views': someone should "
                                "answer for each key result.")
    assert flags[1]["text"].startswith("'Reach 1M likes', 'Raise views' moves an engagement count")


def test_goal_summary_counts_by_hand():
    as_of = date(2026, 12, 7)
    entries = [entry("achieved", ended=True), entry("missed", ended=True),
               entry("achieved"),                                   # achieved early: finished
               entry("on_track", checked="2026-12-05 09:00:00"),
               entry("off_track", checked="2026-11-20 09:00:00"),   # checked in, but not this week
               entry("no_data"),
               entry("no_data", start="2027-01-01")]                # not started: not running
    summary = goals.goal_summary(entries, as_of)
    assert summary == {
        "key_results": 7, "running": 4, "ended": 2,
        "completion_rate": 2 / 3,              # achieved 2 of 3 finished
        "met_by_deadline_rate": 0.5,           # 1 of 2 ended
        "timeline_adherence": 2 / 3,           # achieved + on track of 3 running with data
        "checkin_rate": 0.25}                  # 1 of 4 running checked in since 30 Nov


def test_goal_summary_of_nothing_is_undefined_not_zero():
    summary = goals.goal_summary([], date(2026, 12, 7))
    assert [summary[k] for k in ("completion_rate", "met_by_deadline_rate",
                                 "timeline_adherence", "checkin_rate")] == [None] * 4


def test_a_check_in_written_after_as_of_does_not_count():
    late = [entry("on_track", checked="2026-12-08 09:00:00")]
    assert goals.goal_summary(late, date(2026, 12, 7))["checkin_rate"] == 0


def test_checkins_of_one_subject_newest_first():
    found = goals.checkins_of([
        CheckIn("kpi", "", "CAC", "2026-10", "old", checked_at=datetime(2026, 11, 2)),
        CheckIn("kpi", "", "CAC", "2026-11", "new", checked_by="Lea",
                checked_at=datetime(2026, 12, 2, 10)),
        CheckIn("kpi", "", "ROI", "2026-11", "other", checked_at=datetime(2026, 12, 3)),
        CheckIn("key_result", "Grow", "CAC", "2026-W49", "a key result's")], "kpi", "CAC")
    assert found == [{"period": "2026-11", "note": "new", "confidence": None, "by": "Lea",
                      "at": "2026-12-02 10:00:00"},
                     {"period": "2026-10", "note": "old", "confidence": None, "by": None,
                      "at": "2026-11-02 00:00:00"}]


# ---------------------------------------------------------------- through the report

def reviewed(store):
    """CAC missed three months in a row, one key result per objective, check-ins."""
    add_metrics(store, {"cac": {"department": "Marketing", "unit": "currency",
                                "direction": "down", "aggregation": "mean"},
                        "demos": {"department": "Sales"}})
    add_daily(store, "cac", "2026-08-01", [50.0] * 128)
    add_daily(store, "demos", "2026-10-01", [5.0] * 68)
    files = {
        "kpis.csv": "title,metric,target,target_kind,pinned\nCAC at most $40,cac,40,at most,yes\n",
        "objectives.csv": "objective,owner,department,cycle,parent\n"
                          "Grow,Dana,Sales,2026-Q4,\nWin the launch,Lea,Marketing,2026-Q4,Grow\n",
        "key_results.csv": "objective,title,metric,start,target,start_date,deadline,owner\n"
                           "Grow,Book 500 demos,demos,0,500,2026-10-01,2026-12-31,Sam\n",
        "checkins.csv": "key_result,period,note,confidence,by,at\n"
                        "Book 500 demos,2026-W49,Webinar booked,low,Sam,2026-12-04 09:00\n"}
    import_files(store, [(io.BytesIO(t.encode()), n) for n, t in files.items()])


def test_the_okr_report_carries_objectives_flags_checkins_and_summary(store):
    reviewed(store)
    report = okr_report(store, as_of=date(2026, 12, 7))
    grow, launch = report["objectives"]
    assert (grow["owner"], grow["cycle"], grow["parent"], grow["department"]) == (
        "Dana", "2026-Q4", None, "Sales")
    assert [f["code"] for f in grow["flags"]] == ["one_key_result"]
    assert grow["checkins"] == [{"period": "2026-W49", "note": "Webinar booked",
                                 "confidence": "low", "by": "Sam", "at": "2026-12-04 09:00:00",
                                 "key_result": "Book 500 demos"}]
    assert grow["key_results"][0]["confidence"] == "low"
    assert (launch["parent"], launch["key_results"], [f["code"] for f in launch["flags"]]) == (
        "Grow", [], ["no_key_results"])
    # 340 of 500 demos with 74% of the quarter gone: behind pace, checked in this week
    assert report["summary"]["timeline_adherence"] == 0
    assert report["summary"]["checkin_rate"] == 1
    assert okr_report(store, department="Marketing", as_of=date(2026, 12, 7))["objectives"][0][
        "objective"] == "Win the launch"


def test_a_kpi_missed_three_times_asks_for_a_check_in_until_it_has_one(store):
    reviewed(store)
    card = scorecard(store, "Marketing", as_of=date(2026, 12, 7))["kpis"][0]
    assert (card["pinned"], card["review"], card["checkin_requested"]) == (True, True, True)
    import_files(store, [(io.BytesIO(b"kpi,period,note\nCAC at most $40,2026-11,Renegotiating "
                                     b"the ad contracts\n"), "checkins.csv")])
    card = scorecard(store, "Marketing", as_of=date(2026, 12, 7))["kpis"][0]
    assert card["checkin_requested"] is False
    assert card["checkins"][0]["note"] == "Renegotiating the ad contracts"


def test_cli_checkin_and_the_json_contracts(databases):
    db = databases.new()
    with open_store(db) as store:
        reviewed(store)
    done = run(db, "checkin", "--kpi", "CAC at most $40", "--period", "2026-11",
               "--note", "Contracts renegotiated", "--by", "Lea")
    assert done.returncode == 0, done.stderr
    assert "undo" in done.stdout
    unknown = run(db, "checkin", "--kr", "No such result", "--period", "2026-W49", "--note", "x")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("Refused: Check-in: key_result: 'No such result' is not "
                                      "a key result")
    card = run_json(db, "scorecard", "--department", "Marketing", "--as-of", "2026-12-07")
    kpi = card["kpis"][0]
    assert kpi["pinned"] is True
    assert [set(c) for c in kpi["checkins"]] == [{"period", "note", "confidence", "by", "at"}]
    assert (kpi["checkins"][0]["note"], kpi["checkins"][0]["by"]) == ("Contracts renegotiated",
                                                                      "Lea")
    report = run_json(db, "okrs", "--as-of", "2026-12-07")
    assert {"completion_rate", "met_by_deadline_rate", "timeline_adherence",
            "checkin_rate"} <= set(report["summary"])
    assert {"owner", "cycle", "parent", "flags", "checkins"} <= set(report["objectives"][0])
    unpinned = run(db, "pin", "--kpi", "CAC at most $40", "--off")
    assert unpinned.returncode == 0, unpinned.stderr
    assert run_json(db, "scorecard", "--department", "Marketing")["kpis"][0]["pinned"] is False
