"""Importing files and edited frames into the store, as batches.

One run (several files, or several frames from the dashboard) is one
transaction: any refusal rolls everything back. Files of a run are taken
together, in the order metric definitions -> history -> KPIs -> targets ->
key results -> launches, so a KPI file may name a metric that another file of
the same run defines or brings history for. History stays in DuckDB from the
raw text table to `observations` (import_history.py). Listing and undoing
batches, and removing definitions as a batch, are in undo.py.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import pandas as pd

from kpi_logic.domain import vocabulary
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import formula_problems
from kpi_logic.ingest import definition_merge as merge
from kpi_logic.ingest import definition_rows as defs
from kpi_logic.ingest import goal_rows
from kpi_logic.ingest.import_history import header, import_history
from kpi_logic.ingest.reading import RawTable, read_tables
from kpi_logic.store import Store, staging, writes, writes_history

log = logging.getLogger(__name__)
KIND_ORDER = ("metrics", "history", "kpis", "targets", "objectives", "key_results", "launches",
              "checkins")
MAX_CHANGE_NOTES = 10
# The current definitions of each kind, to merge a table's rows with and diff against.
_CURRENT = {"metrics": lambda store: list(store.definitions.metrics().values()),
            "kpis": lambda store: store.definitions.kpis(),
            "targets": lambda store: store.definitions.targets(),
            "key_results": lambda store: store.definitions.key_results(),
            "launches": lambda store: store.definitions.launches(),
            "objectives": lambda store: store.definitions.objectives(),
            "checkins": lambda store: store.definitions.checkins()}
NOTHING_CHANGED = "already imported: nothing changed"
_DATE_ORDERS = {"dayfirst": "dmy", "monthfirst": "mdy"}


@dataclass(frozen=True)
class ImportResult:
    file: str
    sheet: str | None
    kind: str                 # history | metrics | kpis | targets | key_results | launches |
                              # objectives | checkins
    batch: int | None         # None in a preview, or when the file changed nothing
    rows: int
    inserted: int
    updated: int
    unchanged: int
    notes: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """What a table holds and which of its columns play which part."""
    kind: str                            # history | metrics | kpis | ...
    format: str | None = None            # history: long | wide
    date: str | None = None
    metric: str | None = None            # long history: the metric name column
    values: tuple[str, ...] = ()         # long: ("value",); wide: one column per metric
    dimension: str | None = None
    campaign: str | None = None          # history: campaigns within the dimension
    department: str | None = None
    roles: dict = field(default_factory=dict)   # definitions: field -> column


def table_layout(columns: tuple[str, ...], name: str | None = None,
                 kind: str | None = None) -> Layout | None:
    """The layout of a table with these normalised columns, or None when it is
    neither history nor definitions. `kind` forces a definition kind."""
    found = vocabulary.classify_columns(columns, name)
    if kind and kind != "history":
        found = kind
    if found in ("history_long", "history_wide"):
        wide = found == "history_wide"
        return Layout(
            kind="history", format="wide" if wide else "long",
            date=vocabulary.date_column(columns), metric=None if wide else "metric",
            values=vocabulary.number_columns(found, columns),
            dimension=vocabulary.dimension_column(columns),
            campaign=vocabulary.campaign_column(columns),
            department="department" if "department" in columns else None)
    if found not in defs.COLUMNS:
        return None
    roles = {c: c for c in columns if c in defs.COLUMNS[found]}
    if found == "targets" and "kpi" not in roles and "metric" in columns:
        roles["kpi"] = "metric"
    return Layout(kind=found, roles=roles)


@dataclass
class _Options:
    department: str | None
    date_order: str | None
    run_id: int | None = None       # the first batch id of the run
    # Tables whose bytes an earlier batch still in effect imported: id(raw) -> that batch.
    seen: dict = field(default_factory=dict)


def import_files(store: Store, files: list[tuple[bytes | BinaryIO, str]], *,
                 sheet: str | None = None, department: str | None = None,
                 date_order: str | None = None, dry_run: bool = False) -> list[ImportResult]:
    """Import files (bytes or binary file objects, with their names) as one run.

    Returns one result per file or sheet. Refuses bad input with InputError and
    leaves the database exactly as before; dry_run validates, reports, rolls back.
    """
    def tables() -> list[RawTable]:
        return _collected(store, [lambda d=d, n=n: read_tables(store, d, n, sheet=sheet)
                                for d, n in files])
    order = _DATE_ORDERS.get(date_order, date_order)
    if order not in (None, "ymd", "dmy", "mdy"):
        raise InputError(f"date order must be dayfirst or monthfirst, not '{date_order}'")
    return _run(store, tables, None, department, order, dry_run)


def import_frames(store: Store,
                  frames: list[tuple[pd.DataFrame, str, str]], *,
                  dry_run: bool = False) -> list[ImportResult]:
    """Import definitions edited in the dashboard: (frame, source name, kind) each,
    with the same parsing and validation as files. Does not mutate the frames."""
    kinds = {name: kind for _, name, kind in frames}

    def tables() -> list[RawTable]:
        return _collected(store, [lambda f=f, n=n: [_frame_table(store, f, n)]
                                for f, n, _ in frames])
    return _run(store, tables, kinds, None, None, dry_run)


# --- the run -------------------------------------------------------------------

def _collected(store: Store, readers: list[Callable[[], list[RawTable]]]) -> list[RawTable]:
    """The tables of every reader; when one refuses, the others' tables are dropped."""
    found: list[RawTable] = []
    try:
        for read in readers:
            found += read()
    except BaseException:
        for raw in found:
            staging.drop_table(store.staging, raw.table)
        raise
    return found


