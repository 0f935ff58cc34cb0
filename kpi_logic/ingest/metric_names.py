"""The metric names a history table brings, checked before anything is stored
or defined from them.

A name is matched as a key: lowercase, with spaces, dots and dashes as
separators ("Website visitors" is website_visitors). A name without a letter
would lose its meaning that way ("-1" would become metric "1", "3.5" metric
"3_5"), so it is refused. One table brings at most MAX_METRICS_PER_FILE
different metrics: a dashboard tracks tens or hundreds, and a column of ids
or amounts mistaken for metric names would otherwise define each one.
"""
from __future__ import annotations

from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.domain.limits import MAX_METRICS_PER_FILE
from kpi_logic.ingest.definition_rows import name_problem
from kpi_logic.ingest.reading import RawTable
from kpi_logic.store import Store, history_refusals, writes_history
from kpi_logic.store.writes_history import HistorySource

# Grouping a table of made-up names takes a few hundred bytes a name: from this many
# rows on a sample is looked at first, which refuses a table of more than about
# 100,000 names (under it the grouping stays within some 40 MB).
SAMPLE_FROM_ROWS = 100_000


def check_metric_count(store: Store, raw: RawTable, source: HistorySource, batch_id: int | None) -> None:
    """Refuse, before the metrics are grouped, a long table whose sampled rows already
    name more than MAX_METRICS_PER_FILE metrics (check_metric_names counts exactly)."""
    if not source.metric_column or raw.n_rows < SAMPLE_FROM_ROWS:
        return
    found = writes_history.sampled_metric_count(store.staging, batch_id)
    if found > MAX_METRICS_PER_FILE:
        raise _too_many(raw, source, f"at least {found:,}")


def _too_many(raw: RawTable, source: HistorySource, count: str) -> InputError:
    return InputError(
        f"this table holds {count} different metrics; Lodestar takes at most "
        f"{MAX_METRICS_PER_FILE:,} from one file (a dashboard tracks tens or hundreds). Check "
        "that this column holds metric names, or split the file",
        file=raw.file, sheet=raw.sheet,
        column=_written(raw, source.metric_column) if source.metric_column else None)


def check_metric_names(store: Store, raw: RawTable, source: HistorySource, names: list[str]) -> None:
    """Refuse (InputError naming rows or columns) a table of more than
    MAX_METRICS_PER_FILE metrics and metric names without a letter."""
    column = _written(raw, source.metric_column) if source.metric_column else None
    if len(names) > MAX_METRICS_PER_FILE:
        raise _too_many(raw, source, f"{len(names):,}")
    nameless = [name for name in names if name_problem(name)]
    if not nameless:
        return
    if source.metric_column:
        found = history_refusals.metric_lines(store.staging, source, nameless[:20])
        problems = [f"row {line}, column '{column}': '{shortened(written, 60)}' {_why(name)}"
                    for name, line, written in found]
    else:
        problems = [f"column '{_written(raw, name)}' (row {raw.header_row}): "
                    f"'{shortened(_written(raw, name), 60)}' {_why(name)}" for name in nameless[:20]]
    raise InputError("some metric names cannot be keys; name each metric in a few words (e.g. "
                     "'units_sold', 'nps')", file=raw.file, sheet=raw.sheet, problems=problems,
                     total_problems=len(nameless))


def _why(key: str) -> str:
    return f"is not a metric name: {name_problem(key)}"


def _written(raw: RawTable, column: str) -> str:
    return raw.headers[raw.columns.index(column)] if column in raw.columns else column
