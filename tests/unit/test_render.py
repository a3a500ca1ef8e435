"""Telegram's limits, held by its renderer: long texts and captions paged at line ends, the
choices under the last page, references packed within 64 bytes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.channels.telegram.render import (
    MAX_CALLBACK_DATA,
    callback_data,
    caption_and_rest,
    html,
    markup,
    pages,
    send_one,
    send_reply,
    split_text,
)
from bot.core.account import AccountService
from bot.core.callbacks import AnnouncementAction
from bot.core.onboarding import OnboardingService
from bot.core.replies import Button, Document, Reply, h
from bot.core.text import parse


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_split_text_respects_the_limit() -> None:
    text = "\n".join(f"line {i} " + "é" * 50 for i in range(300))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(_utf16(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    huge = "🙂" * 5000
    assert all(_utf16(p) <= 4096 for p in split_text(huge))
    assert "".join(split_text(huge)) == huge


def test_every_keyboard_fits_telegram() -> None:
    from bot.config import Settings

    onboarding = OnboardingService(None, Settings(_env_file=None))  # type: ignore[arg-type,call-arg]
    replies = [onboarding._language_prompt(lang) for lang in ("fr", "en", "pt", "es")]
    replies.append(onboarding._consent_prompt("pt"))
    account = AccountService(None)  # type: ignore[arg-type]
    replies += list(account.forget_prompt().replies)
    for reply in replies:
        assert markup(reply) is not None  # each packs within the 64 bytes, or raises
        assert all(len(callback_data(b).encode()) <= 64 for row in reply.buttons for b in row)


def test_callback_data_packs_the_reference_within_64_bytes() -> None:
    assert MAX_CALLBACK_DATA == 64
    short = AnnouncementAction("av", 12, "p.eau")
    assert callback_data(Button("Eau", short)) == "an:av:12:p.eau"
    # A value too long to name in 64 bytes: the core's stand-in (its position) goes instead.
    long = AnnouncementAction("av", 12, "o." + "x" * 60)
    by_position = AnnouncementAction("av", 12, "o#3")
    assert callback_data(Button("X", long, fallback=by_position)) == "an:av:12:o#3"
    # Exactly 64 bytes still fits; one more without a stand-in is refused, never cut.
    fits = AnnouncementAction("av", 12, "é" * 27 + "x")
    assert len(fits.pack().encode()) == 64
    assert callback_data(Button("É", fits)) == fits.pack()
    with pytest.raises(ValueError, match="64 bytes"):
        callback_data(Button("É", AnnouncementAction("av", 12, "é" * 28)))
    with pytest.raises(ValueError, match="64 bytes"):
        callback_data(Button("X", long))
    with pytest.raises(ValueError, match="64 bytes"):
        markup(Reply("?", buttons=((Button("X", long),),)))


def test_hard_cuts_never_split_markup() -> None:
    line = ("a &amp; <b>b</b> " * 1000).strip()
    parts = split_text(line)
    assert "".join(parts) == line
    for part in parts:
        assert part.count("<") == part.count(">")
        assert part.count("&") == part.count(";")


def test_a_long_caption_goes_on_in_messages() -> None:
    text = "\n".join(f"ligne {i} " + "é" * 40 for i in range(80))
    caption, rest = caption_and_rest(text)
    assert _utf16(caption) <= 1024 and rest
    assert all(_utf16(p) <= 4096 for p in rest)
    assert "\n".join([caption, *rest]) == text
    assert caption_and_rest("court") == ("court", [])


class _Bot:
    """Records what the renderer asks Telegram to send."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, {"args": args, **kwargs}))
            return len(self.calls)
        return call


def test_the_renderer_pages_and_puts_the_choices_under_the_last_page() -> None:
    ask = (Button("Oui", AnnouncementAction("ok", 1)),)
    long = "\n".join("<b>ligne</b> " + h("<x> & ") * 20 for _ in range(200))
    bot = _Bot()
    asyncio.run(send_reply(bot, 7, Reply(long, buttons=(ask,))))  # type: ignore[arg-type]
    assert len(bot.calls) > 1 and {name for name, _ in bot.calls} == {"send_message"}
    assert [c["reply_markup"] is not None for _, c in bot.calls] == \
        [False] * (len(bot.calls) - 1) + [True]
    assert "\n".join(c["args"][1] for _, c in bot.calls) == html(long)
    chart = Document("chart.png", b"png")
    bot = _Bot()
    asyncio.run(send_reply(bot, 7, Reply(long, buttons=(ask,), photo=chart)))  # type: ignore[arg-type]
    (first, photo), *texts = bot.calls
    assert first == "send_photo" and _utf16(photo["caption"]) <= 1024
    assert photo["reply_markup"] is None and texts[-1][1]["reply_markup"] is not None
    # One message for the outbox: the keyboard, and the message returned, are the last page's.
    bot = _Bot()
    sent = asyncio.run(send_one(bot, 7, Reply(long, buttons=(ask,), reply_to=3)))  # type: ignore[arg-type]
    assert sent == len(bot.calls) > 1
    assert bot.calls[0][1]["reply_parameters"] is not None
    assert bot.calls[-1][1]["reply_markup"] is not None


def test_a_tag_cut_between_pages_is_closed_and_opened_again() -> None:
    text = "<b>" + "\n".join("gras " * 30 for _ in range(60)) + "</b>\nfin"
    parts = pages(text)
    assert len(parts) > 1 and all(_utf16(p) <= 4096 for p in parts)
    for part in parts:
        assert parse(part)  # each page is whole: Telegram would refuse an unclosed <b>
    assert parts[0].startswith("<b>") and parts[0].endswith("</b>")
    assert parts[1].startswith("<b>")
    # Pages whose tags close already are exactly split_text's.
    plain_pages = "\n".join(f"<b>{i}</b> " + "x" * 90 for i in range(200))
    assert pages(plain_pages) == split_text(plain_pages)
    caption, rest = caption_and_rest(text)
    assert _utf16(caption) <= 1024 and caption.endswith("</b>") and rest[0].startswith("<b>")
