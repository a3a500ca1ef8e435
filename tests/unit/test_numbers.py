"""Numbers typed on a phone, read in the member's locale (table-driven)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.numbers import NumberError, check_bounds, parse_number

CASES = [
    # French: comma decimals, space groups (ordinary, no-break or narrow no-break).
    ("fr", "12,5", Decimal("12.5")),
    ("fr", "1 200", Decimal("1200")),
    ("fr", "1\u00a0200", Decimal("1200")),
    ("fr", "1\u202f200,75", Decimal("1200.75")),
    ("fr", "12.5", Decimal("12.5")),
    ("fr", " 45 % ", Decimal("45")),
    ("fr", "-3", Decimal("-3")),
    ("fr", "0", Decimal("0")),
    # English: dot decimals, comma groups.
    ("en", "12.5", Decimal("12.5")),
    ("en", "1,200", Decimal("1200")),
    ("en", "1,200.5", Decimal("1200.5")),
    ("en", "1 200", Decimal("1200")),
    ("en", "12,5", NumberError("ambiguous")),
    # Portuguese and Spanish: comma decimals, dot groups.
    ("pt", "12,5", Decimal("12.5")),
    ("pt", "1.200", Decimal("1200")),
    ("pt", "1.200,5", Decimal("1200.5")),
    ("es", "1.200", Decimal("1200")),
    ("es", "0,75", Decimal("0.75")),
    # A number followed by what was counted is that number; a second number is not guessed.
    ("fr", "12 puits", Decimal("12")),
    ("fr", "45 % des ménages", Decimal("45")),
    ("es", "1.500 hogares", Decimal("1500")),
    ("fr", "12 puits et 3 pompes", NumberError("not_a_number")),
    # Not numbers at all.
    ("fr", "douze", NumberError("not_a_number")),
    ("en", "", NumberError("not_a_number")),
    ("en", "12abc", NumberError("not_a_number")),
    ("en", "1e5", NumberError("not_a_number")),
    ("fr", "NaN", NumberError("not_a_number")),
    ("fr", "٣", Decimal("3")),  # Arabic-Indic digits, as some phones type them
]


@pytest.mark.parametrize(("language", "text", "expected"), CASES)
def test_parse_number(language: str, text: str, expected: Decimal | NumberError) -> None:
    assert parse_number(text, language) == expected


@pytest.mark.parametrize(("zone", "text", "expected"), [
    # Peru (and Mexico) write 1,500.5; Colombia and Bolivia 1.500,5.
    ("America/Lima", "1,500.5", Decimal("1500.5")),
    ("America/Lima", "12.5", Decimal("12.5")),
    ("America/Lima", "1,500 hogares", Decimal("1500")),
    ("America/Mexico_City", "2,000", Decimal("2000")),
    ("America/Bogota", "1.500,5", Decimal("1500.5")),
    ("America/La_Paz", "1.500", Decimal("1500")),
    (None, "1.500", Decimal("1500")),
])
def test_spanish_numbers_are_read_as_the_readers_country_writes_them(
        zone: str | None, text: str, expected: Decimal) -> None:
    assert parse_number(text, "es", zone) == expected


def test_both_portuguese_read_the_same_numbers() -> None:
    for language in ("pt", "pt_BR"):
        assert parse_number("1.200,5", language) == Decimal("1200.5")
        assert parse_number("1 200", language) == Decimal("1200")


@pytest.mark.parametrize(("value", "whole", "low", "high", "expected"), [
    (Decimal("12"), True, 0, 100, None),
    (Decimal("12.5"), True, 0, 100, NumberError("not_whole")),
    (Decimal("-1"), False, 0, None, NumberError("too_small")),
    (Decimal("101"), False, 0, 100, NumberError("too_large")),
    (Decimal("100"), False, 0, 100, None),
])
def test_bounds(value: Decimal, whole: bool, low: float | None, high: float | None,
                expected: NumberError | None) -> None:
    assert check_bounds(value, whole=whole, minimum=low, maximum=high) == expected