def _run(store: Store, tables: Callable[[], list[RawTable]], kinds: dict | None,
         department: str | None, date_order: str | None, dry_run: bool) -> list[ImportResult]:
    # Reading only fills temporary tables, so it runs before the transaction
    # (a reader recovering from a DuckDB error must not find it aborted).
    raws: list[RawTable] = []
    try:
        raws = tables()
        with store.transaction(keep=not dry_run):
            planned = _planned(raws, kinds)
            results = _imported(store, planned, _Options(department, date_order))
    except InputError as exc:
        # Where, not what: the message quotes the person's cells.
        log.info("Import refused, nothing written: %s", exc.location() or "the run")
        raise
    finally:
        writes.drop_work_tables(store.staging)
        writes_history.drop_work_tables(store.staging)
        for raw in raws:
            staging.drop_table(store.staging, raw.table)
    if dry_run:
        results = [_preview(r) for r in results]
    for r in results:
        log.info("%s %s%s as %s: batch %s, %d rows, %d inserted, %d updated",
                 "Checked" if dry_run else "Imported", r.file, f" (sheet {r.sheet})" if r.sheet
                 else "", r.kind, r.batch, r.rows, r.inserted, r.updated)
    return results


def _history(store: Store, raw: RawTable, layout: Layout, options: _Options) -> ImportResult:
    def in_batch(write):
        return _batch(store, raw, "history", options, write)
    outcome = import_history(store, raw, layout, department=options.department,
                             date_order=options.date_order, in_batch=in_batch)
    return _result(raw, "history", outcome.batch, outcome.counts, raw.n_rows,
                   outcome.notes + _seen_note(raw, options), outcome.details)


def _planned(raws: list[RawTable], kinds: dict | None) -> list[tuple[RawTable, Layout]]:
    """Each table with its layout, in KIND_ORDER. Refuses a table that is
    neither history nor a definition (read_tables normally refuses it first)."""
    planned = []
    for raw in raws:
        layout = table_layout(raw.columns, raw.sheet or raw.file, (kinds or {}).get(raw.file))
        if layout is None:
            raise InputError(
                "this table is neither metric history nor a definition table. Expected one of: "
                f"{vocabulary.describe_kinds()}. Header found: {', '.join(raw.headers)}",
                file=raw.file, sheet=raw.sheet, row=raw.header_row)
        planned.append((raw, layout))
    return sorted(planned, key=lambda p: KIND_ORDER.index(p[1].kind))


