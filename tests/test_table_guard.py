"""Every table of the dashboard passes through the spreadsheet-safe helpers:
a page that called st.dataframe, st.table or st.data_editor directly would
let Streamlit's "Download as CSV" write formula cells again."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "ui").glob("*.py")])
CALL = re.compile(r"\bst\.(dataframe|table|data_editor)\(")


def calls(path: Path) -> list[tuple[str, str]]:
    return [(match.group(1), line.strip()) for line in path.read_text().splitlines()
            for match in [CALL.search(line)] if match]


def test_only_ui_tables_calls_st_dataframe_and_nothing_calls_st_table():
    direct = {path.relative_to(ROOT).as_posix(): found for path in SOURCES
              if (found := [c for c in calls(path) if c[0] != "data_editor"])}
    assert set(direct) == {"ui/tables.py"}
    assert all(kind == "dataframe" for kind, _ in direct["ui/tables.py"])


def test_the_one_data_editor_shows_a_quoted_frame_and_saves_it_unquoted():
    editors = {path.relative_to(ROOT).as_posix(): found for path in SOURCES
               if (found := [c for c in calls(path) if c[0] == "data_editor"])}
    assert list(editors) == ["views/define.py"]
    source = (ROOT / "views" / "define.py").read_text()
    assert re.search(r"unquoted_frame\(st\.data_editor\(\s*spreadsheet_safe_frame\(", source)


# Tables shown without download buttons, and why: each reports on one upload
# being checked or just imported (gone at the next click; what was imported is
# in the import history, which downloads; the first rows of a file are the
# file's own), or is the checklist of a KPI library entry's form. The definitions editor (st.data_editor) is a grid to edit, not
# a report, and has no buttons either (its grid's own CSV is quoted, above).
WITHOUT_DOWNLOAD = {("views/define.py", "'define_preview'"), ("views/define.py", "'define_imported'"),
                    ("views/define.py", "f'{key}_inferred'"), ("views/define.py", "f'{key}_changes'"),
                    ("views/define.py", "f'{key}_first_rows_{index}'"),
                    ("views/metrics.py", "'metrics_library_needs'")}


def table_calls(path: Path) -> list[ast.Call]:
    """Calls of ui.tables' `dataframe` and `table` in a page."""
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("dataframe", "table")]


def test_every_table_of_the_pages_offers_its_download_or_is_listed_with_a_reason():
    without = set()
    for path in sorted((ROOT / "views").glob("*.py")):
        for call in table_calls(path):
            keywords = {k.arg: k.value for k in call.keywords}
            if "download" not in keywords:
                without.add((path.relative_to(ROOT).as_posix(),
                             ast.unparse(keywords["key"]) if "key" in keywords else "no key"))
    assert without == WITHOUT_DOWNLOAD
