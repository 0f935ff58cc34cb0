"""The building blocks of every PNG report: a pixel canvas (rectangles and
text at exact positions, one Vega-Lite layer spec), and the header, tiles,
notes and section titles drawn on it, each a Vega-Lite dict. report.py and launch_report.py compose
pages from them.
"""
from __future__ import annotations

import math
import numbers

import altair as alt
import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts
from kpi_logic.output.charts import named_data

WIDTH = 1160                    # drawing width in CSS pixels; the PNG is `scale` times that
FONT = "Liberation Sans"
MUTED, LINE, TILE = "#4B5563", "#D1D5DB", "#F9FAFB"
MAX_TILE_LINES = 7
_CANVAS_COLUMNS = ("kind", "x", "y", "x2", "y2", "text", "size", "colour", "fill",
                   "weight", "align", "limit")
_NUMBER_COLUMNS = frozenset({"x", "y", "x2", "y2", "size", "limit"})


class Canvas:
    """Collects rectangles and text at pixel positions, then becomes one Vega-Lite
    layer spec (a dict): a rect layer, and a text layer per weight, alignment and
    width limit used (they are mark properties, not channels)."""

    def __init__(self, height: int, width: int = WIDTH):
        self.width, self.height, self.items = width, height, []

    def rect(self, x, y, w, h, fill, stroke=None):
        self.items.append({"kind": "rect", "x": x, "y": y, "x2": x + w, "y2": y + h,
                           "fill": fill, "colour": stroke or fill})

    def text(self, x, y, text, *, size=13, colour=charts.INK, weight="normal", align="left",
             limit=0):
        self.items.append({"kind": "text", "x": x, "y": y, "text": str(text), "size": size,
                           "colour": colour, "weight": weight, "align": align,
                           "limit": limit})

    def spec(self) -> dict:
        """The canvas as a Vega-Lite layer spec with its rows in top-level `datasets`,
        written directly: the same spec Altair makes of these layers over a DataFrame
        of the items, in a fraction of the time (tests/test_report_specs.py)."""
        rows = _rows(self.items)
        x = {"axis": None, "field": "x", "type": "quantitative",
             "scale": {"domain": [0, self.width], "nice": False, "zero": False}}
        y = {"axis": None, "field": "y", "type": "quantitative",
             "scale": {"domain": [0, self.height], "nice": False, "reverse": True,
                       "zero": False}}
        datasets: dict[str, list[dict]] = {}
        rects = [{k: v for k, v in row.items() if k != "text"} for row in rows
                 if row["kind"] == "rect"]
        layers = [{"data": named_data(rects, datasets),
                   "mark": {"type": "rect", "strokeWidth": 1},
                   "encoding": {"fill": {"field": "fill", "scale": None, "type": "nominal"},
                                "stroke": {"field": "colour", "scale": None, "type": "nominal"},
                                "x": x, "x2": {"field": "x2"}, "y": y, "y2": {"field": "y2"}}}]
        texts = [row for row in rows if row["kind"] == "text"]
        for weight, align, limit in sorted({(r["weight"], r["align"], r["limit"]) for r in texts}):
            group = [r for r in texts if (r["weight"], r["align"], r["limit"]) ==
                     (weight, align, limit)]
            layers.append({
                "data": named_data(group, datasets),
                "mark": {"type": "text", "align": align, "baseline": "alphabetic",
                         "fontWeight": weight, "limit": limit},
                "encoding": {"color": {"field": "colour", "scale": None, "type": "nominal"},
                             "size": {"field": "size", "scale": None, "type": "quantitative"},
                             "text": {"field": "text", "type": "nominal"}, "x": x, "y": y}})
        spec = {"layer": layers, "height": self.height, "width": self.width,
                "datasets": datasets}
        if len(layers) == 1:        # no text: Altair lifts a lone layer's data to the top
            spec["data"] = layers[0].pop("data")
        return spec


def _rows(items: list[dict]) -> list[dict]:
    """The items as rows with every column, typed as a DataFrame of them would be once
    Altair serialises it: a number column holding a float or a gap is float (the gap
    None), an all-whole one int; text as given, a gap None."""
    floats = {column for column in _NUMBER_COLUMNS
              if any(not isinstance(item.get(column), numbers.Integral) for item in items)}
    rows = []
    for item in items:
        row = {}
        for column in _CANVAS_COLUMNS:
            value = item.get(column)
            if column in floats:
                value = float(value) if value is not None and math.isfinite(value) else None
            elif column in _NUMBER_COLUMNS:
                value = int(value)
            row[column] = value
        rows.append(row)
    return rows


