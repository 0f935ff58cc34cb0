"""Marketing launch: the team's four steps (measure, analyse, adjust, improve) and
saved budget scenarios compared with the actual."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.launch import analysis as launch
from kpi_logic.launch import budget, curves, optimiser, rules
from kpi_logic.launch import scenarios as saved
from kpi_logic.launch import windows as launch_windows
from kpi_logic.output import launch_report
from ui import auth, data, state, vega, widgets
from ui.tables import Download, table
from ui.text import md_text

# State keys: all in ui/state.py (these are short names for the page).
STEP = state.LAUNCH_STEP
COMPARED = state.LAUNCH_COMPARED        # mirrored in ?compare=
COMPARE_PICKER = state.LAUNCH_COMPARE_PICKER
SPLIT = state.LAUNCH_SPLIT
SPLIT_FOR = state.LAUNCH_SPLIT_FOR
BUDGET = state.LAUNCH_BUDGET
KEEP_TOTAL = state.LAUNCH_KEEP_TOTAL
OPTIMISED = state.LAUNCH_OPTIMISED
PROMOTION = state.LAUNCH_PROMOTION
PROMOTION_APPLIED = state.LAUNCH_PROMOTION_APPLIED
PROMOTION_CHOSEN = state.LAUNCH_PROMOTION_CHOSEN
STEPS = ("Measure", "Analyse", "Adjust", "Improve", "Scenarios")


state.restore({"launch": state.LAUNCH_NAME, "step": STEP, "compare": COMPARED,
               "promo": state.LAUNCH_PROMOTION_URL})
st.title("Marketing launch")

launches = data.cached("load_launches")
if not launches:
    st.info("No launch is defined yet: import a launches file or sheet (launch, launch_date, "
            "cac_target, conversion_target) and the channel history on 'Import and define'.")
    st.stop()
names = [item.launch for item in launches]
if st.session_state.get(state.LAUNCH_NAME) not in names:
    st.session_state[state.LAUNCH_NAME] = launch.chosen_launch(launches).launch
if st.session_state.get(STEP) not in STEPS:
    st.session_state[STEP] = STEPS[0]
left, right = st.columns([2, 3])
name = left.selectbox("Launch", names, key=state.LAUNCH_NAME)
with right:
    # wrap: on a phone the steps take a second row; in a column they would scroll,
    # cut to "Scen..." at 390 px.
    step = st.segmented_control("Step", STEPS, key=STEP, wrap=True) or STEPS[0]

with widgets.message_on_failure(then_stop=True):  # a refused launch or a busy database: say it, keep the page
    found = data.cached("launch_analysis", name)
spec = found.launch
st.caption(f"Launched {fmt.human_date(spec.launch_date)} · {found.days} days of channel data "
           f"since, through {fmt.human_date(max(found.since['obs_date']))} · "
           f"CAC target {rules.target_texts(spec)['cac']} · conversion target "
           f"{rules.target_texts(spec)['conversion']}")
totals = launch_windows.daily_totals(found.daily)


def measure() -> None:
    uplift = launch_windows.traffic_uplift(found.daily, spec.launch_date)
    st.subheader("Product-page traffic by day")
    st.vega_lite_chart(vega.spec(launch_report.traffic_chart, totals, spec.launch_date,
                                 start=uplift.before_start, width=900), width="stretch")
    if not uplift.days:
        st.info(md_text(uplift.reason))
        return
    row = uplift.table.iloc[0]
    before, after = st.columns(2)
    before.metric("Visitors per day before the launch", fmt.format_value(row["before"]))
    after.metric("Visitors per day since the launch", fmt.format_value(row["after"]),
                 delta=fmt.format_change({"abs": row["change"], "pct": row["relative_change"]}))
    st.caption(f"Compared: {md_text(uplift.windows_text())}. Equal windows either side of the "
               "launch, all channels together; a day without data is left out, not counted as "
               "zero.")


# The columns an executive reads first come first; the parts after (the page is narrow).
KPI_ORDER = ["cac_vs_target", "cac", "budget_share", "customer_share", "new_customers", "spend",
             "conversion_rate", "visitors", "purchases"]


def analyse() -> None:
    total = launch.launch_kpis(found)
    since = fmt.human_date(spec.launch_date)
    cards = st.columns(4)
    for card, figure in zip(cards[:2], rules.headline(total, spec), strict=False):
        card.metric(figure["title"], fmt.format_value(figure["value"], figure["unit"]),
                    help=f"{figure['definition']}, from the summed days since {since}")
        card.markdown(f"**{fmt.status_badge(figure['status'])}** · target {figure['target']}")
    cards[2].metric("Spend since launch", fmt.format_value(total["spend"], "currency"))
    cards[3].metric("New customers since launch", fmt.format_count(total["new_customers"]))
    st.caption(f"The launch's own figures since {since}, against the launch's targets (a value "
               "equal to its target meets it). The monthly Conversion rate and CAC KPIs on the "
               "Marketing scorecard count the whole website and all marketing spend, so they "
               "differ.")
    kpis = found.kpis
    for r in rules.above_cac_target(kpis).itertuples(index=False):
        target = fmt.format_value(spec.cac_target, "currency")
        st.warning(f"**{md_text(fmt.dimension_label(r.channel))}** buys new customers at "
                   f"{fmt.format_value(r.cac, 'currency')} each, above the CAC target of {target}: "
                   f"{fmt.format_progress(r.budget_share)} of the budget for "
                   f"{fmt.format_progress(r.customer_share)} of the new customers. Try moving "
                   "budget to cheaper channels on the Adjust step.", icon=":material/payments:")
    for r in rules.spent_without_customers(kpis).itertuples(index=False):
        st.warning(f"**{md_text(fmt.dimension_label(r.channel))}** spent {fmt.format_value(r.spend, 'currency')} "
                   "since the launch without winning a single new customer.",
                   icon=":material/payments:")
    table(named(kpis.assign(cac_vs_target=rules.cac_words(kpis)))[["channel", *KPI_ORDER]],
          {"channel": "Channel"},
          download=Download("launch", f"{name} channels", key="launch_channels"))
    st.caption("Totals since the launch date; rates from the summed parts, never averaged daily.")
    st.vega_lite_chart(vega.spec(launch_report.share_chart, kpis), width="stretch")
    if len(found.campaigns):
        campaigns()


def named(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its channel column in words ("search_ads" as "Search ads"); the
    stored names stay the keys of the budget split and the CLI's flags."""
    return frame.assign(channel=frame["channel"].map(fmt.dimension_label))


