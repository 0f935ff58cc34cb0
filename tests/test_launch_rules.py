"""The launch rules the page, the PNG report and the CLI share (kpi_logic/launch/rules.py)."""
from __future__ import annotations

from datetime import date

import pandas as pd
from pandas.testing import assert_frame_equal

from kpi_logic.domain.model import Launch
from kpi_logic.launch import analysis, rules
from kpi_logic.output import launch_report

SPEC = Launch("Aurora", date(2025, 3, 1), cac_target=40.0, conversion_target=0.02)


def kpis() -> pd.DataFrame:
    """search: CAC 90 (above 40); email: CAC 10; partners: spent, no customer; display: nothing."""
    daily = pd.DataFrame([("search", 900.0, 100.0, 10.0, 10.0), ("email", 100.0, 100.0, 10.0, 10.0),
                          ("partners", 50.0, 80.0, 0.0, 0.0), ("display", 0.0, 0.0, 0.0, 0.0)],
                         columns=["channel", "spend", "visitors", "purchases", "new_customers"])
    return analysis.channel_kpis(daily, cac_target=SPEC.cac_target)


def test_rows_above_the_cac_target_and_rows_that_spent_without_a_customer():
    rows = kpis()
    before = rows.copy()
    assert rules.above_cac_target(rows)["channel"].tolist() == ["search"]
    assert rules.spent_without_customers(rows)["channel"].tolist() == ["partners"]
    no_target = analysis.channel_kpis(pd.DataFrame(
        [("search", 900.0, 100.0, 10.0, 10.0)],
        columns=["channel", "spend", "visitors", "purchases", "new_customers"]))
    assert rules.above_cac_target(no_target).empty
    assert_frame_equal(rows, before)


def test_the_page_words_and_the_report_flags_say_the_same_rows():
    rows = kpis().set_index("channel", drop=False)
    words = dict(zip(rows["channel"], rules.cac_words(rows), strict=True))
    assert words == {"display": "— no CAC (no new customers)", "email": "✔ within target",
                     "partners": "— no CAC (no new customers)", "search": "⚠ above target"}
    flags = dict(zip(rows["channel"], rules.above_flags(rows), strict=True))
    assert [c for c, f in flags.items() if f] == [c for c, w in words.items() if w.startswith("⚠")]
    # the report's share chart labels exactly those channels
    labels = set(launch_report.share_frame(rows)["channel"])
    assert "Search  ⚠ CAC above target" in labels and "Email" in labels   # in words


def test_headline_figures_carry_their_target_kind_and_status():
    total = {"conversion_rate": 0.019, "cac": 40.0,
             "conversion_status": analysis._status(0.019, 0.02, rules.CONVERSION_TARGET_KIND),
             "cac_status": analysis._status(40.0, 40.0, rules.CAC_TARGET_KIND)}
    conversion, cac = rules.headline(total, SPEC)
    assert (conversion["target"], conversion["status"]) == ("at least 2.0%", "at_risk")
    assert (cac["target"], cac["status"]) == ("at most $40", "healthy")     # equal meets it
    untargeted = rules.headline({**total, "conversion_status": None, "cac_status": None},
                                Launch("Plain", date(2025, 3, 1)))
    assert [h["status"] for h in untargeted] == ["no_data", "no_data"]


def test_the_promotion_counts_from_the_pick_else_the_definition_else_the_launch():
    assert rules.promotion_start(SPEC) == date(2025, 3, 1)
    promoted = Launch("Aurora", date(2025, 3, 1), promotion_date=date(2025, 3, 10))
    assert rules.promotion_start(promoted) == date(2025, 3, 10)
    assert rules.promotion_start(promoted, date(2025, 3, 12)) == date(2025, 3, 12)
