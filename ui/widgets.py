"""Controls shared by several pages; each keeps its value in the URL (ui.state)."""
from __future__ import annotations

from datetime import date

import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import FIRST_DATE, LAST_DATE
from ui import data, errors, state

LATEST = ""   # the period option meaning "latest complete period"


def department_picker(departments: list[str], *, label: str = "Department",
                      allow_all: bool = False) -> str | None:
    """A department selectbox bound to ?department=; None means all (when allowed)."""
    key = state.SHARED["department"]
    options = ([""] if allow_all else []) + list(departments)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None
    choice = st.selectbox(label, options, key=key,
                          format_func=lambda d: "All departments" if d == "" else d)
    return choice or None


def recent_periods(as_of: date, months: int = 24) -> list[str]:
    """Period labels to choose from: recent months, quarters and years, newest first."""
    labels, year, month = [], as_of.year, as_of.month
    for _ in range(months):
        labels.append(f"{year}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    quarters = []
    y, q = as_of.year, (as_of.month - 1) // 3 + 1
    for _ in range(8):
        quarters.append(f"{y}-Q{q}")
        q -= 1
        if q == 0:
            y, q = y - 1, 4
    years = [str(as_of.year - i) for i in range(3)]
    return labels + quarters + years


def period_picker(as_of: date) -> str | None:
    """A period selectbox bound to ?period=; None means the latest complete period."""
    key = state.SHARED["period"]
    options = [LATEST] + recent_periods(as_of)
    if st.session_state.get(key) not in options:
        st.session_state[key] = LATEST
    choice = st.selectbox("Period", options, key=key,
                          format_func=lambda p: "Latest complete period" if p == LATEST
                          else fmt.human_period(p))
    return choice or None


def as_of_picker() -> date:
    """The day the dashboard looks from, bound to ?as_of= (default today).

    Until someone picks a day (here or in the link) it follows the calendar, and
    the link says nothing: a shared link means "latest" unless a date was chosen.
    Picking today again goes back to following the calendar."""
    key = state.SHARED["as_of"]
    if state.url_news("as_of"):
        st.session_state[state.AS_OF_PICKED] = state.parse_date(st.query_params["as_of"]) is not None
    picked = st.session_state.get(state.AS_OF_PICKED, False)
    current = state.parse_date(st.session_state.get(key)) if picked else None
    st.session_state[key] = current or data.today()
    return st.date_input("As of", key=key, format="YYYY-MM-DD", min_value=FIRST_DATE,
                         max_value=LAST_DATE, on_change=_as_of_changed,
                         help="Numbers are computed as they stood on this day.")


def _as_of_changed() -> None:
    chosen = state.parse_date(st.session_state.get(state.SHARED["as_of"]))
    st.session_state[state.AS_OF_PICKED] = chosen is not None and chosen != data.today()


def as_of_in_link(as_of: date) -> date | None:
    """The as-of date for the page's link: only a day someone picked."""
    return as_of if st.session_state.get(state.AS_OF_PICKED) else None


def png_download(render, file_name: str, key: str, label: str = "Download PNG report") -> None:
    """One button that draws the PNG report when clicked (deferred: not on every rerun)."""
    st.download_button(label, render, file_name=file_name, mime="image/png", key=key,
                       on_click="ignore", icon=":material/image:")


def pdf_download(make, file_name: str, key: str, label: str, help_text: str) -> None:
    """One button that makes the PDF when clicked (deferred: not on every rerun)."""
    st.download_button(label, make, file_name=file_name, mime="application/pdf", key=key,
                       on_click="ignore", icon=":material/picture_as_pdf:", help=help_text)


def show_error(exc: Exception) -> None:
    """A refusal or failure as a readable message, never a traceback: a busy
    database retries by itself, an unexpected error is logged (ui.errors)."""
    errors.show(exc)


# Every page catches its failures with this (`with widgets.message_on_failure():`),
# so a failure reads the same everywhere and only ui.errors holds `except Exception`.
message_on_failure = errors.message_on_failure
