"""Importing history and definitions: what lands in the store, what a
re-import or a correction does, and that every refusal changes nothing."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.model import KPI, Metric
from kpi_logic.ingest import definition_rows as defs
from kpi_logic.ingest.importing import NOTHING_CHANGED, import_files, import_frames
from kpi_logic.ingest.undo import list_batches

HERE = Path(__file__).parent / "fixtures" / "import"
BAD = HERE / "bad"


def files(*names: str, folder: Path = HERE) -> list[tuple[bytes, str]]:
    return [((folder / n).read_bytes(), n) for n in names]


def dump(store) -> dict[str, pd.DataFrame]:
    """Every table of the database, rows sorted, for before/after comparisons."""
    tables = [r[0] for r in store.connection.execute(
        "select table_name from information_schema.tables "
        "where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1").fetchall()]
    out = {}
    for table in tables:
        frame = store.connection.execute(f'select * from "{table}"').df()
        out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def assert_same_database(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for table in before:
        assert_frame_equal(before[table], after[table], obj=table)


def current_observations(store) -> pd.DataFrame:
    return store.connection.execute("select metric, obs_date, dimension, value from observations "
                       "where superseded_by is null order by metric, obs_date, dimension").df()


def expected(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["metric", "obs_date", "dimension", "value"])
    frame["obs_date"] = pd.to_datetime(frame["obs_date"]).astype("datetime64[us]")
    return frame


@pytest.fixture
def seeded(store):
    """A database with a little of everything, so refusals have something to spoil."""
    import_files(store, files("metrics.csv", "history_long.csv", "history_wide.csv",
                            "kpis.csv"), department="Finance")
    return store


def test_long_history_with_a_dimension(store):
    [result] = import_files(store, files("history_long.csv"))
    assert (result.kind, result.rows, result.inserted, result.updated) == ("history", 6, 5, 0)
    assert result.details["format"] == "long"
    assert result.details["dimension"] == "channel"
    got = current_observations(store)
    got["obs_date"] = got["obs_date"].astype("datetime64[us]")
    # The empty purchases cell for social is missing, not zero.
    assert_frame_equal(got, expected([
        ("purchases", "2025-03-01", "search", 24.0),
        ("purchases", "2025-03-02", "search", 18.0),
        ("website_visitors", "2025-03-01", "search", 1200.0),
        ("website_visitors", "2025-03-01", "social", 800.0),
        ("website_visitors", "2025-03-02", "search", 1000.0),
    ]))


def test_wide_history_defines_unknown_metrics_with_defaults(store):
    [result] = import_files(store, files("history_wide.csv"), department="Finance")
    assert result.details["format"] == "wide"
    assert result.details["metrics"] == ["churn_rate", "leads", "revenue"]
    assert (result.details["first_date"], result.details["last_date"]) == (
        date(2025, 1, 1), date(2025, 3, 1))
    metrics = store.definitions.metrics()
    assert metrics["revenue"].unit == "currency"
    assert metrics["churn_rate"].unit == "percent"
    assert metrics["leads"].unit == "number"
    assert {m.department for m in metrics.values()} == {"Finance"}
    assert store.connection.execute("select count(*) from metrics where not inferred").fetchone()[0] == 0
    values = dict(store.connection.execute("select metric || ' ' || obs_date, value from observations").fetchall())
    assert values["revenue 2025-03-01"] == -1234.5
    assert values["churn_rate 2025-02-01"] == pytest.approx(0.075)
    assert "leads 2025-02-01" not in values


def test_reimport_changes_nothing_and_says_so(seeded):
    before = dump(seeded)
    results = import_files(seeded, files("history_long.csv", "metrics.csv"))
    for result in results:
        assert (result.batch, result.inserted, result.updated) == (None, 0, 0)
        assert NOTHING_CHANGED in result.notes
    assert [r.unchanged for r in results] == [r.rows for r in results]
    assert_same_database(before, dump(seeded))


def test_a_correction_updates_and_keeps_the_old_value(seeded):
    [result] = import_files(seeded, files("history_wide_corrected.csv"))
    # February: revenue changed, churn unchanged, leads was missing (so new); April is new.
    assert (result.inserted, result.updated, result.unchanged) == (4, 1, 1)
    history = seeded.connection.execute(
        "select value, batch_id = ? as new, superseded_by from observations "
        "where metric = 'revenue' and obs_date = date '2025-02-01' order by value",
        [result.batch]).fetchall()
    assert history == [(12500.5, False, result.batch), (13000.0, True, None)]


def test_an_old_file_sent_again_does_not_undo_a_later_correction(store):
    original = b"date,metric,value\n2025-01-02,leads,20\n2025-01-03,leads,21\n"
    correction = b"date,metric,value\n2025-01-02,leads,25\n"
    import_files(store, [(original, "leads.csv")])
    import_files(store, [(correction, "leads_fixed.csv")])
    before = dump(store)
    [again] = import_files(store, [(original, "leads.csv")])
    assert (again.batch, again.inserted, again.updated) == (None, 0, 0)
    assert NOTHING_CHANGED in again.notes
    assert_same_database(before, dump(store))
    assert current_observations(store)["value"].tolist() == [25.0, 21.0]


def test_identical_duplicates_collapse(store):
    text = b"date,metric,value\n2025-03-01,leads,5\n2025-03-01,leads,5\n"
    [result] = import_files(store, [(text, "twice.csv")])
    assert (result.rows, result.inserted) == (2, 1)


def test_definitions_of_a_run_are_taken_together_in_any_order(store):
    results = import_files(store, files("key_results.csv", "kpis.csv", "targets.csv",
                                      "history_wide.csv", "metrics.csv", "launches.csv"))
    assert [r.kind for r in results] == ["metrics", "history", "kpis", "targets",
                                         "key_results", "launches"]
    kpis = {k.title: k for k in store.definitions.kpis()}
    assert kpis["Conversion at least 3%"].target == pytest.approx(0.03)
    assert kpis["Churn under 5%"].target_kind == "max"
    assert kpis["Churn under 5%"].tolerance == pytest.approx(0.05)
    assert kpis["Revenue at least $100,000"].target == 100000
    assert {(t.kpi, t.period) for t in store.definitions.targets()} == {
        ("Conversion at least 3%", "2025-03"), ("Churn under 5%", "2025-Q2")}
    titles = [kr.title for kr in store.definitions.key_results()]
    assert titles == ["Increase NPS from 20 to 40", "Reduce churn rate from 8% to 5%",
                      "Win more leads"]


def test_metric_file_redefines_an_inferred_metric(store):
    import_files(store, files("history_long.csv"))
    assert store.definitions.metrics()["purchases"].department is None
    import_files(store, files("metrics.csv"))
    assert store.definitions.metrics()["purchases"].department == "Marketing"
    assert store.connection.execute("select count(*) from metrics where superseded_by is null "
                       "and inferred").fetchone()[0] == 0


def test_dry_run_reports_and_rolls_back(seeded):
    before = dump(seeded)
    [result] = import_files(seeded, files("history_wide_corrected.csv"), dry_run=True)
    assert result.batch is None
    assert (result.inserted, result.updated) == (4, 1)
    assert result.details["format"] == "wide"
    assert result.details["header_row"] == 1
    assert result.details["date_order"] == "ymd"
    assert_same_database(before, dump(seeded))


REFUSALS = {
    "value_formula.csv": ["row 3, column 'value': '=1+2' is not a number"],
    "value_excel_error.csv": ["row 4, column 'value': '#DIV/0!' is not a number"],
    "bad_month.csv": ["row 3, column 'month': '2025-13' is not a date"],
    "conflicting_duplicate.csv": ["rows 2 and 4", "revenue on 2025-03-01", "100 and 150"],
    "kpis_unknown_metric.csv": ["row 2, column 'metric': unknown metric 'bounce_rate'"],
    "kpis_bad_target.csv": ["row 2, column 'target': 'lots' is not a number"],
    "key_results_bad_deadline.csv": ["row 2, column 'deadline': 'next June' is not a date"],
    "kpis_bad_kind.csv": ["row 2, column 'target_kind': 'around' is not one of min, max"],
    "kpis_missing_target_kind.csv": ["header", "target_kind"],
    "metrics_bad_unit.csv": ["row 2, column 'unit': 'euros' is not one of"],
    "metrics_duplicate.csv": ["rows 2 and 4 both define metric 'revenue'"],
    "metrics_formula_unknown.csv": ["column 'formula'", "unknown metric 'cogs'"],
    "metrics_formula_cycle.csv": ["alpha -> beta -> alpha"],
    "key_results_start_equals_target.csv": ["row 2, column 'target': equals the start value"],
    "key_results_unknown_metric.csv": ["row 2, column 'metric': unknown metric 'signups'"],
    "ambiguous_dates.csv": ["--dayfirst or --monthfirst"],
    "targets_unknown_kpi.csv": ["row 2, column 'kpi': 'No such KPI'"],
    "not_history.csv": ["header", "name, city", "date"],
}


def test_every_bad_fixture_has_an_expectation():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(REFUSALS)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusal_names_the_problem_and_changes_nothing(seeded, name):
    before = dump(seeded)
    with pytest.raises(InputError) as refused:
        import_files(seeded, files(name, folder=BAD))
    message = str(refused.value)
    assert name in message
    for fragment in REFUSALS[name]:
        assert fragment in message
    assert_same_database(before, dump(seeded))


def test_a_bad_file_rolls_back_the_whole_run(seeded):
    before = dump(seeded)
    with pytest.raises(InputError, match="value_formula.csv"):
        import_files(seeded, files("history_wide_corrected.csv", "launches.csv")
                     + files("value_formula.csv", folder=BAD))
    assert_same_database(before, dump(seeded))


def test_many_bad_rows_show_the_first_twenty_and_the_count(store):
    lines = [f"2025-01-{d:02d},leads,n/a{'x' * d}" for d in range(1, 31)]
    text = ("date,metric,value\n" + "\n".join(lines) + "\n").encode()
    with pytest.raises(InputError) as refused:
        import_files(store, [(text, "noisy.csv")])
    assert refused.value.total_problems == 30
    assert len(refused.value.problems) == 20
    assert refused.value.problems[0] == "row 2, column 'value': 'n/ax' is not a number"
    assert "showing the first 20 of 30" in str(refused.value)


def test_edited_frame_updates_a_kpi_and_is_not_mutated(seeded):
    frame = pd.DataFrame({"title": ["Conversion at least 3%"], "metric": ["conversion_rate"],
                          "target": [0.035], "target_kind": ["min"]})
    copy = frame.copy()
    [result] = import_frames(seeded, [(frame, "KPI editor", "kpis")])
    assert (result.kind, result.updated, result.inserted) == ("kpis", 1, 0)
    assert_frame_equal(frame, copy)
    kpi = next(k for k in seeded.definitions.kpis() if k.title == "Conversion at least 3%")
    assert kpi.target == pytest.approx(0.035)


def test_edited_frame_is_refused_with_its_row(seeded):
    frame = pd.DataFrame({"metric": ["revenue", "nope"], "target": [1.0, 2.0],
                          "target_kind": ["min", "min"]})
    with pytest.raises(InputError, match="row 3, column 'metric': unknown metric 'nope'"):
        import_frames(seeded, [(frame, "KPI editor", "kpis")])


def test_batches_remember_file_and_counts(seeded):
    batches = list_batches(seeded)
    assert list(batches["file"]) == ["metrics.csv", "history_long.csv", "history_wide.csv",
                                     "kpis.csv"]
    assert batches["run_id"].nunique() == 1
    assert batches["sha256"].str.len().eq(64).all()
    assert list(batches["inserted"]) == [5, 5, 8, 3]


# --- pure helpers of kpi_logic.ingest.definition_rows ---------------------------------------------

@pytest.mark.parametrize("metric, start, target, title", [
    (Metric("nps"), 20, 40, "Increase NPS from 20 to 40"),
    (Metric("churn_rate", unit="percent"), 0.08, 0.05, "Reduce churn rate from 8% to 5%"),
    (Metric("revenue", unit="currency"), 100000, 125000.5,
     "Increase revenue from $100,000 to $125,000.5"),
    (Metric("first_response_time"), 10, 4, "Reduce first response time from 10 to 4"),
    (Metric("first_response_time", unit="duration"), 10, 4,
     "Reduce first response time from 10 h to 4 h"),
])
def test_generated_key_result_titles(metric, start, target, title):
    assert defs.kr_title(metric, start, target) == title


def test_definition_functions_do_not_mutate_their_frame():
    frame = pd.DataFrame({"_line": [2], "metric": ["NPS"], "unit": ["number"]})
    copy = frame.copy()
    [metric] = defs.metric_definitions(frame, defs.Source("m.csv"))
    assert metric.name == "nps"
    assert_frame_equal(frame, copy)


# --- more shapes of input -------------------------------------------------------------

def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx built in memory: {sheet name: rows, header first}."""
    import io

    from openpyxl import Workbook
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_workbook_sheets_are_taken_together_and_name_the_department(store):
    data = workbook_bytes({
        "kpis": [["metric", "target", "target_kind"], ["mrr", 50000, "min"]],
        "Sales": [["month", "MRR", "Deals won"],
                  [date(2025, 1, 1), 41000, 12], [date(2025, 2, 1), 43500.5, None]],
    })
    results = import_files(store, [(data, "company.xlsx")])
    assert [(r.sheet, r.kind) for r in results] == [("Sales", "history"), ("kpis", "kpis")]
    assert results[0].inserted == 3
    metrics = store.definitions.metrics()
    assert (metrics["mrr"].department, metrics["deals_won"].department) == ("Sales", "Sales")
    assert store.definitions.kpis()[0].title == "MRR at least 50,000"
    assert store.connection.execute("select value from observations where metric = 'mrr' "
                       "and obs_date = date '2025-02-01'").fetchone()[0] == 43500.5


