"""Metric explorer: any metric, or a formula typed over metric names, by day,
week, month, quarter or year, whole or split by its dimension (channel,
region...), as a chart and a table. The numbers are `python -m kpi_logic
history`'s: both call metrics.history.metric_history."""
from __future__ import annotations

import shlex
from datetime import date

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.formulas import metric_name
from kpi_logic.domain.model import GRAINS, UNITS
from kpi_logic.output import charts
from ui import data, state, vega, widgets
from ui.tables import Download, table
from ui.text import md_code, md_text

SOURCES = {"metric": "A metric", "formula": "A formula"}
UNIT_WORDS = {"number": "number", "currency": "money ($)", "percent": "percent",
              "duration": "hours", "minutes": "minutes"}
AGGREGATION_WORDS = {"sum": "a period adds up its values",
                     "mean": "a period is the mean of its values",
                     "last": "a period is its latest value (added up across channels, regions...)",
                     "min": "a period is its lowest value", "max": "a period is its highest value"}
AUTOMATIC = ""          # the unit option meaning "the unit read from the formula"
DEFAULT_GRAIN = "month"
EXAMPLE = "purchases / website_visitors"

state.restore(state.EXPLORER_URL)
st.title("Metric explorer")
st.caption("Any metric, or a formula over metric names, by period, as a chart and a table. "
           "A formula is computed from each period's summed parts, never by averaging daily "
           "rates.")

metrics = data.cached("load_metrics")
if not metrics:
    st.info("No metrics yet: import metric history or definitions on 'Import and define'.")
    st.stop()


def picked_source() -> str:
    """"metric" or "formula": a link decides (a formula in it wins), else the last choice."""
    key = state.EXPLORER_SOURCE
    if state.url_news("formula") and str(st.query_params.get("formula", "")).strip():
        st.session_state[key] = "formula"
    elif state.url_news("metric"):
        st.session_state[key] = "metric"
    if st.session_state.get(key) not in SOURCES:
        st.session_state[key] = "metric"
    return st.radio("Explore", list(SOURCES), format_func=SOURCES.get, horizontal=True, key=key)


def metric_picker() -> str:
    """A searchable selectbox of the defined metrics, by readable name and department;
    the metric picked is kept while a formula is shown instead."""
    key = state.EXPLORER_METRIC
    names = sorted(metrics, key=lambda n: (fmt.display_name(metrics[n]).casefold(), n))
    wanted = st.session_state.get(key, st.session_state.get(state.EXPLORER_METRIC_KEPT))
    if wanted not in names:     # a link may name it as typed: "Conversion rate"
        wanted = {metric_name(n): n for n in names}.get(metric_name(wanted or ""), names[0])
    st.session_state[key] = wanted
    chosen = st.selectbox(
        "Metric", names, key=key, placeholder="Type to search",
        format_func=lambda n: fmt.display_name(metrics[n]) + (
            f" · {metrics[n].department}" if metrics[n].department else ""),
        help="Type part of a name or a department to narrow the list.")
    st.session_state[state.EXPLORER_METRIC_KEPT] = chosen
    return chosen


def formula_input() -> str:
    """The formula field; what was typed is kept while a metric is shown instead."""
    key = state.EXPLORER_FORMULA
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(state.EXPLORER_FORMULA_KEPT, "")
    text = st.text_input(
        "Formula", key=key, placeholder=EXAMPLE,
        help="Metric names as the Metrics catalogue lists them, numbers, + - * / and "
             "parentheses, e.g. (revenue - cost_of_goods_sold) / revenue.")
    st.session_state[state.EXPLORER_FORMULA_KEPT] = text
    return text.strip()


def day_picker(label: str, param: str, key: str, default: date, low: date, high: date) -> date:
    """A day of the range, bound to ?from= / ?to= once someone picked it: until then it
    follows the data (a shared link keeps showing the latest)."""
    picked = state.EXPLORER_PICKED + param
    if state.url_news(param):
        st.session_state[picked] = state.parse_date(st.query_params[param]) is not None
    chosen = state.parse_date(st.session_state.get(key)) if st.session_state.get(picked) else None
    st.session_state[key] = min(max(chosen or default, low), high)
    return st.date_input(label, key=key, min_value=low, max_value=high, format="YYYY-MM-DD",
                         on_change=_day_changed, args=(param, key, default))


def _day_changed(param: str, key: str, default: date) -> None:
    chosen = state.parse_date(st.session_state.get(key))
    st.session_state[state.EXPLORER_PICKED + param] = chosen is not None and chosen != default


