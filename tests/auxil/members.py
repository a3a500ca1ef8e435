"""Bring a phone through onboarding in one call."""

from __future__ import annotations

from tests.auxil.runner import BotRunner, Phone

LANG_BUTTON = {"fr": "Français", "en": "English", "pt": "Português", "pt_BR": "Português (Brasil)",
               "es": "Español"}


async def join(runner: BotRunner, phone: Phone, *, role: str = "partner",
               project: str | list[str] = "eau-ziguinchor", org: str | None = None,
               language: str = "fr") -> None:
    code = await runner.invite(role, project, org=org)
    await phone.send(f"/start {code}")
    await phone.press(LANG_BUTTON[language])
    await phone.press("✅")
