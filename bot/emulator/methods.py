"""Bot API methods (all but getUpdates, which needs the server's long polling)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from bot.emulator.html import ParsedText
from bot.emulator.models import ApiError, BotEvent, SentMessage, StoredFile, bad_request
from bot.emulator.state import DOWNLOAD_LIMIT, ChatState, World
from bot.emulator.validation import (
    Markup,
    parse_formatted,
    validate_commands,
    validate_reply_markup,
)
from bot.emulator.wire import Params

__all__ = ["METHODS", "Method", "rate_limited"]

Method = Callable[[World, Params], Any]
METHODS: dict[str, tuple[str, Method]] = {}  # lower-case name -> (canonical name, handler)

UPLOAD_LIMIT = 50 * 1024 * 1024
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_GROUP_TYPES = frozenset({"photo", "video", "document", "audio"})


def rate_limited(method: str) -> bool:
    """Calls that count against flood limits: sends and edits (not chat actions)."""
    lower = method.lower()
    return (lower.startswith("send") and lower != "sendchataction") or lower.startswith("edit")


def _method(name: str) -> Callable[[Method], Method]:
    def register(handler: Method) -> Method:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


# ---------------------------------------------------------------- bot & webhook


@_method("getMe")
def get_me(world: World, p: Params) -> Any:
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@_method("logOut")
def log_out(world: World, p: Params) -> Any:
    return True


@_method("close")
def close(world: World, p: Params) -> Any:
    return True


@_method("setWebhook")
def set_webhook(world: World, p: Params) -> Any:
    url = p.get_str("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook_url = url
    if p.get_bool("drop_pending_updates"):
        world.pending.clear()
    return True


@_method("deleteWebhook")
def delete_webhook(world: World, p: Params) -> Any:
    world.webhook_url = ""
    if p.get_bool("drop_pending_updates"):
        world.pending.clear()
    return True


@_method("getWebhookInfo")
def get_webhook_info(world: World, p: Params) -> Any:
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending),
    }


# --------------------------------------------------------------- text messages


def _reply_to(chat: ChatState, p: Params) -> int | None:
    params = p.get("reply_parameters")
    allow = p.get_bool("allow_sending_without_reply")
    if params is not None:
        if not isinstance(params, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = params.get("message_id")
        allow = allow or bool(params.get("allow_sending_without_reply"))
        if params.get("chat_id") not in (None, chat.id):
            raise bad_request("message to be replied not found")  # cross-chat replies unsupported
    else:
        message_id = p.get_int("reply_to_message_id")
    if message_id is None:
        return None
    if not isinstance(message_id, int):
        raise bad_request("invalid reply_parameters specified")
    if chat.has_message(message_id):
        return message_id
    if allow:
        return None
    raise bad_request("message to be replied not found")


@_method("sendMessage")
def send_message(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"))
    text = p.get_str("text") or ""
    parse_mode = p.get_str("parse_mode") or None
    parsed = parse_formatted(text, parse_mode, p.get("entities"))
    markup = validate_reply_markup(p.get("reply_markup"))
    sent = world.add_bot_message(
        chat, kind="text", parsed=parsed, raw=text, parse_mode=parse_mode, markup=markup,
        reply_to=_reply_to(chat, p),
    )  # fmt: skip
    return world.message_json(sent)


def _editable(world: World, p: Params) -> SentMessage:
    if p.get("inline_message_id") is not None:
        raise bad_request("message to edit not found")  # no inline mode in the emulator
    chat = world.bot_chat(p.get("chat_id"))
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    sent = chat.bot_messages.get(message_id)
    if sent is None:
        if message_id in chat.user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return sent


def _edit_markup(p: Params) -> Markup:
    # An edit without reply_markup removes the inline keyboard, as on Telegram.
    return validate_reply_markup(p.get("reply_markup"), inline_only=True)


@_method("editMessageText")
def edit_message_text(world: World, p: Params) -> Any:
    return _edit_formatted(world, _editable(world, p), p, "text", "entities", caption=False)


@_method("editMessageCaption")
def edit_message_caption(world: World, p: Params) -> Any:
    return _edit_formatted(world, _editable(world, p), p, "caption", "caption_entities",
                           caption=True)


def _edit_formatted(world: World, sent: SentMessage, p: Params, field: str,
                    entities_field: str, *, caption: bool) -> Any:
    """Edit a message's text or caption, refusing what Telegram refuses."""
    body = p.get_str(field) or ""
    parse_mode = p.get_str("parse_mode") or None
    parsed = parse_formatted(body, parse_mode, p.get(entities_field), caption=caption)
    markup = _edit_markup(p)
    if caption and sent.kind in ("text", "location"):
        raise bad_request("there is no caption in the message to edit")
    if not caption and sent.kind != "text":
        raise bad_request("there is no text in the message to edit")
    if (parsed.text, parsed.entities, markup.inline_keyboard) == (
        sent.text,
        sent.entities,
        sent.inline_keyboard,
    ):
        raise bad_request(_NOT_MODIFIED)
    edited = world.edit_bot_message(
        sent, text=parsed.text, html=body, parse_mode=parse_mode, entities=parsed.entities,
        inline_keyboard=markup.inline_keyboard,
    )  # fmt: skip
    return world.message_json(edited)