# Altair's default for inline data: a chart of more rows is refused (MaxRowsError).
MAX_ROWS = 5000


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """An Altair chart as a part of a report: its Vega-Lite dict without the top-level
    $schema and config, unvalidated. Its DataFrames become rows here, as Altair's
    own serialiser makes them but without a pandas pass per column (most of the
    time a chart took); the chart is changed in place (a report's own charts)."""
    for part in _subcharts(chart):
        data = getattr(part, "data", alt.Undefined)
        if isinstance(data, pd.DataFrame) and len(data) <= MAX_ROWS:
            rows = altair_rows(data)
            if rows is not None:
                part.data = {"values": rows}
    spec = chart.to_dict(validate=False)
    return {k: v for k, v in spec.items() if k not in ("$schema", "config")}


def _subcharts(chart) -> list:
    found = [chart]
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in getattr(chart, key, None) or []:
            if isinstance(sub, alt.TopLevelMixin) or hasattr(sub, "data"):
                found += _subcharts(sub)
    return found


def altair_rows(frame: pd.DataFrame) -> list[dict] | None:
    """The frame's rows as Altair serialises a DataFrame (altair.utils.sanitize_pandas_dataframe,
    then records): dates as ISO text ("" for none), floats with None for NaN and
    infinities, numpy scalars as Python values, text and categories with None for gaps.
    None for a frame with another kind of column (Altair's serialiser then handles it)."""
    if not all(isinstance(name, str) for name in frame.columns) or frame.columns.has_duplicates:
        return None
    columns = []
    for name, dtype in frame.dtypes.items():
        column = frame[name]
        kind = dtype.kind
        if isinstance(dtype, np.dtype) and kind == "M":
            values = ["" if pd.isna(v) else v.isoformat() for v in column]
        elif isinstance(dtype, np.dtype) and kind == "f":
            values = [v if math.isfinite(v) else None for v in column.tolist()]
        elif isinstance(dtype, np.dtype) and kind in "iub":
            values = column.tolist()
        elif kind == "O" and isinstance(dtype, (np.dtype, pd.StringDtype, pd.CategoricalDtype)):
            gaps = column.isna().tolist()
            values = [None if gap else (v.tolist() if isinstance(v, np.ndarray) else v)
                      for v, gap in zip(column.astype(object).tolist(), gaps, strict=True)]
        else:
            return None
        columns.append(values)
    names = list(frame.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] \
        if columns else [{} for _ in range(len(frame))]


def header(title: str, facts: list[tuple[str, str]]) -> dict:
    """The report's title and a line of facts ("Period: Mar 2025 · As of ...")."""
    canvas = Canvas(86)
    canvas.text(0, 34, title, size=28, weight="bold", limit=WIDTH)
    line = "   ·   ".join(f"{name}: {value}" for name, value in facts if value)
    canvas.text(0, 64, line, size=15, colour=MUTED, limit=WIDTH)
    canvas.rect(0, 80, WIDTH, 2, charts.INK)
    return canvas.spec()


