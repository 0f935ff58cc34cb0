"""`python -m kpi_logic alerts` in-process against the hand-made history of
tests/test_alerts.py (a DuckDB file or a PostgreSQL database): the JSON is the
engine's list with exactly the contract's keys (plus severity), the table says
the same, and bad dates and departments are refused with exit 2."""
from __future__ import annotations

import json
from datetime import date

import pytest

from kpi_logic.metrics.overview import alert_list
from kpi_logic.store import open_store
from tests.test_alerts import KEYS, changing_company
from tests.test_cli import run, run_json, run_process

WINDOW = ("--as-of", "2026-12-07", "--since", "2026-11-30")


def fill(location) -> None:
    with open_store(location) as store:
        changing_company(store)


@pytest.fixture
def company(databases):
    """The hand-made history, shared read-only by this module's tests."""
    return databases.shared("alerts-company", fill)


def test_alerts_json_is_the_engines_list_with_the_contracts_keys(company):
    printed = run_json(company, "alerts", *WINDOW)
    with open_store(company, read_only=True) as store:
        expected = alert_list(store, as_of=date(2026, 12, 7), since=date(2026, 11, 30))
    assert printed == expected
    assert [a["kind"] for a in printed] == ["kpi_worse", "kr_behind", "stale", "stale"]
    assert all(set(a) == KEYS for a in printed)     # {kind, department, title, since, text} + severity


def test_the_default_since_is_a_week_before_as_of(company):
    assert run_json(company, "alerts", "--as-of", "2026-12-07") == run_json(company, "alerts", *WINDOW)


def test_alerts_as_a_table(company):
    done = run(company, "alerts", *WINDOW)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Alerts as of 2026-12-07, changes since 2026-11-30"
    assert lines[2].split() == ["severity", "kind", "since", "text"]
    assert lines[4].split(None, 3) == [
        "high", "kpi_worse", "2026-11",
        "Sales: Leads at least 100 went from healthy in Oct 2026 to unhealthy in Nov 2026"]
    assert len(lines) == 4 + 4


def test_one_departments_alerts(company):
    printed = run_json(company, "alerts", *WINDOW, "--department", "FINANCE")
    assert [(a["kind"], a["title"]) for a in printed] == [("stale", "Finance")]


def test_nothing_to_say(company):
    """Changes since the day itself, one department with none of its own."""
    done = run(company, "alerts", "--as-of", "2026-11-15", "--since", "2026-11-15",
               "--department", "Product")
    assert (done.returncode, done.stdout.strip()) == (
        0, "Alerts as of 2026-11-15, changes since 2026-11-15: nothing needs attention.")
    assert json.loads(run(company, "alerts", "--as-of", "2026-11-15", "--since", "2026-11-15",
                          "--department", "Product", "--json").stdout) == []


@pytest.mark.parametrize("args, message", [
    (("--since", "2026-13-01"), "--since '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    (("--since", "1899-12-31"), "--since 1899-12-31 is outside the dates Lodestar works with"),
    (("--as-of", "yesterday"), "--as-of 'yesterday' is not a date"),
    (("--as-of", "2026-12-07", "--since", "2026-12-08"),
     "The since date 2026-12-08 is after the as-of date 2026-12-07"),
    (("--department", "Legal"), "There is no department 'Legal'. Known departments: Finance, "
                                "Product, Sales."),
])
def test_refused_arguments_exit_2_with_one_line(company, args, message):
    done = run(company, "alerts", *args, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("Refused: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_real_process_exits_2_on_an_unknown_department(company):
    done = run_process(company, "alerts", "--department", "Legal")
    assert done.returncode == 2, done.stderr
    assert "There is no department 'Legal'" in done.stderr and "Traceback" not in done.stderr