def test_semicolon_file_with_decimal_commas(store):
    text = "date;metric;value\n2025-03-01;revenue;1.234,5\n2025-03-02;revenue;12,5%\n".encode()
    import_files(store, [(text, "export.csv")])
    values = [v for (v,) in store.connection.execute("select value from observations order by obs_date")
              .fetchall()]
    assert values == [pytest.approx(1234.5), pytest.approx(0.125)]


@pytest.mark.parametrize("order, day", [("dayfirst", date(2025, 4, 3)),
                                        ("monthfirst", date(2025, 3, 4))])
def test_ambiguous_dates_follow_the_order_asked_for(store, order, day):
    import_files(store, files("ambiguous_dates.csv", folder=BAD), date_order=order)
    assert store.connection.execute("select max(obs_date) from observations").fetchone()[0] == day


def test_long_history_takes_each_metric_department_from_its_rows(store):
    text = (b"date,metric,value,department\n2025-03-01,tickets,40,Support\n"
            b"2025-03-01,MRR,$900,Sales\n")
    import_files(store, [(text, "mixed.csv")], department="Ignored")
    metrics = store.definitions.metrics()
    assert (metrics["tickets"].department, metrics["mrr"].department) == ("Support", "Sales")
    assert metrics["mrr"].unit == "currency"


