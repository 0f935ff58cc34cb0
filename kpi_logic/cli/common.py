"""What every command of the command line shares: refusals of arguments,
JSON and table output, dates, opening the database to read, and how a
failure ends a command (one line and an exit code; the traceback and the
engine's log only with --debug)."""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path

from kpi_logic.domain.errors import DatabaseBusyError, DatabaseSchemaError, InputError
from kpi_logic.domain.model import FIRST_DATE, LAST_DATE
from kpi_logic.domain.numbers import to_digits

# numpy, pandas and the store (DuckDB) are imported where they are used, so
# `--help` and a refused argument answer without loading them.

EXIT_OK, EXIT_ERROR, EXIT_REFUSED, EXIT_STOPPED = 0, 1, 2, 130


class Refused(InputError):
    """A bad command-line argument (exit 2), worded like any other refusal."""


# ---- output helpers -------------------------------------------------------

def jsonable(value):
    """`value` with dates as ISO text, NaN/NaT as None, floats to TOTAL_DIGITS
    significant digits (domain.numbers: the same on every backend) and numpy/pandas scalars as plain Python, so json.dumps
    writes valid JSON. Does not mutate it."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    import numpy as np  # loaded already: the engine's results are read through it
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return to_digits(value) if math.isfinite(value) else None
    import pandas as pd
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()        # a DATE column read through pandas
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def json_text(value) -> str:
    """The CLI's JSON of an engine result (the one converter: jsonable)."""
    return json.dumps(jsonable(value), ensure_ascii=False)


def table_text(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Rows as an aligned plain-text table under a header of the column names;
    numbers right-aligned, missing values as "—"."""
    headers = list(columns)
    cells = [[_cell_text(row.get(c)) for c in columns] for row in rows]
    numeric = [all(_is_number(row.get(c)) for row in rows if _cell_text(row.get(c)) != "—")
               for c in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
    return "\n".join(out)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell_text(value) -> str:
    value = jsonable(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def emit(args, value, text: Callable[[object], str]) -> int:
    """Print a command's result: as JSON with --json, else as `text` makes it read
    from the same JSON-ready value (jsonable), so the table says what the JSON says."""
    print(json_text(value) if args.json else text(jsonable(value)))
    return EXIT_OK


def parsed_date(text: str | None, flag: str = "--as-of") -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{flag} '{text}' is not a date; write it as YYYY-MM-DD") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise Refused(f"{flag} {text} is outside the dates Lodestar works with, "
                      f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}")
    return day


def reading(db):
    """Open an existing database to read; a path with no database is refused
    (a mistyped --db must not quietly create an empty one)."""
    from kpi_logic.store import database_location, is_server_url, open_store
    where = database_location(db)
    if is_server_url(where):
        # A server without Lodestar's tables is refused by the read-only open.
        return open_store(where, read_only=True, migrate=False)
    if not Path(where).exists():
        raise InputError(f"there is no Lodestar database at {where}: check --db, "
                         "LODESTAR_DATABASE_URL or LODESTAR_DB, or create it with "
                         "`python -m kpi_logic demo` or `import`")
    return open_store(where, read_only=True)


# ---- how a command ends ----------------------------------------------------

@contextmanager
def engine_log_on_stderr(debug: bool) -> Iterator[None]:
    """With --debug, the engine's log records from DEBUG up go to stderr while
    the command runs (and nowhere else is changed); without it, nothing."""
    if not debug:
        yield
        return
    engine = logging.getLogger("kpi_logic")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = engine.level
    engine.addHandler(handler)
    engine.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        engine.removeHandler(handler)
        engine.setLevel(level)


def failure_code(exc: BaseException, *, debug: bool) -> int:
    """The exit code of a command that raised `exc`, after one line about it on
    stderr (preceded by its traceback with --debug)."""
    if isinstance(exc, BrokenPipeError):
        # The reader (e.g. `| head`) left early; silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, (InputError, DatabaseSchemaError)):
        # A schema error says what to do (an import creates it, an upgrade reads it).
        print(f"Refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if isinstance(exc, KeyboardInterrupt):
        print("Stopped.", file=sys.stderr)
        return EXIT_STOPPED
    if isinstance(exc, DatabaseBusyError):
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    first = (str(exc).strip().splitlines() or [""])[0]
    print(f"Error: {type(exc).__name__}: {first}" + ("" if debug else " (--debug shows where)"),
          file=sys.stderr)
    return EXIT_ERROR
