"""PNG reports: one composed image per page, for e-mail, slides and chat.

The image is a single Vega-Lite spec (header, KPI tiles, charts, lists) made
with Altair and rasterised offline by vl-convert. Header, tiles and lists are
drawn on a "canvas" chart whose x/y scales are pixels, which gives exact
layout without a browser. Every status is written as an icon and a word as
well as a colour.
"""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import vl_convert

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.output import charts
from kpi_logic.output.report_blocks import (
    FONT,
    LINE,
    MUTED,
    WIDTH,
    Canvas,
    change_line,
    chart_spec,
    header,
    kpi_tile,
    note,
    section,
    tile_grid,
)

KINDS = ("overview", "scorecard", "okrs")


def _facts(data: dict, *pairs: tuple[str, str]) -> list[tuple[str, str]]:
    """The header's facts; the as-of date is the data's, else the day the report is made."""
    dates = [("As of", data.get("as_of") or date.today()),
             ("Data through", data.get("data_through"))]
    return list(pairs) + [(name, fmt.human_date(value)) for name, value in dates if value]


def _grid(charts_: list, columns: int) -> dict:
    """Charts in rows of `columns`, as a plain Vega-Lite dict (see report_spec)."""
    specs = [_spec(c) for c in charts_]
    rows = [{"hconcat": specs[i:i + columns], "spacing": 40}
            for i in range(0, len(specs), columns)]
    return {"vconcat": rows, "spacing": 24, "datasets": _hoisted(specs)}


def _spec(part) -> dict:
    """A part of the report as a Vega-Lite dict without top-level-only keys."""
    spec = part if isinstance(part, dict) else chart_spec(part)
    return {k: v for k, v in spec.items() if k not in ("$schema", "config")}


def _hoisted(specs: list[dict]) -> dict:
    """Moves each part's named datasets up (Vega-Lite keeps them at the top). Mutates specs."""
    datasets = {}
    for spec in specs:
        datasets.update(spec.pop("datasets", {}))
    return datasets


def scorecard_parts(data: dict, title: str | None) -> list:
    """Header, KPI tiles, one trend chart per KPI, why each moved (with `data`'s
    "explanations": explain.card_explanations) and the plain metrics."""
    department = data.get("department") or "All departments"
    period = fmt.human_period(data.get("period"))
    if data.get("partial"):
        period += " (incomplete period)"
    parts = [header(title or f"{department} scorecard",
                    _facts(data, ("Department", department), ("Period", period)))]
    kpis = data.get("kpis") or []
    if not kpis:
        return parts + [note(f"No KPIs are defined for {department} yet.")]
    if data.get("too_many_kpis"):
        parts.append(note(f"⚠ {len(kpis)} KPIs in {department}: past about seven they stop "
                          "being key. Consider keeping the few that steer.", colour=fmt.WARN))
    parts.append(tile_grid([kpi_tile(k) for k in kpis]))
    trends = [charts.kpi_trend_chart(
        k, width=WIDTH // 2 - 70, height=170, legend=False, axis_side="right",
        title={"text": k.get("title") or k.get("metric", ""), "anchor": "start",
               "fontSize": 15, "subtitle": fmt.target_rule(
                   k.get("target"), k.get("target_kind"), k.get("unit"), k.get("value")),
               "subtitleColor": MUTED, "subtitleFontSize": 12})
        for k in kpis if k.get("history")]
    if trends:
        partial = any(h.get("partial") for k in kpis for h in k.get("history") or [])
        forecast = any(charts.forecast_row(k) for k in kpis)
        parts += [section("Trend against target"), legend_line(partial, forecast),
                  _grid(trends, 2)]
    explained = data.get("explanations") or {}
    lines = [fmt.explanation_line(explained[k["title"]], most=2) for k in kpis
             if k.get("title") in explained]
    if lines:
        parts += [section("Why they moved (against the previous period)"),
                  note(lines, colour=charts.INK)]
    if data.get("metrics"):
        parts += [section("Plain metrics (not linked to a KPI or key result)"),
                  metric_table(data["metrics"])]
    return parts


