"""Tables of engine frames as the dashboard shows them: numbers written the
way the PNG reports write them, sortable on the numbers underneath.

Every table of the dashboard goes through `dataframe` (or `table`, which
calls it): text a spreadsheet would run as a formula gets a quote prefix
(kpi_logic.domain.safe_text), in the cells Streamlit's own "Download as CSV"
writes and in the column names it writes as the header row. That download
writes each cell's value, not its Styler text, so the values are made safe.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.safe_text import spreadsheet_safe, spreadsheet_safe_frame

# Words for the engine's column names, the same on every table of the page.
LABELS = {"cac": "CAC", "cac_vs_target": "CAC vs target", "budget_share": "Share of budget",
          "customer_share": "Share of new customers", "conversion_rate": "Conversion",
          "new_customers": "New customers", "spend_per_day": "$ per day", "scenario": "Scenario",
          "actual_cac": "Actual CAC", "projected_cac": "Projected CAC",
          "max_spend_seen": "Most spent in a day", "days": "Days fitted", "r2": "R²",
          "note": "Why constant CAC"}


def cell_text(column: str, value) -> str:
    """A cell as the PNG report writes it: money, percent, counts in full, "—" when missing."""
    if column.endswith(("spend", "cac", "spend_per_day", "seen", "total")):
        return fmt.format_value(value, "currency")
    if column.endswith("share"):
        return fmt.format_progress(value)
    if column.endswith(("rate", "relative_change")):
        return fmt.format_value(value, "percent")
    if column.endswith(("visitors", "purchases", "customers")):
        return fmt.format_count(value)
    return fmt.format_value(value)


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *,
          money: tuple[str, ...] = (), units: dict[str, str] | None = None,
          key: str | None = None) -> None:
    """A table of the page: numbers formatted like the report (missing as "—",
    never "None"), sortable on the numbers underneath. `money` names columns
    whose names do not say they hold dollars (a split's channel columns);
    `units` gives columns of a metric's values their unit ("percent": 12.5%)."""
    names = {**LABELS, **(labels or {})}
    units = {**{c: "currency" for c in money}, **(units or {})}
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    formats = {c: (lambda v, c=c: fmt.format_value(v, units[c]) if c in units
                   else cell_text(c, v)) for c in numeric}
    formats.update({c: (lambda v: fmt.MISSING if pd.isna(v) else f"{v:%-d %b %Y %H:%M}")
                    for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])})
    safe = spreadsheet_safe_frame(frame)
    # The Styler formats the safe frame's columns, whose names may have changed.
    names_of = dict(zip(frame.columns, safe.columns, strict=True))
    styled = safe.style.format({names_of[c]: f for c, f in formats.items()}, na_rep=fmt.MISSING)
    st.dataframe(styled, hide_index=True, width="stretch", key=key,
                 column_config={names_of[c]: st.column_config.Column(spreadsheet_safe(
                     names.get(c, c if c in units else c.replace("_", " ").capitalize())))
                     for c in frame.columns})


def dataframe(frame: pd.DataFrame, **kwargs) -> None:
    """st.dataframe of `frame` made spreadsheet-safe (see the module note);
    `kwargs` as st.dataframe's (hide_index, column_config, key...)."""
    st.dataframe(spreadsheet_safe_frame(frame), **kwargs)
