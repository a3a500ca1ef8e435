"""What a person sent, whatever the channel: the neutral events the features' routers receive.

Each channel's adapter reads its own wire format into one of these (Telegram's `Update` in
`bot/channels/telegram/inbound.py`, Meta's webhook messages in
`bot/channels/whatsapp/events.py`), so that the rules of a feature never depend on how a
command was typed, how a choice was pressed or how a file arrived.

Ids: the sender and the chat are one person id on both channels (`bot/core/addresses.py`):
Telegram's user id, positive, or the negative of a WhatsApp number. A message id
is Telegram's number or WhatsApp's `wamid` string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callbacks import CallbackRef, prefixes
from bot.core.media import Media
from bot.core.people import Person

Channel = Literal["telegram", "whatsapp"]
MessageId = int | str
FileKind = Literal["photo", "document", "video", "voice", "audio"]


@dataclass(frozen=True, kw_only=True)
class Inbound:
    """Who sent what, where, and which earlier message it answers (if it says)."""

    channel: Channel
    sender: Person
    chat_id: int
    message_id: MessageId | None  # None for a choice whose message the channel did not give
    reply_to: MessageId | None = None  # Telegram's reply, WhatsApp's context

    @property
    def numeric_message_id(self) -> int | None:
        """The message id when it is a number (Telegram's), which the store keeps so far."""
        return self.message_id if isinstance(self.message_id, int) else None

    @property
    def numeric_reply_to(self) -> int | None:
        """The replied-to message id when it is a number (Telegram's)."""
        return self.reply_to if isinstance(self.reply_to, int) else None


@dataclass(frozen=True, kw_only=True)
class Command(Inbound):
    """`/name arg…`: the name lower-cased, without the slash (nor Telegram's `@bot`)."""

    name: str
    args: tuple[str, ...] = ()
    word: str = ""  # the command as typed (`/Name@bot`), echoed when no feature knows it


@dataclass(frozen=True, kw_only=True)
class Text(Inbound):
    """Free text that is not a command."""

    body: str

    def media(self) -> Media:
        """The text as the core's `Media` (a field update keeps a text like a file)."""
        return Media("text", body=self.body, chat_id=self.chat_id,
                     message_id=self.numeric_message_id)


@dataclass(frozen=True, kw_only=True)
class Choice(Inbound):
    """A pressed button or list row: the reference it carries, as the core wrote it."""

    data: str

    @property
    def ref(self) -> CallbackRef | None:
        """The reference parsed by the codec, or None if no class reads it (stale, forged)."""
        # The longest prefix first: `sv:go:…` is a SurveyStart, not a SurveyAnswer.
        for prefix, cls in sorted(prefixes().items(), key=lambda item: -len(item[0])):
            if self.data == prefix or self.data.startswith(prefix + ":"):
                parsed = cls.parse(self.data)
                if parsed is not None:
                    return parsed
        return None


@dataclass(frozen=True, kw_only=True)
class MediaMessage(Inbound):
    """A file: its kind, the channel's reference to fetch it, and its caption."""

    kind: FileKind
    file_id: str  # Telegram's file_id, WhatsApp's media id
    file_unique_id: str | None = None  # Telegram's file_unique_id, WhatsApp's sha256
    mime_type: str | None = None
    size: int | None = None  # in bytes, when the channel says
    caption: str | None = None
    media_group_id: str | None = None  # Telegram's album (several photos sent at once)

    def media(self) -> Media:
        """The file as the core's `Media`."""
        return Media(self.kind, self.file_id, self.file_unique_id, self.mime_type, self.size,
                     caption=self.caption, media_group_id=self.media_group_id,
                     chat_id=self.chat_id, message_id=self.numeric_message_id)


@dataclass(frozen=True, kw_only=True)
class Location(Inbound):
    """A shared place (not checked here: `Media.has_valid_location` refuses a forged one)."""

    latitude: float
    longitude: float

    def media(self) -> Media:
        """The place as the core's `Media`."""
        return Media("location", latitude=self.latitude, longitude=self.longitude,
                     chat_id=self.chat_id, message_id=self.numeric_message_id)


@dataclass(frozen=True, kw_only=True)
class Unsupported(Inbound):
    """Anything else (a sticker, a contact, a poll…): answered, never dropped in silence."""

    kind: str


InboundEvent = Command | Text | Choice | MediaMessage | Location | Unsupported
FreeInput = Text | MediaMessage | Location
