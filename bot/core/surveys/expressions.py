"""Expression evaluation: the XLSForm expression language (XPath 1.0 with ODK's functions).

`relevant`, `constraint`, `calculation`, `required`, `default` and `choice_filter` are XPath
expressions over the answers. They are parsed once, at import, so that an unknown function or a
reference to a question that does not exist is refused then, not met on a phone. Evaluation
follows the ODK/JavaRosa meaning: answers are strings, `=` compares numbers when either side is
a number, an empty answer is NaN as a number and false as a boolean, dates compare as days
since 1970-01-01. `regex()` runs on RE2 (linear time: a pattern cannot freeze the bot).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.core.surveys.patterns import PatternError, full_match, validate

Value = str | float | bool
EPOCH = date(1970, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?")


class ExpressionError(ValueError):
    """An expression that cannot be read, or that uses what is not supported."""


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<lastsaved>\$\{last-saved\#[A-Za-z_][\w.\-]*\})
  | (?P<ref>\$\{(?P<refname>[A-Za-z_][\w.\-]*)\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*"|“[^”]*”)
  | (?P<path>(?:\.\./|\./|/)(?:[A-Za-z_][\w.\-:]*(?:/|(?=[^\w/:])|$)|\.\./)*)
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,|\[|\]|\|)
  | (?P<parent>\.\.)
  | (?P<dot>\.)
  | (?P<name>[A-Za-z_][\w\-]*(?::[A-Za-z_][\w\-]*)?)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # ref, number, string, op, path, dot, parent, name, end
    text: str


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {source[position:position + 12]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "ref":
            tokens.append(Token("ref", match.group("refname")))
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
    """A bare name in a `choice_filter` or a lookup's predicate: a column of the row."""

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


@dataclass(frozen=True)
class Lookup:
    """`instance('list')/root/item[filter]/field`: rows of a choice list or external data."""

    instance: str
    filter: Node | None
    field: str | None


Node = Literal | Ref | Current | Column | Unary | Binary | Call | Lookup

# Binding power of each binary operator (XPath 1.0 precedence).
_BINARY = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
           "+": 5, "-": 5, "*": 6, "div": 6, "mod": 6}
# name → (minimum, maximum number of arguments; None: any). ODK's function reference.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "selected": (2, 2), "count-selected": (1, 1), "selected-at": (2, 2),
    "jr:choice-name": (2, 2), "string-length": (0, 1), "regex": (2, 2), "today": (0, 0),
    "now": (0, 0), "if": (3, 3), "coalesce": (2, 2), "concat": (0, None), "int": (1, 1),
    "number": (1, 1), "not": (1, 1), "true": (0, 0), "false": (0, 0), "boolean": (1, 1),
    "boolean-from-string": (1, 1), "string": (0, 1), "substr": (2, 3), "substring": (2, 3),
    "substring-before": (2, 2), "substring-after": (2, 2), "contains": (2, 2),
    "starts-with": (2, 2), "ends-with": (2, 2), "translate": (3, 3),
    "normalize-space": (0, 1), "join": (1, None), "round": (1, 2), "floor": (1, 1),
    "ceiling": (1, 1), "abs": (1, 1), "pow": (2, 2), "sqrt": (1, 1), "exp": (1, 1),
    "exp10": (1, 1), "log": (1, 1), "log10": (1, 1), "sin": (1, 1), "cos": (1, 1),
    "tan": (1, 1), "asin": (1, 1), "acos": (1, 1), "atan": (1, 1), "atan2": (2, 2),
    "pi": (0, 0), "random": (0, 0), "uuid": (0, 1), "min": (1, None), "max": (1, None),
    "sum": (1, 1), "count": (1, 1), "count-non-empty": (1, 1), "position": (0, 1),
    "indexed-repeat": (3, 5), "once": (1, 1), "date": (1, 1), "date-time": (1, 1),
    "decimal-date-time": (1, 1), "decimal-time": (1, 1), "format-date": (2, 2),
    "format-date-time": (2, 2), "pulldata": (4, 4), "instance": (1, 1), "current": (0, 0),
    "checklist": (2, None), "weighted-checklist": (3, None), "version": (0, 0),
    "area": (1, 1), "distance": (1, None), "geofence": (2, 2), "digest": (2, 3),
    "base64-decode": (1, 1),
}
# Functions over every value of a repeated question (a node-set in XPath).
AGGREGATES = frozenset({"sum", "count", "count-non-empty", "min", "max", "join"})


