"""getUpdates semantics, long polling, simulated presses, events and hung calls."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import BotApiEmulator

from .conftest import ALICE, BOB, GROUP

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Yes", callback_data="vote:yes")],
     [InlineKeyboardButton("No", callback_data="vote:no")]]
)  # fmt: skip


async def test_offset_confirms_for_good(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    first = emu.send_text(ALICE, "one")
    second = emu.send_text(ALICE, "two")
    assert second == first + 1
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # not confirmed
    assert emu.update_ids_pending() == [first, second]
    updates = await bot.get_updates(offset=second)
    assert [u.update_id for u in updates] == [second]
    assert emu.update_ids_pending() == [second]
    assert await bot.get_updates(offset=second + 1) == ()
    assert emu.update_ids_pending() == []
    assert await bot.get_updates(offset=first) == ()  # forgotten for good


async def test_limit_and_negative_offset(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    ids = [emu.send_text(ALICE, str(i)) for i in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[3:]
    assert emu.update_ids_pending() == ids[3:]


async def test_message_update_shape(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_text(ALICE, "/start@palabre_bot now")
    emu.send_text(BOB, "hello all", chat_id=GROUP)
    private, group = await bot.get_updates()
    message = private.message
    assert message is not None and message.from_user is not None
    assert (message.from_user.language_code, message.from_user.username) == ("fr", "alice")
    assert message.chat.type == "private"
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].length == len("/start@palabre_bot")
    assert message.text is not None
    assert message.parse_entities() == {message.entities[0]: "/start@palabre_bot"}
    assert group.message is not None
    assert (group.message.chat.id, group.message.chat.title) == (GROUP, "Coop")
    assert group.message.entities == ()
    emu.add_user(77, "Stranger")
    with pytest.raises(ValueError, match="not a member"):
        emu.send_text(77, "hi", chat_id=GROUP)


async def test_message_ids_are_shared_per_chat(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_text(ALICE, "hi")
    sent = await bot.send_message(ALICE, "hello")
    emu.send_text(ALICE, "again")
    other = await bot.send_message(BOB, "first in Bob's chat")
    updates = await bot.get_updates()
    assert [u.message.message_id for u in updates if u.message] == [1, 3]
    assert (sent.message_id, other.message_id) == (2, 1)


async def test_long_poll_wakes_on_new_update(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.long_poll_cap = 5.0
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    emu.send_text(ALICE, "wake up")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert time.monotonic() - started < 1.0


async def test_long_poll_is_capped(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.long_poll_cap = 0.2
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()
    assert 0.15 < time.monotonic() - started < 1.0


async def test_second_poll_terminates_the_first(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.long_poll_cap = 5.0
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    # a second bot instance (PTB serialises getUpdates of one Bot on one connection)
    url = f"{emu.base_url}{emu.token}/getUpdates"
    async with aiohttp.ClientSession() as http:
        second = asyncio.create_task(http.post(url, data={"timeout": "5"}))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        emu.send_text(ALICE, "for the second")
        async with await second as response:
            assert len((await response.json())["result"]) == 1


async def test_webhook_blocks_polling(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_text(ALICE, "pending")
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.update_ids_pending() == []
    assert await bot.get_updates() == ()


async def test_update_id_jump(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    before = emu.send_text(ALICE, "before")
    emu.jump_update_ids(1_000_000)
    after = emu.send_text(ALICE, "after")
    assert after == before + 1 + 1_000_000
    updates = await bot.get_updates(offset=before + 1)
    assert [u.update_id for u in updates] == [after]


async def test_press_and_answer(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_message(ALICE, "Vote?", reply_markup=KEYBOARD)
    stored = emu.last_message(ALICE)
    assert stored is not None
    assert stored.buttons == [("Yes", "vote:yes"), ("No", "vote:no")]
    assert stored.button_texts == ["Yes", "No"]
    emu.press(ALICE, sent.message_id, stored.callback_data("No"))
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.data, query.from_user.id) == ("vote:no", ALICE)
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await query.answer("Counted", show_alert=True)
    emu.drain_events(ALICE)  # the send
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("twice")
    assert emu.calls[-1].description == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    with pytest.raises(ValueError, match="no button"):
        emu.press(ALICE, sent.message_id, "vote:maybe")
    with pytest.raises(ValueError, match="no bot message"):
        emu.press(ALICE, 999, "vote:yes")


async def test_forged_press(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_message(ALICE, "Vote?", reply_markup=KEYBOARD)
    emu.press(ALICE, sent.message_id, "admin:delete_all", check=False)
    emu.press(ALICE, 999, "vote:yes", check=False)
    forged, inaccessible = await bot.get_updates()
    assert forged.callback_query is not None
    assert forged.callback_query.data == "admin:delete_all"
    assert inaccessible.callback_query is not None
    assert inaccessible.callback_query.message is not None
    assert not inaccessible.callback_query.message.is_accessible  # sent with date 0


async def test_next_event_order_and_timeout(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_message(ALICE, "one", reply_markup=KEYBOARD)
    await bot.edit_message_text("two", ALICE, sent.message_id)
    await bot.send_message(BOB, "elsewhere")
    await bot.delete_message(ALICE, sent.message_id)
    kinds = []
    for _ in range(3):
        event = await emu.next_event(ALICE, timeout=1)
        kinds.append((event.kind, event.message.text if event.message else None))
    assert kinds == [("send", "one"), ("edit", "two"), ("delete", "two")]
    with pytest.raises(asyncio.TimeoutError):
        await emu.next_event(ALICE, timeout=0.05)
    assert [e.kind for e in emu.drain_events(BOB)] == ["send"]
    assert emu.drain_events(BOB) == []
    waiter = asyncio.create_task(emu.next_event(BOB, timeout=2))
    await asyncio.sleep(0.05)
    await bot.send_message(BOB, "later")
    event = await waiter
    assert event.message is not None
    assert event.message.text == "later"


async def test_hang_next_until_stop() -> None:
    emu = BotApiEmulator()
    emu.add_user(ALICE, "Alice")
    await emu.start()
    emu.hang_next("sendMessage", chat_id=ALICE)
    url = f"{emu.base_url}{emu.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        request = asyncio.create_task(http.post(url, data={"chat_id": ALICE, "text": "x"}))
        await asyncio.sleep(0.1)
        assert not request.done()
        assert emu.calls[-1].status == 0
        await emu.stop()
        response = await request
        assert response.status == 500
        response.release()
    assert emu.messages(ALICE) == []


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_html("<b>Vote?</b>", reply_markup=KEYBOARD)


async def _vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Thanks")
    await query.edit_message_text(f"You chose {query.data}")


async def test_application_long_polling(emu: BotApiEmulator) -> None:
    app = (
        Application.builder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_vote))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        emu.send_text(ALICE, "/start")
        sent = await emu.next_event(ALICE)
        assert sent.message is not None
        assert (sent.kind, sent.message.text) == ("send", "Vote?")
        emu.press(ALICE, sent.message.message_id, "vote:yes")
        answer = await emu.next_event(ALICE)
        assert (answer.kind, answer.text) == ("answer_callback", "Thanks")
        edit = await emu.next_event(ALICE)
        assert edit.message is not None
        assert (edit.kind, edit.message.text, edit.message.buttons) == (
            "edit",
            "You chose vote:yes",
            [],
        )
        await app.updater.stop()
        await app.stop()
    assert emu.update_ids_pending() == []  # PTB confirmed everything on shutdown
    assert all(call.status in (0, 200) for call in emu.calls)
