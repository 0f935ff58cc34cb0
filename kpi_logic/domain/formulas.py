"""Formula metrics: "purchases / website_visitors", "(revenue - cogs) / revenue".

A formula is parsed by a small tokenizer and recursive-descent parser (never
eval): numbers, metric names, + - * /, unary minus and parentheses, with the
usual precedence. Metric names are letters, digits and underscores and are
normalised like headers (lowercase), so "Purchases" and "purchases" are the
same metric. Division by zero gives NaN (undefined), never inf.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_logic.domain.errors import InputError, shortened

# A tree node is a tuple: ("number", float), ("metric", name), ("neg", node)
# or (operator, left, right) with operator one of + - * /.
Node = tuple

# Past these a formula is refused, never computed: Python's recursion (the parser,
# the evaluator, formula metrics built on formula metrics) stays far from its limit.
MAX_FORMULA_DEPTH = 50        # parentheses or signs inside one another; formula metrics on formula metrics
MAX_FORMULA_OPERATORS = 200   # + - * / in one formula

_TOKEN = re.compile(r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?![\w.]))"
                    r"|(?P<name>\d*[^\W\d]\w*)|(?P<op>[-+*/()]))")
_WORD = re.compile(r"[^\s()+\-*/]+")


@dataclass(frozen=True)
class Formula:
    text: str
    tree: Node


# What separates the words of a metric name: every character Python counts as
# white space, dots and dashes. Written out (not \s) so that the store's SQL
# (store.writes_history.metric_name_sql) can use the very same set.
NAME_SEPARATORS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
                   "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000.-")
_SEPARATORS = re.compile("[" + re.escape(NAME_SEPARATORS) + "]+")
# Where Python's lower() differs from DuckDB's: "\u0130" (I with a dot) becomes "i"
# plus a combining dot, and a final capital sigma the final form "\u03c2". Taking
# DuckDB's letters keeps the SQL twin equal to this rule for every character.
_LOWER_AS_SQL = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})


def metric_name(text: object) -> str:
    """A metric name as stored, imported, typed in the CLI and used in formulas:
    lowercase, each run of white space, dots and dashes one "_", none at the ends
    ("Website visitors" and "website-visitors" -> "website_visitors")."""
    lowered = str(text).translate(_LOWER_AS_SQL).lower()
    return _SEPARATORS.sub("_", lowered).strip("_")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, 1-based position) for each token; refuses unknown characters."""
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            where = pos + len(text[pos:]) - len(text[pos:].lstrip())
            word = _WORD.match(text, where)
            raise _syntax_error(text, where + 1, f"'{word.group() if word else text[where]}' "
                                "is not a number, a metric name or an operator")
        kind = match.lastgroup
        start = match.start(kind) + 1
        out.append((kind, match.group(kind), start))
        pos = match.end()
    out.append(("end", "", len(text) + 1))
    return out


def _syntax_error(text: str, position: int, what: str) -> InputError:
    # One sentence: a page shows it beside the field the formula was typed in.
    return InputError(
        f"formula '{shortened(text, 80)}' cannot be read at character {position}: {what} "
        "(write metric names, numbers, + - * / and parentheses, like 'purchases / visitors').")


