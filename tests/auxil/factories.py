"""Build Telegram updates as PTB would receive them (as in PTB's own tests/auxil)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update


def message_payload(update_id: int, user_id: int, text: str, *,
                    first_name: str = "Aminata", language_code: str = "fr") -> dict[str, Any]:
    entities = ([{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                if text.startswith("/") else [])
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_770_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": first_name},
        "from": {"id": user_id, "is_bot": False, "first_name": first_name,
                 "language_code": language_code},
        "text": text, "entities": entities}}


def make_message_update(update_id: int, user_id: int, text: str, bot: Bot | None = None,
                        **kwargs: Any) -> Update:
    update = Update.de_json(message_payload(update_id, user_id, text, **kwargs), bot)
    assert update is not None
    return update
