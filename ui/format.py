"""Streamlit-specific wording of the engine's formatting (kpi_logic.domain.formatting).

st.metric colours a delta by its leading sign and a `delta_color`; these two
helpers keep every card's colour following the metric's direction.
"""
from __future__ import annotations

from kpi_logic.domain import formatting as fmt


def delta_color(direction: str | None) -> str:
    """st.metric's delta_color: "inverse" when lower is better (a falling CAC shows green)."""
    return "inverse" if direction == "down" else "normal"


def metric_delta(change: dict | None, unit: str) -> str | None:
    """The delta text for st.metric ("+$1.2k (+12.5%)"), or None when there is
    nothing to compare with (st.metric then shows no arrow)."""
    if not change or fmt.is_missing(change.get("abs")):
        return None
    return fmt.format_change(change, unit)
