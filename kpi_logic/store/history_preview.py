"""The first rows of a staged history table as they would be stored: each
metric's first values parsed by the same SQL as the import (dates as dates,
numbers as numbers, the metric name as its key), for the import preview.
Reads only the table's first lines, so a large file costs no more than a
small one.
"""
from __future__ import annotations

from dataclasses import replace

import duckdb

from kpi_logic.store import staging
from kpi_logic.store.db import quote_identifier
from kpi_logic.store.writes_history import (
    HistorySource,
    key_text_sql,
    metric_name_sql,
    raw_cells_sql,
)

_FIRST_LINES = "_lodestar_first_lines"
_FIRST_CELLS = "_lodestar_first_cells"
# Columns added to the first lines (a normalised header never starts with "_").
_DATE, _DIMENSION, _CAMPAIGN = "_lodestar_date", "_lodestar_dimension", "_lodestar_campaign"
PREVIEW_LINES = 200      # the lines of the file the preview reads
PER_METRIC = 3           # values shown per metric
MOST_ROWS = 24           # values shown per table


def first_rows(con: duckdb.DuckDBPyConnection, source: HistorySource, *,
               per_metric: int = PER_METRIC, most: int = MOST_ROWS) -> list[dict]:
    """Up to `per_metric` values of each metric from the first PREVIEW_LINES
    lines of `source`'s staged table, at most `most`, in the file's order:
    {"line", "date", "metric", "dimension", "campaign", "value"}, dimension
    and campaign None when the table has none. Empty and unreadable cells
    are left out (the import refuses the unreadable ones)."""
    table = quote_identifier(source.table)
    # The lines' dates and keys, then their cells, are made in tables of their
    # own, so each piece of parsing SQL appears once in a query: in each value
    # column's branch of raw_cells_sql, a wide table's 30 copies of the date
    # and number SQL take DuckDB seconds to plan. No ORDER BY: every reader stores
    # a table's rows in line order and DuckDB keeps that order
    # (preserve_insertion_order), so LIMIT stops the scan at once.
    con.execute(f"create or replace temp table {_FIRST_LINES} as select *, "
                f"{source.date_sql} as {_DATE}, {key_text_sql(source.dimension)} as {_DIMENSION}, "
                f"{key_text_sql(source.campaign)} as {_CAMPAIGN} from (select * from {table} "
                f"limit {int(PREVIEW_LINES)})")
    try:
        params: list = []
        cells = raw_cells_sql(
            replace(source, table=_FIRST_LINES),
            f'"_line" as line, {_DIMENSION} as dimension, {_CAMPAIGN} as campaign, '
            f"{_DATE} as obs_date", params)
        con.execute(f"create or replace temp table {_FIRST_CELLS} as {cells}", params)
        value, invalid = staging.number_sql("cell", source.decimal_comma)
        rows = con.execute(f"""
            with parsed as (
                select line, part, obs_date, {metric_name_sql('metric')} as metric,
                       dimension, campaign, {value} as value, {invalid} as bad
                from {_FIRST_CELLS}
            ),
            numbered as (
                select *, row_number() over (partition by metric order by line, part) as n
                from parsed where value is not null and not bad and obs_date is not null
                  and coalesce(metric, '') <> ''
            )
            select line, obs_date, metric, dimension, campaign, value from numbered
            where n <= ? order by line, part limit ?""", [per_metric, most]).fetchall()
    finally:
        con.execute(f"drop table if exists {_FIRST_CELLS}")
        con.execute(f"drop table if exists {_FIRST_LINES}")
    return [{"line": line, "date": day, "metric": metric, "dimension": dimension or None,
             "campaign": campaign or None, "value": value}
            for line, day, metric, dimension, campaign, value in rows]