def campaigns() -> None:
    """Campaigns within the channels that name them: which one turns visitors into buyers."""
    st.subheader("Campaigns")
    rows = found.campaigns
    shown = rows.assign(cac_vs_target=rules.cac_words(rows),
                        campaign=rows["campaign"].replace("", "(no campaign)"))
    table(named(shown)[["channel", "campaign", *KPI_ORDER]], {"channel": "Channel",
                                                        "campaign": "Campaign"},
          download=Download("launch", f"{name} campaigns", key="launch_campaigns"))
    st.caption(md_text(" ".join(launch.campaign_sentences(rows, found.kpis["channel"].tolist(),
                                                          spec.cac_target)))
               + " Shares are of the whole launch; the Adjust step moves budget between channels.")


def keep_split(allocation: dict) -> None:
    st.session_state[SPLIT] = dict(allocation)
    for channel, spend in allocation.items():
        st.session_state[BUDGET + channel] = float(spend)


def rebalance(channel: str) -> None:
    """Slider callback: with the total kept, the other channels make room."""
    seen = dict(st.session_state.get(SPLIT) or {})
    spend = st.session_state[BUDGET + channel]
    if st.session_state.get(KEEP_TOTAL) and channel in seen:
        keep_split(budget.rebalanced(seen, channel, spend))
    else:
        keep_split({**seen, channel: spend})


