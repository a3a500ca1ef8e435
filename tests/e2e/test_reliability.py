"""Nothing confirmed to Telegram is lost or handled twice; the process survives failures."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram import Update

from bot.emulator import BotApiEmulator
from storage import Store
from tests.auxil.members import join
from tests.auxil.runner import BotRunner
from tests.auxil.texts import tr

SORRY = ("Sorry, something went wrong on our side. Nothing you sent is lost; please try again "
         "in a moment.")


async def _fetch_and_record(runner: BotRunner, emulator: BotApiEmulator, update_id: int,
                            *, confirm: bool) -> None:
    """Do what a crashed bot did: fetch the update, record it, maybe confirm it, handle nothing."""
    url = f"{emulator.base_url}{emulator.token}/getUpdates"
    async with httpx.AsyncClient() as client:
        body = (await client.post(url, data={"offset": update_id, "timeout": 0})).json()
        [raw] = body["result"]
        store = await Store.open(runner.settings.database)
        try:
            await store.inbox.record([(update_id, raw["message"]["from"]["id"],
                                       json.dumps(raw))], runner.clock())
        finally:
            await store.close()
        if confirm:
            await client.post(url, data={"offset": update_id + 1, "timeout": 0})


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "unconfirmed"])
async def test_restart_replays_an_unhandled_update_exactly_once(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator, confirmed: bool
) -> None:
    phone = phone_factory()
    await join(runner, phone)
    await runner.stop()
    emulator.drain_events(phone.user_id)

    update_id = emulator.send_text(phone.user_id, "/help")
    await _fetch_and_record(runner, emulator, update_id, confirm=confirmed)
    assert emulator.update_ids_pending() == ([] if confirmed else [update_id])

    await runner.start()
    assert await runner.handled(update_id) == "handled"
    # Give an unconfirmed copy every chance to come back from getUpdates.
    for _ in range(200):
        if not emulator.update_ids_pending():
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    sent = [e for e in emulator.drain_events(phone.user_id) if e.kind == "send"]
    assert len(sent) == 1
    assert sent[0].message is not None and "/mydata" in sent[0].message.text


async def test_the_same_update_twice_is_handled_once(runner: BotRunner, phone_factory,
                                                     emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    update_id = emulator.send_text(phone.user_id, "/help")
    await runner.handled(update_id)
    emulator.drain_events(phone.user_id)
    raw = json.loads(await runner.store.db.fetchval(
        "SELECT payload FROM inbox WHERE update_id = ?", (update_id,)))
    assert runner.app is not None
    for _ in range(3):  # e.g. a replay racing Telegram's own redelivery
        await runner.app.update_queue.put(Update.de_json(raw, runner.app.bot))
    await asyncio.sleep(0.3)
    assert [e for e in emulator.drain_events(phone.user_id) if e.kind == "send"] == []


async def test_update_ids_that_jump_are_still_handled(runner: BotRunner, phone_factory,
                                                      emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    emulator.jump_update_ids(734_211_097)
    assert await phone.send("/help")


async def test_a_failing_handler_reassures_the_person(runner: BotRunner, phone_factory,
                                                      emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    emulator.fail_next("sendDocument", error_code=500, description="Internal Server Error")
    update_id = emulator.send_text(phone.user_id, "/mydata")
    assert await runner.handled(update_id) == "failed"
    sent = [e.message for e in emulator.drain_events(phone.user_id) if e.kind == "send"]
    assert [m.text for m in sent if m] == [tr("fr", SORRY)]
    error = await runner.store.db.fetchval("SELECT error FROM inbox WHERE update_id = ?",
                                           (update_id,))
    assert "NetworkError" in error
    assert emulator.token not in error
    # The bot keeps going.
    [reply] = await phone.send("/mydata")
    assert reply.kind == "document"


async def test_rate_limit_is_honoured(runner: BotRunner, phone_factory,
                                      emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    emulator.fail_next("sendMessage", error_code=429,
                       description="Too Many Requests: retry after 1", retry_after=1)
    [reply] = await phone.send("/help")
    assert "/mydata" in reply.text
    assert emulator.stats["429"] >= 1


async def test_a_user_who_blocked_the_bot_breaks_nothing(runner: BotRunner, phone_factory,
                                                         emulator: BotApiEmulator) -> None:
    gone, other = phone_factory("Gone"), phone_factory("Other")
    await join(runner, gone)
    emulator.block(gone.user_id)
    update_id = emulator.send_text(gone.user_id, "/help")
    await runner.handled(update_id)
    assert [e for e in emulator.drain_events(gone.user_id) if e.kind == "send"] == []
    await join(runner, other)
    assert phone_factory  # the process still serves others
    assert await other.send("/help")


async def test_forged_and_stale_buttons_change_nothing(runner: BotRunner,
                                                       phone_factory) -> None:
    visitor = phone_factory("Mallory")
    await visitor.send("/start")
    for data in ("ob:c:1", "ob:l:fr", "ac:f:1", "ac:l:en", "zz:99", "x" * 64):
        await visitor.forge(data)
        assert visitor.toasts == [tr("fr", "This button has expired. Nothing was changed.")], data
    assert await runner.store.members.by_telegram_id(visitor.user_id) is None
    assert await runner.store.onboarding.get(visitor.user_id) is None

    member = phone_factory("Awa")
    await join(runner, member)
    await member.forge("ob:c:1")  # consent again, without onboarding under way
    assert member.toasts == [tr("fr", "This button has expired. Nothing was changed.")]
