"""Definition rows that state only some fields: what they leave alone is
taken from the stored definition with the same key, and what they change is
listed field by field.

A field is stated when its column is in the table and, in a file, its cell
is not empty (definitions.CLEAR_MARKS state "none"). A table edited in the
dashboard always has every column and states every cell, so clearing a cell
there clears the field. Pure: items and stored definitions in, new ones out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import date

from kpi_logic.domain.model import KPI, CheckIn, KeyResult, Launch, Metric, Objective, Target

# Columns of a definition table whose dataclass field has another name.
_FIELD = {"metrics": {"metric": "name", "dimension": "dimension_name"},
          "objectives": {"objective": "name"},
          "checkins": {"by": "checked_by", "at": "checked_at"}}
_KEYS = {Metric: ("name",), KPI: ("title",), Target: ("kpi", "period"),
         KeyResult: ("objective", "title"), Launch: ("launch",), Objective: ("name",),
         CheckIn: ("kind", "objective", "title", "period")}
EMPTY = "(empty)"


def definition_key(item) -> str:
    """A definition's key as text: "revenue", "objective / title" for two parts."""
    return " / ".join(str(getattr(item, k)) for k in _KEYS[type(item)])


def stated_fields(kind: str, rows: list[dict], columns: list[str],
                  whole_rows: bool) -> list[frozenset[str]]:
    """Per row, the dataclass fields it states: of `columns`, those whose
    "<column>__said" flag is set, or all of them for `whole_rows`."""
    names = _FIELD.get(kind, {})
    return [frozenset(names.get(c, c) for c in columns
                      if whole_rows or row.get(f"{c}__said", True)) for row in rows]


def merged_definitions(items: list, stated: list[frozenset[str]],
                       current: Mapping[str, object]) -> list:
    """`items` with every field their row did not state taken from the stored
    definition with the same key (a new key keeps the defaults)."""
    if len(items) != len(stated):
        raise ValueError("one set of stated fields per item")
    merged = []
    for item, said in zip(items, stated, strict=True):
        stored = current.get(definition_key(item))
        kept = {} if stored is None else {
            f.name: getattr(stored, f.name) for f in fields(item) if f.name not in said}
        merged.append(replace(item, **kept))
    return merged


def definition_changes(kind: str, items: list, current: Mapping[str, object]) -> list[dict]:
    """Each changed field of `items` against the stored definition with the same
    key: {"definition", "field" (as its column is named), "before", "after",
    "text"}, values as text ("(empty)" for none). New definitions are not listed."""
    columns = {f: c for c, f in _FIELD.get(kind, {}).items()}
    changes = []
    for item in items:
        key = definition_key(item)
        stored = current.get(key)
        if stored is None:
            continue
        for f in fields(item):
            before, after = getattr(stored, f.name), getattr(item, f.name)
            if before != after:
                change = {"definition": key, "field": columns.get(f.name, f.name),
                          "before": value_text(before), "after": value_text(after)}
                changes.append({**change, "text": change_text(change)})
    return changes


def change_text(change: dict) -> str:
    """"revenue: department Marketing -> (empty)"."""
    return (f"{change['definition']}: {change['field']} {change['before']} -> "
            f"{change['after']}")


def value_text(value) -> str:
    """A stored field as a person reads it in a list of changes."""
    if value is None or value == "" or value == ():
        return EMPTY
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:,.10g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
