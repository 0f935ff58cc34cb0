"""Charts of a marketing launch and its PNG report (no streamlit).

The charts serve both the launch page and the report; the report is built
from report.py's blocks (header, tiles, sections, the pixel canvas) so it
looks like the other pages' reports. Status and "above the CAC target" are
written in words and icons as well as colours.
"""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import vl_convert

from kpi_logic.domain import formatting as fmt
from kpi_logic.launch import rules
from kpi_logic.launch.analysis import LaunchAnalysis, actual_split, launch_kpis
from kpi_logic.launch.budget import BASELINE
from kpi_logic.launch.curves import curve_words
from kpi_logic.launch.windows import daily_totals, engagement_change, traffic_uplift
from kpi_logic.output import charts
from kpi_logic.output.report import parts_spec
from kpi_logic.output.report_blocks import (
    FONT,
    LINE,
    MUTED,
    WIDTH,
    Canvas,
    header,
    note,
    section,
    tile_grid,
)

_MEASURE_COLOURS = alt.Scale(domain=["likes", "shares", "comments"],
                             range=["#0072B2", "#D55E00", "#009E73"])


def _date_rule(when: date, label: str) -> alt.LayerChart:
    marker = pd.DataFrame({"obs_date": [pd.Timestamp(when)], "label": [label]})
    rule = alt.Chart(marker).mark_rule(color=charts.INK, strokeDash=[5, 3]).encode(
        x=alt.X("obs_date:T"))
    text = alt.Chart(marker).mark_text(align="left", dx=5, dy=-4, baseline="top", fontSize=12,
                                       color=charts.INK).encode(
        x=alt.X("obs_date:T"), y=alt.YValue(0), text=alt.Text("label:N"))
    return rule + text


def _from(totals: pd.DataFrame, start: date | None) -> pd.DataFrame:
    frame = totals if start is None else totals[totals["obs_date"] >= start]
    return frame.assign(obs_date=pd.to_datetime(frame["obs_date"]))


def traffic_chart(totals: pd.DataFrame, launch_date: date, *, start: date | None = None,
                  width: int = 800, height: int = 240, axis_side: str = "left") -> alt.LayerChart:
    """Product-page visitors per day (daily_totals rows, from `start` when given)
    with the launch date marked; axis_side "right" keeps a report's left edge straight."""
    frame = _from(totals, start)[["obs_date", "visitors"]].dropna()
    line = alt.Chart(frame).mark_line(color="#0072B2", strokeWidth=1.6).encode(
        x=alt.X("obs_date:T", title=None, axis=alt.Axis(format="%-d %b")),
        y=alt.Y("visitors:Q", title="visitors per day",
                axis=alt.Axis(format=",.3~s", orient=axis_side)),
        tooltip=[alt.Tooltip("obs_date:T", title="day", format="%Y-%m-%d"),
                 alt.Tooltip("visitors:Q", format=",.0f")])
    rule = _date_rule(launch_date, f"Launch {fmt.human_date(launch_date)}")
    return (line + rule).properties(width=width, height=height)


# The engagement charts' titles: written above each chart by the page and the
# report (text that wraps), so the y axis keeps a short title that fits.
ENGAGEMENT_TITLES = {False: "Likes, shares and comments per day",
                     True: "Likes, shares and comments per 100 product-page visitors"}


