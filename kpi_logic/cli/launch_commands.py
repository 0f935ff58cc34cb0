"""The marketing launch's commands: `launch`, `launch-optimise` and the launch
page's PNG for `report --page launch`."""
from __future__ import annotations

from collections.abc import Sequence

from kpi_logic.cli.common import Refused, emit, parsed_date, reading, table_text
from kpi_logic.domain.formatting import format_value


def launch_png(args) -> bytes:
    """The launch page's report: the whole launch, or one step of the page (--step),
    and saved scenarios compared with the actual."""
    from kpi_logic.launch.analysis import compared_scenarios, launch_analysis, scenario_splits
    from kpi_logic.output.launch_report import render_launch_report
    promotion = parsed_date(args.promotion, "--promotion")
    names = [n.strip() for n in (args.compare or "").split(",") if n.strip()]
    comparison = splits = None
    with reading(args.db) as store:
        found = launch_analysis(store, args.launch)
        if names:
            comparison = compared_scenarios(store, names, args.launch)
            splits = scenario_splits(store, names, args.launch)
    step = getattr(args, "step", None)
    if step == "scenarios" and comparison is None:
        raise Refused("--step scenarios needs --compare A,B: the saved scenarios to compare")
    return render_launch_report(found, comparison, promotion=promotion, splits=splits, step=step)


def cmd_launch(args) -> int:
    from kpi_logic.launch.analysis import launch_summary
    with reading(args.db) as store:
        summary = launch_summary(store, args.launch)
    return emit(args, summary, launch_text)


def launch_text(summary: dict) -> str:
    rows = [{**_launch_row(c), "curve": _curve_text(c.get("curve"))}
            for c in summary.get("channels", [])]
    total = summary.get("total", {})
    lines = [
        f"{summary.get('launch')} (launched {summary.get('launch_date')}), totals since launch", "",
        table_text(rows, ("channel", "spend", "visitors", "purchases", "new_customers",
                          "conversion_rate", "cac", "curve")), ""]
    campaigns = [{**_launch_row(c), "campaign": c.get("campaign") or "—"}
                 for c in summary.get("campaigns", [])]
    if campaigns:
        lines += [table_text(campaigns, ("channel", "campaign", "spend", "new_customers",
                                         "conversion_rate", "cac")), ""]
    lines.append(f"Total: spend {format_value(total.get('spend'), 'currency')}, "
                 f"{format_value(total.get('new_customers'))} new customers, "
                 f"conversion {format_value(total.get('conversion_rate'), 'percent')}, "
                 f"CAC {format_value(total.get('cac'), 'currency')}")
    return "\n".join(lines)


def _launch_row(row: dict) -> dict:
    return {**row, "spend": format_value(row.get("spend"), "currency"),
            "conversion_rate": format_value(row.get("conversion_rate"), "percent"),
            "cac": format_value(row.get("cac"), "currency")}


def _curve_text(curve: dict | None) -> str:
    if not curve:
        return "—"
    if curve.get("model") == "power":
        return (f"{curve.get('a', 0):.3g} x spend^{curve.get('b', 0):.2f} "
                f"(R² {curve.get('r2') or 0:.2f})")
    return "constant CAC"


def _bounds(pairs: Sequence[str] | None, flag: str) -> dict[str, float]:
    out = {}
    for pair in pairs or []:
        channel, _, amount = pair.partition("=")
        try:
            out[channel.strip()] = float(amount)
        except ValueError:
            raise Refused(f"{flag} {pair}: write CHANNEL=AMOUNT, e.g. {flag} social=500") from None
        if not channel.strip():
            raise Refused(f"{flag} {pair}: the channel name is missing")
    return out


def cmd_launch_optimise(args) -> int:
    from kpi_logic.launch.analysis import optimised_launch
    minimums, maximums = _bounds(args.min, "--min"), _bounds(args.max, "--max")
    with reading(args.db) as store:
        result = optimised_launch(store, args.budget, args.launch, minimums, maximums,
                                  within_seen=not args.anywhere)
    return emit(args, result, optimise_text)


def optimise_text(result: dict) -> str:
    money = lambda value: format_value(value, "currency", whole=True)
    rows = [{**a, **{k: money(a.get(k)) for k in ("spend", "actual_spend", "lowest_seen",
                                                  "highest_seen")}}
            for a in result.get("allocation", [])]
    bounded = ("within the daily spend seen per channel" if result.get("within_seen")
               else "allowing spend outside the range seen")
    return "\n".join(
        [f"Best split of {money(result.get('budget'))} a day for {result.get('launch')}, "
         f"{bounded}", "",
         table_text(rows, ("channel", "spend", "projected_new_customers", "actual_spend",
                           "lowest_seen", "highest_seen")), "",
         f"Projected: {result.get('projected_new_customers') or 0:,.1f} new customers a day, "
         f"CAC {format_value(result.get('projected_cac'), 'currency')}"]
        + [f"- {m}" for m in result.get("moves", [])]
        + [f"Warning: {w}" for w in result.get("warnings", [])])
