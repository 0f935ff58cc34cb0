"""Metrics catalogue: every metric with its definition, current value and the
goals it serves (or none: plain, vanity candidates named), and two ways to
add goals: make a metric a KPI, or start from the KPI library."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import KPI_PERIODS
from kpi_logic.ingest import importing
from kpi_logic.ingest.definition_rows import value_text
from kpi_logic.metrics import library, suggest
from kpi_logic.output import catalogue_report, export_tables
from ui import auth, data, state, widgets
from ui.tables import Download, dataframe
from ui.text import md_code, md_text

SAVED = "metrics_saved"      # the last save's message, shown after the rerun it triggers
KINDS = {"min": "at least", "max": "at most"}
METHODS = {"median3": "Median of the last 3 complete periods",
           "percentile": f"A percentile of the last {suggest.PERCENTILE_WINDOW} complete periods"}
DIRECTIONS = {"up": "higher is better", "down": "lower is better"}
# Widths in pixels: the name stays in view when a narrow screen scrolls sideways;
# how a metric is calculated fits beside it, what it serves takes the rest.
CATALOGUE_COLUMNS = {"Metric": st.column_config.TextColumn(width=190, pinned=True),
                     "Definition": st.column_config.TextColumn(width=320),
                     "Linked to": st.column_config.TextColumn(width="large"),
                     "Description": st.column_config.TextColumn(width="large")}

state.restore({"department": state.SHARED["department"], "q": state.METRICS_SEARCH})
st.title("Metrics catalogue")
st.caption("Every metric with how it is calculated, where it stands and which goal it serves. "
           "A plain metric steers nothing: it gives context or an early warning.")
if message := st.session_state.pop(SAVED, None):
    st.success(md_text(message), icon=":material/check_circle:")

departments = data.cached("departments")
left, right = st.columns([1, 2])
with left:
    department = widgets.department_picker(departments, allow_all=True)
with right:
    search = st.text_input("Search", key=state.METRICS_SEARCH,
                           placeholder="name, formula or description")
with widgets.message_on_failure(then_stop=True):  # a refused department or a failure: say it, keep the page
    catalogue = data.cached("metric_catalogue", department=department)
state.publish({"department": department, "q": search})


def shown(value, empty: str = "") -> str:
    """Text of a catalogue cell; missing (None or NaN) as `empty`."""
    return empty if value is None or value != value else str(value)


needle = (search or "").strip().lower()
rows = [r for r in catalogue.to_dict("records") if not needle or needle in " ".join(
    shown(r[c]) for c in ("metric", "metric_label", "formula", "description")).lower()]
if not rows:
    st.info("No metric matches." if len(catalogue) else
            "No metrics yet: import metric history or definitions on 'Import and define'.")
else:
    linked = sum(1 for r in rows if r["linked"])
    st.caption(f"{len(rows)} metrics · {linked} linked to a KPI or key result · "
               f"{len(rows) - linked} plain")
    dataframe(pd.DataFrame([{
        "Metric": r["metric_label"],
        "Current": catalogue_report.current_text(r),
        "Period": fmt.human_period(r["current_period"]),
        "Definition": r["definition"],
        "Name": r["metric"],      # the key formulas, files and the CLI use
        "Linked to": "; ".join(catalogue_report.linked_words(r)),
        "Unit": r["unit"],
        "Direction": DIRECTIONS.get(r["direction"], r["direction"]),
        # A formula metric is computed from its parts' own aggregations.
        "Aggregation": "from its parts" if shown(r["formula"]) else r["aggregation"],
        "Data through": fmt.human_date(r.get("data_through")),
        "Cadence": r.get("cadence") or "—",
        "Department": shown(r["department"], "—"),
        "Description": shown(r["description"]),
    } for r in rows]), hide_index=True, width="stretch", key="metrics_table",
        # Every row at once (a reader scrolls the page, not a small frame), and the
        # long texts wide enough to read; a narrow screen scrolls the table sideways.
        height="content", column_config=CATALOGUE_COLUMNS,
        download=Download("metrics", f"catalogue {department or ''}".strip(),
                          key="metrics_catalogue", values=export_tables.catalogue(rows)))
    widgets.png_download(lambda: catalogue_report.render_catalogue(rows, department=department),
                         f"metrics-catalogue-{department or 'all'}.png".replace(" ", "_"),
                         key="metrics_png")
    vanity = [r["metric_label"] for r in rows if r["vanity_candidate"]]
    if vanity:
        st.warning(f"Vanity candidates: {md_text(', '.join(vanity))}. They read like engagement counts "
                   "and are not linked to any goal: link them to a KPI or key result, or read "
                   "them as context only.", icon=":material/visibility:")


def history_table(history: pd.DataFrame, unit: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Period": [fmt.human_period(label) for label in history["label"]],
        "Value": [fmt.format_value(v, unit) for v in history["value"]],
        "Used": ["✔ used" if used else "" for used in history["used"]]})


def save(frame: pd.DataFrame, source: str, kind: str, done: str) -> None:
    """Import one edited frame; show a refusal as the engine's message, else rerun with `done`."""
    with widgets.message_on_failure() as attempt:  # InputError or a busy database
        results = data.run(importing.import_frames, [(frame, source, kind)])
    if attempt.failed:
        return
    result = results[0]
    if result.batch is None:
        st.info("Nothing changed: exactly this definition is already saved.")
        return
    replaced = " (it replaced the definition with the same name)" if result.updated else ""
    st.session_state[SAVED] = (f"{done}{replaced}. Import batch {result.batch}: undo it on "
                               "'Import and define'.")
    st.rerun()


