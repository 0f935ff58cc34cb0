"""Numbers, changes, statuses and period labels as people read them."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpi_logic.domain import formatting as fmt


@pytest.mark.parametrize("value, unit, expected", [
    (1234, "number", "1,234"),
    (12345, "number", "12.3k"),
    (60000, "number", "60k"),
    (999_960, "number", "1M"),           # rounds up into the next suffix, not "1,000k"
    (1_234_567, "number", "1.23M"),
    (2.5e13, "number", "25T"),
    (0, "number", "0"),
    (0.42, "number", "0.42"),
    (3.14159, "number", "3.1"),
    (-1234, "number", "-1,234"),
    (-0.0001, "number", "0.00"),         # rounds to zero: no minus sign
    (12345, "currency", "$12.3k"),
    (38.2, "currency", "$38.20"),
    (40, "currency", "$40"),
    (-1500, "currency", "-$1,500"),
    (999_999_999, "currency", "$1B"),
    (0, "currency", "$0"),
    (0.125, "percent", "12.5%"),
    (0.03, "percent", "3.0%"),
    (1.25, "percent", "125%"),
    (-0.05, "percent", "-5.0%"),
    (0, "percent", "0.0%"),
    (3.2, "duration", "3.2 h"),
    (4.0, "duration", "4 h"),
    (0.75, "duration", "0.75 h"),        # a card reads in one unit: 5.6 h beside -0.85 h
    (12.6, "minutes", "12.6 min"),
    (-1.5, "minutes", "-1.5 min"),
    (150, "minutes", "150 min"),
    (250, "duration", "250 h"),
    (1234, "mystery", "1,234"),          # unknown unit: shown as a number
])
def test_format_value(value, unit, expected):
    assert fmt.format_value(value, unit) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, np.float32("nan"), pd.NA, pd.NaT,
                                     math.inf, -math.inf, "abc", True])
@pytest.mark.parametrize("unit", ["number", "currency", "percent", "duration"])
def test_missing_values_show_a_dash(missing, unit):
    assert fmt.format_value(missing, unit) == "—"
    assert fmt.format_delta(missing, unit) == "—"


@pytest.mark.parametrize("value, unit, expected", [
    (1200, "currency", "+$1,200"),
    (-4.5, "currency", "-$4.50"),
    (12345, "number", "+12.3k"),
    (-3, "number", "-3"),
    (0, "number", "0"),                  # no change has no sign
    (0.005, "percent", "+0.5 pp"),       # a change of a rate is in percentage points
    (-0.012, "percent", "-1.2 pp"),
    (-0.000018, "percent", "-0.0018 pp"),   # a small move keeps two significant digits
    (0.00049, "percent", "+0.049 pp"),
    (0.0005, "percent", "+0.1 pp"),
    (1e-9, "percent", "0.0 pp"),            # float noise is no move
    (-1.5, "duration", "-1.5 h"),
])
def test_format_delta(value, unit, expected):
    assert fmt.format_delta(value, unit) == expected


@pytest.mark.parametrize("change, unit, expected", [
    ({"abs": 1200, "pct": 0.316}, "currency", "+$1,200 (+31.6%)"),
    ({"abs": -5100, "pct": -0.027}, "number", "-5,100 (-2.7%)"),
    ({"abs": 5000, "pct": None}, "number", "+5,000 (new)"),     # from zero: undefined
    ({"abs": 5000, "pct": None, "base": 0}, "number", "+5,000 (new)"),
    # a rate crossing zero: the points, never "(new)" nor "-987%"
    ({"abs": -0.487, "pct": None, "base": 0.049}, "percent", "-48.7 pp"),
    ({"abs": 0, "pct": 0.0}, "number", "0 (0.0%)"),
    ({"abs": None, "pct": None}, "number", "—"),
    (None, "number", "—"),
])
def test_format_change(change, unit, expected):
    assert fmt.format_change(change, unit) == expected


def test_format_change_does_not_mutate():
    change = {"abs": 5000, "pct": None, "label": "2024-03"}
    fmt.format_change(change)
    assert change == {"abs": 5000, "pct": None, "label": "2024-03"}


@pytest.mark.parametrize("pct, abs_change, expected", [
    (0.125, 10, "+12.5%"), (-0.5, -1, "-50.0%"), (None, 10, "new"), (None, None, "—"),
    (None, 0, "—"), (float("nan"), 3, "new"), (2.5, 1, "+250%"),
])
def test_format_pct_change(pct, abs_change, expected):
    assert fmt.format_pct_change(pct, abs_change) == expected


@pytest.mark.parametrize("value, expected", [
    (0.55, "55%"), (1.0, "100%"), (1.1667, "117%"), (-0.333, "-33%"), (None, "—"),
])
def test_format_progress(value, expected):
    assert fmt.format_progress(value) == expected


@pytest.mark.parametrize("abs_change, direction, expected", [
    (5, "up", "good"), (-5, "up", "bad"),
    (5, "down", "bad"), (-5, "down", "good"),    # a falling CAC is good news
    (0, "up", "neutral"), (None, "down", "neutral"), (float("nan"), "up", "neutral"),
])
def test_change_tone_follows_direction(abs_change, direction, expected):
    assert fmt.change_tone(abs_change, direction) == expected


@pytest.mark.parametrize("abs_change, expected", [(3, "▲"), (-3, "▼"), (0, ""), (None, "")])
def test_change_arrow(abs_change, expected):
    assert fmt.change_arrow(abs_change) == expected


@pytest.mark.parametrize("status, badge", [
    ("healthy", "✔ Healthy"), ("at_risk", "⚠ At risk"), ("unhealthy", "✖ Unhealthy"),
    ("no_data", "○ No data"), (None, "○ No data"), ("achieved", "★ Achieved"),
    ("on_track", "✔ On track"), ("off_track", "✖ Off track"),
])
def test_status_badge_has_icon_and_word(status, badge):
    assert fmt.status_badge(status) == badge


def test_statuses_have_distinct_colours():
    kpi = {fmt.status_colour(s) for s in ("healthy", "at_risk", "unhealthy", "no_data")}
    kr = {fmt.status_colour(s) for s in ("achieved", "on_track", "at_risk", "off_track")}
    assert len(kpi) == 4 and len(kr) == 4


@pytest.mark.parametrize("target, kind, unit, expected", [
    (0.03, "min", "percent", "at least 3.0%"),
    (40, "max", "currency", "at most $40"),
    (None, "min", "number", "no target"),
])
def test_target_rule(target, kind, unit, expected):
    assert fmt.target_rule(target, kind, unit) == expected


@pytest.mark.parametrize("target, unit, expected", [
    (143_000, "number", "143k"),
    (143_500, "number", "143.5k"),       # the short form would say 144k: a fourth digit
    (143_250, "number", "143,250"),      # four digits are not enough: in full
    (999_960, "number", "999,960"),      # never "1M" for a target below a million
    (1_250_000, "currency", "$1.25M"),
    (0.0325, "percent", "3.25%"),
    (0.03, "percent", "3.0%"),
    (38.2, "currency", "$38.20"),
    (None, "number", "—"),
])
def test_format_target_is_exact(target, unit, expected):
    assert fmt.format_target(target, unit) == expected


@pytest.mark.parametrize("value, target, unit, expected", [
    (143_093, 143_000, "number", ("143,093", "143,000")),   # not "143k against 143k"
    (143_093.4, 143_093, "number", ("143,093.4", "143,093.0")),
    (143_093, 143_500, "number", ("143k", "143.5k")),
    (0.8004, 0.8, "percent", ("80.04%", "80.00%")),
    (0.931, 0.8, "percent", ("93.1%", "80.0%")),            # apart already: short
    (5.6, 5.6, "duration", ("5.6 h", "5.6 h")),              # equal: equal texts
    (None, 40, "currency", ("—", "$40")),
])
def test_value_and_target_keep_the_margin_visible(value, target, unit, expected):
    assert fmt.value_and_target(value, target, unit) == expected


def test_target_rule_reads_the_target_beside_its_value():
    assert fmt.target_rule(143_000, "min", "number", 143_093) == "at least 143,000"
    assert fmt.target_rule(143_000, "min", "number") == "at least 143k"


@pytest.mark.parametrize("value, unit, expected", [
    (143_093, "number", "143,093"), (2152.17, "currency", "$2,152.17"),
    (2152.1, "currency", "$2,152.10"), (40, "currency", "$40"), (0.93125, "percent", "93.12%"),
    (5.63, "duration", "5.63 h"), (-12.6, "minutes", "-12.6 min"), (None, "number", "—"),
])
def test_format_exact(value, unit, expected):
    assert fmt.format_exact(value, unit) == expected


@pytest.mark.parametrize("label, expected", [
    ("2025-03", "Mar 2025"), ("2025-Q1", "Q1 2025"), ("2025", "2025"),
    ("2025-W09", "Week 9, 2025"), ("2025-03-01", "1 Mar 2025"),
    ("December", "December"), (None, "—"),
    ("2025-W01", "Week 1, 2025"),       # starts on 30 Dec 2024 but is week 1 of 2025
    ("2025-12", "Dec 2025"), ("2025-q4", "Q4 2025"),
    ("2025-02-30", "2025-02-30"),       # no such day: shown as written
])
def test_human_period(label, expected):
    assert fmt.human_period(label) == expected


@pytest.mark.parametrize("label, start, end", [
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),          # leap year
    ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
    ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2025-W01", date(2024, 12, 30), date(2025, 1, 5)),         # ISO week starts in 2024
    ("2025-03-15", date(2025, 3, 15), date(2025, 3, 15)),
    (" 2025-q1 ", date(2025, 1, 1), date(2025, 3, 31)),         # read like periods.parse_period
    ("2025W9", date(2025, 2, 24), date(2025, 3, 2)),
])
def test_period_bounds(label, start, end):
    assert fmt.period_bounds(label) == (start, end)


@pytest.mark.parametrize("label", ["March", "2025-13", "", "2025-Q5", None, "2025-02-30",
                                   "2025-W53"])       # 2025 has 52 ISO weeks
def test_period_bounds_refuses_other_text(label):
    with pytest.raises(ValueError, match="period"):
        fmt.period_bounds(label)


@pytest.mark.parametrize("value, expected", [
    (date(2025, 5, 16), "16 May 2025"), ("2025-05-16", "16 May 2025"),
    ("2025-05-16T10:00:00", "16 May 2025"), (None, "—"), ("soon", "soon"),
])
def test_human_date(value, expected):
    assert fmt.human_date(value) == expected


@pytest.mark.parametrize("label, expected", [
    ("2025-02", "vs Feb 2025"), ("2024-Q1", "vs Q1 2024"), ("vs last year", "vs last year"),
    (None, ""),
])
def test_comparison_label(label, expected):
    assert fmt.comparison_label(label) == expected


@pytest.mark.parametrize("name, label", [
    ("page_views", "Page views"),
    ("nps", "NPS"),
    ("paid_cac", "Paid CAC"),
    ("", "—"),
    (None, "—"),
])
def test_metric_label_reads_like_words(name, label):
    assert fmt.metric_label(name) == label


@pytest.mark.parametrize("value, text", [(0.997, "99%"), (1.0, "100%"), (0.555, "56%"), (1.17, "117%")])
def test_progress_below_the_target_never_reads_as_done(value, text):
    assert fmt.format_progress(value) == text


@pytest.mark.parametrize("value, expected", [
    (12743.4, "12,743"), (9908.0, "9,908"), (0, "0"), (-0.2, "0"), (-1500, "-1,500"),
    (None, "—"), (float("nan"), "—"), (1_250_000, "1,250,000")])
def test_format_count_writes_counts_in_full(value, expected):
    assert fmt.format_count(value) == expected


@pytest.mark.parametrize("value, expected", [
    (0.5, "1"), (2.5, "3"), (-2.5, "-3"), (12.5, "13"), (0.49, "0")])
def test_format_count_rounds_halves_away_from_zero(value, expected):
    assert fmt.format_count(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1861.2, "+1,861"), (-75.4, "-75"), (0.3, "0"), (None, "—")])
def test_format_count_delta_has_a_sign_and_whole_numbers(value, expected):
    assert fmt.format_count_delta(value) == expected


@pytest.mark.parametrize("entry, expected", [
    ({"partial": True, "data_through": "2025-03-10"}, "so far: data through 10 Mar"),
    ({"stale": True, "data_through": "2025-03-10"}, "no data since 10 Mar 2025"),
    ({"status": "no_data", "data_through": None}, "no data yet"),
    ({"status": "healthy", "data_through": "2025-03-31"}, None),
])
def test_coverage_note(entry, expected):
    assert fmt.coverage_note(entry) == expected


def test_pace_note_says_where_the_period_is_heading():
    kpi = {"pace": {"share": 10 / 31, "target": 322.6, "projected": 1085.0}, "target": 1000,
           "unit": "number"}
    assert fmt.pace_note(kpi) == "on pace for 1,085 of 1,000"
    assert fmt.pace_note({"pace": None}) is None


@pytest.mark.parametrize("measured, expected", [
    ({"kind": "total", "from": "2026-10-01", "to": "2026-12-05"}, "total since 1 Oct 2026"),
    ({"kind": "trailing", "from": "2026-11-08", "to": "2026-12-05"}, "last 28 days to 5 Dec 2026"),
    ({"kind": "trailing", "from": "2026-10-01", "to": "2026-10-10"}, "last 10 days to 10 Oct 2026"),
    ({"kind": "latest", "from": "2026-12-01", "to": "2026-12-01"}, "latest, 1 Dec 2026"),
    # monthly data: the last 28 days hold one value, the latest
    ({"kind": "trailing", "from": "2026-09-01", "to": "2026-09-01"}, "latest, 1 Sep 2026"),
    (None, None),
])
def test_measured_note(measured, expected):
    assert fmt.measured_note({"measured": measured}) == expected


def test_trend_values_draw_a_partial_summed_period_at_its_pace():
    history = [{"period": "2026-10", "value": 4900}, {"period": "2026-11", "value": None},
               {"period": "2026-12", "value": 801, "partial": True,
                "pace": {"share": 6 / 31, "target": 774, "projected": 4138.5}},
               ]
    assert fmt.trend_values(history) == [4900.0, 4138.5]
    assert fmt.trend_values([{"value": 0.2, "partial": True}]) == [0.2]     # a rate as it stands
    assert fmt.trend_values(None) == []


@pytest.mark.parametrize("period, start, through, expected", [
    ("2026-12", None, "2026-12-06", "so far: data through 6 Dec"),
    ("2026-09", "2026-09-10", "2026-12-06", "from 10 Sep"),
    ("2026-09", date(2026, 9, 10), date(2026, 9, 20), "10 Sep to 20 Sep only"),
    ("2026-W45", "2026-11-04", "2026-11-20", "from 4 Nov"),
    ("2026-Q4", None, "2026-11-30", "so far: data through 30 Nov"),
    ("2026-09", "2026-09-01", "2026-12-06", "partial"),      # neither date cuts it
    ("not a period", None, None, "partial"),
])
def test_partial_note_says_which_days_a_period_holds(period, start, through, expected):
    assert fmt.partial_note(period, start, through) == expected


@pytest.mark.parametrize("ahead, unit, expected", [
    ({"value": 4774.8, "low": 3984.6, "high": 5565.1, "chance_of_target": 0.8955},
     "number", "heading for 4,775 (80% range 3,985–5,565): 90% chance of meeting the target"),
    ({"value": 40.95, "low": 37.77, "high": 44.14, "chance_of_target": 0.00016},
     "currency", "heading for $40.95 (80% range $37.77–$44.14): under 1% chance of meeting "
                 "the target"),
    # a range crossing zero says "to": "-$5–$3" would read as a subtraction
    ({"value": -1.0, "low": -5.0, "high": 3.0, "chance_of_target": 0.5}, "currency",
     "heading for -$1 (80% range -$5 to $3): 50% chance of meeting the target"),
    # fewer than 4 periods to try the estimate on: no range, no chance
    ({"value": 2160.0, "low": None, "high": None, "chance_of_target": None}, "number",
     "heading for 2,160"),
])
def test_forecast_line_says_where_it_lands_its_range_and_its_chance(ahead, unit, expected):
    kpi = {"unit": unit, "forecast": ahead}
    assert fmt.forecast_line(kpi) == expected
    assert fmt.heading_note(kpi) == expected
    assert fmt.forecast_line({"unit": unit, "forecast": None}) is None


def test_heading_note_falls_back_to_the_pace_and_period_note_joins_the_coverage():
    paced = {"pace": {"share": 10 / 31, "target": 322.6, "projected": 1085.0}, "target": 1000,
             "unit": "number", "partial": True, "data_through": "2025-03-10"}
    assert fmt.heading_note(paced) == "on pace for 1,085 of 1,000"
    assert fmt.period_note(paced) == "so far: data through 10 Mar; on pace for 1,085 of 1,000"
    assert fmt.heading_note({"unit": "number"}) is None
