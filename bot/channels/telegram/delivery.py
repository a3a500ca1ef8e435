"""What a failed Bot API call says about whether Telegram processed it.

A send may fail before the request left (nothing happened), be refused explicitly (nothing
happened, and trying again would not help), or fail in a way that leaves the outcome unknown:
a read timeout, a connection closed after the request was written, a proxy's 5xx. Only the
first kind may be sent again automatically; the unknown kind is recorded as `uncertain` and
shown to a person, never guessed.
"""

from __future__ import annotations

import enum

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError


class NotSent(NetworkError):
    """The request never reached the server (no connection, no free connection in the pool)."""


class Outcome(enum.Enum):
    """What is known of a call that raised."""

    NOT_PROCESSED = "not_processed"  # never sent, or a 429: safe to send again
    REFUSED = "refused"  # an explicit 4xx answer: Telegram processed it and said no
    UNREACHABLE = "unreachable"  # 403: the person blocked the bot or left
    UNKNOWN = "unknown"  # it may have been delivered: never re-send on its own


# httpx errors raised before a single byte of the request was written.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
                   httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def classify(exc: BaseException) -> Outcome:
    """Say what a failed call's exception proves about its processing by Telegram."""
    if isinstance(exc, RetryAfter):
        return Outcome.NOT_PROCESSED
    if isinstance(exc, Forbidden):
        return Outcome.UNREACHABLE
    if isinstance(exc, BadRequest):
        return Outcome.REFUSED
    if isinstance(exc, NotSent):
        return Outcome.NOT_PROCESSED
    if isinstance(exc, TelegramError) and isinstance(exc.__cause__, _BEFORE_SENDING):
        return Outcome.NOT_PROCESSED
    return Outcome.UNKNOWN
