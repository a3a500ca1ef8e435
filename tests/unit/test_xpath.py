"""The XLSForm expression evaluator against the meaning ODK gives each supported function."""

from __future__ import annotations

import math
from datetime import date

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