def test_formula_may_use_a_metric_that_only_history_of_the_run_brings(store):
    formulas = b"metric,unit,formula\nleads_per_revenue,number,leads / revenue\n"
    import_files(store, [(formulas, "formulas.csv")] + files("history_wide.csv"))
    assert store.definitions.metrics()["leads_per_revenue"].formula == "leads / revenue"


def test_unchanged_definitions_leave_no_batch(seeded):
    count = len(list_batches(seeded))
    [result] = import_files(seeded, files("kpis.csv"))
    assert (result.batch, result.unchanged) == (None, 3)
    assert len(list_batches(seeded)) == count


def test_dry_run_of_an_unchanged_file_says_nothing_would_change(seeded):
    [result] = import_files(seeded, files("history_wide.csv"), dry_run=True)
    assert (result.batch, result.inserted, result.unchanged) == (None, 0, 3)  # a file imported before: all its rows unchanged
    assert result.notes.count(NOTHING_CHANGED) == 1


def test_inferred_metrics_remember_their_dimension(store):
    import_files(store, files("history_long.csv"))
    assert store.definitions.metrics()["website_visitors"].dimension_name == "channel"


def test_edited_frame_missing_a_required_column_is_refused(seeded):
    frame = pd.DataFrame({"metric": ["revenue"], "target": [1.0]})
    with pytest.raises(InputError, match="KPI editor, column 'target_kind': the kpis table needs"):
        import_frames(seeded, [(frame, "KPI editor", "kpis")])


