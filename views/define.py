"""Import and define (analysts): upload files with a preview first, the import
history with undo, definitions edited in tables, the template workbook, and
starting from an empty database instead of the demo company."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain.safe_text import spreadsheet_safe_frame, unquoted_frame
from kpi_logic.ingest import edits, importing, template, undo
from kpi_logic.ingest.edits import KINDS
from kpi_logic.output import export_tables
from ui import auth, data, definition_grid, state, widgets
from ui.tables import Download, dataframe
from ui.text import md_text

DONE = "define_done"              # the last write's message, shown after the rerun it triggers
CHECKED = "define_checked"        # the files and options the last successful check saw
UNDO_NEWEST = "define_undo_newest"  # the newest batch in effect when the undo choice was made
DATE_ORDERS = {"auto": "Detect from the dates", "dayfirst": "Day first (31/01/2025)",
               "monthfirst": "Month first (01/31/2025)"}
ORDER_NAMES = {"ymd": "year-month-day", "dmy": "day-month-year", "mdy": "month-day-year"}

st.title("Import and define")
if not auth.can_edit():
    # Also reached by URL: nothing below (no upload, no write) runs for a viewer.
    st.info("Viewer mode: this page imports and changes data. Sign in as an editor in the "
            "sidebar to use it.", icon=":material/visibility:")
    st.stop()
if message := st.session_state.pop(DONE, None):
    st.success(md_text(message), icon=":material/check_circle:")


def results_table(results: list) -> pd.DataFrame:
    """One row per file or sheet of a run, as the preview and the import report show it."""
    def detail(r, key):
        return r.details.get(key)
    # What the analyst checks first (the counts) comes first; how the file was
    # read (format, header row, date order) after, as the table is wider than
    # the page. The notes are sentences: they are listed under the table.
    return pd.DataFrame([{
        "File": r.file, "Sheet": r.sheet or "", "Kind": r.kind.replace("_", " "),
        "Rows": r.rows, "New": r.inserted, "Changed": r.updated, "Unchanged": r.unchanged,
        "Metrics found": ", ".join(detail(r, "metrics") or []),
        "From": detail(r, "first_date"), "To": detail(r, "last_date"),
        "Breakdown": " › ".join(c for c in (detail(r, "dimension"), detail(r, "campaign")) if c),
        "Format": detail(r, "format") if r.kind == "history" else "definitions",
        "Header row": detail(r, "header_row"),
        "Date order": ORDER_NAMES.get(detail(r, "date_order"), "")} for r in results])


def inferred_table(results: list) -> pd.DataFrame:
    """Metrics a run defines from their history: unit, aggregation and why."""
    return pd.DataFrame([{
        "File": r.file, "Sheet": r.sheet or "", "Metric": c["metric"], "Unit": c["unit"],
        "Aggregation": c["aggregation"] + ("" if c["final"] else " (for now)"),
        "Judged as": c["shape"], "Why": c["reason"]}
        for r in results for c in r.details.get("inferred") or []])


def changes_table(results: list) -> pd.DataFrame:
    """Each field a run changes in a stored definition, with its old and new value."""
    return pd.DataFrame([{
        "File": r.file, "Sheet": r.sheet or "", "Definition": c["definition"],
        "Field": c["field"], "Before": c["before"], "After": c["after"]}
        for r in results for c in r.details.get("changes") or []])


def where(result) -> str:
    """A result's file (and sheet) as the notes and the first rows name it."""
    return result.file + (f" (sheet {result.sheet})" if result.sheet else "")


def first_rows_table(result) -> pd.DataFrame:
    """The first values of a history table as they will be stored (the engine's
    details["first_rows"]), the breakdown columns headed as the file heads them."""
    rows = result.details.get("first_rows") or []
    breakdown = {"dimension": result.details.get("dimension"),
                 "campaign": result.details.get("campaign")}
    return pd.DataFrame([{
        "Row": r["line"], "Date": r["date"], "Metric": r["metric"],
        **{name.replace("_", " ").capitalize(): r[part] or ""
           for part, name in breakdown.items() if name},
        "Value": r["value"]} for r in rows])


def show_first_rows(results: list, key: str) -> None:
    """Each history table's first values, parsed: dates as dates, numbers as numbers."""
    for index, result in enumerate(r for r in results if r.details.get("first_rows")):
        st.markdown(f"**First values of {md_text(where(result))}** as they will be stored: "
                    "dates read as dates, numbers as numbers (12.5% as 0.125), the row as "
                    "in the file.")
        dataframe(first_rows_table(result), hide_index=True, key=f"{key}_first_rows_{index}",
                  column_config={"Row": st.column_config.NumberColumn(width="small"),
                                 "Date": st.column_config.DateColumn(format="D MMM YYYY"),
                                 "Value": st.column_config.NumberColumn(format="localized")})


