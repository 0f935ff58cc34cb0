"""The demo company: the files it builds tell the story the product needs
(six departments, rates from parts, KPIs in every state, two quarters of
OKRs, a launch with one dear channel), deterministically, and they import
through the real importer."""
from __future__ import annotations

import io
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from kpi_logic import demo
from kpi_logic.formulas import formula_metrics, formula_problems, parse_formula

END = date(2026, 11, 26)                # mid-quarter: Q4 2026 is 63% through
DEPARTMENTS = {"Sales", "Marketing", "Customer service", "Finance", "HR", "Product"}


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {name: content for content, name in demo.demo_files(END)}


def csv(files, name) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(files[name]), keep_default_na=False, na_values=[""])


def sheets(files) -> dict[str, pd.DataFrame]:
    return pd.read_excel(io.BytesIO(files["company_monthly.xlsx"]), sheet_name=None,
                         engine="calamine")


@pytest.fixture(scope="module")
def history():
    return demo.generated_history(END, np.random.default_rng(demo.DEMO_SEED))


@pytest.fixture(scope="module")
def all_kpis(files) -> pd.DataFrame:
    return pd.concat([csv(files, "kpis.csv"), sheets(files)["kpis"]], ignore_index=True)


def test_same_end_and_seed_give_the_same_bytes_and_another_seed_differs(files):
    again = {name: content for content, name in demo.demo_files(END)}
    assert again == files
    other = {name: content for content, name in demo.demo_files(END, seed=7)}
    assert other["crm_daily.csv"] != files["crm_daily.csv"]


def test_the_files_an_analyst_would_upload(files):
    assert set(files) == {"metrics.csv", "crm_daily.csv", "web_and_email_daily.csv",
                          "helpdesk_daily.csv", "product_daily.csv", "marketing_channels.csv",
                          "company_monthly.xlsx", "kpis.csv", "targets.csv",
                          "key_results.csv", "launches.csv"}
    assert list(csv(files, "marketing_channels.csv").columns) == ["date", "channel", "metric",
                                                                  "value"]
    assert list(csv(files, "crm_daily.csv").columns)[0] == "date"           # wide
    assert set(sheets(files)) == {"Finance", "HR", "Sales", "Product", "kpis"}
    assert list(csv(files, "launches.csv").columns) == [
        "launch", "launch_date", "department", "conversion_target", "cac_target"]


def test_history_covers_two_years_of_days_ending_at_end(files):
    days = pd.to_datetime(csv(files, "crm_daily.csv")["date"])
    assert days.max().date() == END
    assert days.min().date() <= END - timedelta(days=730)
    assert days.is_monotonic_increasing and days.is_unique
    months = pd.to_datetime(sheets(files)["Finance"]["month"])
    assert len(months) >= 24 and months.max().date() == date(2026, 10, 1)  # complete months only


def test_total_rows_stay_modest(history):
    assert 30_000 < len(history.observations) < 80_000


def test_metrics_cover_every_department_and_formulas_are_sound(files):
    metrics = csv(files, "metrics.csv")
    assert set(metrics["department"]) == DEPARTMENTS
    formulas = {r.metric: (r.formula if isinstance(r.formula, str) else None)
                for r in metrics.itertuples()}
    assert formula_problems(formulas) == []
    assert formulas["conversion_rate"] == "purchases / website_visitors"
    assert formulas["cac"] == "marketing_spend / new_customers"
    assert formulas["gross_margin"] == "(revenue - cost_of_goods_sold) / revenue"
    history_metrics = set(csv(files, "marketing_channels.csv")["metric"])
    for frame in [csv(files, n) for n in ("crm_daily.csv", "web_and_email_daily.csv",
                                          "helpdesk_daily.csv", "product_daily.csv")]:
        history_metrics |= set(frame.columns[1:])
    for frame in sheets(files).values():
        history_metrics |= set(frame.columns[1:]) if "month" in frame else set()
    base = {m for m, f in formulas.items() if f is None}
    assert base == history_metrics          # every base metric has history, and only those


def test_kpis_per_department_with_one_crowded_department(all_kpis, files):
    counts = all_kpis.groupby("department").size()
    assert set(counts.index) == DEPARTMENTS
    assert sorted(counts.tolist()) == [5, 5, 5, 5, 6, 8]
    assert counts["Marketing"] == 8                 # more than 7: flagged
    known = set(csv(files, "metrics.csv")["metric"])
    assert set(all_kpis["metric"]) <= known
    assert set(all_kpis["target_kind"]) == {"min", "max"}


