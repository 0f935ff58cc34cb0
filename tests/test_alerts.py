"""Alerts: the pure rules of kpi_logic/metrics/alerts.py on small dicts, and
overview.alert_list on small hand-made histories whose answers are worked out
in the comments (each runs on DuckDB and PostgreSQL)."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, KeyResult, Metric
from kpi_logic.metrics import alerts
from kpi_logic.metrics.coverage import Coverage, coverage_from_row
from kpi_logic.metrics.overview import alert_list, since_day
from kpi_logic.store import writes
from tests.builders import add_batch, add_daily, add_metrics, add_observations

KEYS = {"kind", "severity", "department", "title", "since", "text"}

# ---------------------------------------------------------------- small builders


def kpi(title: str, statuses: list[str], *, review: bool = False, missed: int = 0,
        start: int = 1) -> dict:
    """A scorecard KPI entry with only what the alerts read: monthly history of 2026
    from month `start`, one status per month, the last one being judged."""
    history = [{"period": f"2026-{start + i:02d}", "status": s, "partial": False}
               for i, s in enumerate(statuses)]
    return {"title": title, "status": statuses[-1] if statuses else "no_data",
            "history": history, "review": review, "missed_in_a_row": missed}


def card(department: str, *kpis: dict) -> dict:
    return {"department": department, "kpis": list(kpis)}


def kr(title: str, status: str, progress: float | None = 0.2, expected: float = 0.6,
       deadline: str = "2026-12-31", department: str | None = None) -> dict:
    return {"title": title, "status": status, "progress": progress, "expected": expected,
            "deadline": deadline, "department": department}


def report(*key_results: dict, objective: str = "Grow", department: str | None = "Sales") -> dict:
    return {"objectives": [{"objective": objective, "department": department,
                            "key_results": list(key_results)}]}


def covered(rows: list[tuple[str, str, int | None]]) -> dict[str, Coverage]:
    """{metric: Coverage} from (metric, last date, median gap in days), as read from a
    history of ten or more dates with weekends among them."""
    return {name: coverage_from_row(name, date.fromisoformat(last), 10, step, 3)
            for name, last, step in rows}


# ---------------------------------------------------------------- KPI status changes

@pytest.mark.parametrize("was, now, kind, severity, text", [
    (["healthy"], ["healthy", "at_risk"], "kpi_worse", "high",
     "Marketing: CAC went from healthy in Jan 2026 to at risk in Feb 2026"),
    (["at_risk"], ["at_risk", "unhealthy"], "kpi_worse", "high",
     "Marketing: CAC went from at risk in Jan 2026 to unhealthy in Feb 2026"),
    (["unhealthy"], ["unhealthy", "healthy"], "kpi_better", "low",
     "Marketing: CAC went from unhealthy in Jan 2026 to healthy in Feb 2026"),
    (["unhealthy"], ["unhealthy", "at_risk"], "kpi_better", "low",
     "Marketing: CAC went from unhealthy in Jan 2026 to at risk in Feb 2026"),
    # the same period seen again (late data changed it): no period named twice
    (["healthy", "healthy"], ["healthy", "unhealthy"], "kpi_worse", "high",
     "Marketing: CAC went from healthy to unhealthy in Feb 2026"),
    # a stale period seen then is skipped: the latest judged one counts
    (["healthy", "no_data"], ["healthy", "no_data", "unhealthy"], "kpi_worse", "high",
     "Marketing: CAC went from healthy in Jan 2026 to unhealthy in Mar 2026"),
])
def test_a_kpi_whose_status_differs_from_the_one_seen_on_since(was, now, kind, severity, text):
    found = alerts.kpi_change_alerts([card("Marketing", kpi("CAC", was))],
                                     [card("Marketing", kpi("CAC", now))])
    assert found == [{"kind": kind, "severity": severity, "department": "Marketing",
                      "title": "CAC", "since": f"2026-{len(now):02d}", "text": text}]


@pytest.mark.parametrize("was, now", [
    (["healthy"], ["healthy", "healthy"]),              # steady
    (["unhealthy"], ["unhealthy", "at_risk", "unhealthy"]),  # missed then, missed now
    (["healthy"], ["healthy", "no_data"]),              # stale now: the stale alert says so
    (["no_data"], ["no_data", "unhealthy"]),            # no status then: nothing to compare
    ([], ["healthy", "unhealthy"]),                      # no history then
])
def test_no_change_alert_without_two_different_judged_statuses(was, now):
    assert alerts.kpi_change_alerts([card("Sales", kpi("Leads", was))],
                                    [card("Sales", kpi("Leads", now))]) == []


def test_a_partial_period_is_said_as_pace():
    now = kpi("Calls", ["healthy", "unhealthy"])
    now["history"][-1]["partial"] = True
    [found] = alerts.kpi_change_alerts([card("Sales", kpi("Calls", ["healthy"]))], [card("Sales", now)])
    assert found["text"] == "Sales: Calls went from healthy in Jan 2026 to unhealthy on pace so far in Feb 2026"


def test_kpis_are_matched_by_department_and_title():
    before = [card("Sales", kpi("Leads", ["healthy"])), card("Marketing", kpi("Leads", ["unhealthy"]))]
    now = [card("Sales", kpi("Leads", ["healthy", "unhealthy"])),
           card("Marketing", kpi("Leads", ["unhealthy", "unhealthy"]))]
    assert [(a["department"], a["kind"]) for a in alerts.kpi_change_alerts(before, now)] == [
        ("Sales", "kpi_worse")]


def test_kpi_change_alerts_do_not_mutate_their_input():
    before, now = [card("S", kpi("A", ["healthy"]))], [card("S", kpi("A", ["healthy", "at_risk"]))]
    kept = copy.deepcopy((before, now))
    alerts.kpi_change_alerts(before, now)
    assert (before, now) == kept


def test_a_kpi_missed_several_periods_in_a_row_is_flagged_since_the_first_miss():
    chat = kpi("Chat duration", ["healthy", "unhealthy", "unhealthy", "at_risk", "unhealthy"],
               review=True, missed=4)
    chat["history"].append({"period": "2026-06", "status": "unhealthy", "partial": True})
    assert alerts.kpi_review_alerts([card("Customer service", chat)]) == [{
        "kind": "kpi_review", "severity": "medium", "department": "Customer service",
        "title": "Chat duration", "since": "2026-02",
        "text": "Customer service: Chat duration has missed its target 4 periods in a row "
                "since Feb 2026: review the target or act on it"}]


# ---------------------------------------------------------------- key results

SINCE = date(2026, 11, 30)


@pytest.mark.parametrize("was, now, kind, severity", [
    ("on_track", "off_track", "kr_behind", "high"),
    ("on_track", "at_risk", "kr_behind", "medium"),
    ("at_risk", "off_track", "kr_behind", "high"),
    ("no_data", "off_track", "kr_behind", "high"),      # not started then
    ("off_track", "off_track", "kr_off_track", "high"),
])
def test_key_results_behind_pace(was, now, kind, severity):
    [found] = alerts.kr_alerts(report(kr("Book demos", was)), report(kr("Book demos", now)), SINCE)
    assert (found["kind"], found["severity"], found["since"], found["title"], found["department"]) \
        == (kind, severity, "2026-11-30", "Book demos", "Sales")


def test_the_words_of_a_key_result_that_fell_behind_and_one_still_off_track():
    before = report(kr("Book demos", "on_track"), kr("Win deals", "off_track"))
    now = report(kr("Book demos", "off_track", 0.25, 0.63), kr("Win deals", "off_track", 0.1, 0.63))
    assert [a["text"] for a in alerts.kr_alerts(before, now, SINCE)] == [
        'Grow: "Book demos" fell behind pace: on track on 30 Nov 2026, off track now '
        "(25% done, 63% expected by now)",
        'Grow: "Win deals" is still off track, as on 30 Nov 2026 (10% done, 63% expected by now)']


@pytest.mark.parametrize("was, now", [
    ("on_track", "on_track"), ("at_risk", "at_risk"), ("off_track", "at_risk"),
    ("on_track", "achieved"), ("on_track", "no_data"), ("missed", "missed"),
])
def test_key_results_that_did_not_fall_behind_say_nothing(was, now):
    assert alerts.kr_alerts(report(kr("K", was)), report(kr("K", now)), SINCE) == []


def test_a_key_result_that_missed_since_then_is_a_result_to_note():
    ended = kr("Cut CAC from $40 to $30", "missed", progress=0.8, deadline="2026-12-03",
               department="Marketing")
    assert alerts.kr_alerts(report(kr("Cut CAC from $40 to $30", "at_risk")), report(ended),
                            SINCE) == [
        {"kind": "kr_missed", "severity": "low", "department": "Marketing",
         "title": "Cut CAC from $40 to $30", "since": "2026-12-03",
         "text": 'Grow: "Cut CAC from $40 to $30" missed its target on 3 Dec 2026 (80% of the way)'}]


# ---------------------------------------------------------------- stale metrics

AS_OF = date(2025, 11, 27)


@pytest.mark.parametrize("last_date, step, stale", [
    # daily data: yesterday and the day before are fine, three days without data is stale
    ("2025-11-26", 1, False),
    ("2025-11-25", 1, False),
    ("2025-11-24", 1, True),
    # a month dated the 1st covers the whole month: October is the latest complete one
    ("2025-10-01", 31, False),
    ("2025-09-01", 31, True),
    # weekly: the last week dated 10 Nov covers through 16 Nov; 1.5 weeks after is 27 Nov
    ("2025-11-10", 7, False),
    ("2025-11-03", 7, True),
    # a single observation has no cadence: treated as daily
    ("2025-11-26", None, False),
    ("2025-11-20", None, True),
])
def test_stale_metrics_waits_one_and_a_half_usual_gaps_after_what_the_data_cover(
        last_date, step, stale):
    result = alerts.stale_metrics(covered([("leads", last_date, step)]), {}, AS_OF)
    assert [r["metric"] for r in result] == (["leads"] if stale else [])


def test_stale_metrics_name_department_date_age_and_cadence_oldest_first():
    metrics = {"revenue": Metric("revenue", department="Finance"), "leads": Metric("leads")}
    result = alerts.stale_metrics(covered([("leads", "2025-11-26", 1), ("revenue", "2025-08-01", 31),
                                           ("signups", "2025-11-01", 1)]), metrics, AS_OF)
    assert result == [
        {"metric": "revenue", "department": "Finance", "data_through": date(2025, 8, 1),
         "days": 118, "cadence": "monthly"},
        {"metric": "signups", "department": None, "data_through": date(2025, 11, 1),
         "days": 26, "cadence": "daily"}]


def test_stale_metrics_factor_is_adjustable():
    five_days = covered([("leads", "2025-11-22", 1)])
    assert alerts.stale_metrics(five_days, {}, AS_OF, factor=4.5) == []
    assert len(alerts.stale_metrics(five_days, {}, AS_OF, factor=3.5)) == 1


def test_stale_metrics_skip_metrics_without_data():
    assert alerts.stale_metrics({"x": Coverage("x", None, None, None, None)}, {}, AS_OF) == []


def test_stale_alerts_group_the_metrics_of_a_department_in_one_line():
    """A wide import with no department: 23 metrics, one alert, not 23."""
    names = [f"series_{i:02d}" for i in range(23)]
    stale = alerts.stale_metrics(covered([(n, "2015-12-01", 31) for n in names]), {}, AS_OF)
    assert alerts.stale_alerts(stale) == [
        {"kind": "stale", "severity": "medium", "department": None, "title": "No department",
         "since": "2015-12-01",
         "text": "No department: 23 metrics have had no new data since 1 Dec 2015 "
                 "(series_00, series_01, series_02, series_03 and 19 more)"}]


def test_stale_alerts_say_since_when_and_how_often_data_usually_arrive():
    metrics = {"revenue": Metric("revenue", department="Finance"),
               "costs": Metric("costs", department="Finance"),
               "signups": Metric("signups", department="Product")}
    stale = alerts.stale_metrics(covered([("revenue", "2025-08-01", 30), ("costs", "2025-07-01", 31),
                                          ("signups", "2025-11-01", None)]), metrics, AS_OF)
    assert alerts.stale_alerts(stale) == [
        {"kind": "stale", "severity": "medium", "department": "Finance", "title": "Finance",
         "since": "2025-08-01",
         "text": "Finance: 2 metrics have had no new data since 1 Aug 2025 or earlier "
                 "(costs, revenue)"},
        {"kind": "stale", "severity": "medium", "department": "Product", "title": "Product",
         "since": "2025-11-01",
         "text": "Product: signups has had no new data since 1 Nov 2025 "
                 "(26 days; its only date)"},
    ]


def test_stale_alerts_on_nothing_stale():
    assert alerts.stale_alerts([]) == []


def test_kpis_and_metrics_without_a_department_are_named_in_one_low_alert_each():
    metrics = {"visits": Metric("visits"), "mrr": Metric("mrr", department="Finance"),
               **{f"m{i}": Metric(f"m{i}") for i in range(6)}}
    kpis = [KPI("Visits up", "visits", 10, "min"), KPI("MRR up", "mrr", 10, "min"),
            KPI("Visits for Sales", "visits", 10, "min", department="Sales")]
    kpi_alert, metric_alert = alerts.unassigned_alerts(metrics, kpis)
    assert (kpi_alert["severity"], kpi_alert["kind"], kpi_alert["since"]) == ("low", "unassigned", None)
    assert kpi_alert["title"] == "KPIs without a department"
    assert kpi_alert["text"].startswith("1 KPI belongs to no department, so no scorecard shows "
                                        "it: Visits up.")
    assert metric_alert["text"].startswith("7 metrics belong to no department, so no scorecard "
                                           "shows them: m0, m1, m2, m3, m4 and 2 more.")
    assert alerts.unassigned_alerts({"mrr": metrics["mrr"]}, kpis[1:]) == []


def test_ranked_puts_the_most_severe_first_and_keeps_the_order_within_a_severity():
    made = [alerts.alert("k", severity, None, f"t{i}", None, f"text {i}")
            for i, severity in enumerate(["low", "high", "medium", "high", "low", "medium"])]
    assert [a["title"] for a in alerts.ranked(made)] == ["t1", "t3", "t2", "t5", "t0", "t4"]


# ---------------------------------------------------------------- alert_list on a store

def add_definitions(store, table: str, items: list) -> None:
    writes.upsert_definitions(store.connection, table, items, add_batch(store, kind=table))


def changing_company(store) -> None:
    """Hand-made history, looked at from 7 Dec 2026 with changes since 30 Nov 2026:

    - Sales: leads (monthly, dated the 1st), KPI at least 100. Jun-Oct 120 (healthy),
      Nov 50 (unhealthy: 50% short, past the 10% band). On 30 Nov the judged month is
      October (healthy); on 7 Dec it is November: healthy -> unhealthy.
    - Sales: calls (monthly), KPI at least 10, 12 every month: healthy then and now.
    - Sales: demos (daily), key result 0 -> 120 from 10 Nov to 10 Dec. 4 a day through
      29 Nov, then 0 a day. On 30 Nov: 80 of 120 = 67% done, 20 of 30 days = 67%
      expected: on track. On 7 Dec: still 80 = 67%, 27 of 30 days = 90% expected,
      23 points behind: off track.
    - Finance: revenue and costs (daily) stopped on 20 Nov, cash (daily) did not:
      one stale alert for Finance naming two metrics; Product: nps (daily) stopped
      on 25 Nov: one for Product.
    """
    add_metrics(store, {"leads": {"department": "Sales"}, "calls": {"department": "Sales"},
                        "demos": {"department": "Sales"},
                        "revenue": {"department": "Finance"}, "costs": {"department": "Finance"},
                        "cash": {"department": "Finance", "aggregation": "last"},
                        "nps": {"department": "Product", "aggregation": "last"}})
    months = [f"2026-{m:02d}-01" for m in range(6, 12)]
    add_observations(store, "leads", list(zip(months, [120] * 5 + [50], strict=True)))
    add_observations(store, "calls", [(m, 12) for m in months])
    add_daily(store, "demos", "2026-11-10", [4] * 20 + [0] * 7)
    add_daily(store, "revenue", "2026-10-01", [100] * 51)       # through 20 Nov
    add_daily(store, "costs", "2026-10-01", [60] * 51)
    add_daily(store, "cash", "2026-10-01", [500] * 67)          # through 6 Dec
    add_daily(store, "nps", "2026-10-01", [30] * 56)            # through 25 Nov
    add_definitions(store, "kpis", [KPI("Leads at least 100", "leads", 100, "min"),
                                    KPI("Calls at least 10", "calls", 10, "min")])
    add_definitions(store, "key_results", [
        KeyResult("Sell more", "Book 120 demos", "demos", 0, 120, date(2026, 11, 10),
                  date(2026, 12, 10))])


NOW = date(2026, 12, 7)


def test_alert_list_on_a_hand_made_history(store):
    changing_company(store)
    found = alert_list(store, as_of=NOW, since=date(2026, 11, 30))
    assert all(set(a) == KEYS for a in found)
    assert found == [
        {"kind": "kpi_worse", "severity": "high", "department": "Sales",
         "title": "Leads at least 100", "since": "2026-11",
         "text": "Sales: Leads at least 100 went from healthy in Oct 2026 to unhealthy in Nov 2026"},
        {"kind": "kr_behind", "severity": "high", "department": "Sales", "title": "Book 120 demos",
         "since": "2026-11-30",
         "text": 'Sell more: "Book 120 demos" fell behind pace: on track on 30 Nov 2026, '
                 "off track now (67% done, 90% expected by now)"},
        {"kind": "stale", "severity": "medium", "department": "Finance", "title": "Finance",
         "since": "2026-11-20",
         "text": "Finance: 2 metrics have had no new data since 20 Nov 2026 (costs, revenue)"},
        {"kind": "stale", "severity": "medium", "department": "Product", "title": "Product",
         "since": "2026-11-25",
         "text": "Product: nps has had no new data since 25 Nov 2026 (12 days; it usually "
                 "arrives daily)"},
    ]


@pytest.mark.parametrize("as_of, since", [(NOW, date(2026, 11, 30)), (date(2026, 12, 8), NOW),
                                          (date(2026, 12, 12), NOW)])
def test_every_alerts_sentence_says_since_when_it_holds(store, as_of, since):
    """The page, the table and the digest show the sentence alone."""
    changing_company(store)
    found = alert_list(store, as_of=as_of, since=since)
    assert found
    for item in found:
        assert fmt.human_period(item["since"]) in item["text"], item


def test_nothing_changed_gives_no_change_alert(store):
    """From 8 Dec, changes since 7 Dec: November is judged on both days and the key
    result was off track on both (still off track, not newly behind)."""
    changing_company(store)
    found = alert_list(store, as_of=date(2026, 12, 8), since=NOW)
    assert [a["kind"] for a in found] == ["kr_off_track", "stale", "stale"]
    assert alert_list(store, as_of=NOW, since=NOW)[0]["kind"] == "kr_off_track"


def test_a_key_result_whose_deadline_passed_since_then_missed(store):
    changing_company(store)
    found = alert_list(store, as_of=date(2026, 12, 12), since=NOW)
    assert [(a["kind"], a["since"]) for a in found if a["kind"].startswith("kr")] == [
        ("kr_missed", "2026-12-10")]


def test_the_default_since_is_a_week_before_as_of(store):
    changing_company(store)
    assert since_day(None, NOW) == date(2026, 11, 30)
    assert alert_list(store, as_of=NOW) == alert_list(store, as_of=NOW, since=date(2026, 11, 30))
    assert since_day(None, date(1900, 1, 3)) == date(1900, 1, 1)


def test_one_departments_alerts(store):
    changing_company(store)
    assert {a["department"] for a in alert_list(store, as_of=NOW, department=" finance ")} == {"Finance"}
    with pytest.raises(InputError, match="There is no department 'Legal'"):
        alert_list(store, as_of=NOW, department="Legal")


def test_a_since_date_after_as_of_is_refused(store):
    with pytest.raises(InputError, match="after the as-of date"):
        alert_list(store, as_of=NOW, since=date(2026, 12, 8))
