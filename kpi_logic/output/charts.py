"""Chart builders for the dashboard and the PNG reports (no streamlit).

Each builder takes the engine's JSON shapes (dicts and lists, see issue 2)
and returns an Altair chart, or for the KPI trend chart (drawn eight times in a
scorecard PNG) the Vega-Lite dict Altair would make, written directly; nothing here computes a KPI status or progress,
it only draws what the engine decided. Status is always shown by shape or
text as well as colour, so the charts survive colour blindness and
grey-scale printing.
"""
from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime, timedelta

import altair as alt
import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt

KPI_ORDER = ("healthy", "at_risk", "unhealthy", "no_data")
_SHAPES = {"healthy": "circle", "at_risk": "triangle-up", "unhealthy": "cross",
           "no_data": "square"}
# d3 formats for axes, by unit: "$12k", "12.5%", "3.2" (hours in the title)
AXIS_FORMAT = {"currency": "$,.3~s", "percent": ".1~%", "duration": ",.1~f",
               "minutes": ",.1~f", "number": ",.3~s"}
TIME_FORMAT = {"month": "%b %Y", "quarter": "Q%q %Y", "year": "%Y", "week": "%-d %b %Y",
               "day": "%-d %b %Y"}
# ticks on period starts, so a label never sits inside a period it does not name
_TICKS = {"month": "month", "quarter": {"interval": "month", "step": 3}, "year": "year"}
INK, GRID, TRACK = "#1F2937", "#E5E7EB", "#E5E7EB"
FORECAST = fmt.ACHIEVED      # the key result chart's forecast line is this blue too


def _unit_title(unit: str) -> str:
    return {"duration": "hours", "minutes": "minutes"}.get(unit, "")


def _grain(label: str) -> str:
    text = str(label)
    if "Q" in text:
        return "quarter"
    if "W" in text:
        return "week"
    return {4: "year", 7: "month"}.get(len(text), "day")


def status_scale(statuses=KPI_ORDER) -> alt.Scale:
    """Colour scale over status words ("Healthy", ...) in the house colours."""
    return alt.Scale(domain=[fmt.status_badge(s) for s in statuses],
                     range=[fmt.status_colour(s) for s in statuses])


def named_data(values: list[dict], datasets: dict) -> dict:
    """A reference to `values` by the name Altair gives inline data ("data-" and a hash
    of their JSON), the values kept in `datasets` (a spec's top-level datasets)."""
    text = json.dumps(values, sort_keys=True, default=str)
    name = "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]
    datasets[name] = values
    return {"name": name}


def _number(value: object) -> float | None:
    """A number as a float for a spec's rows; None for a gap (JSON has no NaN)."""
    return None if fmt.is_missing(value) or not math.isfinite(float(value)) else float(value)


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def trend_rows(kpi: dict) -> list[dict]:
    """One row per history period: period, label, start, mid, end (ISO date-times,
    end the day after the period), value, target, the at-risk band (band_low..band_high;
    None without a target) and the status badge. A period that is not an engine label
    ("2025-03", "2025-Q1"...) cannot be placed in time and is left out. Does not
    mutate `kpi`."""
    tolerance = kpi.get("tolerance")
    tolerance = 0.10 if fmt.is_missing(tolerance) else float(tolerance)
    unit = kpi.get("unit", "number")
    rows = []
    for point in kpi.get("history") or []:
        try:
            start, end = fmt.period_bounds(point.get("period"))
        except ValueError:
            continue
        target = _number(point.get("target", kpi.get("target")))
        low = high = None
        if target is not None:
            margin = abs(target) * tolerance
            low, high = ((target, target + margin) if kpi.get("target_kind") == "max"
                         else (target - margin, target))
        value = point.get("value")
        value_text = fmt.format_value(value, unit)
        # A partial period of a flow is drawn where it is heading (its pace), not as a
        # fall to the days so far; the tooltip gives both.
        pace = point.get("pace") or {}
        if not fmt.is_missing(pace.get("projected")):
            value_text += f" so far, on pace for {fmt.format_value(pace['projected'], unit)}"
            value = pace["projected"]
        elif point.get("partial"):
            value_text += " so far"
        first, last = _moment(start), _moment(end)
        rows.append({
            "period": point["period"], "label": fmt.human_period(point["period"]),
            "start": first.isoformat(), "end": (last + timedelta(days=1)).isoformat(),
            "mid": (first + (last - first) / 2).isoformat(),
            "value": _number(value), "target": target, "band_low": low, "band_high": high,
            "status": fmt.status_badge(point.get("status")),
            "partial": bool(point.get("partial")),
            "value_text": value_text, "target_text": fmt.format_value(target, unit),
        })
    return rows


