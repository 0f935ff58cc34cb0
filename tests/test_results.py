"""The shapes written down in kpi_logic/metrics/results.py and
kpi_logic/launch/results.py against what the CLI prints for the demo company:
every key the JSON has is declared, every required key is there, every
optional key shows up somewhere, nested dicts and lists checked all the way
down, and None only where the shape allows it. So the TypedDicts cannot drift
from the code."""
from __future__ import annotations

import json
import types
import typing
from datetime import date, timedelta
from typing import Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from kpi_logic.cli.common import jsonable
from kpi_logic.launch.results import LaunchSummary, Optimisation
from kpi_logic.metrics.history import metric_history
from kpi_logic.metrics.overview import overview
from kpi_logic.metrics.results import (
    Alert,
    HistoryRow,
    MetricHistory,
    OkrReport,
    Overview,
    Scorecard,
)
from kpi_logic.store import open_store
from tests.test_cli import run_json

LEAVES = {str: (str,), bool: (bool,), int: (int,), float: (int, float)}


def shape_problems(value, hint, path: str, seen: set) -> list[str]:
    """What in `value` (JSON-ready) does not fit the type `hint`; records in `seen`
    the (TypedDict, key) pairs met, so optional keys can be checked for use."""
    if get_origin(hint) in (Union, types.UnionType):
        options = get_args(hint)
        if value is None:
            return [] if type(None) in options else [f"{path}: None where {hint} is declared"]
        (inner,) = [o for o in options if o is not type(None)]
        return shape_problems(value, inner, path, seen)
    if value is None:
        return [f"{path}: None where {hint} is declared"]
    if get_origin(hint) is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where a dict is declared"]
        key_hint, value_hint = get_args(hint)
        return [p for k, item in value.items()
                for p in shape_problems(k, key_hint, f"{path} key", seen)
                + shape_problems(item, value_hint, f"{path}[{k!r}]", seen)]
    if get_origin(hint) is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where a list is declared"]
        return [p for i, item in enumerate(value)
                for p in shape_problems(item, get_args(hint)[0], f"{path}[{i}]", seen)]
    if is_typeddict(hint):
        return typed_dict_problems(value, hint, path, seen)
    fits = isinstance(value, LEAVES[hint]) and not (hint is not bool and isinstance(value, bool))
    return [] if fits else [f"{path}: {value!r} is not {hint.__name__}"]


def typed_dict_problems(value, shape, path: str, seen: set) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} where {shape.__name__} is declared"]
    declared = shape.__required_keys__ | shape.__optional_keys__
    problems = [f"{path}: key '{k}' not declared in {shape.__name__}" for k in value.keys() - declared]
    problems += [f"{path}: key '{k}' of {shape.__name__} missing"
                 for k in shape.__required_keys__ - value.keys()]
    hints = get_type_hints(shape)
    for key in declared & value.keys():
        seen.add((shape.__name__, key))
        problems += shape_problems(value[key], hints[key], f"{path}.{key}", seen)
    return problems


def optional_keys(shape, found: set | None = None) -> set:
    """(TypedDict, key) of every NotRequired key reachable from `shape`."""
    found = set() if found is None else found
    if is_typeddict(shape):
        found |= {(shape.__name__, k) for k in shape.__optional_keys__}
        for hint in get_type_hints(shape).values():
            optional_keys(hint, found)
    for arg in get_args(shape):
        optional_keys(arg, found)
    return found


