"""Announcements end to end: composing, targeting, languages, scheduling, delivery through
the outbox (429s, 5xx, blocked people, a crash), replies and acknowledgements."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from bot.emulator import BotApiEmulator, SentMessage
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

ANNOUNCEMENT = "📢 " + "Announcement"


async def seed(runner: BotRunner, user_id: int, name: str, *, role: str = "partner",
               org: str | None = "ziguinchor", projects: tuple[str, ...] = ("eau-ziguinchor",),
               language: str = "fr") -> None:
    """A member who already joined (onboarding has its own tests)."""
    store = runner.store
    organisation = None if org is None else await store.network.organisation(org)
    project_ids = []
    for slug in projects:
        project = await store.network.project(slug)
        assert project is not None
        project_ids.append(project.id)
    async with store.transaction():
        await store.members.create(
            telegram_user_id=user_id, display_name=name, username=None, role=role,  # type: ignore[arg-type]
            organisation_id=None if organisation is None else organisation.id,
            language=language, timezone="Africa/Dakar", status="active",
            consent_at=runner.clock(), invitation_id=None, project_ids=project_ids,
            now=runner.clock())
    runner.emulator.add_user(user_id, name, language_code=language)


async def coordinator(runner: BotRunner, phone_factory: Any, language: str = "fr") -> Phone:
    phone = phone_factory("Claire", language_code=language)
    await join(runner, phone, role="coordinator", org="rennes", language=language)
    runner.emulator.drain_events(phone.user_id)
    return phone


async def compose(phone: Phone, text: str, audience: list[str] | None = None) -> None:
    """Write an announcement up to the summary: the text, then the audience's buttons."""
    await phone.send("/announce")
    await phone.send(text)
    for label in audience or ["👥"]:
        await phone.press(label)


async def settled(runner: BotRunner, announcement_id: int | None = None,
                  timeout: float = 30.0) -> None:
    """Wait until every confirmed announcement is delivered and reported."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = await runner.store.db.fetchval(
            "SELECT COUNT(*) FROM announcements WHERE status IN ('sending', 'scheduled')"
            + ("" if announcement_id is None else f" AND id = {int(announcement_id)}"))
        if left == 0:
            await asyncio.sleep(0.1)  # the final report is sent after the commit
            return
        if loop.time() > deadline:
            raise TimeoutError("announcements still being sent")
        await asyncio.sleep(0.02)


def announcements_in(emulator: BotApiEmulator, chat_id: int) -> list[SentMessage]:
    return [m for m in emulator.messages(chat_id)
            if m.html.startswith("<b>📢") or m.html.startswith("<b>⏰")]


async def test_a_coordinator_announces_to_their_project(runner: BotRunner, phone_factory: Any,
                                                        emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await seed(runner, 502, "Moussa", language="en")
    await seed(runner, 503, "João", org="garanhuns", projects=("dechets-garanhuns",),
               language="pt")  # outside Claire's projects

    [prompt] = await claire.send("/announce")
    assert prompt.text.startswith("📢 " + tr("fr", "New announcement."))
    [audience] = await claire.send("Réunion <mardi> & mercredi à 10h")
    assert tr("fr", "Who should receive it?") in audience.text
    assert audience.buttons[0][0].endswith("(2)")  # Awa and Moussa, not João
    [summary] = await claire.press("👥")
    assert "«Réunion &lt;mardi&gt; &amp; mercredi à 10h»" in summary.html
    preview = await claire.press("👁")
    shown = [m for m in preview if m.html.startswith("<b>📢")]
    assert len(shown) == 1
    assert "Réunion <mardi> & mercredi à 10h" in shown[0].text
    assert "Claire" in shown[0].text and "Ville de Rennes" in shown[0].text
    assert preview[-1].text == tr("fr", "Send it now to {count} people?", count="2")
    await claire.press("✅")
    await settled(runner)

    for uid in (501, 502):
        [received] = announcements_in(emulator, uid)
        assert received.html == shown[0].html.replace(
            tr("fr", "Reply to this message to answer."),
            tr("fr" if uid == 501 else "en", "Reply to this message to answer.")).replace(
            tr("fr", "Announcement"), tr("fr" if uid == 501 else "en", "Announcement"))
    assert announcements_in(emulator, 503) == []
    report = emulator.last_message(claire.user_id)
    assert report is not None
    assert tr("fr", "{count} sent", count="2") in report.text