def split_toggle(scope) -> bool:
    """"Split by channel" when the metric has dimension values, bound to ?split=1."""
    if not scope.dimensions:
        return False
    key = state.EXPLORER_SPLIT
    if state.url_news("split") or key not in st.session_state:
        st.session_state[key] = st.query_params.get("split") == "1"
    count = len(scope.dimensions)
    return st.toggle(f"Split by {md_text(scope.dimension_name)}", key=key,
                     help=f"One line and one column per {md_text(scope.dimension_name)} "
                          f"({count} of them).")


def unit_picker(inferred: str) -> str:
    """A formula's unit: the one read from its parts, or one chosen (?unit=)."""
    key = state.EXPLORER_UNIT
    if st.session_state.get(key) not in (AUTOMATIC, *UNITS):
        st.session_state[key] = AUTOMATIC
    chosen = st.selectbox("Show as", [AUTOMATIC, *UNITS], key=key,
                          format_func=lambda u: f"Automatic: {UNIT_WORDS.get(inferred, inferred)}"
                          if u == AUTOMATIC else UNIT_WORDS.get(u, u))
    return chosen or inferred


def published(source: str, metric: str | None, formula: str, grain: str | None = None,
              start: date | None = None, end: date | None = None, split: bool = False,
              unit: str = AUTOMATIC) -> None:
    state.publish({"metric": metric if source == "metric" else None,
                   "formula": formula if source == "formula" else None, "grain": grain,
                   "from": start, "to": end, "split": "1" if split else None,
                   "unit": unit if source == "formula" else None})


# ---------------------------------------------------------------- what to explore

what, per = st.columns([3, 2])
with per:       # first: a bad formula stops the page, and the grain stays in the link
    if st.session_state.get(state.EXPLORER_GRAIN) not in GRAINS:
        st.session_state[state.EXPLORER_GRAIN] = DEFAULT_GRAIN
    grain = st.radio("Per", GRAINS, key=state.EXPLORER_GRAIN, horizontal=True,
                     format_func=str.capitalize)
with what:
    source = picked_source()
    metric = metric_picker() if source == "metric" else None
    formula = formula_input() if source == "formula" else ""
    if source == "formula" and not formula:
        published(source, metric, formula, grain)
        st.info(f"Type a formula over metric names, for example {md_code(EXAMPLE)}.",
                icon=":material/function:")
        st.stop()
    subject = {"metric": metric} if metric else {"formula": formula}
    # A bad formula's sentence shows here, under the field it was typed in.
    with widgets.message_on_failure() as attempt:
        scope = data.cached("history_scope", **subject, grain=grain)
    if attempt.failed:
        published(source, metric, formula, grain)
        st.stop()

if scope.first_date is None:
    published(source, metric, formula, grain)
    st.info("No values yet: import this metric's history on 'Import and define'."
            if metric else "No values yet: the metrics of this formula have no history "
            "together.", icon=":material/hourglass_empty:")
    st.stop()

first, last = scope.first_date, scope.last_date
start_column, end_column, options = st.columns(3)
with start_column:
    start = day_picker("From", "from", state.EXPLORER_FROM, first, first, last)
with end_column:
    end = day_picker("To", "to", state.EXPLORER_TO, last, first, last)
with options:
    split = split_toggle(scope)
    unit = unit_picker(scope.unit) if source == "formula" else scope.unit
asked_start = start if st.session_state.get(state.EXPLORER_PICKED + "from") else None
asked_end = end if st.session_state.get(state.EXPLORER_PICKED + "to") else None
published(source, metric, formula, grain, asked_start, asked_end, split,
          st.session_state.get(state.EXPLORER_UNIT, AUTOMATIC))
if start > end:
    st.warning(f"The range starts on {fmt.human_date(start)}, after it ends "
               f"({fmt.human_date(end)}): pick a first day on or before the last.",
               icon=":material/date_range:")
    st.stop()

with widgets.message_on_failure(then_stop=True):
    history = data.cached("metric_history", **subject, grain=grain, start=asked_start,
                          end=asked_end, by_dimension=split)
history = {**history, "unit": unit}


# ---------------------------------------------------------------- what it shows