def tile_grid(tiles: list[dict], *, columns: int = 3, height: int | None = None
              ) -> dict:
    """Tiles in a grid. A tile is {title, value, status, lines: [(text, colour)]},
    optionally `colour` for the strip and title when it has no status:
    a status-coloured strip, the title, the status as icon and word, the big value,
    and up to MAX_TILE_LINES short lines (target rule, coverage, forecast, changes, review
    flag)."""
    gap = 16
    width = (WIDTH - gap * (columns - 1)) / columns
    if height is None:
        most = max((len(t.get("lines", [])) for t in tiles), default=0)
        height = 78 + 18 * min(most, MAX_TILE_LINES) + 12
    rows = max((len(tiles) + columns - 1) // columns, 1)
    canvas = Canvas(rows * height + (rows - 1) * gap + 4)
    for index, tile in enumerate(tiles):
        x = (index % columns) * (width + gap)
        y = (index // columns) * (height + gap)
        colour = tile.get("colour") or fmt.status_colour(tile.get("status"))
        canvas.rect(x, y, width, height, TILE, LINE)
        canvas.rect(x, y, 7, height, colour)
        canvas.text(x + 20, y + 26, tile["title"], size=15, weight="bold",
                    colour=tile.get("colour") or charts.INK,
                    limit=width - (150 if tile.get("status") else 30))
        if tile.get("status"):
            canvas.text(x + width - 14, y + 26, fmt.status_badge(tile["status"]), size=14,
                        colour=colour, weight="bold", align="right")
        canvas.text(x + 20, y + 66, tile["value"], size=32, weight="bold", limit=width - 30)
        for line, (text, tone) in enumerate(tile.get("lines", [])[:MAX_TILE_LINES]):
            canvas.text(x + 20, y + 90 + line * 18, text, size=13, colour=tone,
                        limit=width - 30)
    return canvas.spec()


def change_line(change: dict | None, unit: str, direction: str) -> tuple[str, str]:
    """ "▲ +$4.50 (+8.7%) vs Feb 2025" in the colour of the change's meaning."""
    change = change or {}
    if fmt.is_missing(change.get("abs")):
        return f"no comparison {fmt.comparison_label(change.get('label'))}".strip(), MUTED
    arrow = fmt.change_arrow(change["abs"])
    tone = fmt.TONE_COLOURS[fmt.change_tone(change["abs"], direction)]
    text = f"{arrow} {fmt.format_change(change, unit)} {fmt.comparison_label(change.get('label'))}"
    return text.strip(), tone


def kpi_tile(kpi: dict) -> dict:
    """The tile for one KPI of the scorecard JSON."""
    unit, direction = kpi.get("unit", "number"), kpi.get("direction", "up")
    lines = [(f"Target: {fmt.target_rule(kpi.get('target'), kpi.get('target_kind'), unit, kpi.get('value'))}",
              MUTED)]
    ahead = kpi.get("forecast")
    # a partial or stale period says so before any comparison; a running one where it
    # is heading, on a line of its own with the chance under it (the coverage alone
    # and the forecast together pass a tile's width)
    coverage = fmt.coverage_note(kpi) if ahead else fmt.period_note(kpi)
    if coverage:
        lines.append((_capitalised(coverage), MUTED))
    if ahead:
        lines.append((f"→ Heading for {fmt.forecast_range(ahead, unit)}", charts.INK))
        if fmt.target_chance(ahead):
            lines.append((_capitalised(fmt.target_chance(ahead)), charts.INK))
    if not kpi.get("stale"):      # a period without data has nothing to compare
        lines += [change_line(kpi.get("vs_previous"), unit, direction),
                  change_line(kpi.get("vs_last_year"), unit, direction)]
    missed = kpi.get("missed_in_a_row") or 0
    if kpi.get("review"):      # the engine decides when a streak needs a review
        lines.append((f"⚠ Missed {missed} periods in a row: review this target", fmt.WARN))
    elif missed >= 2:
        lines.append((f"Missed {missed} periods in a row", MUTED))
    checkins = kpi.get("checkins") or []
    if checkins:        # the latest note, as the card on the page shows it
        lines.append((f"✎ {fmt.checkin_line(checkins[0])}", charts.INK))
    elif kpi.get("checkin_requested"):
        lines.append(("✎ No check-in yet on what is being done", fmt.WARN))
    return {"title": ("★ " if kpi.get("pinned") else "") + (kpi.get("title") or kpi.get("metric", "")),
            "status": kpi.get("status"),
            "value": fmt.value_and_target(kpi.get("value"), kpi.get("target"), unit)[0],
            "lines": lines}


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def note(text: str | list[str], *, colour: str = MUTED) -> dict:
    """A one-line message (e.g. "No KPIs are defined for Marketing yet."), or a list
    of them one under the other."""
    texts = [text] if isinstance(text, str) else text
    canvas = Canvas(30 + 26 * (len(texts) - 1))
    for row, line in enumerate(texts):
        canvas.text(0, 20 + 26 * row, line, size=15, colour=colour, limit=WIDTH)
    return canvas.spec()


def section(title: str) -> dict:
    canvas = Canvas(34)
    canvas.text(0, 24, title, size=19, weight="bold", limit=WIDTH)
    canvas.rect(0, 31, WIDTH, 1, LINE)
    return canvas.spec()