class _Parser:
    """expression := term (('+'|'-') term)*;  term := unary (('*'|'/') unary)*;
    unary := '-' unary | '+' unary | atom;  atom := number | name | '(' expression ')'."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0
        operators = sum(1 for kind, value, _ in self.tokens if kind == "op" and value in "+-*/")
        if operators > MAX_FORMULA_OPERATORS:
            raise InputError(f"formula '{shortened(text, 80)}' has {operators:,} operators; Lodestar "
                             f"computes formulas of at most {MAX_FORMULA_OPERATORS}. Build it from "
                             "smaller formula metrics.")

    def deeper(self, position: int) -> None:
        """One more level of parentheses or signs; refuses more than MAX_FORMULA_DEPTH."""
        self.depth += 1
        if self.depth > MAX_FORMULA_DEPTH:
            raise _syntax_error(self.text, position, f"parentheses and signs go more than "
                                f"{MAX_FORMULA_DEPTH} levels deep, more than Lodestar computes")

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.at]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node:
        tree = self.expression()
        kind, value, position = self.peek()
        if kind != "end":
            raise _syntax_error(self.text, position, f"unexpected '{value}'")
        return tree

    def expression(self) -> Node:
        tree = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            tree = (op, tree, self.term())
        return tree

    def term(self) -> Node:
        tree = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            tree = (op, tree, self.unary())
        return tree

    def unary(self) -> Node:
        kind, value, _ = self.peek()
        if kind == "op" and value in ("-", "+"):
            self.deeper(self.take()[2])
            inner = self.unary()
            self.depth -= 1
            return ("neg", inner) if value == "-" else inner
        return self.atom()

    def atom(self) -> Node:
        kind, value, position = self.take()
        if kind == "number":
            return ("number", float(value))
        if kind == "name":
            return ("metric", metric_name(value))
        if kind == "op" and value == "(":
            self.deeper(position)
            tree = self.expression()
            self.depth -= 1
            closing = self.take()
            if closing[1] != ")":
                raise _syntax_error(self.text, closing[2], "a ')' is missing")
            return tree
        found = "the end of the formula" if kind == "end" else f"'{value}'"
        raise _syntax_error(self.text, position, f"expected a metric name or a number, found {found}")


def parse_formula(text: str) -> Formula:
    """The parsed formula. Refuses (InputError) empty text and syntax errors, naming the position."""
    if text is None or not str(text).strip():
        raise InputError("the formula is empty: write it like 'purchases / visitors'.")
    return Formula(str(text).strip(), _Parser(str(text).strip()).parse())


def _names(tree: Node) -> set[str]:
    if tree[0] == "metric":
        return {tree[1]}
    if tree[0] == "number":
        return set()
    return set().union(*(_names(child) for child in tree[1:]))


def formula_metrics(formula: Formula) -> frozenset[str]:
    """The metric names the formula uses (normalised)."""
    return frozenset(_names(formula.tree))


def typed_formula(text: str, known: Iterable[str]) -> Formula:
    """A formula someone typed to look at (not one stored with a metric), checked
    against the metric names in `known`. Refuses (InputError, one sentence) empty
    text, syntax errors, a formula without a metric name and unknown names,
    suggesting the closest known ones."""
    formula = parse_formula(text)
    used = formula_metrics(formula)
    if not used:
        raise InputError(f"formula '{shortened(formula.text, 80)}' names no metric: use at "
                         "least one metric name, like 'purchases / visitors'.")
    names = sorted({metric_name(n) for n in known})
    unknown = sorted(used - set(names))
    if unknown:
        close = [repr(c) for c in dict.fromkeys(
            c for u in unknown for c in difflib.get_close_matches(u, names, n=3, cutoff=0.6))]
        hint = (f"; did you mean {', '.join(close[:-1])} or {close[-1]}?" if len(close) > 1
                else f"; did you mean {close[0]}?" if close
                else "; the Metrics catalogue lists every name.")
        raise InputError(f"formula '{shortened(formula.text, 80)}' uses unknown metric "
                         f"{', '.join(repr(shortened(u, 60)) for u in unknown)}{hint}")
    return formula


def formula_unit(formula: Formula, units: Mapping[str, str]) -> str:
    """The unit a formula's values are read in, from the units of the metrics it
    names (`units`: normalised name -> unit): a ratio of like things is a
    percent (purchases / visitors), money over a count stays money (spend /
    customers), a rate times 100 is a plain number (NPS); "number" when unsure."""
    return _unit(formula.tree, {metric_name(n): u for n, u in units.items()}) or "number"


def _unit(tree: Node, units: Mapping[str, str]) -> str | None:
    """A node's unit; None for a bare number (it scales, it has no unit)."""
    kind = tree[0]
    if kind == "number":
        return None
    if kind == "metric":
        return units.get(tree[1], "number")
    if kind == "neg":
        return _unit(tree[1], units)
    left, right = _unit(tree[1], units), _unit(tree[2], units)
    if kind in ("+", "-"):
        return left if right is None or left == right else right if left is None else "number"
    if kind == "*":
        if left is None or right is None:
            scaled = left or right
            return "number" if scaled == "percent" else scaled   # a rate x 100: points
        if "percent" in (left, right):
            return right if left == "percent" else left          # a rate of an amount
        return left if right == "number" else right if left == "number" else "number"
    if right is None or right in ("number", "percent") and left != right:
        return left if left is not None else "number"
    if left == right:
        return "number" if left == "percent" else "percent"     # a ratio of like things
    return "number"


def _divided(left, right):
    # Division by zero is undefined: NaN, so a period with no visitors has no
    # conversion rate instead of an infinite one.
    if isinstance(right, pd.Series):
        return left / right.where(right != 0)
    return left / right if right != 0 else left * np.nan


def _evaluated(tree: Node, columns: Mapping[str, pd.Series]):
    kind = tree[0]
    if kind == "number":
        return tree[1]
    if kind == "metric":
        return columns[tree[1]].astype("float64")
    if kind == "neg":
        return -_evaluated(tree[1], columns)
    left, right = _evaluated(tree[1], columns), _evaluated(tree[2], columns)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    return _divided(left, right)


def formula_value(formula: Formula, values: Mapping[str, float]) -> float | None:
    """The formula over single numbers, by formula_values' rules (None where it
    divides by zero or a component is missing or not finite)."""
    try:
        numbers = {name: np.float64(values[name]) for name in formula_metrics(formula)}
    except (KeyError, TypeError, ValueError):
        return None
    with np.errstate(all="ignore"):
        result = float(_evaluated(formula.tree, numbers))
    return result if math.isfinite(result) else None


