"""The demo company: the files it builds tell the story the product needs
(six departments, rates from parts, KPIs in every state, two quarters of
OKRs, a launch with one dear channel), deterministically, and they import
through the real importer."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from kpi_logic.demo import company as demo
from kpi_logic.demo import history as demo_history
from kpi_logic.demo import plans as demo_plans
from kpi_logic.domain.formulas import formula_metrics, formula_problems, parse_formula

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
    return demo_history.generated_history(END, np.random.default_rng(demo.DEMO_SEED))


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
                          "key_results.csv", "launches.csv", "objectives.csv", "checkins.csv"}
    assert list(csv(files, "marketing_channels.csv").columns) == ["date", "channel", "campaign",
                                                                  "metric", "value"]
    assert list(csv(files, "crm_daily.csv").columns)[0] == "date"           # wide
    assert set(sheets(files)) == {"Finance", "HR", "Sales", "Product", "kpis"}
    assert list(csv(files, "launches.csv").columns) == [
        "launch", "launch_date", "department", "conversion_target", "cac_target",
        "promotion_date"]


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


def test_growth_kpis_follow_a_monthly_plan_that_rises_and_runs_ahead(files, all_kpis):
    targets = csv(files, "targets.csv")
    assert set(targets["kpi"]) == {"New customers", "Purchases", "Website traffic"}
    assert set(targets["kpi"]) <= set(all_kpis["title"])
    months = [m.strftime("%Y-%m") for m in demo_history.complete_months(END)]
    for _, plan in targets.groupby("kpi"):
        assert list(plan["period"]) == months + ["2026-11", "2026-12", "2027-01"]
        assert plan["target"].iloc[-4] > plan["target"].iloc[0]     # rises with the business
        assert plan["target"].iloc[-1] >= plan["target"].iloc[-4]


@pytest.mark.parametrize("totals, expected", [
    ([100.0, 100.0, 100.0, 100.0], [90.0, 90.0, 90.0, 90.0, 90.0]),
    ([1000.0, 1100.0, 1200.0, 1500.0], [900.0, 900.0, 900.0, 1000.0, 1100.0]),
    ([200.0, 0.0, 200.0, 200.0], [180.0, 180.0, 90.0, 120.0, 120.0]),    # a month lost
])
def test_monthly_plan_is_a_round_share_of_the_three_months_before(totals, expected):
    index = pd.date_range("2026-01-01", periods=len(totals), freq="MS")
    series = pd.Series(totals, index=index)
    before = series.copy()
    plan = demo_plans.monthly_plan(series, ahead=1)
    assert list(plan.index) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert list(plan) == expected
    pd.testing.assert_series_equal(series, before)


def test_monthly_plan_expects_most_of_a_launchs_lift():
    """Launched in March: April doubled. Without the lift April's plan (90) would
    look absurd next to 200; with it the plan asks for 90% of the lift."""
    series = pd.Series([100.0, 100.0, 100.0, 200.0],
                       index=pd.date_range("2026-01-01", periods=4, freq="MS"))
    plan = demo_plans.monthly_plan(series, ahead=1, launched=date(2026, 3, 20))
    assert list(plan) == [90.0, 90.0, 90.0, 150.0, 160.0]
    assert list(demo_plans.monthly_plan(series, ahead=1)) == [90.0, 90.0, 90.0, 90.0, 120.0]


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
    assert set(zip(krs["start_date"], krs["deadline"], strict=True)) == {("2026-07-01", "2026-09-30"),
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
        current = demo_plans.kr_value(history.observations, kr.metric, start, as_of)
        progress[kr.metric] = (current - kr.start) / (kr.target - kr.start)
        expected[kr.metric] = (as_of - start).days / (deadline - start).days
    assert progress["new_customers"] > 1.1                       # overshooting
    assert progress["demos_scheduled"] < 0.6 * expected["demos_scheduled"]   # behind pace
    assert 0.6 < progress["cac"] < 0.9                           # decreasing, missed
    assert progress["first_response_hours"] >= expected["first_response_hours"]


@pytest.mark.parametrize("baseline, current, progress, direction, expected", [
    (4.03, 4.2, (0.6, 0.8), "up", (4.0, 4.3)),            # CSAT: starts where it stood
    (6.62, 6.0, (0.7, 0.9), "down", (7.0, 5.8)),          # decreasing
    (47.1, 41.75, (0.65, 0.8), "down", (50.0, 38.0)),
    (0.0121, 0.0142, (1.0, 1.15), "up", (0.012, 0.014)),  # a rate: 1.2% -> 1.4%
    (0.0, 1660.0, (1.0, 1.3), "count", (0.0, 1500.0)),    # counts start at 0
    (4.0, 3.9, (0.6, 0.8), "up", (4.0, 4.4)),             # went the wrong way: aim a bit higher
])
def test_kr_start_target_are_round_and_put_current_within_the_wanted_progress(
        baseline, current, progress, direction, expected):
    start, target = demo_plans.kr_start_target(baseline, current, progress, direction)
    assert (start, target) == pytest.approx(expected)
    if current > start if direction != "down" else current < start:
        assert progress[0] - 1e-9 <= (current - start) / (target - start) <= progress[1] + 1e-9


@pytest.mark.parametrize("low, high, expected", [
    (45.7, 48.5, 48.0), (49.4, 56.4, 50.0), (6.29, 6.95, 6.5), (3.83, 4.23, 4.0),
    (0.0854, 0.0888, 0.088), (551_000, 573_000, 560_000), (573_000, 551_000, 560_000),
    (-48.5, -45.7, -48.0), (-1.0, 2.0, 0.0), (1.2345, 1.2345, 1.2345)])
def test_roundest_picks_the_roundest_number_in_the_band(low, high, expected):
    assert demo_plans.roundest(low, high) == pytest.approx(expected)


ROUND_NUMBER = re.compile(r"^-?[1-9]?0*\.?0*[1-9]?0*$")     # at most 2 significant digits


def is_round(value: float) -> bool:
    digits = f"{abs(value):.10f}".rstrip("0").rstrip(".").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) <= 2


@pytest.mark.parametrize("value, expected", [
    (4.5, True), (1600.0, True), (0.012, True), (560_000.0, True), (4.67, False),
    (6.62, False), (1660.0, False), (0.0121, False)])
def test_is_round_counts_significant_digits(value, expected):
    assert is_round(value) is expected


def test_targets_and_key_results_are_round_numbers(files, all_kpis):
    krs = csv(files, "key_results.csv")
    targets = csv(files, "targets.csv")
    for value in list(krs["start"]) + list(krs["target"]) + list(all_kpis["target"]) \
            + list(targets["target"]):
        assert is_round(value), value
    for title in krs["title"].dropna():
        for number in re.findall(r"\d[\d,.]*\d|\d", title):
            assert is_round(float(number.replace(",", ""))), title


def test_a_key_result_starts_where_its_metric_stood(files, history):
    """"Increase CSAT from 4 to ..." reads about 4 on its first days."""
    krs = csv(files, "key_results.csv").set_index("metric")
    for metric in ("csat", "first_response_hours", "mrr"):
        start_date = date.fromisoformat(krs.loc[metric, "start_date"])
        first_week = demo_plans.window_values(history.observations, start_date,
                                        start_date + timedelta(days=6))[metric]
        assert krs.loc[metric, "start"] == pytest.approx(first_week, rel=0.12), metric


def test_one_bad_month_shows_in_conversion(history):
    months = demo_history.complete_months(END)
    rates = {m: demo_plans.window_values(history.observations, *demo_history.month_window(m))["conversion_rate"]
             for m in months}
    bad = (pd.Timestamp(END).to_period("M") - demo_history.BAD_MONTH_AGO).start_time.date()
    assert rates[bad] < 0.75 * float(np.median(list(rates.values())))
    assert sorted(rates, key=rates.get)[0] == bad


def test_window_values_does_not_mutate_its_input(history):
    before = history.observations.copy()
    demo_plans.window_values(history.observations, date(2026, 1, 1), date(2026, 3, 31))
    pd.testing.assert_frame_equal(history.observations, before)


def test_window_values_computes_rates_from_summed_parts(history):
    v = demo_plans.window_values(history.observations, date(2026, 1, 1), date(2026, 3, 31))
    assert v["conversion_rate"] == pytest.approx(v["purchases"] / v["website_visitors"])
    assert v["cac"] == pytest.approx(v["marketing_spend"] / v["new_customers"])


# ---- the marketing launch --------------------------------------------------

@pytest.fixture(scope="module")
def channels(files) -> pd.DataFrame:
    long = csv(files, "marketing_channels.csv")
    wide = long.pivot_table(index=["date", "channel"], columns="metric", values="value",
                            aggfunc="sum")          # campaigns add up to their channel
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
    start = launch_date + timedelta(days=demo_history.PROMOTION_DAYS[0])
    stop = launch_date + timedelta(days=demo_history.PROMOTION_DAYS[1])
    during = social.loc[start:stop - timedelta(days=1), "likes"].mean()
    before = social.loc[launch_date:start - timedelta(days=1), "likes"].mean()
    assert during > 2 * before


def test_campaigns_split_two_channels_and_add_up_to_them(files, history, launch_date):
    long = csv(files, "marketing_channels.csv").fillna({"campaign": ""})
    named = long[long["campaign"] != ""]
    assert set(named["channel"]) == set(demo_history.CAMPAIGNS)
    long["value"] = long["value"].astype(float)
    summed = long.groupby(["date", "channel", "metric"])["value"].sum()
    stored = history.observations[history.observations["dimension"] != ""]
    stored = stored.assign(date=stored["date"].dt.strftime("%Y-%m-%d")).set_index(
        ["date", "dimension", "metric"])["value"]
    assert summed.to_numpy() == pytest.approx(stored.loc[summed.index].to_numpy(), abs=0.005)
    assert (long["value"] >= 0).all()
    # Creator posts run only during the social promotion, from the launch's promotion_date.
    creator = long[long["campaign"] == "Creator promotion"]["date"]
    promotion = pd.Timestamp(csv(files, "launches.csv")["promotion_date"][0])
    assert pd.Timestamp(creator.min()) == promotion
    assert promotion == launch_date + timedelta(days=demo_history.PROMOTION_DAYS[0])
    assert (pd.to_datetime(long.loc[long["campaign"] == "Pathfinder keywords", "date"])
            >= launch_date).all()


@pytest.mark.parametrize("channel", list(demo_history.CHANNELS))
def test_response_curves_can_be_fitted(channels, launch_date, channel):
    """new_customers ~ a * spend^b since launch: a log-log fit finds b near its design."""
    rows = channels[(channels["channel"] == channel) & (channels["date"] >= launch_date)
                    & (channels["new_customers"] > 0) & (channels["spend"] > 0)]
    b, _ = np.polyfit(np.log(rows["spend"]), np.log(rows["new_customers"]), 1)
    assert 0.5 <= demo_history.CHANNELS[channel].b <= 0.9
    assert abs(b - demo_history.CHANNELS[channel].b) < 0.25


# ---- through the importer --------------------------------------------------

@pytest.mark.parametrize("end", [date(2026, 10, 1), date(2028, 2, 29), date(2026, 12, 31)])
def test_any_end_date_builds(end):
    names = [name for _, name in demo.demo_files(end)]
    assert "key_results.csv" in names


def test_load_demo_imports_everything_once(store):
    results = demo.load_demo(store, END)
    assert {r.kind for r in results} == {"metrics", "history", "kpis", "targets",
                                         "key_results", "launches", "objectives", "checkins"}
    assert store.connection.execute("select value from settings where key = 'demo_loaded'").fetchone() == (
        END.isoformat(),)
    again = demo.load_demo(store, END)
    assert sum(r.inserted + r.updated for r in again) == 0


@pytest.mark.parametrize("end", [END, date(2028, 2, 29)])
def test_loaded_demo_tells_the_story(store, end):
    """Through the real importer and engine: every KPI in its designed state,
    one missed for months in a row, key results overshooting and behind pace."""
    from kpi_logic.metrics.kpis import scorecard
    from kpi_logic.metrics.okrs import okr_report
    demo.load_demo(store, end)
    cards = {d: scorecard(store, d, as_of=end + timedelta(days=1)) for d in DEPARTMENTS}
    status = {k["title"]: k for card in cards.values() for k in card["kpis"]}
    designed = {kpi[0]: {"before_launch": "unhealthy", "review": "unhealthy"}.get(kpi[7], kpi[7])
                for kpi in demo_plans.KPIS}
    assert {title: k["status"] for title, k in status.items()} == designed
    assert status["Chat duration"]["missed_in_a_row"] >= 3
    # Only the KPI designed for it asks for its target to be reviewed.
    assert {title for title, k in status.items() if k["review"]} == {"Chat duration"}
    # Growth KPIs follow their plan: no month of the past year flags them.
    for month in demo_history.complete_months(end)[-13:-1]:
        card = scorecard(store, "Marketing", period=month.strftime("%Y-%m"), as_of=end + timedelta(days=1))
        flagged = {k["title"] for k in card["kpis"] if k["review"]}
        assert flagged.isdisjoint({"New customers", "Purchases", "Website traffic"}), month
    assert status["Email open rate"]["missed_in_a_row"] == 1        # it has just slipped
    krs = [kr for o in okr_report(store, as_of=end)["objectives"] for kr in o["key_results"]]
    kr_statuses = {kr["metric"]: kr["status"] for kr in krs}
    assert kr_statuses["new_customers"] == "achieved"
    assert kr_statuses["demos_scheduled"] == "off_track"
    # last quarter's key results have ended: achieved or missed, nothing in between
    assert (kr_statuses["cac"], kr_statuses["churn_rate"]) == ("missed", "missed")
    assert {kr_statuses[m] for m in ("first_response_hours", "csat", "mrr")} == {"on_track"}
    titles = [kr["title"] for kr in krs]
    assert any(t.startswith("Increase CSAT from 4 to ") for t in titles)
    for title in titles:
        for number in re.findall(r"\d[\d,.]*", title):
            assert is_round(float(number.replace(",", "").rstrip("."))), title


def test_load_demo_records_its_run_so_it_alone_can_be_undone(store):
    from kpi_logic.ingest.undo import list_batches, undo_run
    results = demo.load_demo(store, END)
    run = store.connection.execute("select value from settings where key = 'demo_run'").fetchone()[0]
    batches = list_batches(store)
    assert set(batches.loc[batches["run_id"] == int(run), "id"]) == {r.batch for r in results}
    demo.load_demo(store, END)                          # nothing changes: the run stays the demo's
    assert store.connection.execute("select value from settings where key = 'demo_run'").fetchone()[0] == run
    undo_run(store, int(run))
    assert store.definitions.metrics() == {} and store.definitions.kpis() == []


@pytest.mark.parametrize("end", [date(2026, 6, 30), date(2026, 3, 31), date(2026, 1, 1)])
def test_key_results_start_from_real_values_when_the_data_ends_on_a_quarter_edge(end):
    # Monthly figures are dated the 1st: a key result starting 1 April must
    # still find March's value to start from (it once found none and crashed).
    files = dict((name, data) for data, name in demo.demo_files(end))
    krs = pd.read_csv(io.BytesIO(files["key_results.csv"]))
    assert krs[["start", "target"]].notna().all().all()
    assert (krs["start"] != krs["target"]).all()


def test_a_demo_loaded_without_campaigns_is_replaced_by_the_current_one(store):
    """A database from a release whose demo had no campaign column: re-loading
    the demo undoes that run instead of counting channel totals twice."""
    from kpi_logic.ingest.importing import import_files
    from kpi_logic.ingest.undo import run_of
    from kpi_logic.store import set_setting
    old = []
    for content, name in demo.demo_files(END):
        if name == "marketing_channels.csv":
            long = pd.read_csv(io.BytesIO(content))
            content = long.groupby(["date", "channel", "metric"], as_index=False)["value"].sum() \
                .to_csv(index=False).encode()
        old.append((content, name))
    set_setting(store.connection, "demo_run", str(run_of(import_files(store, old))))
    demo.load_demo(store, END)
    campaigns = store.connection.execute("select count(distinct campaign) from observations "
                            "where superseded_by is null").fetchall()[0][0]
    assert campaigns == 7          # '' and two campaigns each for search, social and display
    spend = store.connection.execute("select sum(value) from observations where superseded_by is null "
                        "and metric = 'spend'").fetchall()[0][0]
    expected = pd.read_csv(io.BytesIO(dict((n, c) for c, n in demo.demo_files(END))[
        "marketing_channels.csv"])).query("metric == 'spend'")["value"].sum()
    assert spend == pytest.approx(expected)


@pytest.mark.parametrize("end", [END, date(2026, 6, 30), date(2028, 2, 29)])
def test_no_demo_kpi_has_a_target_of_zero(end):
    """"Offer acceptance rate at least 0.0%", healthy at 0 of 1, is no target at all."""
    history = demo_history.generated_history(end, np.random.default_rng(demo.DEMO_SEED))
    rows = demo_plans.kpi_rows(history.observations, end)
    assert (rows["target"] != 0).all(), rows.loc[rows["target"] == 0, "title"].tolist()
    offers = history.observations[history.observations["metric"] == "offers_accepted"]
    assert (offers["value"].astype(float) >= 2).all()       # never "0 of 1" offers accepted