def test_per_period_targets_belong_to_a_kpi_and_run_ahead(files, all_kpis):
    targets = csv(files, "targets.csv")
    assert set(targets["kpi"]) <= set(all_kpis["title"])
    assert "2026-10" in set(targets["period"]) and "2027-01" in set(targets["period"])
    assert targets["target"].is_monotonic_increasing


def test_plain_metrics_are_not_used_by_any_goal(files, all_kpis):
    metrics = csv(files, "metrics.csv")
    formulas = {r.metric: r.formula for r in metrics.itertuples() if isinstance(r.formula, str)}
    used = set(all_kpis["metric"]) | set(csv(files, "key_results.csv")["metric"])
    for name in list(used):
        if name in formulas:
            used |= formula_metrics(parse_formula(formulas[name]))
    assert {"page_views", "likes", "sessions"}.isdisjoint(used)


def test_key_results_span_this_quarter_and_the_previous_one(files):
    krs = csv(files, "key_results.csv")
    assert set(zip(krs["start_date"], krs["deadline"])) == {("2026-07-01", "2026-09-30"),
                                                             ("2026-10-01", "2026-12-31")}
    per_objective = krs.groupby("objective").size()
    assert per_objective.between(2, 3).all()
    assert (krs["start"] != krs["target"]).all()
    assert (krs["target"] < krs["start"]).any()           # a decreasing key result


def test_key_results_overshoot_fall_behind_and_decrease_as_designed(files, history):
    """Progress measured from the generated history, as the engine defines it."""
    krs = csv(files, "key_results.csv")
    progress, expected = {}, {}
    for kr in krs.itertuples():
        start, deadline = date.fromisoformat(kr.start_date), date.fromisoformat(kr.deadline)
        as_of = min(END, deadline)
        current = demo.window_values(history.observations, start, as_of)[kr.metric]
        progress[kr.metric] = (current - kr.start) / (kr.target - kr.start)
        expected[kr.metric] = (as_of - start).days / (deadline - start).days
    assert progress["new_customers"] > 1.1                       # overshooting
    assert progress["demos_scheduled"] < 0.6 * expected["demos_scheduled"]   # behind pace
    assert 0.6 < progress["cac"] < 0.9                           # decreasing, missed
    assert progress["first_response_hours"] >= expected["first_response_hours"]


@pytest.mark.parametrize("current, progress, shape", [
    (100.0, 0.5, "up"), (8.0, 0.75, "down"), (250.0, 1.2, "count"), (0.031, 1.02, "up")])
def test_kr_start_target_put_current_at_the_wanted_progress(current, progress, shape):
    start, target = demo.kr_start_target(current, progress, shape)
    assert start != target
    assert (current - start) / (target - start) == pytest.approx(progress, rel=0.05)
    assert (target < start) == (shape == "down")


@pytest.mark.parametrize("value, kind, expected", [
    (0.031234, "min", 0.0312), (0.031299, "max", 0.0313), (38.66, "max", 38.7),
    (552_345.0, "min", 552_000.0), (552_345.0, None, 552_000.0), (0.0, "min", 0.0)])
def test_nice_rounds_targets_in_the_kpis_favour(value, kind, expected):
    assert demo.nice(value, kind) == pytest.approx(expected)


def test_one_bad_month_shows_in_conversion(history):
    months = demo.complete_months(END)
    rates = {m: demo.window_values(history.observations, *demo.month_window(m))["conversion_rate"]
             for m in months}
    bad = (pd.Timestamp(END).to_period("M") - demo.BAD_MONTH_AGO).start_time.date()
    assert rates[bad] < 0.75 * float(np.median(list(rates.values())))
    assert sorted(rates, key=rates.get)[0] == bad


def test_window_values_does_not_mutate_its_input(history):
    before = history.observations.copy()
    demo.window_values(history.observations, date(2026, 1, 1), date(2026, 3, 31))
    pd.testing.assert_frame_equal(history.observations, before)


def test_window_values_computes_rates_from_summed_parts(history):
    v = demo.window_values(history.observations, date(2026, 1, 1), date(2026, 3, 31))
    assert v["conversion_rate"] == pytest.approx(v["purchases"] / v["website_visitors"])
    assert v["cac"] == pytest.approx(v["marketing_spend"] / v["new_customers"])


# ---- the marketing launch --------------------------------------------------

