"""The review loop on the pages: check-ins shown under a KPI or key result, the
form that records one, and pinning a KPI to the overview.

Forms write through data.run (an editor's session only; a viewer sees the
check-ins but no form). A refusal is shown beside the form, in the words of
the importer's rule (kpi_logic/ingest/goal_rows.py).
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.limits import MAX_NOTE_CHARS
from kpi_logic.domain.periods import period_label
from ui import auth, data, tiles
from ui.text import md_text

CONFIDENCES = ("", "low", "medium", "high", *(str(n) for n in range(1, 11)))
AUTHOR = "review_author"            # session state: the name an editor checks in under
# The goal-management KPIs as the pages label them (goals.goal_summary's keys).
GOAL_RATES = (("Completion rate", "completion_rate"), ("Met by deadline", "met_by_deadline_rate"),
              ("On pace", "timeline_adherence"), ("Checked in this week", "checkin_rate"))


def show_checkins(checkins: list[dict], limit: int = 1, subject: str | None = None) -> None:
    """The latest `limit` check-ins as captions: period, note, confidence, who, when."""
    for checkin in checkins[:limit]:
        st.caption(":material/chat: " + md_text(fmt.checkin_line(checkin, subject)))


def checkin_form(*, key: str, period: str, kpi: str | None = None,
                 key_result: str | None = None, objective: str | None = None,
                 icon: bool = True) -> None:
    """A popover with a check-in form for one KPI or key result (editors only)."""
    if not auth.can_edit():
        return
    with st.popover("Check in", icon=":material/edit_note:" if icon else None), \
            st.form(key=f"{key}_form", clear_on_submit=True, border=False):
        chosen = st.text_input("Period", value=period, key=f"{key}_period",
                               help="A KPI's period (2026-11); a key result's week (2026-W49), "
                                    "month or quarter. A date stands for its period.")
        note = st.text_area("What happened, what comes next", key=f"{key}_note",
                            max_chars=MAX_NOTE_CHARS)
        confidence = st.selectbox("Confidence it will be achieved", CONFIDENCES,
                                  key=f"{key}_confidence") if key_result else None
        by = st.text_input("Your name", value=st.session_state.get(AUTHOR, ""),
                           key=f"{key}_by")
        if st.form_submit_button("Save check-in", type="primary"):
            _save(period=chosen, note=note, kpi=kpi, key_result=key_result,
                  objective=objective, confidence=confidence or None, by=by.strip() or None)


def _save(**checkin) -> None:
    from kpi_logic.ingest import edits
    if checkin["by"]:
        st.session_state[AUTHOR] = checkin["by"]
    try:
        result = data.run(edits.record_checkin, **checkin)
    except InputError as exc:
        st.error(md_text(exc.message), icon=":material/error:")
        return
    st.toast("Check-in saved" + (f" (batch {result.batch}: undo it on Import and define)"
                                 if result.batch is not None else ": nothing changed"))
    st.rerun()


def pin_button(kpi: dict, key: str) -> None:
    """Pin or unpin a KPI (editors only): the overview and its PNG open with pinned KPIs."""
    if not auth.can_edit():
        return
    pinned = kpi.get("pinned")
    if st.button(":material/keep_off:" if pinned else ":material/keep:", key=key,
                 help=("Unpin: take it off the overview's top row" if pinned else
                       "Pin to the overview: pinned KPIs open it and its PNG report")):
        from kpi_logic.ingest import edits
        data.run(edits.pin_kpi, kpi["title"], not pinned)
        st.rerun()


def pinned_tiles(cards: list[dict], per_row: int = 3) -> None:
    """The pinned KPIs as tiles: status and title, value, change on the previous
    period (coloured by the metric's direction), sparkline in the status colour."""
    for start in range(0, len(cards), per_row):
        for column, kpi in zip(st.columns(per_row), cards[start:start + per_row], strict=False):
            with column:
                tiles.kpi_metric(kpi, border=True, help_text=(
                    f"{md_text(kpi['department'])} · {fmt.status_word(kpi['status'])} · target "
                    f"{fmt.target_rule(kpi['target'], kpi['target_kind'], kpi['unit'], kpi['value'])}"
                    f" · {fmt.format_exact(kpi['value'], kpi['unit'])} exactly · "
                    f"{fmt.human_period(kpi['period'])}"))


def goal_summary_row(summary: dict, *, key: str) -> None:
    """The goal-management KPIs as four small tiles (two by two on a phone):
    completion, met by deadline, on pace, checked in this week ("—" where nothing
    is counted yet)."""
    meanings = ("Achieved of the key results finished (achieved early, or past the deadline)",
                "Of the key results past their deadline, the share achieved by it",
                "Of the running key results with data, the share on track or achieved",
                "Of the running key results, the share with a check-in in the last 7 days")
    tiles.metric_tiles([
        (label, "—" if summary.get(name) is None else fmt.format_progress(summary[name]), explained)
        for (label, name), explained in zip(GOAL_RATES, meanings, strict=True)], key=key)
    st.caption(f"{summary.get('running', 0)} key results running, {summary.get('ended', 0)} "
               "ended")


def this_week(as_of: date) -> str:
    """The week a key result's check-in is for by default."""
    return period_label(min(as_of, data.today()), "week")