def definition_text(history: dict) -> str:
    """How the values are made, in a line under the title."""
    if history["formula"]:
        how = (f"{md_code(history['formula'])}, computed from each period's aggregated parts")
    else:
        how = "recorded; " + AGGREGATION_WORDS.get(
            history["aggregation"], f"aggregated by {md_text(history['aggregation'])}")
    through = (f"data through {fmt.human_date(history.get('data_through'))}"
               + (f" ({history['cadence']})" if history.get("cadence") else ""))
    return f"{how} · {UNIT_WORDS.get(history['unit'], history['unit'])} · {through}"


def command_line(history: dict, split: bool) -> str:
    """The `history` command that prints this view."""
    words = ["python -m kpi_logic history"]
    words += (["--metric", shlex.quote(history["metric"])] if history["metric"]
              else ["--formula", shlex.quote(history["formula"])])
    words += ["--grain", history["grain"]]
    words += ["--from", history["start"]] if history["start"] else []
    words += ["--to", history["end"]] if history["end"] else []
    return " ".join(words + (["--split"] if split else []))


def period_order(label: str) -> date:
    return fmt.period_bounds(label)[0]


def table_frame(history: dict, split: bool) -> tuple[pd.DataFrame, dict[str, str]]:
    """The chart's numbers as a table, newest period first: the whole metric and, when
    split, a column per dimension value (a row per value when there are many); why a
    period is partial in the last column. Also the columns' labels."""
    note = {r["period"]: fmt.partial_note(r["period"], history.get("start"),
                                          history.get("covered_through")) if r["partial"] else ""
            for r in [*history["rows"], *history["split"]]}
    whole = {r["period"]: r["value"] for r in history["rows"]}
    periods = sorted(note, key=period_order, reverse=True)
    dimension = history.get("dimension_name")
    parts = sorted({r["dimension"] for r in history["split"]}) if split else []
    labels = {"period": "Period", "value": "Value", "data": "Partial period"}
    if not split:
        frame = {"period": periods, "value": [whole.get(p) for p in periods]}
    elif len(parts) <= charts.MAX_SERIES:
        cells = {(r["period"], r["dimension"]): r["value"] for r in history["split"]}
        frame = {"period": periods, "value": [whole.get(p) for p in periods],
                 **{f"part:{d}": [cells.get((p, d)) for p in periods] for d in parts}}
        labels.update({"value": "Total", **{f"part:{d}": charts.series_name(d, dimension)
                                            for d in parts}})
    else:
        rows = sorted(history["split"], key=lambda r: (period_order(r["period"]), r["dimension"]),
                      reverse=True)
        periods = [r["period"] for r in rows]
        frame = {"period": periods,
                 "part": [charts.series_name(r["dimension"], dimension) for r in rows],
                 "value": [r["value"] for r in rows]}
        labels["part"] = str(dimension or "Dimension").capitalize()
    frame = pd.DataFrame({**frame, "data": [note[p] for p in periods]})
    if not any(frame["data"]):
        frame = frame.drop(columns="data")
    frame["period"] = [fmt.human_period(p) for p in frame["period"]]
    for column in frame.columns:
        if column == "value" or column.startswith("part:"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame, labels


title = history["metric_label"] if history["metric"] else "Formula"
st.subheader(md_text(title) + (f" by {md_text(history['dimension_name'])}" if split else "")
             + f", per {grain}")
st.caption(definition_text(history))

if not history["rows"]:
    st.info(f"No values between {fmt.human_date(start)} and {fmt.human_date(end)}.",
            icon=":material/hourglass_empty:")
    st.stop()

st.vega_lite_chart(vega.spec(charts.history_chart, history, split=split), width="stretch")
notes = []
if any(r["partial"] for r in history["rows"]):
    notes.append("Hollow points on dashed lines are partial periods: their data, or the "
                 "range, cover only part of the period, so compare them with care.")
if split and len(scope.dimensions) > charts.MAX_SERIES:
    notes.append(f"The chart shows the {charts.MAX_SERIES} largest of "
                 f"{len(scope.dimensions)} {md_text(history['dimension_name'])} values; the "
                 "table has them all.")
if notes:
    st.caption(" ".join(notes))

frame, labels = table_frame(history, split)
value_columns = [c for c in frame.columns if c == "value" or c.startswith("part:")]
table(frame, labels, units={c: unit for c in value_columns}, key="explorer_table",
      download=Download("explorer", f"{history['metric'] or 'formula'} by {history['grain']}",
                        key="explorer_download"))
st.caption(f"{len(frame):,} rows, newest first. The command line prints the same numbers: "
           f"{md_code(command_line(history, split))}")
