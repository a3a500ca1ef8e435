"""What the core answers, independent of the channel that renders it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.callbacks import CallbackRef
from bot.core.text import h

__all__ = ["Button", "Document", "Edit", "Notice", "Outcome", "Reply", "SentFile", "h"]


@dataclass(frozen=True)
class Button:
    """A choice offered to the person: its label and the reference of what it means.

    The reference is typed (`bot.core.callbacks`); each channel's renderer packs it into what
    its choices carry back (Telegram's 64-byte callback data, WhatsApp's reply ids, an SMS
    number kept by the bot) and refuses one that does not fit. `fallback`, when given, names
    the same choice more briefly (e.g. by position in a list rather than by value): a
    renderer uses it when `ref` is too long for its channel, so the core never needs to know
    any channel's limit.
    """

    label: str
    ref: CallbackRef
    fallback: CallbackRef | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class SentFile:
    """A file Telegram already holds (a partner's photo, voice note…), sent again by its id."""

    kind: str  # photo, video, document, voice, audio, location
    file_id: str | None = None
    caption: str = ""  # in the core's notation (`bot.core.text`), user text through `h()`
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Reply:
    """One message to the person, in a form no channel owns.

    `text` is plain text with semantic emphasis, written in the core's notation
    (`bot.core.text`: strong, emphasis, code, links; user text through `h()`); `buttons` are
    choices, each a label and the typed reference of what it means (`Button`); `menu` offers
    answers to type, `document`, `photo`, `upload`, `files` and `media` carry media. Nothing
    here knows a channel's limits: each channel's renderer writes the reply in its own form
    and pages what does not fit (`bot.channels.telegram.render` for Telegram,
    `bot.channels.whatsapp.render`, `bot.channels.sms.render`).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    menu: tuple[tuple[str, ...], ...] | None = None  # a reply keyboard to show
    remove_menu: bool = False
    document: Document | None = None
    photo: Document | None = None  # an image made by the bot (a chart); `text` is its caption
    files: tuple[SentFile, ...] = ()  # sent after the text, photos and videos as albums
    replace: bool = False  # edit the message whose button was pressed instead of sending
    # A photo or document already on Telegram's servers, as (kind, file id): sent with the
    # text as its caption.
    media: tuple[str, str] | None = None
    reply_to: int | None = None  # the message this one answers, in the same chat
    # A file made or kept by the bot, sent as ("photo" | "voice" | "video", file) with the
    # text as its caption (a questionnaire's media label).
    upload: tuple[str, Document] | None = None


@dataclass(frozen=True)
class Notice:
    """A message for someone other than the person acting (e.g. a report's coordinators)."""

    telegram_user_id: int
    reply: Reply
    report_id: int | None = None  # the report it is about, if any
    review_card: bool = False  # a card with review buttons: its message is recorded


@dataclass(frozen=True)
class Edit:
    """A change to a message sent earlier to someone else (e.g. another coordinator's card)."""

    chat_id: int
    message_id: int
    reply: Reply


@dataclass(frozen=True)
class Outcome:
    """The core's answer to one action: messages, a toast for a button, side effects to apply."""

    replies: tuple[Reply, ...] = ()
    toast: str | None = None
    refresh_commands: bool = False  # the person's command list changed (role, language, left)
    notices: tuple[Notice, ...] = ()  # messages for other people, sent after the replies
    edits: tuple[Edit, ...] = ()  # earlier messages to other people, brought up to date
    # The replies show again the step the member was at (a resumed flow): nothing moved, so a
    # text typed before they arrive still answers the question that was on screen.
    stays: bool = False

    @classmethod
    def of(cls, *replies: Reply, toast: str | None = None, refresh_commands: bool = False) -> Outcome:
        return cls(replies=replies, toast=toast, refresh_commands=refresh_commands)
