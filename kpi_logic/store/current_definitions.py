"""Reading the current definitions (rows not superseded by a later batch)."""
from __future__ import annotations

import duckdb

from kpi_logic.domain.model import KPI, CheckIn, KeyResult, Launch, Metric, Objective, Target
from kpi_logic.store.db import first

_METRICS = """
select name, department, unit, direction, aggregation, formula, description, dimension_name,
       label
from metrics where superseded_by is null order by name
"""
_KPIS = """
select title, metric, target, target_kind, period, department, objective, owner,
       tolerance, supporting, coalesce(pinned, false)
from kpis where superseded_by is null order by department nulls last, title
"""
_TARGETS = "select kpi, period, target from targets where superseded_by is null order by kpi, period"
_KEY_RESULTS = """
select objective, title, metric, start_value, target_value, start_date, deadline,
       owner, department, weight
from key_results where superseded_by is null order by objective, title
"""
_LAUNCHES = """
select launch, launch_date, department, conversion_target, cac_target, promotion_date
from launches where superseded_by is null order by launch_date, launch
"""


def load_metrics(con: duckdb.DuckDBPyConnection) -> dict[str, Metric]:
    """Current metric definitions by name."""
    return {row[0]: Metric(*row[:6], description=row[6] or "", dimension_name=row[7],
                           label=row[8])
            for row in con.execute(_METRICS).fetchall()}


def load_kpis(con: duckdb.DuckDBPyConnection) -> list[KPI]:
    out = []
    for r in con.execute(_KPIS).fetchall():
        supporting = tuple(s.strip() for s in (r[9] or "").split(",") if s.strip())
        out.append(KPI(title=r[0], metric=r[1], target=r[2], target_kind=r[3], period=r[4],
                       department=r[5], objective=r[6], owner=r[7], tolerance=r[8],
                       supporting=supporting, pinned=bool(r[10])))
    return out


def load_targets(con: duckdb.DuckDBPyConnection) -> list[Target]:
    return [Target(*r) for r in con.execute(_TARGETS).fetchall()]


def load_key_results(con: duckdb.DuckDBPyConnection) -> list[KeyResult]:
    return [KeyResult(objective=r[0], title=r[1], metric=r[2], start=r[3], target=r[4],
                      start_date=r[5], deadline=r[6], owner=r[7], department=r[8], weight=r[9])
            for r in con.execute(_KEY_RESULTS).fetchall()]


_OBJECTIVES = """
select objective, owner, department, cycle, description, parent
from objectives where superseded_by is null order by objective
"""
# Newest first: a card shows the latest check-in on top.
_CHECKINS = """
select kind, objective, title, period, note, confidence, checked_by, checked_at
from checkins where superseded_by is null
order by kind, objective, title, period desc, checked_at desc
"""


def load_objectives(con: duckdb.DuckDBPyConnection) -> list[Objective]:
    return [Objective(name=r[0], owner=r[1], department=r[2], cycle=r[3], description=r[4] or "",
                      parent=r[5]) for r in con.execute(_OBJECTIVES).fetchall()]


def load_checkins(con: duckdb.DuckDBPyConnection) -> list[CheckIn]:
    return [CheckIn(*r) for r in con.execute(_CHECKINS).fetchall()]


def load_launches(con: duckdb.DuckDBPyConnection) -> list[Launch]:
    return [Launch(*r) for r in con.execute(_LAUNCHES).fetchall()]


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever an import, edit or undo changes anything (cache key)."""
    row = first(con, "select count(*), coalesce(max(id), 0), count(undone_at) from batches")
    return f"{row[0]}-{row[1]}-{row[2]}"


def inferred_metric_names(con: duckdb.DuckDBPyConnection, names: list[str]) -> set[str]:
    """Which of `names` are current metrics nobody defined (inferred from history)."""
    return {r[0] for r in con.execute(
        "select name from metrics where superseded_by is null and inferred "
        "and name in (select unnest(?::varchar[]))", [list(names)]).fetchall()}
