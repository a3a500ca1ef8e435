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

from babel import Locale, localedata
from babel.core import get_global
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

from bot.config import LANGUAGES, UI_LANGUAGES, base_language

DOMAIN = "palabre"
FALLBACK = "fr"
# Endonyms: a language is offered in its own name so that everyone can find theirs. Plain
# "Português" is the Portuguese of Portugal and of Africa; Brazilians find theirs by name.
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "pt": "Português",
                  "pt_BR": "Português (Brasil)", "es": "Español"}

_locale: ContextVar[str] = ContextVar("palabre_locale", default=FALLBACK)
# The reader's time zone, when known: it tells the country whose number formats they use
# (a Spanish speaker in Lima writes 1,500.5, one in Bogotá 1.500,5).
_zone: ContextVar[str | None] = ContextVar("palabre_zone", default=None)


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
    """The language the current reader reads the bot in (one of UI_LANGUAGES)."""
    return _locale.get()


def content_language() -> str:
    """The language of content (names, questionnaires) for the current reader."""
    return base_language(_locale.get())


def _known(language: str) -> str:
    return language if language in UI_LANGUAGES else FALLBACK


def set_language(language: str, timezone: str | None = None) -> None:
    """Set the language (and the reader's time zone, for number formats) for the rest of
    the current task (one update)."""
    _locale.set(_known(language))
    _zone.set(timezone)


@contextmanager
def use_language(language: str, timezone: str | None = None) -> Iterator[None]:
    """Speak `language` inside the block (e.g. to write to another member)."""
    token = _locale.set(_known(language))
    zone_token = _zone.set(timezone)
    try:
        yield
    finally:
        _zone.reset(zone_token)
        _locale.reset(token)


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return translations(_locale.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on `n`."""
    return translations(_locale.get()).ungettext(singular, plural, n)


def negotiate(language_code: str | None, default: str = FALLBACK) -> str:
    """Pick our language closest to a client's language code. Telegram sends 'pt-br' for a
    Brazilian phone: Brazilian Portuguese; any other Portuguese ('pt', 'pt-pt', 'pt-mz', …)
    gets the Portuguese of Portugal and of Africa."""
    if not language_code:
        return default
    code = language_code.replace("-", "_").lower()
    language, _sep, region = code.partition("_")
    if language == "pt":
        return "pt_BR" if region == "br" else "pt"
    return language if language in LANGUAGES else default


# The locale whose formats a language's readers get: English as written outside the US
# (3 March 2026, 14:05), the English of the partnerships' countries; Portuguese as written
# in Portugal and in Africa (1 234,5), Brazilian Portuguese as in Brazil (1.234,5).
FORMAT_LOCALES = {"en": "en_GB", "pt": "pt_PT", "pt_BR": "pt_BR"}
# Languages whose number formats differ by country: a reader in a country with its own
# locale gets it (es_PE, es_MX: 1,500.5; es_CO, es_BO: 1.500,5).
REGIONAL = frozenset({"es"})


@functools.cache
def _parsed(name: str) -> Locale:
    return Locale.parse(name)


@functools.cache
def locale_name(language: str, timezone: str | None = None) -> str:
    """The babel locale of a reader of `language` in `timezone` ('es', 'America/Lima' →
    'es_PE'; 'pt' → 'pt_PT'; 'en' → 'en_GB')."""
    language = _known(language)
    if language in REGIONAL and timezone:
        territory = get_global("zone_territories").get(timezone)
        if territory and localedata.exists(f"{language}_{territory}"):
            return f"{language}_{territory}"
    return FORMAT_LOCALES.get(language, language)


def reader_locale() -> Locale:
    """The babel locale for dates, times and numbers of the current reader."""
    return _parsed(locale_name(_locale.get(), _zone.get()))


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
