"""Telegram's updates read into the core's neutral events (bot/channels/telegram/inbound.py)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.channels.telegram.inbound import event_of
from bot.core.callbacks import Review
from bot.core.events import Choice, Command, Location, MediaMessage, Text, Unsupported
from tests.auxil.factories import make_message_update, message_payload

USER = 4242


def _update(**message: Any) -> Update:
    payload = message_payload(10, USER, "x")
    del payload["message"]["text"], payload["message"]["entities"]
    payload["message"].update(message)
    update = Update.de_json(payload, None)
    assert update is not None
    return update


def test_texts_and_commands_as_python_telegram_bot_reads_them() -> None:
    text = event_of(make_message_update(10, USER, "Le toit est réparé"))
    assert isinstance(text, Text) and text.body == "Le toit est réparé"
    assert (text.channel, text.sender.user_id, text.chat_id, text.message_id) == (
        "telegram", USER, USER, 10)
    assert text.sender.language_code == "fr" and text.reply_to is None
    command = event_of(make_message_update(11, USER, "/Report@palabre_bot R-2026-000042"))
    assert isinstance(command, Command)
    assert command.name == "report" and command.args == ("R-2026-000042",)


def test_a_reply_names_the_replied_message() -> None:
    reply = event_of(_update(text="Merci", reply_to_message={
        "message_id": 7, "date": 1_770_000_000, "chat": {"id": USER, "type": "private"},
        "text": "Annonce"}))
    assert isinstance(reply, Text) and reply.reply_to == 7 and reply.numeric_reply_to == 7


def test_a_press_is_a_choice_parsed_by_the_codec() -> None:
    data = Review("ok", 31).pack()
    update = Update.de_json({"update_id": 12, "callback_query": {
        "id": "q1", "chat_instance": "c", "data": data,
        "from": {"id": USER, "is_bot": False, "first_name": "Aminata"},
        "message": {"message_id": 5, "date": 1_770_000_000,
                    "chat": {"id": USER, "type": "private"}, "text": "Rapport"}}}, None)
    assert update is not None
    choice = event_of(update)
    assert isinstance(choice, Choice)
    assert choice.data == data and choice.ref == Review("ok", 31) and choice.message_id == 5


def test_files_places_and_the_rest() -> None:
    photo = event_of(_update(caption="Château d'eau", media_group_id="g1", photo=[
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
        {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900,
         "file_size": 1000}]))
    assert isinstance(photo, MediaMessage)
    assert (photo.kind, photo.file_id, photo.size, photo.caption, photo.media_group_id) == (
        "photo", "big", 1000, "Château d'eau", "g1")  # the largest size
    media = photo.media()
    assert (media.kind, media.file_id, media.mime_type, media.chat_id, media.message_id) == (
        "photo", "big", "image/jpeg", USER, 10)
    voice = event_of(_update(voice={"file_id": "v", "file_unique_id": "vu", "duration": 3,
                                    "mime_type": "audio/ogg"}))
    assert isinstance(voice, MediaMessage) and voice.kind == "voice"
    document = event_of(_update(document={"file_id": "d", "file_unique_id": "du",
                                          "file_name": "secret-name.pdf",
                                          "mime_type": "application/pdf"}))
    assert isinstance(document, MediaMessage) and document.kind == "document"
    place = event_of(_update(location={"latitude": 12.37, "longitude": -1.52}))
    assert isinstance(place, Location) and place.media().kind == "location"
    sticker = event_of(_update(sticker={"file_id": "s", "file_unique_id": "su", "width": 1,
                                        "height": 1, "is_animated": False, "is_video": False,
                                        "type": "regular"}))
    assert isinstance(sticker, Unsupported) and sticker.kind == "sticker"


def test_the_media_handlers_filter_takes_exactly_the_files_and_places() -> None:
    """Telegram's media handler (bot/channels/telegram/adapter.py) gives what its filter takes
    to the routers' files-and-places route, thence to the core's list of free-input flows,
    which accepts files and places only."""
    from bot.channels.telegram.adapter import MEDIA

    samples = [
        _update(text="hello"),
        _update(location={"latitude": 1.0, "longitude": 2.0}),
        _update(venue={"location": {"latitude": 1.0, "longitude": 2.0}, "title": "Puits",
                       "address": "Ziguinchor"},
                location={"latitude": 1.0, "longitude": 2.0}),
        _update(photo=[{"file_id": "p", "file_unique_id": "pu", "width": 1, "height": 1}]),
        _update(audio={"file_id": "a", "file_unique_id": "au", "duration": 1}),
        _update(video={"file_id": "v", "file_unique_id": "vu", "width": 1, "height": 1,
                       "duration": 1}),
        _update(animation={"file_id": "g", "file_unique_id": "gu", "width": 1, "height": 1,
                           "duration": 1},
                document={"file_id": "g", "file_unique_id": "gu"}),
        _update(contact={"phone_number": "+221770000001", "first_name": "Awa"}),
    ]
    for update in samples:
        taken = bool(MEDIA.check_update(update))
        assert taken == isinstance(event_of(update), MediaMessage | Location), update.to_dict()
