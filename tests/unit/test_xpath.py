"""The XLSForm expression evaluator against the meaning ODK gives each supported function."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from bot.core.surveys import expressions as xpath

ANSWERS = {"age": "34", "name": "Aminata", "fruits": "apple pear", "empty": "",
           "visit": "2026-02-15", "ratio": "2.5", "yes": "yes"}
TODAY = date(2026, 3, 3)

CASES: list[tuple[str, str, object]] = [
    # (expression, current value `.`, expected result)
    ("${age} > 18", "", True),
    ("${age} >= 34 and ${age} <= 34", "", True),
    ("${age} < 18 or ${name} = 'Aminata'", "", True),
    ("not(${age} > 18)", "", False),
    ("${age} = 34", "", True),  # a number on one side: compared as numbers
    ("${age} = '34'", "", True),
    ("${age} != 35", "", True),
    ("${name} = \"Aminata\"", "", True),
    (". > 0 and . < 120", "45", True),
    (". > 0 and . < 120", "150", False),
    (". >= 0", "", False),  # empty is NaN as a number: every comparison is false
    ("${age} + 1", "", 35.0),
    ("${age} - 4 * 2", "", 26.0),
    ("(${age} - 4) * 2", "", 60.0),
    ("${age} div 4", "", 8.5),
    ("${age} mod 5", "", 4.0),
    ("-${ratio}", "", -2.5),
    ("1 div 0", "", math.inf),
    ("selected(${fruits}, 'pear')", "", True),
    ("selected(${fruits}, 'kiwi')", "", False),
    ("selected(${fruits}, 'pea')", "", False),  # whole names only
    ("count-selected(${fruits})", "", 2.0),
    ("count-selected(.) <= 3", "a b c d", False),
    ("count-selected(${empty})", "", 0.0),
    ("string-length(${name})", "", 7.0),
    ("string-length(.) > 3", "abcd", True),
    ("string-length()", "abc", 3.0),
    ("regex(., '^[0-9]{8,12}$')", "771234567", True),
    ("regex(., '^[0-9]{8,12}$')", "77 12", False),
    ("today()", "", "2026-03-03"),
    (". <= today()", "2026-02-15", True),
    (". <= today()", "2027-02-15", False),
    ("${visit} < today()", "", True),
    ("if(${age} > 18, 'adult', 'child')", "", "adult"),
    ("if(${empty}, 'set', 'unset')", "", "unset"),
    ("coalesce(${empty}, 'fallback')", "", "fallback"),
    ("coalesce(${name}, 'fallback')", "", "Aminata"),
    ("concat(${name}, ' (', ${age}, ')')", "", "Aminata (34)"),
    ("concat('n=', 3)", "", "n=3"),
    ("int(${ratio})", "", 2.0),
    ("int(-2.7)", "", -2.0),
    ("number(${ratio}) * 2", "", 5.0),
    ("number('abc')", "", math.nan),
    ("${empty} = ''", "", True),
    ("${yes} = 'yes' and ${age} > 30", "", True),
    ("true() and not(false())", "", True),
    ("selected(../fruits, 'apple')", "", True),  # pyxform's or_other companion path
]


@pytest.mark.parametrize(("expression", "current", "expected"), CASES)
def test_expression(expression: str, current: str, expected: object) -> None:
    result = xpath.run(expression, xpath.Context(ANSWERS, current=current, today=TODAY))
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(result, float) and math.isnan(result)
    else:
        assert result == expected


@pytest.mark.parametrize(("expression", "problem"), [
    ("pulldata('x', 'y')", "wrong number of arguments for pulldata()"),
    ("instance('list')", "unsupported path after instance('list')"),
    ("lower-case('A')", "unsupported function lower-case()"),
    ("regex(., '(a')", "invalid regular expression"),
    ("${age} >", "unexpected"),
    ("(${age} > 3", "expected ')'"),
    ("if(${age}, 1)", "wrong number of arguments for if()"),
    ("${age} ! 3", "cannot read"),
])
def test_refused_expressions(expression: str, problem: str) -> None:
    with pytest.raises(xpath.ExpressionError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        xpath.parse(expression)


def test_choice_filter_reads_the_choice_columns() -> None:
    node = xpath.parse("country = ${country} and name != 'x'", columns=True)
    context = xpath.Context({"country": "SN"}, row={"name": "kolda", "country": "SN"})
    assert xpath.evaluate(node, context) is True
    other = xpath.Context({"country": "SN"}, row={"name": "boucle", "country": "BF"})
    assert xpath.evaluate(node, other) is False


def test_references() -> None:
    assert xpath.references(xpath.parse("if(${a} > 1, concat(${b}, .), ${c})")) == {"a", "b", "c"}


# One table per ODK function added for real forms: (expression, expected), evaluated with
# a repeat of three members (ages 30, 8, 61), a choice list and the current iteration 2.
REPEAT = xpath.Context(
    {"age": "8", "choice": "b c", "when": "2026-03-04T10:30:00.000+00:00"}, today=TODAY,
    lists={"member": ["1", "2", "3"], "age": ["30", "8", "61"], "name": ["Awa", "", "Ali"]},
    position=2,
    instances={"fruit": [{"name": "a", "label": "Apple", "price": "3"},
                         {"name": "b", "label": "Banana", "price": "1"}]},
    choice_label=lambda question, value: {"a": "Apple", "b": "Banana"}.get(value, value))
FUNCTIONS: list[tuple[str, object]] = [
    ("count(${member})", 3.0),
    ("sum(${age})", 99.0),
    ("min(${age})", 8.0),
    ("max(${age})", 61.0),
    ("count-non-empty(${name})", 2.0),
    ("join(', ', ${name})", "Awa, , Ali"),
    ("position(..)", 2.0),
    ("indexed-repeat(${age}, ${member}, 3)", "61"),
    ("indexed-repeat(${age}, ${member}, 9)", ""),
    ("${age}", "8"),  # inside the repeat: the current iteration's value
    ("selected-at(${choice}, 1)", "c"),
    ("selected-at(${choice}, 5)", ""),
    ("round(2.345, 2)", 2.35),
    ("round(-2.5)", -3.0),
    ("round(7)", 7.0),
    ("once(today())", "2026-03-03"),
    ("jr:choice-name('b', '${fruit_q}')", "Banana"),
    ("instance('fruit')/root/item[name = 'a']/label", "Apple"),
    ("instance('fruit')/root/item[price > 2]/name", "a"),
    ("count(instance('fruit')/root/item)", 2.0),
    ("pulldata('fruit', 'price', 'name', 'b')", "1"),
    ("pulldata('fruit', 'price', 'name', 'z')", ""),
    ("substr('abcdef', 1, 3)", "bc"),
    ("substring-before('a-b', '-')", "a"),
    ("substring-after('a-b', '-')", "b"),
    ("contains('abc', 'b')", True),
    ("starts-with('abc', 'ab')", True),
    ("ends-with('abc', 'bc')", True),
    ("translate('abc', 'ab', 'AB')", "ABc"),
    ("normalize-space('  a   b ')", "a b"),
    ("string(12)", "12"),
    ("boolean-from-string('true')", True),
    ("floor(2.7)", 2.0),
    ("ceiling(2.1)", 3.0),
    ("abs(-3)", 3.0),
    ("pow(2, 10)", 1024.0),
    ("sqrt(16)", 4.0),
    ("date('2026-03-04') - date('2026-03-01')", 3.0),
    ("format-date('2026-03-04', '%d/%m/%Y')", "04/03/2026"),
    ("format-date-time(${when}, '%Y-%m-%d %H:%M')", "2026-03-04 10:30"),
    ("decimal-time('12:00')", 0.5),
    ("checklist(1, 2, 'yes', '', 'yes')", True),
    ("checklist(3, -1, 'yes', '', 'yes')", False),
    ("weighted-checklist(3, -1, 'yes', 2, 'yes', 1)", True),
    ("regex('abc', 'b')", False),  # ODK: the whole value must match
    ("regex('abc', 'a.c')", True),
    ("${last-saved#age}", ""),  # no earlier submission kept as a model
    ("/data/group/age", "8"),
    ("./age", "8"),  # on a group: its question `age`
]


@pytest.mark.parametrize(("expression", "expected"), FUNCTIONS)
def test_odk_functions(expression: str, expected: object) -> None:
    assert xpath.run(expression, REPEAT) == expected


def test_regex_runs_in_linear_time_and_refuses_backtracking_patterns() -> None:
    # Python's backtracking engine takes longer than the age of the universe on this pair;
    # RE2 answers at once. (Before the fix, this test never returned.)
    assert xpath.run("regex(., '(a+)+$')",
                     xpath.Context({}, current="a" * 50_000 + "b")) is False
    with pytest.raises(xpath.ExpressionError, match="invalid regular expression"):
        xpath.parse("regex(., '(a)\\1')")  # a back-reference: not linear, refused at import


def test_what_cannot_be_computed_is_empty_and_never_stops_the_conversation() -> None:
    context = xpath.Context({"pattern": "(a", "big": "1000000000000000"})
    assert xpath.run("regex('a', ${pattern})", context) == ""  # a pattern from an answer
    assert xpath.run("date(${big})", context) == ""  # beyond the calendar
    assert xpath.run("format-date(${big}, '%Y')", context) == ""


# The conformance table of every function the evaluator knows, by function, as ODK's function
# reference defines it; a function added to the evaluator without its table fails the test
# below. Evaluated with a repeat of three members (ages 30, 8, 61) in iteration 2 of an outer
# repeat, a choice list, a line, an area and a point, and `.` = 7.
def _indexed(name: str) -> list[tuple[tuple[int, ...], str]]:
    return {"crop": [((1, 1), "millet"), ((1, 2), "maize"), ((2, 1), "rice")]}.get(name, [])


CONTEXT = xpath.Context(
    {"age": "8", "choice": "b c", "when": "2026-03-04T10:30:00.000+00:00",
     "line": "0 0 0 0;0 1 0 0", "square": "0 0 0 0;0 0.001 0 0;0.001 0.001 0 0;0.001 0 0 0;"
                                           "0 0 0 0",
     "inside": "0.0005 0.0005 0 0", "outside": "1 1 0 0"},
    current="7", today=TODAY, now=datetime(2026, 3, 3, 10, 30, tzinfo=UTC),
    lists={"member": ["1", "2", "3"], "age": ["30", "8", "61"], "name": ["Awa", "", "Ali"]},
    position=2, indexed=_indexed, version="2026-03",
    instances={"fruit": [{"name": "a", "label": "Apple", "price": "3"},
                         {"name": "b", "label": "Banana", "price": "1"}]},
    choice_label=lambda question, value: {"a": "Apple", "b": "Banana"}.get(value, value))
Expected = object  # a value, or a predicate on the value
CONFORMANCE: dict[str, list[tuple[str, Expected]]] = {
    "selected": [("selected('a b', 'b')", True), ("selected('a b', 'c')", False)],
    "count-selected": [("count-selected('a b c')", 3.0), ("count-selected('')", 0.0)],
    "selected-at": [("selected-at('a b c', 1)", "b"), ("selected-at('a b', 4)", "")],
    "jr:choice-name": [("jr:choice-name('b', '${fruit_q}')", "Banana")],
    "string-length": [("string-length('abc')", 3.0), ("string-length()", 1.0)],
    "regex": [("regex('abc', 'a.c')", True), ("regex('abc', 'b')", False)],
    "today": [("today()", "2026-03-03")],
    "now": [("now()", "2026-03-03T10:30:00.000+00:00")],
    "if": [("if(1 > 2, 'a', 'b')", "b"), ("if(${age}, 'set', 'unset')", "set")],
    "coalesce": [("coalesce('', 'x')", "x"), ("coalesce('y', 'x')", "y")],
    "concat": [("concat('a', 1, 'b')", "a1b"), ("concat()", "")],
    "int": [("int(-2.7)", -2.0), ("int('7.9')", 7.0)],
    "number": [("number('2.5')", 2.5), ("number('x')", math.nan), ("number(true())", 1.0)],
    "not": [("not(true())", False), ("not('')", True)],
    "true": [("true()", True)],
    "false": [("false()", False)],
    "boolean": [("boolean('')", False), ("boolean('a')", True), ("boolean(0)", False)],
    "boolean-from-string": [("boolean-from-string('1')", True),
                            ("boolean-from-string('yes')", False)],
    "string": [("string(2.5)", "2.5"), ("string(true())", "true"), ("string()", "7")],
    "substr": [("substr('abcdef', 1, 3)", "bc"), ("substr('abcdef', 2)", "cdef")],
    "substring": [("substring('abcdef', 2, 3)", "bcd"), ("substring('abcdef', 4)", "def")],
    "substring-before": [("substring-before('a-b', '-')", "a"),
                         ("substring-before('ab', '-')", "")],
    "substring-after": [("substring-after('a-b', '-')", "b"), ("substring-after('ab', '-')", "")],
    "contains": [("contains('abc', 'b')", True), ("contains('abc', 'd')", False)],
    "starts-with": [("starts-with('abc', 'ab')", True), ("starts-with('abc', 'b')", False)],
    "ends-with": [("ends-with('abc', 'bc')", True), ("ends-with('abc', 'b')", False)],
    "translate": [("translate('abc', 'abc', 'AB')", "AB")],
    "normalize-space": [("normalize-space('  a   b ')", "a b")],
    "join": [("join('-', ${name})", "Awa--Ali")],
    "round": [("round(2.5)", 3.0), ("round(2.345, 2)", 2.35), ("round(-2.5)", -3.0)],
    "floor": [("floor(2.7)", 2.0), ("floor(-2.1)", -3.0)],
    "ceiling": [("ceiling(2.1)", 3.0), ("ceiling(-2.7)", -2.0)],
    "abs": [("abs(-3)", 3.0)],
    "pow": [("pow(2, 10)", 1024.0), ("pow(4, 0.5)", 2.0)],
    "sqrt": [("sqrt(16)", 4.0), ("sqrt(-1)", math.nan)],
    "exp": [("exp(0)", 1.0)],
    "exp10": [("exp10(2)", 100.0)],
    "log": [("log(1)", 0.0), ("log(0)", math.nan)],
    "log10": [("log10(1000)", 3.0)],
    "sin": [("sin(0)", 0.0)],
    "cos": [("cos(0)", 1.0)],
    "tan": [("tan(0)", 0.0)],
    "asin": [("asin(1) * 2 = pi()", True)],
    "acos": [("acos(1)", 0.0)],
    "atan": [("atan(0)", 0.0)],
    "atan2": [("atan2(1, 0) * 2 = pi()", True)],
    "pi": [("round(pi(), 5)", 3.14159)],
    "random": [("random()", lambda v: isinstance(v, float) and 0 <= v < 1)],
    "uuid": [("uuid()", lambda v: isinstance(v, str) and len(v) == 36 and v.count("-") == 4)],
    "min": [("min(${age})", 8.0), ("min(3, 1, 2)", 1.0)],
    "max": [("max(${age})", 61.0)],
    "sum": [("sum(${age})", 99.0)],
    "count": [("count(${member})", 3.0), ("count(instance('fruit')/root/item)", 2.0)],
    "count-non-empty": [("count-non-empty(${name})", 2.0)],
    "position": [("position(..)", 2.0)],
    "indexed-repeat": [("indexed-repeat(${age}, ${member}, 3)", "61"),
                       ("indexed-repeat(${age}, ${member}, 9)", ""),
                       # a repeat in a repeat: an index per level, the outermost first
                       ("indexed-repeat(${crop}, ${plot}, 2, ${field}, 1)", "rice"),
                       ("indexed-repeat(${crop}, ${plot}, 1, ${field}, 2)", "maize")],
    "once": [("once(today())", "7")],  # `.` already holds a value: kept
    "date": [("date('2026-03-04')", "2026-03-04"), ("date(1)", "1970-01-02")],
    "date-time": [("date-time(0.5)", "1970-01-01T12:00:00.000")],
    "decimal-date-time": [("decimal-date-time('1970-01-02T12:00:00.000+00:00')", 1.5)],
    "decimal-time": [("decimal-time('06:00')", 0.25)],
    "format-date": [("format-date('2026-03-04', '%d/%m/%Y %a')", "04/03/2026 Wed")],
    "format-date-time": [("format-date-time(${when}, '%Y-%m-%d %H:%M')", "2026-03-04 10:30")],
    "pulldata": [("pulldata('fruit', 'price', 'name', 'b')", "1"),
                 ("pulldata('fruit', 'price', 'name', 'z')", "")],
    "instance": [("instance('fruit')/root/item[name = 'b']/label", "Banana"),
                 ("instance('fruit')/root/item[price > 2]/name", "a")],
    "current": [("current()", "7")],
    "checklist": [("checklist(1, 2, 'yes', '', 'yes')", True),
                  ("checklist(3, -1, 'yes', '', 'yes')", False)],
    "weighted-checklist": [("weighted-checklist(3, -1, 'yes', 2, 'yes', 1)", True),
                           ("weighted-checklist(4, -1, 'yes', 2, '', 5)", False)],
    "version": [("version()", "2026-03")],
    # Geography, in metres as ODK computes them (a sphere of radius 6,378,100 m).
    "distance": [("round(distance(${line}), 0)", 111319.0), ("distance('')", 0.0),
                 ("round(distance(${inside}, ${outside}), 0)", 157346.0)],
    "area": [("round(area(${square}), 0)", 12392.0), ("area(${line})", 0.0)],
    "geofence": [("geofence(${inside}, ${square})", True),
                 ("geofence(${outside}, ${square})", False)],
    "digest": [("digest('abc', 'SHA-256', 'hex')",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
               ("digest('abc', 'MD5')", "kAFQmDzST7DWlj99KOF/cg==")],
    "base64-decode": [("base64-decode('SGVsbG8=')", "Hello"), ("base64-decode('!!')", "")],
}


@pytest.mark.parametrize(("function", "expression", "expected"), [
    (function, expression, expected) for function, rows in CONFORMANCE.items()
    for expression, expected in rows])
def test_conformance(function: str, expression: str, expected: Expected) -> None:
    node = xpath.parse(expression)
    assert function in xpath.functions(node) or function in ("instance", "current")
    result = xpath.evaluate(node, CONTEXT)
    if callable(expected):
        assert expected(result), result
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(result, float) and math.isnan(result)
    else:
        assert result == expected


def test_every_function_has_its_conformance_table() -> None:
    assert sorted(CONFORMANCE) == sorted(xpath.FUNCTIONS)
