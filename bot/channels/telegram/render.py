"""Render the core's outcomes as Telegram messages, keyboards and command lists."""

from __future__ import annotations

import asyncio
import functools
import html as markup_escape
import io
import logging
import re
from collections.abc import Sequence
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.config import LANGUAGES
from bot.core.commands import commands_for
from bot.core.replies import Button, Outcome, Reply, SentFile
from bot.core.text import Plain, Span, parse
from bot.i18n import _, use_language
from storage.models import Member

log = logging.getLogger(__name__)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
MAX_TEXT = 4096
MAX_CAPTION = 1024  # Telegram's limit for a caption
MAX_CALLBACK_DATA = 64  # bytes of a button's callback data


def callback_data(button: Button) -> str:
    """The button's reference packed as Telegram callback data, within its 64 bytes: the
    shorter stand-in the core gave when the reference itself is too long."""
    for ref in (button.ref, button.fallback):
        if ref is not None and len((data := ref.pack()).encode()) <= MAX_CALLBACK_DATA:
            return data
    raise ValueError(f"the reference of button {button.label!r} exceeds Telegram's "
                     f"{MAX_CALLBACK_DATA} bytes: {button.ref.pack()!r}")


_TAG = {"strong": "b", "emphasis": "i", "underline": "u", "strike": "s", "code": "code"}


def html_of(spans: Sequence[Span]) -> str:
    """Spans as Telegram's HTML: emphasis as its tags, every character of text escaped."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, Plain):
            out.append(markup_escape.escape(span.text, quote=False))
        elif span.emphasis == "link":
            href = markup_escape.escape(span.href, quote=False).replace('"', "&quot;")
            out.append(f'<a href="{href}">{html_of(span.spans)}</a>')
        else:
            tag = _TAG[span.emphasis]
            out.append(f"<{tag}>{html_of(span.spans)}</{tag}>")
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def html(text: str) -> str:
    """A text in the core's notation as Telegram's HTML."""
    # Cached: the same texts (/help, a question, a broadcast to thousands) are written again
    # and again, and parsing them each time was a visible part of a reply's cost.
    return html_of(parse(text))


def markup(reply: Reply) -> Markup | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=callback_data(b)) for b in row]
             for row in reply.buttons]
        )
    if reply.menu:
        return ReplyKeyboardMarkup(
            [list(row) for row in reply.menu], resize_keyboard=True, is_persistent=True
        )
    if reply.remove_menu:
        return ReplyKeyboardRemove()
    return None


def _size(text: str) -> int:
    """Telegram's measure of a text: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text at line ends so each part fits Telegram's limit (tags never span lines)."""
    size = _size
    if size(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while size(line) > limit:  # a single huge line: cut it hard, outside markup
            cut = _safe_cut(line, limit // 2)
            head, line = line[:cut], line[cut:]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


_HTML_TAG = re.compile(r'<(/?)(b|i|u|s|code|a)(?: href="[^"]*")?>')


def _balance(parts: list[str]) -> list[str]:
    """Close at the end of each part what is still open there, and open it again at the start
    of the next: Telegram refuses a message whose tags do not close (a bold passage, say, cut
    between two pages). Parts whose tags close already are left as they are."""
    balanced: list[str] = []
    opened: list[tuple[str, str]] = []  # (name, opening tag)
    for part in parts:
        prefix = "".join(tag for _name, tag in opened)
        for match in _HTML_TAG.finditer(part):
            if not match.group(1):
                opened.append((match.group(2), match.group()))
            elif opened and opened[-1][0] == match.group(2):
                opened.pop()
        suffix = "".join(f"</{name}>" for name, _tag in reversed(opened))
        balanced.append(prefix + part + suffix)
    return balanced


def _paged(text: str, first: int, then: int) -> list[str]:
    """The text cut at line ends, the first part within `first`, the others within `then`,
    each with its tags closed."""
    margin = 0
    while True:
        if _size(text) <= first:
            return [text]
        if first == then:
            raw = split_text(text, first - margin)
        else:
            head = split_text(text, first - margin)[0]
            rest = text[len(head):].removeprefix("\n")
            raw = [head, *(split_text(rest, then - margin) if rest else [])]
        parts = _balance(raw)
        # Tags reopened on a page may push it over: cut again with room for them.
        over = max(_size(part) - (first if i == 0 else then) for i, part in enumerate(parts))
        if over <= 0 or margin >= then // 2:
            return parts
        margin += over


def pages(text: str) -> list[str]:
    """A text in Telegram's HTML as messages within its limit, cut at line ends."""
    return _paged(text, MAX_TEXT, MAX_TEXT)


