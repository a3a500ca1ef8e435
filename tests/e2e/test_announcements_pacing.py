"""An announcement under real flood limits: Telegram's pace is kept (no 429), and people
talking to the bot meanwhile are answered at once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from bot.config import Settings
from bot.emulator import BotApiEmulator, RateLimits
from tests.auxil.runner import BotRunner
from tests.e2e.test_announcements import (
    announcements_in,
    confirm_to_everyone,
    coordinator,
    seed,
    seed_many,
    settled,
    wait_sent,
)

RATE = 20.0


@pytest.fixture
def settings(settings: Settings, emulator: BotApiEmulator) -> Settings:
    emulator.rate_limits = RateLimits(global_per_second=RATE, per_chat_per_second=1.0,
                                      per_chat_burst=3)
    return settings.model_copy(update={"broadcast_rate": RATE, "chat_rate": 1.0})


async def test_replies_keep_priority_over_a_broadcast(runner: BotRunner, phone_factory: Any,
                                                      emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed_many(runner, 20_000, 120)
    await seed(runner, 700, "Rosa", org="cusco", projects=("ecoles-cusco",), language="es")
    rosa = runner.phone(700, "Rosa")
    before = emulator.stats["messages_sent"]
    started = time.monotonic()
    await confirm_to_everyone(claire, "Au rythme de Telegram")
    await wait_sent(emulator, before + 40)
    recipients = {str(uid) for uid in range(20_000, 20_120)} | set(range(20_000, 20_120))
    for _ in range(3):  # while the broadcast is still going
        asked_at = len(emulator.calls)
        [reply] = await rosa.send("/help")
        assert "/language" in reply.text
        calls = emulator.calls[asked_at:]
        [answer_at] = [i for i, c in enumerate(calls) if c.params.get("chat_id") in (700, "700")
                       and c.method == "sendMessage"]
        # Priority, counted rather than timed: behind the broadcast the reply would come after
        # every message still queued (80+); ahead of it, after the few already in flight.
        overtaken = [c for c in calls[:answer_at] if c.params.get("chat_id") in recipients]
        assert len(overtaken) <= 10, len(overtaken)
        await asyncio.sleep(1.0)  # Rosa reads the answer: one question a second
    assert emulator.stats["messages_sent"] - before < 120  # the broadcast was not over
    await settled(runner)
    elapsed = time.monotonic() - started
    assert Counter(len(announcements_in(emulator, uid)) for uid in range(20_000, 20_120)) \
        == Counter({1: 120})
    assert emulator.stats["429"] == 0
    assert elapsed > (120 - RATE) / RATE * 0.9  # the pace was kept
