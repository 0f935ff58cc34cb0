"""Metric tiles shared by the pages: a KPI's headline number with its change and
sparkline, and rows of small tiles that stay compact on a phone.

Colours are the PNG reports' (kpi_logic/domain/formatting.py): Streamlit's
named colours are set to that palette in .streamlit/config.toml
(tests/test_ui_tiles.py holds them equal), so "green" on a page is the PNG's
GOOD. A KPI's sparkline is in its status colour (a healthy KPI is green
whichever way its last move went); its change is coloured by whether the move
is good news for the KPI's direction (a falling CAC is green), as the PNG's
change lines are, and its arrow gives the move's sign.
"""
from __future__ import annotations

import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts
from ui import vega
from ui.text import TONE_MARKDOWN_COLOURS, md_status, md_text


def kpi_metric(kpi: dict, *, help_text: str | None = None, border: bool = False) -> None:
    """The KPI as st.metric: status icon and title, value, the change on the previous
    period (arrow by its sign, colour by its meaning) and a sparkline in the
    status colour under it."""
    previous = kpi["vs_previous"]
    tone = fmt.change_tone(previous["abs"], kpi["direction"])
    with st.container(border=border, gap=None):
        st.metric(
            f"{md_status(kpi['status'], fmt.status_icon(kpi['status']))} {md_text(kpi['title'])}",
            fmt.value_and_target(kpi["value"], kpi.get("target"), kpi["unit"])[0],
            delta=None if previous["abs"] is None else fmt.format_change(previous, kpi["unit"]),
            delta_color=TONE_MARKDOWN_COLOURS[tone],
            delta_arrow={"": "off", "▲": "up", "▼": "down"}[fmt.change_arrow(previous["abs"])],
            delta_description=fmt.comparison_label(previous["label"]) or None,
            help=help_text)
        values = fmt.trend_values(kpi["history"])
        if values:
            st.vega_lite_chart(vega.spec(charts.sparkline, [{"value": v} for v in values],
                                         width="container", height=48,
                                         colour=fmt.status_colour(kpi["status"])),
                               width="stretch")


def metric_tiles(tiles: list[tuple[str, str, str | None]], *, key: str) -> None:
    """Small bordered tiles (label, value, help) in a row that wraps: four across
    on a laptop, two by two on a phone (each as wide as its words, then sharing
    the row), instead of one tall tile per line."""
    with st.container(horizontal=True, gap="small", key=key):
        for label, value, explained in tiles:
            st.metric(label, value, help=explained, border=True, width="stretch")

