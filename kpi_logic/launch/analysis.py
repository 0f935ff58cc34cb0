"""The marketing launch: channel and campaign KPIs, and the launch read from
the store for the page and the CLI (before/after windows: launch/windows.py).

Launch history is ordinary history: the channel sits in the dimension column
and the metrics are store.launches.LAUNCH_METRICS. Rates come from summed
components (conversion = purchases / visitors, CAC = spend / new customers),
never from averaging daily rates. The budget what-ifs live in kpi_logic.launch.curves
(response curves), kpi_logic.launch.budget (projections, scenario comparison) and
kpi_logic.launch.optimiser. Everything here is pure except the functions under
"reading a launch from the store".
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import Launch
from kpi_logic.domain.numbers import is_missing
from kpi_logic.launch import rules
from kpi_logic.launch.budget import (
    ACTUAL,
    WHAT_IF,
    actual_allocation,
    blended,
    extrapolation_warnings,
    outside_seen,
    projected,
    projection_vs_actual,
    ratio,
    scenario_comparison,
)
from kpi_logic.launch.curves import fitted_curve
from kpi_logic.launch.optimiser import optimised_split
from kpi_logic.launch.results import Engagement, LaunchSummary, LaunchTotal, Optimisation
from kpi_logic.launch.windows import engagement_change, require_launch_date, traffic_uplift
from kpi_logic.metrics.kpis import kpi_status, number
from kpi_logic.store import Store

KPI_COLUMNS = ["channel", "spend", "visitors", "purchases", "new_customers", "conversion_rate",
               "cac", "budget_share", "customer_share", "above_cac_target"]
CAMPAIGN_COLUMNS = ["channel", "campaign", *KPI_COLUMNS[1:]]


# --- channel KPIs ----------------------------------------------------------

def channel_kpis(daily: pd.DataFrame, cac_target: float | None = None) -> pd.DataFrame:
    """DataFrame[KPI_COLUMNS], one row per channel (sorted), from daily rows with
    columns channel, spend, visitors, purchases, new_customers.

    Components are summed first; a rate with a zero or missing denominator is
    null (never inf). above_cac_target is null without a target or a CAC.
    Does not mutate `daily`.
    """
    return _kpis(daily, ["channel"], cac_target)


def campaign_kpis(totals: pd.DataFrame, cac_target: float | None = None) -> pd.DataFrame:
    """DataFrame[CAMPAIGN_COLUMNS], one row per channel and campaign, like
    channel_kpis (shares are of the whole launch) from rows with columns
    channel, campaign, spend, visitors, purchases, new_customers. Does not mutate."""
    return _kpis(totals, ["channel", "campaign"], cac_target)


def _kpis(rows: pd.DataFrame, keys: list[str], cac_target: float | None) -> pd.DataFrame:
    parts = ["spend", "visitors", "purchases", "new_customers"]
    sums = rows.groupby(keys, sort=True)[parts].sum(min_count=1).reset_index()
    total_spend, total_customers = sums["spend"].sum(), sums["new_customers"].sum()
    out = []
    for r in sums.to_dict("records"):
        cac = ratio(r["spend"], r["new_customers"])
        out.append({**{k: r[k] for k in keys + parts},
                    "conversion_rate": ratio(r["purchases"], r["visitors"]), "cac": cac,
                    "budget_share": ratio(r["spend"], total_spend),
                    "customer_share": ratio(r["new_customers"], total_customers),
                    "above_cac_target": None if cac is None or is_missing(cac_target)
                    else bool(cac > cac_target)})
    columns = keys + KPI_COLUMNS[1:]
    frame = pd.DataFrame(out, columns=columns)
    for column in KPI_COLUMNS[1:-1]:
        frame[column] = frame[column].astype(float)
    frame["above_cac_target"] = frame["above_cac_target"].astype(object)
    return frame


def campaign_sentences(campaigns: pd.DataFrame, channels: list[str],
                       cac_target: float | None) -> list[str]:
    """What the campaign table says, in sentences: the best converting campaign,
    those above the CAC target, those that spent without winning a customer
    (no CAC to compare), and the channels without a campaign breakdown.
    `campaigns` are campaign_kpis rows; `channels` every channel of the launch."""
    name = lambda r: f"{r['campaign'] or '(no campaign)'} on {fmt.dimension_label(r['channel'])}"
    out = []
    rated = campaigns.dropna(subset=["conversion_rate"])
    if len(rated) > 1:
        top = rated.loc[rated["conversion_rate"].idxmax()]
        out.append(f"Best converting: {name(top)} "
                   f"({fmt.format_value(top['conversion_rate'], 'percent')} of visitors buy).")
    if not is_missing(cac_target):
        dear = rules.above_cac_target(campaigns)
        target = fmt.format_value(cac_target, "currency")
        out.append(f"Above the CAC target of {target}: " + ", ".join(
            f"{name(r)} ({fmt.format_value(r['cac'], 'currency')})"
            for r in dear.to_dict("records")) + "." if len(dear)
            else f"No campaign is above the CAC target of {target}.")
    spent = rules.spent_without_customers(campaigns)
    if len(spent):
        out.append("No new customers at all: " + ", ".join(
            f"{name(r)} ({fmt.format_value(r['spend'], 'currency')} spent)"
            for r in spent.to_dict("records")) + ".")
    plain = sorted(set(channels) - set(campaigns["channel"]))
    if plain:
        out.append(f"Without a campaign breakdown: {', '.join(map(fmt.dimension_label, plain))}.")
    return out


# --- reading a launch from the store ---------------------------------------

@dataclass(frozen=True)
class LaunchAnalysis:
    """One launch's data: `daily` is all launch history (every date, '' channel
    included), `since` the channel rows from the launch date on, `days` the
    days those cover; curves for channels with spend, problems for the rest;
    `campaigns` the campaign_kpis since the launch (empty when the history
    names no campaign); `spend_unit` the unit of the spend metric's definition
    (default currency), in which the what-if and the optimiser write money."""
    launch: Launch
    daily: pd.DataFrame
    since: pd.DataFrame
    days: int
    kpis: pd.DataFrame
    curves: dict
    curve_problems: dict
    campaigns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CAMPAIGN_COLUMNS))
    spend_unit: str = "currency"


def chosen_launch(launches: list[Launch], name: str | None = None,
                  today: date | None = None) -> Launch:
    """The launch called `name`, else the latest that has started by `today`
    (default: today), else the soonest to come: a launch planned for years ahead
    never hides the one running. Refuses none defined and an unknown name
    (InputError listing the known ones)."""
    if not launches:
        raise InputError("No launch is defined yet: import a launches file or sheet with the "
                         "columns launch and launch_date (optionally department, "
                         "conversion_target, cac_target).")
    if name is None:
        dated = [one for one in launches if one.launch_date is not None]
        started = [one for one in dated if one.launch_date <= (today or date.today())]
        if started:
            return max(started, key=lambda one: one.launch_date)
        return min(dated, key=lambda one: one.launch_date) if dated else launches[-1]
    for launch in launches:
        if launch.launch == name:
            return launch
    known = ", ".join(one.launch for one in launches)
    raise InputError(f"No launch named '{name}'. Known launches: {known}.")


def launch_analysis(store: Store, launch: str | None = None) -> LaunchAnalysis:
    """Everything the launch page and CLI show, read once. Refuses a missing launch
    date, no channel history since it, a single day of it, and negative spend."""
    chosen = chosen_launch(store.definitions.launches(), launch)
    require_launch_date(chosen.launch_date)
    daily = store.launches.daily()
    since = daily[(daily["channel"] != "") & daily["obs_date"].map(lambda d: d >= chosen.launch_date)]
    if since.empty:
        raise InputError(f"Launch '{chosen.launch}' has no channel history from its launch date "
                         f"{chosen.launch_date} on: import daily spend, visitors, purchases and "
                         "new_customers per channel (channel in the dimension column).")
    first, last = since["obs_date"].min(), since["obs_date"].max()
    if first == last:
        raise InputError(f"Launch '{chosen.launch}' has a single day of data since its launch "
                         f"({first}): CAC, conversion and projections need at least two days. "
                         "Import more days of history.")
    curves, problems = {}, {}
    for channel, rows in since.groupby("channel", sort=True):
        try:
            curves[channel] = fitted_curve(rows, channel)
        except InputError as refusal:
            if (rows["spend"] < 0).any():
                raise
            problems[channel] = refusal.message
    campaigns = campaign_kpis(store.launches.campaign_totals(chosen.launch_date),
                              chosen.cac_target)
    # Channels without campaigns are already whole in the channel table.
    named = campaigns.groupby("channel")["campaign"].transform(lambda c: (c != "").any())
    return LaunchAnalysis(chosen, daily, since, (last - first).days + 1,
                          channel_kpis(since, chosen.cac_target), curves, problems,
                          campaigns[named.astype(bool)].reset_index(drop=True),
                          _spend_unit(store))


def _spend_unit(store: Store) -> str:
    """The unit of the spend metric as defined; currency when it is not defined,
    or only inferred from an import (inference cannot tell money from a count)."""
    spend = store.definitions.metrics().get("spend")
    if spend is None or store.definitions.inferred_metric_names(["spend"]):
        return "currency"
    return spend.unit


def actual_split(found: LaunchAnalysis) -> dict[str, float]:
    """The actual spend per day of each channel that has a response curve."""
    return {c: x for c, x in actual_allocation(found.kpis, found.days).items() if c in found.curves}


def launch_kpis(found: LaunchAnalysis) -> LaunchTotal:
    """The blended totals since the launch (budget.blended) with the status of
    conversion (target: at least) and CAC (target: at most); None without a target."""
    total = blended(found.kpis)
    spec = found.launch
    total["conversion_status"] = _status(total["conversion_rate"], spec.conversion_target,
                                         rules.CONVERSION_TARGET_KIND)
    total["cac_status"] = _status(total["cac"], spec.cac_target, rules.CAC_TARGET_KIND)
    return total


def what_if(found: LaunchAnalysis, allocation_per_day: Mapping[str, float]) -> dict:
    """{projection, channels, totals, warnings, outside_seen} for a daily budget
    split: the projection (budget.projected), projected beside actual per channel
    (budget.projection_vs_actual), totals of "Actual", "Actual split, projected"
    and "What-if" over the channels with a curve (budget.scenario_comparison),
    and the channels spending outside the range seen (budget.outside_seen, and
    in sentences). Refuses what budget.projected refuses."""
    projection = projected(found.curves, allocation_per_day, found.days, found.kpis)
    actual = curve_channels(found)
    baseline = projected(found.curves, actual_split(found), found.days, found.kpis)
    return {"projection": projection,
            "channels": projection_vs_actual(found.kpis, projection),
            "totals": scenario_comparison(actual, {WHAT_IF: projection}, baseline),
            "warnings": extrapolation_warnings(found.curves, allocation_per_day,
                                               unit=found.spend_unit),
            "outside_seen": outside_seen(found.curves, allocation_per_day)}


def launch_summary(store: Store, launch: str | None = None) -> LaunchSummary:
    """JSON-ready summary (the `launch` command): totals since the launch date per
    channel, per campaign (when the history names campaigns) and blended, with
    KPI statuses, each channel's daily curve, the traffic uplift and, when the
    launch names a promotion date, engagement per visitor around it."""
    found = launch_analysis(store, launch)
    spec = found.launch
    uplift = traffic_uplift(found.daily, spec.launch_date)
    channels = []
    for r in found.kpis.to_dict("records"):
        curve = found.curves.get(r["channel"])
        channels.append({**{k: _json(v) for k, v in r.items()},
                         "curve": curve.as_dict() if curve else None,
                         "curve_problem": found.curve_problems.get(r["channel"])})
    return {"launch": spec.launch, "launch_date": spec.launch_date.isoformat(),
            "department": spec.department, "days": found.days,
            "data_through": max(found.since["obs_date"]).isoformat(),
            "conversion_target": spec.conversion_target, "cac_target": spec.cac_target,
            "promotion_date": spec.promotion_date.isoformat() if spec.promotion_date else None,
            "channels": channels, "total": launch_kpis(found),
            "campaigns": [{k: _json(v) for k, v in r.items()}
                          for r in found.campaigns.to_dict("records")],
            "uplift": {"windows": uplift.windows_text(),
                       **{k: _json(v) for k, v in (uplift.table.to_dict("records") or [{}])[0].items()
                          if k != "measure"}},
            "engagement": _engagement_json(found)}


def _engagement_json(found: LaunchAnalysis) -> Engagement | None:
    """Engagement per visitor before and from the promotion date, or None without one."""
    if found.launch.promotion_date is None:
        return None
    change = engagement_change(found.daily, found.launch.promotion_date)
    return {"windows": change.windows_text(),
            "per_visitor": [{k: _json(v) for k, v in r.items()}
                            for r in change.table.to_dict("records")]}


def _status(value, target, kind: str) -> str | None:
    return None if target is None or pd.isna(target) else kpi_status(value, target, kind)


def _json(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) or value is None:
        return value
    return number(value)


def optimised_launch(store: Store, budget_per_day: float,
                     launch: str | None = None, minimums: Mapping[str, float] | None = None,
                     maximums: Mapping[str, float] | None = None, *,
                     within_seen: bool = True) -> Optimisation:
    """JSON-ready best split of a daily budget (the `launch-optimise` command),
    with the actual split for comparison, sentences on what moved where, and
    each channel's bounds; within the daily spend seen unless `within_seen` is
    False (optimiser.optimised_split)."""
    found = launch_analysis(store, launch)
    best = optimised_split(found.curves, actual_split(found), budget=budget_per_day,
                           minimums=minimums, maximums=maximums, within_seen=within_seen,
                           unit=found.spend_unit)
    changes = best["changes"]
    customers = float(changes["new_customers_after"].sum())
    bound = lambda bounds, channel: _json(bounds.get(channel))
    return {"launch": found.launch.launch, "budget": float(budget_per_day), "per": "day",
            "within_seen": within_seen,
            "allocation": [{"channel": r.channel, "spend": r.spend_after,
                            "projected_new_customers": r.new_customers_after,
                            "actual_spend": r.spend_before,
                            "minimum": bound(best["minimums"], r.channel),
                            "maximum": bound(best["maximums"], r.channel),
                            "lowest_seen": _json(found.curves[r.channel].min_spend_seen),
                            "highest_seen": _json(found.curves[r.channel].max_spend_seen)}
                           for r in changes.itertuples(index=False)],
            "projected_new_customers": customers,
            "projected_cac": ratio(budget_per_day, customers),
            "actual_projected_new_customers": float(changes["new_customers_before"].sum()),
            "moves": best["moves"], "warnings": best["warnings"],
            "outside_seen": best["outside_seen"], "skipped": found.curve_problems}


def saved_scenario(store: Store, launch: str, name: str,
                   allocation_per_day: Mapping[str, float], *, replace: bool = False) -> int:
    """Save a daily budget split of `launch` with its projection over the days since
    the launch; returns the scenario id. Refuses what projected and
    store.launches.save_scenario refuse (no name, a taken name, unknown channels)."""
    found = launch_analysis(store, launch)
    projection = projected(found.curves, allocation_per_day, found.days, found.kpis)
    return store.scenarios.save(found.launch.launch, name, found.days, projection,
                                      replace=replace)


def split_table(splits: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """DataFrame[scenario, <one column per channel>, total]: each named daily
    budget split ($ per day) in a row, channels in sorted order, a channel a
    split leaves out as 0; a channel named "scenario" or "total" gets " (channel)"
    added to its column. Pure."""
    channels = sorted({c for split in splits.values() for c in split})
    column = {c: f"{c} (channel)" if c in ("scenario", "total") else c for c in channels}
    rows = [{"scenario": name, **{column[c]: float(split.get(c, 0.0)) for c in channels},
             "total": float(sum(split.values()))} for name, split in splits.items()]
    return pd.DataFrame(rows, columns=["scenario", *column.values(), "total"])


def scenario_splits(store: Store, names: list[str],
                    launch: str | None = None) -> pd.DataFrame:
    """split_table of the actual daily spend per channel and of saved scenarios,
    by name. Refuses an unknown scenario (InputError)."""
    found = launch_analysis(store, launch)
    splits = {ACTUAL: actual_split(found)}
    for name in names:
        _, frame = store.scenarios.load(found.launch.launch, name)
        splits[name] = dict(zip(frame["channel"], frame["spend_per_day"], strict=True))
    return split_table(splits)


def compared_scenarios(store: Store, names: list[str],
                       launch: str | None = None) -> pd.DataFrame:
    """scenario_comparison of the actual since launch and saved scenarios, by name.
    The actual counts the channels with a response curve only, as every
    scenario and the what-if do (the others are in found.curve_problems)."""
    found = launch_analysis(store, launch)
    frames = {}
    for name in names:
        days, frame = store.scenarios.load(found.launch.launch, name)
        # A scenario saved when fewer days were in is scaled to today's days:
        # its budget is per day, so totals grow with the days compared.
        scale = found.days / days
        frames[name] = frame.assign(spend=frame["spend_per_day"] * found.days,
                                    new_customers=frame["new_customers"] * scale,
                                    purchases=frame["purchases"] * scale,
                                    visitors=frame["visitors"] * scale)
    baseline = projected(found.curves, actual_split(found), found.days, found.kpis)
    return scenario_comparison(curve_channels(found), frames, baseline)


def curve_channels(found: LaunchAnalysis) -> pd.DataFrame:
    """found.kpis of the channels with a response curve: what projections compare with."""
    return found.kpis[found.kpis["channel"].isin(list(found.curves))]