def _last_step(path: str) -> str | None:
    steps = [s for s in path.split("/") if s and s not in (".", "..")]
    return steps[-1] if steps else None


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

    def _predicate(self) -> Node | None:
        if self.peek().text != "[":
            return None
        self.take()
        saved, self.columns = self.columns, True
        inner = self.expression()
        self.columns = saved
        self.expect("]")
        return inner

    def _lookup(self, instance: str) -> Node:
        path = self.take()
        if path.kind != "path" or path.text.strip("/") not in ("root/item", "root/item/"):
            raise ExpressionError(f"unsupported path after instance('{instance}'): "
                                  "use instance('x')/root/item[…]/name")
        condition = self._predicate()
        field_name = None
        if self.peek().kind == "path":
            field_name = _last_step(self.take().text)
        return Lookup(instance, condition, field_name)

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "ref":
            return Ref(token.text)
        if token.kind == "lastsaved":
            # The member's previous submission of this form: none is kept as a model for
            # the next one (each campaign asks once), so empty, as ODK's first submission.
            return Literal("")
        if token.kind == "path":
            # /data/group/name, ./name, ../name: XLSForm names are unique, the last step
            # names the question.
            last = _last_step(token.text)
            if last is None:
                return Current()
            if self.columns and token.text.startswith("./"):
                return Column(last)  # a filter's row
            # `./x` on a group names its question x (pyxform resolves it so).
            return Ref(last)
        if token.kind in ("dot", "parent"):
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
            if token.text == "instance":
                if not isinstance(args[0], Literal):
                    raise ExpressionError("instance() takes a name in quotes")
                return self._lookup(str(args[0].value))
            if token.text == "current":
                if self.peek().kind == "path":
                    last = _last_step(self.take().text)
                    return Ref(last) if last else Current()
                return Current()
            if token.text == "digest" and any(
                    isinstance(arg, Literal) and str(arg.value).strip().upper() not in known
                    for arg, known in zip(args[1:], (_DIGESTS, ("BASE64", "HEX")),
                                          strict=False)):
                raise ExpressionError("digest() takes MD5, SHA-1, SHA-256, SHA-384 or SHA-512,"
                                      " then 'base64' or 'hex'")
            if token.text == "regex" and isinstance(args[1], Literal):
                try:
                    validate(to_string(args[1].value))
                except PatternError as exc:
                    raise ExpressionError(str(exc)) from exc
            return Call(token.text, tuple(args))
        if token.kind == "name":
            # In a filter, a column of the row; elsewhere a path relative to the question
            # itself, which has no children: empty, as in ODK (`calculation: yes`).
            if self.peek().kind == "path" and not self.columns:
                self.take()
                return Column(token.text)
            return Column(token.text)
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
    if isinstance(node, Lookup) and node.filter is not None:
        return references(node.filter)
    return set()


def functions(node: Node) -> set[str]:
    """The functions an expression calls."""
    if isinstance(node, Unary):
        return functions(node.operand)
    if isinstance(node, Binary):
        return functions(node.left) | functions(node.right)
    if isinstance(node, Call):
        found = {node.name}
        for arg in node.args:
            found |= functions(arg)
        return found
    return set()


# --- evaluation ---------------------------------------------------------------------------

def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    if _DATETIME.match(text):
        moment = _moment(text)
        if moment is None:
            return math.nan
        offset = moment.utcoffset() or timedelta(0)
        local = moment.replace(tzinfo=None) - datetime(1970, 1, 1)
        return (local + offset * 0).total_seconds() / 86400
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
    the value being checked (`.`), today's date in the member's time zone, and for repeats
    every iteration's values (`lists`) and the current iteration (`position`)."""

    answers: Mapping[str, str]
    current: str = ""
    today: date = EPOCH
    row: Mapping[str, str] = field(default_factory=dict)  # the choice a filter looks at
    lists: Mapping[str, Sequence[str]] = field(default_factory=dict)
    position: int = 0
    instances: Mapping[str, Sequence[Mapping[str, str]]] = field(default_factory=dict)
    now: datetime | None = None
    choice_label: Callable[[str, str], str] | None = None  # (question, choice name) → label
    # A repeated question's values with their iteration paths, outermost first.
    indexed: Callable[[str], Sequence[tuple[tuple[int, ...], str]]] | None = None
    version: str = ""  # the form's version (settings sheet)