def _imported(store: Store, planned: list[tuple[RawTable, Layout]], options: _Options) -> list[ImportResult]:
    metric_files = [raw for raw, layout in planned if layout.kind == "metrics"]
    results, formulas_checked = [], not metric_files
    for raw, layout in planned:
        if layout.kind not in ("metrics", "history") and not formulas_checked:
            _check_formulas(store, metric_files[0])
            formulas_checked = True
        step = _history if layout.kind == "history" else _definitions
        results.append(step(store, raw, layout, options))
    if not formulas_checked:
        _check_formulas(store, metric_files[0])
    return results


def _check_formulas(store: Store, source: RawTable) -> None:
    """Formulas are checked once metrics and history of the run are in, so a
    formula may use a metric that only a history file of the run brings.
    Only runs with a metrics table can add a bad formula."""
    problems = formula_problems({m.name: m.formula for m in store.definitions.metrics().values()})
    if problems:
        raise InputError("a formula cannot be computed; fix the metric definitions",
                         file=source.file, sheet=source.sheet, column="formula",
                         problems=problems)


def _batch(store: Store, raw: RawTable, kind: str, options: _Options,
           write: Callable[[int], tuple[int, int, int, bool]]) -> tuple[int | None, tuple]:
    """Run `write` under a new batch; forget the batch when it changed nothing.
    Returns (batch id or None, (inserted, updated, unchanged))."""
    earlier = store.batches.earlier(sha256=raw.sha256, sheet=raw.sheet, kind=kind)
    if earlier is not None:
        # The same bytes again change nothing, even when a later file corrected
        # some of their values: re-sending an old export must not undo a fix.
        options.seen[id(raw)] = earlier
        return None, (0, 0, raw.n_rows)
    batch_id = store.batches.open(run_id=options.run_id, file=raw.file, sheet=raw.sheet,
                                 kind=kind, sha256=raw.sha256, rows=raw.n_rows)
    if options.run_id is None:
        options.run_id = batch_id
    inserted, updated, unchanged, extra_change = write(batch_id)
    if inserted or updated or extra_change:
        store.batches.close(batch_id, inserted, updated, unchanged)
        return batch_id, (inserted, updated, unchanged)
    store.batches.drop(batch_id)
    if options.run_id == batch_id:
        options.run_id = None      # the run is named after a batch that stays
    return None, (inserted, updated, unchanged)


def _result(raw: RawTable, kind: str, batch: int | None, counts: tuple, rows: int,
            notes: tuple[str, ...] = (), details: dict | None = None) -> ImportResult:
    if batch is None:
        notes = (NOTHING_CHANGED,) + notes
    return ImportResult(file=raw.file, sheet=raw.sheet, kind=kind, batch=batch, rows=rows,
                        inserted=counts[0], updated=counts[1], unchanged=counts[2],
                        notes=raw.notes + notes,
                        details={"header_row": raw.header_row, **(details or {})})


def _preview(result: ImportResult) -> ImportResult:
    notes = tuple(n for n in result.notes if n != NOTHING_CHANGED)
    if not (result.inserted or result.updated):
        notes += (NOTHING_CHANGED,)
    return ImportResult(**{**result.__dict__, "batch": None, "notes": notes})


# --- definitions -------------------------------------------------------------------

def _definitions(store: Store, raw: RawTable, layout: Layout, options: _Options) -> ImportResult:
    frame = _definition_frame(store, raw, layout, options)
    source = defs.Source(raw.file, raw.sheet)
    kind = layout.kind
    if kind == "metrics":
        items = defs.metric_definitions(frame, source)
    elif kind == "kpis":
        items = defs.kpi_definitions(frame, source, store.definitions.metrics())
    elif kind == "targets":
        items = defs.target_definitions(frame, source, store.definitions.kpis())
    elif kind == "key_results":
        items = defs.key_result_definitions(frame, source, store.definitions.metrics())
    elif kind == "objectives":
        items = goal_rows.objective_definitions(frame, source, store.definitions.objectives())
    elif kind == "checkins":
        items = goal_rows.checkin_definitions(frame, source, store.definitions.kpis(),
                                              store.definitions.key_results())
    else:
        items = defs.launch_definitions(frame, source)
    current = {merge.definition_key(i): i for i in _CURRENT[kind](store)}
    stated = merge.stated_fields(kind, frame.to_dict("records"), list(layout.roles),
                                 whole_rows=raw.source == "frame")
    items = merge.merged_definitions(items, stated, current)
    changes = merge.definition_changes(kind, items, current)
    confirmed = []

    def write(batch_id: int):
        counts = store.definitions.upsert(kind, items, batch_id)
        confirmed.append(counts.confirmed)
        return (*counts[:3], counts.confirmed > 0)
    batch, counts = _batch(store, raw, kind, options, write)
    notes = (f"{confirmed[0]} metric(s) inferred from history are now confirmed as defined",) \
        if confirmed and confirmed[0] and batch is not None else ()
    if id(raw) in options.seen:
        changes = []        # the same bytes again: nothing is written
    return _result(raw, kind, batch, counts, len(frame),
                   notes + _change_notes(changes) + _seen_note(raw, options),
                   {"format": kind, "changes": changes})