SOURCE = defs.Source("defs.csv", "Sheet1")
METRICS = {"nps": Metric("nps"), "churn_rate": Metric("churn_rate", unit="percent")}


def kr_frame(**changes) -> pd.DataFrame:
    row = {"_line": 2, "objective": "Delight", "metric": "nps", "start": 20.0, "target": 40.0,
           "start_date": date(2025, 4, 1), "deadline": date(2025, 6, 30)}
    return pd.DataFrame([{**row, **changes}])


@pytest.mark.parametrize("changes, message", [
    ({"start": 40.0}, "row 2, column 'target': equals the start value"),
    ({"deadline": date(2025, 3, 1)}, "row 2, column 'deadline': must come after start_date"),
    ({"metric": "Revenue"}, "row 2, column 'metric': unknown metric 'revenue'"),
    ({"objective": None}, "row 2, column 'objective': is empty; it is required"),
    ({"start": float("nan")}, "row 2, column 'start': is empty; it is required"),
])
def test_key_result_rows_are_refused_with_their_row_and_column(changes, message):
    with pytest.raises(InputError) as refused:
        defs.key_result_definitions(kr_frame(**changes), SOURCE, METRICS)
    assert message in str(refused.value)
    assert "defs.csv, sheet 'Sheet1'" in str(refused.value)