@pytest.fixture(scope="module")
def printed(demo_file):
    """The demo's JSON as the CLI prints it: a scorecard of a closed period, one of the
    period the data end in (flows judged on pace), the OKR report and the launch;
    and the overview, which no command prints, through the same converter."""
    closed = run_json(demo_file, "scorecard", "--department", "Sales")
    current = run_json(demo_file, "scorecard", "--department", "Sales",
                       "--period", closed["data_through"][:7])
    # Looked at a month after the data end, the pinned flows are judged on pace.
    later = date.fromisoformat(closed["data_through"]) + timedelta(days=35)
    with open_store(demo_file, read_only=True, migrate=False) as store:
        home = [jsonable(overview(store)), jsonable(overview(store, as_of=later))]
        explored = jsonable(metric_history(store, formula="spend / new_customers",
                                           start="2026-09-10", by_dimension=True))
    history = [*run_json(demo_file, "history", "--metric", "cac"),
               *run_json(demo_file, "history", "--metric", "spend", "--split")]
    # A month of changes, so the list holds several kinds.
    month_ago = (date.today() - timedelta(days=31)).isoformat()
    launch = run_json(demo_file, "launch")
    actual = f"{sum(c['spend'] for c in launch['channels']) / launch['days']:.2f}"
    # within the spend seen (the default), and allowed outside it: display cut under its least day
    optimised = [run_json(demo_file, "launch-optimise", "--budget", actual),
                 run_json(demo_file, "launch-optimise", "--budget", actual, "--anywhere")]
    return {"scorecard": (Scorecard, [closed, current]),
            "okrs": (OkrReport, [run_json(demo_file, "okrs")]),
            "launch": (LaunchSummary, [launch]),
            "optimise": (Optimisation, optimised),
            "overview": (Overview, home),
            "alerts": (Alert, run_json(demo_file, "alerts", "--since", month_ago)),
            "history": (HistoryRow, history),
            "explored": (MetricHistory, [explored])}


@pytest.mark.parametrize("name", ["scorecard", "okrs", "launch", "optimise", "overview",
                                  "alerts", "history", "explored"])
def test_the_json_has_exactly_the_declared_keys(printed, name):
    shape, values = printed[name]
    seen: set = set()
    problems = [p for v in values for p in typed_dict_problems(v, shape, name, seen)]
    assert problems == []
    assert optional_keys(shape) - seen == set(), "a NotRequired key the demo never shows"


def test_the_demo_reaches_the_nested_shapes(printed):
    """The check above walks real entries, not empty lists."""
    closed, current = printed["scorecard"][1]
    assert closed["kpis"] and closed["kpis"][0]["history"]
    assert any("pace" in h for k in current["kpis"] for h in k["history"])
    # the running month is forecast, with its range from a year of backtests
    assert all(k["forecast"]["backtested_periods"] >= 4 for k in current["kpis"])
    assert all(k["forecast"] is None for k in closed["kpis"])
    report = printed["okrs"][1][0]
    assert report["objectives"][0]["key_results"][0]["measured"]["from"]
    launch = printed["launch"][1][0]
    assert launch["channels"][0]["curve"] and launch["campaigns"] and launch["engagement"]
    bounded, anywhere = printed["optimise"][1]
    assert bounded["within_seen"] and bounded["outside_seen"] == [] and bounded["allocation"]
    # the demo's display cut: far below its least day, so its CAC projection is a guess
    assert {"channel": "display", "side": "below"}.items() <= anywhere["outside_seen"][0].items()
    assert any(w.startswith("Display: $") and "far below" in w for w in anywhere["warnings"])
    assert printed["overview"][1][0]["alerts"]
    assert len({a["kind"] for a in printed["alerts"][1]}) >= 3
    assert any(r["partial"] for r in printed["history"][1])
    explored = printed["explored"][1][0]
    assert explored["rows"] and explored["split"] and explored["metric"] is None


def test_the_check_names_an_undeclared_a_missing_and_a_none_key():
    card = json.loads(json.dumps(printed_card()))
    card["extra"] = 1
    del card["kpi_count"]
    card["department"] = None
    problems = typed_dict_problems(card, Scorecard, "card", set())
    assert sorted(problems) == ["card.department: None where <class 'str'> is declared",
                                "card: key 'extra' not declared in Scorecard",
                                "card: key 'kpi_count' of Scorecard missing"]


def printed_card() -> dict:
    return {"department": "Sales", "period": "2025-03", "partial": False, "as_of": "2025-04-02",
            "data_through": None, "kpis": [], "metrics": [], "too_many_kpis": False,
            "kpi_count": 0}


def test_optional_keys_are_found_in_nested_shapes():
    assert ("KpiPeriod", "pace") in optional_keys(Scorecard)
    assert ("Uplift", "before") in optional_keys(LaunchSummary)
    assert typing.get_type_hints(Scorecard)["kpi_count"] is int
