"""Charts on a page, built once per chart and data.

Building an Altair chart and turning it into Vega-Lite costs 10-40 ms per
chart (Altair validates every encoding against the Vega-Lite schema): the
OKR page's twenty charts took over a second of each rerun, the overview's
sparklines and bars several hundred milliseconds. spec() builds the chart
from its builder and arguments the first time, keeps the Vega-Lite spec it
becomes (its data as Arrow bytes: exactly what st.altair_chart sends) in
st.cache_data, and gives that spec to st.vega_lite_chart on every later
rerun and in every other session:

    st.vega_lite_chart(vega.spec(charts.sparkline, points, height=48), width="stretch")

draws what st.altair_chart(charts.sparkline(points, height=48), width="stretch")
draws. A builder may return a Vega-Lite dict instead of an Altair chart
(charts.kpi_trend_chart): its named datasets become Arrow bytes once, as
st.vega_lite_chart would turn them on every run, so the cached spec draws what
st.vega_lite_chart(the dict) draws. The builder's name and arguments are the
cache key, so other data is another chart; the builders (kpi_logic/output) are
pure, and the same ones draw the PNG reports.
"""
from __future__ import annotations

import hashlib
import pickle
from typing import Any, Callable

import altair as alt
import streamlit as st
from streamlit import dataframe_util

# The conversion st.altair_chart makes itself (theme "none", datasets as Arrow
# bytes); tests/test_ui_vega.py holds a cached spec equal to what altair_chart
# sends, so a Streamlit upgrade that changes this private function fails there.
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

Chart = alt.TopLevelMixin | dict[str, Any]


@st.cache_data(show_spinner=False, max_entries=2048)
def _spec(builder: str, arguments_digest: str, _build: Callable[..., Chart],
          _args: tuple, _kwargs: dict) -> dict[str, Any]:
    # The key is the builder's name (module and qualified name) and a digest of
    # its arguments' pickle: Streamlit's own hashing of a page's nested lists
    # of dicts cost more than the chart it saved. Equal arguments pickled
    # differently only miss the cache; different arguments never share a key.
    made = _build(*_args, **_kwargs)
    if isinstance(made, dict):
        return _with_arrow_datasets(made)
    return _convert_altair_to_vega_lite_spec(made)


def _with_arrow_datasets(spec: dict[str, Any]) -> dict[str, Any]:
    """A Vega-Lite dict with its named datasets (lists of rows) as the Arrow bytes
    st.vega_lite_chart makes of them (the same Streamlit function)."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    return {**spec, "datasets": {name: dataframe_util.convert_anything_to_arrow_bytes(rows)
                                 for name, rows in datasets.items()}}


def spec(build: Callable[..., Chart], *args, **kwargs) -> dict[str, Any]:
    """The Vega-Lite spec of build(*args, **kwargs) as st.altair_chart (an Altair
    chart) or st.vega_lite_chart (a Vega-Lite dict) would send it, cached per
    builder and arguments; a fresh copy on each call (st.cache_data returns
    copies), which st.vega_lite_chart may take apart."""
    digest = hashlib.blake2b(pickle.dumps((args, sorted(kwargs.items())), protocol=5),
                             digest_size=20).hexdigest()
    return _spec(f"{build.__module__}.{build.__qualname__}", digest, build, args, kwargs)
