"""A launch's saved budget scenarios as a page lists and manages them (saving
one and comparing them is in analysis.py, next to the projection they hold)."""
from __future__ import annotations

import pandas as pd

from kpi_logic.store import Store


def scenario_list(store: Store, launch: str | None = None) -> pd.DataFrame:
    """The saved scenarios (of one launch when given), with their totals."""
    return store.scenarios.listed(launch)


def rename_scenario(store: Store, launch: str, name: str, new_name: str) -> None:
    """Renames a saved scenario; refuses (InputError) an empty or taken name."""
    store.scenarios.rename(launch, name, new_name)


def delete_scenario(store: Store, launch: str, name: str) -> None:
    store.scenarios.delete(launch, name)