def make_kpi(rows: list[dict]) -> None:
    by_name = {r["metric"]: r for r in rows}
    teams = {m: shown(r["department"], "no department") for m, r in by_name.items()}
    metric = st.selectbox("Metric", list(by_name), key="metrics_kpi_metric",
                          format_func=lambda m: f"{by_name[m]['metric_label']} ({teams[m]})")
    row = by_name[metric]
    kind_column, period_column, method_column = st.columns(3)
    kind = kind_column.radio("Target kind", list(KINDS), format_func=KINDS.get, horizontal=True,
                             index=0 if row["direction"] != "down" else 1,
                             key=f"metrics_kpi_kind_{metric}")
    period = period_column.selectbox("Judged per", KPI_PERIODS, key="metrics_kpi_period")
    method = method_column.radio("Suggest the target from", list(METHODS),
                                 format_func=METHODS.get, key="metrics_kpi_method")
    q = None
    if method == "percentile":
        q = st.slider("Percentile", 5, 95, int(suggest.default_percentile(kind) * 100), step=5,
                      key=f"metrics_kpi_q_{kind}") / 100
    with widgets.message_on_failure() as attempt:
        rolled = data.cached("rolled_up", [metric], period)
        history = suggest.suggestion_history(rolled, period, data.today(), method)
        suggestion = suggest.rounded_target(
            suggest.suggested_target(history["value"], kind, method, q))
    if attempt.failed:
        return
    table = history_table(history.tail(suggest.PERCENTILE_WINDOW), row["unit"])
    note = suggest.suggestion_note(method, kind, q, int(history["used"].sum()), period)
    if method == "median3" and len(table):
        used = [f"{p} {v}" for p, v, u in zip(table["Period"], table["Value"], table["Used"], strict=True) if u]
        note += f" From {', '.join(used)}."
    st.caption(f"Suggested target: **{fmt.format_value(suggestion, row['unit'])}**. "
               f"{md_text(note)}")
    if len(table):
        with st.expander(f"The history it came from ({len(table)} complete {period}s)"):
            dataframe(table, hide_index=True, key="metrics_kpi_history", download=Download(
                "metrics", f"{metric} {period} history", key="metrics_kpi_history",
                values=export_tables.target_history(history.tail(suggest.PERCENTILE_WINDOW),
                                                    row["unit"])))
    with st.form("metrics_kpi_form"):
        # Keyed on the suggestion so a new suggestion refills the box.
        target = st.text_input(
            f"Target ({KINDS[kind]})", key=f"metrics_kpi_target_{metric}_{period}_{suggestion}",
            value="" if suggestion is None else value_text(suggestion, row["unit"]),
            help="Prefilled with the suggestion. Write it like 3%, 40 or 100,000.")
        title = st.text_input("Title", key="metrics_kpi_title",
                              placeholder="empty: made from the metric and target")
        tolerance = st.number_input("At risk when missed by at most (% of the target)", 0, 99, 10,
                                    key="metrics_kpi_tolerance")
        owner = st.text_input("Owner (optional)", key="metrics_kpi_owner")
        if st.form_submit_button("Make it a KPI", type="primary"):
            frame = pd.DataFrame([{
                "title": title.strip() or None, "metric": metric, "target": target,
                "target_kind": kind, "period": period,
                "department": shown(row["department"]) or None,
                "owner": owner.strip() or None, "tolerance": tolerance / 100}])
            save(frame, "New KPI form", "kpis", f"'{metric}' is now a KPI")