def target_steps(rows: list[dict]) -> list[dict]:
    """Target and band as step points (x, target, band_low, band_high, target_text):
    each period's target at its start, plus the end of the last period, so a stepped
    line spans every period exactly."""
    steps = [{"x": r["start"], "target": r["target"], "band_low": r["band_low"],
              "band_high": r["band_high"], "target_text": r["target_text"]} for r in rows]
    if rows:
        steps.append({**steps[-1], "x": rows[-1]["end"]})
    return steps


def forecast_row(kpi: dict, rows: list[dict] | None = None) -> dict | None:
    """The forecast of the KPI's running period (kpi["forecast"], metrics/forecast.py)
    placed like its period in the trend (`rows`, default trend_rows(kpi)): period,
    label, mid, value, low, high (None without a range), status, and the tooltip's
    texts (so_far, forecast_text: "$40.95 (80% range $37.77–$44.14), 3% chance of
    meeting the target", target_text). None without a forecast or when its period
    is not in the history as a partial period. Does not mutate its inputs."""
    ahead = kpi.get("forecast")
    rows = trend_rows(kpi) if rows is None else rows
    running = [r for r in rows if r["period"] == kpi.get("period") and r["partial"]]
    if not ahead or fmt.is_missing(ahead.get("value")) or not running:
        return None
    row, unit = running[0], kpi.get("unit", "number")
    point = next(p for p in kpi.get("history") or [] if p.get("period") == kpi.get("period"))
    text = ", ".join(t for t in (fmt.forecast_range(ahead, unit), fmt.target_chance(ahead)) if t)
    return {"period": row["period"], "label": row["label"] + " (running)", "mid": row["mid"],
            "value": float(ahead["value"]), "low": _number(ahead.get("low")),
            "high": _number(ahead.get("high")), "status": row["status"],
            "so_far": fmt.format_value(point.get("value"), unit), "forecast_text": text,
            "target_text": row["target_text"]}


def _partial_tail(rows: list[dict]) -> list[dict]:
    """The last complete point with a value and the partial points after it, for the
    dashed end of a trend line; empty when no period is partial."""
    first = next((i for i, r in enumerate(rows) if r["partial"]), None)
    if first is None:
        return []
    before = [r for r in rows[:first] if r["value"] is not None]
    return before[-1:] + rows[first:]


def _field(name: str, kind: str, **more) -> dict:
    return {"field": name, "type": kind, **more}


def _status_encoding(legend: bool, tooltip: list[tuple[str, str]]) -> dict:
    """Colour and shape by status (one legend, or none) and the tooltip's fields and
    titles; a new dict each call."""
    badges = [fmt.status_badge(s) for s in KPI_ORDER]
    return {
        "color": _field("status", "nominal", legend={} if legend else None, title=None,
                        scale={"domain": badges,
                               "range": [fmt.status_colour(s) for s in KPI_ORDER]}),
        "shape": _field("status", "nominal", legend={} if legend else None, title=None,
                        scale={"domain": badges, "range": [_SHAPES[s] for s in KPI_ORDER]}),
        "tooltip": [_field(name, "nominal", title=title) for name, title in tooltip]}


_VALUE_TOOLTIP = [("label", "Period"), ("value_text", "Value"), ("target_text", "Target"),
                  ("status", "Status")]
_FORECAST_TOOLTIP = [("label", "Period"), ("so_far", "So far"),
                     ("forecast_text", "Forecast"), ("target_text", "Target"),
                     ("status", "Status so far")]


