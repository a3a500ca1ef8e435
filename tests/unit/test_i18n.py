"""Catalogs are complete in every language (Portuguese twice: European/African and Brazilian,
each consistent); negotiation and formatting follow the locale."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot import i18n, i18n_tools
from bot.config import UI_LANGUAGES
from bot.core.numbers import parse_number


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    assert i18n_tools.check_all() == []


def test_every_message_in_the_code_is_in_the_catalogs() -> None:
    found = i18n_tools.extracted_messages()
    assert len(found) > 40
    for language in UI_LANGUAGES:
        catalog = i18n_tools.read_catalog(language)
        assert [m for m in found if m not in catalog] == []


@pytest.mark.parametrize(("text", "fields"), [
    ("Hello {name}, {count} left", {"name", "count"}),
    ("No fields", set()),
    ("{a}{a}", {"a"}),
])
def test_placeholders(text: str, fields: set[str]) -> None:
    assert i18n_tools.placeholders(text) == fields


@pytest.mark.parametrize(("code", "expected"), [
    ("fr", "fr"), ("fr-CA", "fr"), ("en-US", "en"), ("es-419", "es"), ("de", "fr"),
    (None, "fr"), ("", "fr"), ("zz-ZZ", "fr"),
    # Telegram sends "pt-br" for a Brazilian phone; every other Portuguese is European/African.
    ("pt-br", "pt_BR"), ("pt-BR", "pt_BR"), ("pt_BR", "pt_BR"), ("pt", "pt"), ("pt-pt", "pt"),
    ("pt-PT", "pt"), ("pt-MZ", "pt"), ("pt-AO", "pt"), ("pt-CV", "pt"),
])
def test_negotiate(code: str | None, expected: str) -> None:
    assert i18n.negotiate(code) == expected


def test_formatting_follows_the_language_and_zone() -> None:
    moment = datetime(2026, 3, 3, 13, 5, tzinfo=UTC)
    with i18n.use_language("fr"):
        assert i18n.format_number(1200.5) == "1\u202f200,5"
        assert i18n.format_datetime(moment, "Europe/Paris", "short") == "03/03/2026 14:05"
    with i18n.use_language("en"):
        assert i18n.format_number(1200.5) == "1,200.5"
    with i18n.use_language("pt"):
        assert i18n.format_date(moment) == "3 de março de 2026"
        assert i18n.format_number(1200.5) == "1\u00a0200,5"  # as in Portugal and Mozambique
    with i18n.use_language("pt_BR"):
        assert i18n.format_date(moment) == "3 de março de 2026"
        assert i18n.format_number(1200.5) == "1.200,5"


def test_spanish_numbers_follow_the_readers_country() -> None:
    """Peru writes 1,500.5 and Colombia 1.500,5: the member's time zone tells which."""
    with i18n.use_language("es", "America/Lima"):
        assert i18n.format_number(1500.5) == "1,500.5"
        assert i18n.format_share(0.456) == "46%"
    with i18n.use_language("es", "America/Bogota"):
        assert i18n.format_number(1500.5) == "1.500,5"
    with i18n.use_language("es"):
        assert i18n.format_number(1500.5) == "1.500,5"
    assert parse_number("1,500.5", i18n.locale_name("es", "America/Lima")) == Decimal("1500.5")
    assert parse_number("1.500", i18n.locale_name("es", "America/Lima")) == Decimal("1.5")
    assert parse_number("1.500", i18n.locale_name("es", "America/Bogota")) == Decimal("1500")


# Words only one of the two Portuguese uses: each catalog must read as one variety.
BRAZILIAN_ONLY = (r"\bvocê", r"\barquivo", r"\bplanilha", r"\bcompartilh", r"\baceit[oa]\b",
                  r"\bsalv[oa]s?\b", r"\bPular\b", r"\bDigite\b", r"\bregistrar\b", r"\bmídia\b",
                  r"\bequipe\b", r"\bcelular\b", r"\btela\b",
                  r"\b(?:está|estão|estou|estava|estavam)\s+\w+ndo\b", r"^(?!Quando)\w+ndo\b")
EUROPEAN_ONLY = (r"\bficheiro", r"\bpartilh", r"\baceites?\b", r"\bpor si\b", r"\bsobre si\b",
                 r"\becrã", r"\btelemóvel", r"\bfolha de cálculo", r"\bSaltar\b", r"\bregistar\b",
                 r"\bdemasiad[oa]s?\b", r"\bperceb", r"\bConcluído\b", r"-lhe\b",
                 r"\b(?:está|estão|estou) a \w+r\b", r"^A (?!partir\b)\w+(?:ar|er|ir)\b")


def _strings(language: str) -> list[str]:
    found = []
    for message in i18n_tools.read_catalog(language):
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [str(s) for s in strings]
    return found


@pytest.mark.parametrize(("language", "foreign"), [("pt", BRAZILIAN_ONLY),
                                                   ("pt_BR", EUROPEAN_ONLY)])
def test_each_portuguese_is_one_variety(language: str, foreign: tuple[str, ...]) -> None:
    mixed = [(pattern, text) for text in _strings(language) for pattern in foreign
             if re.search(pattern, text)]
    assert mixed == []


def test_both_portuguese_catalogs_say_the_same_things_differently() -> None:
    european = i18n.translations("pt")
    brazilian = i18n.translations("pt_BR")
    assert european.ugettext("Skip") == "Saltar" and brazilian.ugettext("Skip") == "Pular"
    assert "você" in brazilian.ugettext("Which language do you prefer?")
    assert "você" not in european.ugettext("Which language do you prefer?")
    # The button a message names is the button shown, in each variety.
    for catalog in (european, brazilian):
        assert catalog.ugettext("Done") in catalog.ugettext("Press Done when you have finished.")


async def test_language_is_held_per_task() -> None:
    """Concurrent updates of people with different languages do not mix."""

    async def speak(language: str) -> str:
        i18n.set_language(language)
        await asyncio.sleep(0.01)
        return i18n._("❓ Help")

    results = await asyncio.gather(*(asyncio.create_task(speak(lang)) for lang in UI_LANGUAGES))
    assert results == [i18n.translations(lang).ugettext("❓ Help") for lang in UI_LANGUAGES]
    assert len(set(results)) == 4  # both Portuguese say "❓ Ajuda"
