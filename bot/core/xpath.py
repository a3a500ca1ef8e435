"""The XLSForm expression language, as far as the forms people really write need it.

`relevant`, `constraint`, `calculation` and `choice_filter` are XPath 1.0 expressions over the
answers. They are parsed once, at import, so that an unknown function or a reference to a
question that does not exist is refused then, not met on a phone. Evaluation follows the
ODK/JavaRosa meaning: answers are strings, `=` compares numbers when either side is a number,
an empty answer is NaN as a number and false as a boolean, dates compare as days since
1970-01-01.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

Value = str | float | bool
EPOCH = date(1970, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ExpressionError(ValueError):
    """An expression that cannot be read, or that uses what is not supported."""


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<ref>\$\{(?P<refname>[A-Za-z_][\w.\-]*)\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<path>\.\./[A-Za-z_][\w\-]*)
  | (?P<dot>\.)
  | (?P<name>[A-Za-z_][\w\-]*(?::[A-Za-z_][\w\-]*)?)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # ref, number, string, op, dot, name, end
    text: str


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(f"cannot read {source[position:position + 12]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "ref":
            tokens.append(Token("ref", match.group("refname")))
        elif kind == "path":  # `../name`, as pyxform writes `or_other` relevance
            tokens.append(Token("ref", match.group("path")[3:]))
        elif kind == "string":
            tokens.append(Token("string", match.group()[1:-1]))
        else:
            assert kind is not None
            tokens.append(Token(kind, match.group()))
    tokens.append(Token("end", ""))
    return tokens


# --- syntax tree --------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Current:
    pass


@dataclass(frozen=True)
class Column:
    """A bare name in a `choice_filter`: a column of the choices sheet (name, a property)."""

    name: str


@dataclass(frozen=True)
class Unary:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | Ref | Current | Column | Unary | Binary | Call

# Binding power of each binary operator (XPath 1.0 precedence).
_BINARY = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
           "+": 5, "-": 5, "*": 6, "div": 6, "mod": 6}
# name → (minimum, maximum number of arguments; None: any)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "selected": (2, 2), "count-selected": (1, 1), "string-length": (0, 1), "regex": (2, 2),
    "today": (0, 0), "if": (3, 3), "coalesce": (2, 2), "concat": (0, None), "int": (1, 1),
    "number": (1, 1), "not": (1, 1), "true": (0, 0), "false": (0, 0),
}


class _Parser:
    def __init__(self, tokens: list[Token], columns: bool) -> None:
        self.tokens = tokens
        self.index = 0
        self.columns = columns

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind not in ("op",):
            raise ExpressionError(f"expected {text!r}, found {token.text or 'the end'!r}")

    def _binary_op(self) -> str | None:
        token = self.peek()
        if token.kind == "op" and token.text in _BINARY:
            return token.text
        if token.kind == "name" and token.text in ("or", "and", "div", "mod"):
            return token.text
        return None

    def expression(self, floor: int = 0) -> Node:
        left = self.unary()
        while True:
            op = self._binary_op()
            if op is None or _BINARY[op] <= floor:
                return left
            self.take()
            left = Binary(op, left, self.expression(_BINARY[op]))

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.take()
            return Unary(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "ref":
            return Ref(token.text)
        if token.kind == "dot":
            return Current()
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "name" and self.peek().text == "(":
            self.take()
            args: list[Node] = []
            if self.peek().text != ")":
                args.append(self.expression())
                while self.peek().text == ",":
                    self.take()
                    args.append(self.expression())
            self.expect(")")
            if token.text not in FUNCTIONS:
                raise ExpressionError(f"unsupported function {token.text}()")
            low, high = FUNCTIONS[token.text]
            if len(args) < low or (high is not None and len(args) > high):
                raise ExpressionError(f"wrong number of arguments for {token.text}()")
            return Call(token.text, tuple(args))
        if token.kind == "name" and self.columns:
            return Column(token.text)
        if token.kind == "name":
            # A bare name would be an XPath path (/data/x, instance(…)): not what XLSForm
            # authors write, and not something the conversation could answer faithfully.
            raise ExpressionError(f"unsupported path {token.text!r}: use ${{name}}")
        raise ExpressionError(f"unexpected {token.text or 'end'!r}")


@functools.lru_cache(maxsize=4096)
def parse(source: str, *, columns: bool = False) -> Node:
    """Parse an expression; raise ExpressionError naming what is wrong. `columns`: bare names
    are the choices sheet's columns (a `choice_filter`). Cached: a form's few expressions are
    evaluated at every step of every conversation."""
    parser = _Parser(tokenize(source), columns)
    node = parser.expression()
    if parser.peek().kind != "end":
        raise ExpressionError(f"unexpected {parser.peek().text!r}")
    return node


def references(node: Node) -> set[str]:
    """The question names an expression reads."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Unary):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Call):
        found: set[str] = set()
        for arg in node.args:
            found |= references(arg)
        return found
    return set()


