"""The KPI trend chart as Altair drew it, kept only as the reference that
charts.kpi_trend_chart (a plain Vega-Lite dict) is held to in
tests/test_report_specs.py. This is the code the dict replaced, unchanged but
for its name; reference_spec gives its spec as the reports took it (to_dict
without $schema and config, the frames as inline rows)."""
from __future__ import annotations

from datetime import timedelta

import altair as alt
import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import report_blocks
from kpi_logic.output.charts import (
    _SHAPES,
    _TICKS,
    AXIS_FORMAT,
    FORECAST,
    GRID,
    INK,
    KPI_ORDER,
    TIME_FORMAT,
    _grain,
    _unit_title,
    status_scale,
)


def reference_spec(kpi: dict, **options) -> dict:
    """The Altair chart's spec as report_blocks.chart_spec made it for a report."""
    if isinstance(options.get("title"), dict):
        options["title"] = alt.TitleParams(**options["title"])
    return report_blocks.chart_spec(kpi_trend_chart(kpi, **options))


def trend_frame(kpi: dict) -> pd.DataFrame:
    """One row per history period: start, mid, end (dates), value, target, the
    at-risk band (band_low..band_high) and the status badge. A period that is not
    an engine label ("2025-03", "2025-Q1"...) cannot be placed in time and is left
    out. Does not mutate `kpi`."""
    tolerance = kpi.get("tolerance")
    tolerance = 0.10 if fmt.is_missing(tolerance) else float(tolerance)
    rows = []
    for point in kpi.get("history") or []:
        try:
            start, end = fmt.period_bounds(point.get("period"))
        except ValueError:
            continue
        target = point.get("target", kpi.get("target"))
        target = np.nan if fmt.is_missing(target) else float(target)
        margin = abs(target) * tolerance
        low, high = ((target, target + margin) if kpi.get("target_kind") == "max"
                     else (target - margin, target))
        value, unit = point.get("value"), kpi.get("unit", "number")
        value_text = fmt.format_value(value, unit)
        # A partial period of a flow is drawn where it is heading (its pace), not as a
        # fall to the days so far; the tooltip gives both.
        pace = point.get("pace") or {}
        if not fmt.is_missing(pace.get("projected")):
            value_text += f" so far, on pace for {fmt.format_value(pace['projected'], unit)}"
            value = pace["projected"]
        elif point.get("partial"):
            value_text += " so far"
        rows.append({
            "period": point["period"], "label": fmt.human_period(point["period"]),
            "start": pd.Timestamp(start), "end": pd.Timestamp(end + timedelta(days=1)),
            "mid": pd.Timestamp(start) + (pd.Timestamp(end) - pd.Timestamp(start)) / 2,
            "value": np.nan if fmt.is_missing(value) else float(value),
            "target": target, "band_low": low, "band_high": high,
            "status": fmt.status_badge(point.get("status")),
            "partial": bool(point.get("partial")),
            "value_text": value_text, "target_text": fmt.format_value(target, unit),
        })
    columns = ["period", "label", "start", "end", "mid", "value", "target", "band_low",
               "band_high", "status", "partial", "value_text", "target_text"]
    return pd.DataFrame(rows, columns=columns)


def target_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """Target and band as step points: each period's target at its start, plus
    the end of the last period, so a stepped line spans every period exactly."""
    steps = frame[["start", "target", "band_low", "band_high", "target_text"]]
    steps = steps.rename(columns={"start": "x"})
    if len(frame):
        last = steps.iloc[[-1]].assign(x=frame["end"].iloc[-1])
        steps = pd.concat([steps, last], ignore_index=True)
    return steps.reset_index(drop=True)


