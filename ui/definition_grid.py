"""The columns of the definitions editor (Import and define): a header as
people read it and the template's explanation on hover for every column,
and a choice list wherever the value comes from a fixed vocabulary (units,
directions, aggregations, target kinds, periods, breakdowns) or names
something that exists (departments, metrics, KPIs, objectives).

The grid's frame keeps the template's column names, so what is saved is
read by the importer exactly as a file with those columns would be.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from kpi_logic.domain.model import (
    AGGREGATIONS,
    DIRECTIONS,
    FIRST_DATE,
    KPI_PERIODS,
    LAST_DATE,
    TARGET_KINDS,
    UNITS,
)
from kpi_logic.domain.safe_text import spreadsheet_safe
from kpi_logic.domain.vocabulary import DIMENSION_COLUMNS
from kpi_logic.ingest import template

# Headers that the rule "target_kind" -> "Target kind" gets wrong.
HEADERS = {"kpi": "KPI", "cac_target": "CAC target", "start": "Start value",
           "dimension": "Breakdown"}
# Columns whose values come from a fixed vocabulary, per kind ("*": every kind).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("metrics", "unit"): UNITS, ("metrics", "direction"): DIRECTIONS,
    ("metrics", "aggregation"): AGGREGATIONS, ("metrics", "dimension"): DIMENSION_COLUMNS,
    ("kpis", "target_kind"): TARGET_KINDS, ("kpis", "period"): KPI_PERIODS,
}
# Columns that name something that exists: the key of the `names` argument.
NAMED = {("kpis", "metric"): "metrics", ("key_results", "metric"): "metrics",
         ("targets", "kpi"): "kpis", ("kpis", "objective"): "objectives",
         ("key_results", "objective"): "objectives", ("objectives", "parent"): "objectives",
         ("metrics", "department"): "departments", ("kpis", "department"): "departments",
         ("key_results", "department"): "departments",
         ("objectives", "department"): "departments",
         ("launches", "department"): "departments"}
NUMBERS = {"target", "tolerance", "start", "weight", "conversion_target", "cac_target"}
DATES = {"start_date", "deadline", "launch_date", "promotion_date"}
# What the template says, plus the meaning of the choices where it is terse.
EXTRA_HELP = {("kpis", "tolerance"): " 0.1 = at risk within 10% of the target.",
              ("kpis", "pinned"): " Ticked: the overview opens with it.",
              ("launches", "conversion_target"): " 0.022 = 2.2%.",
              ("launches", "cac_target"): " In currency."}


def header(column: str) -> str:
    """A template column as a header people read: target_kind -> "Target kind"."""
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def column_help(kind: str, column: str) -> tuple[str, bool]:
    """(the template's explanation of the column, whether it is required)."""
    described = template.SHEETS[kind][1]
    required = f"{column}*" in described
    text = described.get(f"{column}*" if required else column, "")
    return text + EXTRA_HELP.get((kind, column), ""), required


def choices(fixed: Iterable[str], stored: pd.Series) -> list[str]:
    """`fixed`, then every other value already in the column (sorted), without
    repeats or blanks; as the grid shows text (spreadsheet-safe)."""
    first = [spreadsheet_safe(v) for v in fixed]
    seen = {spreadsheet_safe(v) for v in stored.dropna().astype(str) if v.strip()}
    return list(dict.fromkeys(first + sorted(seen - set(first), key=str.casefold)))


def column_config(kind: str, frame: pd.DataFrame, names: dict[str, list[str]]) -> dict:
    """st.data_editor's column_config for `frame` (template.editable_frame of `kind`):
    every column headed and explained; vocabularies and existing names as
    choice lists, dates as dates, numbers as numbers, pinned as a tick box.
    `names`: {"departments", "metrics", "kpis", "objectives": names that exist}."""
    config = {}
    for column in frame.columns:
        text, required = column_help(kind, column)
        common = {"label": header(column), "help": text or None, "required": required or None}
        fixed = VOCABULARIES.get((kind, column))
        named = NAMED.get((kind, column))
        if fixed is not None or named is not None:
            options = choices(fixed if fixed is not None else names.get(named, []),
                              frame[column])
            config[column] = st.column_config.SelectboxColumn(options=options, **common)
        elif column in DATES:
            config[column] = st.column_config.DateColumn(
                format="YYYY-MM-DD", min_value=FIRST_DATE, max_value=LAST_DATE, **common)
        elif column in NUMBERS:
            config[column] = st.column_config.NumberColumn(**common)
        elif column == "pinned":
            config[column] = st.column_config.CheckboxColumn(**common)
        else:
            config[column] = st.column_config.TextColumn(**common)
    return config