# --- evaluation ---------------------------------------------------------------------------

def to_number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = value.strip()
    if _DATE.match(text):
        try:
            return float((date.fromisoformat(text) - EPOCH).days)
        except ValueError:
            return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value != ""


def to_string(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value == int(value) else repr(value)
    return value


def _compare(op: str, left: Value, right: Value) -> bool:
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            equal = to_bool(left) == to_bool(right)
        elif isinstance(left, float) or isinstance(right, float):
            equal = to_number(left) == to_number(right)
        else:
            equal = left == right
        return equal if op == "=" else not equal
    a, b = to_number(left), to_number(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


@dataclass
class Context:
    """What an expression sees: the answers so far (strings; select_multiple space-separated),
    the value being checked (`.`), and today's date in the member's time zone."""

    answers: Mapping[str, str]
    current: str = ""
    today: date = EPOCH
    row: Mapping[str, str] = field(default_factory=dict)  # the choice a filter looks at


def evaluate(node: Node, context: Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return context.answers.get(node.name, "")
    if isinstance(node, Current):
        return context.current
    if isinstance(node, Column):
        return context.row.get(node.name, "")
    if isinstance(node, Unary):
        return -to_number(evaluate(node.operand, context))
    if isinstance(node, Binary):
        if node.op == "or":
            return to_bool(evaluate(node.left, context)) or to_bool(evaluate(node.right, context))
        if node.op == "and":
            return (to_bool(evaluate(node.left, context))
                    and to_bool(evaluate(node.right, context)))
        left, right = evaluate(node.left, context), evaluate(node.right, context)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(node.op, left, right)
        return _arithmetic(node.op, to_number(left), to_number(right))
    return _call(node, context)


def _arithmetic(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
        return a / b
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _call(node: Call, context: Context) -> Value:
    name = node.name
    if name == "if":
        chosen = node.args[1] if to_bool(evaluate(node.args[0], context)) else node.args[2]
        return evaluate(chosen, context)
    args: list[Value] = [evaluate(arg, context) for arg in node.args]
    simple: dict[str, Callable[[Sequence[Value]], Value]] = {
        "selected": lambda a: to_string(a[1]).strip() in to_string(a[0]).split(),
        "count-selected": lambda a: float(len(to_string(a[0]).split())),
        "string-length": lambda a: float(len(to_string(a[0] if a else context.current))),
        "regex": lambda a: re.search(to_string(a[1]), to_string(a[0])) is not None,
        "today": lambda a: context.today.isoformat(),
        "coalesce": lambda a: a[0] if to_string(a[0]) != "" else a[1],
        "concat": lambda a: "".join(to_string(v) for v in a),
        "int": lambda a: _int(to_number(a[0])),
        "number": lambda a: to_number(a[0]),
        "not": lambda a: not to_bool(a[0]),
        "true": lambda a: True,
        "false": lambda a: False,
    }
    return simple[name](args)


def _int(number: float) -> float:
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def run(source: str, context: Context) -> Value:
    """Parse and evaluate in one go (tests, the command line)."""
    return evaluate(parse(source), context)


def date_from_days(days: float) -> date:
    return EPOCH + timedelta(days=int(days))
