"""Keyboard and command-list checks, with Telegram's error texts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator.models import ApiError
from bot.emulator.validation import scope_key, validate_commands, validate_reply_markup


def _inline(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "ok", "callback_data": "x" * 64}, None),
        ({"text": "ok", "callback_data": "é" * 32}, None),  # 64 bytes
        ({"text": "ok", "callback_data": "x" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "ok", "callback_data": "é" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "ok", "callback_data": ""}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "ok", "url": "https://example.org"}, None),
        ({"text": "ok", "url": "example.org"}, "Bad Request: BUTTON_URL_INVALID"),
        (
            {"text": "", "callback_data": "x"},
            "Bad Request: can't parse inline keyboard button: Text must be non-empty",
        ),
        (
            {"text": "ok"},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            {"text": "ok", "callback_data": "x", "url": "https://example.org"},
            "Bad Request: can't parse inline keyboard button: "
            "exactly one of the optional fields must be used",
        ),
    ],
)
def test_inline_buttons(button: dict[str, Any], error: str | None) -> None:
    if error is None:
        assert validate_reply_markup(_inline(button)).inline_keyboard == [[button]]
        return
    with pytest.raises(ApiError) as err:
        validate_reply_markup(_inline(button))
    assert err.value.description == error


def test_reply_keyboard_and_removal() -> None:
    markup = validate_reply_markup({"keyboard": [["A", {"text": "B"}], ["C"]]})
    assert markup.reply_keyboard == [["A", "B"], ["C"]]
    assert validate_reply_markup({"remove_keyboard": True}).remove_keyboard
    with pytest.raises(ApiError, match="inline keyboard expected"):
        validate_reply_markup({"keyboard": [["A"]]}, inline_only=True)


def test_too_many_buttons() -> None:
    rows = [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
    with pytest.raises(ApiError, match="reply markup is too long"):
        validate_reply_markup({"inline_keyboard": rows})


@pytest.mark.parametrize(
    ("commands", "error"),
    [
        ([{"command": "start", "description": "Start"}], None),
        ([{"command": "a_1" * 10 + "xy", "description": "d"}], None),  # 32 chars
        ([], None),
        ([{"command": "Start", "description": "d"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "/start", "description": "d"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "x" * 33, "description": "d"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "x", "description": ""}], "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            [{"command": "x", "description": "d" * 257}],
            "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
        ),
        (
            [{"command": f"c{i}", "description": "d"} for i in range(101)],
            "Bad Request: BOT_COMMANDS_TOO_MUCH",
        ),
    ],
)
def test_commands(commands: list[dict[str, str]], error: str | None) -> None:
    if error is None:
        assert validate_commands(commands) == commands
        return
    with pytest.raises(ApiError) as err:
        validate_commands(commands)
    assert err.value.description == error


def test_scope_key_is_canonical() -> None:
    assert scope_key(None) == scope_key({"type": "default"})
    assert scope_key({"chat_id": "5", "type": "chat"}) == scope_key({"type": "chat", "chat_id": 5})