def caption_and_rest(text: str) -> tuple[str, list[str]]:
    """A caption within Telegram's limit, cut at a line end, and the rest of the text paged as
    messages to follow the file."""
    caption, *rest = _paged(text, MAX_CAPTION, MAX_TEXT)
    return caption, rest


def caption_of(text: str) -> str:
    """Shorten a caption to Telegram's limit without cutting through a tag or an entity."""
    if _size(text) <= MAX_CAPTION:
        return text
    cut = _safe_cut(text, MAX_CAPTION // 2)
    return text[:cut] + "…"


def _safe_cut(line: str, at: int) -> int:
    """Move a cut back so that it falls neither inside a tag nor inside an entity (&amp;)."""
    for opener, closer in (("<", ">"), ("&", ";")):
        start = line.rfind(opener, 0, at)
        if start != -1 and line.find(closer, start) >= at:
            at = start
    return max(at, 1)


async def deliver(update: Update, bot: ExtBot[None], outcome: Outcome) -> None:
    """Send (or edit) the outcome's messages in the update's chat and answer its button press."""
    query = update.callback_query
    chat = update.effective_chat
    if query is not None:
        # Best effort: Telegram refuses an answer after ~15 s ("query is too old"), e.g. for
        # a press made while the bot restarted. The work is done; the replies must still go.
        try:
            await query.answer(outcome.toast)
        except TelegramError as exc:
            log.info("could not answer button press %s: %s", query.id, exc.message)
            if outcome.toast and not outcome.replies and chat is not None:
                await bot.send_message(chat.id, outcome.toast)
    elif outcome.toast and chat is not None:
        await bot.send_message(chat.id, outcome.toast)
    if chat is None:
        return
    for reply in outcome.replies:
        await send_reply(bot, chat.id, reply, update)


async def edit_text(bot: ExtBot[None], chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace the text of a message sent earlier (another coordinator's card, say)."""
    await bot.edit_message_text(html(reply.text), chat_id=chat_id, message_id=message_id)


async def send_reply(bot: ExtBot[None], chat_id: int, reply: Reply,
                     update: Update | None = None) -> None:
    query = None if update is None else update.callback_query
    keyboard = markup(reply)
    if reply.media is not None or reply.reply_to is not None:
        await send_one(bot, chat_id, reply)
        return
    if reply.replace and query is not None and query.message is not None and not reply.document:
        inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
        try:
            await bot.edit_message_text(html(reply.text), chat_id=chat_id,
                                        message_id=query.message.message_id, reply_markup=inline)
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
            log.info("could not edit message %s (%s); sending instead",
                     query.message.message_id, exc.message)
    if reply.upload is not None:
        kind, upload = reply.upload
        data = InputFile(io.BytesIO(upload.content), filename=upload.filename)
        caption, rest = caption_and_rest(html(reply.text))
        if kind == "voice":
            await bot.send_voice(chat_id, data, caption=caption or None)
        elif kind == "video":
            await bot.send_video(chat_id, data, caption=caption or None)
        else:
            await bot.send_photo(chat_id, data, caption=caption or None)
        await _send_parts(bot, chat_id, rest, None)
        return
    if reply.photo is not None:
        caption, rest = caption_and_rest(html(reply.text))
        await bot.send_photo(
            chat_id, InputFile(io.BytesIO(reply.photo.content), filename=reply.photo.filename),
            caption=caption, reply_markup=None if rest else keyboard,
        )
        await _send_parts(bot, chat_id, rest, keyboard)
        return
    if reply.files:
        if reply.text:
            for part in pages(html(reply.text)):
                await bot.send_message(chat_id, part)
        await send_files(bot, chat_id, reply.files)
        return
    if reply.document is not None:
        doc = reply.document
        caption, rest = caption_and_rest(html(reply.text))
        await bot.send_document(
            chat_id, InputFile(io.BytesIO(doc.content), filename=doc.filename),
            caption=caption, reply_markup=None if rest else keyboard,
        )
        await _send_parts(bot, chat_id, rest, keyboard)
        return
    await _send_parts(bot, chat_id, pages(html(reply.text)), keyboard)


async def _send_parts(bot: ExtBot[None], chat_id: int, parts: Sequence[str],
                      keyboard: Markup | None) -> None:
    """Send the pages of a text, the keyboard under the last (the question it answers)."""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await bot.send_message(chat_id, part, reply_markup=keyboard if last else None)


_ALBUM_KINDS = {"photo": InputMediaPhoto, "video": InputMediaVideo,
                "document": InputMediaDocument, "audio": InputMediaAudio}
# Telegram groups photos with videos; documents and audio files only with their own kind.
_ALBUM_FAMILY = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}


async def send_files(bot: ExtBot[None], chat_id: int, files: Sequence[SentFile]) -> None:
    """Send stored files again: photos and videos as albums of up to ten, the rest one by one."""
    families: dict[str, list[SentFile]] = {}
    for item in files:
        if item.kind == "location" and item.latitude is not None and item.longitude is not None:
            await bot.send_location(chat_id, item.latitude, item.longitude)
        elif item.kind == "voice" and item.file_id:
            await bot.send_voice(chat_id, item.file_id, caption=caption_of(html(item.caption)) or None)
        elif item.kind in _ALBUM_FAMILY and item.file_id:
            families.setdefault(_ALBUM_FAMILY[item.kind], []).append(item)
    for members in families.values():
        for start in range(0, len(members), 10):
            chunk = members[start:start + 10]
            if len(chunk) == 1:
                await _send_one(bot, chat_id, chunk[0])
                continue
            await bot.send_media_group(chat_id, [
                _ALBUM_KINDS[i.kind](i.file_id, caption=caption_of(html(i.caption)) or None)
                for i in chunk])


async def _send_one(bot: ExtBot[None], chat_id: int, item: SentFile) -> None:
    assert item.file_id is not None
    caption = caption_of(html(item.caption)) or None
    if item.kind == "photo":
        await bot.send_photo(chat_id, item.file_id, caption=caption)
    elif item.kind == "video":
        await bot.send_video(chat_id, item.file_id, caption=caption)
    elif item.kind == "audio":
        await bot.send_audio(chat_id, item.file_id, caption=caption)
    else:
        await bot.send_document(chat_id, item.file_id, caption=caption)
async def send_one(bot: ExtBot[Any], chat_id: int, reply: Reply,
                   rate_limit_args: Any = None, read_timeout: float | None = None) -> Message:
    """Send one message: a text, or a photo or document by file id with the text as its
    caption (the outbox uses it too, so a preview is exactly what recipients get). A text
    beyond Telegram's limits goes on in more messages, the keyboard under the last, which is
    returned (the core keeps announcements, cards and reminders short enough for one)."""
    keyboard = markup(reply)
    answer_to = (None if reply.reply_to is None
                 else ReplyParameters(reply.reply_to, allow_sending_without_reply=True))
    options: dict[str, Any] = {"rate_limit_args": rate_limit_args, "read_timeout": read_timeout}
    if reply.media is not None:
        kind, file_id = reply.media
        caption, parts = caption_and_rest(html(reply.text))
        send_file = bot.send_photo if kind == "photo" else bot.send_document
        sent: Message = await send_file(chat_id, file_id, caption=caption or None,
                                        reply_markup=None if parts else keyboard,
                                        reply_parameters=answer_to, **options)
    else:
        first, *parts = pages(html(reply.text))
        sent = await bot.send_message(chat_id, first, reply_markup=None if parts else keyboard,
                                      reply_parameters=answer_to, **options)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await bot.send_message(chat_id, part, reply_markup=keyboard if last else None,
                                      **options)
    return sent


def _bot_commands(role: Member | None) -> list[BotCommand]:
    return [BotCommand(c.name, _(c.description)[:256])
            for c in commands_for(None if role is None else role.role)]


async def set_visitor_commands(bot: ExtBot[None], default_language: str) -> None:
    """Publish, per client language, the commands of people who have not joined yet."""
    scope = BotCommandScopeAllPrivateChats()
    menus: dict[str | None, list[BotCommand]] = {}
    # Telegram takes two-letter codes here: a Brazilian phone (pt-br) gets the "pt" menu,
    # whose two visitor commands are worded for both Portuguese.
    for language in LANGUAGES:
        with use_language(language):
            menus[language] = _bot_commands(None)
    with use_language(default_language):
        menus[None] = _bot_commands(None)
    # At once, not one after the other: start-up waits for them before polling.
    await asyncio.gather(*(bot.set_my_commands(commands, scope=scope, language_code=language)
                           for language, commands in menus.items()))


async def set_member_commands(bot: ExtBot[None], chat_id: int, member: Member | None) -> None:
    """Show a member their role's commands in their language; reset them for someone who left."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if member is None or member.status == "forgotten":
            await bot.delete_my_commands(scope=scope)
            return
        with use_language(member.language):
            await bot.set_my_commands(_bot_commands(member), scope=scope)
    except (BadRequest, Forbidden) as exc:
        # A command menu is a convenience: never fail the person's action for it.
        log.warning("could not set commands for chat %s: %s", chat_id, exc.message)
