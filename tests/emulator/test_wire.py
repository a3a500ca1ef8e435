"""The Bot API as PTB's real ``telegram.Bot`` sees it: results, errors and state."""

from __future__ import annotations

import datetime as dtm
import html
import json

import aiohttp
import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.emulator import BotApiEmulator, RateLimits

from .conftest import ALICE, BOB, GROUP

# PTB 22 warns on int durations (its timedelta migration); the values are what we test.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x40\x00\x00\x00\xf0"


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


def _retry_seconds(err: RetryAfter) -> float:
    value = err.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (emu.bot_id, "palabre_bot", True)


async def test_raw_http_errors_and_encodings(emu: BotApiEmulator) -> None:
    root = emu.base_url.removesuffix("/bot")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emu.base_url}0:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{emu.base_url}{emu.token}/noSuchMethod") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
        async with http.get(f"{root}/elsewhere") as resp:
            assert resp.status == 404
        async with http.get(f"{emu.base_url}{emu.token}/GETME") as resp:
            assert (await resp.json())["result"]["username"] == "palabre_bot"
        url = f"{emu.base_url}{emu.token}/sendMessage"
        async with http.get(url, params={"chat_id": str(ALICE), "text": "via query"}) as resp:
            assert (await resp.json())["result"]["text"] == "via query"
        async with http.post(url, json={"chat_id": ALICE, "text": "via json"}) as resp:
            assert (await resp.json())["result"]["text"] == "via json"
        form = {"chat_id": str(ALICE), "text": "x", "reply_markup": "{not json"}
        async with http.post(url, data=form) as resp:
            body = await resp.json()
            assert resp.status == 400
            assert body["description"] == (
                "Bad Request: can't parse reply keyboard markup JSON object"
            )
    assert emu.calls[-1].status == 400


