"""Session-state keys, their defaults, and their mirror in the URL.

Every view-defining choice (department, period, as-of date, objective...)
lives in st.session_state under a page-prefixed key AND in the URL query
parameters, so a copied link opens exactly the same view in a new browser.
Pages call `restore(...)` before drawing their widgets and `publish(...)`
after, and every page also runs on its own (defaults here, not in app.py).
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from kpi_logic.domain.model import FIRST_DATE, LAST_DATE

# query parameter name -> session-state key (page-prefixed where page-specific)
SHARED = {
    "department": "shared_department",
    "period": "shared_period",
    "as_of": "shared_as_of",
}
SCORECARD_METRIC = "scorecard_metric"
OKRS_OBJECTIVE = "okrs_objective"
OKRS_KEY_RESULT = "okrs_key_result"
METRICS_SEARCH = "metrics_search"
LAUNCH_NAME = "launch_name"
LAUNCH_STEP = "launch_step"
LAUNCH_COMPARED = "launch_compared"        # comma-separated scenario names
LAUNCH_PROMOTION_URL = "launch_promotion_url"  # the promotion date as the URL has it
# The launch page's own keys (not in the URL); "+ channel" keys take a channel's name.
LAUNCH_COMPARE_PICKER = "launch_compare_picker"
LAUNCH_SPLIT = "launch_split"               # the what-if's daily budget per channel, kept across steps
LAUNCH_SPLIT_FOR = "launch_split_for"       # the launch that split belongs to
LAUNCH_BUDGET = "launch_budget_"            # + channel: one slider each
LAUNCH_KEEP_TOTAL = "launch_keep_total"
LAUNCH_RESET = "launch_reset"
LAUNCH_OPTIMISED = "launch_optimised"       # the optimiser's last outcome
LAUNCH_OPT_MODE = "launch_opt_mode"         # "budget" or "goal"
LAUNCH_OPT_BUDGET = "launch_opt_budget"
LAUNCH_OPT_GOAL = "launch_opt_goal"
LAUNCH_OPT_WITHIN_SEEN = "launch_opt_within_seen"   # keep each channel within its daily spend seen
LAUNCH_MIN = "launch_min_"                  # + channel
LAUNCH_MAX = "launch_max_"                  # + channel
LAUNCH_OPTIMISE = "launch_optimise"
LAUNCH_SCENARIO_NAME = "launch_scenario_name"
LAUNCH_SAVE = "launch_save"
LAUNCH_MANAGE_PICK = "launch_manage_pick"
LAUNCH_MANAGE_NAME = "launch_manage_name"
LAUNCH_RENAME = "launch_rename"
LAUNCH_DELETE = "launch_delete"
LAUNCH_PROMOTION = "launch_promotion"       # the date picker (only while Improve shows it)
LAUNCH_PROMOTION_APPLIED = "launch_promotion_applied"   # the URL value last taken
# (launch, its definition's promotion date, the date picked): kept across steps,
# and forgotten when the launch or its definition's date changes.
LAUNCH_PROMOTION_CHOSEN = "launch_promotion_chosen"
LAUNCH_PNG = "launch_png"
# The metric explorer's keys. In the URL: metric or formula, grain, from and to
# (only once picked: a link without them follows the data), split, unit.
EXPLORER_SOURCE = "explorer_source"         # "metric" or "formula"
EXPLORER_METRIC = "explorer_metric"
EXPLORER_METRIC_KEPT = "explorer_metric_kept"    # the metric picked, kept while a formula is shown
EXPLORER_FORMULA = "explorer_formula"
EXPLORER_FORMULA_KEPT = "explorer_formula_kept"  # the formula typed, kept while a metric is shown
EXPLORER_GRAIN = "explorer_grain"
EXPLORER_FROM = "explorer_from"
EXPLORER_TO = "explorer_to"
EXPLORER_PICKED = "explorer_picked_"        # + from / to: True once someone chose that day
EXPLORER_SPLIT = "explorer_split"
EXPLORER_SPLIT_URL = "explorer_split_url"   # the split as the URL has it ("1")
EXPLORER_UNIT = "explorer_unit"             # a formula's unit chosen over the one read from it
EXPLORER_URL = {"metric": EXPLORER_METRIC, "formula": EXPLORER_FORMULA, "grain": EXPLORER_GRAIN,
                "from": EXPLORER_FROM, "to": EXPLORER_TO, "split": EXPLORER_SPLIT_URL,
                "unit": EXPLORER_UNIT}
DEFINE_TAB = "define_tab"                  # Import and define: the tab shown, kept across reruns
AS_OF_PICKED = "shared_as_of_picked"      # True once someone chose the as-of date
EDITOR_UNLOCKED = "editor_unlocked"
NOTICE = "app_notice"
DEMO_CHECKED = "app_demo_checked"   # the mode (editor: True) the first-start check ran in


def restore(mapping: dict[str, str]) -> None:
    """Copy query parameters into session state when the URL brings news.

    `mapping` is {query parameter: session key}. A fresh session takes the
    URL's values; later, a URL value that differs from the one this session
    last saw (a page link, an edited address) wins over the widget's value.
    Whether a parameter brought news in this run is kept for url_news().
    """
    for param, key in mapping.items():
        st.session_state[f"_url_news_{param}"] = False
        if param not in st.query_params:
            continue
        value = st.query_params[param]
        seen = f"_url_{param}"
        if key not in st.session_state or st.session_state.get(seen) != value:
            st.session_state[key] = value
            st.session_state[f"_url_news_{param}"] = True
        st.session_state[seen] = value


def url_news(param: str) -> bool:
    """True when the URL brought a new value of `param` in this run (see restore)."""
    return bool(st.session_state.get(f"_url_news_{param}"))


def publish(values: dict[str, object]) -> None:
    """Write the current view into the URL (None or "" removes the parameter)."""
    for param, value in values.items():
        if value is None or value == "":
            if param in st.query_params:
                del st.query_params[param]
        else:
            text = value.isoformat() if isinstance(value, date) else str(value)
            if st.query_params.get(param) != text:
                st.query_params[param] = text
            st.session_state[f"_url_{param}"] = text


def parse_date(text: object) -> date | None:
    """A date from a query parameter, or None when absent, not a date, or outside the
    dates Lodestar works with (a link to 9999-12-31 opens on today instead)."""
    if isinstance(text, date):
        day = text
    else:
        try:
            day = date.fromisoformat(str(text)) if text else None
        except ValueError:
            return None
    return day if day is not None and FIRST_DATE <= day <= LAST_DATE else None
