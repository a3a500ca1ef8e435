"""WhatsApp webhooks against the loopback Cloud API: handshake, signatures, durability, repeats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.channels.whatsapp import signature
from bot.channels.whatsapp.events import WebhookEvent
from bot.channels.whatsapp.webhook import PATH, webhook_app
from bot.emulator.whatsapp import WhatsAppEmulator
from storage import Store

VERIFY = "verify-me"
AWA = "221770000001"
NOW = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)


class Receiver:
    """The bot's webhook receiver on a real store, able to fail on demand."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.failures = 0

    async def record(self, events: Sequence[WebhookEvent]) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        return await self.store.whatsapp.record(events, NOW)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[WhatsAppEmulator, Receiver, str]]:
    store = await Store.open(tmp_path / "wa.db")
    receiver = Receiver(store)
    emulator = WhatsAppEmulator()
    app = webhook_app(receiver.record, app_secret=emulator.app_secret, verify_token=VERIFY)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}{PATH}"
    await emulator.start()
    emulator.webhook_url = url
    emulator.retry_pause = 0.0
    emulator.add_user(AWA, "Awa")
    try:
        yield emulator, receiver, url
    finally:
        await emulator.stop()
        await runner.cleanup()
        await store.close()


async def _rows(receiver: Receiver) -> list[tuple[str, str, str]]:
    rows = await receiver.store.db.fetchall(
        "SELECT event_id, kind, wa_id FROM wa_inbox ORDER BY rowid")
    return [(r[0], r[1], r[2]) for r in rows]


async def test_handshake_answers_the_challenge_only_with_the_verify_token(
        world: tuple[WhatsAppEmulator, Receiver, str]) -> None:
    _emulator, _receiver, url = world
    async with aiohttp.ClientSession() as http:
        ok = await http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                         "hub.challenge": "1158201444"})
        assert (ok.status, await ok.text()) == (200, "1158201444")
        bad = await http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                          "hub.challenge": "1"})
        assert bad.status == 403


async def test_unsigned_or_wrongly_signed_posts_get_401_and_change_nothing(
        world: tuple[WhatsAppEmulator, Receiver, str]) -> None:
    emulator, receiver, url = world
    body = emulator._notification({"messages": [{"from": AWA, "id": "wamid.X",
                                                 "timestamp": "1", "type": "text",
                                                 "text": {"body": "forged"}}]})
    assert await emulator.deliver(body, signed=False) == 401
    async with aiohttp.ClientSession() as http:
        raw = b'{"object": "whatsapp_business_account", "entry": []}'
        wrong = signature.sign(raw, "not-the-app-secret")
        response = await http.post(url, data=raw, headers={signature.HEADER: wrong})
        assert response.status == 401
    assert await _rows(receiver) == []


async def test_a_message_is_on_disk_before_the_200_and_recorded_once(
        world: tuple[WhatsAppEmulator, Receiver, str]) -> None:
    emulator, receiver, _url = world
    emulator.duplicate_next = 1  # Meta sends this notification twice
    wamid = await emulator.send_text(AWA, "Trois puits réhabilités")
    assert [status for _body, status in emulator.deliveries] == [200, 200]
    assert await _rows(receiver) == [(wamid, "message", AWA)]
    payload = await receiver.store.db.fetchval("SELECT payload FROM wa_inbox")
    assert "Trois puits" in payload.encode().decode("unicode_escape")
    assert '"profile_name":"Awa"' in payload


async def test_a_storage_failure_is_answered_500_and_meta_retries(
        world: tuple[WhatsAppEmulator, Receiver, str]) -> None:
    emulator, receiver, _url = world
    receiver.failures = 2
    wamid = await emulator.send_text(AWA, "hello")
    assert [status for _body, status in emulator.deliveries] == [500, 500, 200]
    assert await _rows(receiver) == [(wamid, "message", AWA)]


async def test_statuses_of_sent_messages_are_recorded_by_message_and_state(
        world: tuple[WhatsAppEmulator, Receiver, str]) -> None:
    emulator, receiver, _url = world
    await emulator.send_text(AWA, "hi")  # opens the 24-hour window
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{emulator.base_url}/{emulator.phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "to": AWA, "type": "text",
                  "text": {"body": "Bonjour Awa"}},
            headers={"Authorization": f"Bearer {emulator.token}"})
        wamid = (await response.json())["messages"][0]["id"]
    for task in list(emulator._tasks):
        await task
    rows = await _rows(receiver)
    assert [(r[0], r[1]) for r in rows[1:]] == [(f"{wamid}:sent", "status"),
                                                (f"{wamid}:delivered", "status")]
