"""Every table of the dashboard passes through the spreadsheet-safe helpers:
a page that called st.dataframe, st.table or st.data_editor directly would
let Streamlit's "Download as CSV" write formula cells again."""
from __future__ import annotations

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
