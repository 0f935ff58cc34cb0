"""Progress bars that take their container's width (the dashboard, phone to laptop).

One row per objective or key result: its name on a line of its own (cut at
the chart's width, whole in the tooltip), a bar from 0 to 100% in the colour
of its pace or status with a black tick at the progress expected today, and
under the bar the numbers and the status in words (and, for a key result,
owner, deadline and where it stands). Nothing is placed at a fixed pixel
position, so a 390 px phone sees every bar whole; the PNG reports keep the
fixed-width charts of charts.py.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts

KR_STATUSES = ("achieved", "on_track", "at_risk", "off_track", "missed", "no_data")
_COLUMNS = ["row", "name", "progress", "expected", "tone", "summary", "detail"]
# Pixels from the top of a row: name, bar centre, summary line, detail line.
_NAME, _BAR, _SUMMARY, _DETAIL = 11, 30, 49, 67


def objective_rows(objectives: list[dict]) -> pd.DataFrame:
    """One row per objective: name (with department), progress and expected
    (clamped 0..1), tone (its pace: "On pace", "Behind pace"...), summary
    ("80% · expected 74% · on pace"), no detail. Does not mutate the input."""
    frame = charts.objective_frame(objectives)
    return pd.DataFrame({
        "row": range(len(frame)), "name": frame["objective"], "progress": frame["progress"],
        "expected": frame["expected"], "tone": frame["pace"],
        "summary": frame["note"] + "  ·  " + frame["pace"].str.lower(), "detail": ""},
        columns=_COLUMNS)


def key_result_rows(key_results: list[dict]) -> pd.DataFrame:
    """One row per key result: title, progress and expected (clamped 0..1), tone
    (the status badge, "✔ On track"), summary ("78% · expected 74% · ✔ On track")
    and detail (owner, deadline, where it stands). Does not mutate the input."""
    rows = []
    for index, kr in enumerate(key_results or []):
        progress, expected = kr.get("progress"), kr.get("expected")
        summary = [fmt.format_progress(progress)]
        if not fmt.is_missing(expected) and not kr.get("ended"):
            summary.append(f"expected {fmt.format_progress(expected)}")
        summary.append(fmt.status_badge(kr.get("status")))
        unit = kr.get("unit", "number")
        detail = [kr.get("owner") or "no owner", f"due {fmt.human_date(kr.get('deadline'))}",
                  f"{'ended at' if kr.get('ended') else 'now'} "
                  f"{fmt.format_value(kr.get('current'), unit)} of "
                  f"{fmt.format_value(kr.get('target'), unit)}"]
        rows.append({"row": index, "name": kr.get("title", ""),
                     "progress": charts._clamped(progress),
                     "expected": None if fmt.is_missing(expected) else charts._clamped(expected),
                     "tone": fmt.status_badge(kr.get("status")),
                     "summary": "  ·  ".join(summary), "detail": "  ·  ".join(detail)})
    return pd.DataFrame(rows, columns=_COLUMNS)


def objective_progress_bars(objectives: list[dict]) -> alt.LayerChart:
    """The objectives' progress bars at the container's width, coloured by pace
    (the PNG's colours: charts.PACE_COLOURS)."""
    return progress_bars(objective_rows(objectives), charts.PACE_COLOURS)


def key_result_progress_bars(key_results: list[dict]) -> alt.LayerChart:
    """One objective's key results as progress bars at the container's width,
    coloured by status (achieved, on track, at risk, off track, missed, no data)
    in the PNG's colours, with owner, deadline and value under each bar."""
    return progress_bars(key_result_rows(key_results), charts.status_scale(KR_STATUSES))


def progress_bars(frame: pd.DataFrame, colours: alt.Scale) -> alt.LayerChart:
    """The rows of `objective_rows` or `key_result_rows` as a fit-to-width chart."""
    detail = bool(frame["detail"].str.len().any()) if len(frame) else False
    row_height = (_DETAIL if detail else _SUMMARY) + 17
    centre = row_height / 2
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0))
    tooltip = [alt.Tooltip("name:N", title="Name"), alt.Tooltip("summary:N", title="Progress")]
    if detail:
        tooltip.append(alt.Tooltip("detail:N", title="Detail"))
    base = alt.Chart(frame.assign(start=0.0, end=1.0)).encode(y=y, tooltip=tooltip)
    scale = alt.Scale(domain=[0, 1], nice=False, zero=False)
    colour = alt.Color("tone:N", scale=colours, legend=None)
    bar_at = dict(height=12, yOffset=_BAR - centre)
    layers = [
        base.mark_bar(color=charts.TRACK, **bar_at).encode(
            x=alt.X("start:Q", axis=None, scale=scale), x2="end:Q"),
        base.mark_bar(**bar_at).encode(x="start:Q", x2="progress:Q", color=colour),
        base.mark_tick(color=charts.INK, thickness=3, size=20, yOffset=_BAR - centre,
                       opacity=1).encode(x="expected:Q"),
        _line(base, "name", _NAME - centre, size=14, weight="bold", colour=charts.INK),
        _line(base, "summary", _SUMMARY - centre, size=13, weight="bold").encode(color=colour)]
    if detail:
        layers.append(_line(base, "detail", _DETAIL - centre, size=12, colour="#4B5563"))
    height = row_height * max(len(frame), 1)
    return alt.layer(*layers).properties(
        width="container", height=height,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def _line(base: alt.Chart, field: str, dy: float, *, size: int, weight: str = "normal",
          colour: str | None = None) -> alt.Chart:
    """A line of text from the row's left edge, cut at the chart's width."""
    mark = dict(align="left", baseline="middle", dy=dy, fontSize=size, fontWeight=weight,
                limit=alt.ExprRef("width"))
    if colour:
        mark["color"] = colour
    return base.mark_text(**mark).encode(x=alt.value(0), text=f"{field}:N")
