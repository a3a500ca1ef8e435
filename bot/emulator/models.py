"""Plain data the emulator exposes to tests: what the bot sent, did and called."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiCall",
    "ApiError",
    "BotEvent",
    "RateLimits",
    "SentMessage",
    "StoredFile",
    "Upload",
]


@dataclass
class RateLimits:
    """Telegram-like flood limits; ``None`` disables a limit (all ``None`` by default).

    ``per_chat_burst`` is how many messages a private chat accepts at once before the
    per-second rate applies (Telegram tolerates short bursts).
    """

    global_per_second: float | None = None
    per_chat_per_second: float | None = None
    per_group_per_minute: float | None = None
    per_chat_burst: int = 3


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, as it currently stands (a new snapshot per edit)."""

    message_id: int
    chat_id: int
    text: str
    html: str
    parse_mode: str | None
    entities: list[dict[str, Any]]
    inline_keyboard: list[list[dict[str, Any]]]
    kind: str
    file_ids: list[str]
    file_name: str | None
    date: int
    edited: bool = False
    edit_date: int | None = None
    media_group_id: str | None = None
    media_type: str | None = None
    reply_to_message_id: int | None = None
    media: dict[str, Any] = field(default_factory=dict)
    """Extra Telegram Message fields (``photo``, ``document``, ``location``…)."""

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons in reading order as ``(text, callback_data)``."""
        return [(b["text"], b.get("callback_data")) for row in self.inline_keyboard for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.inline_keyboard for b in row]

    def callback_data(self, button_text: str) -> str:
        """The callback_data of the button labelled ``button_text`` (KeyError if none)."""
        for row in self.inline_keyboard:
            for button in row:
                if button["text"] == button_text and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(button_text)


@dataclass(frozen=True)
class BotEvent:
    """One visible thing the bot did in a chat."""

    kind: str  # "send" | "edit" | "delete" | "answer_callback" | "chat_action"
    chat_id: int
    message: SentMessage | None = None
    text: str | None = None
    show_alert: bool = False
    message_id: int | None = None


@dataclass
class ApiCall:
    """One HTTP call to the Bot API; ``status`` 0 while unanswered (or hung)."""

    method: str
    params: dict[str, Any]
    status: int = 0
    description: str | None = None
    at: float = 0.0


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class StoredFile:
    """A file known to the emulated server; ``data`` is None for oversized files."""

    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    data: bytes | None
    file_name: str | None = None
    mime_type: str | None = None


class ApiError(Exception):
    """A Bot API error answer: HTTP status = ``error_code``."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")