def kpi_trend_chart(kpi: dict, *, width: int = 520, height: int = 220,
                    title: str | dict | None = None, legend: bool = True,
                    axis_side: str = "left") -> dict:
    """The KPI's values over time against its stepped per-period target line and
    the at-risk band; points coloured and shaped by status (legend optional,
    for reports that show one key for many charts; axis_side "right" keeps the
    plot's left edge aligned with text above it). A Vega-Lite layer spec (a dict,
    its rows in top-level `datasets`, no $schema or config), written directly:
    the spec Altair made of the same layers (tests/test_report_specs.py), at a
    fraction of the cost. `title` is a text or a Vega-Lite title dict
    ({"text", "subtitle", "anchor", ...})."""
    unit = kpi.get("unit", "number")
    rows = trend_rows(kpi)
    grain = _grain(rows[0]["period"]) if rows else "month"

    def x(name: str, axis: bool = False) -> dict:
        if not axis:
            return _field(name, "temporal")
        ticks = {"tickCount": _TICKS[grain]} if grain in _TICKS else {}
        return _field(name, "temporal", axis={"format": TIME_FORMAT[grain], "grid": False,
                                              "labelAngle": 0, "title": None, **ticks})

    def y(name: str, axis: bool = False, **more) -> dict:
        if not axis:
            return _field(name, "quantitative", **more)
        # a fixed label width lines up the plots of charts placed side by side
        return _field(name, "quantitative", **more, axis={
            "format": AXIS_FORMAT.get(unit, ",.3~s"), "gridColor": GRID, "maxExtent": 48,
            "minExtent": 48, "orient": axis_side, "tickCount": 5, "title": _unit_title(unit)})

    datasets: dict[str, list[dict]] = {}

    def layer(values: list[dict], mark: dict, **encoding) -> dict:
        return {"data": named_data(values, datasets), "mark": mark, "encoding": encoding}

    steps = target_steps(rows)
    layers = [
        layer(steps, {"type": "area", "color": fmt.WARN, "interpolate": "step-after",
                      "opacity": 0.18},
              x=x("x", axis=True), y=y("band_low", axis=True), y2={"field": "band_high"}),
        layer(steps, {"type": "line", "color": INK, "interpolate": "step-after",
                      "strokeDash": [6, 4], "strokeWidth": 1.5}, x=x("x"), y=y("target"))]
    ahead = forecast_row(kpi, rows)
    if ahead:        # the running period is drawn where its forecast lands
        rows = [{**r, "value": ahead["value"]} if r["period"] == ahead["period"] else r
                for r in rows]
    complete = [r for r in rows if not r["partial"]]
    tail = _partial_tail(rows)
    layers += [
        layer(complete, {"type": "line", "color": "#374151", "strokeWidth": 2},
              x=x("mid", axis=True), y=y("value", axis=True, scale={"zero": False})),
        # A partial period (its data end early) is a hollow point on a dashed line.
        layer(tail, {"type": "line", "color": "#374151", "strokeDash": [4, 3],
                     "strokeWidth": 2}, x=x("mid"), y=y("value")),
        layer(complete, {"type": "point", "filled": True, "opacity": 1, "size": 70},
              x=x("mid", axis=True), y=y("value"), **_status_encoding(legend, _VALUE_TOOLTIP)),
        layer([r for r in rows if r["partial"] and not (ahead and r["period"] == ahead["period"])],
              {"type": "point", "filled": False, "opacity": 1, "size": 70, "strokeWidth": 2},
              x=x("mid"), y=y("value"), **_status_encoding(legend, _VALUE_TOOLTIP))]
    if ahead:
        layers += _forecast_layers(ahead, tail, layer, x, y, legend)
    if rows:
        # at the right end; where the forecast's range stands there, at the running
        # period's start (its target, ending where the range's period begins)
        end = steps[-2 if ahead else -1]
        layers.append(layer([{**end, "text": "Target " + end["target_text"]}],
                            {"type": "text", "align": "right", "color": INK, "dy": -7,
                             "fontSize": 11},
                            text=_field("text", "nominal"), x=x("x"), y=y("target")))
    spec = {"layer": layers, "height": height, "width": width}
    if title:
        spec["title"] = title
    spec["datasets"] = datasets
    return spec


def _forecast_layers(ahead: dict, tail: list[dict], layer, x, y, legend: bool) -> list[dict]:
    """The forecast drawn apart from the actual values: a blue fan from the last
    actual value to the 80% range at the period, an error bar over that range, and a
    hollow point at the forecast (status colour and shape) whose tooltip says it all."""
    layers = []
    if ahead["low"] is not None:
        start = [r for r in tail if r["period"] != ahead["period"]][:1]
        fan = [{"mid": r["mid"], "low": r["value"], "high": r["value"]} for r in start]
        fan.append({"mid": ahead["mid"], "low": ahead["low"], "high": ahead["high"]})
        tick = {"type": "tick", "color": FORECAST, "orient": "horizontal", "size": 12,
                "thickness": 2}
        layers += [
            layer(fan, {"type": "area", "color": FORECAST, "opacity": 0.16},
                  x=x("mid"), y=y("low"), y2={"field": "high"}),
            layer([ahead], {"type": "rule", "color": FORECAST, "strokeWidth": 2},
                  x=x("mid"), y=y("low"), y2={"field": "high"}),
            layer([ahead], dict(tick), x=x("mid"), y=y("low")),
            layer([ahead], dict(tick), x=x("mid"), y=y("high"))]
    layers.append(layer([ahead], {"type": "point", "filled": False, "opacity": 1, "size": 90,
                                  "strokeWidth": 2.5},
                        x=x("mid"), y=y("value"), **_status_encoding(legend, _FORECAST_TOOLTIP)))
    return layers


