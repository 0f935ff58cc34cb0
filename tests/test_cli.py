"""The command line against a real database (a DuckDB file, or a PostgreSQL
database by URL: each test runs on both): `main(argv)` in-process, its
stdout and stderr captured (a command takes hundredths of a second where a
new interpreter takes over a second); a few tests run `python -m kpi_logic`
itself to keep the exit codes of the real process honest. Fixture files:
tests/fixtures/cli/."""
from __future__ import annotations

import io
import json
import logging
import math
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from kpi_logic.cli.common import jsonable, table_text
from kpi_logic.cli.main import main
from kpi_logic.demo import history as demo_history
from kpi_logic.store import open_store
from tests.conftest import duckdb_only, load_demo, postgres_only

REPO = Path(__file__).resolve().parents[1]
CLI = Path(__file__).parent / "fixtures" / "cli"
DEFINITIONS_AND_HISTORY = [str(CLI / n) for n in
                           ("metrics.csv", "history.csv", "kpis.csv", "key_results.csv")]
IMPORT_FIELDS = {"file", "sheet", "kind", "batch", "rows", "inserted", "updated", "unchanged"}


@dataclass
class Done:
    """What a command left: its exit code and what it printed."""
    returncode: int
    stdout: str
    stderr: str


def run(db, *args, **env) -> Done:
    """`python -m kpi_logic [--db db] args` in this process, with `env` set
    and LODESTAR_DB unset unless given. A plain function, not capsys, so the
    module-scoped fixture below can use it too."""
    out, err = io.StringIO(), io.StringIO()
    argv = (["--db", str(db)] if db else []) + [str(a) for a in args]
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.delenv("LODESTAR_DB", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        try:
            code = main(argv)
        except SystemExit as exc:          # argparse's usage errors and --help
            code = exc.code
    return Done(code, out.getvalue(), err.getvalue())


def run_process(db, *args, **env) -> subprocess.CompletedProcess:
    """The real thing: `python -m kpi_logic` in a child process."""
    environment = {k: v for k, v in os.environ.items() if k != "LODESTAR_DB"}
    environment.update({"LODESTAR_LOCK_WAIT": "2", **env})
    command = [sys.executable, "-m", "kpi_logic", "--db", str(db), *args]
    return subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True,
                          timeout=300)


def run_json(db, *args):
    done = run(db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def snapshot(db) -> dict:
    """Everything an import or undo can change, to compare before and after."""
    with open_store(db, read_only=True) as store:
        return {table: store.connection.execute(f"select * from {table} order by 1, 2, 3")
                .fetchall()
                for table in ("batches", "observations", "metrics", "kpis", "key_results")}


def imported(db) -> None:
    """The fixture definitions and history, imported by the command line."""
    done = run(db, "import", *DEFINITIONS_AND_HISTORY)
    assert done.returncode == 0, done.stderr
    # A DuckDB file every command has closed has no write-ahead log, so a copy is whole.
    assert not Path(f"{db}.wal").exists()


@pytest.fixture
def loaded(databases):
    """A database holding the fixture definitions and history (read-only tests)."""
    return databases.shared("cli", imported)


@pytest.fixture
def fresh(databases):
    """A database of its own, with the fixtures imported (tests that write)."""
    return databases.copy_of("cli", imported)


def test_import_prints_one_json_object_per_file_and_a_repeat_changes_nothing(database):
    db = database
    first = run(db, "import", *DEFINITIONS_AND_HISTORY, "--json")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["kind"] for r in sorted(lines, key=lambda r: r["file"])] == [
        "history", "key_results", "kpis", "metrics"]
    assert all(IMPORT_FIELDS <= set(r) for r in lines)
    history = next(r for r in lines if r["file"] == "history.csv")
    assert (history["rows"], history["inserted"], history["updated"]) == (15, 15, 0)

    again = [json.loads(line) for line in run(db, "import", *DEFINITIONS_AND_HISTORY,
                                              "--json").stdout.splitlines()]
    assert [r["inserted"] + r["updated"] for r in again] == [0, 0, 0, 0]


def test_import_table_lists_each_file(database):
    done = run(database, "import", *DEFINITIONS_AND_HISTORY)
    assert done.returncode == 0
    assert "history.csv" in done.stdout and "inserted" in done.stdout.splitlines()[0]


