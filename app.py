"""Lodestar dashboard entry point: `streamlit run app.py` (or `make run`).

Everything that reads the database runs inside errors.guarded: a busy file,
a file a viewer cannot read, or any failure becomes a message on the page
(the traceback goes to the server log), and the navigation and sign-in
above it keep working.
"""
from __future__ import annotations

import streamlit as st

from ui import auth, data, errors, state

st.set_page_config(page_title="Lodestar", page_icon="🧭", layout="wide")
errors.send_logs_to_the_server_log()

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/explore:", default=True),
    st.Page("views/scorecard.py", title="Department scorecard", icon=":material/dashboard:", url_path="scorecard"),
    st.Page("views/okrs.py", title="OKRs", icon=":material/flag:", url_path="okrs"),
    st.Page("views/metrics.py", title="Metrics catalogue", icon=":material/menu_book:", url_path="metrics"),
    st.Page("views/explorer.py", title="Metric explorer", icon=":material/query_stats:", url_path="explorer"),
    st.Page("views/launch.py", title="Marketing launch", icon=":material/rocket_launch:", url_path="launch"),
]
if auth.can_edit():
    pages.append(st.Page("views/define.py", title="Import and define", icon=":material/upload_file:", url_path="define"))

page = st.navigation(pages)
auth.sidebar_mode()


def run_page() -> None:
    data.ensure_demo_on_first_start()      # an editor's (or open mode's) first start only
    if notice := st.session_state.get(state.NOTICE):
        st.sidebar.info(notice)
    if not auth.can_edit() and not data.has_data():
        st.info(data.NOTHING_FOR_VIEWERS, icon=":material/visibility:")
        return
    page.run()


errors.guarded(run_page)
