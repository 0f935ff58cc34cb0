"""The dashboard's edits as engine work: definitions saved from an edited table
(each save and each removal its own undoable batch), emptying the database,
and the small settings a page reads. Pages call these through ui/data."""
from __future__ import annotations

import re

import pandas as pd

from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.ingest import importing, undo
from kpi_logic.store import Store

# The definition kinds a page edits, as the page names them.
KINDS = {"metrics": "Metrics", "kpis": "KPIs", "targets": "Per-period targets",
         "objectives": "Objectives", "key_results": "Key results", "launches": "Launches"}


def current_metrics(store: Store) -> dict:
    """The current metrics by name."""
    return store.definitions.metrics()


def current_definitions(store: Store, kind: str) -> list:
    """The current definitions of one kind (a key of KINDS), as model objects."""
    if kind == "metrics":
        return list(store.definitions.metrics().values())
    return {"kpis": store.definitions.kpis, "targets": store.definitions.targets,
            "key_results": store.definitions.key_results,
            "objectives": store.definitions.objectives,
            "launches": store.definitions.launches}[kind]()


def save_definitions(store: Store, kind: str, edited, gone: list[str]) -> list[str]:
    """Saves edits, then removals (each all-or-nothing, each its own undoable
    batch); returns what changed, in words ([] if nothing)."""
    label = f"Edited {KINDS[kind]}"
    done = []
    if len(edited):
        result = importing.import_frames(store, [(edited, label, kind)])[0]
        if result.batch is not None:
            fields = "; ".join(c["text"] for c in result.details.get("changes", [])[:10])
            done.append(f"{result.inserted} new, {result.updated} changed (batch {result.batch})"
                        + (f": {fields}" if fields else ""))
    if gone:
        removed = undo.remove_definitions(store, kind, gone, source=label)
        done.append(f"removed {', '.join(gone)} (batch {removed.batch})")
    if kind == "launches" and done:
        # Scenarios are saved under a launch's name: a renamed launch leaves them behind.
        orphans = store.scenarios.orphaned()
        if orphans:
            done.append(f"saved scenarios of {', '.join(orphans)} now belong to no launch (give "
                        "the launch its old name back, or undo this batch, to see them again)")
    return done


def clear_everything(store: Store) -> int:
    """Undo every batch in effect (one transaction) and keep the demo from coming
    back; returns how many batches were undone."""
    undone = undo.undo_all(store)
    store.settings.set("start_empty", "yes")
    return len(undone)


def setting(store: Store, key: str) -> str | None:
    """A setting of this database ('demo_loaded', 'start_empty', ...), or None."""
    return store.settings.get(key)


def has_history(store: Store) -> bool:
    """True when any import or edit is in effect."""
    return store.batches.any_in_effect()


def record_checkin(store: Store, *, period: str, note: str, kpi: str | None = None,
                   key_result: str | None = None, objective: str | None = None,
                   confidence: str | None = None, by: str | None = None,
                   source: str = "Check-in") -> importing.ImportResult:
    """Stores one check-in on a KPI or a key result as its own undoable batch, through
    the importer's rules (goal_rows.checkin_definitions): a second check-in on the same
    subject and period replaces the first, which undo brings back. Refuses what the
    importer refuses (InputError: unknown title, bad period or confidence...)."""
    row = {"kpi": kpi, "key_result": key_result, "objective": objective, "period": period,
           "note": note, "confidence": confidence, "by": by, "at": None}
    return _save_one(store, row, "checkins", source)


def one_row_refusal(exc: InputError, source: str) -> InputError:
    """The importer's refusal of a one-row frame said without its row: "column
    'period': ..." becomes "period: ...", which a form or a command line reads."""
    problems = [re.sub(r"^row \d+, column '([^']*)': ", r"\1: ", p) for p in exc.problems]
    if len(problems) > 1:
        return InputError(f"{len(problems)} problems; correct them and save again", file=source,
                          problems=problems)
    return InputError(problems[0] if problems else exc.message, file=source, column=exc.column)


def pin_kpi(store: Store, title: str, pinned: bool = True) -> importing.ImportResult:
    """Pins the KPI called `title` (or unpins it) as its own undoable batch. Refuses
    an unknown title (InputError)."""
    kpi = next((k for k in store.definitions.kpis() if k.title == title), None)
    if kpi is None:
        raise InputError(f"'{shortened(title, 60)}' is not a KPI title", file="Pin")
    row = {"title": kpi.title, "metric": kpi.metric, "target": kpi.target,
           "target_kind": kpi.target_kind, "period": kpi.period, "department": kpi.department,
           "objective": kpi.objective, "owner": kpi.owner, "tolerance": kpi.tolerance,
           "supporting": ", ".join(kpi.supporting), "pinned": "yes" if pinned else "no"}
    return _save_one(store, row, "kpis", "Pinned KPIs" if pinned else "Unpinned KPIs")


def save_objective(store: Store, objective: dict) -> importing.ImportResult:
    """Adds or changes one objective from a form ({objective, owner, department, cycle,
    description, parent}) as its own undoable batch. Refuses what the importer
    refuses, without a row number (one_row_refusal)."""
    return _save_one(store, objective, "objectives", "Objective form")


def save_key_result(store: Store, key_result: dict) -> importing.ImportResult:
    """Adds or changes one key result from a form ({objective, title, metric, start,
    target, start_date, deadline, owner, department, weight}) as its own undoable
    batch. Refuses what the importer refuses, without a row number."""
    return _save_one(store, key_result, "key_results", "Key result form")


def _save_one(store: Store, fields: dict, kind: str, source: str) -> importing.ImportResult:
    """One definition row (a form's, a command's) imported as its own batch; a refusal
    says its fields without a row number (one_row_refusal)."""
    frame = pd.DataFrame([fields], dtype=object)
    try:
        return importing.import_frames(store, [(frame, source, kind)])[0]
    except InputError as exc:
        raise one_row_refusal(exc, source) from None


def field_problems(exc: InputError) -> dict[str, str]:
    """A form's refusal by field: {"deadline": "must come after start_date"}; what
    names no field is under ""."""
    found: dict[str, str] = {}
    for problem in exc.problems or [exc.message]:
        field, sep, text = problem.partition(": ")
        if sep and field.replace("_", "").isalpha():
            found.setdefault(field, text)
        else:
            found.setdefault("", problem)
    return found
