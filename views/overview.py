"""The executive overview: company health at a glance and what needs attention."""
from __future__ import annotations

import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts, progress_charts, report
from ui import data, reviews, state, tiles, vega, widgets
from ui.text import md_text

state.restore({"as_of": state.SHARED["as_of"]})
title, picker = st.columns([4, 1])
with picker:
    as_of = widgets.as_of_picker()
with title:
    st.title("Company overview")

with widgets.message_on_failure(then_stop=True):
    view = data.cached("overview", as_of=as_of)
state.publish({"as_of": widgets.as_of_in_link(as_of)})

through = view["data_through"]
if through is None:
    st.info("No metric history yet: import your files on 'Import and define'.")
    st.stop()
age = (as_of - fmt.period_bounds(through)[0]).days
st.caption(f"As of {fmt.human_date(as_of)} · data through {fmt.human_date(through)}"
           + (" (up to date)" if age <= 1 else f" ({age} days old)"))

if view.get("pinned"):
    st.subheader("Pinned KPIs")
    reviews.pinned_tiles(view["pinned"])

with st.container():
    st.subheader("KPI health by department")
    if view["departments"]:
        # The same counts the PNG report opens with: every department's KPIs by status.
        tiles.metric_tiles([(fmt.status_badge(status),
                             str(sum(int(d.get(status) or 0) for d in view["departments"])), None)
                            for status in charts.KPI_ORDER], key="overview_status_counts")
        st.vega_lite_chart(vega.spec(charts.department_health_chart, view["departments"],
                                     width="container"), width="stretch")
        # The chart gives the counts; what it cannot give is a way into each scorecard.
        st.caption("Open a department's scorecard:")
        with st.container(horizontal=True, gap="small", key="overview_departments"):
            for row in view["departments"]:
                st.page_link("views/scorecard.py", label=md_text(row["department"]),
                             icon=":material/dashboard:", width="content",
                             query_params={"department": row["department"]})
    else:
        st.caption("No KPIs defined yet.")
with st.container():
    st.subheader("Objectives")
    if view["objectives"]:
        reviews.goal_summary_row(view["goals"], key="overview_goal_rates")
        st.vega_lite_chart(vega.spec(progress_charts.objective_progress_bars,
                                     view["objectives"]), width="stretch")
        st.caption("Bar: progress. Black tick: progress expected today.")
    else:
        st.caption("No objectives defined yet.")

st.subheader("Needs attention")
# The engine's one list (overview.alert_list), as `alerts` and the digest print it.
st.caption(f"Status changes since {fmt.human_date(view['since'])} (a week before the as-of day), "
           "KPIs that missed their target periods in a row, key results behind pace and metrics "
           "without new data.")
alerts = view["alerts"]
if not alerts:
    st.success("Nothing needs attention: no status changed, every key result is on pace and "
               "every metric has new data.")
icons = {"high": ":red[:material/error:]", "medium": ":orange[:material/warning:]",
         "low": ":blue[:material/info:]"}


def alert_markdown(alert: dict) -> str:
    """Icon by severity (a KPI doing better is good news: a green check) and the alert's
    sentence, which says since when it holds; data text escaped."""
    icon = ":green[:material/check_circle:]" if alert["kind"] == "kpi_better" \
        else icons[alert["severity"]]
    return f"{icon} {md_text(alert['text'])}"


for alert in alerts[:15]:
    st.markdown(alert_markdown(alert))
if len(alerts) > 15:
    with st.expander(f"{len(alerts) - 15} more"):
        for alert in alerts[15:]:
            st.markdown(alert_markdown(alert))

with st.container(horizontal=True):
    widgets.png_download(lambda: report.render_report("overview", view),
                         f"overview-{as_of.isoformat()}.png", key="overview_png")
    widgets.pdf_download(
        data.board_pack(as_of), f"lodestar-board-pack-{as_of.isoformat()}.pdf",
        key="overview_pdf", label="Download board pack (PDF)",
        help_text="One PDF for a board meeting: a cover with the contents, this overview, "
                  "every department's scorecard, the objectives and key results and each "
                  "launch, as of the date above. Drawing it takes up to a minute.")
