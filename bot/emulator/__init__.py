"""A loopback Telegram Bot API emulator for end-to-end tests, the demo and benchmarks.

It speaks Telegram's wire format over HTTP on 127.0.0.1 and rejects what Telegram
rejects (bad HTML, too long texts, invalid keyboards, unknown chats, flood limits…).
"""

from bot.emulator.html import HtmlParseError, ParsedText, parse_html, utf16_len
from bot.emulator.models import ApiCall, ApiError, BotEvent, RateLimits, SentMessage
from bot.emulator.server import BotApiEmulator

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotEvent",
    "HtmlParseError",
    "ParsedText",
    "RateLimits",
    "SentMessage",
    "parse_html",
    "utf16_len",
]
