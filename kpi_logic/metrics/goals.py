"""The review loop around goals: check-ins as the report shows them, the
hygiene flags of an objective, and the goal-management KPIs (completion,
met by the deadline, on pace, checked in).

Pure functions over definitions and report entries; okrs.okr_report and
kpis.scorecard call them. Rates are fractions, None when nothing is there to
count (never 0% of nothing).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from kpi_logic.domain.model import CheckIn, KeyResult
from kpi_logic.domain.periods import period_end
from kpi_logic.metrics.catalogue import is_vanity_candidate
from kpi_logic.metrics.results import CheckinEntry, Flag, GoalSummary, KeyResultEntry

FOCUSED_MOST = 5            # more key results than this blur an objective ("two or three")
CHECKIN_FRESH_DAYS = 7      # a key result counts as checked in with a check-in this recent
RUNNING = ("on_track", "at_risk", "off_track", "no_data")
ON_PACE = ("on_track", "achieved")


def checkin_entry(checkin: CheckIn) -> CheckinEntry:
    """A check-in as the JSON shows it: {period, note, confidence, by, at}."""
    return {"period": checkin.period, "note": checkin.note, "confidence": checkin.confidence,
            "by": checkin.checked_by,
            "at": checkin.checked_at.isoformat(sep=" ") if checkin.checked_at else None}


def checkins_of(checkins: Sequence[CheckIn], kind: str, title: str,
                objective: str = "") -> list[CheckinEntry]:
    """The check-ins of one KPI (kind "kpi") or key result, newest period first."""
    found = [c for c in checkins if c.kind == kind and c.title == title
             and c.objective == objective]
    found.sort(key=lambda c: (c.checked_at or datetime.min, c.period), reverse=True)
    return [checkin_entry(c) for c in found]


def objective_flags(key_results: Sequence[KeyResult]) -> list[Flag]:
    """The objective's hygiene flags, each {code, text}: no key results, one, more than
    FOCUSED_MOST, key results without an owner, a key result moving a metric that
    reads like a vanity count (likes, views)."""
    count = len(key_results)
    flags: list[Flag] = []
    if count == 0:
        flags.append({"code": "no_key_results", "text": "No key results yet: an objective "
                      "is reached through two or three measurable key results."})
    elif count == 1:
        flags.append({"code": "one_key_result", "text": "Only one key result: add a second "
                      "so the objective is not just one number."})
    elif count > FOCUSED_MOST:
        flags.append({"code": "too_many_key_results", "text": f"{count} key results: two or "
                      "three keep an objective focused."})
    unowned = [kr.title for kr in key_results if not kr.owner]
    if unowned:
        flags.append({"code": "kr_without_owner", "text": "No owner for "
                      + _listed(unowned) + ": someone should answer for each key result."})
    vain = [kr.title for kr in key_results if is_vanity_candidate(kr.metric, linked=False)]
    if vain:
        flags.append({"code": "vanity_metric", "text": _listed(vain) + " moves an engagement "
                      "count (likes, views, followers): check it shows progress on the "
                      "objective, not only activity."})
    return flags


def _listed(titles: Sequence[str]) -> str:
    shown = ", ".join(f"'{t}'" for t in titles[:3])
    return shown + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")


def goal_summary(entries: Sequence[KeyResultEntry], as_of: date) -> GoalSummary:
    """The goal-management KPIs of some key results (their report entries, each
    with its "checkins"):

    - completion_rate: achieved / finished, where finished is achieved (also early)
      or past the deadline;
    - met_by_deadline_rate: of those past their deadline, the share achieved by it;
    - timeline_adherence: of the running key results with data, the share on pace
      (on track, or achieved early);
    - checkin_rate: of the running key results, the share checked in within the
      last CHECKIN_FRESH_DAYS days up to as_of.
    """
    ended = [e for e in entries if e["ended"]]
    running = [e for e in entries if not e["ended"] and _started(e, as_of)]
    finished = ended + [e for e in running if e["status"] == "achieved"]
    measured = [e for e in running if e["status"] != "no_data"]
    since = datetime.combine(as_of - timedelta(days=CHECKIN_FRESH_DAYS), datetime.min.time())
    until = datetime.combine(as_of, datetime.max.time())
    fresh = [e for e in running if any(since < _at(c) <= until for c in e.get("checkins", []))]
    return {
        "key_results": len(entries), "running": len(running), "ended": len(ended),
        "completion_rate": _share(sum(e["status"] == "achieved" for e in finished), finished),
        "met_by_deadline_rate": _share(sum(e["status"] == "achieved" for e in ended), ended),
        "timeline_adherence": _share(sum(e["status"] in ON_PACE for e in measured), measured),
        "checkin_rate": _share(len(fresh), running),
    }


def department_summaries(entries: Sequence[KeyResultEntry], as_of: date) -> list[dict]:
    """goal_summary per department of the key results (in name order), each with its
    "department"; key results without one are left out."""
    departments = sorted({e["department"] for e in entries if e["department"]})
    return [{"department": d, **goal_summary([e for e in entries if e["department"] == d], as_of)}
            for d in departments]


def key_result_proposal(kpi: dict, department: str | None, as_of: date) -> dict:
    """A key result that brings a missed KPI (a scorecard card) back to its target by
    the end of this quarter (the next one when fewer than 30 days are left): from
    the KPI's value now to its target, under an objective named for it. Fields as
    the key results table has them; the form lets the editor change any."""
    deadline = period_end(as_of, "quarter")
    if (deadline - as_of).days < 30:
        deadline = period_end(deadline + timedelta(days=1), "quarter")
    start = kpi.get("value")
    return {"objective": f"Bring {kpi['title']} back on target", "title": "",
            "metric": kpi["metric"], "start": start, "target": kpi["target"],
            "start_date": as_of, "deadline": deadline, "owner": kpi.get("owner"),
            "department": department, "weight": 1.0}


def _started(entry: KeyResultEntry, as_of: date) -> bool:
    return date.fromisoformat(entry["start_date"]) <= as_of


def _at(checkin: CheckinEntry) -> datetime:
    return datetime.fromisoformat(checkin["at"]) if checkin.get("at") else datetime.min


def _share(count: int, of: Sequence) -> float | None:
    return count / len(of) if of else None
