"""Lodestar dashboard entry point: `streamlit run app.py` (or `make run`)."""
from __future__ import annotations

import streamlit as st

from ui import auth, data, state

st.set_page_config(page_title="Lodestar", page_icon="🧭", layout="wide")

data.ensure_demo_on_first_start()

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/explore:", default=True),
    st.Page("views/scorecard.py", title="Department scorecard", icon=":material/dashboard:", url_path="scorecard"),
    st.Page("views/okrs.py", title="OKRs", icon=":material/flag:", url_path="okrs"),
    st.Page("views/metrics.py", title="Metrics catalogue", icon=":material/menu_book:", url_path="metrics"),
    st.Page("views/launch.py", title="Marketing launch", icon=":material/rocket_launch:", url_path="launch"),
]
if auth.can_edit():
    pages.append(st.Page("views/define.py", title="Import and define", icon=":material/upload_file:", url_path="define"))

page = st.navigation(pages)
auth.sidebar_mode()
if notice := st.session_state.get(state.NOTICE):
    st.sidebar.info(notice)
page.run()
