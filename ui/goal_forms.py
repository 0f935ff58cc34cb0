"""Forms for objectives and key results (editors only): a metric picker, date
pickers bounded to sensible years, choice lists where a choice belongs, and a
refusal shown under the field it is about.

Each save is one undoable batch through the importer's rules (edits.save_*);
the form keeps what was typed when a save is refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import FIRST_DATE, LAST_DATE, Metric
from kpi_logic.domain.periods import period_end, period_label, period_start
from ui import auth, data
from ui.text import md_text

YEARS_AROUND = 5        # date pickers reach this many years either side of today


def _problems_key(key: str) -> str:
    return f"{key}_problems"


def _beside(key: str, field: str) -> None:
    """The refusal of `field` from the last save of form `key`, under the field."""
    text = st.session_state.get(_problems_key(key), {}).get(field)
    if text:
        st.caption(f":red[:material/error: {md_text(text)}]")


def _date_bounds(*shown: date | None) -> tuple[date, date]:
    """YEARS_AROUND years either side of today, widened to the dates the form shows
    (a key result of 1999 can be edited), inside the dates Lodestar accepts."""
    today = data.today()
    years = [d for d in shown if d is not None]
    low = min([today.replace(year=max(today.year - YEARS_AROUND, FIRST_DATE.year)), *years])
    high = max([today.replace(year=min(today.year + YEARS_AROUND, LAST_DATE.year)), *years])
    return max(low, FIRST_DATE), min(high, LAST_DATE)


def _saved(key: str, save, fields: dict, what: str) -> None:
    from kpi_logic.ingest import edits
    try:
        result = data.run(save, fields)
    except InputError as exc:
        st.session_state[_problems_key(key)] = edits.field_problems(exc)
        st.rerun()
    st.session_state.pop(_problems_key(key), None)
    st.toast(f"{what} saved" + (f" (batch {result.batch}: undo it on Import and define)"
                                if result.batch is not None else ": nothing changed"))
    st.rerun()


def objective_form(key: str, objectives: list[dict], departments: list[str]) -> None:
    """Add an objective, or edit one picked from `objectives` (report entries)."""
    if not auth.can_edit():
        return
    from kpi_logic.ingest import edits
    names = [o["objective"] for o in objectives]
    picked = st.selectbox("Objective", ["New objective", *names], key=f"{key}_pick")
    current = next((o for o in objectives if o["objective"] == picked), {})
    today = data.today()
    cycles = [period_label(period_start(today, "quarter") + timedelta(days=92 * k), "quarter")
              for k in range(-1, 4)] + [str(today.year), str(today.year + 1)]
    with st.form(f"{key}_form_{picked}", border=False):
        name = st.text_input("Name", value=current.get("objective", ""), key=f"{key}_name",
                             disabled=bool(current), max_chars=200,
                             help="A qualitative goal: 'Answer customers faster'")
        _beside(key, "objective")
        left, right = st.columns(2)
        owner = left.text_input("Owner", value=current.get("owner") or "", key=f"{key}_owner")
        department = right.selectbox("Department", ["", *departments], key=f"{key}_department",
                                     index=_index(["", *departments], current.get("department")))
        cycle = left.selectbox("Cycle", ["", *cycles], key=f"{key}_cycle",
                               index=_index(["", *cycles], current.get("cycle")))
        _beside(key, "cycle")
        others = [n for n in names if n != picked]
        parent = right.selectbox("Aligned to (parent objective)", ["", *others],
                                 key=f"{key}_parent", index=_index(["", *others],
                                                                  current.get("parent")))
        _beside(key, "parent")
        description = st.text_area("Description", value=current.get("description") or "",
                                   key=f"{key}_description")
        if st.form_submit_button("Save objective", type="primary"):
            _saved(key, edits.save_objective, {
                "objective": current.get("objective") or name.strip(), "owner": owner.strip(),
                "department": department, "cycle": cycle, "description": description.strip(),
                "parent": parent}, "Objective")
    _beside(key, "")


def key_result_form(key: str, metrics: Mapping[str, Metric], objectives: list[str],
                    departments: list[str], start: dict | None = None,
                    editing: bool = False) -> None:
    """Add a key result (prefilled from `start`, e.g. goals.key_result_proposal), or edit
    one (`editing`: its objective and title stay, they are its key). Metrics are
    listed by display name, as the pages call them."""
    names = sorted(metrics, key=lambda n: (fmt.display_name(metrics[n]).casefold(), n))
    if not auth.can_edit():
        return
    from kpi_logic.ingest import edits
    start = start or {}
    today = data.today()
    first = start.get("start_date") or period_start(today, "quarter")
    due = start.get("deadline") or period_end(today, "quarter")
    low, high = _date_bounds(first, due)
    with st.form(f"{key}_form", border=False):
        objective = st.selectbox("Objective", objectives, key=f"{key}_objective",
                                 index=_index(objectives, start.get("objective")),
                                 accept_new_options=True, disabled=editing,
                                 help="Pick one, or type a new objective's name")
        _beside(key, "objective")
        title = st.text_input("Title (empty: written for you, e.g. 'Increase NPS from 20 to 40')",
                              value=start.get("title") or "", key=f"{key}_title",
                              disabled=editing, max_chars=200)
        metric = st.selectbox("Metric", names, key=f"{key}_metric",
                              index=_index(names, start.get("metric")),
                              format_func=lambda n: fmt.display_name(metrics[n]))
        _beside(key, "metric")
        left, right = st.columns(2)
        begin = left.number_input("Start value", value=_number(start.get("start")),
                                  key=f"{key}_start", format="%.4g")
        _beside(key, "start")
        target = right.number_input("Target", value=_number(start.get("target")),
                                    key=f"{key}_target", format="%.4g")
        _beside(key, "target")
        start_date = left.date_input("Start date", value=first, min_value=low, max_value=high,
                                     key=f"{key}_start_date")
        deadline = right.date_input("Deadline", value=due, min_value=low, max_value=high,
                                    key=f"{key}_deadline")
        _beside(key, "deadline")
        owner = left.text_input("Owner", value=start.get("owner") or "", key=f"{key}_owner")
        department = right.selectbox("Department", ["", *departments],
                                     index=_index(["", *departments], start.get("department")),
                                     key=f"{key}_department")
        if st.form_submit_button("Save key result", type="primary"):
            _saved(key, edits.save_key_result, {
                "objective": (objective or "").strip(), "title": title.strip(), "metric": metric,
                "start": begin, "target": target, "start_date": start_date,
                "deadline": deadline, "owner": owner.strip(), "department": department,
                "weight": start.get("weight") or 1.0}, "Key result")
    _beside(key, "")


def _index(options: list, value) -> int:
    return options.index(value) if value in options else 0


def _number(value) -> float:
    return 0.0 if value is None or fmt.is_missing(value) else float(value)
