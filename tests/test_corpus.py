"""Every file of the shared corpus of tricky CSV and Excel files (see its
MANIFEST.md) is imported right or refused with a message naming the file,
and a refusal leaves a real database (a file, or a PostgreSQL server)
exactly as it was."""
from __future__ import annotations

import pytest

from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.importing import import_files
from kpi_logic.store import open_store

from .conftest import CORPUS
from .test_importing import assert_same_database, dump, files

CORPUS_FILES = sorted([*(CORPUS / "csv").glob("*"), *(CORPUS / "xlsx").glob("*")]) \
    if CORPUS.is_dir() else []

# Where the manifest names the reason a file must be refused, the message says it.
REASONS = {
    "derived_formula_injection_metrics.csv": "row 15, column 'value': '=1+2' is not a number",
    "duckdb_empty.csv": "empty",
    "pycalamine_empty_file.xlsx": "empty",
    "duckdb_latin1.csv": "not UTF-8",
    "duckdb_invalid_utf.csv": "not UTF-8",
    "duckdb_test_apple_financial.csv.gz": ".gz",
    "pycalamine_password.xlsx": "password-protected",
    "calamine_date_1904.xlsx": "neither history nor a definition",
}


def seed(location) -> None:
    with open_store(location) as store:
        import_files(store, files("metrics.csv", "history_long.csv", "history_wide.csv",
                                "kpis.csv"))


@pytest.fixture
def seeded_file(databases):
    """A database (file or server) holding the four fixture files, each test its own copy."""
    return databases.copy_of("corpus-seed", seed)


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_file_is_imported_right_or_refused_without_a_trace(seeded_file, path):
    with open_store(seeded_file) as store:
        before = dump(store)
        try:
            results = import_files(store, [(path.read_bytes(), path.name)])
        except InputError as refused:
            message = str(refused)
            assert path.name in message
            assert REASONS.get(path.name, "") in message
            assert "Traceback" not in message
            assert_same_database(before, dump(store))
            return
    assert path.name not in REASONS, f"{path.name} should have been refused"
    assert results and all(r.file == path.name for r in results)
    with open_store(seeded_file) as store:
        stored = store.connection.execute("select count(*) from observations where batch_id in "
                             "(select id from batches where file = ?)", [path.name]).fetchone()[0]
    assert stored == sum(r.inserted + r.updated for r in results if r.kind == "history")
