"""Meta's webhook messages read into the core's neutral events, as Telegram's updates are."""

from __future__ import annotations

from typing import Any

from bot.channels.whatsapp.events import inbound_event, message_event, read_notification
from bot.core.callbacks import SurveyAnswer, SurveyStart
from bot.core.events import Choice, Command, Location, MediaMessage, Text, Unsupported

AWA = "221770000001"


def _notification(message: dict[str, Any]) -> dict[str, Any]:
    """A notification as Meta sends it: one entry, one change, the sender's profile."""
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "PNID"},
            "contacts": [{"profile": {"name": "Awa Diop"}, "wa_id": AWA}],
            "messages": [{"from": AWA, "id": "wamid.A1", "timestamp": "1772546700",
                          **message}]}}]}]}


def _event(message: dict[str, Any]) -> object:
    [event] = read_notification(_notification(message))
    return inbound_event(event)


def test_a_text_with_the_sender_and_the_reply_context() -> None:
    event = _event({"type": "text", "text": {"body": "Le toit est réparé"},
                    "context": {"from": "15550000000", "id": "wamid.OUT7"}})
    assert isinstance(event, Text)
    assert event.body == "Le toit est réparé" and event.channel == "whatsapp"
    # A WhatsApp person's id is the negative of their number: never a Telegram id.
    assert event.sender.user_id == -int(AWA) and event.sender.first_name == "Awa Diop"
    # WhatsApp gives no language: the number's country proposes one (Senegal: French).
    assert event.sender.language_code == "fr"
    assert event.chat_id == -int(AWA)
    assert event.message_id == "wamid.A1" and event.reply_to == "wamid.OUT7"
    # Not a Telegram number: the store's message ids are not mixed up with it.
    assert event.numeric_message_id is None and event.numeric_reply_to is None
    assert event.media().kind == "text" and event.media().body == "Le toit est réparé"


def test_a_command_typed_with_its_slash() -> None:
    event = _event({"type": "text", "text": {"body": "/Report R-2026-000042"}})
    assert isinstance(event, Command)
    assert event.name == "report" and event.args == ("R-2026-000042",)
    assert isinstance(_event({"type": "text", "text": {"body": "/"}}), Text)


def test_reply_buttons_list_rows_and_quick_replies_are_choices_parsed_by_the_codec() -> None:
    pressed = SurveyAnswer("c", 12, "t3", "2").pack()
    button = _event({"type": "interactive", "context": {"from": "15550000000",
                                                        "id": "wamid.OUT8"},
                     "interactive": {"type": "button_reply",
                                     "button_reply": {"id": pressed, "title": "Oui"}}})
    assert isinstance(button, Choice)
    assert button.data == pressed and button.ref == SurveyAnswer("c", 12, "t3", "2")
    # Like Telegram's press, the choice names the message that carried it.
    assert button.message_id == "wamid.OUT8" and button.reply_to is None
    row = _event({"type": "interactive",
                  "interactive": {"type": "list_reply",
                                  "list_reply": {"id": SurveyStart(5).pack(), "title": "Eau",
                                                 "description": "Enquête eau"}}})
    assert isinstance(row, Choice) and row.ref == SurveyStart(5)
    quick = _event({"type": "button", "button": {"payload": "rm:snooze:4", "text": "Plus tard"}})
    assert isinstance(quick, Choice) and quick.data == "rm:snooze:4"
    forged = _event({"type": "interactive", "interactive": {
        "type": "button_reply", "button_reply": {"id": "zz:nothing", "title": "?"}}})
    assert isinstance(forged, Choice) and forged.ref is None
    # An interactive message of another kind (a flow's answer, say) is no choice.
    other = _event({"type": "interactive", "interactive": {"type": "nfm_reply"}})
    assert isinstance(other, Unsupported)


def test_images_voice_notes_audio_videos_and_documents_are_media() -> None:
    image = _event({"type": "image", "image": {"caption": "Le château d'eau", "id": "M1",
                                               "mime_type": "image/jpeg", "sha256": "abc"}})
    assert isinstance(image, MediaMessage)
    assert (image.kind, image.file_id, image.file_unique_id, image.caption) == (
        "photo", "M1", "abc", "Le château d'eau")
    assert image.media().kind == "photo" and image.media().mime_type == "image/jpeg"
    voice = _event({"type": "audio", "audio": {"id": "M2", "mime_type": "audio/ogg; codecs=opus",
                                               "voice": True}})
    assert isinstance(voice, MediaMessage) and voice.kind == "voice"
    audio = _event({"type": "audio", "audio": {"id": "M3", "mime_type": "audio/mpeg"}})
    assert isinstance(audio, MediaMessage) and audio.kind == "audio"
    video = _event({"type": "video", "video": {"id": "M4", "mime_type": "video/mp4"}})
    assert isinstance(video, MediaMessage) and video.kind == "video"
    document = _event({"type": "document", "document": {
        "id": "M5", "filename": "rapport.pdf", "mime_type": "application/pdf"}})
    assert isinstance(document, MediaMessage) and document.kind == "document"
    assert document.caption is None  # the sender's file name is never kept


def test_a_location_and_what_is_not_understood() -> None:
    place = _event({"type": "location", "location": {"latitude": 14.6937,
                                                     "longitude": -17.4441, "name": "Dakar"}})
    assert isinstance(place, Location)
    assert (place.latitude, place.longitude) == (14.6937, -17.4441)
    assert place.media().has_valid_location
    forged = _event({"type": "location", "location": {"latitude": 95, "longitude": 0}})
    assert isinstance(forged, Location) and not forged.media().has_valid_location
    broken = _event({"type": "location", "location": {"latitude": "north"}})
    assert isinstance(broken, Unsupported)
    sticker = _event({"type": "sticker", "sticker": {"id": "S1", "animated": False}})
    assert isinstance(sticker, Unsupported) and sticker.kind == "sticker"
    assert isinstance(_event({"type": "image", "image": {}}), Unsupported)  # no media id


def test_statuses_and_messages_without_a_sender_are_no_events() -> None:
    status = {"object": "whatsapp_business_account", "entry": [{"changes": [{
        "field": "messages", "value": {"statuses": [
            {"id": "wamid.OUT7", "status": "read", "recipient_id": AWA,
             "timestamp": "1772546800"}]}}]}]}
    [event] = read_notification(status)
    assert inbound_event(event) is None
    # Kept without the number: only the wamid settles a sent message (and /forget holds).
    assert event.wa_id == "" and AWA not in event.payload
    assert message_event({"id": "wamid.X", "type": "text", "text": {"body": "hi"}}) is None
    assert message_event({"from": "+221 77", "id": "wamid.X", "type": "text"}) is None
