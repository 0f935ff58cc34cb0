"""The values under the dashboard's tables that show text ("$12.6k", "✔ On
track", "Nov 2026"), for their downloads (exports.Table): numbers in full
with their unit, fractions as fractions (0.125, which a workbook shows as
12.5%), dates as dates, periods as their labels ("2026-11"), statuses as
words, and column names as people read them.

Each mirrors one table of a page, in its order, with the columns a reader
needs to use the numbers (the unit, the period compared with) and without
the ones that are drawings (a trend line). Pure: nothing passed in is mutated.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.metrics.results import MetricEntry, ObjectiveEntry
from kpi_logic.output.exports import Table


def plain_metrics(entries: list[MetricEntry]) -> Table:
    """A scorecard's plain metrics (kpis.scorecard's "metrics"): one row each."""
    rows = [{
        "Metric": m["metric_label"], "Name": m["metric"], "Period": m["period"],
        "Value": m["value"], "Unit": m["unit"],
        "vs previous": m["vs_previous"]["abs"], "vs previous (%)": m["vs_previous"]["pct"],
        "Previous period": m["vs_previous"]["label"],
        "vs last year": m["vs_last_year"]["abs"], "vs last year (%)": m["vs_last_year"]["pct"],
        "Last year's period": m["vs_last_year"]["label"],
        "Data through": _day(m.get("data_through")), "Cadence": m.get("cadence"),
        "Note": fmt.coverage_note(m),
    } for m in entries]
    units = [m["unit"] for m in entries]
    return Table(pd.DataFrame(rows), {"Value": units, "vs previous": units, "vs last year": units,
                                "vs previous (%)": "percent", "vs last year (%)": "percent"})


def key_results(objective: ObjectiveEntry) -> Table:
    """One objective's key results (okrs.okr_report), progress as a fraction."""
    rows = [{
        "Objective": objective["objective"], "Key result": kr["title"],
        "Metric": kr["metric_label"],
        "Progress": kr["progress"], "Expected": kr["expected"],
        "Status": fmt.status_word(kr["status"]),
        "Now": kr["current"], "Start": kr["start"], "Target": kr["target"], "Unit": kr["unit"],
        "Measured": fmt.measured_note(kr), "Data end early": bool(kr.get("partial")),
        "Owner": kr.get("owner"), "Department": kr.get("department"),
        "Start date": _day(kr["start_date"]), "Deadline": _day(kr["deadline"]),
        "Weight": kr["weight"], "Confidence": kr.get("confidence"),
        "Latest check-in": kr["checkins"][0]["note"] if kr.get("checkins") else None,
    } for kr in objective["key_results"]]
    units = [kr["unit"] for kr in objective["key_results"]]
    return Table(pd.DataFrame(rows), {"Progress": "percent", "Expected": "percent",
                                "Now": units, "Start": units, "Target": units})


def goal_rates(departments: list[dict]) -> Table:
    """The goal-management KPIs per department (okrs.okr_report "departments")."""
    rows = [{"Department": d["department"], "Completion rate": d["completion_rate"],
             "Met by deadline": d["met_by_deadline_rate"], "On pace": d["timeline_adherence"],
             "Checked in this week": d["checkin_rate"], "Running": d["running"],
             "Ended": d["ended"]} for d in departments]
    rates = ("Completion rate", "Met by deadline", "On pace", "Checked in this week")
    return Table(pd.DataFrame(rows), dict.fromkeys(rates, "percent"))


def catalogue(rows: list[dict]) -> Table:
    """Metrics catalogue rows (catalogue.metric_catalogue as records, filtered
    as the page shows them)."""
    values = [{
        "Metric": r["metric_label"], "Name": r["metric"], "Current": r["current"], "Period": _text(r["current_period"]),
        "So far": bool(r.get("current_partial")),
        "Definition": r.get("definition"), "Linked to": "; ".join(r["used_by"]),
        "Vanity candidate": bool(r["vanity_candidate"]), "Formula": _text(r["formula"]),
        "Unit": r["unit"], "Direction": r["direction"],
        "Aggregation": r["aggregation"], "Data through": _day(r.get("data_through")),
        "Cadence": r.get("cadence"), "Department": _text(r["department"]),
        "Description": _text(r["description"]),
    } for r in rows]
    return Table(pd.DataFrame(values), {"Current": [r["unit"] for r in rows]})


def target_history(history: pd.DataFrame, unit: str) -> Table:
    """The complete periods a suggested target came from (suggest.suggestion_history)."""
    return Table(pd.DataFrame({"Period": history["label"].tolist(),
                               "Value": history["value"].tolist(),
                               "Used": history["used"].astype(bool).tolist()}),
                 {"Value": unit})


def batches(listed: pd.DataFrame) -> Table:
    """The import history (undo.list_batches), newest first as the page lists it."""
    newest = listed.iloc[::-1]
    return Table(pd.DataFrame({
        "Batch": newest["id"], "Run": newest["run_id"], "File": newest["file"],
        "Sheet": newest["sheet"], "Kind": newest["kind"].str.replace("_", " "),
        "Imported at": newest["imported_at"], "Rows": newest["rows"],
        "New": newest["inserted"], "Changed": newest["updated"],
        "Unchanged": newest["unchanged"],
        "Status": newest["undone_at"].isna().map({True: "in effect", False: "undone"}),
        "Undone at": newest["undone_at"], "SHA-256": newest["sha256"],
    }).reset_index(drop=True), {c: "count" for c in ("Rows", "New", "Changed", "Unchanged")})


def _day(value) -> date | None:
    """An ISO date (or a date) as a date; None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _text(value) -> str | None:
    """A catalogue cell's text; missing (None or NaN) as None."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
