"""The emulated Telegram world: users, chats, messages, files, pending updates and events.

Everything here is synchronous and O(1) per operation; the HTTP side lives in
``server.py`` and the Bot API methods in ``methods.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, replace
from typing import Any

from bot.emulator.html import ParsedText, utf16_len
from bot.emulator.models import ApiCall, ApiError, BotEvent, SentMessage, StoredFile, bad_request
from bot.emulator.validation import Markup, scope_key, validate_language_code

__all__ = ["ChatState", "UserInfo", "World"]

CALLBACK_TTL = 15 * 60.0  # Telegram refuses answers to queries older than this
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile limit for bots
EVENTS_PER_CHAT = 1000  # unread events kept per chat (benchmarks never read them)
USER_MESSAGES_PER_CHAT = 1000  # user messages kept for reply_to lookups
CALLS_KEPT = 10_000

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


@dataclass(frozen=True)
class UserInfo:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


class ChatState:
    """One chat: its message counter, the bot's messages and the events not yet read."""

    __slots__ = (
        "bot_messages",
        "delivered",
        "events",
        "id",
        "json",
        "members",
        "next_message_id",
        "reply_keyboard",
        "user_messages",
        "waiter",
    )

    def __init__(self, chat_json: dict[str, Any], members: set[int] | None = None) -> None:
        self.id: int = chat_json["id"]
        self.json = chat_json
        self.members = members
        self.next_message_id = 1
        self.bot_messages: dict[int, SentMessage] = {}
        self.delivered: list[SentMessage] = []  # every message sent, in order, as first sent
        self.user_messages: dict[int, dict[str, Any]] = {}
        self.reply_keyboard: list[list[str]] | None = None
        self.events: deque[BotEvent] = deque(maxlen=EVENTS_PER_CHAT)
        self.waiter: asyncio.Event | None = None

    def allocate_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def has_message(self, message_id: int) -> bool:
        return message_id in self.bot_messages or message_id in self.user_messages


@dataclass
class _Query:
    created: float
    chat_id: int
    message_id: int


