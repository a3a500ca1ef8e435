"""Numbers as people type them, read in their own locale ('12,5', '1 200', '1,200', '45 %')."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import NumberFormatError, get_group_symbol, parse_decimal

from bot.i18n import REGIONAL, locale_name

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
# "12 puits", "45 % des ménages": a number followed by words (and no other digit) is that
# number; the words only say what was counted.
_WITH_WORDS = re.compile(r"\s*([-+\u2212]?[\d.,\s\u00a0\u202f\u2009]*\d)\s*%?\s+[^\W\d_][^\d]*")


@dataclass(frozen=True)
class NumberError:
    """Why a text is not an acceptable number (the caller words it for the person)."""

    reason: str  # "not_a_number" | "ambiguous" | "not_whole" | "too_small" | "too_large"


def parse_number(text: str, language: str, timezone: str | None = None) -> Decimal | NumberError:
    """Read a decimal number written the way `language` writes them; for a language whose
    numbers differ by country (Spanish), the way the country of `timezone` writes them (a
    reader in Lima types 1,500.5, one in Bogotá 1.500,5)."""
    locale = Locale.parse(locale_name(language, timezone) if language in REGIONAL
                          else language)
    group = get_group_symbol(locale)
    counted = _WITH_WORDS.fullmatch(text)
    cleaned = (counted[1] if counted else text).strip().rstrip("%").strip()
    cleaned = cleaned.replace("\u2212", "-")  # a typographic minus
    # People type an ordinary space where the locale groups digits with a (narrow) no-break
    # space; where the locale groups with a dot or comma, spaces are only noise.
    cleaned = _SPACES.sub(group if _SPACES.fullmatch(group) else "", cleaned)
    if not cleaned or not re.fullmatch(r"[-+]?[\d.,\u00a0\u202f]+", cleaned):
        return NumberError("not_a_number")
    try:
        return parse_decimal(cleaned, locale=locale, strict=True)
    except NumberFormatError as exc:
        if getattr(exc, "suggestions", None):
            return NumberError("ambiguous")
        return NumberError("not_a_number")


def check_bounds(value: Decimal, *, whole: bool, minimum: float | None,
                 maximum: float | None) -> NumberError | None:
    if whole and value != value.to_integral_value():
        return NumberError("not_whole")
    if minimum is not None and value < Decimal(str(minimum)):
        return NumberError("too_small")
    if maximum is not None and value > Decimal(str(maximum)):
        return NumberError("too_large")
    return None