def show_notes(results: list) -> None:
    """What the importer noticed, one line each under the results table."""
    notes = [f"- **{md_text(where(r))}**: {md_text(note)}" for r in results for note in r.notes]
    if notes:
        st.markdown("\n".join(notes))


def show_details(results: list, key: str) -> None:
    """Below the results table: the notes, the first rows of each history table,
    the metrics defined from history and the changed fields."""
    show_notes(results)
    show_first_rows(results, key)
    inferred, changes = inferred_table(results), changes_table(results)
    if len(inferred):
        st.markdown("**Metrics defined from their history** (nobody defined them). To change "
                    "one, import a metrics table with the columns `metric,aggregation` or edit "
                    "it under *Definitions*; a later history import keeps what was chosen.")
        dataframe(inferred, hide_index=True, key=f"{key}_inferred")
    if len(changes):
        st.markdown("**Changed fields** (a file changes only the columns it has; an empty "
                    "cell keeps the stored value, `-` clears it):")
        dataframe(changes, hide_index=True, key=f"{key}_changes")


def run_import(files, options: dict, dry_run: bool):
    """The engine's results, or None after showing its refusal (nothing changed)."""
    with widgets.message_on_failure():  # InputError, a busy database or a failure
        return data.run(importing.import_files, [(f.getvalue(), f.name) for f in files],
                        dry_run=dry_run, **options)
    st.caption("Nothing was imported. Correct the file and check it again.")
    return None


def import_section() -> None:
    files = st.file_uploader("Metric history and definitions (CSV or Excel)",
                             type=["csv", "tsv", "txt", "xlsx"], accept_multiple_files=True,
                             key="define_files",
                             help="Files of one upload are imported together: a KPI file may "
                                  "name a metric that another file defines.")
    left, middle, right = st.columns(3)
    department = left.text_input("Department for wide files", key="define_department",
                                 help="Given to new metrics of a file with one column per "
                                      "metric and no department column.")
    order = middle.selectbox("Date order", list(DATE_ORDERS), format_func=DATE_ORDERS.get,
                             key="define_date_order",
                             help="Only needed when dates like 03/04/2025 are ambiguous.")
    sheet = right.text_input("Only this sheet (workbooks)", key="define_sheet",
                             placeholder="all sheets")
    options = {"department": department.strip() or None, "sheet": sheet.strip() or None,
               "date_order": None if order == "auto" else order}
    seen = (tuple((f.file_id, f.name, f.size) for f in files or ()), tuple(options.items()))
    check, commit = st.columns([1, 4])
    if check.button("Check files", key="define_check", disabled=not files):
        preview = run_import(files, options, dry_run=True)
        st.session_state[CHECKED] = seen if preview is not None else None
        if preview is not None:
            st.markdown("**What would be imported** (nothing is saved yet):")
            dataframe(results_table(preview), hide_index=True, key="define_preview")
            show_details(preview, "define_preview")
    ready = bool(files) and st.session_state.get(CHECKED) == seen
    if commit.button("Import", type="primary", key="define_import", disabled=not ready,
                     help=None if ready else "Check the files first."):
        with st.status(f"Importing {len(files)} file(s)...", expanded=True) as status:
            results = run_import(files, options, dry_run=False)
            status.update(label="Imported" if results is not None else "Refused: nothing "
                          "was imported", state="complete" if results is not None else "error")
        if results is not None:
            st.session_state[CHECKED] = None
            changed = sum(r.inserted + r.updated for r in results)
            st.success(f"Imported {len(results)} table(s): {changed} value(s) or definition(s) "
                       "new or changed. Undo any of them under 'Import history'.", icon=":material/check_circle:")
            dataframe(results_table(results), hide_index=True, key="define_imported")
            show_details(results, "define_imported")


def batches_table(batches: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Batch": batches["id"], "Run": batches["run_id"], "File": batches["file"],
        "Sheet": batches["sheet"].fillna(""), "Kind": batches["kind"].str.replace("_", " "),
        "Imported at": batches["imported_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "Rows": batches["rows"], "New": batches["inserted"], "Changed": batches["updated"],
        "Unchanged": batches["unchanged"],
        "Status": ["in effect" if pd.isna(u) else f"undone {u:%Y-%m-%d %H:%M}"
                   for u in batches["undone_at"]]}).iloc[::-1]