def sparkline(history: list[dict], *, width: int | str = 140, height: int = 36,
              colour: str = "#374151") -> alt.LayerChart:
    """A tiny line of the history values with the latest point marked; no axes.
    width="container" fills the page's column (a card on a phone or a laptop)."""
    frame = pd.DataFrame([{"i": i, "value": p.get("value")}
                          for i, p in enumerate(history or [])], columns=["i", "value"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    base = alt.Chart(frame).encode(
        x=alt.X("i:Q", axis=None, scale=alt.Scale(nice=False, zero=False)),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)))
    line = base.mark_line(color=colour, strokeWidth=1.5)
    last = base.transform_filter(f"datum.i == {max(len(frame) - 1, 0)}").mark_point(
        filled=True, size=25, color=colour, opacity=1)
    chart = alt.layer(line, last).properties(width=width, height=height)
    if width == "container":
        chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    return chart


def _pace_tone(progress: object, expected: object) -> str:
    if fmt.is_missing(progress):
        return "No data"
    if float(progress) >= 1:
        return "Target reached"
    if not fmt.is_missing(expected) and float(expected) >= 1:
        return "Missed"               # the deadline has passed: no pace left to be on
    if fmt.is_missing(expected) or float(progress) >= float(expected):
        return "On pace"
    return "Behind pace"


PACE_COLOURS = alt.Scale(domain=["On pace", "Behind pace", "Target reached", "Missed",
                                 "No data"],
                         range=[fmt.GOOD, fmt.WARN, fmt.ACHIEVED, fmt.BAD, fmt.NEUTRAL])


def objective_frame(objectives: list[dict]) -> pd.DataFrame:
    """One row per objective: name (with department), progress, expected, pace,
    and the text shown beside the bar. Does not mutate the input."""
    rows = []
    for obj in objectives or []:
        progress, expected = obj.get("progress"), obj.get("expected")
        name = obj.get("objective", "")
        if obj.get("department"):
            name = f"{name} ({obj['department']})"
        note = fmt.format_progress(progress)
        if not fmt.is_missing(expected):
            note += f"  ·  expected {fmt.format_progress(expected)}"
        rows.append({"objective": name, "progress": _clamped(progress),
                     "expected": None if fmt.is_missing(expected) else _clamped(expected),
                     "pace": _pace_tone(progress, expected), "note": note, "track": 1.0})
    return pd.DataFrame(rows, columns=["objective", "progress", "expected", "pace",
                                       "note", "track"])


def _clamped(value: object) -> float:
    return 0.0 if fmt.is_missing(value) else min(max(float(value), 0.0), 1.0)


def objective_progress_chart(objectives: list[dict], *, width: int = 620,
                             row_height: int = 52,
                             label_width: int | None = None) -> alt.LayerChart:
    """Per objective a progress bar (0..100%) with a black tick at the progress
    expected today; the name above the bar on the left (cut at `label_width`
    pixels, default 60% of the width), progress, expected and pace in words on
    the right. Everything stays inside the plot, so long names never push it."""
    frame = objective_frame(objectives)
    frame["summary"] = frame["note"] + "  ·  " + frame["pace"].str.lower()
    y = alt.Y("objective:N", sort=None, axis=None,
              scale=alt.Scale(paddingInner=0, paddingOuter=0))
    base = alt.Chart(frame).encode(y=y)
    bar_at = dict(height=14, yOffset=9)
    track = base.mark_bar(color=TRACK, **bar_at).encode(
        x=alt.X("track:Q", scale=alt.Scale(domain=[0, 1], nice=False),
                axis=alt.Axis(format="%", title=None, grid=False, values=[0, .25, .5, .75, 1])))
    bar = base.mark_bar(**bar_at).encode(
        x=alt.X("progress:Q"), color=alt.Color("pace:N", scale=PACE_COLOURS, legend=None))
    tick = base.mark_tick(color=INK, thickness=3, size=24, yOffset=9, opacity=1).encode(
        x=alt.X("expected:Q"))
    name = base.mark_text(align="left", dy=-10, fontSize=14, fontWeight="bold", color=INK,
                          limit=label_width or width * 0.6).encode(
        x=alt.XValue(0), text=alt.Text("objective:N"))
    note = base.mark_text(align="right", dy=-10, fontSize=13).encode(
        x=alt.XValue(width), text=alt.Text("summary:N"),
        color=alt.Color("pace:N", scale=PACE_COLOURS, legend=None))
    height = max(row_height * len(frame), row_height)
    return alt.layer(track, bar, tick, name, note).properties(width=width, height=height)


