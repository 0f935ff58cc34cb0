"""ui/tables.py: engine frames written on the page as the PNG reports write them."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from ui.tables import cell_text


@pytest.mark.parametrize("column, value, expected", [
    ("spend", 30870.61, "$30.9k"), ("cac", 40.03, "$40.03"), ("spend_per_day", 2532.1, "$2,532"),
    ("budget_share", 0.4022, "40%"), ("conversion_rate", 0.0266, "2.7%"),
    ("new_customers", 12706.6, "12,707"), ("visitors", 466822.0, "466,822"),
    ("cac", None, "—"), ("projected_cac", np.nan, "—")])
def test_cell_text_writes_money_shares_rates_and_counts(column, value, expected):
    assert cell_text(column, value) == expected


def shown_table(app) -> pd.DataFrame:
    """What the browser shows: the Styler's display values, not the raw numbers."""
    at = AppTest.from_function(app).run()
    assert not at.exception
    styler = at.dataframe[0].proto.arrow_data.styler
    return pa.ipc.open_stream(io.BytesIO(styler.display_values)).read_pandas()


def test_a_table_shows_dashes_for_missing_values_and_readable_dates():
    def app():
        import numpy as np
        import pandas as pd

        from ui.tables import table
        table(pd.DataFrame({"channel": ["display", "email"], "cac": [101.2, np.nan],
                            "new_customers": [1585.0, 12706.6],
                            "saved": pd.to_datetime(["2026-11-27 13:23:59.8", None])}))
    shown = shown_table(app)
    assert shown["cac"].tolist() == ["$101", "—"]
    assert shown["new_customers"].tolist() == ["1,585", "12,707"]
    assert shown["saved"].tolist() == ["27 Nov 2026 13:23", "—"]


def test_a_download_is_headed_as_the_table_shows_its_columns_with_their_units():
    import streamlit as st

    from ui.tables import shown_values
    frame = pd.DataFrame({"channel": ["email"], "max_spend_seen": [1200.5], "r2": [0.91],
                          "relative_change": [0.125], "a": [3.0]})
    before = frame.copy()
    values = shown_values(frame, {
        "channel": "Channel", "a": None, "r2": st.column_config.NumberColumn("R²", format="%.2f"),
        "max_spend_seen": st.column_config.NumberColumn("Most spent in a day", format="dollar"),
        "relative_change": st.column_config.NumberColumn("Relative change", format="percent")})
    assert values.values.columns.tolist() == ["Channel", "Most spent in a day", "R²",
                                              "Relative change"]
    assert values.values.iloc[0].tolist() == ["email", 1200.5, 0.91, 0.125]    # not "$1,201"
    assert values.units == {"Most spent in a day": "currency", "Relative change": "percent"}
    pd.testing.assert_frame_equal(frame, before)


def test_a_table_with_a_download_has_csv_and_xlsx_buttons_keyed_by_page_and_table():
    def app():
        import pandas as pd

        from ui.tables import Download, table
        table(pd.DataFrame({"channel": ["display"], "cac": [101.2]}),
              download=Download("launch", "Autumn channels", key="launch_channels"))
    at = AppTest.from_function(app).run()
    assert not at.exception
    assert [(b.key, b.label) for b in at.get("download_button")] == [
        ("launch_channels_csv", "CSV"), ("launch_channels_xlsx", "XLSX")]


def test_a_table_writes_a_metrics_values_in_the_unit_it_is_given():
    def app():
        import pandas as pd

        from ui.tables import table
        table(pd.DataFrame({"period": ["Mar 2026", "Apr 2026"], "value": [0.0123, 0.25],
                            "search": [1234.5, 20000.0]}),
              units={"value": "percent", "search": "currency"})
    shown = shown_table(app)
    assert shown["value"].tolist() == ["1.2%", "25.0%"]
    assert shown["search"].tolist() == ["$1,234", "$20k"]


def test_every_table_shows_a_dash_not_none_in_an_empty_cell():
    """Streamlit draws a missing cell from the element's placeholder ("None" when
    unset), not from the Styler's na_rep: a split table's channel without spend
    that week, a key result without confidence."""
    def app():
        import numpy as np
        import pandas as pd

        from ui.tables import dataframe, table
        frame = pd.DataFrame({"period": ["2026-W40", "2026-W41"], "display": [np.nan, 15.2],
                              "owner": [None, "Ines"]})
        table(frame, money=("display",))
        dataframe(frame, hide_index=True)
        dataframe(frame, placeholder="")        # a page may still choose its own
    at = AppTest.from_function(app).run()
    assert not at.exception
    assert [d.proto.placeholder for d in at.dataframe] == ["—", "—", ""]
