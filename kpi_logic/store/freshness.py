"""How fresh each metric's history is: its last date and its usual cadence."""
from __future__ import annotations

import duckdb
import pandas as pd

# cadence = median gap in days between consecutive distinct observation dates
_FRESHNESS = """
with dates as (
    select distinct metric, obs_date
    from observations
    where superseded_by is null
),
gaps as (
    select metric, obs_date,
           obs_date - lag(obs_date) over (partition by metric order by obs_date) as gap_days
    from dates
)
select metric,
       max(obs_date) as last_date,
       count(*) as n_dates,
       median(gap_days) as cadence_days
from gaps
group by metric
order by metric
"""


def metric_freshness(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """DataFrame[metric, last_date, n_dates, cadence_days] for base metrics with history."""
    frame = con.execute(_FRESHNESS).df()
    frame["last_date"] = pd.to_datetime(frame["last_date"]).dt.date
    return frame


def departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Departments named by any current metric, KPI or key result, sorted."""
    rows = con.execute("""
        select department from metrics where superseded_by is null and department is not null
        union
        select department from kpis where superseded_by is null and department is not null
        union
        select department from key_results where superseded_by is null and department is not null
        order by 1
    """).fetchall()
    return [r[0] for r in rows]