class World:
    """State of the emulated Telegram server and the simulated users' actions."""

    def __init__(self, *, token: str, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.calls: list[ApiCall] = []
        self.stats: Counter[str] = Counter()
        self.webhook_url = ""
        self.users: dict[int, UserInfo] = {}
        self.chats: dict[int, ChatState] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.stored_commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.pending: deque[dict[str, Any]] = deque()
        self.update_waiter: asyncio.Event | None = None
        self.allowed_updates: frozenset[str] | None = None
        self._next_update_id = 1
        self._seq = 0
        self._queries: dict[str, _Query] = {}
        self.updates_pushed: dict[int, str] = {}  # every update users created: id -> kind
        self._subscribers: list[asyncio.Queue[BotEvent]] = []

    # ----------------------------------------------------------------- setup

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Add a user and their private chat with the bot (chat id == user id)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = UserInfo(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        chat_json: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_json["last_name"] = last_name
        if username:
            chat_json["username"] = username
        existing = self.chats.get(user_id)
        if existing is None:
            self.chats[user_id] = ChatState(chat_json)
        else:
            existing.json = chat_json

    def add_group(self, chat_id: int, title: str, member_ids: list[int]) -> None:
        """Add a group (negative id; ids below -10**12 are supergroups) with its members."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        unknown = [m for m in member_ids if m not in self.users]
        if unknown:
            raise ValueError(f"unknown users {unknown}: add_user() them first")
        kind = "supergroup" if chat_id <= -(10**12) else "group"
        self.chats[chat_id] = ChatState(
            {"id": chat_id, "type": kind, "title": title}, members=set(member_ids)
        )

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat answer 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    # ------------------------------------------------------------ user actions

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """The user sends a text message; a leading /command gets a bot_command entity."""
        fields: dict[str, Any] = {"text": text}
        match = _COMMAND.match(text)
        if match is not None:
            length = utf16_len(match.group(0))
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._user_message(user_id, chat_id, fields, reply_to_message_id)

    def press(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None,
        check: bool = True,
    ) -> int:  # fmt: skip
        """The user presses an inline button of a bot message (``check=False`` forges data)."""
        chat = self._user_chat(user_id, chat_id)
        sent = chat.bot_messages.get(message_id)
        if check:
            if sent is None:
                raise ValueError(f"no bot message {message_id} in chat {chat.id}")
            if data not in {b.get("callback_data") for row in sent.inline_keyboard for b in row}:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        message: dict[str, Any]
        if sent is not None:
            message = self.message_json(sent)
        else:  # Telegram sends an InaccessibleMessage (date 0) for unknown messages
            message = {"chat": chat.json, "message_id": message_id, "date": 0}
        query_id = str(4_000_000_000_000_000 + self._next_seq())
        now = time.monotonic()
        self._queries[query_id] = _Query(now, chat.id, message_id)
        self._expire_queries(now)
        payload = {
            "id": query_id,
            "from": self.users[user_id].json(),
            "message": message,
            "chat_instance": str(abs(chat.id) * 7919 + self.bot_id),
            "data": data,
        }
        return self.push_update("callback_query", payload)

    def send_photo(
        self, user_id: int, data: bytes, *, caption: str | None = None,
        media_group_id: str | None = None, width: int = 800, height: int = 600,
        chat_id: int | None = None,
    ) -> int:  # fmt: skip
        """The user sends a photo: ``photo`` lists a small size and the full one."""
        fields: dict[str, Any] = {"photo": self.photo_sizes(data, width, height)}
        return self._user_media(user_id, chat_id, fields, caption, media_group_id)

    def send_document(
        self, user_id: int, data: bytes, *, file_name: str, mime_type: str,
        caption: str | None = None, media_group_id: str | None = None,
        chat_id: int | None = None,
    ) -> int:  # fmt: skip
        stored = self.store_file(data, "documents", file_name=file_name, mime_type=mime_type)
        fields = {"document": self.file_json(stored, file_name=file_name, mime_type=mime_type)}
        return self._user_media(user_id, chat_id, fields, caption, media_group_id)

    def send_voice(
        self, user_id: int, data: bytes, *, duration: int = 3, mime_type: str = "audio/ogg",
        chat_id: int | None = None,
    ) -> int:  # fmt: skip
        stored = self.store_file(data, "voice", mime_type=mime_type)
        fields = {"voice": self.file_json(stored, duration=duration, mime_type=mime_type)}
        return self._user_media(user_id, chat_id, fields, None, None)

    def send_video(
        self, user_id: int, data: bytes, *, duration: int = 5, caption: str | None = None,
        media_group_id: str | None = None, chat_id: int | None = None,
    ) -> int:  # fmt: skip
        stored = self.store_file(data, "videos", mime_type="video/mp4")
        video = self.file_json(
            stored, width=640, height=480, duration=duration, mime_type="video/mp4"
        )
        return self._user_media(user_id, chat_id, {"video": video}, caption, media_group_id)

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user_id, chat_id, {"location": location}, None)

    def send_oversized_document(
        self, user_id: int, *, size: int, file_name: str, mime_type: str,
        chat_id: int | None = None,
    ) -> int:  # fmt: skip
        """A document whose getFile answers "file is too big" (bots download up to 20 MB)."""
        stored = self.store_file(None, "documents", size=size, file_name=file_name,
                                 mime_type=mime_type)  # fmt: skip
        fields = {"document": self.file_json(stored, file_name=file_name, mime_type=mime_type)}
        return self._user_message(user_id, chat_id, fields, None)

    def jump_update_ids(self, by: int) -> None:
        """Make the next update_id jump, as Telegram does after a quiet week."""
        self._next_update_id += by

    def delivered(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to a chat, in order, as first sent (duplicates kept)."""
        chat = self.chats.get(chat_id)
        return [] if chat is None else list(chat.delivered)

    def update_ids_pending(self) -> list[int]:
        """Update ids enqueued but not yet confirmed by the bot through ``offset``."""
        return [update["update_id"] for update in self.pending]

    # -------------------------------------------------------- what the bot did

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat as they stand now (edits applied, deletions gone)."""
        chat = self.chats.get(chat_id)
        return [] if chat is None else list(chat.bot_messages.values())

    def last_message(self, chat_id: int) -> SentMessage | None:
        chat = self.chats.get(chat_id)
        if chat is None or not chat.bot_messages:
            return None
        return chat.bot_messages[next(reversed(chat.bot_messages))]

    async def next_event(self, chat_id: int, timeout: float = 5.0) -> BotEvent:
        """Pop the oldest unread event of a chat, waiting up to ``timeout`` seconds.

        Events queue from the chat's creation on, so an event that happened before the
        call is returned at once. Raises ``TimeoutError`` (= asyncio.TimeoutError).
        """
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not chat.events:
            if chat.waiter is None:
                chat.waiter = asyncio.Event()
            chat.waiter.clear()
            async with asyncio.timeout_at(deadline):
                await chat.waiter.wait()
        return chat.events.popleft()

    def drain_events(self, chat_id: int) -> list[BotEvent]:
        """Pop every event queued for a chat now, without waiting."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        events = list(chat.events)
        chat.events.clear()
        return events

    def subscribe(self) -> asyncio.Queue[BotEvent]:
        """A queue receiving every event of every chat (chat actions too) from now on."""
        queue: asyncio.Queue[BotEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[BotEvent]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def commands(
        self, *, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """What setMyCommands stored for that scope (Telegram BotCommandScope JSON) and language."""
        key = (scope_key(scope), validate_language_code(language_code))
        return [dict(c) for c in self.stored_commands.get(key, [])]

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        """Button texts of the reply keyboard shown in a chat (kept until replaced/removed)."""
        chat = self.chats.get(chat_id)
        return None if chat is None else chat.reply_keyboard

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file the bot uploaded or a user sent."""
        stored = self.files.get(file_id)
        if stored is None:
            raise KeyError(file_id)
        if stored.data is None:
            raise ValueError(f"file {file_id} is oversized and has no content")
        return stored.data

    # ------------------------------------------- internals used by methods.py

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self.updates_pushed[update_id] = kind
        if self.allowed_updates and kind not in self.allowed_updates:
            return update_id  # Telegram drops types the bot did not ask for
        self.pending.append({"update_id": update_id, kind: payload})
        if self.update_waiter is not None:
            self.update_waiter.set()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps the last ``-offset``."""
        pending = self.pending
        if offset < 0:
            while len(pending) > -offset:
                pending.popleft()
        else:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()

    def emit(self, event: BotEvent) -> None:
        # Chat actions go to subscribers only: per-chat queues hold what tests assert on.
        if event.kind != "chat_action":
            chat = self.chats.get(event.chat_id)
            if chat is not None:
                chat.events.append(event)
                if chat.waiter is not None:
                    chat.waiter.set()
        for queue in self._subscribers:
            queue.put_nowait(event)

    def record_call(self, call: ApiCall) -> None:
        self.calls.append(call)
        if len(self.calls) > CALLS_KEPT + CALLS_KEPT // 10:
            del self.calls[: len(self.calls) - CALLS_KEPT]  # amortised O(1)

    def bot_chat(self, chat_id: Any, *, check_blocked: bool = True) -> ChatState:
        """The chat a bot call addresses, with Telegram's errors."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if check_blocked and chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def add_bot_message(
        self,
        chat: ChatState,
        *,
        kind: str,
        parsed: ParsedText,
        raw: str,
        parse_mode: str | None,
        markup: Markup,
        reply_to: int | None = None,
        media: dict[str, Any] | None = None,
        file_ids: list[str] | None = None,
        file_name: str | None = None,
        media_group_id: str | None = None,
        media_type: str | None = None,
    ) -> SentMessage:
        sent = SentMessage(
            message_id=chat.allocate_id(),
            chat_id=chat.id,
            text=parsed.text,
            html=raw,
            parse_mode=parse_mode,
            entities=parsed.entities,
            inline_keyboard=markup.inline_keyboard,
            kind=kind,
            file_ids=file_ids or [],
            file_name=file_name,
            date=int(time.time()),
            media_group_id=media_group_id,
            media_type=media_type,
            reply_to_message_id=reply_to,
            media=media or {},
        )
        chat.bot_messages[sent.message_id] = sent
        chat.delivered.append(sent)
        if markup.reply_keyboard is not None:
            chat.reply_keyboard = markup.reply_keyboard
        elif markup.remove_keyboard:
            chat.reply_keyboard = None
        self.stats["messages_sent"] += 1
        self.emit(BotEvent("send", chat.id, sent, message_id=sent.message_id))
        return sent

    def edit_bot_message(self, sent: SentMessage, **changes: Any) -> SentMessage:
        edited = replace(sent, edited=True, edit_date=int(time.time()), **changes)
        self.chats[sent.chat_id].bot_messages[sent.message_id] = edited
        self.emit(BotEvent("edit", sent.chat_id, edited, message_id=sent.message_id))
        return edited

    def message_json(self, sent: SentMessage, *, with_reply: bool = True) -> dict[str, Any]:
        """The Telegram Message object for a bot message."""
        chat = self.chats[sent.chat_id]
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "from": self.bot_user,
            "chat": chat.json,
            "date": sent.date,
        }
        if sent.edit_date is not None:
            message["edit_date"] = sent.edit_date
        if sent.kind == "text":
            message["text"] = sent.text
            if sent.entities:
                message["entities"] = sent.entities
        else:
            message.update(sent.media)
            if sent.text:
                message["caption"] = sent.text
                if sent.entities:
                    message["caption_entities"] = sent.entities
        if sent.media_group_id is not None:
            message["media_group_id"] = sent.media_group_id
        if sent.inline_keyboard:
            message["reply_markup"] = {"inline_keyboard": sent.inline_keyboard}
        if with_reply and sent.reply_to_message_id is not None:
            target = self._any_message_json(chat, sent.reply_to_message_id)
            if target is not None:
                message["reply_to_message"] = target
        return message

    def answer_query(self, query_id: str, text: str | None, show_alert: bool) -> None:
        query = self._queries.pop(query_id, None)
        if query is None or time.monotonic() - query.created > CALLBACK_TTL:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        chat = self.chats[query.chat_id]
        sent = chat.bot_messages.get(query.message_id)
        self.emit(BotEvent("answer_callback", chat.id, sent, text, show_alert, query.message_id))

    def store_file(
        self,
        data: bytes | None,
        folder: str,
        *,
        size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        seq = self._next_seq()
        suffix = _suffix(folder, file_name)
        stored = StoredFile(
            file_id=f"EMU{seq:07d}-{folder}",
            file_unique_id=f"U{seq:07d}",
            file_path=f"{folder}/file_{seq}{suffix}",
            size=len(data) if data is not None else size or 0,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def file_json(stored: StoredFile, **extra: Any) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            **{k: v for k, v in extra.items() if v is not None},
        }

    def photo_sizes(
        self, data: bytes, width: int, height: int, full: StoredFile | None = None
    ) -> list[dict[str, Any]]:
        """A small size and the full one, like Telegram's ``photo`` arrays (same bytes)."""
        small = self.store_file(data, "photos")
        full = full or self.store_file(data, "photos")
        scale = min(1.0, 90 / max(width, height, 1))
        return [
            self.file_json(
                small, width=max(1, round(width * scale)), height=max(1, round(height * scale))
            ),
            self.file_json(full, width=width, height=height),
        ]

    def next_media_group_id(self) -> str:
        return str(13_000_000_000_000_000 + self._next_seq())

    def set_commands(
        self, scope: Any, language_code: str | None, commands: list[dict[str, str]]
    ) -> None:
        key = (self._scope_key_checked(scope), validate_language_code(language_code))
        if commands:
            self.stored_commands[key] = commands
        else:
            self.stored_commands.pop(key, None)

    def get_commands(self, scope: Any, language_code: str | None) -> list[dict[str, str]]:
        key = (self._scope_key_checked(scope), validate_language_code(language_code))
        return self.stored_commands.get(key, [])

    # ------------------------------------------------------------- private

    def _scope_key_checked(self, scope: Any) -> str:
        key = scope_key(scope)
        chat_id = json.loads(key).get("chat_id")
        if chat_id is not None:
            self.bot_chat(chat_id, check_blocked=False)
        return key

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _expire_queries(self, now: float) -> None:
        # dicts keep insertion order, so the oldest queries are first
        while self._queries:
            oldest = next(iter(self._queries))
            if now - self._queries[oldest].created <= CALLBACK_TTL:
                break
            del self._queries[oldest]

    def _user_chat(self, user_id: int, chat_id: int | None) -> ChatState:
        if user_id not in self.users:
            raise ValueError(f"unknown user {user_id}: add_user() first")
        chat = self.chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        if chat.members is not None and user_id not in chat.members:
            raise ValueError(f"user {user_id} is not a member of chat {chat.id}")
        return chat

    def _any_message_json(self, chat: ChatState, message_id: int) -> dict[str, Any] | None:
        sent = chat.bot_messages.get(message_id)
        if sent is not None:
            return self.message_json(sent, with_reply=False)
        return chat.user_messages.get(message_id)

    def _user_message(
        self, user_id: int, chat_id: int | None, fields: dict[str, Any], reply_to: int | None
    ) -> int:
        chat = self._user_chat(user_id, chat_id)
        message: dict[str, Any] = {
            "message_id": chat.allocate_id(),
            "from": self.users[user_id].json(),
            "chat": chat.json,
            "date": int(time.time()),
            **fields,
        }
        if reply_to is not None:
            target = self._any_message_json(chat, reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id}")
            message["reply_to_message"] = target
        chat.user_messages[message["message_id"]] = message
        if len(chat.user_messages) > USER_MESSAGES_PER_CHAT:
            del chat.user_messages[next(iter(chat.user_messages))]
        return self.push_update("message", message)

    def _user_media(
        self,
        user_id: int,
        chat_id: int | None,
        fields: dict[str, Any],
        caption: str | None,
        media_group_id: str | None,
    ) -> int:
        if caption:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(user_id, chat_id, fields, None)


def _suffix(folder: str, file_name: str | None) -> str:
    if file_name and "." in file_name:
        ext = file_name.rsplit(".", 1)[1]
        if ext.isalnum() and len(ext) <= 8:
            return "." + ext.lower()
    return {"photos": ".jpg", "voice": ".oga", "videos": ".mp4", "music": ".mp3"}.get(folder, "")