def engagement_chart(totals: pd.DataFrame, promotion_date: date, *, start: date | None = None,
                     per_visitor: bool = False, width: int = 800,
                     height: int = 220) -> alt.LayerChart:
    """Likes, shares and comments per day (or all three per visitor), from `start`
    when given, with the promotion's start marked."""
    frame = _from(totals, start)
    x = alt.X("obs_date:T", title=None, axis=alt.Axis(format="%-d %b"))
    if per_visitor:
        # Per 100 visitors, as the page's table and the report's sentence say it.
        per_100 = frame.dropna(subset=["engagement_per_visitor"]).assign(
            per_100=lambda f: f["engagement_per_visitor"] * 100)
        body = alt.Chart(per_100).mark_line(color="#CC79A7").encode(
            x=x, y=alt.Y("per_100:Q", title="per 100 visitors",
                         axis=alt.Axis(format=",.3~f")))
    else:
        long = frame.melt("obs_date", ["likes", "shares", "comments"], "measure", "count").dropna()
        body = alt.Chart(long).mark_line(strokeWidth=1.4).encode(
            x=x, y=alt.Y("count:Q", title="per day", axis=alt.Axis(format=",.3~s")),
            color=alt.Color("measure:N", scale=_MEASURE_COLOURS, title=None),
            # the colours' order, so colour and dash make one legend, not two
            strokeDash=alt.StrokeDash("measure:N", title=None,
                                      scale=alt.Scale(domain=_MEASURE_COLOURS.domain)))
    rule = _date_rule(promotion_date, f"Promotion {fmt.human_date(promotion_date)}")
    return (body + rule).properties(width=width, height=height)


