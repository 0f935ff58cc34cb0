"""Department scorecard: one card per KPI, its trend against target, and the
department's plain metrics."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.metrics.goals import key_result_proposal
from kpi_logic.output import charts, export_tables
from ui import auth, data, goal_forms, reviews, state, tiles, vega, widgets
from ui.tables import Download, dataframe
from ui.text import TONE_MARKDOWN_COLOURS, md_code, md_status, md_text

COMPARED = {"previous": "The previous period", "last_year": "The same period last year"}

state.restore({**state.SHARED, "kpi": state.SCORECARD_METRIC})
st.title("Department scorecard")

departments = data.cached("departments")
if not departments:
    st.info("No departments yet: import metric history and definitions on 'Import and define'.")
    st.stop()

left, middle, right = st.columns([2, 2, 1])
with left:
    department = widgets.department_picker(departments)
with right:
    as_of = widgets.as_of_picker()
with middle:
    period = widgets.period_picker(as_of)

with widgets.message_on_failure(then_stop=True):  # a refused period or a failure: say it, keep the page
    card = data.cached("scorecard", department, period=period, as_of=as_of)

kpis = card["kpis"]
state.publish({"department": department, "period": period,
               "as_of": widgets.as_of_in_link(as_of)})

st.caption(
    f"{md_text(card['department'])} · {fmt.human_period(card['period'])}"
    + (" (partial periods are compared like-for-like with the same days before)"
       if card["partial"] else "")
    + f" · as of {fmt.human_date(as_of)} · data through {fmt.human_date(card.get('data_through'))}"
    + " · a value equal to its target meets it")

stale = [k for k in kpis if k.get("stale")]
if stale:
    st.info(f"{len(stale)} of {len(kpis)} KPIs have no data for "
            f"{fmt.human_period(stale[0]['period'])}: their data stop earlier (see each card). "
            "They count neither as healthy nor as unhealthy. Pick an earlier period or as-of "
            "date, or import newer data.", icon=":material/hourglass_empty:")

if card.get("too_many_kpis"):
    st.warning(f"{md_text(card['department'])} watches {card['kpi_count']} KPIs. More than 7 "
               "stop being key: consider making some of them plain metrics.",
               icon=":material/balance:")
for kpi in kpis:
    if kpi["review"]:
        st.warning(f"**Review this target:** {md_text(kpi['title'])} has missed it "
                   f"{kpi['missed_in_a_row']} periods in a row: either the target is badly set "
                   "or the KPI is truly failing.", icon=":material/search:")

if not kpis:
    st.info(f"{md_text(card['department'])} has no KPIs yet. Pick a metric on the Metrics "
            "catalogue page and make it a KPI.")


def kpi_card(kpi: dict, index: int) -> None:
    unit = kpi["unit"]
    previous, last_year = kpi["vs_previous"], kpi["vs_last_year"]
    with st.container(border=True):
        tiles.kpi_metric(kpi, help_text=f"{fmt.format_exact(kpi['value'], unit)} exactly · "
                                        f"period judged: {fmt.human_period(kpi['period'])}")
        # The arrow gives the direction and the colour whether it is good news
        # (a falling CAC is green), as on the delta above.
        tone = fmt.change_tone(last_year["abs"], kpi["direction"])
        change = f"{fmt.change_arrow(last_year['abs'])} {fmt.format_change(last_year, unit)}".strip()
        colour = TONE_MARKDOWN_COLOURS[tone]
        coverage = fmt.coverage_note(kpi) or ""
        heading = fmt.heading_note(kpi)     # where a running period lands, and its chance
        badge = fmt.status_badge(kpi["status"])
        if kpi.get("stale"):            # "○ No data since 6 Dec 2026" says it once
            badge, coverage = f"{fmt.status_icon('no_data')} {coverage[:1].upper()}{coverage[1:]}", ""
        st.markdown(
            md_status(kpi["status"], f"**{badge}**")
            + (f" *({coverage})*" if coverage else "")
            + f" · target {fmt.target_rule(kpi['target'], kpi['target_kind'], unit, kpi['value'])}  \n"
            + (f":blue[:material/trending_flat:] {md_text(heading[:1].upper() + heading[1:])}  \n"
               if heading else "")
            + f"{fmt.comparison_label(last_year['label']) or 'vs last year'}: "
            + f":{colour}[{change}]"
            + ("  \n:material/keep: Pinned to the overview" if kpi.get("pinned") else ""))
        reviews.show_checkins(kpi.get("checkins", []))
        if kpi.get("checkin_requested"):
            st.caption(f":orange[:material/chat_error: Missed {kpi['missed_in_a_row']} periods in "
                       "a row: check in on what is being done.]")
        # Up to four buttons share a card's width, in a row that wraps on a narrow
        # card: the popovers go without icons for an editor, to fit.
        editing = auth.can_edit()
        with st.container(horizontal=True, gap="small", key=f"scorecard_buttons_{index}"):
            definition_popover(kpi, previous, last_year, icon=not editing)
            why_popover(kpi, index, icon=not editing)
            if editing:
                reviews.checkin_form(key=f"scorecard_checkin_{index}", kpi=kpi["title"],
                                     period=kpi["period"], icon=False)
                reviews.pin_button(kpi, key=f"scorecard_pin_{index}")
            if editing and kpi["status"] in ("unhealthy", "at_risk") \
                    and kpi.get("value") is not None:
                with st.popover("Make a key result from this KPI", icon=":material/flag:"):
                    goal_forms.key_result_form(
                        f"scorecard_kr_{index}", data.cached("load_metrics"),
                        objective_names(), data.cached("departments"),
                        start=key_result_proposal(kpi, card["department"], as_of))


def why_popover(kpi: dict, index: int, icon: bool = True) -> None:
    """"Why?" on a card: the KPI's change on the previous period and its largest
    drivers and dimension values. Its content runs only while it is open, so a
    closed popover costs the page nothing."""
    with st.popover("Why?", icon=":material/troubleshoot:" if icon else None,
                    key=f"scorecard_why_{index}", on_change="rerun",
                    help="Why it moved since the previous period") as why:
        if why.open:
            why_summary(kpi)


def why_summary(kpi: dict, most: int = 3) -> None:
    with widgets.message_on_failure() as attempt:
        explained = data.cached("explanation", kpi["title"], period=kpi["period"],
                                vs="previous", as_of=as_of)
    if attempt.failed:
        return
    st.markdown(md_text(fmt.explanation_line(explained)))
    unit = explained["unit"]

    def delta(value: float | None) -> str:
        return md_text(fmt.format_delta(value, unit))   # "$" would open LaTeX in Markdown

    drivers = explained["drivers"] if len(explained["drivers"]) > 1 else []
    lines = [f"- {md_text(d['label'])}: "
             + md_text(f"{fmt.format_value(d['before'], d['unit'])} → "
                       f"{fmt.format_value(d['after'], d['unit'])}")
             + f", **{delta(d['contribution'])}**" for d in drivers[:most]]
    if lines:
        st.markdown("**By component**  \n" + "\n".join(lines))
    for _, word, shares in fmt.explanation_splits(explained):
        st.markdown(f"**By {md_text(word)}**  \n" + "\n".join(
            f"- {md_text(s['label'])}: **{delta(s['contribution'])}**"
            + ("" if s["mix"] is None else f" (mix {delta(s['mix'])}, rate {delta(s['rate'])})")
            for s in shares[:most]))
    if explained["change"]["abs"] is None:     # nothing to compare: no parts to add up
        return
    st.caption(("The days with data so far, against as many days of "
                f"{fmt.human_period(explained['compared_with'])}. " if explained["partial"] else "")
               + "The parts add up to the change. Every part, and the comparison with last "
               "year: 'Why it moved' under the trend chart.")


def why_it_moved(kpi: dict) -> None:
    """The chosen KPI's change split into its formula's components, its dimension
    values and its campaigns (metrics/explain.py), each adding up to the change."""
    st.subheader("Why it moved")
    vs = st.segmented_control("Compared with", list(COMPARED), format_func=COMPARED.get,
                              default="previous", key="scorecard_why_vs") or "previous"
    with widgets.message_on_failure() as attempt:
        explained = data.cached("explanation", kpi["title"], period=kpi["period"], vs=vs,
                                as_of=as_of)
    if attempt.failed:
        return
    st.markdown(md_text(fmt.explanation_line(explained)))
    unit = explained["unit"]
    if len(explained["drivers"]) > 1:
        dataframe(pd.DataFrame([{
            "Component": d["label"], "Before": fmt.format_value(d["before"], d["unit"]),
            "After": fmt.format_value(d["after"], d["unit"]),
            "Contribution": fmt.format_delta(d["contribution"], unit)}
            for d in explained["drivers"]]), hide_index=True, width="stretch",
            download=Download("scorecard", f"{kpi['title']} drivers", key="scorecard_drivers",
                              day=as_of))
    for key, word, shares in fmt.explanation_splits(explained):
        # a ratio's shares have a mix and a rate; a sum's have neither (no empty columns)
        effects = any(s["mix"] is not None for s in shares)
        dataframe(pd.DataFrame([{
            str(word).capitalize(): s["label"],
            "Now": fmt.format_value(s["value"], unit), "Before": fmt.format_value(s["previous"], unit),
            "Contribution": fmt.format_delta(s["contribution"], unit),
            **({"Mix": "" if s["mix"] is None else fmt.format_delta(s["mix"], unit),
                "Rate": "" if s["rate"] is None else fmt.format_delta(s["rate"], unit)}
               if effects else {})}
            for s in shares]), hide_index=True, width="stretch",
            download=Download("scorecard", f"{kpi['title']} by {word}",
                              key=f"scorecard_by_{key}", day=as_of))
    note = explained["note"] if explained["change"]["abs"] is not None else None
    effects = any(s["mix"] is not None for _, _, shares in fmt.explanation_splits(explained) for s in shares)
    st.caption("Each part's contribution is its average effect over every order the parts "
               "could have moved in, so they add up to the change exactly"
               + ("; a ratio's value per channel or campaign splits into mix (its share moved) "
                  "and rate (its own ratio moved)." if effects else ".")
               + (f" {md_text(note[:1].upper() + note[1:])}." if note else ""))


def objective_names() -> list[str]:
    return [o["objective"] for o in data.cached("okr_report")["objectives"]]


def definition_popover(kpi: dict, previous: dict, last_year: dict, icon: bool = True) -> None:
    with st.popover("Definition", icon=":material/info:" if icon else None):
        definition = kpi["definition"]
        st.markdown(f"**{md_text(kpi['title'])}** measures {md_text(kpi['metric_label'])} "
                    f"({md_code(kpi['metric'])})")
        if definition.get("formula"):
            st.markdown(f"Formula: {md_code(definition['formula'])} (computed from the "
                        "period's summed parts)")
        st.markdown(f"Aggregation to the period: **{md_text(definition['aggregation'])}** · "
                    f"judged per **{fmt.human_period(kpi['period'])}** period · "
                    f"{'lower' if kpi['direction'] == 'down' else 'higher'} is better")
        st.markdown(f"Tolerance for *at risk*: {kpi['tolerance']:.0%} of the target")
        if kpi.get("data_through"):
            st.markdown(f"Data: {kpi.get('cadence') or 'a single date'}, through "
                        f"{fmt.human_date(kpi['data_through'])}"
                        + (" · judged on pace: the target pro-rated to the days the data "
                           "cover" if kpi.get("pace") else ""))
        st.markdown(f"Compared with {fmt.human_period(previous['label'])} and "
                    f"{fmt.human_period(last_year['label'])}"
                    + (", like-for-like days" if kpi.get("partial") else ""))
        if definition.get("description"):
            st.caption(md_text(definition["description"]))
        if kpi.get("owner"):
            st.caption(f"Owner: {md_text(kpi['owner'])}")


for start in range(0, len(kpis), 3):
    for offset, (column, kpi) in enumerate(zip(st.columns(3), kpis[start:start + 3],
                                               strict=False)):
        with column:
            kpi_card(kpi, start + offset)

if kpis:
    st.subheader("Trend against target")
    titles = [k["title"] for k in kpis]
    if st.session_state.get(state.SCORECARD_METRIC) not in titles:
        st.session_state[state.SCORECARD_METRIC] = titles[0]
    chosen = st.selectbox("KPI", titles, key=state.SCORECARD_METRIC)
    kpi = next(k for k in kpis if k["title"] == chosen)
    st.vega_lite_chart(vega.spec(charts.kpi_trend_chart, kpi, width=900, height=280),
                       width="stretch")
    st.caption("Dashed line: the target (steps where it changes per period); shaded band: "
               f"within {kpi['tolerance']:.0%} of the target (at risk)."
               + (" Blue fan and bar: the forecast to the period's end (hollow point) with "
                  "its 80% range; hover it for the chance of meeting the target."
                  if kpi.get("forecast") else ""))
    state.publish({"kpi": chosen})
    why_it_moved(kpi)

st.subheader("Plain metrics")
st.caption("Context and early warnings: these metrics are not steering any KPI or key result.")
if card["metrics"]:
    table = pd.DataFrame([{
        "Metric": m["metric_label"],
        "Value": fmt.format_value(m["value"], m["unit"]),
        "vs previous": fmt.format_change(m["vs_previous"], m["unit"]),
        "vs last year": fmt.format_change(m["vs_last_year"], m["unit"]),
        "Data": fmt.coverage_note(m) or f"through {fmt.human_date(m.get('data_through'))}",
        "Trend": fmt.trend_values(m["history"]),
    } for m in card["metrics"]])
    dataframe(table, hide_index=True, width="stretch",
              column_config={"Trend": st.column_config.LineChartColumn("Trend (13 periods)")},
              download=Download("scorecard", f"{card['department']} plain metrics",
                                key="scorecard_plain_metrics", day=as_of,
                                values=export_tables.plain_metrics(card["metrics"])))
else:
    st.caption("None: every metric of this department serves a KPI or key result.")

widgets.png_download(data.scorecard_png(department, period, as_of),
                     f"scorecard-{card['department']}-{card['period']}.png".replace(" ", "_"),
                     key="scorecard_png")