def legend_line(partial: bool = False, forecast: bool = False) -> dict:
    """One key for all trend charts, so each chart can use its width for data; a
    second line explains hollow points when a period is partial, a third the
    forecast's fan and range when a chart has one."""
    canvas = Canvas(26 + 24 * partial + 24 * forecast)
    if partial:
        canvas.text(0, 41, "○ ‑ ‑ so far: a period the data leave early (" + (
            "drawn where its forecast, else its pace, leads" if forecast else
            "a summed KPI is drawn where its pace leads") + ")", size=13, colour=charts.INK)
    if forecast:
        y = 41 + 24 * partial
        canvas.rect(0, y - 11, 26, 14, "#CCE0ED")
        canvas.text(34, y, "I", size=15, colour=charts.FORECAST, weight="bold")
        canvas.text(46, y, "forecast: the running period drawn where it is heading, its 80% "
                    "range as a blue fan and bar (the tiles give both and the chance of "
                    "meeting the target)", size=13, colour=charts.INK, limit=WIDTH - 46)
    x = 0
    for status, shape in (("healthy", "●"), ("at_risk", "▲"), ("unhealthy", "✚"),
                          ("no_data", "■")):
        canvas.text(x, 17, f"{shape} {fmt.status_word(status)}", size=13,
                    colour=fmt.status_colour(status), weight="bold")
        x += 118
    canvas.text(x + 10, 17, "- - -  target (steps where the target changes)", size=13,
                colour=charts.INK)
    canvas.rect(x + 330, 6, 26, 14, "#F2E2CC")
    canvas.text(x + 364, 17, "at-risk band (within tolerance); equal to the target is met",
                size=13, colour=charts.INK)
    return canvas.spec()


def metric_table(metrics: list[dict]) -> dict:
    """Plain metrics: name, value, change vs previous and vs last year."""
    row = 24
    canvas = Canvas(row * (len(metrics) + 1) + 6)
    columns = ((0, "Metric"), (380, "Value"), (540, "vs previous"), (850, "vs last year"))
    for x, name in columns:
        canvas.text(x, 16, name, size=12, colour=MUTED, weight="bold")
    for index, metric in enumerate(metrics, start=1):
        unit, direction = metric.get("unit", "number"), metric.get("direction", "up")
        y = 16 + index * row
        canvas.text(0, y, metric.get("metric_label") or fmt.metric_label(metric.get("metric")), size=14, limit=370)
        canvas.text(380, y, fmt.format_value(metric.get("value", metric.get("current")), unit),
                    size=14, weight="bold")
        for x, key in ((540, "vs_previous"), (850, "vs_last_year")):
            text, tone = change_line(metric.get(key), unit, direction)
            canvas.text(x, y, text, size=13, colour=tone, limit=300)
    return canvas.spec()


MAX_ALERTS = 15                 # past this the list stops being read; the rest is counted
_SEVERITY = {"high": ("✖", "High", fmt.BAD), "medium": ("⚠", "Medium", fmt.WARN),
             "low": ("ℹ", "Low", fmt.NEUTRAL)}


def alert_list(alerts: list[dict]) -> dict:
    """Alerts, most severe first, each with its severity as icon, word and colour."""
    order = list(_SEVERITY)
    ranked = sorted(alerts, key=lambda a: order.index(a.get("severity"))
                    if a.get("severity") in order else len(order))
    shown = ranked[:MAX_ALERTS]
    row = 26
    canvas = Canvas(row * (len(shown) + (len(ranked) > len(shown))) + 6)
    if len(ranked) > len(shown):
        canvas.text(110, 18 + len(shown) * row,
                    f"… and {len(ranked) - len(shown)} more on the dashboard's overview page",
                    size=14, colour=MUTED)
    for index, alert in enumerate(shown):
        icon, word, colour = _SEVERITY.get(alert.get("severity"),
                                           ("•", str(alert.get("severity") or "Note"), MUTED))
        y = 18 + index * row
        canvas.text(0, y, f"{icon} {word}", size=14, colour=colour, weight="bold")
        canvas.text(110, y, alert.get("text", ""), size=14, limit=WIDTH - 110)
    return canvas.spec()


def status_count_tiles(counts: dict[str, int], noun: str) -> dict:
    """One small tile per status with its count ("4 KPIs"), titled with icon and word."""
    tiles = [{"title": fmt.status_badge(status), "colour": fmt.status_colour(status),
              "value": str(count), "lines": [(noun, MUTED)]}
             for status, count in counts.items()]
    return tile_grid(tiles, columns=max(len(tiles), 1), height=104)


def overview_parts(data: dict, title: str | None) -> list:
    """Header, KPI counts by status, health by department, objectives, alerts."""
    parts = [header(title or "Company overview", _facts(data))]
    if data.get("pinned"):
        parts += [section("Pinned KPIs"), tile_grid([kpi_tile(k) for k in data["pinned"]])]
    departments = data.get("departments") or []
    totals = {s: sum(int(d.get(s) or 0) for d in departments) for s in charts.KPI_ORDER}
    parts.append(status_count_tiles(totals, "KPIs"))
    if departments:
        parts += [section("KPI health by department"),
                  charts.department_health_chart(departments, width=WIDTH - 190,
                                                 label_width=190)]
    if data.get("goals") and data.get("objectives"):
        parts += [section("Goals"), goal_tiles(data["goals"])]
    parts += _objectives_section(data.get("objectives") or [])
    alerts = data.get("alerts") or []
    parts.append(section("Alerts"))
    parts.append(alert_list(alerts) if alerts else note("No alerts: nothing needs attention."))
    return parts