def share_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[channel, share, of, flag]: each channel's share of the budget and of
    the new customers, long, with the channel labelled when its CAC is above target."""
    labels = [f"{fmt.dimension_label(c)}  {flag}" if flag else fmt.dimension_label(c)
              for c, flag in zip(kpis["channel"], rules.above_flags(kpis), strict=True)]
    frame = kpis.assign(label=labels)[["label", "budget_share", "customer_share"]]
    long = frame.melt("label", ["budget_share", "customer_share"], "of", "share")
    long["of"] = long["of"].map({"budget_share": "share of budget",
                                 "customer_share": "share of new customers"})
    return long.rename(columns={"label": "channel"})


def share_chart(kpis: pd.DataFrame, *, width: int = 700) -> alt.Chart:
    """Share of budget beside share of new customers, per channel (channel_kpis rows)."""
    frame = share_frame(kpis)
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("channel:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        yOffset=alt.YOffset("of:N"),
        x=alt.X("share:Q", title=None, axis=alt.Axis(format=".0%")),
        color=alt.Color("of:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(range=["#9CA3AF", "#0072B2"])),
        tooltip=["channel:N", "of:N", alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=width, height=alt.Step(14))


def scenario_chart(table: pd.DataFrame, *, width: int = 320) -> alt.HConcatChart:
    """New customers and CAC per scenario (rows of budget.scenario_comparison)."""
    def bars(column: str, title: str, axis_format: str) -> alt.Chart:
        return alt.Chart(table).mark_bar(color="#0072B2").encode(
            y=alt.Y("scenario:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(f"{column}:Q", title=title, axis=alt.Axis(format=axis_format)),
            color=alt.condition(alt.datum.scenario == "Actual", alt.value("#6B7280"),
                                alt.value("#0072B2")),
            tooltip=["scenario:N", alt.Tooltip(f"{column}:Q", format=",.1f")],
        ).properties(width=width, height=alt.Step(26))
    return alt.hconcat(bars("new_customers", "new customers", ",.3~s"),
                       bars("cac", "CAC (spend per new customer)", "$,.3~s"), spacing=30)


# --- the PNG report ----------------------------------------------------------

def _judged_tiles(found: LaunchAnalysis) -> list[dict]:
    total, spec = launch_kpis(found), found.launch
    return [{"title": h["title"], "status": h["status"],
             "value": fmt.format_value(h["value"], h["unit"]),
             "lines": [(f"Target: {h['target']}", MUTED), (h["definition"], MUTED)]}
            for h in rules.headline(total, spec)]


def _traffic_tile(found: LaunchAnalysis) -> dict:
    uplift = traffic_uplift(found.daily, found.launch.launch_date)
    change = {} if uplift.table.empty else uplift.table.iloc[0].to_dict()
    return {"title": "Product-page traffic", "colour": charts.INK,
            "value": fmt.format_pct_change(change.get("relative_change"), change.get("change")),
            "lines": [(f"{fmt.format_value(change.get('before'))} -> "
                       f"{fmt.format_value(change.get('after'))} visitors per day", MUTED),
                      (f"{uplift.days} days before vs {uplift.days} days from the launch"
                       if uplift.days else uplift.reason, MUTED)]}


def _totals_tiles(found: LaunchAnalysis) -> list[dict]:
    total = launch_kpis(found)
    return [{"title": "Spend since launch", "colour": charts.INK,
             "value": fmt.format_value(total["spend"], "currency"),
             "lines": [(f"over {found.days} days", MUTED)]},
            {"title": "New customers since launch", "colour": charts.INK,
             "value": fmt.format_count(total["new_customers"]),
             "lines": [(f"{fmt.format_count(total['purchases'])} purchases", MUTED)]}]


def _tiles(found: LaunchAnalysis) -> list[dict]:
    return [*_judged_tiles(found), _traffic_tile(found), *_totals_tiles(found)]


def _table(rows: list[list[str]], columns: list[tuple[int, str]], *,
           flags: list[str | None] | None = None) -> dict:
    """A plain table on the canvas: header row, one row per list, an optional flag
    at the end of a row (drawn in the warning colour)."""
    row = 26
    canvas = Canvas(row * (len(rows) + 1) + 8)
    for x, name in columns:
        canvas.text(x, 16, name, size=12, colour=MUTED, weight="bold")
    for index, cells in enumerate(rows, start=1):
        y = 16 + index * row
        canvas.rect(0, y - 19, WIDTH, 1, LINE)
        for (x, _), cell in zip(columns, cells, strict=True):
            canvas.text(x, y, cell, size=14, limit=200)
        if flags and flags[index - 1]:
            canvas.text(WIDTH, y, flags[index - 1], size=14, colour=fmt.WARN, weight="bold",
                        align="right")
    return canvas.spec()


def channel_table(kpis: pd.DataFrame) -> dict:
    """Per channel: spend, new customers, CAC, conversion, share of budget vs customers."""
    columns = [(0, "Channel"), (190, "Spend"), (310, "New customers"), (450, "CAC"),
               (560, "Conversion"), (680, "Share of budget"), (820, "Share of new customers")]
    rows = [[fmt.dimension_label(r.channel), fmt.format_value(r.spend, "currency"),
             fmt.format_count(r.new_customers),
             fmt.format_value(r.cac, "currency"), fmt.format_value(r.conversion_rate, "percent"),
             fmt.format_progress(r.budget_share), fmt.format_progress(r.customer_share)]
            for r in kpis.itertuples(index=False)]
    return _table(rows, columns, flags=rules.above_flags(kpis))


def campaign_table(campaigns: pd.DataFrame) -> dict:
    """Per channel and campaign (campaign_kpis rows): spend, new customers, CAC,
    conversion, share of budget; "—" stands for rows without a campaign."""
    columns = [(0, "Channel"), (150, "Campaign"), (370, "Spend"), (480, "New customers"),
               (610, "CAC"), (710, "Conversion"), (820, "Share of budget")]
    rows = [[fmt.dimension_label(r.channel), r.campaign or "—",
             fmt.format_value(r.spend, "currency"),
             fmt.format_count(r.new_customers), fmt.format_value(r.cac, "currency"),
             fmt.format_value(r.conversion_rate, "percent"), fmt.format_progress(r.budget_share)]
            for r in campaigns.itertuples(index=False)]
    return _table(rows, columns, flags=rules.above_flags(campaigns))


BASELINE_NOTE = ("Changes are against the actual split run through the same response curves "
                 "(like for like: the curves smooth the daily ups and downs).")


def comparison_table(table: pd.DataFrame) -> dict:
    """Scenarios beside the actual: spend, new customers and CAC with their
    change from the baseline, conversion. The baseline is the actual split run
    through the same curves (BASELINE, like for like, as the page's cards), or
    the first row when there is none; rows up to the baseline have no change."""
    columns = [(0, "Scenario"), (280, "Spend"), (400, "New customers"), (540, "vs actual split"),
               (680, "CAC"), (780, "vs actual split"), (920, "Conversion")]
    names = table["scenario"].tolist()
    at = names.index(BASELINE) if BASELINE in names else 0
    base = table.iloc[at] if len(table) else None
    delta = {"new_customers": fmt.format_count_delta,
             "cac": lambda v: fmt.format_delta(v, "currency")}
    rows = []
    for index, r in enumerate(table.itertuples(index=False)):
        change = (lambda column, index=index, r=r: "" if index <= at or base is None
                  or fmt.is_missing(getattr(r, column)) or fmt.is_missing(base[column])
                  else delta[column](getattr(r, column) - base[column]))
        rows.append([r.scenario, fmt.format_value(r.spend, "currency"),
                     fmt.format_count(r.new_customers), change("new_customers"),
                     fmt.format_value(r.cac, "currency"), change("cac"),
                     fmt.format_value(r.conversion_rate, "percent")])
    return _table(rows, columns)


def left_out(found: LaunchAnalysis) -> str:
    """" Left out: ..." naming channels without a response curve, or ""."""
    if not found.curve_problems:
        return ""
    return (f" Left out (no response curve, so no projection): "
            f"{', '.join(map(fmt.dimension_label, sorted(found.curve_problems)))}; the actual counts the other channels.")


def split_chart(splits: pd.DataFrame) -> dict:
    """Each scenario's daily budget per channel (rows of launch.split_table)."""
    channels = [c for c in splits.columns if c not in ("scenario", "total")]
    step = min(150, (WIDTH - 400) // max(len(channels), 1))
    columns = [(0, "$ per day"),
               *((260 + i * step, fmt.dimension_label(c)) for i, c in enumerate(channels)),
               (260 + len(channels) * step, "Total")]
    rows = [[r["scenario"], *(fmt.format_value(r[c], "currency") for c in channels),
             fmt.format_value(r["total"], "currency")] for r in splits.to_dict("records")]
    return _table(rows, columns)


def whatif_parts(result: dict, allocation: dict, found: LaunchAnalysis) -> list:
    """The Adjust step's what-if (launch.what_if's result for `allocation`, $ per
    day, over found.days): the split beside the actual per channel, and the totals."""
    days = found.days
    channels = result["channels"]
    columns = [(0, "Channel"), (240, "Actual $ per day"), (420, "What-if $ per day"),
               (600, "Projected new customers"), (820, "Actual CAC"), (960, "Projected CAC")]
    rows = [[fmt.dimension_label(r.channel), fmt.format_value(r.actual_spend / days, "currency"),
             fmt.format_value(allocation.get(r.channel), "currency"),
             fmt.format_count(r.projected_new_customers),
             fmt.format_value(r.actual_cac, "currency"),
             fmt.format_value(r.projected_cac, "currency")]
            for r in channels.itertuples(index=False)]
    return [section("What-if split of the daily budget (not saved), projected over the same "
                    "days"), _table(rows, columns), comparison_table(result["totals"]),
            note(BASELINE_NOTE + left_out(found))]


def comparison_bars(table: pd.DataFrame) -> dict:
    """New customers and CAC per scenario as bars on the canvas (labels inside the
    report's width, so the report's left edge stays straight)."""
    row, left, span = 30, 250, 380
    canvas = Canvas(row * (len(table) + 1) + 6)
    canvas.text(left, 16, "New customers", size=12, colour=MUTED, weight="bold")
    canvas.text(left + span + 70, 16, "CAC (spend per new customer)", size=12, colour=MUTED,
                weight="bold")
    for x0, column, unit in ((left, "new_customers", "number"),
                             (left + span + 70, "cac", "currency")):
        values = pd.to_numeric(table[column], errors="coerce")
        top = values.max() if values.notna().any() and values.max() > 0 else 1.0
        for index, value in enumerate(values, start=1):
            y = 4 + index * row
            if pd.notna(value) and value > 0:
                colour = fmt.NEUTRAL if index == 1 else "#0072B2"
                canvas.rect(x0, y, (span - 80) * value / top, 18, colour)
            text = fmt.format_count(value) if unit == "number" else fmt.format_value(value, unit)
            canvas.text(x0 + (span - 80) * (0 if pd.isna(value) else value / top) + 8, y + 14,
                        text, size=13)
    for index, name in enumerate(table["scenario"], start=1):
        canvas.text(0, 18 + index * row, name, size=14, limit=left - 10)
    return canvas.spec()


def engagement_sentence(found: LaunchAnalysis, promotion: date) -> str:
    """One line on engagement per visitor before and from `promotion`."""
    change = engagement_change(found.daily, promotion)
    when = fmt.human_date(promotion)
    if not change.days:
        return f"Social promotion from {when}: {change.reason}"
    row = change.table.set_index("measure").loc["engagement"]
    if fmt.is_missing(row["before"]) or fmt.is_missing(row["after"]):
        return (f"Social promotion from {when}: no likes, shares or comments recorded "
                f"{'before it' if fmt.is_missing(row['before']) else 'since'}, so engagement "
                "cannot be compared.")
    change_text = fmt.format_pct_change(row["relative_change"], row["change"])
    return (f"Social promotion from {when}: likes, shares and comments per 100 visitors "
            f"{100 * row['before']:.1f} before, {100 * row['after']:.1f} since "
            f"({change_text}; {change.days} days either side).")


STEPS = ("measure", "analyse", "adjust", "improve", "scenarios")


def _measure_parts(found: LaunchAnalysis) -> list:
    spec = found.launch
    uplift = traffic_uplift(found.daily, spec.launch_date)
    return [tile_grid([_traffic_tile(found)], columns=3),
            section("Product-page traffic by day"),
            traffic_chart(daily_totals(found.daily), spec.launch_date, width=WIDTH - 80,
                          height=220, start=uplift.before_start, axis_side="right"),
            note(f"Traffic compared: {uplift.windows_text()}.")]


def _analyse_parts(found: LaunchAnalysis) -> list:
    spec = found.launch
    parts = [tile_grid([*_judged_tiles(found), *_totals_tiles(found)], columns=2),
             section("Channels since the launch"), channel_table(found.kpis)]
    above = [fmt.dimension_label(c) for c in rules.above_cac_target(found.kpis)["channel"]]
    if above:
        parts.append(note(f"⚠ Buying customers above the CAC target of "
                          f"{fmt.format_value(spec.cac_target, 'currency')}: {', '.join(above)}.",
                          colour=fmt.WARN))
    if len(found.campaigns):
        parts += [section("Campaigns since the launch"), campaign_table(found.campaigns)]
    return parts


def _adjust_parts(found: LaunchAnalysis, what_if: tuple[dict, dict] | None) -> list:
    parts = [] if what_if is None else whatif_parts(*what_if, found)
    if what_if is not None:
        parts += [note(f"⚠ {w}", colour=fmt.WARN) for w in what_if[0].get("warnings", [])]
    actual = actual_split(found)
    parts.append(section("What each channel's response curve says"))
    parts += [note(curve_words(c, curve, actual.get(c, 0.0), found.spend_unit))
              for c, curve in found.curves.items()]
    return parts


def _improve_parts(found: LaunchAnalysis, promotion: date | None) -> list:
    promotion = promotion or rules.promotion_start(found.launch)
    change = engagement_change(found.daily, promotion)
    start = change.before_start or found.launch.launch_date
    totals = daily_totals(found.daily)
    return [note(engagement_sentence(found, promotion)),
            section(ENGAGEMENT_TITLES[False]),
            engagement_chart(totals, promotion, start=start, width=WIDTH - 160, height=200),
            section(ENGAGEMENT_TITLES[True]),
            engagement_chart(totals, promotion, start=start, per_visitor=True, width=WIDTH - 160,
                             height=200)]


def _scenario_parts(found: LaunchAnalysis, comparison: pd.DataFrame | None,
                    splits: pd.DataFrame | None) -> list:
    if comparison is None or not len(comparison):
        return [note("No saved scenario is compared: pick 2 to 4 on the Scenarios step.")]
    parts = [section("Budget scenarios compared with the actual (totals over the same days)"),
             comparison_table(comparison), note(BASELINE_NOTE + left_out(found)),
             comparison_bars(comparison)]
    if splits is not None and len(splits):
        parts += [note("How each scenario splits the daily budget:"), split_chart(splits)]
    return parts


def _whole_parts(found: LaunchAnalysis, comparison, promotion, splits, what_if) -> list:
    spec = found.launch
    parts = [tile_grid(_tiles(found), columns=3), *_analyse_parts(found)[1:],
             *_measure_parts(found)[1:]]
    promotion = promotion or spec.promotion_date
    if promotion is not None:
        parts.append(note(engagement_sentence(found, promotion)))
    if what_if is not None:
        parts += whatif_parts(*what_if, found)
    if comparison is not None and len(comparison):
        parts += _scenario_parts(found, comparison, splits)
    return parts


# The launch report's look: its own (independent colours and dashes, no legend
# symbol size or title colour of the other reports), as Vega-Lite config.
_RESOLVE = {"scale": {"color": "independent", "strokeDash": "independent"}}
_CONFIG = (alt.Chart(pd.DataFrame({"x": [0]})).mark_point()
           .configure(font=FONT, background="white", padding=36)
           .configure_view(stroke=None)
           .configure_axis(labelFontSize=12, titleFontSize=12, labelColor=MUTED,
                           titleColor=MUTED)
           .configure_legend(labelFontSize=13)
           .to_dict(validate=False)["config"])


def launch_report_spec(found: LaunchAnalysis, comparison: pd.DataFrame | None = None, *,
                       title: str | None = None, promotion: date | None = None,
                       splits: pd.DataFrame | None = None,
                       what_if: tuple[dict, dict] | None = None,
                       step: str | None = None) -> dict:
    """The launch report as one Vega-Lite spec: header, then one step of the page
    (`step`, one of STEPS: what that step shows), or without a step the whole launch:
    KPI tiles, channels (and campaigns), traffic by day, engagement around
    `promotion` (default: the launch's promotion date; none without one), the
    what-if (launch.what_if's result, its allocation) when `what_if` is given,
    and the scenarios compared with the actual when `comparison` is given (with
    each one's daily split when `splits` is given). Refuses an unknown step
    (ValueError). The parts are joined as dicts, as report.report_spec does."""
    spec = found.launch
    facts = [("Launch date", fmt.human_date(spec.launch_date)),
             ("Days since launch", str(found.days)),
             ("Data through", fmt.human_date(max(found.since["obs_date"]))),
             ("Department", spec.department or "")]
    heading = title or f"{spec.launch}: marketing launch"
    if step is None:
        body = _whole_parts(found, comparison, promotion, splits, what_if)
    elif step in STEPS:
        heading += f" · {step.capitalize()}"
        body = {"measure": lambda: _measure_parts(found),
                "analyse": lambda: _analyse_parts(found),
                "adjust": lambda: _adjust_parts(found, what_if),
                "improve": lambda: _improve_parts(found, promotion),
                "scenarios": lambda: _scenario_parts(found, comparison, splits)}[step]()
    else:
        raise ValueError(f"Unknown launch step '{step}': one of {', '.join(STEPS)}.")
    return parts_spec([header(heading, facts), *body], resolve=_RESOLVE, config=_CONFIG)


def render_launch_report(found: LaunchAnalysis, comparison: pd.DataFrame | None = None, *,
                         title: str | None = None, scale: float = 2.0,
                         promotion: date | None = None, splits: pd.DataFrame | None = None,
                         what_if: tuple[dict, dict] | None = None,
                         step: str | None = None) -> bytes:
    """The launch report as PNG bytes (launch_report_spec, of one `step` or the
    whole launch). Does not mutate its inputs."""
    spec = launch_report_spec(found, comparison, title=title, promotion=promotion,
                              splits=splits, what_if=what_if, step=step)
    return vl_convert.vegalite_to_png(spec, scale=scale)
