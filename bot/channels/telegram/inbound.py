"""Telegram's updates read into the core's neutral events (`bot/core/events.py`)."""

from __future__ import annotations

from typing import Protocol

from telegram import Message, MessageEntity, Update

from bot.core.events import (
    Choice,
    Command,
    FileKind,
    InboundEvent,
    Location,
    MediaMessage,
    Text,
    Unsupported,
)
from bot.core.people import Person


class _FileLike(Protocol):
    file_id: str
    file_unique_id: str
    file_size: int | None


def sender_of(update: Update) -> Person:
    """The person an update comes from."""
    user = update.effective_user
    if user is None:
        raise ValueError("update without a user")
    return Person(user_id=user.id, first_name=user.first_name, last_name=user.last_name,
                  username=user.username, language_code=user.language_code)


def event_of(update: Update) -> InboundEvent | None:
    """The neutral event an update stands for; None for updates that are no person's message
    or press (a member leaving a chat, a poll's results…)."""
    if update.effective_user is None:
        return None
    sender = sender_of(update)
    query = update.callback_query
    if query is not None:
        message = query.message
        chat_id = message.chat.id if message is not None else sender.user_id
        return Choice(channel="telegram", sender=sender, chat_id=chat_id,
                      message_id=message.message_id if message is not None else None,
                      data=query.data or "")
    message = update.message
    if message is None:
        return None
    return message_event(message, sender)


def message_event(message: Message, sender: Person) -> InboundEvent:
    """The neutral event of a new message."""
    chat_id, message_id = message.chat_id, message.message_id
    reply_to = (message.reply_to_message.message_id
                if message.reply_to_message is not None else None)
    if message.text is not None:
        entity = message.entities[0] if message.entities else None
        if entity is not None and entity.type == MessageEntity.BOT_COMMAND \
                and entity.offset == 0:
            # As python-telegram-bot's CommandHandler reads it: `/Name@bot arg…`.
            words = message.text.split()
            name = words[0][1:entity.length].split("@")[0].lower()
            return Command(channel="telegram", sender=sender, chat_id=chat_id,
                           message_id=message_id, reply_to=reply_to, name=name,
                           args=tuple(words[1:]), word=words[0])
        return Text(channel="telegram", sender=sender, chat_id=chat_id, message_id=message_id,
                    reply_to=reply_to, body=message.text)
    if message.location is not None:
        return Location(channel="telegram", sender=sender, chat_id=chat_id,
                        message_id=message_id, reply_to=reply_to,
                        latitude=message.location.latitude,
                        longitude=message.location.longitude)
    found: tuple[FileKind, _FileLike, str | None] | None = None
    if message.photo:
        found = ("photo", message.photo[-1], "image/jpeg")  # the largest size
    elif message.voice is not None:
        found = ("voice", message.voice, message.voice.mime_type)
    elif message.audio is not None:
        found = ("audio", message.audio, message.audio.mime_type)
    elif message.video is not None:
        found = ("video", message.video, message.video.mime_type)
    elif message.document is not None:  # an animation (GIF) comes as a document too
        found = ("document", message.document, message.document.mime_type)
    if found is None:
        return Unsupported(channel="telegram", sender=sender, chat_id=chat_id,
                           message_id=message_id, reply_to=reply_to, kind=_kind_name(message))
    kind, item, mime_type = found
    # Telegram's file id, never the sender's file name.
    return MediaMessage(channel="telegram", sender=sender, chat_id=chat_id,
                        message_id=message_id, reply_to=reply_to, kind=kind,
                        file_id=item.file_id, file_unique_id=item.file_unique_id,
                        mime_type=mime_type, size=item.file_size, caption=message.caption,
                        media_group_id=message.media_group_id)


def _kind_name(message: Message) -> str:
    for kind in ("sticker", "contact", "poll", "video_note", "dice", "game", "invoice"):
        if getattr(message, kind, None):
            return kind
    return "other"
