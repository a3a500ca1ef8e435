"""Whose id is this: one integer per person, whichever channel they write on.

Members and every per-person table are keyed by one integer (`telegram_user_id`, by its
historical name). Telegram's user ids are positive; a WhatsApp person's id is the negative of
their number (`wa_id`, the digits of an international number, at most 15 of them, so it fits
SQLite's 64-bit integers): the two never collide, no table changes, and the channel an id
belongs to is read from its sign.
"""

from __future__ import annotations

from typing import Literal

Channel = Literal["telegram", "whatsapp"]
MAX_DIGITS = 15  # E.164: a country code and a number, 15 digits at most


def is_wa_id(wa_id: str) -> bool:
    """Whether `wa_id` is a WhatsApp id: 1 to 15 digits, not starting with 0."""
    return wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= MAX_DIGITS \
        and not wa_id.startswith("0")


def whatsapp_person(wa_id: str) -> int:
    """The person id of a WhatsApp number (`-int(wa_id)`)."""
    if not is_wa_id(wa_id):
        raise ValueError(f"not a WhatsApp id: {wa_id!r}")
    return -int(wa_id)


def channel_of(person_id: int) -> Channel:
    """The channel a person id belongs to: negative ids are WhatsApp numbers."""
    return "whatsapp" if person_id < 0 else "telegram"


def wa_id_of(person_id: int) -> str:
    """The WhatsApp number of a WhatsApp person id."""
    if person_id >= 0:
        raise ValueError(f"{person_id} is a Telegram id, not a WhatsApp one")
    return str(-person_id)


# WhatsApp gives no language: one is proposed from the number's country calling code (the
# person is then asked, as on Telegram). Longest prefixes first; a client language code as
# `bot.i18n.negotiate` reads it.
_COUNTRY_LANGUAGES: tuple[tuple[str, str], ...] = (
    # French-speaking West and Central Africa, France and its overseas departments
    ("221", "fr"), ("223", "fr"), ("225", "fr"), ("226", "fr"), ("227", "fr"), ("228", "fr"),
    ("229", "fr"), ("224", "fr"), ("235", "fr"), ("237", "fr"), ("241", "fr"), ("242", "fr"),
    ("243", "fr"), ("250", "fr"), ("257", "fr"), ("261", "fr"), ("262", "fr"), ("509", "fr"),
    ("590", "fr"), ("594", "fr"), ("596", "fr"), ("33", "fr"), ("32", "fr"), ("41", "fr"),
    # Portuguese: Africa and Portugal; Brazil's own
    ("244", "pt"), ("245", "pt"), ("238", "pt"), ("239", "pt"), ("258", "pt"), ("670", "pt"),
    ("351", "pt"), ("55", "pt-BR"),
    # Spanish
    ("51", "es"), ("52", "es"), ("53", "es"), ("54", "es"), ("56", "es"), ("57", "es"),
    ("58", "es"), ("591", "es"), ("593", "es"), ("595", "es"), ("598", "es"), ("502", "es"),
    ("503", "es"), ("504", "es"), ("505", "es"), ("506", "es"), ("507", "es"), ("34", "es"),
    ("240", "es"),
    # English
    ("1", "en"), ("44", "en"), ("233", "en"), ("234", "en"), ("254", "en"), ("255", "en"),
    ("256", "en"), ("260", "en"), ("263", "en"), ("27", "en"), ("220", "en"), ("232", "en"),
    ("231", "en"),
)


def language_of_number(wa_id: str) -> str | None:
    """The language most spoken in the number's country, as a client language code."""
    for prefix, language in sorted(_COUNTRY_LANGUAGES, key=lambda p: -len(p[0])):
        if wa_id.startswith(prefix):
            return language
    return None
