"""The rule condition language: a small, safe expression format parsed here, never `eval`-ed.

    amount > 5000 and channel == "online"
    country in ["KP", "IR"] or (customer_nb_tx_1d >= 20 and not channel == "pos")

Names are transaction fields and features; literals are numbers, "strings" and [lists]. A
comparison with a missing value (no country given) is false, so a rule never fires on absent data.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "And",
    "Compare",
    "Condition",
    "ConditionError",
    "Not",
    "Or",
    "Test",
    "compile_condition",
    "evaluate",
    "parse",
    "render",
]

Value = float | str | tuple[float | str, ...]
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "in", "not in")


class ConditionError(ValueError):
    """The text is not a valid condition; the message says where."""


@dataclass(frozen=True)
class Compare:
    name: str
    op: str
    value: Value


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or:
    left: Condition
    right: Condition


Condition = Compare | Not | And | Or

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"[^"\\]*")
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<punct>[()\[\],])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConditionError(f"unexpected text at position {pos + 1}: {text[pos : pos + 12]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value in _KEYWORDS:
            kind = "keyword"
        out.append((kind, value))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, names: frozenset[str] | None) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.names = names

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            wanted = value or kind
            found = "the end" if token is None else repr(token[1])
            raise ConditionError(f"expected {wanted} but found {found}")
        self.pos += 1
        return token[1]

    def accept(self, kind: str, value: str) -> bool:
        if self.peek() == (kind, value):
            self.pos += 1
            return True
        return False

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError("the condition is empty")
        condition = self.disjunction()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()[1]!r} after a complete condition")  # type: ignore[index]
        return condition

    def disjunction(self) -> Condition:
        left = self.conjunction()
        while self.accept("keyword", "or"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.accept("keyword", "and"):
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.accept("keyword", "not"):
            return Not(self.negation())
        if self.accept("punct", "("):
            inner = self.disjunction()
            self.take("punct", ")")
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        name = self.take("word")
        if self.names is not None and name not in self.names:
            raise ConditionError(f"unknown field {name!r}")
        if self.accept("keyword", "in"):
            return Compare(name, "in", self.list_literal())
        if self.accept("keyword", "not"):
            self.take("keyword", "in")
            return Compare(name, "not in", self.list_literal())
        op = self.take("op")
        return Compare(name, op, self.scalar())

    def scalar(self) -> float | str:
        token = self.peek()
        if token is not None and token[0] == "number":
            self.pos += 1
            return float(token[1])
        return self.take("string")[1:-1]

    def list_literal(self) -> tuple[float | str, ...]:
        self.take("punct", "[")
        items: list[float | str] = []
        if not self.accept("punct", "]"):
            items.append(self.scalar())
            while self.accept("punct", ","):
                items.append(self.scalar())
            self.take("punct", "]")
        return tuple(items)


def parse(text: str, names: frozenset[str] | None = None) -> Condition:
    """The condition in `text`; with `names`, any other field name is an error."""
    return _Parser(text, names).parse()


def _literal(value: float | str) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(float(value))


def render(condition: Condition) -> str:
    """Text that parses back to the same condition (fully parenthesised)."""
    if isinstance(condition, Compare):
        if isinstance(condition.value, tuple):
            items = ", ".join(_literal(v) for v in condition.value)
            return f"{condition.name} {condition.op} [{items}]"
        return f"{condition.name} {condition.op} {_literal(condition.value)}"
    if isinstance(condition, Not):
        return f"not ({render(condition.operand)})"
    word = "and" if isinstance(condition, And) else "or"
    return f"({render(condition.left)}) {word} ({render(condition.right)})"


def _compare(actual: object, op: str, expected: Value) -> bool:
    if actual is None:
        return False
    if op in ("in", "not in"):
        assert isinstance(expected, tuple)
        found = any(_equal(actual, item) for item in expected)
        return found if op == "in" else not found
    if op == "==":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if isinstance(actual, str) or isinstance(expected, str | tuple):
        return False  # ordering applies to numbers only
    number = float(actual)  # type: ignore[arg-type]
    if op == "<":
        return number < expected
    if op == "<=":
        return number <= expected
    if op == ">":
        return number > expected
    return number >= expected


def _equal(actual: object, expected: object) -> bool:
    if isinstance(expected, str) or isinstance(actual, str):
        return str(actual) == expected
    return float(actual) == float(expected)  # type: ignore[arg-type]


def evaluate(condition: Condition, values: Mapping[str, object]) -> bool:
    """Whether the condition holds for these field values."""
    if isinstance(condition, Compare):
        return _compare(values.get(condition.name), condition.op, condition.value)
    if isinstance(condition, Not):
        return not evaluate(condition.operand, values)
    if isinstance(condition, And):
        return evaluate(condition.left, values) and evaluate(condition.right, values)
    return evaluate(condition.left, values) or evaluate(condition.right, values)


Test = Callable[[Mapping[str, object]], bool]
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_condition(condition: Condition) -> Test:
    """`evaluate` for this one condition, its tree walked once into nested functions (for
    scoring in real time): the same answer for every input, without re-dispatching on node types.
    """
    if isinstance(condition, Compare):
        name, op, expected = condition.name, condition.op, condition.value
        order = _ORDER.get(op)
        if order is not None and isinstance(expected, float | int):
            bound = expected

            def ordered(values: Mapping[str, object]) -> bool:
                actual = values.get(name)
                if actual is None or isinstance(actual, str):
                    return False
                return order(float(actual), bound)  # type: ignore[arg-type]

            return ordered
        return lambda values: _compare(values.get(name), op, expected)
    if isinstance(condition, Not):
        operand = compile_condition(condition.operand)
        return lambda values: not operand(values)
    left, right = compile_condition(condition.left), compile_condition(condition.right)
    if isinstance(condition, And):
        return lambda values: left(values) and right(values)
    return lambda values: left(values) or right(values)
