"""`explain`: why a KPI moved against the previous period or the same period last
year, split into its formula's components, its dimension values and its
campaigns (metrics/explain.py)."""
from __future__ import annotations

from kpi_logic.cli.common import emit, parsed_date, reading, table_text


def cmd_explain(args) -> int:
    from kpi_logic.metrics.explain import explanation
    with reading(args.db) as store:
        found = explanation(store, args.kpi, period=args.period, vs=args.vs,
                            as_of=parsed_date(args.as_of))
    return emit(args, found, explanation_text)


def explanation_text(explained: dict) -> str:
    """The sentence, then the drivers, the dimension values and the campaigns as
    tables, every figure exact (the JSON has them unrounded)."""
    from kpi_logic.domain.formatting import (
        explanation_line,
        explanation_splits,
        format_exact,
        format_exact_delta,
    )
    unit = explained["unit"]
    out = [explanation_line(explained)]
    if explained.get("partial"):
        out.append("(the data end inside the period: its days so far against as many days)")
    drivers = [{"component": d["component"], "before": format_exact(d["before"], d["unit"]),
                "after": format_exact(d["after"], d["unit"]),
                "contribution": format_exact_delta(d["contribution"], unit)}
               for d in explained["drivers"]]
    if drivers:
        out += ["", table_text(drivers, ("component", "before", "after", "contribution"))]
    for _, split, shares in explanation_splits(explained):
        rows = [{split: s["dimension"] or "(none)", "value": format_exact(s["value"], unit),
                 "previous": format_exact(s["previous"], unit),
                 "contribution": format_exact_delta(s["contribution"], unit),
                 "mix": "" if s["mix"] is None else format_exact_delta(s["mix"], unit),
                 "rate": "" if s["rate"] is None else format_exact_delta(s["rate"], unit)}
                for s in shares]
        out += ["", table_text(rows, (split, "value", "previous", "contribution", "mix",
                                      "rate"))]
    if explained.get("note") and explained.get("change", {}).get("abs") is not None:
        out.append(f"Note: {explained['note']}")
    return "\n".join(out)
