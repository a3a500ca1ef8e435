"""Checks Telegram applies to message text, keyboards and command lists."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.html import HtmlParseError, ParsedText, parse_html, utf16_len
from bot.emulator.markdown import strip_markdown_v2
from bot.emulator.models import ApiError, bad_request

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "Markup",
    "parse_formatted",
    "scope_key",
    "validate_commands",
    "validate_language_code",
    "validate_reply_markup",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_BUTTONS_LIMIT = 100
_WHITESPACE = " \t\n\r\v\f"
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip


def _trim(parsed: ParsedText) -> ParsedText:
    """Telegram strips leading/trailing whitespace and clips the entities to what is left."""
    text = parsed.text
    left = text.lstrip(_WHITESPACE)
    body = left.rstrip(_WHITESPACE)
    if len(body) == len(text):
        return parsed
    lead = len(text) - len(left)  # whitespace is one UTF-16 unit per character
    total = utf16_len(body)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(body, entities)


def _explicit_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    checked: list[dict[str, Any]] = []
    for entity in entities:
        if not (
            isinstance(entity, dict)
            and isinstance(entity.get("type"), str)
            and isinstance(entity.get("offset"), int)
            and isinstance(entity.get("length"), int)
            and entity["offset"] >= 0
            and entity["length"] > 0
            and entity["offset"] + entity["length"] <= total
        ):
            raise bad_request("can't parse entities: invalid entity " + json.dumps(entity))
        checked.append(dict(entity))
    return checked


def parse_formatted(
    text: str | None, parse_mode: str | None, entities: Any = None, *, caption: bool = False
) -> ParsedText:
    """Parse ``text`` as Telegram does and enforce the message or caption limits."""
    raw = text or ""
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            parsed = parse_html(raw)
        elif mode == "markdownv2":
            parsed = ParsedText(strip_markdown_v2(raw))
        elif mode in ("", "markdown"):
            plain_entities = [] if entities is None else _explicit_entities(raw, entities)
            parsed = ParsedText(raw, plain_entities)
        else:
            raise bad_request("unsupported parse_mode")
    except HtmlParseError as err:
        raise bad_request(f"can't parse entities: {err}") from None
    parsed = _trim(parsed)
    length = utf16_len(parsed.text)
    if caption:
        if length > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
    elif length == 0:
        raise bad_request("message text is empty")
    elif length > TEXT_LIMIT:
        raise bad_request("message is too long")
    return parsed


@dataclass(frozen=True)
class Markup:
    """A validated reply_markup: the inline keyboard and/or reply keyboard change."""

    inline_keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    remove_keyboard: bool = False

    def json(self) -> dict[str, Any] | None:
        """The reply_markup Telegram echoes in a Message (inline keyboards only)."""
        return {"inline_keyboard": self.inline_keyboard} if self.inline_keyboard else None


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
    return dict(button)


def _rows(value: Any, name: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(f'field "{name}" of the reply markup must be an Array of Arrays')
    if sum(len(row) for row in value) > _BUTTONS_LIMIT:
        raise bad_request("reply markup is too long")
    return value


def _reply_button(button: Any) -> str:
    text = button.get("text") if isinstance(button, dict) else button
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse keyboard button: Text must be non-empty")
    return text


def validate_reply_markup(markup: Any, *, inline_only: bool = False) -> Markup:
    """Validate a decoded reply_markup; ``inline_only`` for edits."""
    if markup is None:
        return Markup()
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = _rows(markup["inline_keyboard"], "inline_keyboard")
        keyboard = [[_inline_button(b) for b in row] for row in rows]
        return Markup(inline_keyboard=[row for row in keyboard if row])
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = _rows(markup["keyboard"], "keyboard")
        texts = [[_reply_button(b) for b in row] for row in rows]
        return Markup(reply_keyboard=[row for row in texts if row])
    if markup.get("remove_keyboard") is True:
        return Markup(remove_keyboard=True)
    if markup.get("force_reply") is True:
        return Markup()
    raise bad_request("can't parse reply keyboard markup JSON object")


def validate_commands(value: Any) -> list[dict[str, str]]:
    """Validate a setMyCommands list: 0–100 commands of [a-z0-9_]{1,32} with descriptions."""
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    if len(value) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    commands: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


def validate_language_code(code: str | None) -> str:
    if not code:
        return ""
    if not _LANGUAGE.fullmatch(code):
        raise bad_request("invalid language code specified")
    return code


def scope_key(scope: Any) -> str:
    """Canonical JSON of a BotCommandScope (None = default) used as a storage key."""
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    canonical: dict[str, Any] = {}
    for key, value in scope.items():
        if key in ("chat_id", "user_id") and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ApiError(400, "Bad Request: chat not found") from None
        canonical[key] = value
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))
