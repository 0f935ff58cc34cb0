"""Launch history (channel in the dimension column, campaigns within a channel
in the campaign column) and saved budget scenarios.

Scenarios are the team's own what-ifs, not imported data: they are not
versioned by batches, and undoing an import leaves them alone.
"""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.store.db import quote_identifier, transaction

LAUNCH_METRICS = ("spend", "visitors", "purchases", "new_customers", "likes", "shares", "comments")

# The scenarios tables are part of the versioned schema (store/db.py, SCHEMA_V3).


def _pivot_sql(metrics: tuple[str, ...]) -> tuple[str, str]:
    """(one summed column per metric, the marks of a `metric in (...)` list).
    The names come from this module's constants, never from user text, and
    the metric values still travel as parameters (once per column, once per mark)."""
    columns = ", ".join(f"sum(case when metric = ? then value end) as {quote_identifier(m)}"
                        for m in metrics)
    return columns, ", ".join("?" for _ in metrics)


def _daily_sql() -> str:
    columns, marks = _pivot_sql(LAUNCH_METRICS)
    return f"""
with launch_rows as (
    select obs_date, dimension, metric, value
    from observations
    where superseded_by is null and metric in ({marks})
)
select obs_date, dimension as channel,
       {columns}
from launch_rows
group by obs_date, dimension
order by obs_date, dimension
"""


def launch_daily(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """DataFrame[obs_date (date), channel, spend, visitors, purchases, new_customers,
    likes, shares, comments]: current history of the launch metrics, one row per
    day and channel ('' for rows without one); a metric not recorded is NaN."""
    frame = con.execute(_daily_sql(), [*LAUNCH_METRICS, *LAUNCH_METRICS]).df()
    frame["obs_date"] = pd.to_datetime(frame["obs_date"]).dt.date
    return frame.astype({m: float for m in LAUNCH_METRICS})


_CAMPAIGN_COLUMNS = ("spend", "visitors", "purchases", "new_customers")


def campaign_totals(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """DataFrame[channel, campaign, spend, visitors, purchases, new_customers]:
    current history from `since` on, summed per channel and campaign ('' for
    rows without one), sorted; empty when no launch history names a campaign."""
    columns, marks = _pivot_sql(_CAMPAIGN_COLUMNS)
    frame = con.execute(f"""
        select dimension as channel, campaign, {columns}
        from observations
        where superseded_by is null and metric in ({marks}) and obs_date >= ?
          and dimension <> ''
          and exists (select 1 from observations c where c.superseded_by is null
                      and c.campaign <> '' and c.metric in ({marks}))
        group by dimension, campaign
        order by dimension, campaign""",
                        [*_CAMPAIGN_COLUMNS, *_CAMPAIGN_COLUMNS, since, *_CAMPAIGN_COLUMNS]).df()
    return frame.astype({m: float for m in _CAMPAIGN_COLUMNS})


def _scenario_id(con, launch: str, name: str) -> int | None:
    row = con.execute("select id from scenarios where launch = ? and name = ?",
                      [launch, name]).fetchone()
    return row[0] if row else None


def _clean_name(name) -> str:
    text = str(name or "").strip()
    if not text:
        raise InputError("Give the scenario a name.")
    if len(text) > 100:
        raise InputError("Scenario names are at most 100 characters.")
    return text


def save_scenario(con: duckdb.DuckDBPyConnection, launch: str, name: str, days: int,
                  projection: pd.DataFrame, *, replace: bool = False) -> int:
    """Store a named allocation with its projection (columns channel, spend_per_day,
    new_customers, purchases, visitors; totals over `days`); returns its id.
    Refuses an empty or taken name unless replace=True."""
    name = _clean_name(name)
    with transaction(con):
        existing = _scenario_id(con, launch, name)
        if existing is not None and not replace:
            raise InputError(f"A scenario named '{name}' already exists for {launch}: pick another "
                             "name, or replace it.")
        if existing is not None:
            _delete(con, existing)
        scenario = con.execute("select nextval('scenario_ids')").fetchone()[0]
        con.execute("insert into scenarios (id, launch, name, days, created_at) values (?, ?, ?, ?, ?)",
                    [scenario, launch, name, int(days), datetime.now()])
        for r in projection.itertuples(index=False):
            con.execute("insert into scenario_channels values (?, ?, ?, ?, ?, ?)",
                        [scenario, r.channel, float(r.spend_per_day), float(r.new_customers),
                         _number(r.purchases), _number(r.visitors)])
    return scenario


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


_LIST = """
with totals as (
    select scenario_id, sum(spend_per_day) as spend_per_day, sum(new_customers) as new_customers
    from scenario_channels
    group by scenario_id
)
select s.id, s.launch, s.name, s.days, s.created_at,
       t.spend_per_day, t.new_customers,
       t.spend_per_day * s.days / nullif(t.new_customers, 0) as cac
from scenarios s
left join totals t on t.scenario_id = s.id
where cast(? as varchar) is null or s.launch = ?
order by s.launch, s.created_at, s.id
"""


def list_scenarios(con: duckdb.DuckDBPyConnection, launch: str | None = None) -> pd.DataFrame:
    """DataFrame[id, launch, name, days, created_at, spend_per_day, new_customers, cac]."""
    return con.execute(_LIST, [launch, launch]).df()


def orphaned_scenarios(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Launch names that saved scenarios belong to but no current launch has
    (renamed or removed since), sorted."""
    return [r[0] for r in con.execute(
        "select distinct launch from scenarios where launch not in "
        "(select launch from launches where superseded_by is null) order by launch").fetchall()]


def load_scenario(con: duckdb.DuckDBPyConnection, launch: str, name: str) -> tuple[int, pd.DataFrame]:
    """(days, DataFrame[channel, spend_per_day, new_customers, purchases, visitors])."""
    row = con.execute("select id, days from scenarios where launch = ? and name = ?",
                      [launch, name]).fetchone()
    if row is None:
        raise InputError(f"No scenario named '{name}' for {launch}.")
    frame = con.execute(
        "select channel, spend_per_day, new_customers, purchases, visitors "
        "from scenario_channels where scenario_id = ? order by channel", [row[0]]).df()
    return int(row[1]), frame.astype({"purchases": float, "visitors": float})


def rename_scenario(con: duckdb.DuckDBPyConnection, launch: str, name: str, new_name: str) -> None:
    """Refuses an unknown scenario and a name already taken for the launch."""
    new_name = _clean_name(new_name)
    scenario = _scenario_id(con, launch, name)
    if scenario is None:
        raise InputError(f"No scenario named '{name}' for {launch}.")
    if new_name != name and _scenario_id(con, launch, new_name) is not None:
        raise InputError(f"A scenario named '{new_name}' already exists for {launch}: pick another name.")
    con.execute("update scenarios set name = ? where id = ?", [new_name, scenario])


def delete_scenario(con: duckdb.DuckDBPyConnection, launch: str, name: str) -> None:
    """Refuses an unknown scenario."""
    scenario = _scenario_id(con, launch, name)
    if scenario is None:
        raise InputError(f"No scenario named '{name}' for {launch}.")
    with transaction(con):
        _delete(con, scenario)


def _delete(con, scenario: int) -> None:
    con.execute("delete from scenario_channels where scenario_id = ?", [scenario])
    con.execute("delete from scenarios where id = ?", [scenario])
