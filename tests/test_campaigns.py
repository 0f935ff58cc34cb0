"""Campaigns: a second breakdown of history under the dimension (campaigns
within a channel), from the file through storage, roll-ups, undo and the
launch's campaign table; and a launch's promotion date in its definition."""
from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from kpi_logic.cli import main as cli
from kpi_logic.domain.errors import InputError
from kpi_logic.ingest.importing import import_files
from kpi_logic.ingest.undo import undo_batch
from kpi_logic.launch import analysis as L
from kpi_logic.metrics.rollups import rolled_up
from kpi_logic.store import SCHEMA_VERSION, db, open_store, schema_version
from tests.builders import in_order

from .test_importing import assert_same_database, dump

LONG = b"""date,channel,campaign,metric,value
2025-03-01,search,Brand,spend,100
2025-03-01,search,Generic,spend,300
2025-03-01,search,Brand,new_customers,5
2025-03-01,search,Generic,new_customers,6
2025-03-02,search,Brand,spend,120
2025-03-02,search,Generic,spend,280
2025-03-02,search,Brand,new_customers,6
2025-03-02,search,Generic,new_customers,5
2025-03-01,email,,spend,50
2025-03-01,email,,new_customers,10
2025-03-02,email,,spend,50
2025-03-02,email,,new_customers,9
"""


def stored(store) -> list[tuple]:
    return in_order(store.connection.execute(
        "select metric, obs_date, dimension, campaign, value from observations "
        "where superseded_by is null").fetchall())


def test_a_campaign_column_keeps_campaigns_apart(store):
    [result] = import_files(store, [(LONG, "channels.csv")])
    assert (result.inserted, result.details["campaign"]) == (12, "campaign")
    rows = stored(store)
    assert ("spend", date(2025, 3, 1), "search", "Brand", 100.0) in rows
    assert ("spend", date(2025, 3, 1), "search", "Generic", 300.0) in rows
    assert ("spend", date(2025, 3, 1), "email", "", 50.0) in rows
    # Roll-ups add the campaigns up: a channel's day is the sum of its campaigns.
    by_channel = rolled_up(store, "spend", "month", by="dimension").set_index("dimension")
    assert by_channel.loc["search", "value"] == 800.0
    assert rolled_up(store, "spend", "month")["value"].tolist() == [900.0]


def test_the_same_key_with_two_values_names_channel_and_campaign(store):
    clash = LONG + b"2025-03-01,search,Brand,spend,999\n"
    before = dump(store)
    with pytest.raises(InputError) as refused:
        import_files(store, [(clash, "channels.csv")])
    text = str(refused.value)
    assert ("rows 2 and 14 give spend on 2025-03-01 for channel search, campaign Brand two "
            "different values (100 and 999)") in text
    assert_same_database(before, dump(store))


def test_campaigns_without_a_channel_column_are_refused_by_column(store):
    before = dump(store)
    only = b"date,Campaign,metric,value\n2025-03-01,Brand,spend,10\n"
    with pytest.raises(InputError) as refused:
        import_files(store, [(only, "ads.csv")])
    assert refused.value.column == "Campaign" and refused.value.file == "ads.csv"
    assert "rename the column to 'channel'" in refused.value.message
    assert_same_database(before, dump(store))


def test_an_identical_repeat_within_a_campaign_is_stored_once(store):
    [result] = import_files(store, [(LONG + b"2025-03-01,search,Brand,spend,100\n", "c.csv")])
    assert result.inserted == 12
    assert store.connection.execute("select count(*) from observations where campaign = 'Brand' "
                       "and metric = 'spend'").fetchall() == [(2,)]


