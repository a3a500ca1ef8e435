"""Telegram's flood limits, per chat and overall, without pausing the whole bot on one 429."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channels.telegram import scope as scopes
from storage.db import flush_current_unit

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
# Calls that put a message in a chat; the others (answers to button presses, command menus,
# file look-ups) are not what Telegram's flood limits count.
_MESSAGE_PREFIXES = ("send", "copy", "forward", "edit")
_NOT_MESSAGES = frozenset({"sendChatAction"})
_MAX_TRACKED_CHATS = 10_000
CHAT_CUSHION = 0.25  # seconds of a chat's burst left unused against arrival jitter


class Cadence:
    """A generic cell rate algorithm: `rate` per second with bursts of `burst`."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, rate: float, burst: int = 1, cushion: float = 0.0) -> None:
        self.interval = 1.0 / rate
        # `cushion` seconds of the burst are never used: a request booked here reaches
        # Telegram a little later or earlier than the one before it (network jitter, a busy
        # event loop), and Telegram counts arrivals, not bookings.
        self.tolerance = max(0.0, (max(burst, 1) - 1) * self.interval - cushion)
        self.tat = 0.0  # theoretical arrival time of the next request

    def reserve(self, at: float) -> float:
        """Book the next slot for a request made at `at`; return how long it must wait."""
        tat = max(self.tat, at)
        wait = max(0.0, tat - self.tolerance - at)
        self.tat = tat + self.interval
        return wait

    def hold(self, until: float) -> None:
        """Let nothing through before `until` (Telegram said so)."""
        self.tat = max(self.tat, until + self.tolerance)


@dataclass(frozen=True)
class Paced:
    """`rate_limit_args` of a call whose place the caller booked already (the outbox's
    sender, through `FloodLimiter.broadcast_delay`): it goes out at once, and a 429 is
    raised to the caller, who knows better than to wait in line holding a slot."""


PACED = Paced()


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB announces a type change of this attribute
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class FloodLimiter(BaseRateLimiter[int | Paced]):
    """Pace messages per chat (1/s in private chats, 20/min in groups) and overall (30/s).

    A 429 holds back only the chat it concerns (or, for a call without a chat, only that
    call), and the call is retried after Telegram's `retry_after`: one person's flood wait
    does not freeze everybody else's replies, unlike AIORateLimiter.
    `rate_limit_args` may give the number of retries for one call, or be `PACED`.

    Broadcasts (the outbox) ask `broadcast_delay` for a place and only take one that is free
    now, leaving a margin of the overall burst unused: replies to people book places as
    before, ahead of any broadcast, so the bot stays responsive during a large announcement.
    """

    def __init__(
        self, *, overall_per_second: float = 30.0, chat_per_second: float = 1.0,
        chat_burst: int = 3, group_per_minute: float = 20.0, max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = Cadence(overall_per_second, burst=max(1, int(overall_per_second)))
        self.chat_per_second = chat_per_second
        self.chat_burst = chat_burst
        self.group_per_second = group_per_minute / 60.0
        self.max_retries = max_retries
        self.clock = clock
        self._chats: dict[int | str, Cadence] = {}
        # The part of the overall burst a broadcast never uses: kept for interactive replies
        # (and, against Telegram's own bucket, a cushion for network jitter).
        self.broadcast_margin = min(self.overall.tolerance,
                                    max(3 * self.overall.interval, 0.3 * self.overall.tolerance))

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _chat(self, chat_id: int | str) -> Cadence:
        cadence = self._chats.get(chat_id)
        if cadence is None:
            if len(self._chats) >= _MAX_TRACKED_CHATS:
                now = self.clock()
                self._chats = {k: v for k, v in self._chats.items() if v.tat > now}
            group = isinstance(chat_id, str) or chat_id < 0
            cadence = (Cadence(self.group_per_second, burst=3, cushion=CHAT_CUSHION) if group
                       else Cadence(self.chat_per_second, burst=self.chat_burst,
                                    cushion=CHAT_CUSHION))
            self._chats[chat_id] = cadence
        return cadence

    @staticmethod
    def paced(endpoint: str) -> bool:
        return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES

    def chat_delay(self, endpoint: str, chat_id: int | str | None) -> float:
        """Book the request's place in its chat; return how long it must wait."""
        if chat_id is None or not self.paced(endpoint):
            return 0.0
        return self._chat(chat_id).reserve(self.clock())

    def overall_delay(self, endpoint: str) -> float:
        """Book the request's place among all messages; booked when it is about to go out,
        so that a chat's wait never holds a place that others could use meanwhile."""
        return self.overall.reserve(self.clock()) if self.paced(endpoint) else 0.0

    def broadcast_delay(self, chat_id: int | str) -> tuple[float, float]:
        """Book a place for one broadcast message if it may go now and return (0, 0); else
        book nothing and return how long the overall pace and the chat's pace ask to wait."""
        now = self.clock()
        overall = self.overall
        overall_wait = overall.tat - (overall.tolerance - self.broadcast_margin) - now
        chat = self._chat(chat_id)
        chat_wait = chat.tat - chat.tolerance - now
        if overall_wait > 0 or chat_wait > 0:
            return max(overall_wait, 0.0), max(chat_wait, 0.0)
        overall.reserve(now)
        chat.reserve(now)
        return 0.0, 0.0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Paced | None,
    ) -> JSON:
        # Nothing leaves before the update's writes are committed: a message must never tell
        # of work that a crash could still roll back.
        await flush_current_unit()
        chat_id = _chat_id(data.get("chat_id"))
        if isinstance(rate_limit_args, Paced):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if chat_id is not None:
                    self._chat(chat_id).hold(self.clock() + retry_after_seconds(exc))
                raise
        wait = self.chat_delay(endpoint, chat_id)
        if wait > 0:
            await asyncio.sleep(wait)
        wait = self.overall_delay(endpoint)
        if wait > 0:
            await asyncio.sleep(wait)
        retries = self.max_retries if rate_limit_args is None else int(rate_limit_args)
        for attempt in range(retries + 1):
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                delay = retry_after_seconds(exc) + 0.1
                log.info("flood limit on %s (chat %s): retrying in %.1f s", endpoint, chat_id,
                         delay)
                if chat_id is not None:
                    self._chat(chat_id).hold(self.clock() + delay)
                await asyncio.sleep(delay)
            else:
                _note_sent(chat_id, result)
                return result
        raise AssertionError("unreachable")


def _note_sent(chat_id: int | str | None, result: JSON) -> None:
    """Remember the id of the last message sent to the person whose update is handled: a
    message of theirs with a lower id was typed before it reached them (see InboxRepo.arrival)."""
    scope = scopes.maybe_current()
    if scope is None or chat_id is None or chat_id != scope.user_id:
        return
    for message in result if isinstance(result, list) else [result]:
        if isinstance(message, dict) and isinstance(message.get("message_id"), int):
            scope.last_message_id = max(scope.last_message_id or 0, message["message_id"])


def _chat_id(value: object) -> int | str | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return str(value)