def evaluate(node: Node, context: Context) -> Value:
    """The expression's value; an operation that cannot be done on these answers (a date
    beyond the calendar, an invalid pattern from an answer) is empty, as a failed
    expression in ODK leaves its field empty, and never stops the conversation."""
    try:
        return _evaluate(node, context)
    except (ValueError, ArithmeticError, IndexError, KeyError, RecursionError,
            binascii.Error):
        return ""


def _evaluate(node: Node, context: Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        if node.name in context.answers:
            return context.answers[node.name]
        values = context.lists.get(node.name)
        return values[0] if values else ""
    if isinstance(node, Current):
        return context.current
    if isinstance(node, Column):
        return context.row.get(node.name, "")
    if isinstance(node, Unary):
        return -to_number(_evaluate(node.operand, context))
    if isinstance(node, Binary):
        if node.op == "or":
            return (to_bool(_evaluate(node.left, context))
                    or to_bool(_evaluate(node.right, context)))
        if node.op == "and":
            return (to_bool(_evaluate(node.left, context))
                    and to_bool(_evaluate(node.right, context)))
        left, right = _evaluate(node.left, context), _evaluate(node.right, context)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(node.op, left, right)
        return _arithmetic(node.op, to_number(left), to_number(right))
    if isinstance(node, Lookup):
        rows = _rows(node, context)
        if not rows:
            return ""
        return rows[0].get(node.field, "") if node.field else rows[0].get("name", "")
    return _call(node, context)


def _rows(node: Lookup, context: Context) -> list[Mapping[str, str]]:
    rows = context.instances.get(node.instance, ())
    if node.filter is None:
        return list(rows)
    found: list[Mapping[str, str]] = []
    for row in rows:
        inner = Context(context.answers, context.current, context.today, row, context.lists,
                        context.position, context.instances, context.now, context.choice_label,
                        context.indexed, context.version)
        if isinstance(node.filter, Literal) and isinstance(node.filter.value, float):
            # item[3]: the third row (XPath positions count from 1)
            if len(found) == 0 and rows.index(row) == int(node.filter.value) - 1:
                found.append(row)
            continue
        if to_bool(_evaluate(node.filter, inner)):
            found.append(row)
    return found


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


def _nodeset(node: Node, context: Context) -> list[str]:
    """Every value an argument stands for: a repeated question's values, a lookup's rows,
    else the one value."""
    if isinstance(node, Ref) and node.name in context.lists:
        return list(context.lists[node.name])
    if isinstance(node, Lookup):
        return [r.get(node.field, "") if node.field else r.get("name", "")
                for r in _rows(node, context)]
    return [to_string(_evaluate(node, context))]


def _round(number: float, digits: float = 0) -> float:
    if math.isnan(number) or math.isinf(number):
        return number
    scale = 10.0 ** int(digits)
    # ODK rounds half away from zero (Java's Math.round on the scaled value, for positives).
    return float(math.floor(abs(number) * scale + 0.5)) / scale * (1 if number >= 0 else -1)


def _date_of(value: Value) -> date | None:
    if isinstance(value, str):
        text = value.strip()
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
        moment = _moment(text) if _DATETIME.match(text) else None
        if moment is not None:
            return moment.date()
    number = to_number(value)
    if math.isnan(number) or math.isinf(number):
        return None
    return EPOCH + timedelta(days=math.floor(number))


def _format_date(value: Value, pattern: str, with_time: bool) -> str:
    text = to_string(value)
    moment = _moment(text) if _DATETIME.match(text) else None
    day = moment.date() if moment else _date_of(value)
    if day is None:
        return ""
    clock = moment.time() if moment else time(0, 0)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    codes = {"%Y": f"{day.year:04d}", "%y": f"{day.year % 100:02d}", "%m": f"{day.month:02d}",
             "%n": str(day.month), "%b": months[day.month - 1], "%d": f"{day.day:02d}",
             "%e": str(day.day), "%a": days[day.weekday()], "%H": f"{clock.hour:02d}",
             "%h": str(clock.hour), "%M": f"{clock.minute:02d}", "%S": f"{clock.second:02d}",
             "%3": f"{clock.microsecond // 1000:03d}"}
    if not with_time:
        codes.update({"%H": "", "%h": "", "%M": "", "%S": "", "%3": ""})
    return re.sub(r"%[YymnbdeaHhMS3]", lambda m: codes[m.group()], pattern)


def _selected_at(value: Value, index: Value) -> str:
    parts = to_string(value).split()
    position = to_number(index)
    if math.isnan(position) or not 0 <= int(position) < len(parts):
        return ""
    return parts[int(position)]


def _substr(a: Sequence[Value]) -> str:
    text = to_string(a[0])
    start = max(int(to_number(a[1])) if not math.isnan(to_number(a[1])) else 0, 0)
    if len(a) > 2:
        end = to_number(a[2])
        return text[start:int(end)] if not math.isnan(end) else ""
    return text[start:]


def _pulldata(context: Context, a: Sequence[Value]) -> str:
    name, column, key, wanted = (to_string(v) for v in a)
    for row in context.instances.get(name, ()):
        if row.get(key, "") == wanted:
            return row.get(column, "")
    return ""


def _checklist(a: Sequence[float], weighted: bool) -> bool:
    low, high = a[0], a[1]
    if weighted:
        pairs = list(zip(a[2::2], a[3::2], strict=False))
        total = sum(w for v, w in pairs if v)
    else:
        total = sum(1 for v in a[2:] if v)
    return (low < 0 or total >= low) and (high < 0 or total <= high)


def _call(node: Call, context: Context) -> Value:
    name = node.name
    if name == "if":
        chosen = node.args[1] if to_bool(_evaluate(node.args[0], context)) else node.args[2]
        return _evaluate(chosen, context)
    if name in AGGREGATES:
        values = [v for arg in node.args for v in _nodeset(arg, context)]
        if name == "count":
            return float(len(values))
        if name == "count-non-empty":
            return float(sum(1 for v in values if v != ""))
        if name == "join":
            return to_string(values[0]).join(values[1:]) if values else ""
        numbers = [to_number(v) for v in values]
        if name == "sum":
            return float(sum(numbers))
        if not numbers or any(math.isnan(n) for n in numbers):
            return math.nan
        return min(numbers) if name == "min" else max(numbers)
    if name in ("distance", "area"):
        lines = [_points(v) for arg in node.args for v in _nodeset(arg, context)]
        if any(line is None for line in lines):
            return math.nan
        found = [point for line in lines if line is not None for point in line]
        return _distance(found) if name == "distance" else _area(found)
    if name == "position":
        return float(context.position)
    if name == "indexed-repeat" and len(node.args) > 3 and isinstance(node.args[0], Ref) \
            and context.indexed is not None:
        # indexed-repeat(${q}, ${outer}, i, ${inner}, j): the iteration at each level.
        wanted = tuple(to_number(_evaluate(arg, context)) for arg in node.args[2::2])
        return next((value for path, value in context.indexed(node.args[0].name)
                     if path[:len(wanted)] == wanted), "")
    if name == "indexed-repeat":
        values = _nodeset(node.args[0], context)
        index = to_number(_evaluate(node.args[2], context))
        if math.isnan(index) or not 1 <= int(index) <= len(values):
            return ""
        return values[int(index) - 1]
    if name == "jr:choice-name":
        value = to_string(_evaluate(node.args[0], context))
        target = node.args[1]
        question = to_string(_evaluate(target, context)) if not isinstance(target, Ref) \
            else target.name
        question = question.removeprefix("${").removesuffix("}")
        question = _last_step(question) or question
        return context.choice_label(question, value) if context.choice_label else value
    if name == "once":
        return context.current if context.current != "" else _evaluate(node.args[0], context)
    args: list[Value] = [_evaluate(arg, context) for arg in node.args]
    now = context.now or datetime.combine(context.today, time(0, 0), tzinfo=UTC)
    simple: dict[str, Callable[[Sequence[Value]], Value]] = {
        "selected": lambda a: to_string(a[1]).strip() in to_string(a[0]).split(),
        "count-selected": lambda a: float(len(to_string(a[0]).split())),
        "selected-at": lambda a: _selected_at(a[0], a[1]),
        "string-length": lambda a: float(len(to_string(a[0] if a else context.current))),
        "regex": lambda a: full_match(to_string(a[1]), to_string(a[0])),
        "today": lambda a: context.today.isoformat(),
        "now": lambda a: now.isoformat(timespec="milliseconds"),
        "coalesce": lambda a: a[0] if to_string(a[0]) != "" else a[1],
        "concat": lambda a: "".join(to_string(v) for v in a),
        "int": lambda a: _int(to_number(a[0])),
        "number": lambda a: to_number(a[0]),
        "not": lambda a: not to_bool(a[0]),
        "true": lambda a: True,
        "false": lambda a: False,
        "boolean": lambda a: to_bool(a[0]),
        "boolean-from-string": lambda a: to_string(a[0]).strip() in ("true", "1"),
        "string": lambda a: to_string(a[0] if a else context.current),
        "substr": _substr,
        "substring": lambda a: _substr([a[0], to_number(a[1]) - 1,
                                        *([to_number(a[1]) - 1 + to_number(a[2])]
                                          if len(a) > 2 else [])]),
        "substring-before": lambda a: to_string(a[0]).partition(to_string(a[1]))[0]
        if to_string(a[1]) in to_string(a[0]) else "",
        "substring-after": lambda a: to_string(a[0]).partition(to_string(a[1]))[2],
        "contains": lambda a: to_string(a[1]) in to_string(a[0]),
        "starts-with": lambda a: to_string(a[0]).startswith(to_string(a[1])),
        "ends-with": lambda a: to_string(a[0]).endswith(to_string(a[1])),
        "translate": lambda a: _translate(*(to_string(v) for v in a)),
        "normalize-space": lambda a: " ".join(to_string(a[0] if a else context.current).split()),
        "round": lambda a: _round(to_number(a[0]), to_number(a[1]) if len(a) > 1 else 0),
        "floor": lambda a: float(math.floor(to_number(a[0])))
        if math.isfinite(to_number(a[0])) else to_number(a[0]),
        "ceiling": lambda a: float(math.ceil(to_number(a[0])))
        if math.isfinite(to_number(a[0])) else to_number(a[0]),
        "abs": lambda a: abs(to_number(a[0])),
        "pow": lambda a: _safe(math.pow, to_number(a[0]), to_number(a[1])),
        "sqrt": lambda a: _safe(math.sqrt, to_number(a[0])),
        "exp": lambda a: _safe(math.exp, to_number(a[0])),
        "exp10": lambda a: _safe(lambda x: 10 ** x, to_number(a[0])),
        "log": lambda a: _safe(math.log, to_number(a[0])),
        "log10": lambda a: _safe(math.log10, to_number(a[0])),
        "sin": lambda a: _safe(math.sin, to_number(a[0])),
        "cos": lambda a: _safe(math.cos, to_number(a[0])),
        "tan": lambda a: _safe(math.tan, to_number(a[0])),
        "asin": lambda a: _safe(math.asin, to_number(a[0])),
        "acos": lambda a: _safe(math.acos, to_number(a[0])),
        "atan": lambda a: _safe(math.atan, to_number(a[0])),
        "atan2": lambda a: _safe(math.atan2, to_number(a[0]), to_number(a[1])),
        "pi": lambda a: math.pi,
        "random": lambda a: random.random(),  # ODK's random(), not a secret
        "uuid": lambda a: str(uuid.uuid4()),
        "date": lambda a: (d.isoformat() if (d := _date_of(a[0])) else ""),
        "date-time": lambda a: _date_time(a[0]),
        "decimal-date-time": lambda a: to_number(a[0]),
        "decimal-time": lambda a: _decimal_time(to_string(a[0])),
        "format-date": lambda a: _format_date(a[0], to_string(a[1]), False),
        "format-date-time": lambda a: _format_date(a[0], to_string(a[1]), True),
        "pulldata": lambda a: _pulldata(context, a),
        "checklist": lambda a: _checklist([to_number(a[0]), to_number(a[1]),
                                           *(float(to_bool(v)) for v in a[2:])], False),
        "weighted-checklist": lambda a: _checklist(
            [to_number(a[0]), to_number(a[1]),
             *(float(to_bool(v)) if i % 2 == 0 else to_number(v)
               for i, v in enumerate(a[2:]))], True),
        "version": lambda a: context.version,
        "geofence": lambda a: _inside(_points(to_string(a[0])), _points(to_string(a[1]))),
        "digest": lambda a: _digest(*(to_string(v) for v in a)),
        "base64-decode": lambda a: base64.b64decode(to_string(a[0]), validate=True).decode(
            "utf-8", errors="replace"),
    }
    return simple[name](args)


# --- geography: ODK's geopoint, geotrace and geoshape values ("lat lon alt acc;…") ---------

EARTH_RADIUS = 6_378_100.0  # metres: the equatorial radius ODK (JavaRosa) computes with


def _points(value: str) -> list[tuple[float, float]] | None:
    """(latitude, longitude) of each point; None if one cannot be read."""
    found = []
    for part in value.split(";"):
        numbers = part.split()
        if not numbers:
            continue
        try:
            latitude, longitude = float(numbers[0]), float(numbers[1])
        except (ValueError, IndexError):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        found.append((latitude, longitude))
    return found


def _distance(points: Sequence[tuple[float, float]]) -> float:
    """The length in metres of the line through `points` (spherical law of cosines, as ODK)."""
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        a, b = math.radians(lat1), math.radians(lat2)
        cosine = math.sin(a) * math.sin(b) + math.cos(a) * math.cos(b) * math.cos(
            math.radians(lon2 - lon1))
        total += math.acos(max(-1.0, min(1.0, cosine))) * EARTH_RADIUS
    return total


def _area(points: Sequence[tuple[float, float]]) -> float:
    """The area in square metres of a shape (ODK's method: each point projected on a plane
    around the first one, then the shoelace formula)."""
    if len(points) < 3:
        return 0.0
    circumference = 2 * math.pi * EARTH_RADIUS
    lat0, lon0 = points[0]
    xy = [((lon - lon0) * circumference * math.cos(math.radians(lat)) / 360,
           (lat - lat0) * circumference / 360) for lat, lon in points[1:]]
    twice = sum(y1 * x2 - x1 * y2 for (x1, y1), (x2, y2) in itertools.pairwise(xy))
    return abs(twice / 2)


def _inside(point: list[tuple[float, float]] | None,
            shape: list[tuple[float, float]] | None) -> bool:
    """Whether a geopoint lies inside a closed geoshape (crossing number, as ODK's
    geofence())."""
    if not point or not shape:
        return False
    latitude, longitude = point[0]
    inside = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(shape):
        if (lat2 > latitude) != (lat1 > latitude) and \
                longitude < (lon1 - lon2) * (latitude - lat2) / (lat1 - lat2) + lon2:
            inside = not inside
    return inside


_DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
            "SHA-512": "sha512"}