def _objectives_section(objectives: list[dict]) -> list:
    if not objectives:
        return [section("Objectives"), note("No objectives are defined yet.")]
    return [section("Objectives: progress, with a black tick where progress is expected today"),
            charts.objective_progress_chart(objectives, width=WIDTH)]


def okrs_parts(data: dict, title: str | None) -> list:
    """Header, key results by status, objective progress, one table per objective,
    and pace charts for the key results that need attention (when history is given)."""
    objectives = data.get("objectives") or []
    department = data.get("department")
    parts = [header(title or "Objectives and key results",
                    _facts(data, ("Department", department or "")))]
    results = [kr for obj in objectives for kr in obj.get("key_results") or []]
    counts = {s: sum(kr.get("status") == s for kr in results)
              for s in ("achieved", "on_track", "at_risk", "off_track", "missed", "no_data")}
    for rare in ("missed", "no_data"):
        if not counts[rare]:
            del counts[rare]
    parts.append(status_count_tiles(counts, "key results"))
    if data.get("summary"):
        parts.append(goal_tiles(data["summary"]))
    parts += _objectives_section(objectives)
    for obj in objectives:
        parts += [section(obj.get("objective", "")), kr_table(obj)]
        notes = [(f"✎ {fmt.checkin_line(c, c.get('key_result'))}", charts.INK)
                 for c in (obj.get("checkins") or [])[:2]]
        notes += [(f"⚑ {flag['text']}", fmt.WARN) for flag in obj.get("flags") or []]
        if notes:
            parts.append(text_lines(notes))
    # without a history the pace chart still shows start -> current and its trend
    attention = [kr for kr in results if kr.get("status") in ("off_track", "at_risk")
                 and not fmt.is_missing(kr.get("current"))][:4]
    if attention:
        pace = [charts.kr_pace_chart(kr, kr.get("history"), as_of=data.get("as_of"),
                                     unit=kr.get("unit", "number"), width=WIDTH // 2 - 70,
                                     height=180, axis_side="right").properties(
                    title=alt.TitleParams(kr.get("title", ""), anchor="start", fontSize=15))
                for kr in attention]
        parts += [section("Key results that need attention: actual against pace"),
                  _grid(pace, 2)]
    return parts


def goal_tiles(summary: dict) -> dict:
    """The goal-management KPIs as four tiles ("—" where nothing is counted)."""
    shown = (("Completion rate", "completion_rate", "achieved of finished"),
             ("Met by deadline", "met_by_deadline_rate", "of those past the deadline"),
             ("On pace", "timeline_adherence", "of the running, with data"),
             ("Checked in this week", "checkin_rate", "of the running"))
    tiles = [{"title": label, "colour": charts.INK,
              "value": "—" if summary.get(key) is None else fmt.format_progress(summary[key]),
              "lines": [(words, MUTED)]} for label, key, words in shown]
    return tile_grid(tiles, columns=4, height=104)


def text_lines(lines: list[tuple[str, str]]) -> dict:
    """Short lines of text under a table (check-ins, flags), each in its colour."""
    canvas = Canvas(22 * len(lines) + 6)
    for index, (text, colour) in enumerate(lines):
        canvas.text(0, 18 + index * 22, text, size=14, colour=colour, limit=WIDTH)
    return canvas.spec()


def kr_table(objective: dict) -> dict:
    """Key results of one objective: title, owner and deadline, a progress bar with
    the expected-progress tick, the values from start to target, and the status;
    under a running key result, where it is heading by its deadline."""
    results = objective.get("key_results") or []
    row, ahead = 58, 22
    headings = [fmt.kr_forecast_line(kr) for kr in results]
    tops = [sum(row + (ahead if h else 0) for h in headings[:i]) for i in range(len(results) + 1)]
    canvas = Canvas((tops[-1] if results else row) + 4)
    if not results:
        canvas.text(0, 22, "No key results yet.", size=14, colour=MUTED)
    for index, kr in enumerate(results):
        y = tops[index]
        unit = kr.get("unit", "number")
        canvas.text(0, y + 22, kr.get("title", ""), size=15, weight="bold", limit=470)
        who = [kr.get("owner") or "no owner", f"due {fmt.human_date(kr.get('deadline'))}"]
        canvas.text(0, y + 44, "  ·  ".join(who), size=13, colour=MUTED, limit=470)
        _progress_bar(canvas, 490, y + 10, kr)
        measured = fmt.measured_note(kr)
        values = (f"{'ended at' if kr.get('ended') else 'now'} "
                  f"{fmt.format_value(kr.get('current'), unit)}"
                  + (f" ({measured})" if measured else "")
                  + f"  ·  from {fmt.format_value(kr.get('start'), unit)} to "
                  f"{fmt.format_value(kr.get('target'), unit)}" + _raw_note(kr))
        canvas.text(490, y + 48, values, size=13, colour=MUTED, limit=WIDTH - 490)
        if headings[index]:
            heading = headings[index]
            canvas.text(0, y + 68, f"→ {heading[:1].upper()}{heading[1:]}", size=13,
                        colour=fmt.ACHIEVED, limit=WIDTH)
        canvas.text(WIDTH, y + 22, fmt.status_badge(kr.get("status")), size=15,
                    weight="bold", colour=fmt.status_colour(kr.get("status")), align="right")
        if index < len(results) - 1:
            canvas.rect(0, tops[index + 1] - 4, WIDTH, 1, LINE)
    return canvas.spec()