def _day(value: object) -> date | None:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def kr_points(kr: dict, history: list[dict] | None = None,
              as_of: object = None) -> pd.DataFrame:
    """The key result's actual values over time: [date, value], starting with the
    start value at start_date. `history` is [{date, value}] (the metric's value as
    the engine measures it for the KR); without it the current value is placed at
    `as_of`. Does not mutate the inputs."""
    rows = [{"date": _day(kr.get("start_date")), "value": kr.get("start")}]
    for point in history or []:
        rows.append({"date": _day(point.get("date") or point.get("period")),
                     "value": point.get("value")})
    if not history and _day(as_of) and not fmt.is_missing(kr.get("current")):
        rows.append({"date": _day(as_of), "value": kr.get("current")})
    frame = pd.DataFrame(rows, columns=["date", "value"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame = frame.dropna().drop_duplicates("date", keep="last").sort_values("date")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.reset_index(drop=True)


def kr_projection(points: pd.DataFrame, deadline: object) -> float | None:
    """The value at `deadline` on the least-squares straight line through the
    actual points; None with fewer than two dates or no deadline."""
    end = _day(deadline)
    if end is None or points["date"].nunique() < 2:
        return None
    days = (points["date"] - points["date"].iloc[0]).dt.days.to_numpy(dtype=float)
    slope, intercept = np.polyfit(days, points["value"].to_numpy(dtype=float), 1)
    horizon = (pd.Timestamp(end) - points["date"].iloc[0]).days
    return float(intercept + slope * horizon)


def kr_lines(kr: dict, points: pd.DataFrame, projected: float | None) -> pd.DataFrame:
    """The pace chart's lines as rows [date, value, series, dot]: the pace from
    (start_date, start) to (deadline, target), the actual points, and the forecast
    from the latest point to the projected value at the deadline. `dot` marks the
    actual points to draw as dots (all of them, or only the latest of a long daily
    history, which would otherwise bury the line)."""
    deadline = _day(kr.get("deadline"))
    rows = [{"date": _day(kr.get("start_date")), "value": kr.get("start"),
             "series": "Pace to target", "dot": False},
            {"date": deadline, "value": kr.get("target"), "series": "Pace to target",
             "dot": False}]
    few = len(points) <= 24
    rows += [{"date": d, "value": v, "series": "Actual", "dot": few or i == len(points) - 1}
             for i, (d, v) in enumerate(points[["date", "value"]].itertuples(index=False))]
    if projected is not None and len(points):
        last = points.iloc[-1]
        rows += [{"date": last["date"], "value": last["value"], "series": "Forecast",
                  "dot": False},
                 {"date": deadline, "value": projected, "series": "Forecast", "dot": False}]
    frame = pd.DataFrame(rows, columns=["date", "value", "series", "dot"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["dot"] = frame["dot"].astype(bool)
    return frame


def _kr_projected(points: pd.DataFrame, deadline: date | None, unit: str,
                  as_of: object = None) -> float | None:
    """The projection, only while the deadline is still ahead of the latest point
    and of `as_of` (a key result that has ended has a result, not a forecast)."""
    if not len(points) or deadline is None or points["date"].iloc[-1] >= pd.Timestamp(deadline):
        return None
    if _day(as_of) and _day(as_of) > deadline:
        return None
    projected = kr_projection(points, deadline)
    if projected is not None and unit in ("duration", "minutes"):
        projected = max(projected, 0.0)     # a straight line can cross zero; time cannot
    return projected


def kr_forecast_range(kr: dict) -> tuple[float, float] | None:
    """(low, high) of an OKR report entry's forecast for its deadline; None without one."""
    ahead = kr.get("forecast") or {}
    if fmt.is_missing(ahead.get("low")) or fmt.is_missing(ahead.get("high")):
        return None
    return float(ahead["low"]), float(ahead["high"])


def kr_pace_chart(kr: dict, history: list[dict] | None = None, *, as_of: object = None,
                  unit: str = "number", width: int = 460, height: int = 220,
                  axis_side: str = "left") -> alt.LayerChart:
    """Actual values against the straight pace line from start to target, with a line
    from the latest value to where it is heading at the deadline, written there: the
    entry's forecast (okrs.kr_deadline_forecast, its 80% range as a whisker) when the
    entry carries one, else the trend of the points. The y axis keeps higher values
    up, so a decreasing KR's pace line falls."""
    points = kr_points(kr, history, as_of)
    deadline = _day(kr.get("deadline"))
    if "forecast" in kr:        # the engine's word; None: ended, not started or no data
        projected = (kr["forecast"] or {}).get("value") if len(points) else None
    else:
        projected = _kr_projected(points, deadline, unit, as_of)
    frame = kr_lines(kr, points, projected)
    spread = kr_forecast_range(kr) if projected is not None else None
    series = ["Actual", "Pace to target", "Forecast"]
    low, high = frame["value"].min(), frame["value"].max()
    if spread:
        low, high = min(low, spread[0]), max(high, spread[1])
    pad = max((high - low) * 0.08, 1e-9) if pd.notna(low) else 1
    y = alt.Y("value:Q", title=_unit_title(unit),
              scale=alt.Scale(domain=[low - pad, high + pad], nice=False)
              if pd.notna(low) else alt.Undefined,
              axis=alt.Axis(format=AXIS_FORMAT.get(unit, ",.3~s"), tickCount=5,
                            orient=axis_side))
    base = alt.Chart(frame).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%-d %b", labelAngle=0, grid=False,
                                                     tickCount=6)), y=y)
    line = base.mark_line(strokeWidth=2).encode(
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=series, range=[INK, "#6B7280", fmt.ACHIEVED])),
        strokeDash=alt.StrokeDash("series:N", title=None, legend=alt.Legend(orient="top"),
                                  scale=alt.Scale(domain=series,
                                                  range=[[1, 0], [6, 4], [2, 3]])))
    dots = base.transform_filter("datum.dot").mark_point(filled=True, color=INK, size=40,
                                                          opacity=1)
    layers = [*_kr_marks(kr, y, unit, as_of), line, dots]
    if spread:
        whisker = pd.DataFrame({"date": [pd.Timestamp(deadline)], "value": [spread[0]],
                                "high": [spread[1]]})
        layers.append(alt.Chart(whisker).mark_rule(color=fmt.ACHIEVED, strokeWidth=2)
                      .encode(x=alt.X("date:T"), y=y, y2="high:Q"))
    if projected is not None:
        if "forecast" in kr:    # as precise as the page's line ("4.46", not "4.5", by 4.5)
            figure = fmt.forecast_format(kr["forecast"], unit, kr.get("target"))(projected)
            words = "Forecast" if kr["forecast"].get("method") == "so_far" else "Heading for"
            label = f"{words} {figure} by {fmt.human_date(deadline)}"
        else:
            label = f"Projected {fmt.format_value(projected, unit)} by {fmt.human_date(deadline)}"
        end = pd.DataFrame({"date": [pd.Timestamp(deadline)], "value": [projected],
                            "text": [label]})
        layers.append(alt.Chart(end).mark_text(align="right", dy=-12, fontSize=12,
                                               color=fmt.ACHIEVED, fontWeight="bold")
                      .encode(x=alt.X("date:T"), y=y, text=alt.Text("text:N")))
    return alt.layer(*layers).properties(width=width, height=height)


