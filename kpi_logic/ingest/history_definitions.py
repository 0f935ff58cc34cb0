"""Definitions for the metrics a history import brings that nobody defined:
unit, aggregation and department from the history itself (rules in
inference.py), and the sentences that say what was chosen and how to change
it. An explicit definition always wins: only metrics with no definition, or
still inferred and too short to judge, are touched.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kpi_logic.domain.model import Metric
from kpi_logic.ingest import inference
from kpi_logic.ingest.inference import Choice, Marks, Shape
from kpi_logic.store import Store, writes_history
from kpi_logic.store.writes_history import HistorySource

MAX_NOTES = 12    # names or warnings in a result's notes; details hold every choice


@dataclass(frozen=True)
class FromHistory:
    """Metrics to write (new, or decided now), notes, and every choice as a dict."""
    metrics: list[Metric] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    choices: list[dict] = field(default_factory=list)


def metrics_from_history(store: Store, source: HistorySource,
                         names: list[str], batch_id: int, *, department: str | None,
                         dimension: str | None) -> FromHistory:
    """Definitions for the metrics among `names` nobody defined, judged on
    their history as stored under `batch_id` (so call it after the rows are
    written): new metrics, and metrics inferred earlier from too few dates
    that now have enough. `department` is given to metrics no row names."""
    known = store.definitions.metrics()
    unknown = [n for n in names if n not in known]
    inferred = [n for n in store.definitions.inferred_metric_names([n for n in names if n in known])
                if known[n].unit != "percent"]
    # Decided once: only those that had too few dates before this import are judged again.
    pending = sorted(set(inferred) - store.history.dated_before(inferred, batch_id,
                                                                 inference.MIN_DATES))
    if not unknown and not pending:
        return FromHistory()
    shapes = store.history.shapes(unknown + pending)
    metrics, choices, notes, unit_notes = _new_metrics(store, source, unknown, shapes,
                                                       department, dimension)
    for name in pending:
        stored = known[name]
        choice = inference.aggregation_choice(name, stored.unit, _shape(shapes, name))
        if not choice.final:
            continue        # still too short to judge
        choices.append(choice)
        notes.append(inference.choice_note(choice, was=stored.aggregation))
        if choice.aggregation != stored.aggregation:
            metrics.append(Metric(**{**asdict(stored), "aggregation": choice.aggregation}))
    return FromHistory(metrics, _notes(choices) + _capped(unit_notes),
                       [_choice_dict(c, text) for c, text in zip(choices, notes, strict=True)])


def _new_metrics(store: Store, source: HistorySource, names: list[str], shapes: dict,
                 department: str | None, dimension: str | None) -> tuple[list, ...]:
    """(metrics, choices, choice sentences, unit and department notes) for
    metrics nobody defined before this import."""
    hints = writes_history.metric_hints(store.staging, source, names) if names else {}
    metrics, choices, notes, unit_notes = [], [], [], []
    for name in names:
        cells, percent, currency, *examples, first, last = hints.get(
            name, (0, 0, 0, None, None, None, None, None))
        unit, unit_note = inference.unit_choice(name, Marks(cells, percent, currency, *examples))
        choice = inference.aggregation_choice(name, unit, _shape(shapes, name))
        metrics.append(Metric(name=name, department=first or department, unit=unit,
                              aggregation=choice.aggregation, dimension_name=dimension))
        choices.append(choice)
        notes.append(inference.choice_note(choice))
        unit_notes += [unit_note] if unit_note else []
        if first != last:
            unit_notes.append(f"{name}: its rows name more than one department ({first} ... "
                              f"{last}); it is given {first}, the first by name")
    return metrics, choices, notes, unit_notes


def _shape(shapes: dict, name: str) -> Shape:
    row = shapes.get(name)
    return Shape(*row) if row else Shape(values=0, dates=0, low=0.0, high=0.0, zeros=0)


def _notes(choices: list[Choice]) -> tuple[str, ...]:
    """A summary of the choices; each one's reasons are in details["inferred"]."""
    if not choices:
        return ()
    named = "; ".join(f"{c.metric}: {c.aggregation}, "
                      + (f"a {c.shape}" if c.final else "too little history")
                      for c in choices[:MAX_NOTES])
    more = f" and {len(choices) - MAX_NOTES} more" if len(choices) > MAX_NOTES else ""
    final = [c for c in choices if c.final]
    return ((f"metric(s) defined from their history (nobody defined them): {named}{more}; "
             "why each was chosen is in the list of metrics defined from history",)
            + ((inference.override_note(final),) if final else ()))


def _capped(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES], f"... and {len(notes) - MAX_NOTES} more such note(s)")


def _choice_dict(choice: Choice, text: str) -> dict:
    return {"metric": choice.metric, "unit": choice.unit, "aggregation": choice.aggregation,
            "shape": choice.shape, "reason": choice.reason, "final": choice.final, "text": text}
