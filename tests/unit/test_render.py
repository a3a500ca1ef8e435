"""Rendering limits: long texts are cut at line ends, buttons fit callback_data."""

from __future__ import annotations

from bot.core.account import AccountService
from bot.core.onboarding import OnboardingService
from bot.core.replies import buttons_ok
from bot.transport.render import split_text


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
    assert all(buttons_ok(r) for r in replies)


def test_hard_cuts_never_split_markup() -> None:
    line = ("a &amp; <b>b</b> " * 1000).strip()
    parts = split_text(line)
    assert "".join(parts) == line
    for part in parts:
        assert part.count("<") == part.count(">")
        assert part.count("&") == part.count(";")
