"""Translations and locale formatting, held per update in a ContextVar (never installed globally)."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_skeleton as _format_skeleton
from babel.dates import format_time as _format_time
from babel.dates import format_timedelta as _format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _format_decimal
from babel.numbers import format_percent as _format_percent
from babel.support import Translations

from bot.config import LANGUAGES

DOMAIN = "palabre"
FALLBACK = "fr"
# Endonyms: a language is offered in its own name so that everyone can find theirs.
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "pt": "Português", "es": "Español"}

_locale: ContextVar[str] = ContextVar("palabre_locale", default=FALLBACK)


def N_(message: str) -> str:
    """Mark a message for extraction; translate it later with `_()`."""
    return message


@functools.cache
def translations(language: str) -> Translations:
    """Return the catalog of `language`, compiled from its .po file (the source of truth)."""
    po_path = resources.files("locales").joinpath(language, "LC_MESSAGES", f"{DOMAIN}.po")
    if not po_path.is_file():
        return Translations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are not trusted translations: leave them out as msgfmt does.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def current_language() -> str:
    return _locale.get()


def set_language(language: str) -> None:
    """Set the language for the rest of the current task (one update)."""
    _locale.set(language if language in LANGUAGES else FALLBACK)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Speak `language` inside the block (e.g. to write to another member)."""
    token = _locale.set(language if language in LANGUAGES else FALLBACK)
    try:
        yield
    finally:
        _locale.reset(token)


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return translations(_locale.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on `n`."""
    return translations(_locale.get()).ungettext(singular, plural, n)


def negotiate(language_code: str | None, default: str = FALLBACK) -> str:
    """Pick our language closest to a client's language code (e.g. 'pt-BR' → 'pt')."""
    if not language_code:
        return default
    preferred = [language_code.replace("-", "_"), language_code.split("-")[0]]
    found = negotiate_locale(preferred, list(LANGUAGES), sep="_")
    return found if found in LANGUAGES else default


# The locale whose formats a language's readers get: English as written outside the US
# (3 March 2026, 14:05), the English of the partnerships' countries.
FORMAT_LOCALES = {"en": "en_GB"}


@functools.cache
def _parsed(name: str) -> Locale:
    return Locale.parse(name)


def reader_locale() -> Locale:
    """The babel locale for dates, times and numbers in the current language."""
    language = _locale.get()
    return _parsed(FORMAT_LOCALES.get(language, language))


def _tz(zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def format_datetime(moment: datetime, zone: str | tzinfo, fmt: str = "medium") -> str:
    """Format an aware datetime in the reader's zone and language (e.g. '3 mars 2026, 14:05')."""
    locale = reader_locale()
    return _format_datetime(moment.astimezone(_tz(zone)), format=fmt, locale=locale)


def format_day(moment: date | datetime, zone: str | tzinfo | None = None, *,
               year: bool = True, weekday: bool = False) -> str:
    """A day as the reader's language writes it ('3 mars 2026', 'March 3, 2026',
    '3 de março de 2026'; with `weekday`, 'mardi 3 mars 2026'), in `zone` for a datetime."""
    locale = reader_locale()
    if isinstance(moment, datetime) and zone is not None:
        moment = moment.astimezone(_tz(zone))
    if weekday:
        return _format_date(moment, format="full", locale=locale)
    return _format_skeleton("yMMMMd" if year else "MMMMd", moment, locale=locale)


def format_clock(moment: datetime, zone: str | tzinfo) -> str:
    """A time of day in the reader's zone and language ('14:05', '2:05 PM')."""
    return _format_time(moment.astimezone(_tz(zone)), format="short",
                        locale=reader_locale())


def format_moment(moment: datetime, zone: str | tzinfo, *, year: bool = True,
                  weekday: bool = False) -> str:
    """A day and a time joined as the reader's language joins them ('3 mars 2026, 14:05')."""
    pattern = reader_locale().datetime_formats["medium"]
    text = str(pattern) if not hasattr(pattern, "pattern") else pattern.pattern
    return text.replace("{1}", format_day(moment, zone, year=year, weekday=weekday)).replace(
        "{0}", format_clock(moment, zone))


def format_date(day: date | datetime, fmt: str = "long") -> str:
    """Format a date in the current language (e.g. '3 mars 2026')."""
    return _format_date(day, format=fmt, locale=reader_locale())


def format_duration(delta: timedelta) -> str:
    """Format a delay in the current language (e.g. '45 minutes', '1 heure')."""
    return _format_timedelta(delta, locale=reader_locale())


def format_share(ratio: float) -> str:
    """A share as the reader writes percentages ('46 %', '46%'), whole percent."""
    return _format_percent(ratio, locale=reader_locale())


def format_number(value: int | float | Decimal) -> str:
    """Format a number in the current language (e.g. '1 200,5' in French)."""
    return _format_decimal(value, locale=reader_locale())
