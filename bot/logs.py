"""Logging set-up that keeps secrets out of every line."""

from __future__ import annotations

import logging
import re
import sys

_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def add_secret(secret: str) -> None:
    """Register a value (the bot token) that must never be written anywhere."""
    global _pattern
    if secret:
        _secrets.add(secret)
        # Case-insensitive: PTB capitalizes error messages, which lowercases an echoed token.
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets)), re.IGNORECASE)


def redact(text: str) -> str:
    return text if _pattern is None else _pattern.sub("[REDACTED]", text)


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
