"""The Store over one DuckDB file: each group calls the SQL modules of store/
with the one connection this unit of work holds."""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from typing import Mapping

import duckdb
import pandas as pd

from kpi_logic.store import (
    aggregates,
    current_definitions,
    db,
    freshness,
    history_refusals,
    history_shapes,
    launches,
    writes,
    writes_history,
)


class _Group:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con


class DuckDBBatches(_Group):
    def listed(self) -> pd.DataFrame:
        return writes.batch_list(self._con)

    def row(self, batch_id: int) -> dict | None:
        return writes.batch_row(self._con, batch_id)

    def in_effect(self, run_id: int | None = None) -> list[int]:
        return writes.batches_in_effect(self._con, run_id)

    def any_in_effect(self) -> bool:
        return db.has_history(self._con)

    def open(self, *, run_id: int | None, file: str, sheet: str | None, kind: str,
             sha256: str | None, rows: int) -> int:
        return writes.open_batch(self._con, run_id=run_id, file=file, sheet=sheet, kind=kind,
                                 sha256=sha256, rows=rows)

    def close(self, batch_id: int, inserted: int, updated: int, unchanged: int) -> None:
        writes.close_batch(self._con, batch_id, inserted, updated, unchanged)

    def drop(self, batch_id: int) -> None:
        writes.drop_batch(self._con, batch_id)

    def earlier(self, *, sha256: str | None, sheet: str | None, kind: str) -> tuple | None:
        return writes.earlier_batch(self._con, sha256=sha256, sheet=sheet, kind=kind)

    def superseding(self, batch_id: int) -> list[tuple[int, str]]:
        return writes.superseding_batches(self._con, batch_id)

    def undo_rows(self, batch_id: int) -> tuple[int, int]:
        return writes.undo_rows(self._con, batch_id)

    def metrics_only_in(self, batch_id: int) -> list[str]:
        return writes.metrics_only_in(self._con, batch_id)

    def metric_users(self, names: list[str], exclude_batch: int | None = None) -> list[tuple]:
        return writes.metric_users(self._con, names, exclude_batch)

    def formula_rows(self) -> list[tuple[str, str, int]]:
        return writes.formula_rows(self._con)

    def current_keys(self, kind: str) -> set[str]:
        return writes.current_keys(self._con, kind)

    def supersede_keys(self, kind: str, keys: list[str], batch_id: int) -> int:
        return writes.supersede_keys(self._con, kind, keys, batch_id)

    def supersede_targets_of(self, kpis: list[str], batch_id: int) -> int:
        return writes.supersede_targets_of(self._con, kpis, batch_id)


class DuckDBDefinitions(_Group):
    def metrics(self):
        return current_definitions.load_metrics(self._con)

    def kpis(self):
        return current_definitions.load_kpis(self._con)

    def targets(self):
        return current_definitions.load_targets(self._con)

    def key_results(self):
        return current_definitions.load_key_results(self._con)

    def launches(self):
        return current_definitions.load_launches(self._con)

    def objectives(self):
        return current_definitions.load_objectives(self._con)

    def checkins(self):
        return current_definitions.load_checkins(self._con)

    def inferred_metric_names(self, names: list[str]) -> set[str]:
        return current_definitions.inferred_metric_names(self._con, names)

    def data_version(self) -> str:
        return current_definitions.data_version(self._con)

    def upsert(self, kind: str, items: list, batch_id: int, *, inferred: bool = False):
        return writes.upsert_definitions(self._con, kind, items, batch_id, inferred=inferred)


class DuckDBHistory(_Group):
    # A first import goes straight into observations and is checked there.
    stores_before_checking = True

    def breakdown_clashes(self, campaign: bool) -> tuple[list[tuple], int]:
        return history_refusals.breakdown_clashes(self._con, campaign)

    def rolled_up_rows(self, aggregations: Mapping[str, str], grain: str, *,
                       start: date | None = None, end: date | None = None,
                       dimension: str | None = None, by: str | None = None
                       ) -> pd.DataFrame:
        return aggregates.rolled_up_rows(self._con, aggregations, grain, start=start, end=end,
                                         dimension=dimension, by=by)

    def latest_date(self, metrics: list[str] | None = None) -> date | None:
        return aggregates.latest_date(self._con, metrics)

    def coverage_rows(self, metrics: list[str] | None = None,
                      through: date = date.max) -> list[tuple]:
        return freshness.coverage_rows(self._con, metrics, through=through)

    def shapes(self, metrics: list[str]) -> dict[str, tuple]:
        return history_shapes.history_shapes(self._con, metrics)

    def dated_before(self, metrics: list[str], batch_id: int, at_least: int) -> set[str]:
        return history_shapes.dated_before(self._con, metrics, batch_id, at_least)

    def has_current_rows(self, metrics: list[str] | None) -> bool:
        return writes_history.has_current_rows(self._con, metrics)

    def insert_first_import(self, source: writes_history.HistorySource, batch_id: int) -> int:
        return writes_history.insert_first_import(self._con, source, batch_id)

    def upsert_observations(self, batch_id: int, metrics: list[str],
                            campaign: bool = False) -> tuple[int, int, int]:
        return writes_history.upsert_observations(self._con, batch_id, metrics, campaign)


class DuckDBLaunches(_Group):
    def daily(self) -> pd.DataFrame:
        return launches.launch_daily(self._con)

    def campaign_totals(self, since: date) -> pd.DataFrame:
        return launches.campaign_totals(self._con, since)


class DuckDBScenarios(_Group):
    def save(self, launch: str, name: str, days: int, projection: pd.DataFrame, *,
             replace: bool = False) -> int:
        return launches.save_scenario(self._con, launch, name, days, projection, replace=replace)

    def listed(self, launch: str | None = None) -> pd.DataFrame:
        return launches.list_scenarios(self._con, launch)

    def load(self, launch: str, name: str) -> tuple[int, pd.DataFrame]:
        return launches.load_scenario(self._con, launch, name)

    def rename(self, launch: str, name: str, new_name: str) -> None:
        launches.rename_scenario(self._con, launch, name, new_name)

    def delete(self, launch: str, name: str) -> None:
        launches.delete_scenario(self._con, launch, name)

    def orphaned(self) -> list[str]:
        return launches.orphaned_scenarios(self._con)


class DuckDBSettings(_Group):
    def get(self, key: str) -> str | None:
        return db.setting(self._con, key)

    def set(self, key: str, value: str) -> None:
        db.set_setting(self._con, key, value)


class DuckDBStore:
    """The Store (store/api.py) of one open DuckDB connection.

    `connection` is that connection, for ingest's staging (as `staging`) and
    for tests that check stored rows with SQL; the engine uses the groups.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection
        self.batches = DuckDBBatches(connection)
        self.definitions = DuckDBDefinitions(connection)
        self.history = DuckDBHistory(connection)
        self.launches = DuckDBLaunches(connection)
        self.scenarios = DuckDBScenarios(connection)
        self.settings = DuckDBSettings(connection)

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
        """Files are staged in the database itself: the same connection."""
        return self.connection

    def transaction(self, keep: bool = True) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return db.transaction(self.connection, keep)

    def close(self) -> None:
        self.connection.close()

    # `with memory_store() as store:` closes it afterwards (tests, previews).
    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
