"""The Cloud API client against the emulator: what each failure proves about the message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.channels.telegram.delivery import Outcome
from bot.channels.whatsapp.client import WhatsAppClient, WhatsAppError
from bot.emulator.whatsapp import WhatsAppEmulator

AWA = "221770000001"


@pytest.fixture
async def world() -> AsyncIterator[tuple[WhatsAppEmulator, WhatsAppClient]]:
    emulator = WhatsAppEmulator()
    emulator.statuses = False
    await emulator.start()
    emulator.add_user(AWA, "Awa")
    async with aiohttp.ClientSession() as session:
        client = WhatsAppClient(session, base_url=emulator.base_url, token=emulator.token,
                                phone_number_id=emulator.phone_number_id, timeout=5.0)
        try:
            yield emulator, client
        finally:
            await emulator.stop()


async def test_send_reply_and_upload_then_download(
        world: tuple[WhatsAppEmulator, WhatsAppClient]) -> None:
    emulator, client = world
    emulator.people[AWA].last_inbound = emulator.clock()
    wamid = await client.send(AWA, "text", {"body": "Bonjour Awa"}, reply_to="wamid.ABC")
    [sent] = emulator.messages(AWA)
    assert (sent.wamid, sent.text, sent.body["context"]) == (
        wamid, "Bonjour Awa", {"message_id": "wamid.ABC"})
    media_id = await client.upload(b"\x89PNG chart", "image/png", "chart.png")
    fetched = await client.download(media_id, max_bytes=1000)
    assert (fetched.content, fetched.mime_type) == (b"\x89PNG chart", "image/png")
    with pytest.raises(WhatsAppError) as too_big:
        await client.download(media_id, max_bytes=5)
    assert too_big.value.outcome is Outcome.REFUSED


@pytest.mark.parametrize(("code", "http_status", "outcome", "template"), [
    (131047, 400, Outcome.REFUSED, True),  # the 24-hour window is closed
    (131026, 400, Outcome.UNREACHABLE, False),
    (131056, 400, Outcome.NOT_PROCESSED, False),  # pair rate limit: later
    (130429, 400, Outcome.NOT_PROCESSED, False),  # throughput
    (131000, 500, Outcome.UNKNOWN, False),  # Meta may have taken it
])
async def test_failures_say_what_they_prove(world: tuple[WhatsAppEmulator, WhatsAppClient],
                                            code: int, http_status: int, outcome: Outcome,
                                            template: bool) -> None:
    emulator, client = world
    emulator.people[AWA].last_inbound = emulator.clock()
    emulator.fail_next(code, "injected", http_status=http_status)
    with pytest.raises(WhatsAppError) as failed:
        await client.send(AWA, "text", {"body": "x"})
    assert (failed.value.code, failed.value.outcome, failed.value.needs_template) == (
        code, outcome, template)
    assert emulator.messages(AWA) == []


async def test_no_connection_proves_nothing_was_sent() -> None:
    async with aiohttp.ClientSession() as session:
        client = WhatsAppClient(session, base_url="http://127.0.0.1:9", token="t",
                                phone_number_id="1", timeout=2.0)
        with pytest.raises(WhatsAppError) as failed:
            await client.send(AWA, "text", {"body": "x"})
    assert failed.value.outcome is Outcome.NOT_PROCESSED


async def test_the_business_number_is_asked_from_meta(
        world: tuple[WhatsAppEmulator, WhatsAppClient]) -> None:
    emulator, client = world
    assert await client.display_number() == "+1 555-000-0000"
    async with aiohttp.ClientSession() as session:
        wrong = WhatsAppClient(session, base_url=emulator.base_url, token="not-the-token",
                               phone_number_id=emulator.phone_number_id, timeout=5.0)
        with pytest.raises(WhatsAppError) as refused:
            await wrong.display_number()
    assert refused.value.http_status == 401
