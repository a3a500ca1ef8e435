"""A loopback Telegram Bot API emulator for end-to-end tests, the demo and benchmarks.

It speaks Telegram's wire format over HTTP on 127.0.0.1 and rejects what Telegram
rejects (bad HTML, too long texts, invalid keyboards, unknown chats, flood limits…)::

    async with BotApiEmulator() as emu:
        emu.add_user(42, "Alice", language_code="fr")
        app = Application.builder().token(emu.token).base_url(emu.base_url) \
            .base_file_url(emu.base_file_url).build()
        ...  # start polling
        emu.send_text(42, "/start")
        event = await emu.next_event(42)   # the bot's first visible action in chat 42

``next_event`` is a FIFO per chat filled from the chat's creation on (sends, edits,
deletions, callback answers; chat actions only reach ``subscribe()`` queues); use
``drain_events`` to skip what is already queued. ``delivered(chat_id)`` lists every message
ever sent to a chat (duplicates kept). ``BotApiEmulator(faults=FaultPlan(...))`` injects
seeded random 5xx, dropped connections, 429s and latency spikes (see ``faults.py``).
"""

from bot.emulator.faults import Fault, FaultPlan, FaultStats
from bot.emulator.html import HtmlParseError, ParsedText, parse_html, utf16_len
from bot.emulator.models import ApiCall, ApiError, BotEvent, RateLimits, SentMessage
from bot.emulator.server import BotApiEmulator

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotEvent",
    "Fault",
    "FaultPlan",
    "FaultStats",
    "HtmlParseError",
    "ParsedText",
    "RateLimits",
    "SentMessage",
    "parse_html",
    "utf16_len",
]
