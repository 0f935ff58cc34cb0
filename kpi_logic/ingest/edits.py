"""The dashboard's edits as engine work: definitions saved from an edited table
(each save and each removal its own undoable batch), emptying the database,
and the small settings a page reads. Pages call these through ui/data."""
from __future__ import annotations

from kpi_logic.ingest import importing, undo
from kpi_logic.store import Store

# The definition kinds a page edits, as the page names them.
KINDS = {"metrics": "Metrics", "kpis": "KPIs", "targets": "Per-period targets",
         "key_results": "Key results", "launches": "Launches"}


def current_metrics(store: Store) -> dict:
    """The current metrics by name."""
    return store.definitions.metrics()


def current_definitions(store: Store, kind: str) -> list:
    """The current definitions of one kind (a key of KINDS), as model objects."""
    if kind == "metrics":
        return list(store.definitions.metrics().values())
    return {"kpis": store.definitions.kpis, "targets": store.definitions.targets,
            "key_results": store.definitions.key_results,
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