def _change_notes(changes: list[dict]) -> tuple[str, ...]:
    """Which fields of which definitions change, in one note; details["changes"]
    holds every change with its old and new value."""
    fields: dict[str, list[str]] = {}
    for change in changes:
        fields.setdefault(change["definition"], []).append(change["field"])
    if not fields:
        return ()
    named = [f"{key} ({', '.join(names)})" for key, names in fields.items()]
    more = len(named) - MAX_CHANGE_NOTES
    return ("changed fields: " + "; ".join(named[:MAX_CHANGE_NOTES])
            + (f"; and {more} more definition(s)" if more > 0 else "")
            + " (old and new values in the list of changes)",)


def _seen_note(raw: RawTable, options: _Options) -> tuple[str, ...]:
    """Where the same bytes were imported before, and how to read them anew."""
    earlier = options.seen.get(id(raw))
    if earlier is None:
        return ()
    batch, file, when = earlier
    return (f"the same content is in batch {batch} ({file}, {when:%Y-%m-%d %H:%M}); to read "
            f"it again with other options (e.g. --dayfirst), undo batch {batch} first",)


def _definition_frame(store: Store, raw: RawTable, layout: Layout, options: _Options) -> pd.DataFrame:
    """The definition rows with numbers and dates parsed by the history rules.
    Refuses unreadable numbers and dates, naming row and column."""
    types = defs.COLUMNS[layout.kind]
    orders = {name: staging.date_order(store.staging, raw, column, prefer=options.date_order)
              for name, column in layout.roles.items() if types.get(name) == "date"}
    selects = staging.typed_selects(layout.roles, types, raw.decimal_comma, orders)
    frame = writes.definition_rows(store.staging, raw.table, selects, defs.CLEAR_MARKS)
    problems = []
    for name, column in layout.roles.items():
        for line in frame.loc[frame[f"{name}__bad"], "_line"]:
            text = writes.raw_cells(store.staging, raw.table, [line], [column])[line][0]
            problems.append(f"row {line}, column '{header(raw, column)}': "
                            f"{staging.refused_cell(store.staging, text, types.get(name))}")
    if problems:
        raise InputError("some cells cannot be read; correct them and import again",
                         file=raw.file, sheet=raw.sheet, problems=sorted(problems))
    return frame[["_line", *layout.roles, *(f"{name}__said" for name in layout.roles)]]


def _frame_table(store: Store, frame: pd.DataFrame, name: str) -> RawTable:
    """A dashboard-edited frame as an all-text raw table (row 1 is the header)."""
    table = staging.new_table_name()
    headers = tuple(str(c) for c in frame.columns)
    columns = tuple(vocabulary.normalise_header(h) for h in headers)
    text = pd.DataFrame({c: [_cell_text(v) for v in frame[h]]
                         for c, h in zip(columns, frame.columns, strict=True)}, dtype=object)
    text.insert(0, "_line", range(2, len(frame) + 2))
    staging.load_frame(store.staging, text, table=table)
    return RawTable(file=name, sheet=None, table=table, columns=columns, headers=headers,
                    header_row=1, n_rows=len(frame), decimal_comma=False, source="frame",
                    sha256="")


def _cell_text(value) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