def optimise(actual: dict) -> None:
    """Button callback: the best split within the bounds goes into the sliders."""
    channels = list(found.curves)
    low, high = ({c: st.session_state[key + c] for c in channels
                  if st.session_state.get(key + c) is not None}
                 for key in (state.LAUNCH_MIN, state.LAUNCH_MAX))
    goal_mode = st.session_state.get(state.LAUNCH_OPT_MODE) == "goal"
    within_seen = st.session_state.get(state.LAUNCH_OPT_WITHIN_SEEN, True)
    try:
        best = optimiser.optimised_split(
            found.curves, actual, minimums=low, maximums=high, within_seen=within_seen,
            unit=found.spend_unit,
            budget=None if goal_mode else st.session_state[state.LAUNCH_OPT_BUDGET],
            goal=st.session_state[state.LAUNCH_OPT_GOAL] if goal_mode else None)
    except InputError as exc:
        st.session_state[OPTIMISED] = {"error": str(exc)}
        return
    keep_split(best["allocation"])
    st.session_state[OPTIMISED] = {"allocation": best["allocation"], "moves": best["moves"],
                                   "within_seen": within_seen}


SLIDER_FORMAT = "$%,.0f"


def money(value: float) -> str:
    """A daily amount in the spend metric's unit, to the whole dollar."""
    return fmt.format_value(value, found.spend_unit, whole=True)


def budget_sliders(actual: dict) -> dict:
    if st.session_state.get(SPLIT_FOR) != name:
        st.session_state[SPLIT_FOR] = name
        st.session_state[SPLIT] = dict(actual)
        st.session_state.pop(OPTIMISED, None)
    split = st.session_state[SPLIT]
    toggle, reset = st.columns([3, 1])
    toggle.toggle("Keep the total fixed: moving one channel moves the others", value=True,
                  key=KEEP_TOTAL)
    reset.button("Back to the actual split", key=state.LAUNCH_RESET, on_click=keep_split,
                 args=(actual,))
    columns = st.columns(min(len(actual), 3))
    for index, (channel, spend) in enumerate(actual.items()):
        key = BUDGET + channel
        st.session_state[key] = float(split.get(channel, spend))
        seen = found.curves[channel].max_spend_seen or 0.0
        top = max(2 * spend, 1.5 * seen, st.session_state[key], 100.0)
        # The slider starts at the actual to the cent and shows it rounded to the
        # dollar ("%,.0f" rounds, "%d" would cut $734.60 to $734), as the label does.
        columns[index % len(columns)].slider(
            md_text(f"{fmt.dimension_label(channel)}: $ a day (actual {money(spend)})"), 0.0,
            float(round(top, -2) + 100), step=1.0, format=SLIDER_FORMAT, key=key,
            on_change=rebalance, args=(channel,))
    return {c: st.session_state[BUDGET + c] for c in actual}