@_method("editMessageReplyMarkup")
def edit_message_reply_markup(world: World, p: Params) -> Any:
    sent = _editable(world, p)
    markup = _edit_markup(p)
    if markup.inline_keyboard == sent.inline_keyboard:
        raise bad_request(_NOT_MODIFIED)
    edited = world.edit_bot_message(sent, inline_keyboard=markup.inline_keyboard)
    return world.message_json(edited)


def _delete(world: World, chat: ChatState, message_id: int) -> bool:
    sent = chat.bot_messages.pop(message_id, None)
    if sent is not None:
        world.emit(BotEvent("delete", chat.id, sent, message_id=message_id))
        return True
    if chat.user_messages.pop(message_id, None) is not None:
        world.emit(BotEvent("delete", chat.id, None, message_id=message_id))
        return True
    return False


@_method("deleteMessage")
def delete_message(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"), check_blocked=False)
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    if not _delete(world, chat, message_id):
        raise bad_request("message to delete not found")
    return True


@_method("deleteMessages")
def delete_messages(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"), check_blocked=False)
    ids = p.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty list of at most 100 identifiers")
    for message_id in ids:
        if isinstance(message_id, int):
            _delete(world, chat, message_id)
    return True


@_method("answerCallbackQuery")
def answer_callback_query(world: World, p: Params) -> Any:
    query_id = p.get_str("callback_query_id") or ""
    text = p.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    world.answer_query(query_id, text, p.get_bool("show_alert"))
    return True


@_method("sendChatAction")
def send_chat_action(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"))
    action = p.get_str("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.emit(BotEvent("chat_action", chat.id, None, action))
    return True


# --------------------------------------------------------------- commands etc.


@_method("setMyCommands")
def set_my_commands(world: World, p: Params) -> Any:
    commands = validate_commands(p.get("commands"))
    world.set_commands(p.get("scope"), p.get_str("language_code"), commands)
    return True


@_method("getMyCommands")
def get_my_commands(world: World, p: Params) -> Any:
    return world.get_commands(p.get("scope"), p.get_str("language_code"))


@_method("deleteMyCommands")
def delete_my_commands(world: World, p: Params) -> Any:
    world.set_commands(p.get("scope"), p.get_str("language_code"), [])
    return True


@_method("setChatMenuButton")
def set_chat_menu_button(world: World, p: Params) -> Any:
    chat_id = p.get("chat_id")
    if chat_id is not None:
        world.bot_chat(chat_id, check_blocked=False)
    button = p.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button JSON object")
    world.menu_buttons[chat_id] = button
    return True


@_method("getChatMenuButton")
def get_chat_menu_button(world: World, p: Params) -> Any:
    chat_id = p.get("chat_id")
    return world.menu_buttons.get(chat_id) or world.menu_buttons.get(None) or {"type": "commands"}


def _bot_text(kind: str, limit: int) -> tuple[Method, Method]:
    def setter(world: World, p: Params) -> Any:
        value = p.get_str(kind) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        world.bot_texts[(kind, p.get_str("language_code") or "")] = value
        return True

    def getter(world: World, p: Params) -> Any:
        return {kind: world.bot_texts.get((kind, p.get_str("language_code") or ""), "")}

    return setter, getter


for _kind, _limit, _suffix in (
    ("description", 512, "Description"),
    ("short_description", 120, "ShortDescription"),
    ("name", 64, "Name"),
):
    _setter, _getter = _bot_text(_kind, _limit)
    _method(f"setMy{_suffix}")(_setter)
    _method(f"getMy{_suffix}")(_getter)


@_method("getChat")
def get_chat(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"), check_blocked=False)
    return {
        **chat.json,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


@_method("getChatMember")
def get_chat_member(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"), check_blocked=False)
    user_id = p.get_int("user_id")
    if user_id == world.bot_id:
        return {"status": "member", "user": world.bot_user}
    user = world.users.get(user_id) if user_id is not None else None
    if user is None:
        raise bad_request("user not found")
    member = user_id == chat.id if chat.members is None else user_id in chat.members
    return {"status": "member" if member else "left", "user": user.json()}


@_method("getChatMemberCount")
def get_chat_member_count(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"), check_blocked=False)
    return 2 if chat.members is None else len(chat.members) + 1


# ------------------------------------------------------------------- media


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
    return None


def _input_file(world: World, p: Params, value: Any, field: str, folder: str) -> StoredFile:
    """Resolve an uploaded part, ``attach://name``, a file_id or an HTTP URL."""
    upload = p.files.get(field) if value is None else None
    if isinstance(value, str) and value.startswith("attach://"):
        upload = p.files.get(value[len("attach://") :])
        if upload is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        return world.store_file(
            upload.data, folder, file_name=upload.filename, mime_type=upload.content_type
        )
    if value is None or value == "":
        raise bad_request(f"there is no {field} in the request")
    if not isinstance(value, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    known = world.files.get(value)
    if known is not None:
        return known
    if value.startswith(("http://", "https://")):
        return world.store_file(b"", folder, file_name=value.rsplit("/", 1)[-1])
    raise bad_request("wrong file identifier/HTTP URL specified")


def _media_json(
    world: World, kind: str, stored: StoredFile, p: Params | None, item: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The Telegram field for one media item and the file name shown to tests."""

    def number(key: str) -> int | None:
        value = item.get(key, p.get_int(key) if p is not None else None)
        return value if isinstance(value, int) else None

    if kind == "photo":
        size = _image_size(stored.data or b"") or (800, 600)
        return {"photo": world.photo_sizes(stored.data or b"", *size, full=stored)}, None
    name = stored.file_name
    if kind == "document":
        name = name or "document"
        mime = stored.mime_type or "application/octet-stream"
        return {"document": world.file_json(stored, file_name=name, mime_type=mime)}, name
    if kind == "voice":
        voice = world.file_json(
            stored, duration=number("duration") or 1, mime_type=stored.mime_type or "audio/ogg"
        )
        return {"voice": voice}, name
    if kind == "audio":
        audio = world.file_json(
            stored, duration=number("duration") or 1, file_name=name,
            mime_type=stored.mime_type or "audio/mpeg",
            title=item.get("title", p.get_str("title") if p else None),
            performer=item.get("performer", p.get_str("performer") if p else None),
        )  # fmt: skip
        return {"audio": audio}, name
    video = world.file_json(
        stored, width=number("width") or 640, height=number("height") or 480,
        duration=number("duration") or 1, file_name=name, mime_type="video/mp4",
    )  # fmt: skip
    return {"video": video}, name


_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
}


def _send_media(world: World, p: Params, kind: str) -> Any:
    chat = world.bot_chat(p.get("chat_id"))
    caption = p.get_str("caption") or ""
    parse_mode = p.get_str("parse_mode") or None
    parsed = parse_formatted(caption, parse_mode, p.get("caption_entities"), caption=True)
    markup = validate_reply_markup(p.get("reply_markup"))
    reply_to = _reply_to(chat, p)
    stored = _input_file(world, p, p.get(kind), kind, _FOLDERS[kind])
    media, file_name = _media_json(world, kind, stored, p, {})
    sent = world.add_bot_message(
        chat, kind=kind, parsed=parsed, raw=caption, parse_mode=parse_mode, markup=markup,
        reply_to=reply_to, media=media, file_ids=[stored.file_id], file_name=file_name,
    )  # fmt: skip
    return world.message_json(sent)


for _name, _kind_name in (
    ("sendPhoto", "photo"),
    ("sendDocument", "document"),
    ("sendVoice", "voice"),
    ("sendAudio", "audio"),
    ("sendVideo", "video"),
):

    def _sender(world: World, p: Params, _k: str = _kind_name) -> Any:
        return _send_media(world, p, _k)

    _method(_name)(_sender)


@_method("sendLocation")
def send_location(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"))
    latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
    if latitude is None or not -90 <= latitude <= 90:
        raise bad_request("wrong latitude specified")
    if longitude is None or not -180 <= longitude <= 180:
        raise bad_request("wrong longitude specified")
    sent = world.add_bot_message(
        chat, kind="location", parsed=ParsedText(""), raw="", parse_mode=None,
        markup=validate_reply_markup(p.get("reply_markup")), reply_to=_reply_to(chat, p),
        media={"location": {"latitude": latitude, "longitude": longitude}},
    )  # fmt: skip
    return world.message_json(sent)


@_method("sendMediaGroup")
def send_media_group(world: World, p: Params) -> Any:
    chat = world.bot_chat(p.get("chat_id"))
    items = p.get("media")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(items) <= 10:
        raise bad_request("media must include 2-10 items")
    types = [item.get("type") for item in items]
    if any(t not in _GROUP_TYPES for t in types):
        raise bad_request("wrong type of the media group item")
    for alone in ("document", "audio"):
        if alone in types and any(t != alone for t in types):
            raise bad_request(f"{alone} can't be mixed with other media types")
    reply_to = _reply_to(chat, p)
    prepared: list[tuple[str, ParsedText, str, str | None, StoredFile]] = []
    for item, kind in zip(items, types, strict=True):
        assert isinstance(kind, str)
        caption = item.get("caption") or ""
        parse_mode = item.get("parse_mode") or None
        parsed = parse_formatted(caption, parse_mode, item.get("caption_entities"), caption=True)
        stored = _input_file(world, p, item.get("media"), "media", _FOLDERS[kind])
        prepared.append((kind, parsed, caption, parse_mode, stored))
    group_id = world.next_media_group_id()
    sent: list[SentMessage] = []
    for (kind, parsed, caption, parse_mode, stored), item in zip(prepared, items, strict=True):
        media, file_name = _media_json(world, kind, stored, None, item)
        sent.append(
            world.add_bot_message(
                chat, kind="media_group", media_type=kind, parsed=parsed, raw=caption,
                parse_mode=parse_mode, markup=Markup(), reply_to=reply_to, media=media,
                file_ids=[stored.file_id], file_name=file_name, media_group_id=group_id,
            )
        )  # fmt: skip
    return [world.message_json(message) for message in sent]


@_method("getFile")
def get_file(world: World, p: Params) -> Any:
    stored = world.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.data is None or stored.size > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }
