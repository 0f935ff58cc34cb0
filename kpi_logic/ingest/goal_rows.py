"""Objective and check-in rows turned into validated model dataclasses.

Like definition_rows (whose row helpers this module shares), everything here
is pure: the importer's frame is read, never changed, and a refusal is one
InputError listing every bad row and column.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from kpi_logic.domain.errors import InputError, shortened
from kpi_logic.domain.limits import MAX_NAME_CHARS, MAX_NOTE_CHARS
from kpi_logic.domain.model import (
    CONFIDENCE_WORDS,
    FIRST_DATE,
    KPI,
    LAST_DATE,
    CheckIn,
    KeyResult,
    Objective,
)
from kpi_logic.domain.periods import parse_period, period_label
from kpi_logic.ingest.definition_rows import (
    Source,
    _check_columns,
    _period_label,
    _Problems,
    _required,
    _rows,
    _text,
    _unique,
)

# A cycle names the stretch an objective runs for: a year, half, quarter or month.
_CYCLE = re.compile(r"^(\d{4})(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")
_CONFIDENCE_NUMBER = re.compile(r"^(10|[1-9])(\s*/\s*10)?$")
KR_CHECKIN_GRAINS = ("week", "month", "quarter")


def cycle_text(text: str | None) -> tuple[str | None, str | None]:
    """(the cycle as stored, why it is refused): "2026-q4" -> "2026-Q4"."""
    if text is None:
        return None, None
    cycle = text.strip().upper()
    match = _CYCLE.match(cycle)
    if not match:
        return None, f"'{shortened(text, 40)}' is not a cycle like 2026-Q4, 2026-H2, 2026 or 2026-11"
    if not FIRST_DATE.year <= int(match.group(1)) <= LAST_DATE.year:
        return None, (f"'{text}' is outside the years Lodestar accepts ({FIRST_DATE.year} to "
                      f"{LAST_DATE.year})")
    return cycle, None


def objective_definitions(frame: pd.DataFrame, source: Source,
                          stored: Sequence[Objective] = ()) -> list[Objective]:
    """Objectives from definition rows. A parent must be an objective of these rows
    or a stored one, never the objective itself or one of its own children.
    Refuses empty or overlong names, bad cycles, names defined twice."""
    _check_columns(frame, "objectives", source)
    problems, objectives, lines = _Problems(), [], []
    for row in _rows(frame):
        if not _required(row, ("objective",), problems):
            continue
        name = _text(row["objective"])
        if len(name) > MAX_NAME_CHARS:
            problems.add(row["_line"], "objective", f"is {len(name):,} characters long; an "
                         f"objective's name is at most {MAX_NAME_CHARS} (put the rest in its "
                         "description)")
            continue
        cycle, problem = cycle_text(_text(row.get("cycle")))
        if problem:
            problems.add(row["_line"], "cycle", problem)
            continue
        objectives.append(Objective(
            name=name, owner=_text(row.get("owner")), department=_text(row.get("department")),
            cycle=cycle, description=_text(row.get("description")) or "",
            parent=_text(row.get("parent"))))
        lines.append(row["_line"])
    problems.raise_if_any(source, "objectives")
    _unique(objectives, lambda o: o.name, lines, "objective", source)
    _check_parents(objectives, lines, stored, source)
    return objectives


def _check_parents(objectives: list[Objective], lines: list[int], stored: Sequence[Objective],
                   source: Source) -> None:
    parents = {o.name: o.parent for o in stored}
    parents.update({o.name: o.parent for o in objectives})
    problems = _Problems()
    for objective, line in zip(objectives, lines, strict=True):
        if objective.parent is None:
            continue
        if objective.parent not in parents:
            problems.add(line, "parent", f"'{shortened(objective.parent, 60)}' is not an "
                         "objective; define it in the same table or import it first")
        elif _ancestors(objective.name, parents) is None:
            problems.add(line, "parent", f"'{shortened(objective.parent, 60)}' aligns to this "
                         "objective itself (parents must not go round in a circle)")
    problems.raise_if_any(source, "objectives")


def _ancestors(name: str, parents: dict[str, str | None]) -> list[str] | None:
    """The chain of parents above `name`, or None when it comes back to `name`."""
    chain, current = [], parents.get(name)
    while current is not None:
        if current == name or current in chain:
            return None
        chain.append(current)
        current = parents.get(current)
    return chain


# ---------------------------------------------------------------- check-ins

def confidence_text(text: str | None) -> tuple[str | None, str | None]:
    """(the confidence as stored, why it is refused): "High" -> "high", "7/10" -> "7"."""
    if text is None:
        return None, None
    word = " ".join(text.lower().split())
    if word in CONFIDENCE_WORDS:
        return word, None
    match = _CONFIDENCE_NUMBER.match(word)
    if match:
        return match.group(1), None
    return None, f"'{shortened(text, 40)}' is not a confidence: write low, medium, high or 1 to 10"


def kpi_checkin_period(text: str, kpi: KPI) -> tuple[str | None, str | None]:
    """(the KPI period a check-in is for, why it is refused): a label of the KPI's own
    grain ("2026-11" for a monthly KPI), or a date inside it."""
    label = _period_label(text, kpi.period)
    if label is None:
        return None, f"'{shortened(text, 40)}' is not a period like 2026-11, 2026-Q4 or 2026"
    try:
        grain = parse_period(label)[0]
    except InputError as exc:
        return None, str(exc)
    if grain != kpi.period:
        return None, (f"'{text}' is a {grain}, and the KPI is judged by {kpi.period}: write a "
                      f"{kpi.period} such as {period_label(date.today(), kpi.period)}")
    return label, None


def kr_checkin_period(text: str, kr: KeyResult) -> tuple[str | None, str | None]:
    """(the period a key result's check-in is for, why it is refused): a week, month or
    quarter label, or a date (its week), overlapping the key result's time."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text = period_label(date.fromisoformat(text), "week")
        grain, start, end = parse_period(text.upper())
    except (InputError, ValueError) as exc:
        return None, str(exc)
    if grain not in KR_CHECKIN_GRAINS:
        return None, f"'{text}' is a {grain}: write a week (2026-W49), month or quarter"
    if end < kr.start_date or start > kr.deadline:
        return None, (f"{text.upper()} is outside the key result's time ({kr.start_date} to "
                      f"{kr.deadline})")
    return text.upper(), None


def checked_at(text: str | None) -> tuple[datetime | None, str | None]:
    """(when a check-in was written, why it is refused) from "2026-12-07" or
    "2026-12-07 14:05"; (None, None) when not given."""
    if text is None:
        return None, None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None, f"'{shortened(text, 40)}' is not a date and time like 2026-12-07 14:05"
    if not FIRST_DATE <= when.date() <= LAST_DATE:
        return None, f"'{text}' is outside the dates Lodestar accepts"
    return when.replace(tzinfo=None, microsecond=0), None


def checkin_definitions(frame: pd.DataFrame, source: Source, kpis: Sequence[KPI],
                        key_results: Sequence[KeyResult],
                        now: datetime | None = None) -> list[CheckIn]:
    """Check-ins on KPIs (column kpi) and key results (column key_result, with
    objective when two objectives hold the same title). Refuses unknown or
    ambiguous titles, periods the KPI or key result does not have, a confidence on
    a KPI, empty or overlong notes, one subject and period twice. `now` is the time
    given to a row without one (a re-import keeps the stored time)."""
    _check_columns(frame, "checkins", source)
    now = (now or datetime.now()).replace(microsecond=0)
    found, problems, lines = [], _Problems(), []
    for row in _rows(frame):
        item = _checkin(row, kpis, key_results, now, problems)
        if item is not None:
            found.append(item)
            lines.append(row["_line"])
    problems.raise_if_any(source, "check-ins")
    _unique(found, lambda c: (c.title, c.period) if c.kind == "kpi" else
            (c.objective, c.title, c.period), lines, "check-in (subject and period)", source)
    return found


def _checkin(row: dict, kpis: Sequence[KPI], key_results: Sequence[KeyResult], now: datetime,
             problems: _Problems) -> CheckIn | None:
    line = row["_line"]
    kpi_title, kr_title = _text(row.get("kpi")), _text(row.get("key_result"))
    if (kpi_title is None) == (kr_title is None):
        problems.add(line, "kpi", "name either a KPI (column kpi) or a key result (column "
                     "key_result), not both or neither")
        return None
    if not _required(row, ("period", "note"), problems):
        return None
    note = _text(row["note"])
    if len(note) > MAX_NOTE_CHARS:
        problems.add(line, "note", f"is {len(note):,} characters long; a check-in's note is at "
                     f"most {MAX_NOTE_CHARS:,}")
        return None
    confidence, problem = confidence_text(_text(row.get("confidence")))
    if problem or (confidence and kpi_title):
        problems.add(line, "confidence", problem or "a KPI's check-in has a note only "
                     "(a confidence is for key results)")
        return None
    when, problem = checked_at(_text(row.get("at")))
    if problem:
        problems.add(line, "at", problem)
        return None
    if kpi_title:
        subject = _kpi(kpi_title, kpis)
        if subject is None:
            problems.add(line, "kpi", f"'{shortened(kpi_title, 60)}' is not a KPI title")
            return None
        period, problem = kpi_checkin_period(_text(row["period"]), subject)
        kind, objective, title = "kpi", "", subject.title
    else:
        subject, problem = key_result_named(kr_title, _text(row.get("objective")), key_results)
        if subject is None:
            problems.add(line, "key_result", problem)
            return None
        period, problem = kr_checkin_period(_text(row["period"]), subject)
        kind, objective, title = "key_result", subject.objective, subject.title
    if problem:
        problems.add(line, "period", problem)
        return None
    return CheckIn(kind=kind, objective=objective, title=title, period=period, note=note,
                   confidence=confidence, checked_by=_text(row.get("by")),
                   checked_at=when or now)


def _kpi(title: str, kpis: Sequence[KPI]) -> KPI | None:
    exact = [k for k in kpis if k.title == title]
    if exact:
        return exact[0]
    folded = [k for k in kpis if k.title.casefold() == title.casefold()]
    return folded[0] if len(folded) == 1 else None


def key_result_named(title: str, objective: str | None,
                     key_results: Sequence[KeyResult]) -> tuple[KeyResult | None, str | None]:
    """(the key result with this title, why none): the objective decides between two
    objectives' key results with one title; case does not matter when only one fits."""
    matches = [kr for kr in key_results if kr.title == title] or \
        [kr for kr in key_results if kr.title.casefold() == title.casefold()]
    if objective is not None:
        matches = [kr for kr in matches if kr.objective.casefold() == objective.casefold()]
    if len(matches) == 1:
        return matches[0], None
    if not matches:
        return None, f"'{shortened(title, 60)}' is not a key result" + (
            f" of objective '{shortened(objective, 60)}'" if objective else "")
    return None, (f"'{shortened(title, 60)}' is a key result of several objectives "
                  f"({', '.join(sorted(kr.objective for kr in matches))}); name the objective")
