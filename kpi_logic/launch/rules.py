"""The launch's rules that the page, the PNG report and the CLI all show: which
kind of target each launch KPI has, which channels or campaigns are above the
CAC target or spent without a customer, the words for a row's CAC against its
target, the headline figures, and the promotion date in effect. Pure: nothing
here reads the store."""
from __future__ import annotations

from datetime import date

import pandas as pd

from kpi_logic.domain import formatting as fmt
from kpi_logic.domain.model import Launch

# Conversion is a floor ("at least 3%"), CAC a ceiling ("at most $40").
CONVERSION_TARGET_KIND = "min"
CAC_TARGET_KIND = "max"

# A row's CAC against the launch's target, as the page's column says it; the
# report flags a row at its end with ABOVE_TARGET_FLAG.
CAC_WORDS = {"above": "⚠ above target", "within": "✔ within target", "no_target": "no target",
             "no_cac": "— no CAC (no new customers)"}
ABOVE_TARGET_FLAG = "⚠ CAC above target"


def target_texts(spec: Launch) -> dict[str, str]:
    """{"conversion": "at least 3.0%", "cac": "at most $40"} ("—" without a target)."""
    return {"conversion": fmt.target_rule(spec.conversion_target, CONVERSION_TARGET_KIND,
                                          "percent"),
            "cac": fmt.target_rule(spec.cac_target, CAC_TARGET_KIND, "currency")}


def above_cac_target(rows: pd.DataFrame) -> pd.DataFrame:
    """The channel or campaign KPI rows whose CAC is above the launch's target (rows
    without a target or without a CAC are not). Does not mutate `rows`."""
    return rows[rows["above_cac_target"].map(lambda flag: flag is True)]


def spent_without_customers(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that spent money and won no new customer (so they have no CAC)."""
    return rows[(rows["spend"] > 0) & ~(rows["new_customers"] > 0)]


def cac_words(rows: pd.DataFrame) -> list[str]:
    """Each row's CAC against the target, in CAC_WORDS."""
    def words(above, cac) -> str:
        if fmt.is_missing(cac):
            return CAC_WORDS["no_cac"]
        if above is None:
            return CAC_WORDS["no_target"]
        return CAC_WORDS["above"] if above else CAC_WORDS["within"]
    return [words(a, c) for a, c in zip(rows["above_cac_target"], rows["cac"], strict=True)]


def above_flags(rows: pd.DataFrame) -> list[str | None]:
    """ABOVE_TARGET_FLAG for each row above the CAC target, None for the others."""
    return [ABOVE_TARGET_FLAG if flag is True else None for flag in rows["above_cac_target"]]


def headline(total: dict, spec: Launch) -> list[dict]:
    """The launch's two judged figures as the page's cards and the report's tiles show
    them: [{title, value, unit, status, target, definition}], conversion first.
    `total` is analysis.launch_kpis' result; status "no_data" without a target or
    a value."""
    targets = target_texts(spec)
    return [
        {"title": "Launch conversion", "value": total["conversion_rate"], "unit": "percent",
         "status": total["conversion_status"] or "no_data", "target": targets["conversion"],
         "definition": "purchases / product-page visitors"},
        {"title": "Launch CAC", "value": total["cac"], "unit": "currency",
         "status": total["cac_status"] or "no_data", "target": targets["cac"],
         "definition": "customer acquisition cost: launch channel spend / new customers"},
    ]


def promotion_start(spec: Launch, picked: date | None = None) -> date | None:
    """The day the social promotion counts from: the one picked, else the launch's
    promotion date, else its launch date."""
    return picked or spec.promotion_date or spec.launch_date
