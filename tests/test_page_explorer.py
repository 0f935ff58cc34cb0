"""AppTest of the Metric explorer on the demo company: a metric or a typed
formula by period, whole or split by channel, shows the numbers CLI `history`
prints, marks partial periods, says what is wrong with a bad formula in one
sentence, and keeps its view in the URL."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.domain import formatting as fmt
from kpi_logic.ingest.edits import setting
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import open_store
from tests.readable import shown
from tests.test_cli import run_json

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "explorer.py")
TIMEOUT = 90
CHANNELS = ["display", "email", "partners", "search_ads", "social"]


@pytest.fixture
def page_db(demo_database, use_database):
    """A private copy of the demo company behind LODESTAR_DB, open mode, empty caches."""
    return use_database(demo_database)


def opened(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def the_table(at: AppTest) -> pd.DataFrame:
    """The numbers underneath the table (what it sorts on)."""
    [frame] = at.dataframe
    return frame.value


def table_text(at: AppTest) -> pd.DataFrame:
    """The table as the browser writes it (the Styler's display values)."""
    styler = at.dataframe[0].proto.arrow_data.styler
    return pa.ipc.open_stream(io.BytesIO(styler.display_values)).read_pandas()


def column_labels(at: AppTest) -> dict[str, str]:
    config = json.loads(at.dataframe[0].proto.columns or "{}")
    return {name: c.get("label") for name, c in config.items() if isinstance(c, dict)}


def chart_spec(at: AppTest) -> dict:
    [chart] = at.get("vega_lite_chart")
    return json.loads(chart.proto.spec)


def by_period(rows: list[dict]):
    """CLI history rows as {the period as the page writes it: value}, to compare with
    the page's numbers: the CLI's JSON carries 12 significant digits (DOMAIN.md)."""
    return pytest.approx({fmt.human_period(r["period"]): r["value"] for r in rows}, rel=1e-11)


def texts(elements) -> list[str]:
    return [shown(e.value) for e in elements]


def test_a_metric_shows_the_numbers_cli_history_prints(page_db):
    at = opened(metric="spend", grain="quarter")
    assert at.title[0].value == "Metric explorer"
    table = the_table(at)
    expected = by_period(run_json(page_db, "history", "--metric", "spend", "--grain", "quarter"))
    assert dict(zip(table["period"], table["value"], strict=True)) == expected
    assert table["period"].tolist() == list(reversed(expected.expected))   # newest first
    # Money as the reports write it; the quarter the data end in marked partial.
    written = table_text(at)
    assert written["value"].iloc[0] == fmt.format_value(table["value"].iloc[0], "currency")
    assert written["value"].iloc[0].startswith("$")
    assert table["data"].iloc[0].startswith("so far: data through ")
    assert set(table["data"].iloc[1:]) == {""}
    assert column_labels(at)["data"] == "Partial period"
    assert texts(at.subheader) == ["Spend, per quarter"]
    assert any("python -m kpi_logic history --metric spend --grain quarter" in c
               for c in texts(at.caption))


def test_a_formula_is_each_periods_ratio_of_summed_parts(page_db):
    at = opened(formula="purchases / website_visitors", grain="month")
    table = the_table(at)
    with open_store(page_db, read_only=True) as store:
        parts = rolled_up(store, ["purchases", "website_visitors"], "month")
    wide = parts.pivot(index="label", columns="metric", values="value")
    expected = {fmt.human_period(label): row["purchases"] / row["website_visitors"]
                for label, row in wide.iterrows()}
    assert dict(zip(table["period"], table["value"], strict=True)) == pytest.approx(expected)
    # The same numbers as the stored formula metric and as the CLI's --formula.
    stored = by_period(run_json(page_db, "history", "--metric", "conversion_rate"))
    assert dict(zip(table["period"], table["value"], strict=True)) == stored
    typed = by_period(run_json(page_db, "history", "--formula", "purchases / website_visitors"))
    assert dict(zip(table["period"], table["value"], strict=True)) == typed
    assert table_text(at)["value"].iloc[1].endswith("%")
    assert at.selectbox(key="explorer_unit").value == ""           # automatic: percent
    assert "Automatic: percent" in at.selectbox(key="explorer_unit").options[0]


@pytest.mark.parametrize("formula, says", [
    ("purchases / website_visitor", "formula 'purchases / website_visitor' uses unknown metric "
                                    "'website_visitor'; did you mean 'website_visitors'"),
    ("purchases / (website_visitors", "cannot be read at character 30: a ')' is missing"),
])
def test_a_bad_formula_gets_one_sentence_beside_the_field(page_db, formula, says):
    at = opened()
    at.radio(key="explorer_source").set_value("formula").run()
    assert any("Type a formula" in i for i in texts(at.info))
    at.text_input(key="explorer_formula").input(formula).run()
    assert not at.exception
    [error] = texts(at.error)
    assert says in error and error.count(". ") == 0
    assert not at.dataframe and not at.get("vega_lite_chart")
    assert at.query_params["formula"] == formula


def test_split_by_channel_gives_a_series_per_channel_adding_up_to_the_total(page_db):
    at = opened(metric="spend")
    assert not at.toggle(key="explorer_split").value
    at.toggle(key="explorer_split").set_value(True).run()
    assert at.query_params["split"] == "1"
    table = the_table(at)
    labels = column_labels(at)
    parts = [c for c in table.columns if c.startswith("part:")]
    # channels named in words on screen; the stored value stays the column's key
    assert [labels[c] for c in parts] == [fmt.dimension_label(c) for c in CHANNELS]
    assert parts == [f"part:{c}" for c in CHANNELS] and labels["value"] == "Total"
    for _, row in table.iterrows():
        assert row[parts].sum() == pytest.approx(row["value"]), row["period"]
    # The totals are the CLI's, and each channel's column its --split rows.
    assert dict(zip(table["period"], table["value"], strict=True)) == \
        by_period(run_json(page_db, "history", "--metric", "spend"))
    split = run_json(page_db, "history", "--metric", "spend", "--split")
    social = by_period([r for r in split if r["dimension"] == "social"])
    assert dict(zip(table["period"], table["part:social"], strict=True)) == social
    domain = chart_spec(at)["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert sorted(domain) == sorted(fmt.dimension_label(c) for c in CHANNELS)
    assert texts(at.subheader) == ["Spend by channel, per month"]


def test_a_metric_without_channels_offers_no_split(page_db):
    at = opened(metric="revenue", split="1")
    assert not at.toggle
    assert "part:display" not in the_table(at).columns
    assert "split" not in at.query_params


def test_the_url_restores_the_view(page_db):
    at = opened(formula="spend / new_customers", grain="week", split="1", unit="number",
                **{"from": "2026-09-10", "to": "2026-11-20"})
    assert at.radio(key="explorer_source").value == "formula"
    assert at.text_input(key="explorer_formula").value == "spend / new_customers"
    assert at.radio(key="explorer_grain").value == "week"
    assert [d.value for d in at.date_input] == [date(2026, 9, 10), date(2026, 11, 20)]
    assert at.toggle(key="explorer_split").value
    assert at.selectbox(key="explorer_unit").value == "number"
    table = the_table(at)
    expected = by_period(run_json(page_db, "history", "--formula", "spend / new_customers",
                                  "--grain", "week", "--from", "2026-09-10", "--to", "2026-11-20"))
    assert dict(zip(table["period"], table["value"], strict=True)) == expected
    # Week 37 starts on Monday 7 September: the range cuts it, and says so.
    assert table["period"].iloc[-1] == "Week 37, 2026"
    assert table["data"].iloc[-1] == "from 10 Sep"
    assert table["data"].iloc[0] == "so far: data through 20 Nov"
    assert not table_text(at)["value"].iloc[1].startswith("$")      # shown as a number
    assert dict(at.query_params) == {"formula": "spend / new_customers", "grain": "week",
                                     "from": "2026-09-10", "to": "2026-11-20", "split": "1",
                                     "unit": "number"}


def test_choices_go_into_the_url_and_an_untouched_range_stays_out_of_it(page_db):
    at = opened()
    at.selectbox(key="explorer_metric").set_value("mrr").run()
    at.radio(key="explorer_grain").set_value("year").run()
    assert dict(at.query_params) == {"metric": "mrr", "grain": "year"}
    at.date_input(key="explorer_from").set_value(date(2025, 3, 1)).run()
    assert at.query_params["from"] == "2025-03-01" and "to" not in at.query_params
    table = the_table(at)
    assert table["period"].tolist()[-1] == "2025" and table["data"].tolist()[-1] == "from 1 Mar"
    # A link to it opens the same view.
    again = opened(**dict(at.query_params))
    assert the_table(again).equals(table)


def test_the_metric_picker_reads_like_the_catalogue(page_db):
    at = opened()
    picker = at.selectbox(key="explorer_metric")
    assert "Conversion rate · Marketing" in picker.options
    assert "MRR · Sales" in picker.options
    at = opened(metric="Conversion rate")          # a link may name it as people write it
    assert at.selectbox(key="explorer_metric").value == "conversion_rate"


def test_a_range_that_ends_before_it_starts_is_a_warning(page_db):
    at = opened(metric="spend", **{"from": "2026-05-01", "to": "2026-04-01"})
    [warning] = texts(at.warning)
    assert "starts on 1 May 2026, after it ends (1 Apr 2026)" in warning
    assert not at.dataframe


def test_a_day_by_day_view_draws_every_day_without_dots(page_db):
    at = opened(metric="visitors", grain="day", **{"from": "2026-10-01"})
    table = the_table(at)
    with open_store(page_db, read_only=True) as store:   # the day the demo's history ends
        last = date.fromisoformat(setting(store, "demo_loaded"))
    assert len(table) == (last - date(2026, 10, 1)).days + 1
    assert "data" not in table.columns                # no partial day: no such column
    dots = [layer for layer in chart_spec(at)["layer"]
            if layer["mark"].get("type") == "point" and layer["mark"].get("filled")]
    assert dots[0]["mark"]["opacity"] == 0            # 67 days: a line, the dots for tooltips


def test_switching_between_a_metric_and_a_formula_keeps_both(page_db):
    at = opened(metric="mrr")
    at.radio(key="explorer_source").set_value("formula").run()
    at.text_input(key="explorer_formula").input("revenue - cost_of_goods_sold").run()
    assert dict(at.query_params) == {"formula": "revenue - cost_of_goods_sold", "grain": "month"}
    assert table_text(at)["value"].iloc[0].startswith("$")          # money less money
    at.radio(key="explorer_source").set_value("metric").run()
    assert at.selectbox(key="explorer_metric").value == "mrr"
    assert at.query_params["metric"] == "mrr" and "formula" not in at.query_params
    at.radio(key="explorer_source").set_value("formula").run()
    assert at.text_input(key="explorer_formula").value == "revenue - cost_of_goods_sold"