def _digest(data: str, algorithm: str, encoding: str = "base64") -> str:
    """ODK's digest(): a hash of the text, in base64 (default) or hex."""
    name = _DIGESTS.get(algorithm.strip().upper())
    encoding = encoding.strip().lower()
    if name is None or encoding not in ("base64", "hex"):
        raise ValueError(f"digest: unknown algorithm or encoding {algorithm!r}, {encoding!r}")
    raw = hashlib.new(name, data.encode()).digest()  # not a secret: ODK's function
    return raw.hex() if encoding == "hex" else base64.b64encode(raw).decode()


def _safe(function: Callable[..., float], *numbers: float) -> float:
    try:
        return float(function(*numbers))
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _translate(text: str, source: str, target: str) -> str:
    table = {ord(c): (target[i] if i < len(target) else None) for i, c in enumerate(source)}
    return text.translate(table)


def _date_time(value: Value) -> str:
    number = to_number(value)
    if isinstance(value, str) and _DATETIME.match(value.strip()):
        return value.strip()
    if math.isnan(number) or math.isinf(number):
        return ""
    moment = datetime(1970, 1, 1) + timedelta(days=number)
    return moment.isoformat(timespec="milliseconds")


def _decimal_time(text: str) -> float:
    match = _TIME.match(text.strip())
    if not match:
        return math.nan
    parts = [int(p) for p in text.strip()[:8].split(":") if p.isdigit()]
    hours, minutes = parts[0], parts[1]
    seconds = parts[2] if len(parts) > 2 else 0
    return (hours * 3600 + minutes * 60 + seconds) / 86400


def _int(number: float) -> float:
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def run(source: str, context: Context) -> Value:
    """Parse and evaluate in one go (tests, the command line)."""
    return evaluate(parse(source), context)

