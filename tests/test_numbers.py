"""What the whole engine counts as a missing number."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from kpi_logic.domain import formatting
from kpi_logic.domain.numbers import is_missing
from kpi_logic.launch import budget, optimiser
from kpi_logic.metrics import kpis, okrs


@pytest.mark.parametrize("value, missing", [
    (None, True),
    (float("nan"), True),
    (np.nan, True),
    (np.float32("nan"), True),
    (np.float64("nan"), True),
    (Decimal("NaN"), True),              # DuckDB DECIMAL columns arrive as Decimal
    (pd.NA, True),
    (pd.NaT, True),
    (np.datetime64("NaT"), True),
    (math.inf, True),                    # never a measured value: formulas turn it into NaN
    (-math.inf, True),
    (np.float32("inf"), True),
    (True, True),                        # a yes/no is not a number, though float() reads it
    (np.bool_(False), True),
    ("abc", True),
    ("", True),
    (date(2025, 3, 1), True),
    (pd.Series([1.0]), True),            # a column is not one value
    (0, False),                          # zero is known, never missing
    (0.0, False),
    (-0.0, False),
    (np.float32(0), False),
    (np.int64(3), False),
    (1e308, False),
    (-12.5, False),
    (Decimal("1.5"), False),
    ("12.5", False),                     # text holding a number: the formatting shows it
])
def test_is_missing(value, missing):
    assert is_missing(value) is missing


def test_every_module_uses_the_one_helper():
    # pages and reports call fmt.is_missing; the engine modules import numbers' one
    assert formatting.is_missing is is_missing
    assert budget.is_missing is is_missing
    assert optimiser.is_missing is is_missing
    assert kpis.is_missing is is_missing
    assert okrs.is_missing is is_missing
