"""Seeded fault injection: 5xx, connections dropped before or after the method ran, 429s,
latency spikes; and the record of every message delivered (duplicates kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.error import NetworkError, RetryAfter

from bot.emulator import BotApiEmulator, FaultPlan

from .conftest import ALICE


async def _faulty(plan: FaultPlan) -> AsyncIterator[tuple[BotApiEmulator, telegram.Bot]]:
    emulator = BotApiEmulator(long_poll_cap=0.5, faults=plan)
    emulator.add_user(ALICE, "Alice", language_code="fr")
    async with emulator, telegram.Bot(emulator.token, base_url=emulator.base_url) as bot:
        yield emulator, bot


def test_off_by_default_and_deterministic_from_the_seed() -> None:
    assert BotApiEmulator().faults.draw("sendMessage") is None
    def plan(seed: int) -> FaultPlan:
        return FaultPlan(seed=seed, server_error=0.1, drop_before=0.1, drop_after=0.1,
                         too_many=0.1, latency=0.1)

    first, second, other = plan(3), plan(3), plan(4)
    draws = [first.draw("sendMessage") for _ in range(300)]
    assert draws == [second.draw("sendMessage") for _ in range(300)]
    assert draws != [other.draw("sendMessage") for _ in range(300)]
    kinds = {d.kind for d in draws if d is not None}
    assert kinds == {None, "server_error", "drop_before", "drop_after", "too_many"}
    assert sum(first.stats.as_dict().values()) > 0
    assert first.draw("getMe") is None  # start-up methods are exempt
    with pytest.raises(ValueError, match="fault rates"):
        FaultPlan(server_error=0.6, drop_after=0.6)


async def test_drop_after_delivers_but_the_caller_sees_a_closed_connection() -> None:
    async for emu, bot in _faulty(FaultPlan(seed=1, drop_after=1.0)):
        with pytest.raises(NetworkError):
            await bot.send_message(ALICE, "hello")
        with pytest.raises(NetworkError):
            await bot.send_message(ALICE, "hello")
        assert [m.text for m in emu.delivered(ALICE)] == ["hello", "hello"]  # twice
        assert emu.faults.stats.drop_after == 2


async def test_drop_before_delivers_nothing() -> None:
    async for emu, bot in _faulty(FaultPlan(seed=1, drop_before=1.0)):
        with pytest.raises(NetworkError):
            await bot.send_message(ALICE, "hello")
        assert emu.delivered(ALICE) == []


async def test_server_errors_and_429_deliver_nothing() -> None:
    async for emu, bot in _faulty(FaultPlan(seed=2, server_error=0.5, too_many=0.5,
                                            retry_after=(2, 2))):
        seen: set[str] = set()
        for _ in range(20):
            try:
                await bot.send_message(ALICE, "hello")
            except RetryAfter as exc:
                seen.add(f"429 after {exc.retry_after}")
            except NetworkError:
                seen.add("5xx")  # PTB reports a 5xx as a NetworkError
        assert seen == {"429 after 2", "5xx"}
        assert emu.delivered(ALICE) == []


async def test_latency_spike_still_answers() -> None:
    async for emu, bot in _faulty(FaultPlan(seed=5, latency=1.0, spike=(0.05, 0.05))):
        message = await bot.send_message(ALICE, "slow")
        assert message.text == "slow"
        assert emu.faults.stats.latency == 1
        assert [m.message_id for m in emu.delivered(ALICE)] == [message.message_id]


async def test_a_scripted_drop_hits_the_matching_call_only() -> None:
    async for emu, bot in _faulty(FaultPlan()):
        emu.drop_next("sendMessage", chat_id=ALICE, text_contains="news")
        await bot.send_message(ALICE, "hello")  # not matching: answered
        with pytest.raises(NetworkError):
            await bot.send_message(ALICE, "the news")
        await bot.send_message(ALICE, "the news")  # once only
        assert [m.text for m in emu.delivered(ALICE)] == ["hello", "the news", "the news"]
        emu.drop_next("sendMessage", after=False)
        with pytest.raises(NetworkError):
            await bot.send_message(ALICE, "lost")
        assert len(emu.delivered(ALICE)) == 3