def adjust() -> tuple[dict, dict] | None:
    """The what-if; returns (its result, the daily split) for the PNG report."""
    if found.curve_problems:
        for channel, why in found.curve_problems.items():
            st.info(md_text(f"{fmt.dimension_label(channel)} is left out of the what-if: {why}"))
    actual = launch.actual_split(found)
    if not actual:
        st.warning("No channel has a response curve, so there is nothing to project.")
        return None
    st.subheader("What if the daily budget were split differently?")
    allocation = budget_sliders(actual)
    result = launch.what_if(found, allocation)
    whatif = result["totals"].set_index("scenario")
    cards = st.columns(4)
    for card, (label, column, unit, colour) in zip(cards, [
            ("Projected new customers", "new_customers", "count", "normal"),
            ("Projected purchases", "purchases", "count", "normal"),
            ("Projected blended CAC", "cac", "currency", "inverse"),
            ("Projected conversion", "conversion_rate", "percent", "normal")], strict=False):
        # Against the actual split run through the same curves: moving nothing
        # shows no change; the actual itself is in the table below.
        now, then = whatif.loc[budget.BASELINE, column], whatif.loc[budget.WHAT_IF, column]
        shown = (fmt.format_count if unit == "count" else lambda v, unit=unit: fmt.format_value(v, unit))
        step = fmt.format_count_delta if unit == "count" else \
            (lambda v, unit=unit: fmt.format_delta(v, unit))
        delta = None if fmt.is_missing(then) or fmt.is_missing(now) else step(then - now)
        unchanged = delta is not None and not delta.startswith(("+", "-"))   # shown as 0
        card.metric(label, shown(then), delta=None if delta is None else
                    f"{delta} vs the actual split", delta_color="off" if unchanged else colour,
                    delta_arrow="off" if unchanged else "auto",
                    help=f"Actual: {shown(whatif.loc[budget.ACTUAL, column])}")
    for warning in result["warnings"]:     # shown once, next to the numbers it qualifies
        st.warning(md_text(warning), icon=":material/warning:")
    st.caption(f"Budgets are per day, projected over the same {found.days} days as the actual, "
               "so the numbers compare directly. 'Actual split, projected' runs the actual "
               "budgets through the curves: the like-for-like baseline for the changes above.")
    table(result["totals"], {"scenario": "Totals"},
          download=Download("launch", f"{name} what-if totals", key="launch_whatif_totals"))
    channels = result["channels"]
    table(named(channels)[["channel", "actual_cac", "projected_cac", "actual_new_customers",
                    "projected_new_customers", "actual_conversion_rate",
                    "projected_conversion_rate", "actual_spend", "projected_spend"]],
          {"channel": "Channel", "actual_conversion_rate": "Actual conversion",
           "projected_conversion_rate": "Projected conversion"},
          download=Download("launch", f"{name} what-if by channel", key="launch_whatif_channels"))
    fits(actual)
    optimise_controls(actual, allocation)
    save_controls(allocation)
    return result, allocation


def fits(actual: dict) -> None:
    st.markdown("**What the response curves say**")
    st.markdown("\n".join(f"- {md_text(curves.curve_words(c, k, actual.get(c, 0.0), found.spend_unit))}"
                          for c, k in found.curves.items()))
    with st.expander("The fitted curves, for an analyst"):
        st.caption("Daily new customers = a × (daily spend) ^ b, fitted on the days since the "
                   "launch; b below 1 means diminishing returns. R² is the share of the "
                   "day-to-day variation (in logs) the curve explains.")
        fitted = curves.curve_fits(found.curves, found.curve_problems)
        fitted["model"] = fitted["model"].map({"power": "fitted curve",
                                               "constant_cac": "constant CAC"}).fillna("none")
        if not fitted["note"].fillna("").astype(bool).any():
            fitted = fitted.drop(columns=["note"])      # every channel has a fitted curve
        table(named(fitted), {"channel": "Channel", "model": "Model",
                       "min_spend_seen": "Least spent in a day"}, units={"a": "number"},
              download=Download("launch", f"{name} response curves", key="launch_curves"))


def optimise_controls(actual: dict, allocation: dict) -> None:
    st.subheader("Optimise")
    mode = st.radio("Find", ["budget", "goal"], horizontal=True, key=state.LAUNCH_OPT_MODE,
                    format_func=lambda m: "the most new customers for a daily budget"
                    if m == "budget" else "the least spend for a daily customer goal")
    if mode == "budget":
        st.number_input("Daily budget ($)", min_value=0.0, step=100.0, key=state.LAUNCH_OPT_BUDGET,
                        # unrounded: an optimised split keeps the actual total to the cent
                        value=float(sum(allocation.values())), format="%.0f")
    else:
        customers = found.kpis["new_customers"].sum() / found.days
        st.number_input("New customers per day", min_value=0.1, step=1.0, key=state.LAUNCH_OPT_GOAL,
                        value=float(round(customers, 1)))
    st.toggle("Keep each channel within the daily spend seen", value=True,
              key=state.LAUNCH_OPT_WITHIN_SEEN,
              help="Outside the least and the most a channel has spent in a day, its curve is "
                   "a guess: above, it keeps promising customers; below, it makes them look "
                   "ever cheaper. A minimum or maximum you set below replaces the range seen.")
    empty = "the range seen" if st.session_state.get(state.LAUNCH_OPT_WITHIN_SEEN, True) else "none"
    with st.expander("Per-channel minimum and maximum ($ a day)"):
        for channel in actual:
            low, high = st.columns(2)
            low.number_input(f"{md_text(channel)} minimum (empty: {empty})", min_value=0.0,
                             value=None, step=50.0, key=state.LAUNCH_MIN + channel)
            high.number_input(f"{md_text(channel)} maximum (empty: {empty})", min_value=0.0,
                              value=None, step=50.0, key=state.LAUNCH_MAX + channel)
    st.button("Optimise", on_click=optimise, args=(actual,), type="primary", key=state.LAUNCH_OPTIMISE)
    outcome = st.session_state.get(OPTIMISED)
    if outcome and "error" in outcome:
        st.error(md_text(outcome["error"]), icon=":material/block:")
    elif outcome and outcome["allocation"] == allocation:
        bounded = (" Each channel stays within the daily spend seen, unless you set its bounds."
                   if outcome["within_seen"] else "")
        st.success("The sliders now hold the optimised split: its projection and any warning "
                   f"are at the top of this step.{bounded} Compared with the actual split:")
        st.markdown("\n".join(f"- {md_text(line)}" for line in outcome["moves"]))


