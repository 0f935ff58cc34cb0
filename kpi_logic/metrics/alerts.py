"""Alerts: what needs attention, and what changed since a day. Pure rules over the
scorecards and OKR reports seen on two days; overview.alert_list gathers them from
the store for the overview page, the `alerts` command and the daily digest, so the
three always say the same.

Every alert is {kind, severity, department, title, since, text} (results.Alert); its
text names its since in words, so a reader needs nothing beside it:

- kpi_worse (high) / kpi_better (low): a KPI's status seen on `since` differs from the
  one seen on as_of. Seen on a day means the scorecard looked at from that day: its
  latest period judged with data (a partial period on pace; a stale period is no_data,
  and stale data have their own alert). A KPI whose judged period is stale now raises
  none. since: the period judged now.
- kpi_review (medium): missed its target the last REVIEW_AFTER_MISSES or more complete
  periods in a row, for as long as that holds. since: the first of those periods.
- kr_behind (high when off track, medium at risk): a key result further behind pace
  than on `since` (on track -> at risk or off track; at risk -> off track). since: the
  since day, when it was not.
- kr_off_track (high): off track on both days. since: the since day (it was already).
- kr_missed (low): its deadline passed after `since` short of its target: a result to
  note, not a pace to fix. since: its deadline.
- stale (medium): one per department, its metrics without new data (stale_metrics).
  since: the latest date any of them has data for.
- unassigned (low): KPIs or metrics in no department, so on no scorecard. since: None.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import KPI, Metric
from kpi_logic.metrics.catalogue import kpi_department
from kpi_logic.metrics.coverage import Coverage, cadence_words
from kpi_logic.metrics.results import Alert, KpiPeriod, OkrReport, Scorecard

STALE_FACTOR = 1.5          # no new data for more than 1.5 of the metric's usual gaps after what it covers
DEFAULT_SINCE_DAYS = 7      # `since` defaults to a week before as_of: a change late data reveal still shows
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
KPI_RANK = {"healthy": 0, "at_risk": 1, "unhealthy": 2}      # no_data has no rank: nothing to compare
KR_RANK = {"at_risk": 1, "off_track": 2}                      # any other status is not behind pace


def alert(kind: str, severity: str, department: str | None, title: str, since: str | None,
          text: str) -> Alert:
    return {"kind": kind, "severity": severity, "department": department, "title": title,
            "since": since, "text": text}


def ranked(alerts: Sequence[Alert]) -> list[Alert]:
    """Most severe first; alerts of one severity keep their order (a new list)."""
    return sorted(alerts, key=lambda a: SEVERITY_ORDER[a["severity"]])


def in_department(alerts: Sequence[Alert], department: str) -> list[Alert]:
    """The alerts of one department (matched ignoring case, as departments are)."""
    wanted = department.casefold()
    return [a for a in alerts if (a["department"] or "").casefold() == wanted]


# ---------------------------------------------------------------- KPIs

def judged_status(kpi: Mapping) -> KpiPeriod | None:
    """The latest period of a scorecard KPI's history that has a status (not no_data)."""
    return next((h for h in reversed(kpi.get("history") or []) if h.get("status") in KPI_RANK), None)


def kpi_change_alerts(before: Sequence[Scorecard], now: Sequence[Scorecard]) -> list[Alert]:
    """KPIs whose status seen now differs from the status seen from the earlier day's
    scorecards (`before`). Does not mutate its inputs."""
    earlier = {(c["department"], k["title"]): judged_status(k) for c in before for k in c["kpis"]}
    alerts = []
    for card in now:
        for kpi in card["kpis"]:
            current = (kpi.get("history") or [None])[-1]
            was = earlier.get((card["department"], kpi["title"]))
            if current is None or current.get("status") not in KPI_RANK or was is None \
                    or current["status"] == was["status"]:
                continue
            alerts.append(kpi_change_alert(card["department"], kpi["title"], was, current))
    return alerts


def kpi_change_alert(department: str, title: str, was: KpiPeriod, now: KpiPeriod) -> Alert:
    """"Marketing: CAC went from healthy in Oct 2026 to at risk in Nov 2026"; a partial
    period is said as pace."""
    worse = KPI_RANK[now["status"]] > KPI_RANK[was["status"]]
    period = fmt.human_period(now["period"])
    before = fmt.status_word(was["status"]).lower()
    if was["period"] != now["period"]:
        before += f" in {fmt.human_period(was['period'])}"
    after = fmt.status_word(now["status"]).lower()
    when = f"on pace so far in {period}" if now.get("partial") else f"in {period}"
    return alert("kpi_worse" if worse else "kpi_better", "high" if worse else "low", department,
                 title, now["period"], f"{department}: {title} went from {before} to {after} {when}")


def kpi_review_alerts(cards: Sequence[Scorecard]) -> list[Alert]:
    """KPIs flagged for review (kpis.needs_review), since the first complete period of
    the run of misses."""
    alerts = []
    for card in cards:
        for kpi in card["kpis"]:
            if not kpi.get("review"):
                continue
            complete = [h for h in kpi["history"] if not h.get("partial")]
            first = complete[-kpi["missed_in_a_row"]]["period"]
            alerts.append(alert(
                "kpi_review", "medium", card["department"], kpi["title"], first,
                f"{card['department']}: {kpi['title']} has missed its target "
                f"{kpi['missed_in_a_row']} periods in a row since {fmt.human_period(first)}: "
                "review the target or act on it"))
    return alerts


