"""How good the KPI forecast is, honestly: every monthly KPI of the demo company,
forecast on day 7, 14 and 21 of each of its last 12 complete months from the
data up to that day only, against the value the month ended at.

Prints, per method and overall: forecasts made, the median and mean absolute
error (as a share of the actual), how often the actual fell inside the 80%
range (the range is honest when this is near 80%), and the Brier score of the
chance of meeting the target (0 is perfect; always saying 50% scores 0.25).

Then the key results' forecast: every key result of the demo, measured as it
is (a total, a latest or a trailing value), forecast on days 15, 30, 45, 60
and 75 of its own window when it has ended, and of the KR_WINDOWS equally long
windows before it, from the data up to that day only, against the key
result's value (okrs.window_value) at each window's end. No Brier score: the
targets belong to the key results' own quarter, not to the windows before.

    python bench/backtest.py [--db FILE]   (default: a fresh demo in a temp folder)

--db takes any Lodestar database (a DuckDB file or a postgresql:// URL): the same
backtest on a team's own history, its monthly KPIs and its key results.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpi_logic.demo.company import load_demo
from kpi_logic.domain.periods import as_of_or_today, period_end, previous_period
from kpi_logic.metrics.coverage import coverages, is_flow
from kpi_logic.metrics.forecast import (
    BACKTEST_PERIODS,
    Series,
    earlier_windows,
    kr_forecast,
    metric_parts,
    period_forecast,
)
from kpi_logic.metrics.kpis import target_for
from kpi_logic.metrics.okrs import TRAILING_DAYS, measure_kind, window_value
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import open_store

DAYS = (7, 14, 21)
MONTHS = 12
KR_DAYS = (15, 30, 45, 60, 75)
KR_WINDOWS = 4


def trials(store) -> list[dict]:
    """One row per forecast: method, actual, value, low, high, chance, met."""
    metrics, kpis, targets = (store.definitions.metrics(), store.definitions.kpis(),
                              store.definitions.targets())
    monthly = [k for k in kpis if k.period == "month" and k.metric in metrics]
    covered = coverages(store, [k.metric for k in monthly], metrics=metrics)
    through = max(c.data_through for c in covered.values() if c.data_through)
    last = previous_period(through + timedelta(days=1), "month")    # the last complete month
    first = last
    for _ in range(MONTHS + BACKTEST_PERIODS):
        first = previous_period(first, "month")
    parts = sorted({p for k in monthly for p in metric_parts(metrics[k.metric])})
    daily = rolled_up(store, parts, "day", start=first, end=period_end(last, "month"))
    wide = daily.pivot_table(index="period", columns="metric", values="value", aggfunc="first")
    rows = []
    for kpi in monthly:
        series = Series(wide, metrics[kpi.metric], metrics)
        cadence = covered[kpi.metric].cadence
        start = last
        for _ in range(MONTHS):
            actual = series.value(start, period_end(start, "month"))
            target = target_for(kpi, start.strftime("%Y-%m"), targets)
            for day in DAYS:
                made = period_forecast(series, start, "month", start + timedelta(days=day - 1),
                                       flow=is_flow(kpi.metric, metrics),
                                       daily=cadence in ("day", "business_day"),
                                       target=target, target_kind=kpi.target_kind)
                if made is None or actual is None or made["low"] is None:
                    continue
                met = actual >= target if kpi.target_kind != "max" else actual <= target
                rows.append({"method": made["method"], "actual": actual, **made, "met": met})
            start = previous_period(start, "month")
    return rows


def kr_trials(store) -> list[dict]:
    """One row per key-result forecast: method (the measure kind and the method),
    actual, value, low, high."""
    metrics, key_results = store.definitions.metrics(), store.definitions.key_results()
    key_results = [kr for kr in key_results if kr.metric in metrics]
    covered = coverages(store, sorted({kr.metric for kr in key_results}), metrics=metrics)
    end = max(c.covered_through for c in covered.values() if c.covered_through)
    windows = {kr.title: [w for w in ([(kr.start_date, kr.deadline)]
                                      + earlier_windows(kr.start_date, kr.deadline, KR_WINDOWS))
                          if w[1] <= end] for kr in key_results}
    first = min(earlier_windows(*w, BACKTEST_PERIODS)[-1][0] for ws in windows.values() for w in ws)
    parts = sorted({p for kr in key_results for p in metric_parts(metrics[kr.metric])}
                   | {kr.metric for kr in key_results})
    daily = rolled_up(store, parts, "day", start=first, end=end)
    wide = daily.pivot_table(index="period", columns="metric", values="value", aggfunc="first")
    long = {name: pd.DataFrame({"period": list(wide.index), "value": wide[name].to_numpy()})
            for name in wide.columns}
    rows = []
    for kr in key_results:
        series, kind = Series(wide, metrics[kr.metric], metrics), measure_kind(kr.metric, metrics)
        for start, deadline in windows[kr.title]:
            actual = window_value(kr.metric, long, metrics, start, deadline)
            for day in KR_DAYS:
                made = kr_forecast(series, start, deadline, start + timedelta(days=day - 1),
                                   kind=kind, daily=covered[kr.metric].cadence in
                                   ("day", "business_day"), start=kr.start, target=kr.target,
                                   trailing_days=TRAILING_DAYS)
                if made is None or actual is None or made["low"] is None:
                    continue
                rows.append({**made, "method": f"{kind}: {made['method']}", "actual": actual,
                             "met": False})
    return rows


def summary(rows: list[dict]) -> dict:
    errors = [abs(r["value"] - r["actual"]) / abs(r["actual"]) for r in rows if r["actual"]]
    inside = [r["low"] <= r["actual"] <= r["high"] for r in rows]
    chances = [(r["chance_of_target"] - (1.0 if r["met"] else 0.0)) ** 2
               for r in rows if r["chance_of_target"] is not None]
    return {"forecasts": len(rows), "median_error": statistics.median(errors) if errors else None,
            "mean_error": statistics.fmean(errors) if errors else None,
            "coverage": sum(inside) / len(inside) if inside else None,
            "brier": statistics.fmean(chances) if chances else None}


def table(rows: list[dict], brier: bool = True) -> str:
    groups = {m: [r for r in rows if r["method"] == m] for m in sorted({r["method"] for r in rows})}
    groups["all"] = rows
    lines = ["| method | forecasts | median abs error | mean abs error | inside 80% range"
             + (" | Brier |" if brier else " |"),
             "|---|---:|---:|---:|---:|" + ("---:|" if brier else "")]
    for name, group in groups.items():
        s = summary(group)
        lines.append(f"| {name} | {s['forecasts']} | {s['median_error']:.1%} | {s['mean_error']:.1%} "
                     f"| {s['coverage']:.0%} |" + (f" {s['brier']:.3f} |" if brier else ""))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None,
                        help="any Lodestar database: a DuckDB file or a postgresql:// URL "
                             "(default: the demo company, loaded into a temporary file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path, source = args.db, "your history" if args.db else "the demo"
        if path is None:
            path = Path(folder) / "demo.duckdb"
            with open_store(path) as store:
                load_demo(store, end=as_of_or_today() - timedelta(days=1))
        with open_store(path, read_only=True) as store:
            rows, kr_rows = trials(store), kr_trials(store)
    print(f"Backtest of the KPI forecast on {source}: {len(rows)} forecasts, days {DAYS} of "
          f"each of the last {MONTHS} complete months, monthly KPIs\n")
    print(table(rows))
    print(f"\nBacktest of the key results' forecast on {source}: {len(kr_rows)} forecasts, "
          f"days {KR_DAYS} of each key result's own window (once ended) and of the "
          f"{KR_WINDOWS} equally long windows before it\n")
    print(table(kr_rows, brier=False))


if __name__ == "__main__":
    main()
