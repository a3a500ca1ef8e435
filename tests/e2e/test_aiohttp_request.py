"""The aiohttp request class under PTB's Bot, against the emulator: answers, errors, files,
timeouts, and what a failure proves about delivery (`bot.channels.telegram.delivery`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InputFile, InputMediaDocument
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.delivery import NotSent, Outcome, classify
from bot.emulator import BotApiEmulator

USER = 4242
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


async def _bot(base_url: str, token: str, request: AiohttpRequest) -> Bot:
    bot = Bot(token, base_url=base_url, request=request, get_updates_request=AiohttpRequest())
    await bot.initialize()
    return bot


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    emulator.add_user(USER, "Aminata", language_code="fr")
    bot = await _bot(emulator.base_url, emulator.token, AiohttpRequest(read_timeout=0.5))
    try:
        yield bot
    finally:
        await bot.shutdown()


async def test_text_with_accents_and_markup(bot: Bot, emulator: BotApiEmulator) -> None:
    sent = await bot.send_message(USER, "Réunion à <b>14 h</b> &amp; après", parse_mode="HTML")
    message = emulator.last_message(USER)
    assert message is not None and message.message_id == sent.message_id
    assert message.text == "Réunion à 14 h & après"
    assert bot.username == emulator.bot_username  # getMe during initialize


async def test_files_are_sent_as_multipart(bot: Bot, emulator: BotApiEmulator) -> None:
    await bot.send_document(USER, InputFile(PNG, filename="compte-rendu été.pdf"),
                            caption="Le rapport")
    message = emulator.last_message(USER)
    assert message is not None
    assert message.file_name == "compte-rendu été.pdf"
    assert emulator.file_bytes(message.file_ids[0]) == PNG
    assert message.text == "Le rapport"
    album = await bot.send_media_group(USER, [
        InputMediaDocument(PNG, caption="un"), InputMediaDocument(PNG[::-1], filename="b.bin")])
    assert len(album) == 2
    stored = [emulator.file_bytes(m.file_ids[0]) for m in emulator.messages(USER)[-2:]]
    assert stored == [PNG, PNG[::-1]]


async def test_api_errors_keep_their_meaning(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.fail_next("sendMessage", error_code=429, description="Too Many Requests",
                       retry_after=3)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(USER, "x")
    assert classify(limited.value) is Outcome.NOT_PROCESSED
    emulator.block(USER)
    with pytest.raises(Forbidden) as blocked:
        await bot.send_message(USER, "x")
    assert classify(blocked.value) is Outcome.UNREACHABLE
    emulator.unblock(USER)
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(USER, "<b", parse_mode="HTML")
    assert classify(refused.value) is Outcome.REFUSED
    emulator.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    with pytest.raises(NetworkError) as gateway:
        await bot.send_message(USER, "x")
    assert classify(gateway.value) is Outcome.UNKNOWN


async def test_a_read_timeout_after_sending_is_timed_out(bot: Bot,
                                                         emulator: BotApiEmulator) -> None:
    emulator.hang_next("sendMessage")
    with pytest.raises(TimedOut) as hung:
        await bot.send_message(USER, "perdu ?")
    assert not isinstance(hung.value, NotSent)
    assert classify(hung.value) is Outcome.UNKNOWN  # it reached the server
    # The connection that timed out is dropped; the next call works.
    await bot.send_message(USER, "encore")
    message = emulator.last_message(USER)
    assert message is not None and message.text == "encore"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_connection_is_not_sent(emulator: BotApiEmulator) -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NotSent) as refused:
            await request.post(f"http://127.0.0.1:{_closed_port()}/bot{emulator.token}/getMe")
        assert classify(refused.value) is Outcome.NOT_PROCESSED
    finally:
        await request.shutdown()


async def test_no_free_connection_in_time_is_not_sent(bot: Bot,
                                                      emulator: BotApiEmulator) -> None:
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.2, read_timeout=30)
    await request.initialize()
    url = f"{emulator.base_url}{emulator.token}/sendMessage"
    try:
        emulator.hang_next("sendMessage")
        # The only connection hangs on an unanswered call…
        busy = asyncio.create_task(request.post(url, _params(USER, "premier")))
        # The emulator records calls but has no event for one that arrives: poll the record.
        while not any(c.method == "sendMessage" for c in emulator.calls):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # …so the second never gets one: it is refused before anything is written.
        with pytest.raises(NotSent):
            await request.post(url, _params(USER, "second"))
        assert [c.params.get("text") for c in emulator.calls
                if c.method == "sendMessage"] == ["premier"]
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
    finally:
        await request.shutdown()


def _params(chat_id: int, text: str) -> RequestData:
    return RequestData([RequestParameter.from_input("chat_id", chat_id),
                        RequestParameter.from_input("text", text)])


async def test_not_initialized_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/x", "GET")
