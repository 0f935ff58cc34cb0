"""Taking batches back: listing them, undoing a batch, a run or everything,
and removing definitions as a batch that undo in turn reverses.

Undo and removal share one refusal: a metric still used (by history, a KPI,
a key result or a formula of another batch) is never left undefined. Each
call is one transaction; a refusal changes nothing. Importing is in
importing.py; the SQL of both is in store/writes.py.
"""
from __future__ import annotations

import logging

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import formula_metrics, parse_formula
from kpi_logic.ingest.importing import NOTHING_CHANGED, ImportResult
from kpi_logic.store import Store, writes

log = logging.getLogger(__name__)


def run_of(results: list[ImportResult]) -> int | None:
    """The run id of an import's results (its first batch that changed
    something), or None when nothing changed or it was a preview."""
    return min((r.batch for r in results if r.batch is not None), default=None)


def list_batches(store: Store) -> pd.DataFrame:
    """Every batch, oldest first (undone ones too, with undone_at set)."""
    return store.batches.listed()


def undo_batch(store: Store, batch_id: int) -> dict:
    """Put back exactly the state before a batch. Refuses an unknown or already
    undone batch, one whose rows a later batch still in effect replaced, and
    one whose metrics (defined by it) other batches in effect still use."""
    with store.transaction():
        undone = _undone(store, batch_id)
    log.info("Undid batch %(batch)s (%(file)s): %(deleted)s rows removed, %(restored)s restored",
             undone)
    return undone


def undo_run(store: Store, run_id: int) -> list[dict]:
    """Undo every batch of one run still in effect, newest first, all or
    nothing; returns undo_batch's result per batch. Refuses an unknown run, a
    run already undone, and what undo_batch refuses."""
    with store.transaction():
        batches = store.batches.in_effect(run_id)
        if not batches:
            known = store.batches.row(run_id)
            raise InputError(f"run {run_id} was already undone" if known else
                             f"there is no run {run_id}; list the batches with `batches`")
        return [_undone(store, b) for b in batches]


def undo_all(store: Store) -> list[dict]:
    """Undo every batch in effect, newest first, all or nothing (a fresh start;
    the batches stay listed as undone). Returns undo_batch's result per batch."""
    with store.transaction():
        return [_undone(store, b) for b in store.batches.in_effect()]


def _undone(store: Store, batch_id: int) -> dict:
    batch = store.batches.row(batch_id)
    if batch is None:
        raise InputError(f"there is no batch {batch_id}; list them with `batches`")
    if batch["undone_at"] is not None:
        raise InputError(f"batch {batch_id} ({batch['file']}) was already undone "
                         f"at {batch['undone_at']:%Y-%m-%d %H:%M}")
    later = store.batches.superseding(batch_id)
    if later:
        names = ", ".join(f"batch {i} ({f})" for i, f in later)
        raise InputError(f"batch {batch_id} ({batch['file']}) cannot be undone: {names} "
                         "changed the same values later; undo that first")
    _refuse_orphans(store, batch_id, batch["file"])
    deleted, restored = store.batches.undo_rows(batch_id)
    return {"batch": batch_id, "file": batch["file"], "sheet": batch["sheet"],
            "kind": batch["kind"], "deleted": deleted, "restored": restored}


def _refuse_orphans(store: Store, batch_id: int, file: str) -> None:
    """Undoing a batch that defined a metric would leave history, KPIs, key
    results or formulas of other batches pointing at nothing: refuse, naming them."""
    names = store.batches.metrics_only_in(batch_id)
    users = _metric_users(store, names, exclude_batch=batch_id) if names else []
    if not users:
        return
    files = dict(store.batches.listed()[["id", "file"]].itertuples(index=False))
    problems = [f"{metric}: {_use_text(what, title)} (batch {b}, {files.get(b, '?')})"
                for metric, what, title, b in users]
    later = sorted({b for *_, b in users}, reverse=True)
    raise InputError(f"batch {batch_id} ({file}) cannot be undone: it defines metric(s) that "
                     f"batch(es) {', '.join(map(str, later))} still use; undo those first",
                     problems=problems)


def _use_text(what: str, title: str | None) -> str:
    return "its history" if what == "history" else f"{what} '{title}'"


def _metric_users(store: Store, names: list[str], exclude_batch: int | None = None) -> list[tuple]:
    """(metric, "KPI" | "key result" | "formula of" | "history", title, batch id) of
    current definitions and history using these metrics, outside one batch."""
    users = list(store.batches.metric_users(names, exclude_batch))
    wanted = set(names)
    for name, formula, batch in store.batches.formula_rows():
        if batch != exclude_batch and name not in wanted:
            for used in sorted(formula_metrics(parse_formula(formula)) & wanted):
                users.append((used, "formula of", name, batch))
    return sorted(users, key=lambda u: (u[0], u[3]))


# --- removal ---------------------------------------------------------------------------

def remove_definitions(store: Store, kind: str, keys: list,
                       source: str = "dashboard") -> ImportResult:
    """Remove current definitions by key (a metric name, KPI title, launch name;
    (kpi, period) or (objective, title) pairs, or their "a / b" text as
    template.removed_keys gives it) as one batch that undo_batch reverses.
    Removing a KPI removes its per-period targets too. Refuses unknown keys and
    a metric still used by a KPI, key result or formula (naming them); the
    removed count is in `updated` and details["removed"]."""
    if kind not in writes.DEFINITION_TABLES:
        raise InputError(f"cannot remove '{kind}'; choose one of "
                         f"{', '.join(writes.DEFINITION_TABLES)}", file=source)
    texts = list(dict.fromkeys(k if isinstance(k, str) else " / ".join(map(str, k))
                               for k in keys))
    if not texts:
        return ImportResult(file=source, sheet=None, kind=kind, batch=None, rows=0, inserted=0,
                            updated=0, unchanged=0, notes=(NOTHING_CHANGED,))
    with store.transaction():
        _check_removable(store, kind, texts, source)
        batch = store.batches.open(run_id=None, file=source, sheet=None, kind=kind,
                                  sha256=None, rows=len(texts))
        removed = store.batches.supersede_keys(kind, texts, batch)
        notes = [f"removed: {', '.join(texts)}"]
        if kind == "kpis":
            targets = store.batches.supersede_targets_of(texts, batch)
            if targets:
                notes.append(f"and {targets} per-period target(s) of these KPIs")
        store.batches.close(batch, 0, removed, 0)
    return ImportResult(file=source, sheet=None, kind=kind, batch=batch, rows=len(texts),
                        inserted=0, updated=removed, unchanged=0, notes=tuple(notes),
                        details={"removed": texts})


def _check_removable(store: Store, kind: str, texts: list[str], source: str) -> None:
    unknown = [t for t in texts if t not in store.batches.current_keys(kind)]
    if unknown:
        raise InputError(f"there is nothing to remove called {', '.join(map(repr, unknown))} "
                         f"among the current {kind}", file=source)
    if kind != "metrics":
        return
    users = [u for u in _metric_users(store, texts) if u[1] != "history"]
    if users:
        raise InputError("a metric still in use cannot be removed; remove or change what uses "
                         "it first", file=source,
                         problems=[f"{m}: used by {_use_text(w, t)}" for m, w, t, _ in users])
