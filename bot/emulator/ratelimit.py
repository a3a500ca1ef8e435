"""Token buckets reproducing Telegram's flood limits (429 with retry_after)."""

from __future__ import annotations

import math

from bot.emulator.models import RateLimits

__all__ = ["FloodControl"]


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, capacity: float, now: float) -> None:
        self.tokens = capacity
        self.stamp = now

    def wait(self, rate: float, capacity: float, now: float) -> float:
        """Refill, then return the seconds until one token is available (0 if now)."""
        self.tokens = min(capacity, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / rate


class FloodControl:
    """Buckets are read against the current :class:`RateLimits`, so changes apply at once."""

    def __init__(self) -> None:
        self._global: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}

    def acquire(self, limits: RateLimits, chat_id: int | None, now: float) -> int | None:
        """Take a token from every applicable bucket, or return retry_after seconds."""
        checks: list[tuple[_Bucket, float, float]] = []
        if limits.global_per_second:
            rate = limits.global_per_second
            capacity = max(1.0, rate)
            if self._global is None:
                self._global = _Bucket(capacity, now)
            checks.append((self._global, rate, capacity))
        if chat_id is not None:
            if chat_id > 0 and limits.per_chat_per_second:
                rate = limits.per_chat_per_second
                capacity = float(max(1, limits.per_chat_burst))
                checks.append((self._chat_bucket(chat_id, capacity, now), rate, capacity))
            elif chat_id < 0 and limits.per_group_per_minute:
                rate = limits.per_group_per_minute / 60.0
                capacity = max(1.0, limits.per_group_per_minute)
                checks.append((self._chat_bucket(chat_id, capacity, now), rate, capacity))
        wait = max((bucket.wait(rate, cap, now) for bucket, rate, cap in checks), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket, _, _ in checks:
            bucket.tokens -= 1.0
        return None

    def _chat_bucket(self, chat_id: int, capacity: float, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = self._chats[chat_id] = _Bucket(capacity, now)
        return bucket
