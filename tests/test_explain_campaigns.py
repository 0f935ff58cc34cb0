"""Where a KPI moved, by campaign: explain splits a change over the campaigns of
its history by the dimension split's rules (metrics/explain.py `by_campaign`),
in the CLI's JSON and text and on the scorecard's "Why it moved" panel."""
from __future__ import annotations

from datetime import date

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from kpi_logic.domain import formatting as fmt
from kpi_logic.ingest.importing import import_files
from kpi_logic.metrics import kpis
from kpi_logic.metrics.explain import explanation
from kpi_logic.metrics.results import Explanation
from kpi_logic.store import open_store
from tests.readable import shown
from tests.test_cli import run, run_json
from tests.test_pages import PAGES
from tests.test_results import typed_dict_problems

METRICS = (b"metric,department,unit,direction,aggregation,formula,dimension\n"
           b"spend,Marketing,currency,down,sum,,channel\n"
           b"customers,Marketing,number,up,sum,,channel\n"
           b"cac,Marketing,currency,down,,spend / customers,\n"
           b"chat_minutes,Marketing,minutes,down,mean,,channel\n"
           b"cac_plus_fee,Marketing,currency,down,,cac + 5,\n")
KPIS = (b"title,metric,target,target_kind\n"
        b"Spend,spend,1000,max\nCAC,cac,45,max\nChat time,chat_minutes,10,max\n"
        b"CAC with fee,cac_plus_fee,50,max\n")
# Brand runs on search, Launch on social and (from April) display; email has no campaign.
HISTORY = (b"date,channel,campaign,metric,value\n"
           b"2025-03-01,search,Brand,spend,300\n2025-03-01,search,Brand,customers,10\n"
           b"2025-03-01,social,Launch,spend,200\n2025-03-01,social,Launch,customers,5\n"
           b"2025-03-01,email,,spend,100\n2025-03-01,email,,customers,10\n"
           b"2025-04-01,search,Brand,spend,330\n2025-04-01,search,Brand,customers,10\n"
           b"2025-04-01,social,Launch,spend,250\n2025-04-01,social,Launch,customers,3\n"
           b"2025-04-01,display,Launch,spend,150\n2025-04-01,display,Launch,customers,2\n"
           b"2025-04-01,email,,spend,100\n2025-04-01,email,,customers,5\n"
           b"2025-03-01,social,Launch,chat_minutes,9\n2025-04-01,social,Launch,chat_minutes,12\n")
AS_OF = "2025-05-10"


def load(store) -> None:
    import_files(store, [(METRICS, "metrics.csv"), (KPIS, "kpis.csv"), (HISTORY, "history.csv")])


@pytest.fixture
def campaigns(store):
    load(store)
    return store


def by(explained: dict, key: str) -> dict[str, dict]:
    return {s["dimension"]: s for s in explained[key]}


def test_a_sum_splits_by_campaign_into_each_campaigns_own_change(campaigns):
    """Spend 600 -> 830 (+230): Launch 200 -> 400 (+200, social and display added up),
    Brand 300 -> 330 (+30), the email rows without a campaign 100 -> 100 (0)."""
    explained = explanation(campaigns, "Spend", as_of=AS_OF)
    assert (explained["previous"], explained["value"], explained["change"]["abs"]) == (600, 830, 230)
    assert [(s["dimension"], s["label"], s["previous"], s["value"], s["contribution"])
            for s in explained["by_campaign"]] == [
        ("Launch", "Launch", 200, 400, 200), ("Brand", "Brand", 300, 330, 30),
        ("", "(no campaign)", 100, 100, 0)]
    assert all(s["mix"] is None and s["rate"] is None for s in explained["by_campaign"])
    # The same change by channel: display is new, so the two splits differ, both adding up.
    assert {s["dimension"]: s["contribution"] for s in explained["by_dimension"]} == {
        "display": 150, "social": 50, "search": 30, "email": 0}
    assert explained["note"] is None
    assert typed_dict_problems(explained, Explanation, "explain", set()) == []


