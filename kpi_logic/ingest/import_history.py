"""Importing one table of metric history (long or wide) into `observations`.

The run around it (transaction, batches, order of files) is in importing.py.
The raw text is parsed once in DuckDB; the checks, the duplicate search and
the versioned upsert read the parsed rows. Refusals read the raw table again
to name rows and columns.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpi_logic.domain.errors import BreakdownClash, InputError
from kpi_logic.ingest.history_definitions import FromHistory, metrics_from_history
from kpi_logic.ingest.metric_names import check_metric_count, check_metric_names
from kpi_logic.ingest.reading import RawTable
from kpi_logic.store import (
    Store,
    history_preview,
    history_refusals,
    staging,
    writes,
    writes_history,
)
from kpi_logic.store.writes_history import HistorySource

if TYPE_CHECKING:
    from kpi_logic.ingest.importing import Layout

_DEFAULT_SHEET = re.compile(r"^(sheet|data|history|tabelle|feuil|hoja)\s*\d*$", re.IGNORECASE)

# (write under a batch id -> (inserted, updated, unchanged, changed anything else))
# -> (batch id or None, (inserted, updated, unchanged)); the run's _batch.
BatchWriter = Callable[[Callable[[int], tuple[int, int, int, bool]]], tuple[int | None, tuple]]


@dataclass(frozen=True)
class HistoryOutcome:
    batch: int | None
    counts: tuple[int, int, int]
    notes: tuple[str, ...]
    details: dict


def import_history(store: Store, raw: RawTable, layout: Layout, *,
                   department: str | None, date_order: str | None,
                   in_batch: BatchWriter) -> HistoryOutcome:
    """Check and store one history table; metrics nobody defined are defined
    with defaults. Refuses (InputError) bad dates, values and metric names and
    a date and metric given two different values, naming rows and columns,
    and a campaign column without a dimension column to belong to."""
    if layout.campaign and not layout.dimension:
        raise InputError(f"column '{header(raw, layout.campaign)}' holds campaigns, which are a "
                         "breakdown within a channel: add a channel column (or region, product, "
                         "segment, dimension), or rename the column to 'channel' if these "
                         "campaigns are your channels", file=raw.file, sheet=raw.sheet,
                         column=header(raw, layout.campaign))
    order = staging.date_order(store.staging, raw, layout.date, prefer=date_order)
    source = _source(raw, layout, order)
    wide_names = None if layout.format == "long" else [name for _, name in source.values]
    # On DuckDB a first import (no current rows for its metrics) goes straight
    # into observations and is checked there: no work table of every value. A
    # server's store checks every import in staging first.
    first = (store.history.stores_before_checking
             and not store.history.has_current_rows(wide_names))
    found: dict = {} if first else _checked(store, raw, layout, source)
    defined: list[FromHistory] = []

    def write(batch_id: int):
        if first:
            found.update(_stored_first(store, raw, layout, source, batch_id))
        metrics = found["checks"]["metrics"]
        if first and not found["repeated"]:
            counts = (found["inserted"], 0, 0)
        else:
            counts = store.history.upsert_observations(batch_id, metrics,
                                                        campaign=bool(layout.campaign))
        # Judged on the history as stored, this file's rows included.
        defined.append(metrics_from_history(
            store, source, metrics, batch_id, department=department or _sheet_department(raw),
            dimension=layout.dimension))
        if defined[0].metrics:
            store.definitions.upsert("metrics", defined[0].metrics, batch_id,
                                      inferred=True)
        return (*counts, bool(defined[0].metrics))
    batch, counts = in_batch(write)
    if not found:       # the same file was imported before: checked, nothing written
        found = _checked(store, raw, layout, source)
    checks = found["checks"]
    inferred = defined[0] if defined else FromHistory()
    details = {"format": layout.format, "date_order": order, "metrics": checks["metrics"],
               "first_date": checks["first_date"], "last_date": checks["last_date"],
               "dimension": layout.dimension, "campaign": layout.campaign,
               "values": checks["rows"] - found["repeated"], "inferred": inferred.choices,
               # What the analyst checks before importing: the file read as it will be stored.
               "first_rows": history_preview.first_rows(store.staging, source)}
    return HistoryOutcome(batch, counts, inferred.notes, details)


def _checked(store: Store, raw: RawTable, layout: Layout, source: HistorySource) -> dict:
    """Stage and check the history (refusing bad cells and conflicting keys):
    {"checks": history_checks, "repeated": keys given twice}."""
    writes_history.stage_history(store.staging, source)
    found = _refused_or_checked(store, raw, layout, source, batch_id=None)
    breakdown, total = store.history.breakdown_clashes(campaign=bool(layout.campaign))
    if breakdown:
        _refuse_breakdown(store, raw, layout, source, breakdown, total)
    return found


def _stored_first(store: Store, raw: RawTable, layout: Layout, source: HistorySource,
                  batch_id: int) -> dict:
    """Insert a first import under `batch_id`, then check what was stored (a
    refusal rolls the run back): _checked's dict and "inserted". With
    identical repeats the rows are deleted again and PARSED holds them once."""
    inserted = store.history.insert_first_import(source, batch_id)
    return {**_refused_or_checked(store, raw, layout, source, batch_id), "inserted": inserted}


def _refused_or_checked(store: Store, raw: RawTable, layout: Layout, source: HistorySource,
                        batch_id: int | None) -> dict:
    """Check the staged rows (or a first import's rows under `batch_id`),
    refusing bad cells and keys given two values: {"checks", "repeated"}."""
    check_metric_count(store, raw, source, batch_id)
    checks = writes_history.history_checks(store.staging, layout.format == "long", batch_id,
                                           campaign=bool(layout.campaign))
    if checks["bad"]:
        _refuse_bad_values(store, raw, layout, source)
    check_metric_names(store, raw, source, checks["metrics"])
    repeated, clashes = writes_history.duplicate_keys(store.staging, checks)
    if clashes:
        _refuse_conflicts(store, raw, source)
    return {"checks": checks, "repeated": repeated}


def _source(raw: RawTable, layout: Layout, order: str) -> HistorySource:
    date_sql = staging.column_date_sql(layout.date, order, allow_year=layout.date == "year")
    values = tuple((c, None if layout.format == "long" else c) for c in layout.values)
    return HistorySource(table=raw.table, values=values, date_sql=date_sql,
                         decimal_comma=raw.decimal_comma, metric_column=layout.metric,
                         dimension=layout.dimension, campaign=layout.campaign,
                         department=layout.department)


def header(raw: RawTable, column: str) -> str:
    """A column's header as the user wrote it."""
    return raw.headers[raw.columns.index(column)] if column in raw.columns else column


def _refuse_bad_values(store: Store, raw: RawTable, layout: Layout, source: HistorySource) -> None:
    bad, total = history_refusals.history_problems(store.staging, source)
    columns = [layout.date, *layout.values] + ([layout.metric] if layout.metric else [])
    cells = writes.raw_cells(store.staging, raw.table, sorted({b[0] for b in bad}), columns)
    problems = []
    for line, part, bad_date, bad_value, no_metric in bad:
        text = dict(zip(columns, cells.get(line, ()), strict=False))
        where = f"row {line}, column"
        if bad_date:
            cell = (text.get(layout.date) or "").strip()
            what = staging.refused_cell(store.staging, cell, "date") if cell else "the date is empty"
            problems.append(f"{where} '{header(raw, layout.date)}': {what}")
        if bad_value:
            column = layout.values[part]
            problems.append(f"{where} '{header(raw, column)}': "
                            f"{staging.refused_cell(store.staging, text.get(column), 'number')}")
        if no_metric:
            problems.append(f"{where} '{header(raw, layout.metric)}': the metric name is empty")
    raise InputError(f"{total} cell(s) cannot be read; correct them and import again",
                     file=raw.file, sheet=raw.sheet, problems=problems, total_problems=total)


def _refuse_conflicts(store: Store, raw: RawTable, source: HistorySource) -> None:
    clashes, total = history_refusals.conflicting_duplicates(store.staging, source)
    problems = []
    names = {"dimension": header(raw, source.dimension) if source.dimension else "",
             "campaign": header(raw, source.campaign) if source.campaign else ""}
    for metric, day, dimension, campaign, line_a, value_a, line_b, value_b in clashes:
        within = ", ".join(f"{names[key]} {part}" for key, part in
                           (("dimension", dimension), ("campaign", campaign)) if part)
        which = f"{metric} on {day:%Y-%m-%d}" + (f" for {within}" if within else "")
        problems.append(f"rows {line_a} and {line_b} give {which} two different values "
                        f"({value_a:g} and {value_b:g})")
    raise InputError("the same date and metric appear twice with different values; keep one "
                     "row for each", file=raw.file, sheet=raw.sheet, problems=problems,
                     total_problems=total)


def _refuse_breakdown(store: Store, raw: RawTable, layout: Layout, source: HistorySource,
                      clashes: list[tuple], total: int) -> None:
    """Refuse values that would count a stored total again (or the reverse)."""
    problems = []
    for metric, day, dimension, level, named, batch, file in clashes:
        column = layout.dimension if level == "dimension" else layout.campaign
        line = history_refusals.first_line(store.staging, source, metric, day,
                                         None if level == "dimension" else dimension)
        where = f"{metric} on {day:%Y-%m-%d}" + (f" for {dimension}" if dimension else "")
        kind = "channel or region" if level == "dimension" else "campaign"
        if named:
            problems.append(f"row {line}, column '{header(raw, column)}': {where} is already "
                            f"stored without a {kind} (batch {batch}, {file}); the breakdown "
                            "would be added to that total and count it twice")
        else:
            problems.append(f"row {line}: {where} is stored broken down by {kind} (batch "
                            f"{batch}, {file}); a total without one would count it twice")
    first_batch = clashes[0][5]
    raise BreakdownClash(f"this file breaks the history down differently from what is stored; "
                     f"undo batch {first_batch} first and import this file again, "
                     "or import it with the same columns as before",
                     file=raw.file, sheet=raw.sheet, problems=problems, total_problems=total)


def _sheet_department(raw: RawTable) -> str | None:
    """A workbook sheet named after a team ("Sales") gives its history's department."""
    if raw.sheet and not _DEFAULT_SHEET.match(raw.sheet.strip()):
        return raw.sheet.strip()
    return None
