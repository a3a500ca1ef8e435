"""Expected texts, computed from the catalogs so that tests check the language used."""

from __future__ import annotations

from bot.i18n import _, ngettext, use_language


def tr(language: str, message: str, /, **fields: str) -> str:
    with use_language(language):
        text = _(message)
    return text.format(**fields) if fields else text


def trn(language: str, singular: str, plural: str, n: int, /, **fields: str) -> str:
    with use_language(language):
        text = ngettext(singular, plural, n)
    return text.format(count=str(n), **fields)