def _kr_marks(kr: dict, y: alt.Y, unit: str, as_of: object) -> list:
    """The labelled target rule and, when an as-of date is given, a "Today" rule."""
    target = pd.DataFrame({"value": [kr.get("target")],
                           "text": [f"Target {fmt.format_value(kr.get('target'), unit)}"]})
    goal = alt.Chart(target).encode(y=y)
    marks = [goal.mark_rule(color=fmt.GOOD, strokeWidth=1),
             goal.mark_text(align="left", x=4, dy=-7, fontSize=11, color=fmt.GOOD,
                            fontWeight="bold").encode(text=alt.Text("text:N"))]
    if _day(as_of):
        today = alt.Chart(pd.DataFrame({"date": [pd.Timestamp(_day(as_of))],
                                        "text": ["Today"]})).encode(x=alt.X("date:T"))
        marks += [today.mark_rule(color="#9CA3AF", strokeDash=[2, 2]),
                  today.mark_text(y=0, dy=-6, fontSize=11, color="#6B7280").encode(
                      text=alt.Text("text:N"))]
    return marks


def health_frame(departments: list[dict]) -> pd.DataFrame:
    """One row per department and status with a count > 0 and its segment
    [x0, x1) in the stacked bar. Does not mutate the input."""
    rows = []
    for dept in departments or []:
        x0 = 0
        for status in KPI_ORDER:
            count = int(dept.get(status) or 0)
            if count:
                rows.append({"department": dept.get("department") or "(none)",
                             "status": fmt.status_badge(status), "count": count,
                             "x0": x0, "x1": x0 + count, "mid": x0 + count / 2})
                x0 += count
    return pd.DataFrame(rows, columns=["department", "status", "count", "x0", "x1", "mid"])


