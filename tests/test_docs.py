"""The contributor docs stand on their own: nothing points outside the repository,
and every engine module docs/DOMAIN.md names as a rule's home exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_doc_sends_readers_outside_the_repository(doc):
    assert "../shared" not in doc.read_text(encoding="utf-8")


def test_architecture_links_the_domain_rules():
    assert "(DOMAIN.md)" in (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_module_the_domain_page_names_exists():
    text = (REPO / "docs" / "DOMAIN.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+/[a-z_]+\.py)`", text))
    assert len(named) >= 10
    missing = sorted(p for p in named if not (REPO / "kpi_logic" / p).is_file())
    assert missing == []