st.subheader("Make it a KPI")
if not auth.can_edit():
    st.caption("Viewer mode: sign in as an editor (sidebar) to make a metric a KPI.")
elif rows:
    make_kpi(rows)


@st.cache_data(show_spinner=False)
def library_entries() -> list[dict]:
    return library.read_library().to_dict("records")


def library_entry(entries: list[dict]) -> dict:
    wanted = next((d for d in library.DEPARTMENTS
                   if department and d.casefold() == department.casefold()), "")
    choices = [""] + list(library.DEPARTMENTS)
    team = st.selectbox("Library department", choices, index=choices.index(wanted),
                        key="metrics_library_department",
                        format_func=lambda d: d or "All departments")
    shown = [e for e in entries if not team or e["department"] == team]
    labels = {e["name"]: f"{e['label']} ({e['department']})" for e in shown}
    name = st.selectbox("KPI", list(labels), format_func=labels.get, key="metrics_library_kpi")
    return next(e for e in shown if e["name"] == name)


def show_library() -> None:
    with widgets.message_on_failure() as attempt:
        entries = library_entries()
    if attempt.failed:
        return
    st.caption(f"{len(entries)} common KPIs across {len(library.DEPARTMENTS)} departments, "
               "each with its definition. Add one, then make it a KPI above.")
    entry = library_entry(entries)
    st.markdown(f"**{md_text(entry['label'])}** ({md_code(entry['name'])}): "
                f"{md_text(entry['description'])}")
    st.markdown(f"Definition: {md_code(entry['formula'])}" if entry["formula"] else
                f"Recorded: import its history as a metric named {md_code(entry['name'])}.")
    st.caption(f"Unit {md_text(entry['unit'])} · {DIRECTIONS[entry['direction']]} · aggregation "
               f"{md_text(entry['aggregation'])} · usually judged with a target "
               f"{KINDS[entry['target_kind']]}")
    known = data.cached("load_metrics")
    needs = library.library_needs(entry, known)
    dataframe(pd.DataFrame({"Needs metric": needs["metric"], "In your database": [
        "✔ yes" if present else "✖ missing" for present in needs["present"]]}),
        hide_index=True, key="metrics_library_needs")
    blocker = library.addition_blocker(entry, known)
    if not auth.can_edit():
        st.caption("Viewer mode: sign in as an editor to add library metrics.")
        return
    if blocker:
        st.info(md_text(blocker))
        if entry["name"] in known:   # the same name may be calculated another way: show both
            formula = known[entry["name"]].formula
            st.caption(f"Your database's {md_code(entry['name'])}: "
                       + (md_code(formula) if formula else "recorded (imported, not computed)"))
        return
    if not entry["formula"]:
        st.caption(f"Adding defines {md_code(entry['name'])} now (unit, direction, aggregation, "
                   "description); it shows values once its history is imported.")
    if st.button("Add metric definition", key="metrics_library_add", type="primary"):
        save(library.library_metric_frame(entry, departments), f"KPI library: {entry['name']}",
             "metrics", f"'{entry['name']}' is defined" + (
                 "" if entry["formula"] else ": import its history to see values"))


with st.expander("Start from the KPI library", icon=":material/menu_book:"):
    show_library()
