"""The engine's layout, as docs/ARCHITECTURE.md draws it: every module named in
its module map, and no package importing one above it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "kpi_logic"

# From the bottom: a package may import those at its own level or below, never above
# (ingest and metrics share a level and do not import each other).
LEVELS = {"domain": 0, "store": 1, "ingest": 2, "metrics": 2, "launch": 3, "output": 4,
          "demo": 5, "cli": 6}


def module_map() -> dict[str, set[str]]:
    """{package: modules named in its row} of the map in docs/ARCHITECTURE.md."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.match(r"\| `(\w+)/` [^|]*\| (.*) \|$", line)
        if found:
            rows[found.group(1)] = set(re.findall(r"`(\w+\.py)`", found.group(2)))
    return rows


def engine_imports() -> list[tuple[str, str, str]]:
    """(file, its package, imported package) for every import inside the engine."""
    found = []
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).parts
        if len(parts) < 2:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kpi_logic."):
                found.append((str(path.relative_to(ROOT)), parts[0], node.module.split(".")[1]))
    return found


def test_every_engine_module_is_in_the_module_map():
    rows = module_map()
    packages = {p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()}
    assert set(rows) == packages
    for package in packages:
        modules = {p.name for p in (ENGINE / package).glob("*.py")} - {"__init__.py"}
        assert modules == rows[package], package


def test_every_package_is_placed_in_the_layers():
    assert {p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()} == set(LEVELS)


def test_no_package_imports_one_above_it():
    upward = [(file, imported) for file, package, imported in engine_imports()
              if package != imported and LEVELS[imported] >= LEVELS[package]]
    assert upward == []


def test_the_map_is_read_row_by_row():
    """The parser finds the rows, so a module missing from one would fail the test."""
    rows = module_map()
    assert "kpis.py" in rows["metrics"] and "db.py" in rows["store"]
