"""The KPI library: common KPIs shipped as data (data/kpi_library.csv) to start from.

Each entry is a metric definition (name, label, department, formula, unit,
direction, aggregation, description) plus the target kind it is usually
judged with. A formula is written over metric names with the same + - * /
syntax as formula metrics; an empty formula means the metric is recorded
(its history is imported, not computed). Adding an entry to a database goes
through the importer like any metrics file, so it is validated and undoable.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import formula_metrics, metric_name, parse_formula
from kpi_logic.domain.model import AGGREGATIONS, DIRECTIONS, TARGET_KINDS, UNITS

LIBRARY_PATH = Path(__file__).resolve().parents[2] / "data" / "kpi_library.csv"
LIBRARY_COLUMNS = ("name", "label", "department", "formula", "unit", "direction",
                   "aggregation", "description", "target_kind")
DEPARTMENTS = ("Sales", "Marketing", "Customer service", "Finance", "HR", "Product")
_CHOICES = {"unit": UNITS, "direction": DIRECTIONS, "aggregation": AGGREGATIONS,
            "target_kind": TARGET_KINDS, "department": DEPARTMENTS}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")     # the form metric names are stored in
_REQUIRED = ("name", "label", "department", "unit", "direction", "aggregation",
             "description", "target_kind")


def read_library(path: Path | str = LIBRARY_PATH) -> pd.DataFrame:
    """The library as a DataFrame of text columns (LIBRARY_COLUMNS; formula "" when
    recorded), in file order. Refuses (InputError) a file with any problem."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = library_problems(frame)
    if problems:
        raise InputError("the KPI library has problems; fix the file", file=Path(path).name,
                         problems=problems)
    return frame[list(LIBRARY_COLUMNS)].apply(lambda column: column.str.strip())


def _entry_problems(entry: Mapping, line: int) -> list[str]:
    """Problems of one library row (`line` is its CSV line, header = 1)."""
    where = f"row {line}"
    problems = [f"{where}, column '{c}': is empty" for c in _REQUIRED
                if not str(entry.get(c, "")).strip()]
    for column, allowed in _CHOICES.items():
        value = str(entry.get(column, "")).strip()
        if value and value not in allowed:
            problems.append(f"{where}, column '{column}': '{value}' is not one of "
                            f"{', '.join(allowed)}")
    name = str(entry.get("name", "")).strip()
    if name and not _NAME.match(name):
        problems.append(f"{where}, column 'name': '{name}' must be lowercase letters, digits "
                        "and underscores, like 'win_rate'")
    formula = str(entry.get("formula", "")).strip()
    if formula:
        try:
            used = formula_metrics(parse_formula(formula))
        except InputError as exc:
            problems.append(f"{where}, column 'formula': {exc.message}")
        else:
            if metric_name(name) in used:
                problems.append(f"{where}, column 'formula': '{name}' uses itself")
    return problems


def library_problems(frame: pd.DataFrame) -> list[str]:
    """Every problem of a library frame (missing columns, empty or invalid cells,
    formulas that do not parse, duplicate names); empty when it is usable.
    Does not mutate the frame."""
    missing = [c for c in LIBRARY_COLUMNS if c not in frame.columns]
    if missing:
        return [f"missing column(s): {', '.join(missing)}"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for offset, entry in enumerate(frame.to_dict("records")):
        line = offset + 2
        problems += _entry_problems(entry, line)
        name = str(entry["name"]).strip()
        if name in seen:
            problems.append(f"rows {seen[name]} and {line} both define '{name}'; keep one")
        seen.setdefault(name, line)
    return problems


def library_needs(entry: Mapping, known: Iterable[str]) -> pd.DataFrame:
    """The metrics an entry needs, [metric, present], sorted by name: its formula's
    components, or the entry itself when it is recorded. Does not mutate input."""
    names = {metric_name(k) for k in known}
    formula = str(entry.get("formula") or "").strip()
    needed = sorted(formula_metrics(parse_formula(formula))) if formula else [entry["name"]]
    return pd.DataFrame({"metric": needed, "present": [n in names for n in needed]},
                        columns=["metric", "present"]).astype({"metric": "str", "present": "bool"})


def addition_blocker(entry: Mapping, known: Iterable[str]) -> str | None:
    """Why the entry cannot be added to a database holding the `known` metrics,
    or None when it can (a formula whose components all exist, or a recorded
    metric not defined yet). An entry whose name is taken is never added: that
    would overwrite someone's definition."""
    names = {metric_name(k) for k in known}
    if metric_name(entry["name"]) in names:
        return f"'{entry['name']}' is already defined in your database."
    if not str(entry.get("formula") or "").strip():
        return None
    needs = library_needs(entry, names)
    missing = needs.loc[~needs["present"], "metric"].tolist()
    if missing:
        return ("import history for " + ", ".join(f"'{m}'" for m in missing)
                + " first: the formula is computed from them.")
    return None


def library_metric_frame(entry: Mapping, departments: Iterable[str] = ()) -> pd.DataFrame:
    """A one-row metrics definition frame for the importer (kind "metrics").

    The department is written the way the database already spells it when one
    matches ignoring case ("customer service" -> "Customer Service"). Pure.
    """
    department = str(entry["department"])
    for known in departments:
        if known and known.strip().casefold() == department.casefold():
            department = known
            break
    formula = str(entry.get("formula") or "").strip()
    return pd.DataFrame([{
        "metric": entry["name"], "department": department, "unit": entry["unit"],
        "direction": entry["direction"], "aggregation": entry["aggregation"],
        "formula": formula or None, "description": entry["description"],
    }])
