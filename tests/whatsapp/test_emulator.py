"""The WhatsApp Cloud API emulator refuses what Meta refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.emulator.whatsapp import WINDOW, WhatsAppEmulator

AWA = "221770000001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def emulator() -> AsyncIterator[WhatsAppEmulator]:
    emu = WhatsAppEmulator(clock=Clock())
    emu.statuses = False
    await emu.start()
    emu.add_user(AWA, "Awa")
    emu.add_template("palabre_reminder", {"fr", "pt_BR"}, parameters=2, buttons=2)
    try:
        yield emu
    finally:
        await emu.stop()


async def _send(emu: WhatsAppEmulator, body: dict[str, Any],
                token: str | None = None) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{emu.base_url}/{emu.phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "to": AWA, **body},
            headers={"Authorization": f"Bearer {token or emu.token}"})
        return response.status, await response.json()


def _code(answer: dict[str, Any]) -> int:
    return int(answer["error"]["code"])


def _buttons(*titles: str) -> dict[str, Any]:
    return {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Choose"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}}
                               for i, t in enumerate(titles)]}}}


def _open_window(emu: WhatsAppEmulator) -> None:
    emu.people[AWA].last_inbound = emu.clock()


async def test_free_form_messages_only_within_24_hours_templates_always(
        emulator: WhatsAppEmulator) -> None:
    text = {"type": "text", "text": {"body": "Bonjour"}}
    assert _code((await _send(emulator, text))[1]) == 131047  # she never wrote
    _open_window(emulator)
    assert (await _send(emulator, text))[0] == 200
    emulator.clock.now += WINDOW + 1
    status, answer = await _send(emulator, text)
    assert (status, _code(answer)) == (400, 131047)
    template = {"type": "template", "template": {
        "name": "palabre_reminder", "language": {"code": "fr"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Eau"},
                                                       {"type": "text", "text": "25 mars"}]}]}}
    assert (await _send(emulator, template))[0] == 200
    template["template"]["components"][0]["parameters"].pop()  # type: ignore[index]
    assert _code((await _send(emulator, template))[1]) == 132000
    template["template"]["language"] = {"code": "es"}  # type: ignore[index]
    assert _code((await _send(emulator, template))[1]) == 132001


async def test_interactive_limits(emulator: WhatsAppEmulator) -> None:
    _open_window(emulator)
    assert (await _send(emulator, _buttons("Oui", "Non", "Plus tard")))[0] == 200
    assert _code((await _send(emulator, _buttons("1", "2", "3", "4")))[1]) == 131009
    assert _code((await _send(emulator, _buttons("x" * 21)))[1]) == 131009
    assert _code((await _send(emulator, _buttons("Oui", "Oui")))[1]) == 131009
    rows = [{"id": f"r{i}", "title": f"Option {i}"} for i in range(11)]
    listing = {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Choose"},
        "action": {"button": "Options", "sections": [{"title": "All", "rows": rows}]}}}
    assert _code((await _send(emulator, listing))[1]) == 131009
    listing["interactive"]["action"]["sections"][0]["rows"] = rows[:10]  # type: ignore[index]
    assert (await _send(emulator, listing))[0] == 200
    long_body = {"type": "text", "text": {"body": "x" * 4097}}
    assert _code((await _send(emulator, long_body))[1]) == 131009


async def test_a_wrong_token_or_an_unknown_number(emulator: WhatsAppEmulator) -> None:
    _open_window(emulator)
    text = {"type": "text", "text": {"body": "Bonjour"}}
    status, answer = await _send(emulator, text, token="stolen")
    assert (status, _code(answer)) == (401, 190)
    status, answer = await _send(emulator, {**text, "to": "999"})
    assert _code(answer) == 131026


async def test_pair_rate_limit(emulator: WhatsAppEmulator) -> None:
    emulator.pair_limit = (2, 6.0)
    _open_window(emulator)
    text = {"type": "text", "text": {"body": "Bonjour"}}
    assert [(await _send(emulator, text))[0] for _ in range(2)] == [200, 200]
    assert _code((await _send(emulator, text))[1]) == 131056
    emulator.clock.now += 7
    assert (await _send(emulator, text))[0] == 200


async def test_media_need_the_token_to_download(emulator: WhatsAppEmulator) -> None:
    media_id = emulator._store_media(b"\xff\xd8photo", "image/jpeg")
    headers = {"Authorization": f"Bearer {emulator.token}"}
    async with aiohttp.ClientSession() as http:
        info = await (await http.get(f"{emulator.base_url}/{media_id}", headers=headers)).json()
        assert info["mime_type"] == "image/jpeg" and info["file_size"] == 7
        refused = await http.get(info["url"])
        assert refused.status == 401
        content = await (await http.get(info["url"], headers=headers)).read()
        assert content == b"\xff\xd8photo"
