"""What counts as a missing number, in one place for the whole engine; and
the precision of a computed total.

A value is missing when it does not give a finite number: the engine never
computes with it and the dashboard, reports and CLI show it as "—". Zero is
a number, never missing. This module imports nothing from kpi_logic, so any
module may use it.
"""
from __future__ import annotations

import math
import sys


def is_missing(value: object) -> bool:
    """True when `value` gives no finite number. Does not mutate.

    Missing: None, NaN of any float type (float, numpy floats, Decimal),
    pandas.NA, pandas.NaT, numpy NaT, +/-inf (the engine never produces an
    infinity on purpose: formulas turn one into NaN), booleans, and anything
    float() cannot read (text that is not a number, dates, arrays, Series).
    Not missing: every finite int or float, including 0 and numpy scalars,
    and text that reads as one ("12.5"), as the formatting always accepted.
    """
    # float() reads a bool as 0 or 1; a yes/no is not a measured number
    if value is None or isinstance(value, bool) or _is_numpy_bool(value):
        return True
    try:
        number = float(value)    # pandas.NA / NaT and numpy NaT raise TypeError here
    except (TypeError, ValueError, OverflowError):    # OverflowError: an int beyond float
        return True
    return not math.isfinite(number)


def _is_numpy_bool(value: object) -> bool:
    # A numpy bool exists only once numpy is loaded: the check does not load it
    # (the command line starts without numpy).
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.bool_)


# Significant digits of a total read from the database, and of a number in the
# CLI's JSON. The last bits of a sum of doubles depend on the order they are
# added in, which no database promises: PostgreSQL's differs from DuckDB's, and
# DuckDB's own varies with its threads on a large table. Twelve digits hold
# cents up to ten billion, make a total the same on every backend (except in
# the rare case where the two fall either side of a rounding step), and give a
# hand check's decimal answer (0.1 + 0.2 is 0.3).
TOTAL_DIGITS = 12


def to_digits(value: float, digits: int = TOTAL_DIGITS) -> float:
    """A finite float rounded to `digits` significant digits (others unchanged)."""
    return float(f"{value:.{digits}g}") if math.isfinite(value) else value
