"""Tables of engine frames as the dashboard shows them: numbers written the
way the PNG reports write them, sortable on the numbers underneath, with
CSV and XLSX download buttons.

Every table of the dashboard goes through `dataframe` (or `table`, which
calls it): text a spreadsheet would run as a formula gets a quote prefix
(kpi_logic.domain.safe_text), in the cells Streamlit's own "Download as CSV"
writes and in the column names it writes as the header row. That download
writes each cell's value, not its Styler text, so the values are made safe.

Given `download=Download(...)`, a table also gets two small buttons under it,
CSV and XLSX (kpi_logic/output/exports.py writes the bytes, formula-safe).
They download the table's *values*, not its text: numbers in full (12,706.6,
not "12.7k"; 0.125 for "12.5%", which the workbook shows as 12.5%), dates as
dates, missing as an empty cell, with the column names the page shows. A
table showing text it formatted itself ("$12.6k", "✔ On track") passes those
values as `Download.values` (kpi_logic/output/export_tables.py builds them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.safe_text import spreadsheet_safe, spreadsheet_safe_frame
from kpi_logic.output import exports
from ui import data

# Words for the engine's column names, the same on every table of the page.
LABELS = {"cac": "CAC", "cac_vs_target": "CAC vs target", "budget_share": "Share of budget",
          "customer_share": "Share of new customers", "conversion_rate": "Conversion",
          "new_customers": "New customers", "spend_per_day": "$ per day", "scenario": "Scenario",
          "actual_cac": "Actual CAC", "projected_cac": "Projected CAC",
          "max_spend_seen": "Most spent in a day", "days": "Days fitted", "r2": "R²",
          "note": "Why constant CAC"}


# What an engine column holds, by how its name ends.
MONEY_ENDINGS = ("spend", "cac", "spend_per_day", "seen", "total")
SHARE_ENDINGS = ("share",)
RATE_ENDINGS = ("rate", "relative_change")
COUNT_ENDINGS = ("visitors", "purchases", "customers")


@dataclass(frozen=True, eq=False)
class Download:
    """CSV and XLSX buttons under a table (see the module note).

    `page` and `name` ("scorecard", "Marketing plain metrics") name the files,
    with `day` (default today): scorecard-marketing-plain-metrics-2026-12-07.csv.
    `key` is the buttons' key stem, unique on the page and starting with the
    page's name (default: page and name). `values`: the values under a table
    that shows text; default the frame shown, headed as the page heads it."""
    page: str
    name: str
    key: str | None = None
    values: exports.Table | None = None
    day: date | None = None


def column_unit(column: str) -> str:
    """The unit of an engine column (exports.NUMBER_FORMATS), by how its name ends."""
    if column.endswith(MONEY_ENDINGS):
        return "currency"
    if column.endswith(SHARE_ENDINGS + RATE_ENDINGS):
        return "percent"
    return "count" if column.endswith(COUNT_ENDINGS) else "number"


def cell_text(column: str, value) -> str:
    """A cell as the PNG report writes it: money, percent, counts in full, "—" when missing."""
    if column.endswith(SHARE_ENDINGS):
        return fmt.format_progress(value)
    if column_unit(column) == "count":
        return fmt.format_count(value)
    return fmt.format_value(value, column_unit(column))


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *,
          money: tuple[str, ...] = (), units: dict[str, str] | None = None,
          key: str | None = None, download: Download | None = None) -> None:
    """A table of the page: numbers formatted like the report (missing as "—",
    never "None"), sortable on the numbers underneath. `money` names columns
    whose names do not say they hold dollars (a split's channel columns);
    `units` gives columns of a metric's values their unit ("percent": 12.5%).
    `download`: CSV and XLSX buttons under it (the module note)."""
    names = {**LABELS, **(labels or {})}
    units = {**{c: "currency" for c in money}, **(units or {})}
    headers = {c: names.get(c, c if c in units else c.replace("_", " ").capitalize())
               for c in frame.columns}
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
    # Streamlit shows a missing cell as "None" whatever the Styler's na_rep says:
    # its placeholder is what a reader sees in an empty cell.
    st.dataframe(styled, hide_index=True, width="stretch", key=key, placeholder=fmt.MISSING,
                 column_config={names_of[c]: st.column_config.Column(spreadsheet_safe(headers[c]))
                                for c in frame.columns})
    if download:
        download_buttons(download, exports.Table(frame.rename(columns=headers), {
            headers[c]: units.get(c) or column_unit(c) for c in frame.columns}))


def dataframe(frame: pd.DataFrame, *, download: Download | None = None, **kwargs) -> None:
    """st.dataframe of `frame` made spreadsheet-safe (see the module note);
    `kwargs` as st.dataframe's (hide_index, column_config, key...); a missing
    cell shows "—" (st.dataframe's placeholder), never "None".
    `download`: CSV and XLSX buttons under it (the module note)."""
    st.dataframe(spreadsheet_safe_frame(frame), **{"placeholder": fmt.MISSING, **kwargs})
    if download:
        download_buttons(download, shown_values(frame, kwargs.get("column_config") or {}))


def shown_values(frame: pd.DataFrame, column_config: dict) -> exports.Table:
    """`frame` headed as st.dataframe shows it with `column_config` (its labels;
    a column configured None is hidden), numbers in the unit their display
    format says ("dollar", "percent"). Does not mutate `frame`."""
    hidden = [c for c in frame.columns if c in column_config and column_config[c] is None]
    shown = frame.drop(columns=hidden)
    headers, units = {}, {}
    for column in shown.columns:
        config = column_config.get(column)
        config = {"label": config} if isinstance(config, str) else config or {}
        headers[column] = config.get("label") or column
        number_format = (config.get("type_config") or {}).get("format")
        if number_format in ("dollar", "accounting"):
            units[headers[column]] = "currency"
        elif number_format == "percent":
            units[headers[column]] = "percent"
    return exports.Table(shown.rename(columns=headers), units)


def download_buttons(download: Download, table: exports.Table) -> None:
    """Two small buttons, CSV and XLSX, of `download.values` or else `table`;
    the bytes are made on click (not on every rerun) and a click does not
    rerun the page. XLSX is disabled, saying why, for a table too large for
    a sheet."""
    values = download.values or table
    day = download.day or data.today()
    stem = download.key or f"{download.page}_{download.name}"
    too_big = exports.xlsx_refusal(values.values)
    with st.container(horizontal=True, gap="small", key=f"{stem}_downloads"):
        st.download_button(
            "CSV", lambda: exports.csv_bytes(values.values), key=f"{stem}_csv",
            file_name=exports.file_name(download.page, download.name, day, "csv"),
            mime=exports.CSV_MIME, on_click="ignore", icon=":material/download:",
            type="tertiary", help="This table's values as CSV (UTF-8): numbers in full, "
                                  "dates as dates.")
        st.download_button(
            "XLSX", lambda: exports.xlsx_bytes(values.values, units=values.units,
                                               sheet=download.name),
            key=f"{stem}_xlsx", file_name=exports.file_name(download.page, download.name, day,
                                                            "xlsx"),
            mime=exports.XLSX_MIME, on_click="ignore", icon=":material/download:",
            type="tertiary", disabled=too_big is not None,
            help=too_big or "This table's values as an Excel workbook: numbers as numbers, "
                            "dates as dates.")
