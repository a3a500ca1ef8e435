"""Decoding Bot API requests (query, form, multipart or JSON) into typed parameters."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.emulator.models import ApiError, Upload, bad_request

__all__ = ["Params", "read_params"]

# Form values are strings; PTB JSON-encodes every non-string value, so these are decoded.
_JSON_KEYS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "link_preview_options",
        "reply_parameters", "commands", "scope", "media", "allowed_updates", "menu_button",
        "message_ids",
    }
)  # fmt: skip
_INT_KEYS = frozenset(
    {
        "message_id", "reply_to_message_id", "offset", "limit", "duration",
        "width", "height", "message_thread_id", "cache_time", "live_period", "heading",
        "proximity_alert_radius", "from_chat_id", "user_id", "max_connections",
    }
)  # fmt: skip
_FLOAT_KEYS = frozenset({"latitude", "longitude", "horizontal_accuracy", "timeout"})
_BOOL_KEYS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "show_caption_above_media", "disable_content_type_detection", "supports_streaming",
        "allow_paid_broadcast", "for_channels", "revoke_messages",
    }
)  # fmt: skip


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError:
            if key == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise bad_request(f"can't parse {key} JSON object") from None
    if key == "chat_id":
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername": resolved (and not found) later
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None
    if key in _FLOAT_KEYS:
        try:
            return float(value)
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"true", "1"}
    return value


class Params:
    """Decoded parameters plus uploaded file parts of one call."""

    def __init__(self, raw: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.files: dict[str, Upload] = files or {}
        self.values: dict[str, Any] = {}
        self.error: ApiError | None = None
        for key, value in raw.items():
            try:
                self.values[key] = _decode(key, value)
            except ApiError as err:
                self.values[key] = value
                self.error = self.error or err

    def record(self) -> dict[str, Any]:
        """A dict for :class:`ApiCall`: values plus a summary of each uploaded part."""
        summary: dict[str, Any] = dict(self.values)
        for name, upload in self.files.items():
            summary[name] = {"upload": upload.filename, "size": len(upload.data)}
        return summary

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def get_str(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad_request(f"invalid {key} specified")
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None

    def get_float(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)


async def read_params(request: web.Request) -> Params:
    """Merge the query string with a form, multipart or JSON body."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.body_exists:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            raw.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes | bytearray):
                    raw[key] = bytes(value).decode("utf-8", "replace")
                else:
                    raw[key] = value
    return Params(raw, files)