def test_dry_run_reports_but_writes_nothing(database):
    db = database
    done = run(db, "import", *DEFINITIONS_AND_HISTORY, "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4
    assert all(v == [] for v in snapshot(db).values())


@pytest.mark.parametrize("args, says", [
    (["import", str(CLI / "empty.csv")], "empty.csv"),
    (["import", str(CLI / "formula_value.csv")], "formula_value.csv"),
    (["import", str(CLI / "does_not_exist.csv")], "does_not_exist.csv"),
    (["import", str(CLI / "correction.csv"), str(CLI / "empty.csv")], "empty.csv"),
    (["undo", "999"], "999"),
    (["history", "--metric", "no_such_metric"], "no_such_metric"),
    (["scorecard", "--department", "Marketing", "--as-of", "last tuesday"], "--as-of"),
    (["launch-optimise", "--budget", "100", "--min", "social"], "--min"),
    (["history"], "--metric"),                       # argparse usage error
    ([], "command"),
])
def test_refusals_exit_2_with_a_message_and_leave_the_database_unchanged(fresh, args, says):
    before = snapshot(fresh)
    done = run(fresh, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert says in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert snapshot(fresh) == before


def test_refused_file_names_row_and_column(fresh):
    done = run(fresh, "import", str(CLI / "formula_value.csv"))
    assert done.returncode == 2
    assert "row 2" in done.stderr and "value" in done.stderr


def test_correction_updates_and_undo_puts_back_the_state_before(fresh):
    before = snapshot(fresh)
    [result] = [json.loads(x) for x in run(fresh, "import", str(CLI / "correction.csv"),
                                           "--json").stdout.splitlines()]
    assert (result["inserted"], result["updated"]) == (0, 1)
    social = run_json(fresh, "history", "--metric", "purchases", "--dimension", "social")
    assert social[-1] == {"period": "2025-03", "value": 25.0, "partial": True}

    undone = run(fresh, "undo", str(result["batch"]))
    assert undone.returncode == 0, undone.stderr
    assert snapshot(fresh)["observations"] == before["observations"]
    assert run(fresh, "undo", str(result["batch"])).returncode == 2   # already undone


def test_batches_json_lists_each_file_with_time_and_rows(loaded):
    batches = run_json(loaded, "batches")
    assert [b["file"] for b in batches] == ["metrics.csv", "history.csv", "kpis.csv",
                                            "key_results.csv"]
    assert {"id", "file", "sheet", "time", "rows"} <= set(batches[0])
    assert batches[1]["rows"] == 15


def test_history_rolls_rates_up_from_summed_parts(loaded):
    rows = run_json(loaded, "history", "--metric", "conversion_rate")
    assert [r["period"] for r in rows] == ["2025-01", "2025-02", "2025-03"]
    assert [round(r["value"], 6) for r in rows] == [0.0175, 0.02, 0.025]
    quarter = run_json(loaded, "history", "--metric", "conversion_rate", "--grain", "quarter")
    assert [(r["period"], round(r["value"], 6)) for r in quarter] == [("2025-Q1", 0.020833)]


def test_history_of_one_dimension_value(loaded):
    rows = run_json(loaded, "history", "--metric", "conversion_rate", "--dimension", "social")
    assert [round(r["value"], 6) for r in rows] == [0.01, 0.005, 0.02]


def test_history_table_shows_rates_as_percent(loaded):
    done = run(loaded, "history", "--metric", "conversion_rate")
    assert done.returncode == 0, done.stderr
    assert "2025-03  2.5%" in done.stdout


def test_history_marks_the_period_its_data_end_in_as_partial(loaded):
    rows = run_json(loaded, "history", "--metric", "conversion_rate")
    assert [r["partial"] for r in rows] == [False, False, True]
    # The data come every 16 days: the value of 5 March speaks to the 20th.
    assert "2025-03  2.5%   so far: data through 20 Mar" in run(
        loaded, "history", "--metric", "conversion_rate").stdout


def test_history_of_a_typed_formula_is_the_ratio_of_each_periods_summed_parts(loaded):
    typed = run_json(loaded, "history", "--formula", "purchases / visitors")
    stored = run_json(loaded, "history", "--metric", "conversion_rate")
    assert typed == stored
    # January: (20 + 10 + 5) / (1,000 + 500 + 500), not the mean of the days' rates.
    assert typed[0]["value"] == pytest.approx(35 / 2000)


def test_history_split_gives_a_row_per_channel_and_period(loaded):
    rows = run_json(loaded, "history", "--metric", "purchases", "--split", "--grain", "quarter")
    assert rows == [{"period": "2025-Q1", "value": 96.0, "partial": True, "dimension": "search"},
                    {"period": "2025-Q1", "value": 29.0, "partial": True, "dimension": "social"}]
    whole = run_json(loaded, "history", "--metric", "purchases", "--grain", "quarter")
    assert whole[0]["value"] == sum(r["value"] for r in rows)
    done = run(loaded, "history", "--metric", "purchases", "--split", "--grain", "quarter")
    assert done.stdout.splitlines()[0].split() == ["period", "dimension", "value", "data"]


def test_history_between_two_days_marks_the_periods_the_range_cuts(loaded):
    rows = run_json(loaded, "history", "--metric", "visitors", "--from", "2025-01-10",
                    "--to", "2025-02-28")
    # January from the 10th; February's data (every 16 days) speak to the 20th only.
    assert rows == [{"period": "2025-01", "value": 1000.0, "partial": True},
                    {"period": "2025-02", "value": 2000.0, "partial": True}]
    assert run_json(loaded, "history", "--metric", "visitors", "--from", "2025-01-01",
                    "--to", "2025-01-31")[0]["partial"] is False
    done = run(loaded, "history", "--metric", "visitors", "--from", "2025-01-10")
    assert "2025-01  1,000  from 10 Jan" in done.stdout


@pytest.mark.parametrize("args, says", [
    (("--formula", "purchases / visiters"), "uses unknown metric 'visiters'; did you mean "
                                            "'visitors'?"),
    (("--formula", "purchases /"), "cannot be read at character 12"),
    (("--metric", "visitors", "--from", "2025-03-01", "--to", "2025-01-01"),
     "the range starts on 2025-03-01, after its last day 2025-01-01"),
    (("--metric", "visitors", "--from", "March"), "--from 'March' is not a date"),
])
def test_history_refuses_a_bad_formula_or_range_in_one_line(loaded, args, says):
    done = run(loaded, "history", *args)
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_history_takes_a_metric_or_a_formula_not_both(loaded):
    done = run(loaded, "history", "--metric", "visitors", "--formula", "visitors")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


@pytest.mark.parametrize("args, says", [
    (("--metric", "conversion"), "no metric named 'conversion'"),
    (("--metric", "conversion_rate", "--dimension", "carrier_pigeon"),
     "no history for dimension value 'carrier_pigeon'"),
])
def test_history_refuses_unknown_metric_or_dimension(loaded, args, says):
    done = run(loaded, "history", *args)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_metrics_json_says_which_metrics_are_linked(loaded):
    metrics = {m["metric"]: m for m in run_json(loaded, "metrics", "--department", "Marketing")}
    assert {"metric", "department", "unit", "direction", "aggregation", "formula", "current",
            "current_date", "linked"} <= set(metrics["visitors"])
    assert metrics["page_views"]["linked"] is False
    assert metrics["purchases"]["linked"] is True      # a component of conversion_rate
    assert metrics["conversion_rate"]["formula"] == "purchases / visitors"
    assert math.isclose(metrics["conversion_rate"]["current"], 0.025)


def test_scorecard_json_judges_kpis_and_compares_with_the_previous_month(loaded):
    card = run_json(loaded, "scorecard", "--department", "Marketing", "--period", "2025-03",
                    "--as-of", "2025-04-10")
    # rows every 16 days or so, the last on 5 March: March's data are partial (the next row
    # was due around the 21st), so it is compared with 1-20 February, which holds all of it
    assert (card["department"], card["period"], card["partial"]) == ("Marketing", "2025-03", True)
    kpis = {k["title"]: k for k in card["kpis"]}
    assert {k["data_through"] for k in card["kpis"]} == {"2025-03-05"}
    rate = kpis["Conversion rate"]
    # misses in a row count complete periods only: January and February
    assert (rate["status"], rate["missed_in_a_row"], rate["target"]) == ("unhealthy", 2, 0.03)
    assert math.isclose(rate["value"], 0.025)
    assert math.isclose(rate["vs_previous"]["abs"], 0.005)
    assert math.isclose(rate["vs_previous"]["pct"], 0.25)
    assert kpis["Product page visitors"]["status"] == "healthy"
    assert "page_views" in [m["metric"] for m in card["metrics"]]


def test_scorecard_table_shows_status_words(loaded):
    done = run(loaded, "scorecard", "--department", "Marketing", "--period", "2025-03",
               "--as-of", "2025-04-10")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("Conversion rate"))
    assert "Unhealthy" in line and "2.5%" in line and "at least 3%" in line


def test_scorecard_without_a_department_prints_every_department_in_turn(databases):
    demo = databases.shared("demo", load_demo)
    every = run_json(demo, "scorecard", "--as-of", "2026-11-15")
    names = [card["department"] for card in every]
    assert names == ["Customer service", "Finance", "HR", "Marketing", "Product", "Sales"]
    for card in every:
        assert card == run_json(demo, "scorecard", "--department", card["department"],
                                "--as-of", "2026-11-15")
    quarter = run_json(demo, "scorecard", "--period", "2026-Q3", "--as-of", "2026-11-15")
    assert {card["period"] for card in quarter} == {"2026-Q3"}
    done = run(demo, "scorecard", "--as-of", "2026-11-15")
    assert done.returncode == 0, done.stderr
    headings = [line for line in done.stdout.splitlines() if " scorecard, " in line]
    assert headings == [f"{name} scorecard, 2026-10" for name in names]


def test_scorecard_of_every_department_on_an_empty_database_says_so(database):
    with open_store(database):
        pass                                  # the tables, and nothing in them
    assert run_json(database, "scorecard") == []
    done = run(database, "scorecard")
    assert (done.returncode, done.stdout.strip()) == (
        0, "No department has KPIs or metrics to show yet.")


def test_okrs_json_has_progress_and_expected(loaded):
    report = run_json(loaded, "okrs", "--as-of", "2025-03-31")
    assert report["as_of"] == "2025-03-31"
    [objective] = report["objectives"]
    [kr] = objective["key_results"]
    assert {"title", "metric", "start", "target", "current", "progress", "progress_raw",
            "expected", "status", "deadline", "owner"} <= set(kr)
    # a rate stands at its last 28 days of data (5 March: 50 / 2000), not the window's 125 / 6000
    assert math.isclose(kr["progress_raw"], (50 / 2000 - 0.02) / 0.02, rel_tol=1e-6)
    assert kr["measured"] == {"kind": "trailing", "from": "2025-03-05", "to": "2025-03-05"}
    assert kr["status"] == "off_track"
    assert kr["title"].startswith("Increase conversion rate from 2%")


def test_database_from_environment_variable(database):
    done = run(None, "import", str(CLI / "metrics.csv"), LODESTAR_DB=str(database))
    assert done.returncode == 0, done.stderr
    assert [b[2] for b in snapshot(database)["batches"]] == ["metrics.csv"]


@postgres_only("LODESTAR_DATABASE_URL names a server")
def test_server_url_from_its_environment_variable_comes_before_lodestar_db(database, tmp_path):
    unused = tmp_path / "unused.duckdb"
    done = run(None, "import", str(CLI / "metrics.csv"), LODESTAR_DATABASE_URL=database,
               LODESTAR_DB=str(unused))
    assert done.returncode == 0, done.stderr
    assert [b[2] for b in snapshot(database)["batches"]] == ["metrics.csv"]
    assert not unused.exists()


# ---- the real process: exit codes as a shell sees them ----------------------

@duckdb_only("another process holding the DuckDB file's lock")
def test_busy_database_is_exit_1_with_one_line(fresh):
    holder = duckdb.connect(str(fresh))      # another process keeps the file locked
    try:
        done = run_process(fresh, "batches", LODESTAR_LOCK_WAIT="0.3")
    finally:
        holder.close()
    assert done.returncode == 1
    assert "in use" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_python_m_kpi_logic_exits_0_when_done_and_2_when_refused(fresh):
    before = snapshot(fresh)
    refused = run_process(fresh, "import", str(CLI / "formula_value.csv"))
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("Refused: formula_value.csv: 1 cell(s) cannot be read")
    assert "row 2, column 'value'" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    done = run_process(fresh, "batches", "--json")
    assert done.returncode == 0, done.stderr
    assert [b["file"] for b in json.loads(done.stdout)] == [
        "metrics.csv", "history.csv", "kpis.csv", "key_results.csv"]
    assert snapshot(fresh) == before


# ---- a failure: one line, and the traceback only with --debug --------------


def test_unreadable_database_is_exit_1_with_one_line_and_the_traceback_with_debug(tmp_path):
    # DuckDB only: a file that is not a database.
    db = tmp_path / "junk.duckdb"
    db.write_bytes(b"this is not a database" * 100)
    done = run(db, "batches")
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: IOException: ") and line.endswith("(--debug shows where)")

    debug = run(db, "--debug", "batches")
    assert debug.returncode == 1
    lines = debug.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert any("cmd_batches" in x for x in lines), "the traceback names the failing command"
    assert lines[-1].startswith("Error: IOException: ") and "--debug" not in lines[-1]


def test_a_refusal_is_one_line_and_with_debug_the_import_log_says_where(fresh):
    args = ("import", str(CLI / "formula_value.csv"))
    plain = run(fresh, *args)
    assert plain.returncode == 2 and plain.stderr.startswith("Refused: formula_value.csv: ")
    assert "Traceback" not in plain.stderr

    debug = run(fresh, "--debug", *args)
    assert debug.returncode == 2
    lines = debug.stderr.splitlines()
    # the log says where, not what: the message quotes the cell ('=1+2')
    [logged] = [x for x in lines if x.startswith("INFO kpi_logic.ingest.importing:")]
    assert logged.endswith("Import refused, nothing written: formula_value.csv")
    assert "Traceback (most recent call last):" in lines
    assert debug.stderr.endswith(plain.stderr), "the refusal itself, as without --debug, last"


def test_debug_shows_each_import_and_undo_in_the_log_and_leaves_logging_as_it_was(database):
    engine = logging.getLogger("kpi_logic")
    handlers, level = list(engine.handlers), engine.level
    db = database
    plain = run(db, "import", str(CLI / "metrics.csv"))
    assert plain.returncode == 0 and plain.stderr == ""

    done = run(db, "--debug", "import", *DEFINITIONS_AND_HISTORY[1:], "--json")
    assert done.returncode == 0, done.stderr
    history = next(json.loads(x) for x in done.stdout.splitlines() if "history.csv" in x)
    logged = done.stderr.splitlines()
    assert (f"INFO kpi_logic.ingest.importing: Imported history.csv as history: batch "
            f"{history['batch']}, 15 rows, 15 inserted, 0 updated") in logged
    undone = run(db, "--debug", "undo", str(history["batch"]))
    assert undone.returncode == 0, undone.stderr
    assert (f"INFO kpi_logic.ingest.undo: Undid batch {history['batch']} (history.csv): "
            "15 rows removed, 0 restored") in undone.stderr.splitlines()
    assert (engine.handlers, engine.level) == (handlers, level)


def test_demo_command_loads_the_demo_company(database, tmp_path):
    db = database
    done = run(db, "demo", "--end", "2026-11-26", "--json")
    assert done.returncode == 0, done.stderr
    kinds = {json.loads(x)["kind"] for x in done.stdout.splitlines()}
    assert kinds == {"metrics", "history", "kpis", "targets", "key_results", "launches",
                     "objectives", "checkins"}
    card = run_json(db, "scorecard", "--department", "Marketing", "--as-of", "2026-11-27")
    assert len(card["kpis"]) == 8

    launch = run_json(db, "launch")
    expected = date(2026, 11, 26) - timedelta(days=demo_history.LAUNCH_DAYS_AGO)
    assert launch["launch_date"] == expected.isoformat()
    assert {c["channel"] for c in launch["channels"]} == {"search_ads", "social", "email",
                                                          "partners", "display"}
    assert all(c["curve"]["model"] == "power" for c in launch["channels"])
    best = run_json(db, "launch-optimise", "--budget", "6000", "--max", "display=500")
    assert sum(a["spend"] for a in best["allocation"]) == pytest.approx(6000, rel=1e-3)
    infeasible = run(db, "launch-optimise", "--budget", "100", "--min", "social=500")
    assert infeasible.returncode == 2 and "Traceback" not in infeasible.stderr
    assert {(c["channel"], c["campaign"]) for c in launch["campaigns"]} == {
        ("display", "Launch banners"), ("display", "Retargeting"),
        ("search_ads", "Brand terms"), ("search_ads", "Pathfinder keywords"),
        ("social", "Creator promotion"), ("social", "Launch posts")}
    assert launch["promotion_date"] == (expected + timedelta(days=21)).isoformat()
    assert launch["engagement"]["per_visitor"][-1]["measure"] == "engagement"
    text = run(db, "launch").stdout
    assert "Pathfinder keywords" in text and "$" in text.splitlines()[4]

    out = tmp_path / "launch.png"
    done = run(db, "report", "--page", "launch", "--promotion", "2026-10-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    unknown = run(db, "report", "--page", "launch", "--compare", "Plan Z", "--out", str(out))
    assert unknown.returncode == 2 and "No scenario named 'Plan Z'" in unknown.stderr
    steps = {}
    for step in ("measure", "analyse", "improve"):
        path = tmp_path / f"launch-{step}.png"
        done = run(db, "report", "--page", "launch", "--step", step, "--out", str(path))
        assert done.returncode == 0, done.stderr
        steps[step] = path.read_bytes()
    assert len(set(steps.values())) == 3 and out.read_bytes() not in steps.values()
    alone = run(db, "report", "--page", "launch", "--step", "scenarios", "--out", str(out))
    assert alone.returncode == 2 and "--step scenarios needs --compare" in alone.stderr


def test_report_writes_a_png(loaded, tmp_path):
    out = tmp_path / "okrs.png"
    done = run(loaded, "report", "--page", "okrs", "--as-of", "2025-03-31", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert run(loaded, "report", "--page", "scorecard", "--out", str(out)).returncode == 2


# ---- pure helpers ---------------------------------------------------------

def test_jsonable_makes_valid_json_without_mutating():
    value = {"when": date(2025, 3, 1), "x": float("nan"), "n": np.int64(3), "items": [np.float64(0.5)]}
    copy = dict(value)
    assert jsonable(value) == {"when": "2025-03-01", "x": None, "n": 3, "items": [0.5]}
    assert value == copy or math.isnan(value["x"])
    assert value["when"] == date(2025, 3, 1)


def test_table_text_aligns_numbers_right_and_shows_missing():
    text = table_text([{"a": "x", "b": 5}, {"a": "long", "b": None}], ["a", "b"])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b"]
    assert lines[2].endswith(" 5") and lines[3].endswith("—")


def test_reading_a_database_that_does_not_exist_is_refused_and_creates_nothing(tmp_path):
    # DuckDB only: the file and its folder are not created.
    missing = tmp_path / "typo" / "lodestar.duckdb"
    done = run(missing, "metrics")
    assert done.returncode == 2
    assert "no Lodestar database" in done.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize("args", [
    ("scorecard", "--department", "Marketing", "--period", "9999-12"),
    ("scorecard", "--department", "Marketing", "--as-of", "9999-12-31"),
    ("okrs", "--as-of", "0001-01-01"),
    ("report", "--page", "overview", "--as-of", "9999-12-31", "--out", "x.png"),
])
def test_a_far_date_on_the_command_line_is_refused_not_a_crash(loaded, args):
    done = run(loaded, *args)
    assert done.returncode == 2, done.stderr
    assert "outside the dates Lodestar works with, 1900-01-01 to 2199-12-31" in done.stderr
    assert "Traceback" not in done.stderr


def test_departments_written_in_two_cases_get_one_scorecard(database):
    """'Sales' and 'sales' name one department (a scorecard finds it either way):
    every department's scorecards hold it once."""
    from kpi_logic.ingest.importing import import_files
    with open_store(database) as store:
        import_files(store, [(b"metric,department\nvisits,Sales\nsignups,sales\n", "metrics.csv"),
                             (b"date,visits,signups\n2026-01-05,3,4\n", "history.csv")])
    cards = run_json(database, "scorecard", "--as-of", "2026-02-15")
    assert [card["department"] for card in cards] == ["Sales"]


# The libraries a command loads only when it reads data or draws: `--help` and a
# usage error answer without them.
HEAVY_MODULES = ("duckdb", "pandas", "numpy", "pyarrow", "altair", "vl_convert",
                 "kpi_logic.store", "kpi_logic.output")

LOADED_BY_THE_COMMAND_LINE = """
import sys
from kpi_logic.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    print("exit", exc.code, file=sys.stderr)
heavy = sys.argv[1].split()
print(" ".join(sorted({h for h in heavy for name in list(sys.modules)
                       if name == h or name.startswith(h + ".")})), file=sys.stderr)
"""


@pytest.mark.parametrize("args, code, says", [
    (["--help"], 0, "usage: python -m kpi_logic"),
    (["report", "--help"], 0, "the board pack"),
    (["history", "--grain", "fortnight"], 2, "invalid choice: 'fortnight'"),
])
def test_help_and_usage_errors_answer_without_loading_the_engine_libraries(args, code, says):
    done = subprocess.run([sys.executable, "-c", LOADED_BY_THE_COMMAND_LINE,
                           " ".join(HEAVY_MODULES), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    *_, exit_line, loaded = done.stderr.splitlines()
    assert exit_line == f"exit {code}"
    assert says in done.stdout + done.stderr
    assert loaded == "", f"{' '.join(args)} loaded {loaded}"
