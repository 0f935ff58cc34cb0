"""OKRs: objectives with their key results, progress against the pace expected today."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.output import charts, export_tables, progress_charts, report
from ui import auth, data, goal_forms, reviews, state, vega, widgets
from ui.tables import Download, dataframe
from ui.text import md_text

state.restore({**state.SHARED, "objective": state.OKRS_OBJECTIVE, "kr": state.OKRS_KEY_RESULT})
st.title("Objectives and key results")

left, right = st.columns([3, 1])
with left:
    department = widgets.department_picker(data.cached("departments"), allow_all=True)
with right:
    as_of = widgets.as_of_picker()

with widgets.message_on_failure(then_stop=True):
    okrs = data.cached("okr_report", department=department, as_of=as_of)
objectives = okrs["objectives"]
state.publish({"department": department, "as_of": widgets.as_of_in_link(as_of)})

if auth.can_edit():
    with st.expander("Add or edit objectives and key results", icon=":material/edit:",
                     expanded=not objectives):
        add_objective, add_kr, edit_kr = st.tabs(["Objective", "New key result",
                                                  "Edit a key result"])
        departments = data.cached("departments")
        names = [o["objective"] for o in objectives]
        with add_objective:
            goal_forms.objective_form("okrs_objective_form", objectives, departments)
        with add_kr:
            goal_forms.key_result_form("okrs_kr_form", data.cached("load_metrics"),
                                       names, departments)
        with edit_kr:
            existing = [(o["objective"], k) for o in objectives for k in o["key_results"]]
            if existing:
                which = st.selectbox("Key result", range(len(existing)), key="okrs_kr_edit_pick",
                                     format_func=lambda i: f"{existing[i][1]['title']} "
                                                           f"({existing[i][0]})")
                name, entry = existing[which]
                goal_forms.key_result_form(
                    f"okrs_kr_edit_{which}", data.cached("load_metrics"), names,
                    departments, editing=True, start={
                        **entry, "objective": name,
                        "start_date": fmt.period_bounds(entry["start_date"])[0],
                        "deadline": fmt.period_bounds(entry["deadline"])[0]})
            else:
                st.caption("No key results yet.")

if not objectives:
    st.info("No objectives here yet: add one above, or import a key_results file or sheet "
            "on 'Import and define'.")
    st.stop()

st.caption(f"As of {fmt.human_date(as_of)}. Progress = (current − start) / (target − start), "
           "shown 0–100%; the expected progress is the share of the key result's time "
           "window that has passed.")
reviews.goal_summary_row(okrs["summary"], key="okrs_goal_rates")
if department is None and len(okrs["departments"]) > 1:
    with st.expander("By department"):
        dataframe(pd.DataFrame([{
            "Department": d["department"],
            **{label: fmt.format_progress(d[key]) if d[key] is not None else "—"
               for label, key in reviews.GOAL_RATES},
            "Running": d["running"], "Ended": d["ended"]} for d in okrs["departments"]]),
            hide_index=True, width="stretch",
            download=Download("okrs", "goal rates by department", day=as_of,
                              values=export_tables.goal_rates(okrs["departments"])))
st.vega_lite_chart(vega.spec(progress_charts.objective_progress_bars, objectives),
                   width="stretch")
st.caption("Bars: progress of each objective (mean of its key results) and of each key "
           "result, in the colour of its pace or status. Black tick: where it should be today "
           "if progress were even.")

for objective in objectives:
    with st.container(border=True):
        st.markdown(f"#### {md_text(objective['objective'])}")
        about = [md_text(objective.get("department")) or "No department"]
        about += [f"owner {md_text(objective['owner'])}"] if objective.get("owner") else []
        about += [md_text(objective["cycle"])] if objective.get("cycle") else []
        about += [f"aligned to {md_text(objective['parent'])}"] if objective.get("parent") else []
        st.caption(" · ".join(about) + f" · progress "
                   f"{fmt.format_progress(objective['progress'])} · expected by now "
                   f"{fmt.format_progress(objective.get('expected'))}")
        if objective.get("description"):
            st.markdown(md_text(objective["description"]))
        for flag in objective.get("flags", []):
            st.caption(f":orange[:material/rule: {md_text(flag['text'])}]")
        st.vega_lite_chart(vega.spec(progress_charts.key_result_progress_bars,
                                     objective["key_results"]), width="stretch")
        for kr in objective["key_results"]:
            if heading := fmt.kr_forecast_line(kr):
                st.caption(f":material/trending_flat: **{md_text(kr['title'])}**: "
                           f"{md_text(heading)}")
        rows = pd.DataFrame([{
            "Key result": kr["title"],
            "Status": fmt.status_badge(kr["status"]),
            "Progress": None if kr["progress"] is None else round(kr["progress"] * 100),
            "Expected": round(kr["expected"] * 100),
            "Now": fmt.format_value(kr["current"], kr.get("unit", "number")),
            "Owner": kr.get("owner") or "—",
            "Deadline": fmt.human_date(kr["deadline"]),
            "Confidence": kr.get("confidence") or "—",
            "Measured": (fmt.measured_note(kr) or "—")
            + (" (data end early)" if kr.get("partial") else ""),
        } for kr in objective["key_results"]])
        # The bars above say it at a glance; the table holds every column to sort and download.
        with st.expander("Key results as a table", icon=":material/table:"):
            dataframe(rows, hide_index=True, width="stretch", column_config={
                # a phone shows the title and the status first; the rest scrolls inside
                "Key result": st.column_config.TextColumn("Key result", width="medium"),
                "Progress": st.column_config.NumberColumn("Progress", format="%d%%"),
                "Expected": st.column_config.NumberColumn("Expected", format="%d%%"),
            }, download=Download("okrs", f"{objective['objective']} key results", day=as_of,
                                 values=export_tables.key_results(objective)))

st.subheader("Key result detail")
choices = [(o["objective"], kr["title"]) for o in objectives for kr in o["key_results"]]
labels = [f"{title} ({objective})" for objective, title in choices]
wanted = st.session_state.get(state.OKRS_KEY_RESULT)
index = next((i for i, (_, title) in enumerate(choices) if title == wanted), 0)
picked = st.selectbox("Key result", range(len(choices)), index=index,
                      format_func=lambda i: labels[i], key="okrs_kr_index")
objective_name, kr_title = choices[picked]
st.session_state[state.OKRS_KEY_RESULT] = kr_title
kr = next(k for o in objectives if o["objective"] == objective_name
          for k in o["key_results"] if k["title"] == kr_title)
history = kr.get("history") or None
st.vega_lite_chart(vega.spec(charts.kr_pace_chart, kr, history, as_of=as_of.isoformat(),
                             unit=kr.get("unit", "number"), width=800), width="stretch")
raw = kr.get("progress_raw")
if kr.get("warning"):
    st.warning(md_text(kr["warning"]), icon=":material/calculate:")
measured = fmt.measured_note(kr)
st.caption(f"{fmt.status_badge(kr['status'])}"
           + (f" · {'ended at' if kr.get('ended') else 'now'} "
              f"{fmt.format_value(kr['current'], kr.get('unit', 'number'))} ({measured})"
              if measured else "")
           + (f" · data through {fmt.human_date(kr.get('data_through'))}: pace judged on the "
              "day after" if kr.get("partial") else "")
           + f" · raw progress {fmt.format_progress(raw)}"
           + (" (overshot the target)" if raw is not None and raw > 1 else "")
           + (" (moved away from the target)" if raw is not None and raw < 0 else "")
           + (f" · {md_text(fmt.kr_forecast_line(kr))}" if kr.get("forecast") else "")
           + ". Dashed line: the even pace from start to target; dotted: where it is "
             "heading by the deadline" + (", its whisker the 80% range."
                                          if charts.kr_forecast_range(kr) else "."))
reviews.show_checkins(kr.get("checkins", []), limit=5)
reviews.checkin_form(key="okrs_checkin", key_result=kr_title, objective=objective_name,
                     period=reviews.this_week(as_of))
state.publish({"objective": objective_name, "kr": kr_title})

widgets.png_download(lambda: report.render_report("okrs", okrs),
                     f"okrs-{department or 'all'}-{as_of.isoformat()}.png".replace(" ", "_"),
                     key="okrs_png")