def department_health_chart(departments: list[dict], *, width: int | str = 420,
                            row_height: int = 30, label_width: int = 170
                            ) -> alt.HConcatChart | alt.LayerChart:
    """Per department a stacked bar of its KPIs by status (healthy, at risk,
    unhealthy, no data) with the counts written in each segment; the names are
    a column of their own, starting at the chart's left edge. With width
    "container" (a page) the chart takes its container's width, names as the
    axis labels, so a phone sees every bar whole."""
    frame = health_frame(departments)
    order = [d.get("department") or "(none)" for d in departments or []]
    height = max(row_height * len(order), row_height)
    if width == "container":
        # fit-x: the width follows the page; the height stays a row per department
        return _health_bars(frame, alt.Y("department:N", sort=order, title=None, axis=alt.Axis(
            labelLimit=label_width, labelFontSize=13, ticks=False, domain=False)), row_height,
            legend_columns=2).properties(
            width="container", height=height,
            autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    y = alt.Y("department:N", sort=order, title=None, axis=None)
    names = alt.Chart(pd.DataFrame({"department": order})).mark_text(
        align="left", fontSize=14, color=INK, limit=label_width).encode(
        y=y, x=alt.XValue(0), text=alt.Text("department:N")).properties(width=label_width, height=height)
    chart = _health_bars(frame, y, row_height).properties(width=width, height=height)
    return alt.hconcat(names, chart, spacing=0)


def _health_bars(frame: pd.DataFrame, y: alt.Y, row_height: int,
                 legend_columns: int | None = None) -> alt.LayerChart:
    base = alt.Chart(frame).encode(y=y)
    bars = base.mark_bar(height=row_height * 0.7, stroke="white", strokeWidth=1.5).encode(
        x=alt.X("x0:Q", title="KPIs", axis=alt.Axis(tickMinStep=1, format="d", grid=False)),
        x2=alt.X2("x1:Q"), color=alt.Color("status:N", scale=status_scale(), title=None,
                                   legend=alt.Legend(orient="top", **(
                                       {"columns": legend_columns} if legend_columns else {}))),
        tooltip=[alt.Tooltip("department:N"), alt.Tooltip("status:N"), alt.Tooltip("count:Q")])
    counts = base.mark_text(color="white", fontWeight="bold", fontSize=12).encode(
        x=alt.X("mid:Q"), text=alt.Text("count:Q"))
    return alt.layer(bars, counts)


# One colour per dimension value: Okabe-Ito's hues without its yellow (too pale
# on white), then three of Paul Tol's; the legend and tooltip name each series too.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
                  "#882255", "#44AA99", "#999933")
MAX_SERIES = len(SERIES_COLOURS)
POINTS_UP_TO = 60     # periods drawn as dots; beyond, only partial periods are


def series_name(value: object, dimension_name: object = None) -> str:
    """A dimension value as a series is named: in words ("search_ads" -> "Search ads",
    formatting.dimension_label), "(no channel)" for rows without one."""
    return fmt.dimension_label(value) if value else f"(no {dimension_name or 'dimension'})"


def history_frame(history: dict, *, split: bool = False) -> pd.DataFrame:
    """One row per period (and dimension value when split) of a metric history
    (metrics.history.metric_history's shape): series, period, label, start,
    value, partial, value_text and note (why a period is partial). A period
    that is not an engine label is left out. Does not mutate `history`."""
    unit = history.get("unit") or "number"
    rows = []
    for point in history.get("split" if split else "rows") or []:
        try:
            start, _ = fmt.period_bounds(point.get("period"))
        except ValueError:
            continue
        value = point.get("value")
        note = (fmt.partial_note(point["period"], history.get("start"),
                                 history.get("covered_through")) if point.get("partial") else "")
        rows.append({
            "series": series_name(point.get("dimension"), history.get("dimension_name"))
            if split else "Total",
            "period": point["period"], "label": fmt.human_period(point["period"]),
            "start": pd.Timestamp(start),
            "value": np.nan if fmt.is_missing(value) else float(value),
            "partial": bool(point.get("partial")),
            "value_text": fmt.format_value(value, unit) + (f" ({note})" if note else ""),
            "note": note})
    columns = ["series", "period", "label", "start", "value", "partial", "value_text", "note"]
    return pd.DataFrame(rows, columns=columns)