async def test_send_message_html_with_escaping(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    name = "<Tom & Jerry>"
    sent = await bot.send_message(ALICE, f"Hi <b>{html.escape(name)}</b> 😀", parse_mode="HTML")
    assert sent.text == f"Hi {name} 😀"
    assert sent.entities[0].type == "bold"
    assert (sent.entities[0].offset, sent.entities[0].length) == (3, len(name))
    stored = emu.last_message(ALICE)
    assert stored is not None
    assert stored.text == sent.text
    assert stored.html == f"Hi <b>{html.escape(name)}</b> 😀"
    assert stored.message_id == sent.message_id
    assert emu.stats["messages_sent"] == 1
    call = emu.calls[-1]
    assert (call.method, call.status, call.params["chat_id"]) == ("sendMessage", 200, ALICE)


async def test_unescaped_text_is_rejected(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_message(ALICE, "a <script> b", parse_mode="HTML")
    assert emu.calls[-1].description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 2'
    )
    with pytest.raises(BadRequest):
        await bot.send_message(ALICE, "Tom & Jerry", parse_mode="HTML")
    assert emu.messages(ALICE) == []


async def test_length_limit(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    await bot.send_message(ALICE, "a" * 4096)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(ALICE, "a" * 4097)
    assert emu.calls[-1].description == "Bad Request: message is too long"
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(ALICE, "  ")


async def test_callback_data_limit(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=_keyboard("x" * 64))
    with pytest.raises(BadRequest):
        await bot.send_message(ALICE, "bad", reply_markup=_keyboard("x" * 65))
    assert emu.calls[-1].description == "Bad Request: BUTTON_DATA_INVALID"


async def test_unknown_chat_and_blocked_user(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello")
    emu.block(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hello")
    assert emu.calls[-1].status == 403
    emu.unblock(ALICE)
    await bot.send_message(ALICE, "hello again")


async def test_flood_limit_per_chat(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.rate_limits = RateLimits(per_chat_per_second=1, per_chat_burst=2)
    await bot.send_message(ALICE, "1")
    await bot.send_message(ALICE, "2")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(ALICE, "3")
    assert _retry_seconds(err.value) >= 1
    assert emu.calls[-1].description == "Too Many Requests: retry after 1"
    await bot.send_message(BOB, "other chats have their own bucket")
    assert emu.stats["429"] == 1


async def test_flood_limit_group_per_minute(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.rate_limits.per_group_per_minute = 2
    await bot.send_message(GROUP, "1")
    await bot.send_message(GROUP, "2")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(GROUP, "3")
    assert 25 <= _retry_seconds(err.value) <= 30  # one token per 30 s


async def test_fail_next(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 7",
                  retry_after=7, chat_id=BOB)  # fmt: skip
    await bot.send_message(ALICE, "not this chat")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(BOB, "this one")
    assert _retry_seconds(err.value) == 7
    await bot.send_message(BOB, "only once")
    emu.fail_next("getMe", error_code=502, description="Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(telegram.error.NetworkError):
            await bot.get_me()
    await bot.get_me()
    assert emu.stats["429"] == 1


async def test_edits(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_message(
        ALICE, "<b>v1</b>", parse_mode="HTML", reply_markup=_keyboard("a")
    )
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", ALICE, sent.message_id, parse_mode="HTML", reply_markup=_keyboard("a")
        )
    assert emu.calls[-1].description == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    # Same text without reply_markup: the keyboard goes away, so it is a modification.
    await bot.edit_message_text("<b>v1</b>", ALICE, sent.message_id, parse_mode="HTML")
    current = emu.last_message(ALICE)
    assert current is not None
    assert (current.text, current.inline_keyboard, current.edited) == ("v1", [], True)
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=_keyboard("b"))
    assert emu.messages(ALICE)[0].buttons == [("b", "b")]
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    assert await bot.delete_message(ALICE, sent.message_id)
    assert emu.messages(ALICE) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


async def test_upload_document_and_download(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_document(ALICE, b"col1,col2\n1,2\n", filename="report.csv",
                                   caption="<i>Report</i>", parse_mode="HTML")  # fmt: skip
    assert sent.document is not None
    assert (sent.document.file_name, sent.caption) == ("report.csv", "Report")
    assert emu.file_bytes(sent.document.file_id) == b"col1,col2\n1,2\n"
    stored = emu.last_message(ALICE)
    assert stored is not None
    assert (stored.kind, stored.file_name, stored.text) == ("document", "report.csv", "Report")
    assert emu.calls[-1].params["document"] == {"upload": "report.csv", "size": 14}
    file = await bot.get_file(sent.document.file_id)
    assert await file.download_as_bytearray() == b"col1,col2\n1,2\n"
    # a file_id is reusable without uploading again
    again = await bot.send_document(BOB, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id


async def test_photo_upload_reads_png_size(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_photo(ALICE, PNG_HEADER + b"\x00" * 16)
    assert (sent.photo[-1].width, sent.photo[-1].height) == (320, 240)
    assert sent.photo[0].width < sent.photo[-1].width


async def test_user_photo_get_file_and_download(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_photo(ALICE, b"JPEGDATA", caption="look", width=1280, height=720)
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.caption == "look"
    assert [p.width for p in message.photo] == [90, 1280]
    file = await message.photo[-1].get_file()
    assert file.file_path is not None
    assert file.file_path.startswith(emu.base_file_url)
    assert await file.download_as_bytearray() == b"JPEGDATA"
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_oversized_document(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_oversized_document(ALICE, size=25_000_000, file_name="big.zip",
                                mime_type="application/zip")  # fmt: skip
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.document is not None
    assert update.message.document.file_size == 25_000_000
    with pytest.raises(BadRequest, match="File is too big"):
        await update.message.document.get_file()


async def test_other_user_media(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_voice(ALICE, b"OGG", duration=4)
    emu.send_video(ALICE, b"MP4", caption="clip")
    emu.send_document(ALICE, b"%PDF", file_name="a.pdf", mime_type="application/pdf",
                      media_group_id="g1")  # fmt: skip
    emu.send_location(ALICE, 48.85, 2.35)
    voice, video, document, location = [u.message for u in await bot.get_updates()]
    assert voice is not None and voice.voice is not None
    assert voice.voice.duration in (4, dtm.timedelta(seconds=4))
    assert video is not None and video.video is not None and video.caption == "clip"
    assert document is not None and document.document is not None
    assert (document.document.mime_type, document.media_group_id) == ("application/pdf", "g1")
    assert location is not None and location.location is not None
    assert location.location.latitude == pytest.approx(48.85)


async def test_commands_per_scope_and_language(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Démarrer")], language_code="fr")
    await bot.set_my_commands(
        [BotCommand("report", "Report")], scope=BotCommandScopeChat(GROUP), language_code="fr"
    )
    await bot.set_my_commands([BotCommand("poll", "Poll")], scope=BotCommandScopeAllGroupChats())
    assert [c["command"] for c in emu.commands()] == ["start", "help"]
    assert emu.commands(language_code="fr") == [{"command": "start", "description": "Démarrer"}]
    assert emu.commands(scope={"type": "chat", "chat_id": GROUP}, language_code="fr") == [
        {"command": "report", "description": "Report"}
    ]
    assert emu.commands(scope={"type": "chat", "chat_id": GROUP}) == []
    assert emu.commands(scope={"type": "all_group_chats"})[0]["command"] == "poll"
    fetched = await bot.get_my_commands(language_code="fr")
    assert [c.command for c in fetched] == ["start"]
    await bot.delete_my_commands(language_code="fr")
    assert emu.commands(language_code="fr") == []
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert emu.calls[-1].description == "Bad Request: BOT_COMMAND_INVALID"
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("x", "x")], scope=BotCommandScopeChat(4242))


async def test_media_group(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_media_group(
        ALICE,
        [
            InputMediaPhoto(b"PHOTO1", caption="<b>first</b>", parse_mode="HTML"),
            InputMediaPhoto(b"PHOTO2"),
        ],
    )
    assert len(sent) == 2
    assert sent[0].media_group_id == sent[1].media_group_id is not None
    assert sent[0].caption == "first"
    stored = emu.messages(ALICE)
    assert [m.kind for m in stored] == ["media_group", "media_group"]
    assert [m.media_type for m in stored] == ["photo", "photo"]
    assert [emu.file_bytes(m.file_ids[0]) for m in stored] == [b"PHOTO1", b"PHOTO2"]
    with pytest.raises(BadRequest):
        await bot.send_media_group(ALICE, [InputMediaPhoto(b"ONLY")])
    assert emu.calls[-1].description == "Bad Request: media must include 2-10 items"


async def test_reply_keyboard_tracking(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    assert emu.reply_keyboard(ALICE) is None
    await bot.send_message(ALICE, "pick", reply_markup=ReplyKeyboardMarkup([["Yes", "No"]]))
    await bot.send_message(ALICE, "unrelated")
    assert emu.reply_keyboard(ALICE) == [["Yes", "No"]]
    await bot.send_message(ALICE, "thanks", reply_markup=ReplyKeyboardRemove())
    assert emu.reply_keyboard(ALICE) is None


async def test_replies(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    emu.send_text(ALICE, "question")
    (update,) = await bot.get_updates()
    assert update.message is not None
    answer = await update.message.reply_text("answer", do_quote=True)
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ALICE, "x", reply_to_message_id=999)


async def test_chat_action_and_get_chat(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    events = emu.subscribe()
    assert await bot.send_chat_action(ALICE, "typing")
    event = events.get_nowait()
    assert (event.kind, event.chat_id, event.text) == ("chat_action", ALICE, "typing")
    assert emu.drain_events(ALICE) == []  # chat actions only reach subscribers
    chat = await bot.get_chat(GROUP)
    assert (chat.title, chat.type) == ("Coop", "supergroup")
    private = await bot.get_chat(ALICE)
    assert (private.first_name, private.username) == ("Alice", "alice")


async def test_json_params_are_decoded_in_calls(bot: telegram.Bot, emu: BotApiEmulator) -> None:
    await bot.send_message(ALICE, "k", reply_markup=_keyboard("a"))
    params = emu.calls[-1].params
    assert params["reply_markup"] == json.loads(_keyboard("a").to_json())
    assert params["chat_id"] == ALICE