@pytest.mark.parametrize("written, grain, label", [
    ("2025-03", "month", "2025-03"), ("2025-q2", "quarter", "2025-Q2"), ("2025", "year", "2025"),
    ("2025-05-01", "quarter", "2025-Q2"), ("2025-05-01T00:00:00", "month", "2025-05"),
])
def test_target_periods_become_labels(written, grain, label):
    kpi = KPI(title="NPS", metric="nps", target=40, target_kind="min", period=grain)
    frame = pd.DataFrame([{"_line": 2, "kpi": "nps", "period": written, "target": 45.0}])
    [target] = defs.target_definitions(frame, SOURCE, [kpi])
    assert (target.kpi, target.period) == ("NPS", label)


@pytest.mark.parametrize("value, unit, text", [
    (0.125, "percent", "12.5%"), (1234567.0, "number", "1,234,567"), (-0.0, "number", "0"),
    (40, "currency", "$40"), (-12.5, "currency", "-$12.5"), (0, "currency", "$0"),
    (3, "duration", "3 h"), (0.3333333, "number", "0.33"),
])
def test_values_in_generated_titles(value, unit, text):
    assert defs.value_text(value, unit) == text


def test_frame_of_an_unknown_kind_is_refused(store):
    frame = pd.DataFrame({"name": ["Ada"], "city": ["London"]})
    with pytest.raises(InputError, match="people.csv, row 1: this table is neither metric history"):
        import_frames(store, [(frame, "people.csv", "people")])


def test_a_run_is_named_after_its_first_batch_that_changed_something(seeded):
    import_files(seeded, files("metrics.csv", "history_wide_corrected.csv"))
    last = list_batches(seeded).iloc[-1]
    assert (last["file"], last["run_id"]) == ("history_wide_corrected.csv", last["id"])


@pytest.mark.parametrize("names, folder", [(["history_long.csv", "kpis.csv"], HERE),
                                           (["conflicting_duplicate.csv"], BAD)])
def test_no_working_tables_are_left_behind(store, names, folder):
    try:
        import_files(store, files(*names, folder=folder), dry_run=folder == HERE)
    except InputError:
        pass
    # Temporary tables and views, on the store's connection and on the one files
    # are checked in (the same connection on DuckDB, an in-memory DuckDB beside PostgreSQL).
    temporary = ("select count(*) from information_schema.tables "
                 "where table_type = 'LOCAL TEMPORARY' or table_catalog = 'temp'")
    assert store.connection.execute(temporary).fetchone()[0] == 0
    assert store.staging.execute(temporary).fetchone()[0] == 0