def kpi_trend_chart(kpi: dict, *, width: int = 520, height: int = 220,
                    title: str | alt.TitleParams | None = None,
                    legend: bool = True, axis_side: str = "left") -> alt.LayerChart:
    """The KPI's values over time against its stepped per-period target line and
    the at-risk band; points coloured and shaped by status (legend optional,
    for reports that show one key for many charts; axis_side "right" keeps the
    plot's left edge aligned with text above it)."""
    unit = kpi.get("unit", "number")
    frame = trend_frame(kpi)
    grain = _grain(frame["period"].iloc[0]) if len(frame) else "month"
    x_axis = alt.Axis(format=TIME_FORMAT[grain], title=None, labelAngle=0, grid=False,
                      tickCount=_TICKS.get(grain, alt.Undefined))
    # a fixed label width lines up the plots of charts placed side by side
    y = alt.Axis(format=AXIS_FORMAT.get(unit, ",.3~s"), title=_unit_title(unit),
                 orient=axis_side, minExtent=48, maxExtent=48, tickCount=5, gridColor=GRID)
    steps = alt.Chart(target_steps(frame))
    band = steps.mark_area(interpolate="step-after", color=fmt.WARN, opacity=0.18).encode(
        x=alt.X("x:T", axis=x_axis), y=alt.Y("band_low:Q", axis=y), y2=alt.Y2("band_high:Q"))
    target = steps.mark_line(interpolate="step-after", color=INK, strokeDash=[6, 4],
                             strokeWidth=1.5).encode(x=alt.X("x:T"), y=alt.Y("target:Q"))
    ahead = forecast_frame(kpi, frame)
    if len(ahead):       # the running period is drawn where its forecast lands
        frame = frame.assign(value=frame["value"].mask(frame["period"] == ahead["period"].iloc[0],
                                                       ahead["value"].iloc[0]))
    complete = frame[~frame["partial"]]
    base = alt.Chart(complete).encode(x=alt.X("mid:T", axis=x_axis))
    line = base.mark_line(color="#374151", strokeWidth=2).encode(
        y=alt.Y("value:Q", axis=y, scale=alt.Scale(zero=False)))
    # A partial period (its data end early) is a hollow point on a dashed line.
    dashed = alt.Chart(_partial_tail(frame)).mark_line(
        color="#374151", strokeWidth=2, strokeDash=[4, 3]).encode(x=alt.X("mid:T"), y=alt.Y("value:Q"))
    kinds = list(KPI_ORDER)
    encoding = dict(
        y=alt.Y("value:Q"),
        color=alt.Color("status:N", scale=status_scale(kinds), title=None,
                        legend=alt.Legend() if legend else None),
        shape=alt.Shape("status:N", title=None, legend=alt.Legend() if legend else None,
                        scale=alt.Scale(
            domain=[fmt.status_badge(s) for s in kinds], range=[_SHAPES[s] for s in kinds])),
        tooltip=[alt.Tooltip("label:N", title="Period"),
                 alt.Tooltip("value_text:N", title="Value"),
                 alt.Tooltip("target_text:N", title="Target"),
                 alt.Tooltip("status:N", title="Status")])
    points = base.mark_point(size=70, filled=True, opacity=1).encode(**encoding)
    hollow = alt.Chart(frame[frame["partial"] & ~frame["period"].isin(ahead["period"])]).mark_point(
        size=70, filled=False, strokeWidth=2, opacity=1).encode(x=alt.X("mid:T"), **encoding)
    layers = [band, target, line, dashed, points, hollow]
    if len(ahead):
        layers += _forecast_layers(ahead, _partial_tail(frame), encoding)
    if len(frame):
        # at the right end; where the forecast's range stands there, at the running
        # period's start (its target, ending where the range's period begins)
        end = target_steps(frame).iloc[[-2 if len(ahead) else -1]].assign(
            text=lambda f: "Target " + f["target_text"])
        layers.append(alt.Chart(end).mark_text(align="right", dy=-7, fontSize=11, color=INK)
                      .encode(x=alt.X("x:T"), y=alt.Y("target:Q"), text=alt.Text("text:N")))
    # Sizes and title given to the layer as it is made: .properties() deep-copies
    # every layer, twice (most of a scorecard PNG's eight charts' time).
    return alt.layer(*layers, width=width, height=height, **({"title": title} if title else {}))