# ---------------------------------------------------------------- key results

def kr_alerts(before: OkrReport, now: OkrReport, since: date) -> list[Alert]:
    """Key results further behind pace than on `since`, still off track, or missed
    since then (see the module's docstring). Does not mutate its inputs."""
    earlier = {(o["objective"], kr["title"]): kr["status"]
               for o in before["objectives"] for kr in o["key_results"]}
    alerts = []
    for objective in now["objectives"]:
        for kr in objective["key_results"]:
            was = earlier.get((objective["objective"], kr["title"]), "no_data")
            found = kr_alert(objective["objective"], kr, was, since,
                             kr.get("department") or objective.get("department"))
            if found:
                alerts.append(found)
    return alerts


def kr_alert(objective: str, kr: Mapping, was: str, since: date,
             department: str | None) -> Alert | None:
    name = f"{objective}: \"{kr['title']}\""
    status = kr["status"]
    if status == "missed":
        if was == "missed":
            return None
        return alert("kr_missed", "low", department, kr["title"], kr["deadline"],
                     f"{name} missed its target on {fmt.human_date(kr['deadline'])} "
                     f"({fmt.format_progress(kr['progress'])} of the way)")
    if status not in KR_RANK:
        return None
    pace = f"{fmt.format_progress(kr['progress'])} done, {fmt.format_progress(kr['expected'])} " \
           "expected by now"
    if KR_RANK[status] > KR_RANK.get(was, 0):
        return alert("kr_behind", "high" if status == "off_track" else "medium", department,
                     kr["title"], since.isoformat(),
                     f"{name} fell behind pace: {fmt.status_word(was).lower()} on "
                     f"{fmt.human_date(since)}, {fmt.status_word(status).lower()} now ({pace})")
    if status == "off_track":
        return alert("kr_off_track", "high", department, kr["title"], since.isoformat(),
                     f"{name} is still off track, as on {fmt.human_date(since)} ({pace})")
    return None


# ---------------------------------------------------------------- stale data

def stale_metrics(covered: Mapping[str, Coverage], metrics: Mapping[str, Metric], as_of: date,
                  factor: float = STALE_FACTOR) -> list[dict]:
    """[{metric, department, data_through, days, cadence}] for metrics with no new data for
    more than `factor` usual gaps after what their latest value covers (a month dated
    the 1st covers the month: October is not late on 27 Nov). Oldest news first. Pure."""
    out = []
    for name, coverage in covered.items():
        if coverage.data_through is None:
            continue
        step = max(coverage.step_days or 1, 1)
        waiting = (as_of - coverage.covered_through).days - 1
        if waiting > factor * step:
            metric = metrics.get(name)
            out.append({"metric": name, "department": metric.department if metric else None,
                        "data_through": coverage.data_through,
                        "days": (as_of - coverage.data_through).days,
                        "cadence": cadence_words(coverage.cadence, coverage.step_days)})
    return sorted(out, key=lambda row: (row["data_through"], row["metric"]))


def stale_alerts(stale: list[dict]) -> list[Alert]:
    """One medium alert per department (metrics without one grouped together): how many
    metrics have had no new data, since when, and the first few names."""
    groups: dict[str | None, list[dict]] = {}
    for row in stale:
        groups.setdefault(row["department"], []).append(row)
    alerts = []
    for department in sorted(groups, key=lambda d: (d is None, d or "")):
        rows = groups[department]
        dates = sorted({r["data_through"] for r in rows})
        since = fmt.human_date(dates[-1]) + ("" if len(dates) == 1 else " or earlier")
        where = department or "No department"
        if len(rows) == 1:
            row = rows[0]
            usual = f"it usually arrives {row['cadence']}" if row["cadence"] else "its only date"
            text = f"{where}: {row['metric']} has had no new data since {since} ({row['days']} days; {usual})"
        else:
            text = f"{where}: {len(rows)} metrics have had no new data since {since} " \
                   f"({_first_names([r['metric'] for r in rows], 4)})"
        alerts.append(alert("stale", "medium", department, where, dates[-1].isoformat(), text))
    return alerts


def unassigned_alerts(metrics: dict[str, Metric], kpis: list[KPI]) -> list[Alert]:
    """A low alert for KPIs and for metrics that belong to no department: no
    scorecard shows them. KPIs take their metric's department when they have
    none. Pure."""
    names = {"KPIs": [k.title for k in kpis if not kpi_department(k, metrics)],
             "metrics": sorted(m.name for m in metrics.values() if not m.department)}
    alerts = []
    for what, missing in names.items():
        if missing:
            many = len(missing) > 1
            them = "them" if many else "it"
            alerts.append(alert(
                "unassigned", "low", None, f"{what} without a department", None,
                f"{len(missing)} {what if many else what[:-1]} belong{'' if many else 's'} to no "
                f"department, so no scorecard shows {them}: {_first_names(missing, 5)}. "
                f"Give {them} a department on Import and define."))
    return alerts


def _first_names(names: Sequence[str], shown: int) -> str:
    """"a, b, c and 4 more"."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