# --- saving inferred metrics from the dashboard ------------------------------------------

def inferred_flags(store) -> dict[str, bool]:
    return dict(store.connection.execute("select name, inferred from metrics where superseded_by is null")
                .fetchall())


def test_saving_inferred_metrics_unchanged_confirms_them_without_a_change(store):
    from kpi_logic.ingest import template
    from kpi_logic.ingest.undo import undo_batch
    import_files(store, files("history_wide.csv"), department="Finance")
    table = template.editable_frame("metrics", store.definitions.metrics().values())
    [saved] = import_frames(store, [(table, "Edited metrics", "metrics")])
    assert (saved.inserted, saved.updated, saved.unchanged) == (0, 0, 3)
    assert "3 metric(s) inferred from history are now confirmed" in " ".join(saved.notes)
    assert set(inferred_flags(store).values()) == {False}
    [again] = import_frames(store, [(table, "Edited metrics", "metrics")])
    assert (again.batch, again.updated) == (None, 0)
    undo_batch(store, saved.batch)
    assert set(inferred_flags(store).values()) == {True}


def test_a_real_change_to_an_inferred_metric_counts_as_updated(store):
    import_files(store, files("history_wide.csv"))
    frame = pd.DataFrame({"metric": ["leads"], "department": ["Sales"]})
    [saved] = import_frames(store, [(frame, "Edited metrics", "metrics")])
    assert (saved.updated, saved.unchanged) == (1, 0)
    assert inferred_flags(store) == {"leads": False, "revenue": True, "churn_rate": True}


# --- the fast path and the diff path give the same answers --------------------------------

def test_names_written_differently_are_one_metric(store):
    text = (b"date,metric,value\n2025-03-01,Website Visitors,10\n2025-03-02,website-visitors,12\n"
            b"2025-03-03, website.visitors ,14\n")
    [result] = import_files(store, [(text, "names.csv")])
    assert result.details["metrics"] == ["website_visitors"]
    assert store.connection.execute("select count(*) from observations where metric = 'website_visitors'")\
        .fetchone()[0] == 3


def test_a_clash_between_names_written_differently_is_refused(store):
    text = b"date,metric,value\n2025-03-01,Leads,10\n2025-03-01,leads,12\n"
    with pytest.raises(InputError, match="rows 2 and 3 give leads on 2025-03-01 two different "
                                         r"values \(10 and 12\)"):
        import_files(store, [(text, "clash.csv")])


def test_a_file_mixing_stored_and_new_metrics_is_diffed_per_value(seeded):
    text = (b"date,metric,value,channel\n2025-03-01,website_visitors,1200,search\n"
            b"2025-03-01,website_visitors,900,social\n2025-03-01,signups,7,search\n"
            b"2025-03-01,signups,7,search\n")
    [result] = import_files(seeded, [(text, "mixed.csv")])
    # search visitors unchanged, social visitors corrected, signups new (its repeat collapses).
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    assert result.details["values"] == 3
    current = current_observations(seeded)
    social = current[(current.metric == "website_visitors") & (current.dimension == "social")]
    assert social["value"].tolist() == [900.0]


def test_an_empty_value_with_a_bad_date_is_skipped_like_any_empty_value(store):
    text = b"date,metric,value\n2025-03-01,leads,5\nnot a date,leads,\n"
    [result] = import_files(store, [(text, "gaps.csv")])
    assert (result.inserted, result.details["values"]) == (1, 1)


def test_the_same_file_again_says_which_batch_holds_it_and_how_to_read_it_anew(store):
    ambiguous = b"date,metric,value\n03/04/2025,x,1\n05/04/2025,x,2\n"
    [first] = import_files(store, [(ambiguous, "d.csv")], date_order="dayfirst")
    [again] = import_files(store, [(ambiguous, "d.csv")], date_order="monthfirst")
    assert again.batch is None and again.notes[0] == NOTHING_CHANGED
    assert again.notes[1].startswith(f"the same content is in batch {first.batch} (d.csv, ")
    assert again.notes[1].endswith(f"undo batch {first.batch} first")