def test_a_correction_supersedes_only_its_campaign_and_undo_restores_it(store):
    import_files(store, [(LONG, "channels.csv")])
    before = dump(store)["observations"]
    corrected = LONG.replace(b"2025-03-01,search,Generic,spend,300", b"2025-03-01,search,Generic,spend,310")
    [result] = import_files(store, [(corrected, "channels_v2.csv")])
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 11)
    assert ("spend", date(2025, 3, 1), "search", "Generic", 310.0) in stored(store)
    assert ("spend", date(2025, 3, 1), "search", "Brand", 100.0) in stored(store)
    undo_batch(store, result.batch)
    pd.testing.assert_frame_equal(dump(store)["observations"], before)


TOTALS = b"date,channel,metric,value\n2025-03-01,search,spend,400\n2025-03-02,search,spend,400\n"


def test_a_breakdown_over_a_stored_total_is_refused_until_the_total_is_undone(store):
    [total] = import_files(store, [(TOTALS, "totals.csv")])
    before = dump(store)
    with pytest.raises(InputError) as refused:
        import_files(store, [(LONG, "channels.csv")])
    text = str(refused.value)
    assert f"undo batch {total.batch} first" in text
    assert (f"row 2, column 'campaign': spend on 2025-03-01 for search is already stored without "
            f"a campaign (batch {total.batch}, totals.csv)") in text
    assert_same_database(before, dump(store))
    undo_batch(store, total.batch)
    import_files(store, [(LONG, "channels.csv")])
    assert rolled_up(store, "spend", "day", dimension="search")["value"].tolist() == [400.0, 400.0]


def test_a_total_over_a_stored_channel_breakdown_is_refused(store):
    import_files(store, [(TOTALS, "totals.csv")])
    before = dump(store)
    with pytest.raises(InputError, match="row 2: spend on 2025-03-01 is stored broken down by "
                                         "channel or region"):
        import_files(store, [(b"date,metric,value\n2025-03-01,spend,400\n", "total.csv")])
    assert_same_database(before, dump(store))


def test_a_file_mixing_rows_with_and_without_campaigns_can_be_corrected(store):
    mixed = LONG + b"2025-03-01,search,,spend,25\n"
    import_files(store, [(mixed, "mixed.csv")])
    [again] = import_files(store, [(mixed.replace(b",,spend,25", b",,spend,30"), "mixed_v2.csv")])
    assert (again.inserted, again.updated) == (0, 1)
    assert rolled_up(store, "spend", "day", dimension="search")["value"].tolist() == [430.0, 400.0]


def test_wide_history_can_carry_a_campaign_column(store):
    wide = (b"date,channel,campaign,spend,visitors\n"
            b"2025-03-01,social,Teaser,10,100\n2025-03-01,social,Creators,20,300\n")
    [result] = import_files(store, [(wide, "wide.csv")])
    assert result.details["format"] == "wide"
    assert result.details["metrics"] == ["spend", "visitors"]
    assert ("visitors", date(2025, 3, 1), "social", "Creators", 300.0) in stored(store)


def test_last_takes_each_campaigns_latest_value_then_adds_them(store):
    balances = (b"date,channel,campaign,metric,value\n"
                b"2025-03-01,search,A,budget_left,100\n2025-03-20,search,A,budget_left,40\n"
                b"2025-03-05,search,B,budget_left,70\n")
    import_files(store, [(b"metric,aggregation\nbudget_left,last\n", "metrics.csv"),
                       (balances, "balances.csv")])
    assert rolled_up(store, "budget_left", "month")["value"].tolist() == [110.0]


