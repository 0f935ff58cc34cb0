"""Where a KPI will land by the end of its running period (metrics/forecast.py):
the estimate's rules on series worked by hand, the range from its own record,
and the scorecard's JSON."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import Metric
from kpi_logic.metrics.explain import explanation
from kpi_logic.metrics.forecast import MIN_BACKTEST, Series, estimate, period_forecast
from kpi_logic.metrics.kpis import scorecard
from tests.builders import add_daily, add_metric
from tests.readable import shown
from tests.test_pages import PAGES, engine, opened, page_db  # noqa: F401 (fixture)

LEADS = Metric("leads", aggregation="sum")


def daily(values_of, first: date, last: date, name: str = "leads") -> pd.DataFrame:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return pd.DataFrame({name: [values_of(d) for d in days]}, index=days)


def weekdays_busy(day: date) -> float:
    """100 a weekday, 20 a weekend day: a business that sells on weekdays."""
    return 100.0 if day.weekday() < 5 else 20.0


def test_a_weekday_business_is_not_projected_from_its_weekend():
    """Through Sunday 8 Feb 2026 (5 weekdays, 3 weekend days: 560 so far), February
    (20 weekdays, 8 weekend days) ends at 2,160. The share of days would say 560 x 28/8
    = 1,960; the weekday weights say 2,160 exactly."""
    series = Series(daily(weekdays_busy, date(2025, 1, 1), date(2026, 2, 8)), LEADS, {"leads": LEADS})
    by_pace = estimate(series, date(2026, 2, 1), "month", date(2026, 2, 8), flow=True, daily=False)
    by_weekday = estimate(series, date(2026, 2, 1), "month", date(2026, 2, 8), flow=True, daily=True)
    assert by_pace == (pytest.approx(560 * 28 / 8), "pace")
    assert by_weekday == (pytest.approx(2160), "pace_weekday")


def test_a_steady_series_lands_where_it_is_heading_with_a_tight_range():
    series = Series(daily(weekdays_busy, date(2025, 1, 1), date(2026, 2, 8)), LEADS, {"leads": LEADS})
    ahead = period_forecast(series, date(2026, 2, 1), "month", date(2026, 2, 8), flow=True,
                            daily=True, target=2000, target_kind="min")
    assert ahead["method"] == "pace_weekday" and ahead["backtested_periods"] == 12
    assert ahead["value"] == pytest.approx(2160)
    assert ahead["low"] == pytest.approx(2160) and ahead["high"] == pytest.approx(2160)
    assert ahead["chance_of_target"] == 1.0
    behind = period_forecast(series, date(2026, 2, 1), "month", date(2026, 2, 8), flow=True,
                             daily=True, target=2500, target_kind="min")
    assert behind["chance_of_target"] == 0.0


def test_a_rate_is_forecast_at_its_value_so_far_with_a_range_from_its_record():
    visits = Metric("visits", aggregation="sum")
    buys = Metric("buys", aggregation="sum")
    rate = Metric("rate", formula="buys / visits", unit="percent")
    known = {"visits": visits, "buys": buys, "rate": rate}
    first, last = date(2025, 1, 1), date(2026, 3, 10)
    frame = daily(lambda d: 100.0, first, last, "visits").assign(
        buys=[3.0 if d.day <= 10 else (2.0 if d.month % 2 else 4.0)
              for d in daily(lambda d: 0, first, last).index])
    series = Series(frame, rate, known)
    ahead = period_forecast(series, date(2026, 3, 1), "month", last, flow=False, daily=True,
                            target=0.03, target_kind="min")
    assert ahead["method"] == "so_far"
    # The first ten days (3%) were followed by 2% or 4% on alternate months: the record
    # says the month ends near where it stood, give or take a sixth
    assert ahead["low"] < 0.03 < ahead["high"]
    assert 0.3 < ahead["chance_of_target"] < 0.7


def test_with_too_short_a_record_there_is_an_estimate_but_no_range():
    series = Series(daily(weekdays_busy, date(2025, 11, 1), date(2026, 2, 8)), LEADS,
                    {"leads": LEADS})
    ahead = period_forecast(series, date(2026, 2, 1), "month", date(2026, 2, 8), flow=True,
                            daily=True, target=2000, target_kind="min")
    assert ahead["backtested_periods"] == 3 < MIN_BACKTEST
    assert (ahead["low"], ahead["high"], ahead["chance_of_target"]) == (None, None, None)
    assert ahead["value"] == pytest.approx(2160)


def test_the_scorecard_forecasts_a_running_month_and_not_a_complete_one(store):
    add_metric(store, "leads", department="Sales", aggregation="sum")
    add_daily(store, "leads", "2025-01-01",
              [weekdays_busy(date(2025, 1, 1) + timedelta(days=i)) for i in range(404)])
    from kpi_logic.ingest.importing import import_files
    import_files(store, [(b"title,metric,target,target_kind\nLeads,leads,2000,min\n", "kpis.csv")])
    running = scorecard(store, "Sales", period="2026-02", as_of="2026-02-09")
    [card] = running["kpis"]
    assert card["partial"] and card["forecast"]["method"] == "pace_weekday"
    assert card["forecast"]["value"] == pytest.approx(2160)
    assert card["forecast"]["chance_of_target"] == 1.0
    [closed] = scorecard(store, "Sales", period="2026-01", as_of="2026-02-09")["kpis"]
    assert closed["forecast"] is None


def test_the_scorecard_page_says_why_the_chosen_kpi_moved_and_where_a_running_one_heads(page_db):
    """The panel under the trend chart shows the explanation the CLI prints, its
    drivers as a table; in the running month each card says where it is heading."""
    at = opened(PAGES["scorecard"], department="Marketing", kpi="Customer acquisition cost")
    assert not at.exception
    explained = engine(page_db, explanation, "Customer acquisition cost")
    assert fmt.explanation_line(explained) in [shown(m.value) for m in at.markdown]
    drivers = next(d.value for d in at.dataframe if "Component" in d.value.columns)
    assert drivers["Component"].tolist() == [d["label"] for d in explained["drivers"]]
    month = date.today().strftime("%Y-%m")
    running = opened(PAGES["scorecard"], department="Marketing", period=month)
    assert not running.exception
    card = engine(page_db, scorecard, "Marketing", period=month)
    # on a line of its own under the status: "Heading for ...: 90% chance of meeting the target"
    lines = [fmt.forecast_line(k) for k in card["kpis"] if k["forecast"]]
    text = " ".join(shown(m.value) for m in running.markdown)
    assert lines and all(f"Heading{line[len('heading'):]}" in text for line in lines)
