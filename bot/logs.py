"""Logging set-up that keeps secrets out of every line."""

from __future__ import annotations

import logging
import sys

_secrets: set[str] = set()


def add_secret(secret: str) -> None:
    """Register a value (the bot token) that must never be written anywhere."""
    if secret:
        _secrets.add(secret)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


class RedactingFormatter(logging.Formatter):
    """Replace registered secrets wherever they appear, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: int = logging.INFO) -> None:
    """Log to stderr; httpx logs every URL (with the token in it) at INFO, so quieten it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
