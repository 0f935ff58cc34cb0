"""The metrics catalogue's PNG (kpi_logic/output/catalogue_report.py) on the
demo company: real PNG bytes drawn by vl-convert, every metric of the rows
it is given with its definition and what it serves, and the CLI's `report
--page catalogue`."""
from __future__ import annotations

import contextlib
import io

import pytest

from kpi_logic.cli.main import main
from kpi_logic.metrics.catalogue import metric_catalogue
from kpi_logic.output import catalogue_report
from kpi_logic.store import open_store
from tests.e2e_support import PNG_MAGIC, png_size


@pytest.fixture(scope="module")
def rows(demo_file) -> list[dict]:
    with open_store(demo_file, read_only=True) as store:
        return metric_catalogue(store).to_dict("records")


def drawn_texts(spec: dict) -> list[str]:
    return [str(row["text"]) for data in spec["datasets"].values() for row in data
            if row.get("text") is not None]


def test_the_png_is_real_and_holds_every_row(rows):
    marketing = [r for r in rows if r["department"] == "Marketing"]
    png = catalogue_report.render_catalogue(marketing, department="Marketing", scale=1)
    assert png[:8] == PNG_MAGIC and png.endswith(b"IEND\xaeB`\x82")
    width, height = png_size(png)
    assert width >= catalogue_report.WIDTH and height > 22 * len(marketing)
    texts = drawn_texts(catalogue_report.catalogue_spec(marketing, department="Marketing"))
    assert {r["metric_label"] for r in marketing} <= set(texts)    # by display name
    assert {r["definition"] for r in marketing} <= set(texts)
    assert "plain · vanity candidate: not linked to any goal" in texts
    assert any(t.startswith("Department: Marketing   ·   Metrics: ") for t in texts)


def test_the_whole_catalogue_is_grouped_by_department_and_long_uses_are_counted(rows):
    texts = drawn_texts(catalogue_report.catalogue_spec(rows))
    for department in {r["department"] for r in rows}:
        assert texts.count(department) == 1, department        # one heading each
    crowded = next(r for r in rows if len(r["used_by"]) > catalogue_report.MAX_USES)
    assert crowded["used_by"][0] in texts
    more = len(crowded["used_by"]) - catalogue_report.MAX_USES + 1
    assert f"and {more} more" in texts
    assert any(f"Metrics: {len(rows)} · " in t for t in texts)


def test_no_rows_draw_a_message():
    assert "No metrics yet." in drawn_texts(catalogue_report.catalogue_spec([]))


def test_the_cli_writes_the_catalogue_png(demo_file, tmp_path):
    out = tmp_path / "catalogue.png"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main(["--db", str(demo_file), "report", "--page", "catalogue",
                     "--department", "finance", "--out", str(out)])
    assert code == 0 and f"Wrote {out}" in printed.getvalue()
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000
    with contextlib.redirect_stderr(io.StringIO()) as refused:
        assert main(["--db", str(demo_file), "report", "--page", "catalogue",
                     "--department", "Nowhere", "--out", str(out)]) == 2
    assert "There is no department 'Nowhere'" in refused.getvalue()