def test_a_ratio_splits_by_campaign_into_mix_and_rate_as_worked_by_hand(campaigns):
    """CAC 600/25 = 24 -> 830/20 = 41.5 (+17.5). Each campaign's term is its spend over
    all customers: Brand 300/25 = 12 -> 330/20 = 16.5 (+4.5), Launch 8 -> 20 (+12),
    no campaign 4 -> 5 (+1). Rate: its own CAC's change times its mean share of the
    customers (Brand 30 -> 33 at 40% -> 50%: 3 x 0.45 = 1.35; Launch 40 -> 80 at
    20% -> 25%: 40 x 0.225 = 9; no campaign 10 -> 20 at 40% -> 25%: 10 x 0.325 = 3.25);
    mix the rest (3.15, 3, -2.25: its share's change times its mean CAC)."""
    explained = explanation(campaigns, "CAC", as_of=AS_OF)
    assert explained["change"]["abs"] == pytest.approx(17.5)
    assert [s["dimension"] for s in explained["by_campaign"]] == ["Launch", "Brand", ""]
    shares = by(explained, "by_campaign")
    hand = {"Launch": (40, 80, 12, 3, 9), "Brand": (30, 33, 4.5, 3.15, 1.35),
            "": (10, 20, 1, -2.25, 3.25)}
    for campaign, (previous, value, contribution, mix, rate) in hand.items():
        share = shares[campaign]
        assert (share["previous"], share["value"], share["contribution"], share["mix"],
                share["rate"]) == pytest.approx((previous, value, contribution, mix, rate))
    assert sum(s["contribution"] for s in explained["by_campaign"]) == pytest.approx(17.5)
    assert sum(s["contribution"] for s in explained["by_dimension"]) == pytest.approx(17.5)
    line = fmt.explanation_line(explained)
    assert line.endswith("; by campaign: Launch +$12, Brand +$4.50, (no campaign) +$1"), line


def test_no_campaign_split_when_a_part_has_no_campaigns_and_the_note_says_why(store):
    """Customers counted per channel only: every customer would fall to "(no campaign)"
    and every campaign would look free. The channel split stands; the campaign one is
    refused, and the note says so."""
    without = b"\n".join(
        line if b"customers" not in line else line.replace(b",Brand,", b",,")
        .replace(b",Launch,", b",,") for line in HISTORY.split(b"\n"))
    import_files(store, [(METRICS, "metrics.csv"), (KPIS, "kpis.csv"), (without, "h.csv")])
    explained = explanation(store, "CAC", as_of=AS_OF)
    assert explained["by_campaign"] == []
    assert sum(s["contribution"] for s in explained["by_dimension"]) == pytest.approx(17.5)
    assert explained["note"] == ("its change is not split by campaign: Customers has no values "
                                 "broken down that way")


@pytest.mark.parametrize("title, note", [
    ("Chat time", "its change is not split by channel or campaign: a mean, minimum or maximum "
                  "does not add up over the values"),
    ("CAC with fee", "its change is not split by dimension or campaign: a part is itself a "
                     "formula"),
])
def test_what_does_not_add_up_is_split_neither_way_and_one_note_says_why(campaigns, title, note):
    explained = explanation(campaigns, title, as_of=AS_OF)
    assert explained["change"]["abs"] is not None
    assert (explained["by_dimension"], explained["by_campaign"]) == ([], [])
    assert explained["note"] == note


def test_the_cli_gives_the_campaign_split_in_its_json_and_text(database):
    with open_store(database) as store:
        load(store)
    explained = run_json(database, "explain", "--kpi", "CAC", "--as-of", AS_OF)
    assert typed_dict_problems(explained, Explanation, "explain", set()) == []
    assert [(s["dimension"], round(s["contribution"], 9)) for s in explained["by_campaign"]] == [
        ("Launch", 12.0), ("Brand", 4.5), ("", 1.0)]
    for key in ("drivers", "by_dimension", "by_campaign"):
        assert sum(s["contribution"] for s in explained[key]) == pytest.approx(
            explained["change"]["abs"], abs=1e-9), key
    assert set(explained["by_campaign"][0]) == set(explained["by_dimension"][0]) == {
        "dimension", "label", "value", "previous", "contribution", "mix", "rate"}
    text = run(database, "explain", "--kpi", "CAC", "--as-of", AS_OF).stdout
    table = text[text.index("\ncampaign "):]
    assert [line.split()[:2] for line in table.strip().splitlines()[2:]] == [
        ["Launch", "$80"], ["Brand", "$33"], ["(none)", "$20"]]


