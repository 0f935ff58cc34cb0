"""Staging: a file's rows as an all-text temporary table, and the SQL that
parses its numbers and dates.

Parsing stays in SQL so a 10M-row file never leaves DuckDB. The expressions
returned here are fixed text built from constant patterns; no user text is
ever formatted into them (identifiers come quoted by the caller).
"""
from __future__ import annotations

import uuid

import pandas

from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.domain.limits import LARGEST_NUMBER
from kpi_logic.domain.model import FIRST_DATE, LAST_DATE
from kpi_logic.store.db import quote_identifier
from kpi_logic.store.staging_errors import CSV_READ_ERRORS, CsvLoadError

NULL_TOKENS = ("", "null", "none", "n/a", "na", "-")
_CURRENCY = r"(?:[$€£¥]|usd|eur|gbp)"
_SIGN = r"[-+−]"
# Mantissa per mode: well-formed 3-digit groups only, so "300,0,00.40" fails.
_DOT_MANTISSA = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_COMMA_MANTISSA = r"(?:[0-9]{1,3}(?:[. \x{00a0}\x{202f}][0-9]{3})+|[0-9]+)(?:,[0-9]+)?|,[0-9]+"


def _number_pattern(mantissa: str) -> str:
    # groups: 1 "(", 2 sign, 3 sign, 4 mantissa, 5 exponent, 6 "%", 7 ")"
    return (rf"^(\()?\s*({_SIGN})?\s*{_CURRENCY}?\s*({_SIGN})?\s*({mantissa})"
            rf"([eE][-+]?[0-9]+)?\s*{_CURRENCY}?\s*(%)?\s*(\))?$")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def missing_sql(column_sql: str) -> str:
    """SQL that is true when a text cell is missing: NULL, blank or one of NULL_TOKENS.

    With a parsed value already materialised, `value is null and not missing`
    finds the invalid cells without parsing the text a second time.
    """
    tokens = ", ".join(_literal(x) for x in NULL_TOKENS)
    return f"({column_sql} is null or lower(trim({column_sql})) in ({tokens}))"


def invalid_from_value_sql(value_sql: str, column_sql: str) -> str:
    """SQL true for a cell whose parsed value (already stored in `value_sql`) is NULL
    although its text `column_sql` is not missing: the cheap form of invalid_sql.

    The CASE runs missing_sql only on the rows without a value; `value is null
    and <invalid_sql>` would parse every cell's text a second time.
    """
    return f"(case when {value_sql} is null then not {missing_sql(column_sql)} else false end)"


def trimmed_sql(column_sql: str) -> str:
    """SQL for trim(column) that copies only the cells with a space at either end.

    Same result as trim(); on a million clean cells it costs a LIKE, not a copy.
    """
    return (f"(case when {column_sql} like ' %' or {column_sql} like '% ' "
            f"then trim({column_sql}) else {column_sql} end)")


