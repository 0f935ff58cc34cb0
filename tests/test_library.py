"""The KPI library file and the helpers that add its entries to a database."""
from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.formulas import formula_metrics, parse_formula
from kpi_logic.domain.model import AGGREGATIONS, DIRECTIONS, UNITS
from kpi_logic.ingest.importing import import_frames
from kpi_logic.metrics import library
from tests.builders import add_metric
from tests.conftest import FIXTURES

LIBRARY_FIXTURES = FIXTURES / "library"


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return library.read_library()


# --- the shipped library ---------------------------------------------------------

def test_shipped_library_has_at_least_40_entries_in_all_six_departments(shipped):
    assert len(shipped) >= 40
    assert set(shipped["department"]) == set(library.DEPARTMENTS)
    assert shipped["department"].value_counts().min() >= 5


def test_shipped_library_formulas_parse_and_attributes_are_valid(shipped):
    for entry in shipped.to_dict("records"):
        if entry["formula"]:
            assert formula_metrics(parse_formula(entry["formula"])), entry["name"]
        assert entry["unit"] in UNITS
        assert entry["direction"] in DIRECTIONS
        assert entry["aggregation"] in AGGREGATIONS
        assert len(entry["description"]) > 20, entry["name"]
    assert shipped["name"].is_unique


def test_shipped_library_suggests_the_kind_that_follows_the_direction(shipped):
    # Higher is better -> at least; lower is better -> at most.
    expected = shipped["direction"].map({"up": "min", "down": "max"})
    assert (shipped["target_kind"] == expected).all()


def test_shipped_library_has_no_problems_and_most_entries_are_formulas(shipped):
    assert library.library_problems(shipped) == []
    assert (shipped["formula"] != "").sum() >= 40


def test_every_shipped_entry_imports_once_its_components_exist(store, shipped):
    """The importer, not only the parser, accepts every entry (same validation as a file)."""
    components = sorted({c for f in shipped["formula"] if f
                         for c in formula_metrics(parse_formula(f))} - set(shipped["name"]))
    base = pd.DataFrame({"metric": components, "unit": "number"})
    entries = pd.concat([library.library_metric_frame(e) for e in shipped.to_dict("records")],
                        ignore_index=True)
    import_frames(store, [(base, "components", "metrics"), (entries, "library", "metrics")])
    stored = store.definitions.metrics()
    for entry in shipped.to_dict("records"):
        metric = stored[entry["name"]]
        assert (metric.unit, metric.direction, metric.aggregation, metric.department) == \
            (entry["unit"], entry["direction"], entry["aggregation"], entry["department"])
        assert (metric.formula or "") == entry["formula"]


# --- validation -------------------------------------------------------------------

def test_read_library_reads_a_good_file():
    frame = library.read_library(LIBRARY_FIXTURES / "good.csv")
    assert list(frame.columns) == list(library.LIBRARY_COLUMNS)
    assert frame["name"].tolist() == ["win_rate", "mrr"]
    assert frame.loc[1, "formula"] == ""


@pytest.mark.parametrize("name, expected", [
    ("bad_formula.csv", "row 2, column 'formula': formula 'deals_won / (deals_won +'"),
    ("bad_unit.csv", "row 2, column 'unit': 'ratio' is not one of number, currency"),
    ("bad_department.csv", "row 2, column 'department': 'Legal' is not one of"),
    ("duplicate.csv", "rows 2 and 3 both define 'win_rate'"),
    ("self_reference.csv", "row 2, column 'formula': 'win_rate' uses itself"),
    ("missing_column.csv", "missing column(s): target_kind"),
    ("empty_description.csv", "row 2, column 'description': is empty"),
    ("bad_name.csv", "row 2, column 'name': 'Win Rate' must be lowercase"),
    ("bad_kind.csv", "row 2, column 'target_kind': 'at least' is not one of min, max"),
])
def test_read_library_refuses_bad_files_saying_where(name, expected):
    with pytest.raises(InputError) as refused:
        library.read_library(LIBRARY_FIXTURES / name)
    assert refused.value.file == name
    assert expected in str(refused.value)


# --- needs, blockers, the definition frame ------------------------------------------

WIN_RATE = {"name": "win_rate", "label": "Win rate", "department": "Sales",
            "formula": "deals_won / (deals_won + deals_lost)", "unit": "percent",
            "direction": "up", "aggregation": "mean", "description": "Share of deals won.",
            "target_kind": "min"}
MRR = {**WIN_RATE, "name": "mrr", "formula": "", "unit": "currency", "aggregation": "last"}


@pytest.mark.parametrize("entry, known, expected", [
    (WIN_RATE, [], {"deals_lost": False, "deals_won": False}),
    (WIN_RATE, ["deals_won", "leads"], {"deals_lost": False, "deals_won": True}),
    (WIN_RATE, ["Deals_Won", "deals_lost"], {"deals_lost": True, "deals_won": True}),
    (MRR, [], {"mrr": False}),
    (MRR, ["mrr"], {"mrr": True}),
])
def test_library_needs_lists_components_and_whether_they_exist(entry, known, expected):
    expected_frame = pd.DataFrame({"metric": list(expected), "present": list(expected.values())})
    assert_frame_equal(library.library_needs(entry, known), expected_frame.astype(
        {"metric": "str", "present": "bool"}))


@pytest.mark.parametrize("entry, known, expected", [
    (WIN_RATE, ["deals_won", "deals_lost"], None),
    (WIN_RATE, ["deals_won"], "import history for 'deals_lost' first"),
    (WIN_RATE, ["deals_won", "deals_lost", "win_rate"], "'win_rate' is already defined"),
    (MRR, [], None),
    (MRR, ["mrr"], "'mrr' is already defined"),
])
def test_addition_blocker_says_why_an_entry_cannot_be_added(entry, known, expected):
    blocker = library.addition_blocker(entry, known)
    if expected is None:
        assert blocker is None
    else:
        assert expected in blocker


@pytest.mark.parametrize("departments, expected", [
    ([], "Customer service"),
    (["Sales", "customer Service "], "customer Service "),
    (["Support"], "Customer service"),
])
def test_library_metric_frame_keeps_the_database_spelling_of_the_department(departments, expected):
    entry = {**WIN_RATE, "department": "Customer service"}
    frame = library.library_metric_frame(entry, departments)
    assert frame.loc[0, "department"] == expected


def test_library_metric_frame_is_a_metrics_row_and_leaves_the_entry_alone():
    entry = dict(MRR)
    frame = library.library_metric_frame(entry)
    expected = pd.DataFrame([{"metric": "mrr", "department": "Sales", "unit": "currency",
                              "direction": "up", "aggregation": "last", "formula": None,
                              "description": "Share of deals won."}])
    assert_frame_equal(frame, expected)
    assert entry == MRR


def test_added_entry_computes_from_its_components(store):
    add_metric(store, "deals_won")
    add_metric(store, "deals_lost")
    import_frames(store, [(library.library_metric_frame(WIN_RATE), "KPI library: win_rate",
                         "metrics")])
    metric = store.definitions.metrics()["win_rate"]
    assert metric.formula == "deals_won / (deals_won + deals_lost)"
    assert metric.unit == "percent"


def test_library_problems_does_not_mutate_the_frame():
    frame = pd.read_csv(LIBRARY_FIXTURES / "duplicate.csv", dtype=str, keep_default_na=False)
    before = frame.copy()
    assert library.library_problems(frame)
    assert_frame_equal(frame, before)
