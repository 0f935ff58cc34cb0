"""Where a key result will land by its deadline (forecast.kr_forecast, wired into
okrs.okr_report): cases worked by hand, the okrs --json contract, and the line the
OKRs page, its PNG and the CLI show."""
from __future__ import annotations

import copy
import math
from datetime import date, timedelta

import pandas as pd
import pytest

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import Metric
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics.forecast import MIN_BACKTEST, Series, earlier_windows, kr_forecast
from kpi_logic.metrics.okrs import okr_report
from kpi_logic.store import open_store
from tests.builders import add_daily, add_metric
from tests.readable import shown
from tests.test_cli import run, run_json
from tests.test_forecast import LEADS, daily, weekdays_busy
from tests.test_pages import PAGES, engine, opened, page_db  # noqa: F401 (fixture)
from tests.test_report import load, spec_texts

# Four weeks from Monday 2 February 2026 to Sunday 1 March: 20 weekdays at 100 and
# 8 weekend days at 20 make 2,160 leads.
START, DEADLINE, THROUGH = date(2026, 2, 2), date(2026, 3, 1), date(2026, 2, 10)


def leads_since(first: date) -> Series:
    return Series(daily(weekdays_busy, first, THROUGH), LEADS, {"leads": LEADS})


def test_a_steady_flow_lands_where_its_weekdays_say():
    """Through Tuesday 10 Feb: 7 weekdays and 2 weekend days, 740 leads. The share of
    days would say 740 x 28/9 = 2,302; the weekdays say 2,160. The twelve four-week
    windows before it held the same weekdays and ended where the estimate said: no
    spread, so a range of one point and a sure chance."""
    ahead = kr_forecast(leads_since(date(2025, 1, 1)), START, DEADLINE, THROUGH, kind="total",
                        daily=True, start=0, target=2000)
    assert ahead["method"] == "pace_weekday" and ahead["backtested_periods"] == 12
    assert ahead["value"] == pytest.approx(2160)
    assert (ahead["low"], ahead["high"]) == (pytest.approx(2160), pytest.approx(2160))
    assert ahead["chance_of_target"] == 1.0
    short = kr_forecast(leads_since(date(2025, 1, 1)), START, DEADLINE, THROUGH, kind="total",
                        daily=True, start=0, target=2500)
    assert short["chance_of_target"] == 0.0


def test_too_short_a_history_gives_an_estimate_without_a_range():
    """Data from 1 Dec 2025: only the windows from 5 Jan and 8 Dec are whole (the one
    from 10 Nov starts three weeks before the data)."""
    ahead = kr_forecast(leads_since(date(2025, 12, 1)), START, DEADLINE, THROUGH, kind="total",
                        daily=True, start=0, target=2000)
    assert ahead["backtested_periods"] == 2 < MIN_BACKTEST
    assert ahead["value"] == pytest.approx(2160)
    assert (ahead["low"], ahead["high"], ahead["chance_of_target"]) == (None, None, None)