def number_sql(column_sql: str, decimal_comma: bool = False) -> tuple[str, str]:
    """(value_sql, invalid_sql) for a text column: DOUBLE or NULL, and true for non-empty non-numbers.

    Empty cells and NULL_TOKENS are missing (NULL, not invalid). Thousands
    groups must be well formed; "12.5%" is 0.125; "(1,234.50)" is negative.
    Numbers of LARGEST_NUMBER (1e100) and more, like "inf" and "nan", are invalid.
    """
    t = f"lower(trim({column_sql}))"
    pattern = _literal(_number_pattern(_COMMA_MANTISSA if decimal_comma else _DOT_MANTISSA))
    part = lambda n: f"regexp_extract({t}, {pattern}, {n})"
    if decimal_comma:
        digits = f"replace(regexp_replace({part(4)}, '[. \\x{{00a0}}\\x{{202f}}]', '', 'g'), ',', '.')"
    else:
        digits = f"replace({part(4)}, ',', '')"
    minus = f"(({part(2)} in ('-', '−')) <> ({part(3)} in ('-', '−')))"
    negative = f"(({part(1)} = '(') <> {minus})"
    # A number past LARGEST_NUMBER (and "1e309", which parses as inf) is invalid like
    # "inf" itself. Only cells with signs, groups or units come this way: the
    # expression written twice costs little.
    signed = (f"((case when {negative} then -1 else 1 end) * cast({digits} || "
              f"{part(5)} as double) * (case when {part(6)} = '%' then 0.01 else 1 end))")
    parsed = f"(case when abs({signed}) < {LARGEST_NUMBER!r} then {signed} end)"
    is_null = missing_sql(column_sql)
    matches = f"(regexp_full_match({t}, {pattern}) and ({part(1)} = '') = ({part(7)} = ''))"
    # Plain numbers are the bulk of a large file: a cast is far cheaper than the
    # regex. DuckDB's cast also takes "nan", "inf" and "1_000", which are not numbers here.
    plain = f"try_cast({column_sql} as double)"
    # With a decimal comma only dot-free cells may take the cast ("1.234" is 1234 there).
    dots = f" and not contains({column_sql}, '.')" if decimal_comma else ""
    # abs(NULL) < x is NULL, so it also stands for "the cast worked" (one test fewer per
    # row); inf and numbers past LARGEST_NUMBER fall through and end invalid.
    fast = (f"when abs({plain}) < {LARGEST_NUMBER!r} and not contains({column_sql}, '_'){dots} "
            f"then {plain} ")
    value = f"(case when {column_sql} is null then null {fast}when {is_null} then null" \
            f" when {matches} then {parsed} end)"
    # Same text as `value`, so DuckDB computes it once when both are selected.
    invalid = f"(case when {value} is not null then false else not {is_null} end)"
    return value, invalid