def test_the_store_rolls_up_by_campaign_across_channels_sums_and_latest_values(store):
    """Brand runs in search and social: one campaign, its channels added up; the
    email rows have no campaign (''). `last` takes each channel-and-campaign's
    latest value in the month, then adds them up per campaign."""
    rows = (b"date,channel,campaign,metric,value\n"
            b"2025-03-01,search,Brand,spend,100\n2025-03-02,social,Brand,spend,40\n"
            b"2025-03-01,search,Generic,spend,300\n2025-03-01,email,,spend,50\n"
            b"2025-04-01,search,Brand,spend,120\n"
            b"2025-03-01,search,Brand,budget_left,900\n2025-03-20,search,Brand,budget_left,700\n"
            b"2025-03-05,social,Brand,budget_left,200\n2025-03-05,search,Generic,budget_left,80\n")
    import_files(store, [(b"metric,aggregation\nspend,sum\nbudget_left,last\n", "metrics.csv"),
                         (rows, "campaigns.csv")])
    found = store.history.rolled_up_rows({"spend": "sum", "budget_left": "last"}, "month",
                                         by="campaign")
    assert list(found.columns) == ["metric", "period", "campaign", "value", "first_date",
                                   "last_date"]
    assert in_order([tuple(r) for r in found[["metric", "period", "campaign", "value"]]
                     .itertuples(index=False)]) == [
        ("budget_left", date(2025, 3, 1), "Brand", 900.0),        # 700 (search) + 200 (social)
        ("budget_left", date(2025, 3, 1), "Generic", 80.0),
        ("spend", date(2025, 3, 1), "", 50.0),
        ("spend", date(2025, 3, 1), "Brand", 140.0),
        ("spend", date(2025, 3, 1), "Generic", 300.0),
        ("spend", date(2025, 4, 1), "Brand", 120.0)]
    brand = found[(found["campaign"] == "Brand") & (found["metric"] == "spend")]
    assert (brand["first_date"].tolist(), brand["last_date"].tolist()) == (
        [date(2025, 3, 1), date(2025, 4, 1)], [date(2025, 3, 2), date(2025, 4, 1)])
    # The same rows split by channel, and not split: the one query, another column kept.
    by_channel = store.history.rolled_up_rows({"spend": "sum"}, "month", by="dimension",
                                              end=date(2025, 3, 31))
    assert dict(zip(by_channel["dimension"], by_channel["value"], strict=True)) == {
        "search": 400.0, "social": 40.0, "email": 50.0}
    whole = store.history.rolled_up_rows({"spend": "sum"}, "month", end=date(2025, 3, 31))
    assert whole["value"].tolist() == [490.0] and "campaign" not in whole.columns
    with pytest.raises(ValueError, match="cannot split by 'metric'"):
        store.history.rolled_up_rows({"spend": "sum"}, "month", by="metric")


def test_a_formula_rolls_up_per_campaign_from_its_parts(store):
    import_files(store, [(b"metric,formula\ncac,spend / new_customers\n", "metrics.csv"),
                         (LONG, "channels.csv")])
    found = rolled_up(store, "cac", "month", by="campaign")
    assert dict(zip(found["campaign"], found["value"], strict=True)) == pytest.approx(
        {"": 100 / 19, "Brand": 220 / 11, "Generic": 580 / 11})


# DuckDB only: files written by an older release are migrated; a PostgreSQL
# server starts at the current schema.
def version_4_file(path) -> None:
    old = duckdb.connect(str(path))
    for version in (1, 2, 3, 4):
        old.execute(db.MIGRATIONS[version])
    old.execute("insert into schema_version values (4)")
    old.execute("insert into observations (metric, obs_date, dimension, value, batch_id) "
                "values ('spend', date '2025-03-01', 'search', 5, 1)")
    old.execute("insert into metrics (name, batch_id) values ('spend', 1)")
    old.execute("insert into launches (launch, launch_date, batch_id) "
                "values ('Autumn', date '2025-09-01', 2)")
    old.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_version_4_file_gains_empty_campaigns_and_promotion_dates(db_path, read_only):
    version_4_file(db_path)
    with open_store(db_path, read_only=read_only) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION
        assert stored(store) == [("spend", date(2025, 3, 1), "search", "", 5.0)]
        assert store.definitions.launches()[0].promotion_date is None