def save_controls(allocation: dict) -> None:
    if not auth.can_edit():
        st.caption("Viewer mode: sign in as an editor to save scenarios.")
        return
    text, button = st.columns([3, 1], vertical_alignment="bottom")
    scenario = text.text_input("Scenario name", key=state.LAUNCH_SCENARIO_NAME,
                               placeholder="e.g. Less display, more search")
    if button.button("Save this split", key=state.LAUNCH_SAVE):
        try:
            data.run(launch.saved_scenario, name, scenario, allocation)
            st.success(f"Saved '{md_text(scenario)}'. Compare it on the Scenarios step.")
        except InputError as exc:
            widgets.show_error(exc)


def promotion_default() -> object:
    """The launch's own promotion date, else its launch date (the engine's rule)."""
    return rules.promotion_start(spec)


def promotion_date() -> object:
    """The promotion date in effect: a link's ?promo= when it brings news, else
    the date picked for this launch, else promotion_default()."""
    wanted = state.parse_date(st.session_state.get(state.LAUNCH_PROMOTION_URL))
    if wanted and st.session_state.get(PROMOTION_APPLIED) != wanted:
        st.session_state[PROMOTION_APPLIED] = wanted
        st.session_state[PROMOTION_CHOSEN] = (name, spec.promotion_date, wanted)
    chosen = st.session_state.get(PROMOTION_CHOSEN)
    if chosen and chosen[:2] == (name, spec.promotion_date):
        return chosen[2]
    return promotion_default()


def keep_promotion() -> None:
    """Picker callback: remember the date across steps and reruns."""
    st.session_state[PROMOTION_CHOSEN] = (name, spec.promotion_date, st.session_state[PROMOTION])


def promotion_picker() -> object:
    st.session_state[PROMOTION] = promotion_date()
    source = ("the launch definition's promotion date" if spec.promotion_date
              else "the launch date: add promotion_date to the launch's row to set it")
    return st.date_input("Social promotion started on", key=PROMOTION, format="YYYY-MM-DD",
                         on_change=keep_promotion,
                         help=f"Engagement is compared before and from this day. Default: {source}.")


def improve() -> None:
    promotion = promotion_picker()
    change = launch_windows.engagement_change(found.daily, promotion)
    start = change.before_start or spec.launch_date
    for per_visitor in (False, True):
        st.markdown(f"**{launch_report.ENGAGEMENT_TITLES[per_visitor]}**")
        st.vega_lite_chart(vega.spec(launch_report.engagement_chart, totals, promotion,
                                     start=start, per_visitor=per_visitor, width=900),
                           width="stretch")
    if not change.days:
        st.info(md_text(change.reason))
        return
    st.caption(f"Per 100 product-page visitors: {md_text(change.windows_text())}.")
    # Per 100 visitors reads as "8.5 likes" instead of "0.085 likes per visitor".
    per_100 = change.table.assign(**{c: change.table[c] * 100
                                     for c in ("before", "after", "change")},
                                  measure=change.table["measure"].replace(
                                      {"engagement": "all three"}).str.capitalize())
    # Through table(): percentages written as everywhere on the page (fmt, one rule).
    table(per_100, {"measure": "Per 100 visitors", "before": "Before", "after": "After",
                    "change": "Change"},
          download=Download("launch", f"{name} engagement per 100 visitors", key="launch_engagement"))