def test_the_demo_new_customers_split_by_campaign_matches_its_history(demo_file):
    """The marketing launch's campaigns: each campaign's contribution is its own change of
    new customers, read here straight from the stored rows."""
    explained = run_json(demo_file, "explain", "--kpi", "New customers")
    months = [date.fromisoformat(f"{explained[k]}-01") for k in ("compared_with", "period")]
    with duckdb.connect(str(demo_file), read_only=True) as con:
        totals = con.execute(
            "select campaign, date_trunc('month', obs_date)::date, sum(value) from observations "
            "where superseded_by is null and metric = 'new_customers' and obs_date >= ? "
            "and obs_date < ? + interval 1 month group by all", months).fetchall()
    change = {}
    for campaign, month, total in totals:
        change[campaign] = change.get(campaign, 0.0) + (total if month == months[1] else -total)
    shares = {s["dimension"]: s["contribution"] for s in explained["by_campaign"]}
    assert shares == pytest.approx(change)
    assert {"Brand terms", "Launch posts", ""} <= set(shares) and len(shares) >= 5
    assert sum(shares.values()) == pytest.approx(explained["change"]["abs"])
    contributions = [abs(s["contribution"]) for s in explained["by_campaign"]]
    assert contributions == sorted(contributions, reverse=True)


def test_the_why_panel_and_the_cards_why_show_the_campaigns(demo_database, use_database):
    use_database(demo_database)
    at = AppTest.from_file(PAGES["scorecard"], default_timeout=90)
    at.query_params["department"] = "Marketing"
    at.run()
    with open_store(demo_database, read_only=True) as store:
        card = kpis.scorecard(store, "Marketing", as_of=date.today())
        kpi = next(k for k in card["kpis"] if k["title"] == "New customers")
        explained = explanation(store, kpi["title"], period=kpi["period"])
    index = card["kpis"].index(kpi)
    next(s for s in at.selectbox if s.label == "KPI").set_value("New customers")
    at.session_state[f"scorecard_why_{index}"] = True
    at.run()
    assert not at.exception
    [table] = [d.value for d in at.dataframe if "Campaign" in d.value.columns]
    assert list(table["Campaign"]) == [s["label"] for s in explained["by_campaign"]]
    assert list(table["Contribution"]) == [fmt.format_delta(s["contribution"], "number")
                                           for s in explained["by_campaign"]]
    assert "(no campaign)" in list(table["Campaign"])
    # the card's popover: the three largest campaigns under "By campaign"
    [popover] = [shown(m.value) for m in at.markdown if shown(m.value).startswith("**By campaign**")]
    top = [f"- {s['label']}: **{fmt.format_delta(s['contribution'], 'number')}**"
           for s in explained["by_campaign"][:3]]
    assert popover.splitlines()[1:] == top


def test_the_panel_gives_a_ratios_campaign_mix_and_rate_and_says_why_a_split_is_missing(
        database, use_database):
    with open_store(database) as store:
        load(store)
    use_database(database)
    at = AppTest.from_file(PAGES["scorecard"], default_timeout=90)
    at.query_params.update({"department": "Marketing", "as_of": AS_OF})
    at.run()
    next(s for s in at.selectbox if s.label == "KPI").set_value("CAC")
    at.run()
    assert not at.exception
    [table] = [d.value for d in at.dataframe if "Campaign" in d.value.columns]
    assert table.to_dict("records") == [
        {"Campaign": "Launch", "Now": "$80", "Before": "$40", "Contribution": "+$12",
         "Mix": "+$3", "Rate": "+$9"},
        {"Campaign": "Brand", "Now": "$33", "Before": "$30", "Contribution": "+$4.50",
         "Mix": "+$3.15", "Rate": "+$1.35"},
        {"Campaign": "(no campaign)", "Now": "$20", "Before": "$10",
         "Contribution": "+$1", "Mix": "-$2.25", "Rate": "+$3.25"}]
    next(s for s in at.selectbox if s.label == "KPI").set_value("Chat time")
    at.run()
    assert not [d for d in at.dataframe if "Campaign" in d.value.columns]
    assert any("Its change is not split by channel or campaign: a mean, minimum or maximum "
               "does not add up over the values." in shown(c.value) for c in at.caption)
