"""The duplicate search of a history import: a key (metric, date, dimension)
given twice is stored once when the values agree and refused when they
differ, whichever way the keys are counted (day bitmaps for dense histories,
hashes for sparse ones)."""
from __future__ import annotations

import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import writes_history


def csv(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


DENSE = ["date,metric,value,region"] + [f"2025-03-{day:02d},leads,{day},{region}"
                                        for day in range(1, 11) for region in ("north", "south")]
# Two dates 40 years apart for many regions: day bitmaps would be far larger
# than the values, so the keys are hashed instead.
SPARSE = ["date,metric,value,region"] + [
    f"{day},leads,{n},r{n:03d}" for n in range(30) for day in ("1990-01-01", "2030-01-01")]
ONE_DAY = ["date,metric,value,region", "2025-03-01,leads,1,north", "2025-03-01,leads,2,south"]
WIDE = ["date,leads,visitors"] + [f"2025-03-{day:02d},{day},{day * 10}" for day in range(1, 8)]
PATHS = pytest.mark.parametrize("lines", [DENSE, SPARSE, ONE_DAY, WIDE],
                                ids=["dense", "sparse", "one_day", "wide"])


def stored(store) -> int:
    return store.connection.execute("select count(*) from observations "
                       "where superseded_by is null").fetchone()[0]


@PATHS
def test_distinct_keys_are_all_stored(store, lines):
    [result] = import_files(store, [(csv(lines), "history.csv")])
    values = (len(lines) - 1) * (2 if lines is WIDE else 1)
    assert (result.inserted, stored(store)) == (values, values)


@PATHS
def test_an_identical_repeat_is_stored_once(store, lines):
    [result] = import_files(store, [(csv(lines + [lines[-1]]), "history.csv")])
    values = (len(lines) - 1) * (2 if lines is WIDE else 1)
    assert (result.rows, result.inserted, stored(store)) == (len(lines), values, values)


@pytest.mark.parametrize("lines, clash", [
    (DENSE, "2025-03-10,leads,99,south"),
    (SPARSE, "2030-01-01,leads,99,r029"),
    (ONE_DAY, "2025-03-01,leads,99,south"),
    (WIDE, "2025-03-07,7,99"),
], ids=["dense", "sparse", "one_day", "wide"])
def test_a_repeat_with_another_value_is_refused_and_nothing_stored(store, lines, clash):
    text = csv(lines + [clash])
    with pytest.raises(InputError, match=f"rows {len(lines)} and {len(lines) + 1} give"):
        import_files(store, [(text, "history.csv")])
    assert stored(store) == 0


def test_same_date_in_two_regions_is_not_a_repeat(store):
    lines = ["date,metric,value,region", "2025-03-01,leads,1,north", "2025-03-01,leads,1,south",
             "2025-03-01,visits,1,north"]
    [result] = import_files(store, [(csv(lines), "history.csv")])
    assert result.inserted == 3


@pytest.mark.parametrize("lines, bitmaps", [(DENSE, True), (SPARSE, False)],
                         ids=["dense", "sparse"])
def test_the_key_count_is_exact_on_both_paths(store, monkeypatch, lines, bitmaps):
    """Both ways of counting see every key once, and the checks say which one applies."""
    seen = {}
    original = writes_history.duplicate_keys

    def spy(connection, checks):
        days = (checks["last_date"] - checks["first_date"]).days + 1
        seen["bitmaps"] = checks["series"] * days <= 64 * checks["rows"]
        seen["keys"] = writes_history._distinct_keys(connection, checks)
        return original(connection, checks)
    monkeypatch.setattr(writes_history, "duplicate_keys", spy)
    import_files(store, [(csv(lines), "history.csv")])
    assert seen == {"bitmaps": bitmaps, "keys": len(lines) - 1}


def every_table(store) -> dict:
    return {t: store.connection.execute(f'select count(*) from "{t}"').fetchall()[0][0]
            for t in ("observations", "batches", "metrics")}


@pytest.mark.parametrize("lines, where", [
    (["date,leads,visitors", "2025-03-01,5,50", "2025-03-02,abc,60"], "row 3, column 'leads'"),
    (["date,metric,value", "2025-03-01,leads,5", "not a date,leads,6"], "row 3"),
])
def test_a_refused_first_import_leaves_nothing_behind(store, lines, where):
    # a first import writes straight into observations; a refusal must roll it all back
    with pytest.raises(InputError, match=where):
        import_files(store, [(csv(lines), "history.csv")])
    assert every_table(store) == {"observations": 0, "batches": 0, "metrics": 0}


def test_a_long_file_after_other_history_counts_new_and_changed_values(store):
    import_files(store, [(csv(["date,metric,value", "2025-03-01,visitors,100"]), "first.csv")])
    [result] = import_files(store, [(csv(["date,metric,value", "2025-03-01,leads,5",
                                        "2025-03-01,visitors,120"]), "second.csv")])
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)
    assert stored(store) == 2
