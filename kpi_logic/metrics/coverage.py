"""Coverage: how far each metric's data reach, and what that makes of a period.

The rules (DOMAIN.md, "Coverage"):
- A metric's cadence is how often its data come: the median gap between its
  latest distinct dates, read as day, business day (daily data that never
  fall on a weekend), week, month, quarter, year, or every N days.
- Its data run through its latest date on or before the day we look from.
  That value speaks for one step of its cadence: a monthly value dated the
  1st covers its month, a weekly value its ISO week, a business-day value
  dated Friday the weekend after it, a value every N days the N days from
  its date. The last day covered is `covered_through`.
- A period is complete for the metric when covered_through reaches its end,
  partial when it ends inside the period ("so far, data through 10 Mar"),
  stale when it ends before the period starts (no data there: neither
  healthy nor unhealthy). A metric with a single date has no cadence: the
  period holding that date counts as complete.
- A formula metric is covered as far as its least covered component.
- The share of a partial period that the data cover is counted in the
  cadence's own units: business days for business-day data, months for
  monthly, quarterly and yearly data, days otherwise.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from kpi_logic.domain.formulas import (
    formula_components,
    formula_metrics,
    formula_values,
    metric_name,
    parse_formula,
    with_components,
)
from kpi_logic.domain.model import Metric
from kpi_logic.domain.periods import as_date, calendar_step, period_end
from kpi_logic.store import Store

# Median gaps (days) read as calendar cadences; anything else is "every N days".
BUSINESS_DAYS_FROM = 10     # fewer recent dates than this cannot show a weekday-only habit
CADENCE_WORDS = {"day": "daily", "business_day": "every business day", "week": "weekly",
                 "month": "monthly", "quarter": "quarterly", "year": "yearly"}
STATES = ("complete", "partial", "stale", "empty")


@dataclass(frozen=True)
class Coverage:
    """How far one metric's data reach, as seen from one day."""
    metric: str
    data_through: date | None        # its latest observation (None: no data at all)
    covered_through: date | None     # the last day that observation speaks for
    cadence: str | None              # day | business_day | week | month | quarter | year | every
    step_days: int | None            # the median gap behind the cadence (None with one date)

    def as_json(self) -> dict:
        return {"data_through": _iso(self.data_through), "covered_through": _iso(self.covered_through),
                "cadence": cadence_words(self.cadence, self.step_days)}


@dataclass(frozen=True)
class PeriodCoverage:
    """What a metric's coverage makes of one period."""
    state: str                       # complete | partial | stale | empty (no data at all)
    share: float                     # the part of the period covered, 0..1 (1 when complete)
    days: int | None                 # days covered from the period's start, when partial


def cadence_of(step_days: int | None, recent_dates: int, weekend_dates: int) -> str | None:
    """The cadence read from the median gap of the latest dates; None with one date."""
    if step_days is None:
        return None
    name = calendar_step(step_days)
    if name == "day" and weekend_dates == 0 and recent_dates >= BUSINESS_DAYS_FROM:
        return "business_day"
    return name or "every"


def cadence_words(cadence: str | None, step_days: int | None = None) -> str | None:
    """"daily", "weekly", "every 9 days"...; None when unknown."""
    if cadence == "every":
        return f"every {step_days} days"
    return CADENCE_WORDS.get(cadence) if cadence else None


def covered_through(last_date, cadence: str | None, step_days: int | None = None) -> date:
    """The last day a value dated `last_date` speaks for (see the module rules)."""
    last_date = as_date(last_date)
    if cadence in ("week", "month", "quarter", "year"):
        return period_end(last_date, cadence)
    if cadence == "business_day" and last_date.weekday() == 4:
        return last_date + timedelta(days=2)
    if cadence == "every" and step_days:
        return last_date + timedelta(days=step_days - 1)
    return last_date


def coverage_from_row(metric: str, last_date, recent_dates: int, step_days: int | None,
                      weekend_dates: int) -> Coverage:
    """A Coverage from one row of store.freshness.coverage_rows."""
    cadence = cadence_of(step_days, recent_dates, weekend_dates)
    return Coverage(metric, as_date(last_date), covered_through(last_date, cadence, step_days),
                    cadence, step_days)