def scenarios() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Saved scenarios; returns (the comparison, the daily splits) of those picked."""
    listed = data.run(saved.scenario_list, name)
    if listed.empty:
        st.info("No scenarios saved yet: set a split on the Adjust step and save it.")
        return None
    shown = listed[["name", "spend_per_day", "new_customers", "cac", "days", "created_at"]]
    table(shown, {"name": "Scenario", "days": "Days projected", "created_at": "Saved"},
          download=Download("launch", f"{name} saved scenarios", key="launch_scenarios"))
    if auth.can_edit():
        manage(listed["name"].tolist())
    options = listed["name"].tolist()
    wanted = [n for n in str(st.session_state.get(COMPARED) or "").split(",") if n in options]
    if st.session_state.get(COMPARE_PICKER) != wanted:
        st.session_state[COMPARE_PICKER] = wanted
    picked = st.multiselect("Compare with the actual (2 to 4)", options, key=COMPARE_PICKER,
                            max_selections=budget.MAX_SCENARIOS,
                            on_change=lambda: st.session_state.update(
                                {COMPARED: ",".join(st.session_state[COMPARE_PICKER])}))
    if not picked:
        return None
    comparison = data.run(launch.compared_scenarios, picked, name)
    table(comparison, download=Download("launch", f"{name} scenario comparison",
                                        key="launch_comparison"))
    st.vega_lite_chart(vega.spec(launch_report.scenario_chart, comparison, width=220))
    st.caption(f"Totals over the {found.days} days since the launch; a scenario's budget is per "
               "day, so one saved earlier is scaled to today's days. "
               + md_text(launch_report.BASELINE_NOTE + launch_report.left_out(found)))
    st.markdown("**How each one splits the daily budget** ($ per day)")
    splits = data.run(launch.scenario_splits, picked, name)
    channels = tuple(c for c in splits.columns if c not in ("scenario", "total"))
    table(splits, {"total": "Total"}, money=channels,
          download=Download("launch", f"{name} scenario splits", key="launch_splits"))
    return comparison, splits


def manage(options: list[str]) -> None:
    with st.expander("Rename or delete a scenario"):
        chosen = st.selectbox("Scenario", options, key=state.LAUNCH_MANAGE_PICK)
        new_name = st.text_input("New name", key=state.LAUNCH_MANAGE_NAME)
        rename, delete = st.columns(2)
        try:
            if rename.button("Rename", key=state.LAUNCH_RENAME):
                data.run(saved.rename_scenario, name, chosen, new_name)
                st.rerun()
            if delete.button("Delete", key=state.LAUNCH_DELETE):
                data.run(saved.delete_scenario, name, chosen)
                st.rerun()
        except InputError as exc:
            widgets.show_error(exc)


comparison = splits = trial = None
with widgets.message_on_failure():  # never a traceback: the rest of the page still works
    if step == "Scenarios":
        comparison, splits = scenarios() or (None, None)
    elif step == "Adjust":
        trial = adjust()
    else:
        {"Measure": measure, "Analyse": analyse, "Improve": improve}[step]()
promotion = promotion_date()
state.publish({"launch": name, "step": step, "compare": st.session_state.get(COMPARED),
               "promo": None if promotion == promotion_default() else promotion})

# Each step downloads its own PNG: what that step shows.
widgets.png_download(lambda: launch_report.render_launch_report(
    found, comparison, promotion=promotion, splits=splits, what_if=trial, step=step.lower()),
                     f"launch-{spec.launch}-{step.lower()}.png".replace(" ", "_"), key=state.LAUNCH_PNG)