def history_section() -> None:
    batches = data.cached("import_batches")
    if batches.empty:
        st.info("Nothing imported yet.")
        return
    dataframe(batches_table(batches), hide_index=True, key="define_batches",
              download=Download("define", "import history", key="define_batches",
                                values=export_tables.batches(batches)))
    live = batches[batches["undone_at"].isna()].iloc[::-1]
    if live.empty:
        return
    # A CSV batch has no sheet: NaN here, which is truthy.
    labels = {int(b.id): f"Batch {b.id}: {b.file}"
              + (f" / {b.sheet}" if isinstance(b.sheet, str) and b.sheet else "")
              + f" ({b.kind.replace('_', ' ')}, {b.inserted:,} new, {b.updated:,} changed)"
              for b in live.itertuples()}
    # A new batch (a save on another tab) becomes the choice: the one chosen
    # before would otherwise stay chosen, and be undone instead.
    if st.session_state.get(UNDO_NEWEST) != next(iter(labels)):
        st.session_state[UNDO_NEWEST] = st.session_state["define_undo_batch"] = next(iter(labels))
    chosen = st.selectbox("Batch to undo", list(labels), format_func=labels.get,
                          key="define_undo_batch")
    sure = st.checkbox("Yes, remove what this batch added and put back what it replaced",
                       key="define_undo_confirm")
    if st.button("Undo batch", key="define_undo", disabled=not sure):
        with widgets.message_on_failure() as attempt:  # e.g. a later batch changed the same values
            undone = data.run(undo.undo_batch, chosen)
        if attempt.failed:
            return
        st.session_state[DONE] = (
            f"Undid batch {undone['batch']} ({undone['file']}, {undone['kind']}): removed "
            f"{undone['deleted']} row(s) it had added or changed and put back "
            f"{undone['restored']} earlier row(s).")
        del st.session_state["define_undo_confirm"]
        st.rerun()


def existing_names() -> dict[str, list[str]]:
    """What the grids' choice lists offer beyond the vocabularies: names that exist."""
    return {"departments": data.cached("departments"), "metrics": list(data.cached("load_metrics")),
            "kpis": [k.title for k in data.cached("load_kpis")],
            "objectives": [o.name for o in data.cached("load_objectives")]}


def definitions_section() -> None:
    kind = st.segmented_control("Edit", list(KINDS), format_func=KINDS.get, default="kpis",
                                key="define_kind") or "kpis"
    original = template.editable_frame(kind, data.cached("current_definitions", kind))
    st.caption("Add rows at the bottom; percentages as fractions (0.03 = 3%). Changing a name "
               "or title adds a new definition. Messages count rows as in a file: the header is "
               "row 1, the first row of the table row 2. Text a spreadsheet would run as a "
               "formula (starting with = + - @) shows a leading ' as in a spreadsheet; the ' is "
               "not saved.")
    editor = f"define_editor_{kind}"
    # Quoted so the grid's own CSV download is safe to open; unquoted again
    # before anything is compared or saved, so a round trip changes nothing.
    edited = unquoted_frame(st.data_editor(
        spreadsheet_safe_frame(original), num_rows="dynamic", hide_index=True, key=editor,
        column_config=definition_grid.column_config(kind, original, existing_names()),
        width="stretch"))
    if not st.button("Save", type="primary", key=f"define_save_{kind}"):
        return
    gone = template.removed_keys(kind, original, edited)
    with widgets.message_on_failure() as attempt:  # refused like a file: nothing saved
        saved = data.run(edits.save_definitions, kind, edited, gone)
    if attempt.failed:
        return
    if not saved:
        st.info("Nothing changed: these definitions are already saved.")
        return
    st.session_state[DONE] = (f"Saved {KINDS[kind]}: " + "; ".join(saved)
                              + ". Undo under 'Import history'.")
    del st.session_state[editor]
    st.rerun()


@st.cache_data(show_spinner=False)
def template_bytes() -> bytes:
    return template.template_workbook()


def start_section() -> None:
    st.download_button("Download the template workbook", template_bytes(),
                       file_name=template.FILE_NAME, key="define_template", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       icon=":material/description:")
    st.caption("One sheet per kind of input (history, metrics, kpis, targets, key_results, "
               "launches) with a worked example that imports as is; hover a column name for "
               "what to write. Delete the sheets you do not need.")
    demo = data.cached("setting", "demo_loaded")
    if not demo or data.cached("setting", "start_empty"):
        return
    st.subheader("Start from an empty database")
    st.markdown("The demo company is loaded. This **undoes every import in effect** (the "
                "demo's and any of yours since), so every page is empty until you import your "
                "own files, and the demo is **not loaded again**. The undone imports stay "
                "listed under 'Import history'.")
    sure = st.checkbox("Yes, empty the database", key="define_empty_confirm")
    if st.button("Start from an empty database", key="define_empty", disabled=not sure):
        with widgets.message_on_failure() as attempt:
            count = data.run(edits.clear_everything)
        if attempt.failed:
            return
        st.session_state[state.NOTICE] = None
        st.session_state[DONE] = f"The database is empty: {count} import(s) undone."
        st.rerun()


# Keyed and rerun on a switch, so the tab shown stays shown after a save,
# an import or an undo reruns the page.
importing_tab, history_tab, definitions_tab, start_tab = st.tabs(
    ["Import files", "Import history", "Definitions", "Template and fresh start"],
    key=state.DEFINE_TAB, on_change="rerun")
with importing_tab:
    import_section()
with history_tab:
    history_section()
with definitions_tab:
    definitions_section()
with start_tab:
    start_section()