def level_series() -> Series:
    """A level at 10 for the first five days of each ten-day window, then 11 or 9 by
    turns: the estimate is where it stands, 10, and it was 10% out either way in each
    of the twelve windows before."""
    first = START - timedelta(days=120)
    days = [first + timedelta(days=i) for i in range(125)]
    values = [10.0 if i % 10 < 5 else (11.0 if (i // 10) % 2 == 0 else 9.0)
              for i in range(125)]
    level = Metric("backlog", aggregation="last")
    return Series(pd.DataFrame({"backlog": values}, index=days), level, {"backlog": level})


@pytest.mark.parametrize("start, target, chance", [
    (12, 9, 0.1692),     # cut from 12 to 9: meets at 9 or below
    (8, 11, 0.1692),     # raise from 8 to 11: meets at 11 or above
    (12, 10, 0.5),       # cut to where it is heading: a coin toss
    (8, 9, 1 - 0.1692),  # raise to 9: heading for 10, so it meets unless it falls a tenth
])
def test_the_chance_follows_the_direction_from_start_to_target(start, target, chance):
    """Errors +10% and -10% six times each: mean 0, spread sqrt(12 x 0.01 / 11) = 0.1044;
    at 9 the level is 1 / (10 x 0.1044) = 0.957 spreads below 10: 16.9% under a normal law."""
    ahead = kr_forecast(level_series(), START, START + timedelta(days=9), START + timedelta(days=4),
                        kind="latest", daily=True, start=start, target=target)
    spread = math.sqrt(12 * 0.01 / 11)
    assert ahead["method"] == "so_far" and ahead["backtested_periods"] == 12
    assert ahead["value"] == pytest.approx(10)
    assert ahead["low"] == pytest.approx(10 * (1 - 1.2816 * spread), rel=1e-4)
    assert ahead["high"] == pytest.approx(10 * (1 + 1.2816 * spread), rel=1e-4)
    assert ahead["chance_of_target"] == pytest.approx(chance, abs=1e-4)


def test_a_rising_level_is_forecast_where_it_stands_and_its_record_corrects_it():
    """Up 1 a day from 1,000: day 9 of a 28-day window stands at 1,008. Without a record the
    forecast is 1,008; with twelve windows before, each of which ended 19 further up
    (actual / estimate - 1 = 19 / (x + 8) for a window starting at x), the mean of those
    errors moves it up, and the range is theirs."""
    level = Metric("mrr", aggregation="last")
    def rising(first: date) -> Series:
        days = [first + timedelta(days=i) for i in range((THROUGH - first).days + 1)]
        values = [1000.0 + (d - START).days for d in days]
        return Series(pd.DataFrame({"mrr": values}, index=days), level, {"mrr": level})
    alone = kr_forecast(rising(START), START, DEADLINE, THROUGH, kind="latest", daily=True,
                        start=1000, target=1030)
    assert (alone["value"], alone["method"], alone["backtested_periods"]) == (1008, "so_far", 0)
    errors = [19 / (1000 - 28 * k + 8) for k in range(1, 13)]
    mean = sum(errors) / 12
    ahead = kr_forecast(rising(START - timedelta(days=28 * 12)), START, DEADLINE, THROUGH,
                        kind="latest", daily=True, start=1000, target=1030)
    assert ahead["backtested_periods"] == 12
    assert ahead["value"] == pytest.approx(1008 * (1 + mean))
    assert ahead["low"] < ahead["value"] < ahead["high"]


def leads_with_key_results(store) -> None:
    """Daily leads from 1 Jan 2025 to 10 Feb 2026, and three key results on them: one
    running (the four weeks above), one ended, one not started."""
    add_metric(store, "leads", department="Sales", aggregation="sum")
    add_daily(store, "leads", "2025-01-01",
              [weekdays_busy(date(2025, 1, 1) + timedelta(days=i))
               for i in range((THROUGH - date(2025, 1, 1)).days + 1)])
    import_files(store, [(
        b"objective,title,metric,start,target,start_date,deadline,owner\n"
        b"Sell,Book 2000 leads,leads,0,2000,2026-02-02,2026-03-01,Sam\n"
        b"Sell,Book 2000 leads in January,leads,0,2000,2026-01-01,2026-01-31,Sam\n"
        b"Sell,Book 2000 leads in March,leads,0,2000,2026-03-02,2026-03-29,Sam\n",
        "key_results.csv")])


def test_the_okr_report_forecasts_running_key_results_only(store):
    """The report reads the twelve windows before the running key result in the same
    roll-up; an ended key result has a result, not a forecast, and one not started has
    nothing yet."""
    leads_with_key_results(store)
    report = okr_report(store, as_of=date(2026, 2, 11))
    results = {kr["title"]: kr for kr in report["objectives"][0]["key_results"]}
    running = results["Book 2000 leads"]
    assert running["current"] == 740
    assert running["forecast"]["value"] == pytest.approx(2160)
    assert running["forecast"]["backtested_periods"] == 12
    assert results["Book 2000 leads in January"]["forecast"] is None
    assert results["Book 2000 leads in March"]["forecast"] is None


def test_a_key_result_running_for_centuries_has_an_estimate_and_no_earlier_windows(store):
    # A deadline as far as the importer accepts: the windows before its start would
    # begin before year 1, so there are none (and the report still opens).
    leads_with_key_results(store)
    import_files(store, [(
        b"objective,title,metric,start,target,start_date,deadline,owner\n"
        b"Sell,Leads for ever,leads,0,2000000,2026-02-02,2199-12-31,Sam\n", "long.csv")])
    report = okr_report(store, as_of=date(2026, 2, 11))
    forever = next(kr for o in report["objectives"] for kr in o["key_results"]
                   if kr["title"] == "Leads for ever")
    assert forever["forecast"]["backtested_periods"] == 0 and forever["forecast"]["low"] is None
    assert earlier_windows(date(2026, 2, 2), date(2199, 12, 31)) == []
    assert len(earlier_windows(date(2026, 2, 2), date(2026, 3, 1))) == 12


def test_okrs_json_carries_the_forecast_contract_and_the_text_says_it(database):
    with open_store(database) as store:
        leads_with_key_results(store)
    report = run_json(database, "okrs", "--as-of", "2026-02-11")
    results = {kr["title"]: kr for kr in report["objectives"][0]["key_results"]}
    ahead = results["Book 2000 leads"]["forecast"]
    assert set(ahead) == {"value", "low", "high", "chance_of_target", "method",
                          "backtested_periods"}
    assert ahead["method"] == "pace_weekday" and ahead["chance_of_target"] == 1.0
    assert results["Book 2000 leads in January"]["forecast"] is None
    text = run(database, "okrs", "--as-of", "2026-02-11").stdout
    assert ("~ Book 2000 leads: heading for 2,160 by 1 Mar 2026 (80% range 2,160–2,160): "
            "over 99% chance of reaching 2,000") in text
    assert "Book 2000 leads in January:" not in text


def test_the_line_says_the_figures_exactly_where_short_ones_blur_into_the_target():
    kr = {"unit": "number", "deadline": "2026-12-31", "target": 4.5,
          "forecast": {"value": 4.46, "low": 4.37, "high": 4.55, "chance_of_target": 0.28}}
    assert fmt.kr_forecast_line(kr) == ("heading for 4.46 by 31 Dec 2026 (80% range 4.37–"
                                        "4.55): 28% chance of reaching 4.5")
    far = {**kr, "target": 600_000, "forecast": {"value": 640_800, "low": 628_700,
                                                 "high": 652_900, "chance_of_target": 0.9999}}
    assert fmt.kr_forecast_line(far) == ("heading for 641k by 31 Dec 2026 (80% range 629k–"
                                         "653k): over 99% chance of reaching 600k")
    assert fmt.kr_forecast_line({**kr, "forecast": None}) is None


def test_the_okrs_png_carries_each_running_key_results_line():
    data = copy.deepcopy(load("okrs"))
    kr = data["objectives"][0]["key_results"][0]
    kr["forecast"] = {"value": 148_000, "low": 141_000, "high": 155_000,
                      "chance_of_target": 0.35, "method": "trend", "backtested_periods": 8}
    line = fmt.kr_forecast_line(kr)
    texts = spec_texts("okrs", data)
    assert f"→ {line[:1].upper()}{line[1:]}" in texts
    assert sum(t.startswith("→ Heading for") for t in texts) == 1


def test_the_okrs_page_says_where_each_running_key_result_is_heading(page_db):
    at = opened(PAGES["okrs"])
    assert not at.exception
    report = engine(page_db, okr_report)
    running = [kr for o in report["objectives"] for kr in o["key_results"] if kr["forecast"]]
    assert running, "the demo has key results running this quarter"
    captions = " ".join(shown(c.value) for c in at.caption)
    for kr in running:
        assert f"{kr['title']}: {fmt.kr_forecast_line(kr)}" in captions.replace("**", "")
    ended = [kr for o in report["objectives"] for kr in o["key_results"] if kr["ended"]]
    assert ended and all(f"{kr['title']}: heading" not in captions for kr in ended)


def test_a_level_forecast_where_it_stands_says_what_it_rests_on():
    # An on-track key result on a rate is forecast from where it stands, corrected by
    # its record (so_far): the line must not read as if it were heading there whatever
    # the team does next.
    kr = {"unit": "number", "deadline": "2026-12-31", "target": 4.5,
          "forecast": {"value": 4.32, "low": 4.25, "high": 4.39, "chance_of_target": 0.004,
                       "method": "so_far", "backtested_periods": 12}}
    assert fmt.kr_forecast_line(kr) == (
        "going by where it stands and how it moved before, 4.3 by 31 Dec 2026 "
        "(80% range 4.2–4.4): under 1% chance of reaching 4.5")
    alone = {**kr, "forecast": {"value": 4.32, "low": None, "high": None,
                                "chance_of_target": None, "method": "so_far",
                                "backtested_periods": 0}}
    assert fmt.kr_forecast_line(alone) == "going by where it stands, 4.3 by 31 Dec 2026"
    paced = {**kr, "forecast": {**kr["forecast"], "method": "pace"}}
    assert fmt.kr_forecast_line(paced).startswith("heading for 4.3 by 31 Dec 2026")