@pytest.fixture(scope="module")
def channels(files) -> pd.DataFrame:
    long = csv(files, "marketing_channels.csv")
    wide = long.pivot_table(index=["date", "channel"], columns="metric", values="value")
    return wide.reset_index().assign(date=lambda f: pd.to_datetime(f["date"]))


@pytest.fixture(scope="module")
def launch_date(files) -> pd.Timestamp:
    return pd.Timestamp(csv(files, "launches.csv")["launch_date"][0])


def test_launch_has_channels_and_60_days_either_side(channels, launch_date):
    assert 4 <= channels["channel"].nunique() <= 6
    assert set(channels.columns) >= {"spend", "visitors", "purchases", "new_customers",
                                     "likes", "shares", "comments"}
    assert (launch_date - channels["date"].min()).days >= 60
    assert (channels["date"].max() - launch_date).days >= 60


def test_one_channel_buys_customers_much_more_dearly(channels, launch_date):
    since = channels[channels["date"] >= launch_date].groupby("channel")[
        ["spend", "new_customers"]].sum()
    cac = since["spend"] / since["new_customers"]
    dearest = cac.idxmax()
    assert cac[dearest] > 2 * cac.drop(dearest).max()


def test_social_promotion_drives_engagement(channels, launch_date):
    social = channels[channels["channel"] == "social"].set_index("date")
    start = launch_date + timedelta(days=demo.PROMOTION_DAYS[0])
    stop = launch_date + timedelta(days=demo.PROMOTION_DAYS[1])
    during = social.loc[start:stop - timedelta(days=1), "likes"].mean()
    before = social.loc[launch_date:start - timedelta(days=1), "likes"].mean()
    assert during > 2 * before


@pytest.mark.parametrize("channel", list(demo.CHANNELS))
def test_response_curves_can_be_fitted(channels, launch_date, channel):
    """new_customers ~ a * spend^b since launch: a log-log fit finds b near its design."""
    rows = channels[(channels["channel"] == channel) & (channels["date"] >= launch_date)
                    & (channels["new_customers"] > 0) & (channels["spend"] > 0)]
    b, _ = np.polyfit(np.log(rows["spend"]), np.log(rows["new_customers"]), 1)
    assert 0.5 <= demo.CHANNELS[channel].b <= 0.9
    assert abs(b - demo.CHANNELS[channel].b) < 0.25


# ---- through the importer --------------------------------------------------

@pytest.mark.parametrize("end", [date(2026, 10, 1), date(2028, 2, 29), date(2026, 12, 31)])
def test_any_end_date_builds(end):
    names = [name for _, name in demo.demo_files(end)]
    assert "key_results.csv" in names


def test_load_demo_imports_everything_once(con):
    results = demo.load_demo(con, END)
    assert {r.kind for r in results} == {"metrics", "history", "kpis", "targets",
                                         "key_results", "launches"}
    assert con.execute("select value from settings where key = 'demo_loaded'").fetchone() == (
        END.isoformat(),)
    again = demo.load_demo(con, END)
    assert sum(r.inserted + r.updated for r in again) == 0


@pytest.mark.parametrize("end", [END, date(2028, 2, 29)])
def test_loaded_demo_tells_the_story(con, end):
    """Through the real importer and engine: every KPI in its designed state,
    one missed for months in a row, key results overshooting and behind pace."""
    from kpi_logic.kpis import scorecard
    from kpi_logic.okrs import okr_report
    demo.load_demo(con, end)
    cards = {d: scorecard(con, d, as_of=end + timedelta(days=1)) for d in DEPARTMENTS}
    status = {k["title"]: k for card in cards.values() for k in card["kpis"]}
    designed = {kpi[0]: {"before_launch": "unhealthy", "review": "unhealthy"}.get(kpi[7], kpi[7])
                for kpi in demo.KPIS}
    assert {title: k["status"] for title, k in status.items()} == designed
    assert status["Chat duration"]["missed_in_a_row"] >= 3
    assert status["Email open rate"]["missed_in_a_row"] == 1        # it has just slipped
    krs = [kr for o in okr_report(con, as_of=end)["objectives"] for kr in o["key_results"]]
    kr_statuses = {kr["metric"]: kr["status"] for kr in krs}
    assert kr_statuses["new_customers"] == "achieved"
    assert kr_statuses["demos_scheduled"] == "off_track"
    assert kr_statuses["cac"] == "off_track"