def combined(metric: str, parts: Iterable[Coverage]) -> Coverage:
    """A formula metric's coverage: that of its least covered component; no data
    when any component has none."""
    parts = list(parts)
    if not parts or any(p.data_through is None for p in parts):
        return Coverage(metric, None, None, None, None)
    limiting = min(parts, key=lambda p: (p.covered_through, p.data_through))
    return Coverage(metric, min(p.data_through for p in parts), limiting.covered_through,
                    limiting.cadence, limiting.step_days)


def period_coverage(start, end, coverage: Coverage) -> PeriodCoverage:
    """complete, partial, stale or empty for the period [start, end] (see the module rules)."""
    start, end = as_date(start), as_date(end)
    if coverage.data_through is None:
        return PeriodCoverage("empty", 0.0, None)
    if coverage.cadence is None:
        # One date: no cadence to say how far it reaches.
        state = "stale" if coverage.data_through < start else "complete"
        return PeriodCoverage(state, 1.0 if state == "complete" else 0.0, None)
    through = coverage.covered_through
    if through >= end:
        return PeriodCoverage("complete", 1.0, None)
    if through < start:
        return PeriodCoverage("stale", 0.0, None)
    share = _units(start, through, coverage.cadence) / _units(start, end, coverage.cadence)
    return PeriodCoverage("partial", min(max(share, 0.0), 1.0), (through - start).days + 1)


def _units(start: date, last: date, cadence: str) -> int:
    """How many of the cadence's units (days, business days or months) [start, last] holds."""
    if cadence in ("month", "quarter", "year"):
        return (last.year - start.year) * 12 + last.month - start.month + 1
    days = (last - start).days + 1
    if cadence != "business_day":
        return days
    weeks, rest = divmod(days, 7)
    extra = sum(1 for i in range(rest) if (start.weekday() + i) % 7 < 5)
    return max(weeks * 5 + extra, 1)


def metric_coverages(rows: Iterable[tuple], bases: Mapping[str, Iterable[str]]) -> dict[str, Coverage]:
    """{name: Coverage} from coverage rows of base metrics; `bases` maps each wanted
    metric to the base metrics it is computed from (itself for a base metric)."""
    found = {row[0]: coverage_from_row(*row) for row in rows}
    return {name: combined(name, [found.get(p, Coverage(p, None, None, None, None)) for p in parts])
            for name, parts in bases.items()}


def coverages(store: Store, names: Iterable[str], as_of=None,
              metrics: Mapping[str, Metric] | None = None) -> dict[str, Coverage]:
    """{name: Coverage} of metrics as seen on `as_of` (data after it ignored; default:
    all data), in one query. A name that is not a defined metric has no data."""
    metrics = store.definitions.metrics() if metrics is None else metrics
    components = formula_components(metrics)
    bases = {n: [c for c in with_components(n, components) if c in metrics and not metrics[c].formula]
             for n in names}
    wanted = sorted({b for parts in bases.values() for b in parts})
    rows = store.history.coverage_rows(wanted, through=as_date(as_of) if as_of else date.max) \
        if wanted else []
    return metric_coverages(rows, bases)


def is_flow(name: str, metrics: Mapping[str, Metric]) -> bool:
    """True when the metric adds up over time, so a part of a period holds a part of
    its value and a running period is judged against a pro-rated target: a summed
    metric, or a formula that scales with its summed parts (revenue - costs, but
    not spend / customers). Probed with two sets of numbers, never with eval."""
    metric = metrics.get(name)
    if metric is None:
        return False
    if not metric.formula:
        return metric.aggregation == "sum"
    formula = parse_formula(metric.formula)
    by_normal = {metric_name(n): n for n in metrics}
    used = sorted(formula_metrics(formula))
    flows = {u: is_flow(by_normal.get(u, u), metrics) for u in used}
    if not any(flows.values()):
        return False
    probes = [2.0 + 1.37 * i for i in range(len(used))], [5.0 + 0.61 * i for i in range(len(used))]
    for probe in probes:
        whole = {u: pd.Series([v]) for u, v in zip(used, probe, strict=True)}
        half = {u: pd.Series([v / 2 if flows[u] else v]) for u, v in zip(used, probe, strict=True)}
        full, part = formula_values(formula, whole).iloc[0], formula_values(formula, half).iloc[0]
        if pd.isna(full) or pd.isna(part) or abs(part * 2 - full) > 1e-9 * max(1.0, abs(full)):
            return False
    return True


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