def forecast_frame(kpi: dict, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The forecast of the KPI's running period (kpi["forecast"], metrics/forecast.py)
    as one row placed like its period in the trend (`frame`, default trend_frame(kpi)):
    period, mid, value, low, high (NaN without a range), status, and the tooltip's
    texts (so_far, forecast_text: "$40.95 (80% range $37.77–$44.14), 3% chance of
    meeting the target", target_text). Empty without a forecast or when its period
    is not in the history as a partial period. Does not mutate its inputs."""
    columns = ["period", "label", "mid", "value", "low", "high", "status", "so_far",
               "forecast_text", "target_text"]
    ahead = kpi.get("forecast")
    frame = trend_frame(kpi) if frame is None else frame
    row = frame[(frame["period"] == kpi.get("period")) & frame["partial"]]
    if not ahead or fmt.is_missing(ahead.get("value")) or not len(row):
        return pd.DataFrame(columns=columns)
    unit = kpi.get("unit", "number")
    point = next(p for p in kpi.get("history") or [] if p.get("period") == kpi.get("period"))
    text = ", ".join(t for t in (fmt.forecast_range(ahead, unit), fmt.target_chance(ahead)) if t)

    def number(value: object) -> float:
        return np.nan if fmt.is_missing(value) else float(value)

    return pd.DataFrame([{
        "period": row["period"].iloc[0], "label": row["label"].iloc[0] + " (running)",
        "mid": row["mid"].iloc[0], "value": float(ahead["value"]),
        "low": number(ahead.get("low")), "high": number(ahead.get("high")),
        "status": row["status"].iloc[0], "so_far": fmt.format_value(point.get("value"), unit),
        "forecast_text": text, "target_text": row["target_text"].iloc[0]}], columns=columns)


def _forecast_layers(ahead: pd.DataFrame, tail: pd.DataFrame, encoding: dict) -> list:
    """The forecast drawn apart from the actual values: a blue fan from the last
    actual value to the 80% range at the period, an error bar over that range, and a
    hollow point at the forecast (status colour and shape) whose tooltip says it all."""
    layers = []
    if ahead["low"].notna().iloc[0]:
        start = tail[tail["period"] != ahead["period"].iloc[0]].iloc[:1]
        fan = pd.DataFrame({"mid": [*start["mid"], ahead["mid"].iloc[0]],
                            "low": [*start["value"], ahead["low"].iloc[0]],
                            "high": [*start["value"], ahead["high"].iloc[0]]})
        bar = alt.Chart(ahead).encode(x=alt.X("mid:T"))
        layers += [
            alt.Chart(fan).mark_area(color=FORECAST, opacity=0.16).encode(
                x=alt.X("mid:T"), y=alt.Y("low:Q"), y2=alt.Y2("high:Q")),
            bar.mark_rule(color=FORECAST, strokeWidth=2).encode(y=alt.Y("low:Q"),
                                                                y2=alt.Y2("high:Q")),
            bar.mark_tick(color=FORECAST, orient="horizontal", size=12, thickness=2).encode(
                y=alt.Y("low:Q")),
            bar.mark_tick(color=FORECAST, orient="horizontal", size=12, thickness=2).encode(
                y=alt.Y("high:Q"))]
    tooltip = [alt.Tooltip("label:N", title="Period"), alt.Tooltip("so_far:N", title="So far"),
               alt.Tooltip("forecast_text:N", title="Forecast"),
               alt.Tooltip("target_text:N", title="Target"),
               alt.Tooltip("status:N", title="Status so far")]
    layers.append(alt.Chart(ahead).mark_point(size=90, filled=False, strokeWidth=2.5, opacity=1)
                  .encode(x=alt.X("mid:T"), **{**encoding, "tooltip": tooltip}))
    return layers


def _partial_tail(frame: pd.DataFrame) -> pd.DataFrame:
    """The last complete point with a value and the partial points after it, for the
    dashed end of a trend line; empty when no period is partial."""
    if not frame["partial"].any():
        return frame.iloc[0:0]
    first_partial = int(np.flatnonzero(frame["partial"].to_numpy())[0])
    before = frame.iloc[:first_partial]
    before = before[before["value"].notna()]
    return pd.concat([before.iloc[-1:], frame.iloc[first_partial:]])
