"""Flood limits: per chat, per group, overall; a 429 holds back only its chat."""

from __future__ import annotations

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram.ratelimit import Cadence, FloodLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cadence_allows_a_burst_then_paces() -> None:
    cadence = Cadence(rate=1.0, burst=3)
    waits = [cadence.reserve(0.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert cadence.reserve(10.0) == 0.0  # idle time refills the burst


def test_private_chats_are_paced_separately_and_overall_is_capped() -> None:
    clock = Clock()
    limiter = FloodLimiter(overall_per_second=30, chat_per_second=1, chat_burst=3, clock=clock)
    # A burst of 3, less a 0.25 s cushion against arrival jitter (CHAT_CUSHION).
    assert [limiter.chat_delay("sendMessage", 1) for _ in range(4)] == [0.0, 0.0, 0.25, 1.25]
    assert limiter.chat_delay("sendMessage", 2) == 0.0  # another person is not slowed down
    # Answers to button presses and command menus are not paced.
    assert all(limiter.chat_delay("answerCallbackQuery", 1) == 0.0 for _ in range(50))
    assert all(limiter.overall_delay("setMyCommands") == 0.0 for _ in range(50))
    # 30/s overall with a burst of 30: the 65th message in an instant waits about 1.1 s.
    waits = [limiter.overall_delay("sendMessage") for _ in range(65)]
    assert waits[:30] == [0.0] * 30
    assert waits[-1] == pytest.approx(35 / 30)


def test_groups_get_twenty_messages_a_minute() -> None:
    limiter = FloodLimiter(clock=Clock())
    waits = [limiter.chat_delay("sendMessage", -100123) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.25]  # the last 0.25 s of the burst is a cushion
    assert waits[3] == pytest.approx(3.25)


async def test_retry_after_is_honoured_for_that_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("bot.channels.telegram.ratelimit.asyncio.sleep", fake_sleep)
    limiter = FloodLimiter(clock=Clock())
    calls = 0

    async def flaky() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryAfter(2)
        return True

    assert await limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert calls == 2 and slept == [pytest.approx(2.1)]
    # The chat stays held back, others do not.
    assert limiter.chat_delay("sendMessage", 7) > 1.5
    assert limiter.chat_delay("sendMessage", 8) == 0.0
    assert limiter.overall_delay("sendMessage") == 0.0

    async def always() -> bool:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always, (), {}, "sendMessage", {"chat_id": 9}, 1)