def period_ticks(grain: str, periods: int, labels: int = 6) -> dict | int:
    """About `labels` x-axis ticks (they fit a phone's width), on period starts for
    months, quarters and years (every 1, 2, 3, 4, 6 or 12 months; every n years);
    days and weeks take the time axis's own round dates."""
    wanted = max(periods / labels, 1)
    if grain in ("month", "quarter"):
        steps = (3, 6, 12, 24, 36, 60, 120) if grain == "quarter" else (1, 2, 3, 4, 6, 12, 24,
                                                                         36, 60, 120)
        months = wanted * (3 if grain == "quarter" else 1)
        return {"interval": "month", "step": next((s for s in steps if s >= months), 240)}
    if grain == "year":
        return {"interval": "year", "step": math.ceil(wanted)}
    return labels


def largest_series(frame: pd.DataFrame, most: int = MAX_SERIES) -> list[str]:
    """The `most` series with the largest values (summed over the periods, sizes
    compared), largest first; ties by name."""
    sizes = frame.assign(size=frame["value"].abs()).groupby("series")["size"].sum()
    ordered = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ordered[:most]]


def _partial_edges(frame: pd.DataFrame) -> pd.DataFrame:
    """The line's segments that touch a partial period, two rows each (`edge` tells
    them apart), for drawing them dashed: the solid line joins complete periods."""
    pieces = []
    for _, series in frame[frame["value"].notna()].groupby("series", sort=False):
        series = series.sort_values("start")
        for i in range(len(series) - 1):
            pair = series.iloc[i:i + 2]
            if pair["partial"].any():
                pieces.append(pair.assign(edge=f"{pair['series'].iloc[0]} {i}"))
    columns = [*frame.columns, "edge"]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=columns)


def history_chart(history: dict, *, split: bool = False, width: int | str = "container",
                  height: int = 300) -> alt.LayerChart:
    """A metric's history as a line per series (the whole metric, or its largest
    MAX_SERIES dimension values when split) over the period starts: partial
    periods as hollow points on dashed segments, the value and why a period is
    partial in the tooltip. width="container" fills the page's column."""
    unit, grain = history.get("unit") or "number", history.get("grain") or "month"
    frame = history_frame(history, split=split)
    shown = largest_series(frame) if split else ["Total"]
    frame = frame[frame["series"].isin(shown)]
    x = alt.X("start:T", title=None, axis=alt.Axis(
        format=TIME_FORMAT.get(grain, "%-d %b %Y"), labelAngle=0, grid=False, labelOverlap=True,
        tickCount=period_ticks(grain, frame["period"].nunique()), labelFlush=True))
    y = alt.Y("value:Q", scale=alt.Scale(zero=False), axis=alt.Axis(
        format=AXIS_FORMAT.get(unit, ",.3~s"), title=_unit_title(unit), tickCount=5,
        gridColor=GRID))
    colour = (alt.Color("series:N", title=None, scale=alt.Scale(
        domain=shown, range=list(SERIES_COLOURS[:len(shown)])), legend=alt.Legend(
        orient="top", columns=min(len(shown), 3), labelLimit=160, symbolType="stroke"))
        if split else alt.value("#374151"))
    tooltip = [alt.Tooltip("label:N", title="Period"), alt.Tooltip("value_text:N", title="Value")]
    if split:
        tooltip.insert(0, alt.Tooltip("series:N", title=history.get("dimension_name") or "Series"))
    base = alt.Chart(frame).encode(x=x, y=y, color=colour, detail="series:N")
    line = base.transform_filter("!datum.partial").mark_line(strokeWidth=2)
    dashed = alt.Chart(_partial_edges(frame)).mark_line(strokeWidth=2, strokeDash=[4, 3]).encode(
        x="start:T", y="value:Q", color=colour, detail="edge:N")
    many = frame["period"].nunique() > POINTS_UP_TO
    dots = base.transform_filter("!datum.partial").mark_point(
        filled=True, size=40, opacity=0 if many else 1).encode(tooltip=tooltip)
    hollow = base.transform_filter("datum.partial").mark_point(
        filled=False, size=70, strokeWidth=2, opacity=1).encode(tooltip=tooltip)
    return alt.layer(line, dashed, dots, hollow).properties(width=width, height=height)
