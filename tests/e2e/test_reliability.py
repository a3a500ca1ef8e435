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

SORRY = ("Sorry, something went wrong on our side and this message was not saved. Please send "
         "it again in a moment.")
SAVED = ("✅ What you sent is saved, but my answer did not get through. Send any message and I "
         "will show you where you are.")


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
    # Give an unconfirmed copy every chance to come back: two more getUpdates calls after the
    # one that confirms it (a copy would be handled before the next poll is made).
    def polls() -> int:
        return sum(1 for c in emulator.calls if c.method == "getUpdates")

    for _ in range(1000):
        if not emulator.update_ids_pending():
            break
        await asyncio.sleep(0.01)
    seen = polls()
    for _ in range(3000):  # up to 30 s on a busy machine; a poll comes every ~1 s
        if polls() >= seen + 2:
            break
        await asyncio.sleep(0.01)
    assert polls() >= seen + 2
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
    skipped = runner.processor.skipped
    for _ in range(3):  # e.g. a replay racing Telegram's own redelivery
        await runner.app.update_queue.put(Update.de_json(raw, runner.app.bot))
    for _ in range(500):
        if runner.processor.skipped == skipped + 3:
            break
        await asyncio.sleep(0.01)
    assert runner.processor.skipped == skipped + 3
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
    # The bot keeps going.
    replies = await phone.send("/mydata")
    assert [reply.kind for reply in replies] == ["document", "document"]


async def test_rate_limit_is_honoured(runner: BotRunner, phone_factory,
                                      emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    emulator.fail_next("sendMessage", error_code=429,
                       description="Too Many Requests: retry after 1", retry_after=1)
    started = asyncio.get_running_loop().time()
    [reply] = await phone.send("/help")
    assert asyncio.get_running_loop().time() - started >= 1.0  # Telegram's wait was kept
    assert "/mydata" in reply.text
    assert emulator.stats["429"] == 1


async def test_a_user_who_blocked_the_bot_breaks_nothing(runner: BotRunner, phone_factory,
                                                         emulator: BotApiEmulator) -> None:
    gone, other = phone_factory("Gone"), phone_factory("Other")
    await join(runner, gone)
    emulator.block(gone.user_id)
    update_id = emulator.send_text(gone.user_id, "/help")
    assert await runner.handled(update_id) == "failed"
    error = await runner.store.db.fetchval("SELECT error FROM inbox WHERE update_id = ?",
                                           (update_id,))
    assert error.startswith("Forbidden")
    assert [e for e in emulator.drain_events(gone.user_id) if e.kind == "send"] == []
    await join(runner, other)  # the process still serves others
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


async def test_a_failure_after_the_write_is_recorded(runner: BotRunner, phone_factory,
                                                      emulator: BotApiEmulator) -> None:
    """The member is enrolled (committed), the welcome fails: the inbox says so, nothing is
    retried, and the person is reassured."""
    code = await runner.invite()
    phone = phone_factory()
    await phone.send(f"/start {code}")
    await phone.press("Français")
    emulator.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    consent = emulator.last_message(phone.user_id)
    assert consent is not None
    update_id = emulator.press(phone.user_id, consent.message_id, "ob:c:1")
    assert await runner.handled(update_id) == "failed"
    assert await runner.store.members.by_telegram_id(phone.user_id) is not None
    sent = [e.message.text for e in emulator.drain_events(phone.user_id)
            if e.kind == "send" and e.message]
    assert sent == [tr("fr", SAVED)]  # never "try again" about work that was saved
    [welcome] = await phone.send("/start")
    assert tr("fr", "Welcome back, {name}!", name="Aminata") in welcome.text


async def test_a_secret_in_an_error_never_reaches_the_inbox(runner: BotRunner, phone_factory,
                                                            emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    emulator.fail_next("sendMessage", error_code=400,
                       description=f"Bad Request: weird echo of {emulator.token}")
    update_id = emulator.send_text(phone.user_id, "/help")
    assert await runner.handled(update_id) == "failed"
    error = await runner.store.db.fetchval("SELECT error FROM inbox WHERE update_id = ?",
                                           (update_id,))
    assert emulator.token not in error and "[REDACTED]" in error


async def test_the_bot_stops_when_telegram_revokes_the_token(runner: BotRunner,
                                                             emulator: BotApiEmulator) -> None:
    from telegram.error import InvalidToken

    emulator.fail_next("getUpdates", error_code=401, description="Unauthorized")
    assert runner.task is not None
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(runner.task, 10)
    runner.detach()  # the bot is already down


async def test_two_instances_on_one_database_handle_an_update_once(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    """A second `palabre run` by mistake: the inbox mark decides, inside the transaction."""
    from bot.app import build_application

    code = await runner.invite()
    phone = phone_factory()
    update_id = emulator.send_text(phone.user_id, f"/start {code}")
    await runner.stop()  # leave the update to the two instances below
    raw = {"update_id": update_id, "message": {
        "message_id": 99, "date": 1, "chat": {"id": phone.user_id, "type": "private"},
        "from": {"id": phone.user_id, "is_bot": False, "first_name": "Aminata"},
        "text": f"/start {code}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    apps = [build_application(runner.settings, runner.clock) for _ in range(2)]
    for app in apps:
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
    try:
        await asyncio.gather(*(
            app.update_processor.process_update(
                Update.de_json(raw, app.bot), app.process_update(Update.de_json(raw, app.bot)))
            for app in apps))
    finally:
        for app in apps:
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    prompts = [e for e in emulator.drain_events(phone.user_id) if e.kind == "send"]
    assert len(prompts) == 1
    store = await Store.open(runner.settings.database)
    try:
        assert await store.inbox.status(update_id) == "handled"
        assert await store.onboarding.get(phone.user_id) is not None
    finally:
        await store.close()