_ISO_TS = r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})[t ]([0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)\s*(z|utc|gmt|[-+][0-9]{2}:?[0-9]{2})?$"
_DMY = r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})(?:[t ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$"
_QUARTER = r"^(?:([0-9]{4})\s*[-/ ]?\s*q([1-4])|q([1-4])\s*[-/ ]?\s*([0-9]{4}))$"


def _offset_minutes(t: str) -> str:
    zone = f"regexp_extract({t}, {_literal(_ISO_TS)}, 3)"
    sign = f"(case when left({zone}, 1) = '-' then -1 else 1 end)"
    digits = f"replace(substr({zone}, 2), ':', '')"
    return (f"(case when {zone} in ('', 'z', 'utc', 'gmt') then 0 else {sign} * "
            f"(cast(left({digits}, 2) as integer) * 60 + cast(right({digits}, 2) as integer)) end)")


def date_sql(column_sql: str, order: str = "ymd", *, allow_year: bool = False,
             bounded: bool = True) -> tuple[str, str]:
    """(value_sql, invalid_sql) for a text column: DATE or NULL, and true for non-empty non-dates.

    Accepts ISO dates, ISO timestamps (an offset or Z/UTC is converted to the
    UTC date; zone names such as EST are refused as ambiguous), "2025-03",
    "2025-Q1"/"Q1 2025", d/m/yyyy or m/d/yyyy per `order`, 5-digit Excel
    serials, and "2025" only with allow_year. Two-digit years are refused, and
    (unless not `bounded`) dates outside model.FIRST_DATE..LAST_DATE.
    """
    if order not in ("ymd", "dmy", "mdy"):
        raise ValueError(f"date order must be ymd, dmy or mdy, not {order!r}")
    t = f"lower(trim({column_sql}))"
    ts = _literal(_ISO_TS)
    first, second = ("2", "1") if order == "mdy" else ("1", "2")
    dmy = _literal(_DMY)
    q = _literal(_QUARTER)
    day_month = [] if order == "ymd" else [
        (f"regexp_full_match({t}, {dmy})",
         f"try_cast(regexp_extract({t}, {dmy}, 3) || '-' || regexp_extract({t}, {dmy}, {second})"
         f" || '-' || regexp_extract({t}, {dmy}, {first}) as date)")]
    quarter_year = f"coalesce(nullif(regexp_extract({t}, {q}, 1), ''), regexp_extract({t}, {q}, 4))"
    quarter_no = f"coalesce(nullif(regexp_extract({t}, {q}, 2), ''), regexp_extract({t}, {q}, 3))"
    cases = [
        (f"regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}')", f"try_cast({t} as date)"),
        (f"regexp_full_match({t}, '[0-9]{{4}}/[0-9]{{1,2}}/[0-9]{{1,2}}')",
         f"try_cast(replace({t}, '/', '-') as date)"),
        (f"regexp_full_match({t}, {ts})",
         f"cast(try_cast(regexp_extract({t}, {ts}, 1) || ' ' || regexp_extract({t}, {ts}, 2) as timestamp)"
         f" - {_offset_minutes(t)} * interval 1 minute as date)"),
        (f"regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{1,2}}')", f"try_cast({t} || '-01' as date)"),
        (f"regexp_full_match({t}, {q})",
         f"try_cast({quarter_year} || '-' || (cast({quarter_no} as integer) * 3 - 2) || '-01' as date)"),
        *day_month,
        (f"regexp_full_match({t}, '[0-9]{{5}}')",
         f"cast(date '1899-12-30' + cast({t} as integer) as date)"),
    ]
    if allow_year:
        cases.append((f"regexp_full_match({t}, '[0-9]{{4}}')", f"try_cast({t} || '-01-01' as date)"))
    is_null = missing_sql(column_sql)
    # ISO dates are the bulk of a large file: a cast is far cheaper than the regexes
    # (and LIKE than length + substr). A leading digit keeps out what the cast
    # alone would take but the patterns refuse: "-025-01-01" (26 BC), " 025-01-01".
    # ISO text compares like its date, so the range costs the fast path one string
    # comparison; other shapes are kept when in range. The slow parse sits in a
    # one-element list filtered by a lambda: written once in the SQL, where a
    # clamp (nullif of greatest of least) made DuckDB bind its regexes four times.
    first, last = _literal(f"{FIRST_DATE:%Y-%m-%d}"), _literal(f"{LAST_DATE:%Y-%m-%d}")
    fast = (f"when {column_sql} like '____-__-__' and substr({column_sql}, 1, 1) between '0' and '9'"
            + (f" and {column_sql} between {first} and {last}" if bounded else "")
            + f" then try_cast({column_sql} as date) ")
    slow = "(case " + " ".join(f"when {c} then {v}" for c, v in cases) + " end)"
    if bounded:
        slow = f"list_filter([{slow}], lambda d: d between date {first} and date {last})[1]"
    value = f"(case when {column_sql} is null then null {fast}when {is_null} then null else {slow} end)"
    invalid = f"(case when {value} is not null then false else not {is_null} end)"
    return value, invalid


def _slash_shapes(con, table: str, column: str) -> tuple:
    """(max first part, max second part, first line with first > 12, with second > 12,
    first slashed line, slashed count) over the d/m/y-shaped cells of a column."""
    col = quote_identifier(column)
    t = f"trim({col})"
    dmy = _literal(_DMY)
    # A d/m/y date has its first separator 2nd or 3rd: the bulk of a column
    # (ISO dates, numbers, words) is ruled out without the regex, and without
    # trim (which copies every string), since trim only removes spaces.
    maybe = " or ".join(f"substr({col}, {i}, 1) in ('/', '.', '-')" for i in (2, 3)) + \
        f" or starts_with({col}, ' ')"
    part = lambda n: f"try_cast(regexp_extract(t, {dmy}, {n}) as integer)"
    return con.execute(f"""
        with cells as (select "_line" as line, {t} as t from {quote_identifier(table)}
                       where {col} is not null and ({maybe})),
        slashed as (select line, {part(1)} as a, {part(2)} as b from cells
                    where regexp_full_match(t, {dmy}))
        select max(a), max(b), min(line) filter (where a > 12), min(line) filter (where b > 12),
               min(line), count(*)
        from slashed""").fetchall()[0]


def _iso_shapes(con, table: str, column: str) -> tuple[int | None, int]:
    """(first line, count) of the cells of a column starting like an ISO date (yyyy-)."""
    col = quote_identifier(column)
    return con.execute(f"""
        select min("_line"), count(*) from {quote_identifier(table)}
        where {col} is not null and regexp_full_match(trim({col}), '[0-9]{{4}}-.*')""").fetchall()[0]


def date_order(con, raw, column: str, prefer: str | None = None) -> str:
    """"ymd", "dmy" or "mdy" for a column of `raw` (a RawTable), decided over the whole column.

    A first part above 12 settles day-first, a second part above 12
    month-first. Refuses (InputError) a column holding both, a column mixing
    ISO and d/m/y dates, and an undecidable column unless `prefer` is given.
    """
    max_a, max_b, line_a, line_b, first_slash, n_slash = _slash_shapes(con, raw.table, column)
    where = dict(file=raw.file, sheet=raw.sheet, column=column)
    if not n_slash:
        return "ymd"
    first_iso, n_iso = _iso_shapes(con, raw.table, column)
    if n_iso:
        row = first_slash if n_slash <= n_iso else first_iso
        raise InputError("this column mixes ISO dates (2025-03-01) with dates written like 01/03/2025; "
                         "write every date the same way (ISO is safest)", row=row, **where)
    if max_a > 12 and max_b > 12:
        raise InputError(f"this column has day-first dates (row {line_a}) and month-first dates "
                         f"(row {line_b}); write every date the same way", row=line_b, **where)
    decided = "dmy" if max_a > 12 else "mdy" if max_b > 12 else None
    if decided and prefer and prefer != decided:
        line = line_a if decided == "dmy" else line_b
        raise InputError(f"you asked for {'day-first' if prefer == 'dmy' else 'month-first'} dates "
                         "but this row only makes sense the other way round", row=line, **where)
    if decided or prefer:
        return decided or prefer
    raise InputError("dates such as 03/04/2025 could be day-first or month-first and no day above 12 "
                     "settles it; import again with --dayfirst or --monthfirst (or use ISO dates "
                     "like 2025-04-03)", **where)


def new_table_name() -> str:
    """A fresh name for a staging table (temporary, dropped with the connection)."""
    return f"_raw_{uuid.uuid4().hex[:12]}"


def load_csv(con, path: str, *, table: str, delimiter: str, skip: int, width: int,
             keep: list[tuple[int, str]], first_line: int,
             max_line_bytes: int = 2 * 1024 ** 2) -> int:
    """Load a CSV's data rows (after `skip` lines) into `table`; returns the row count.

    Creates temporary `table`: "_line" plus the `keep` columns (index, name),
    all VARCHAR. Rows whose cells are all empty are left out. Raises
    CsvLoadError (store/staging_errors.py) when DuckDB refuses the file (a line
    past `max_line_bytes` too); the caller words it for the user.
    """
    try:
        return _load_csv(con, path, table=table, delimiter=delimiter, skip=skip, width=width,
                         keep=keep, first_line=first_line, max_line_bytes=max_line_bytes)
    except CSV_READ_ERRORS as exc:
        raise CsvLoadError(str(exc)) from None


def _load_csv(con, path: str, *, table: str, delimiter: str, skip: int, width: int,
              keep: list[tuple[int, str]], first_line: int, max_line_bytes: int) -> int:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    data = f"{table}_data"
    con.execute(f"create temp table {quote_identifier(data)} ("
                + ", ".join(f"c{i} varchar" for i in range(width)) + ")")
    # insert ... select, not create ... as select: only the former takes parameters.
    con.execute(
        f"insert into {quote_identifier(data)} select * from read_csv(?, delim = ?,"
        " quote = '\"', escape = '\"', header = false, skip = ?, all_varchar = true,"
        " strict_mode = true, auto_detect = false, null_padding = false, max_line_size = ?,"
        f" columns = {columns})",
        [path, delimiter, skip, max_line_bytes]).fetchall()   # fetch: DuckDB 2 refuses other work while a result is pending
    # rowid follows the file's order in a freshly created table: the user's line
    # number comes for free, where row_number() over () would cost a second pass.
    picked = ", ".join(f"c{i} as {quote_identifier(name)}" for i, name in keep)
    # read_csv gives NULL for an empty field, so coalesce finds all-empty rows without a trim.
    not_blank = "coalesce(" + ", ".join(f"c{i}" for i in range(width)) + ") is not null"
    # A view cannot take parameters; first_line is an int we computed, never user text.
    con.execute(f"create temp view {quote_identifier(table)} as select cast(rowid + {int(first_line)}"
                f" as integer) as \"_line\", {picked} from {quote_identifier(data)} where {not_blank}")
    return con.execute(f"select count(*) from {quote_identifier(table)}").fetchall()[0][0]


def first_long_cell(con, table: str, columns: list[str],
                    max_chars: int) -> tuple[str, int, int] | None:
    """(column, line, characters) of the first cell of a staged table longer than
    `max_chars` characters, or None. One pass over byte lengths (constant time
    per cell); characters are counted only where the bytes are too many."""
    if not columns:
        return None
    quoted = [quote_identifier(c) for c in columns]
    longest = con.execute(f"select {', '.join(f'max(strlen({c}))' for c in quoted)} "
                          f"from {quote_identifier(table)}").fetchall()[0]
    found = []
    for column, q, size in zip(columns, quoted, longest, strict=True):
        if size is not None and size > max_chars:
            row = con.execute(f"select \"_line\", length({q}) from {quote_identifier(table)} "
                              f"where strlen({q}) > ? and length({q}) > ? "
                              f"order by \"_line\" limit 1", [max_chars, max_chars]).fetchall()
            found += [(row[0][0], column, row[0][1])] if row else []
    return None if not found else (min(found)[1], min(found)[0], min(found)[2])


def first_filled_cell(con, table: str, positions: list[int],
                      first_line: int) -> tuple[int, int] | None:
    """(position, line) of the first non-empty cell among the CSV columns at `positions`, or None.

    Looks at the data table behind a `load_csv` view, which keeps every column
    of the file, including those the view leaves out.
    """
    for position in positions:
        row = con.execute(f"select min(rowid) from {quote_identifier(table + '_data')} "
                          f"where nullif(trim(c{int(position)}), '') is not null").fetchall()[0]
        if row[0] is not None:
            return position, row[0] + first_line
    return None


def number_text_sql(column: str) -> str:
    """SQL of a double column's text by excel_cells.number_texts' rule: a whole
    number below 1e15 bare ("12"), any other its shortest round-trip text
    (DuckDB's cast writes Python's repr: "0.1", "1e+16"); NULL for NaN."""
    return (f"case when isnan({column}) then null when {column} = trunc({column}) and "
            f"abs({column}) < 1e15 then cast(cast({column} as bigint) as varchar) "
            f"else cast({column} as varchar) end")


def load_frame(con, frame: pandas.DataFrame, *, table: str, append: bool = False) -> int:
    """Copy a frame of text ("_line" first) into temporary `table` (created, or
    added to with `append`); returns the frame's row count. A float64 column
    (excel_cells' numbers) becomes text by number_text_sql."""
    view = f"{table}_frame"
    con.register(view, frame)
    try:
        casts = ", ".join(
            (number_text_sql(quote_identifier(c)) if frame[c].dtype == "float64" else
             f"cast({quote_identifier(c)} as varchar)") + f" as {quote_identifier(c)}"
            for c in frame.columns[1:])
        into = f"insert into {quote_identifier(table)}" if append else \
            f"create temp table {quote_identifier(table)} as"
        con.execute(f"{into} select cast(\"_line\" as integer) as \"_line\""
                    f"{', ' if casts else ''}{casts} from {quote_identifier(view)}")
    finally:
        con.unregister(view)
    return len(frame)


_COMMA_DECIMAL = r"^[^0-9,.]*[0-9 .]*[0-9],[0-9]+(?:[eE][-+]?[0-9]+)?[^0-9,.]*$"
_COMMA_THOUSANDS = r"^[^0-9,.]*[0-9]{1,3}(?:,[0-9]{3})+[^0-9,.]*$"
_DOT_THOUSANDS = r"^[^0-9,.]*[0-9]{1,3}(?:\.[0-9]{3})+[^0-9,.]*$"
_DOT_ONLY = r"^[^0-9,]*[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?[^0-9,.]*$"


def decimal_evidence(con, table: str, columns: list[str], *, dot_groups: bool = False
                     ) -> tuple[tuple[str, int, str] | None, tuple[str, int, str] | None]:
    """((column, line, text) of the first decimal-comma cell, the same of the first dot-decimal cell).

    A decimal-comma cell has a comma followed by digits that is not a valid
    thousands group ("5,5", "1.234,5"); with `dot_groups` (files separated by
    ";" or tab) dot thousands groups ("1.234", "2.500.000") count as well. A
    dot-decimal cell has a single "." and no comma ("5.5"; without
    `dot_groups` also "5.555"), which a decimal-comma file cannot read.
    Dot-decimal cells are looked for only once decimal-comma evidence was
    found: (None, None) when there is none. Ties on a line go to the first column.
    """
    if not columns:
        return None, None
    quoted = [quote_identifier(c) for c in columns]
    groups = lambda c: f"regexp_full_match({c}, {_literal(_DOT_THOUSANDS)})"
    # No trim: each pattern's outer [^0-9,.]* takes surrounding spaces. The
    # contains() guards keep the regexes off cells that cannot match.
    commas = [f"case when contains({c}, ',') then regexp_full_match({c}, {_literal(_COMMA_DECIMAL)})"
              f" and not regexp_full_match({c}, {_literal(_COMMA_THOUSANDS)})"
              + (f" when contains({c}, '.') then {groups(c)}" if dot_groups else "")
              + " else false end" for c in quoted]
    first_comma = _first_cell(con, table, columns, commas)
    if first_comma is None:
        return None, None
    dots = [f"case when contains({c}, '.') and not contains({c}, ',') then "
            f"regexp_full_match({c}, {_literal(_DOT_ONLY)})"
            + (f" and not {groups(c)}" if dot_groups else "") + " else false end"
            for c in quoted]
    return first_comma, _first_cell(con, table, columns, dots)


def _first_cell(con, table: str, columns: list[str], conditions: list[str]
                ) -> tuple[str, int, str] | None:
    """(column, line, text) of the earliest cell where its column's condition holds, or None."""
    found = [(line, index) for index, line in enumerate(_first_lines(con, table, conditions))
             if line is not None]
    if not found:
        return None
    line, index = min(found)
    text = con.execute(f"select {quote_identifier(columns[index])} from {quote_identifier(table)}"
                       " where \"_line\" = ?", [line]).fetchall()[0][0]
    return columns[index], line, text


def _first_lines(con, table: str, conditions: list[str]) -> list[int | None]:
    """The first "_line" where each condition holds (None where it never does), in one pass."""
    picks = ", ".join(f"min(\"_line\") filter (where {c})" for c in conditions)
    return list(con.execute(f"select {picks} from {quote_identifier(table)}").fetchall()[0])


def drop_table(con, table: str) -> None:
    """Drop a staging table (and the data table behind a CSV view); quiet when already gone."""
    views = {r[0] for r in con.execute(
        "select view_name from duckdb_views() where view_name = ?", [table]).fetchall()}
    if views:
        con.execute(f"drop view {quote_identifier(table)}")
    else:
        con.execute(f"drop table if exists {quote_identifier(table)}")
    con.execute(f"drop table if exists {quote_identifier(table + '_data')}")


def _parsed(con, texts, expressions: tuple[str, str]) -> pandas.DataFrame:
    value, invalid = expressions
    frame = con.execute(
        f"with cells as (select unnest(?::varchar[]) as t, unnest(range(len(?::varchar[]))) as i)"
        f" select t as text, {value} as value, {invalid} as invalid from cells order by i",
        [list(texts), list(texts)]).df()
    return frame


def parse_numbers(con, texts, decimal_comma: bool = False) -> pandas.DataFrame:
    """DataFrame[text, value, invalid]: number_sql applied to `texts` (for tests and previews)."""
    return _parsed(con, texts, number_sql('t', decimal_comma))


def parse_dates(con, texts, order: str = "ymd", *, allow_year: bool = False,
                bounded: bool = True) -> pandas.DataFrame:
    """DataFrame[text, value, invalid]: date_sql applied to `texts` (for tests and previews)."""
    return _parsed(con, texts, date_sql('t', order, allow_year=allow_year, bounded=bounded))


def refused_cell(con, text: str | None, kind: str) -> str:
    """Why a cell that failed number_sql or date_sql (`kind` "number" or "date") was
    refused, for a message: "'abc' is not a number", "'1e309' is beyond the largest
    number ...", "'9999-12-31' is outside the dates Lodestar accepts (...)". Long
    text is shortened."""
    shown = text if text is None else shortened(text, 60)
    if kind == "number":
        if text is not None and _overflows(text):
            largest = f"{LARGEST_NUMBER:.0e}".replace("+", "")
            return (f"'{shown}' is beyond the numbers Lodestar stores (smaller than {largest} "
                    "in size); check the exponent")
        return f"'{shown}' is not a number"
    # Out of range if some date order reads it as a date once the range is lifted.
    if text is not None and any(
            parse_dates(con, [text], order, allow_year=True, bounded=False)["value"].notna().iloc[0]
            for order in ("ymd", "dmy", "mdy")):
        return (f"'{shown}' is outside the dates Lodestar accepts ({FIRST_DATE:%Y-%m-%d} to "
                f"{LAST_DATE:%Y-%m-%d})")
    return f"'{shown}' is not a date"


def _overflows(text: str) -> bool:
    """True for number text whose digits are a finite-looking number of LARGEST_NUMBER or more."""
    digits = text.strip().lower().replace(",", "").replace("%", "").replace("−", "-")
    digits = digits.strip("()$€£¥ +-")          # signs and currency marks, in any order
    if "_" in digits or "inf" in digits:         # float() takes both; number_sql does not
        return False
    try:
        return abs(float(digits)) >= LARGEST_NUMBER
    except ValueError:
        return False


def typed_selects(roles: dict[str, str], types: dict[str, str], decimal_comma: bool,
                  orders: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """(value SQL, is-bad SQL, raw column SQL) per role of a definition table, for
    writes.definition_rows: numbers and dates parsed by the history rules
    (dates in `orders[role]`), other columns trimmed text."""
    selects = {}
    for name, column in roles.items():
        q = quote_identifier(column)
        if types.get(name) == "number":
            selects[name] = (*number_sql(q, decimal_comma), q)
        elif types.get(name) == "date":
            selects[name] = (*date_sql(q, orders[name]), q)
        else:
            selects[name] = (f"nullif(trim({q}), '')", "false", q)
    return selects


def column_date_sql(column: str, order: str, *, allow_year: bool = False) -> str:
    """The SQL of a staged column's dates parsed in `order` (for HistorySource)."""
    return date_sql(quote_identifier(column), order, allow_year=allow_year)[0]