def _progress_bar(canvas: Canvas, x: float, y: float, kr: dict, width: float = 300) -> None:
    progress, expected = kr.get("progress"), kr.get("expected")
    canvas.rect(x, y, width, 16, charts.TRACK)
    if not fmt.is_missing(progress) and float(progress) > 0:
        canvas.rect(x, y, width * min(max(float(progress), 0.0), 1.0), 16,
                    fmt.status_colour(kr.get("status")))
    if not fmt.is_missing(expected):
        tick = x + width * min(max(float(expected), 0.0), 1.0)
        canvas.rect(tick - 1.5, y - 4, 3, 24, charts.INK)
    # Short enough for the room between the bar and the status badge ("100%  ·
    # expected 100%"); the raw progress goes on the line under the bar (_raw_note).
    text = fmt.format_progress(progress)
    if not fmt.is_missing(expected) and not kr.get("ended"):
        text += f"  ·  expected {fmt.format_progress(expected)}"
    canvas.text(x + width + 14, y + 13, text, size=13, limit=240)


def _raw_note(kr: dict) -> str:
    """ "  ·  116% of the way" when the raw progress differs from the bar's (overshot
    the target, or moved away from it); "" otherwise."""
    progress, raw = kr.get("progress"), kr.get("progress_raw")
    if fmt.is_missing(raw) or fmt.is_missing(progress) or abs(raw - progress) <= 0.005:
        return ""
    return f"  ·  {fmt.format_progress(raw)} of the way"


_BUILDERS = {"overview": overview_parts, "scorecard": scorecard_parts, "okrs": okrs_parts}


_RESOLVE = {"color": "independent", "shape": "independent", "strokeDash": "independent"}
_CONFIG = (alt.Chart(pd.DataFrame({"x": [0]})).mark_point()
           .configure(font=FONT, background="white", padding=36)
           .configure_view(stroke=None)
           .configure_axis(labelFontSize=12, titleFontSize=12, labelColor=MUTED,
                           titleColor=MUTED)
           .configure_legend(labelFontSize=13, symbolSize=120)
           .configure_title(color=charts.INK)
           .to_dict(validate=False)["config"])


def report_spec(kind: str, data: dict, *, title: str | None = None) -> dict:
    """The whole report as one Vega-Lite spec. Refuses an unknown kind (InputError).

    The parts are joined as plain dicts: Altair deep-copies every sub-chart at
    each level of vconcat/hconcat, which made a scorecard take many seconds.
    """
    if kind not in _BUILDERS:
        raise InputError(f"Unknown report '{kind}': choose one of {', '.join(KINDS)}.")
    return parts_spec(_BUILDERS[kind](data or {}, title))


def parts_spec(parts_: list, *, resolve: dict | None = None, config: dict | None = None
               ) -> dict:
    """Parts (charts or Vega-Lite dicts) stacked into one page with the reports' look
    (the board pack's cover is drawn with it), or with the `resolve` and `config` given
    (the launch report's own)."""
    parts = [_spec(p) for p in parts_]
    datasets = _hoisted(parts)
    resolve = resolve or {"scale": dict(_RESOLVE), "legend": dict(_RESOLVE)}
    return {"$schema": alt.SCHEMA_URL, "vconcat": parts, "spacing": 22, "resolve": resolve,
            "config": config or _CONFIG, "datasets": datasets}


def report_chart(kind: str, data: dict, *, title: str | None = None) -> alt.VConcatChart:
    """The report as an Altair chart (validated against the Vega-Lite schema)."""
    return alt.VConcatChart.from_dict(report_spec(kind, data, title=title))


def render_report(kind: str, data: dict, *, title: str | None = None,
                  scale: float = 2.0) -> bytes:
    """The report as PNG bytes (`scale` 2 gives a sharp image on high-density screens).
    Refuses an unknown kind with InputError; does not mutate `data`."""
    return vl_convert.vegalite_to_png(report_spec(kind, data, title=title), scale=scale)