def test_the_cli_reads_a_version_4_file(db_path, capsys):
    version_4_file(db_path)
    assert cli.main(["--db", str(db_path), "history", "--metric", "spend", "--grain", "day",
                     "--json"]) == 0
    assert '"value": 5.0' in capsys.readouterr().out


# --- the launch's campaigns and promotion date ---------------------------------------

LAUNCHES = b"launch,launch_date,cac_target,promotion_date\nSpring,2025-03-01,30,2025-03-02\n"


def test_a_launch_names_its_promotion_date(store):
    import_files(store, [(LAUNCHES, "launches.csv")])
    assert store.definitions.launches()[0].promotion_date == date(2025, 3, 2)


def test_a_promotion_date_that_is_not_a_date_is_refused_by_row_and_column(store):
    before = dump(store)
    bad = b"launch,launch_date,promotion_date\nSpring,2025-03-01,soon\n"
    with pytest.raises(InputError) as refused:
        import_files(store, [(bad, "launches.csv")])
    assert "row 2" in str(refused.value) and "promotion_date" in str(refused.value)
    assert_same_database(before, dump(store))


def test_campaign_kpis_come_from_summed_parts_with_shares_of_the_whole_launch():
    totals = pd.DataFrame({"channel": ["search", "search", "email"],
                           "campaign": ["Brand", "Generic", ""],
                           "spend": [200.0, 600.0, 200.0], "visitors": [100.0, 400.0, 0.0],
                           "purchases": [10.0, 8.0, 0.0], "new_customers": [10.0, 0.0, 5.0]})
    before = totals.copy()
    kpis = L.campaign_kpis(totals, cac_target=30).set_index(["channel", "campaign"])
    pd.testing.assert_frame_equal(totals, before)
    assert kpis.loc[("search", "Brand"), "cac"] == 20.0
    assert kpis.loc[("search", "Brand"), "conversion_rate"] == 0.1
    assert kpis.loc[("search", "Brand"), "budget_share"] == 0.2
    assert kpis.loc[("search", "Brand"), "above_cac_target"] is False
    assert kpis.loc[("email", ""), "above_cac_target"] is True
    assert pd.isna(kpis.loc[("search", "Generic"), "cac"])            # no customers: no CAC
    assert kpis.loc[("search", "Generic"), "above_cac_target"] is None
    assert pd.isna(kpis.loc[("email", ""), "conversion_rate"])       # no visitors: no rate


def test_the_launch_lists_campaigns_of_the_channels_that_have_them(store):
    import_files(store, [(LAUNCHES, "launches.csv"), (LONG, "channels.csv")])
    found = L.launch_analysis(store)
    assert found.campaigns[["channel", "campaign"]].values.tolist() == [
        ["search", "Brand"], ["search", "Generic"]]
    assert found.campaigns["cac"].tolist() == [220 / 11, 580 / 11]
    assert found.campaigns["above_cac_target"].tolist() == [False, True]
    # Shares are of the whole launch: email's spend counts in the denominator.
    assert found.campaigns["budget_share"].tolist() == pytest.approx([220 / 900, 580 / 900])
    summary = L.launch_summary(store)
    json.dumps(summary, allow_nan=False)
    assert summary["promotion_date"] == "2025-03-02"
    assert [c["campaign"] for c in summary["campaigns"]] == ["Brand", "Generic"]
    assert summary["engagement"]["windows"].startswith("No visitors data")


def test_history_without_campaigns_has_an_empty_campaign_table(store):
    plain = (b"date,channel,metric,value\n2025-03-01,search,spend,100\n"
             b"2025-03-02,search,spend,120\n2025-03-01,search,new_customers,5\n"
             b"2025-03-02,search,new_customers,6\n")
    import_files(store, [(LAUNCHES, "launches.csv"), (plain, "channels.csv")])
    found = L.launch_analysis(store)
    assert found.campaigns.empty
    assert list(found.campaigns.columns) == L.CAMPAIGN_COLUMNS
    assert L.launch_summary(store)["campaigns"] == []