def formula_values(formula: Formula, columns: Mapping[str, pd.Series]) -> pd.Series:
    """The formula computed row by row over aligned Series, or a DataFrame's
    columns (float64, NaN where undefined or a component is missing).

    Refuses (InputError) a formula naming a metric missing from `columns`.
    Does not mutate the input Series.
    """
    missing = sorted(formula_metrics(formula) - set(columns))
    if missing:
        raise InputError(f"formula '{formula.text}' uses {', '.join(repr(m) for m in missing)}, "
                         "which has no values here.")
    if isinstance(columns, pd.DataFrame):
        index = columns.index
    else:
        index = next(iter(columns.values())).index if len(columns) else pd.RangeIndex(0)
    result = _evaluated(formula.tree, columns)
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=index, dtype="float64")
    # inf can still arrive from components that are themselves infinite.
    return result.astype("float64").replace([np.inf, -np.inf], np.nan)


def formula_order(metrics: Mapping[str, str | None]) -> list[str]:
    """Metric names ordered so each formula comes after the formulas it uses.

    Refuses (InputError) formulas with problems (see formula_problems).
    """
    problems = formula_problems(metrics)
    if problems:
        raise InputError("some metric formulas cannot be used.", problems=problems)
    uses = _uses(metrics)
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for used in sorted(uses.get(name, ())):
            visit(used)
        ordered.append(name)

    for name in metrics:
        visit(metric_name(name))
    return ordered


def _uses(metrics: Mapping[str, str | None]) -> dict[str, frozenset[str]]:
    """Formula metric -> metrics its formula names (formulas that parse only)."""
    out = {}
    for name, text in metrics.items():
        if text is not None and str(text).strip():
            try:
                out[metric_name(name)] = formula_metrics(parse_formula(text))
            except InputError:
                continue
    return out


def _cycles(uses: Mapping[str, frozenset[str]]) -> list[list[str]]:
    """Each distinct cycle once, as a path that starts and ends at the same name.
    A walk with its own stack: a chain of thousands of formula metrics is no
    deeper for it than one."""
    found, seen, state = [], set(), {}
    for root in sorted(uses):
        if root in state:
            continue
        state[root], path = "open", [root]
        stack = [iter(sorted(uses.get(root, ())))]
        while stack:
            used = next(stack[-1], None)
            if used is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(used) == "open":
                cycle = path[path.index(used):] + [used]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif used not in state:
                state[used] = "open"
                path.append(used)
                stack.append(iter(sorted(uses.get(used, ()))))
    return found


def _chain_depths(uses: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """How many formula metrics deep each formula metric is built (1: its formula
    names base metrics only). Cycles are left to _cycles: a name met again on
    the walk counts as no depth. Same explicit-stack walk as _cycles."""
    depth: dict[str, int] = {}
    for root in sorted(uses):
        if root in depth:
            continue
        path, stack = [root], [iter(sorted(uses[root]))]
        while stack:
            used = next(stack[-1], None)
            if used is None:
                name = path.pop()
                stack.pop()
                depth[name] = 1 + max((depth.get(u, 0) for u in uses[name]), default=0)
            elif used in uses and used not in depth and used not in path:
                path.append(used)
                stack.append(iter(sorted(uses[used])))
    return depth


def formula_problems(metrics: Mapping[str, str | None]) -> list[str]:
    """Messages for every formula that cannot be computed: syntax errors (with
    position), unknown metric names, and cycles (a -> b -> a). Empty when all
    is well. `metrics` maps every known metric name to its formula or None."""
    known = {metric_name(name) for name in metrics}
    problems = []
    for name, text in metrics.items():
        if text is None or not str(text).strip():
            continue
        try:
            used = formula_metrics(parse_formula(text))
        except InputError as exc:
            problems.append(f"metric '{name}': {exc.message}")
            continue
        for unknown in sorted(used - known):
            problems.append(
                f"metric '{name}': formula '{str(text).strip()}' uses unknown metric '{unknown}'. "
                "Define it in the metrics file or correct the name.")
    uses = _uses(metrics)
    cycles = _cycles(uses)
    for cycle in cycles:
        problems.append(
            f"metric '{cycle[0]}': formulas refer to each other in a circle "
            f"({' -> '.join(cycle[:10])}{' -> ...' if len(cycle) > 10 else ''}), so none of them "
            "can be computed. Break the circle.")
    deepest = [] if cycles else sorted(
        ((d, n) for n, d in _chain_depths(uses).items() if d > MAX_FORMULA_DEPTH), reverse=True)
    if deepest:
        depth, name = deepest[0]
        problems.append(
            f"metric '{name}': its formula builds on formula metrics {depth:,} levels deep; "
            f"Lodestar computes at most {MAX_FORMULA_DEPTH} levels. Let formulas use base "
            f"metrics more directly ({len(deepest):,} metric(s) are past the limit).")
    return problems


def formula_components(metrics: Mapping) -> dict[str, frozenset[str]]:
    """The metrics each formula metric is computed from directly (formula metrics only);
    `metrics` maps name -> model.Metric."""
    stored = {metric_name(n): n for n in metrics}
    return {name: frozenset(stored.get(c, c) for c in formula_metrics(parse_formula(m.formula)))
            for name, m in metrics.items() if m.formula}


def with_components(name: str, components: Mapping[str, Iterable[str]]) -> list[str]:
    """`name` and every metric it is computed from, at any depth (cycle-safe)."""
    seen: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(sorted(components.get(current, ()), reverse=True))
    return seen
