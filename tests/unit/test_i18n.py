"""Catalogs are complete in the four languages; negotiation and formatting follow the locale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot import i18n, i18n_tools
from bot.config import LANGUAGES


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    assert i18n_tools.check_all() == []


def test_every_message_in_the_code_is_in_the_catalogs() -> None:
    found = i18n_tools.extracted_messages()
    assert len(found) > 40
    for language in LANGUAGES:
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
    ("fr", "fr"), ("fr-CA", "fr"), ("en-US", "en"), ("pt-BR", "pt"), ("pt", "pt"),
    ("es-419", "es"), ("de", "fr"), (None, "fr"), ("", "fr"), ("zz-ZZ", "fr"),
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


async def test_language_is_held_per_task() -> None:
    """Concurrent updates of people with different languages do not mix."""

    async def speak(language: str) -> str:
        i18n.set_language(language)
        await asyncio.sleep(0.01)
        return i18n._("❓ Help")

    results = await asyncio.gather(*(asyncio.create_task(speak(lang)) for lang in LANGUAGES))
    assert results == [i18n.translations(lang).ugettext("❓ Help") for lang in LANGUAGES]
    assert len(set(results)) == 4
