"""Meta's webhook notifications, read into the events Palabre records.

A notification (`object: whatsapp_business_account`) holds entries, each with changes; a
`messages` change holds a person's messages (keyed by their `wamid`) and the statuses of
messages Palabre sent (sent, delivered, read, failed). Meta retries a notification for days
until it gets a 200, and may send one twice: events are keyed so that a repeat is recognised.

A recorded message is read into the core's neutral events (`inbound_event`): a text (a
`/command` typed with its slash), a reply button, list row or template quick reply (a choice
carrying the reference the core wrote), an image, voice note, audio, video or document, a
location; WhatsApp's reply context is the event's `reply_to`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.core import addresses
from bot.core.events import (
    Choice,
    Command,
    FileKind,
    InboundEvent,
    Location,
    MediaMessage,
    Text,
    Unsupported,
)
from bot.core.people import Person

EventKind = Literal["message", "status"]
STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class WebhookEvent:
    """One message from a person, or one status of a message sent to them."""

    event_id: str  # the message's wamid; for a status, "<wamid>:<status>"
    kind: EventKind
    wa_id: str  # the person's WhatsApp id (their number, digits only)
    timestamp: int  # seconds since the epoch, as Meta gives it
    payload: str  # the event's JSON as received, with the sender's profile name if given


class NotificationError(ValueError):
    """The body is not a WhatsApp Business Account notification."""


def read_notification(data: object) -> list[WebhookEvent]:
    """Return the events of a notification, in the order Meta listed them."""
    if not isinstance(data, Mapping) or data.get("object") != "whatsapp_business_account":
        raise NotificationError("not a whatsapp_business_account notification")
    events: list[WebhookEvent] = []
    for entry in _list(data.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, Mapping):
                continue  # template, quality or account updates: not for the conversation
            names = {str(c.get("wa_id")): _profile_name(c) for c in _list(value.get("contacts"))}
            for message in _list(value.get("messages")):
                wamid, sender = message.get("id"), message.get("from")
                if not isinstance(wamid, str) or not isinstance(sender, str):
                    continue
                record = dict(message)
                if names.get(sender):
                    record["profile_name"] = names[sender]
                events.append(WebhookEvent(wamid, "message", sender,
                                           _int(message.get("timestamp")), _json(record)))
            for status in _list(value.get("statuses")):
                wamid, state = status.get("id"), status.get("status")
                if not isinstance(wamid, str) or state not in STATUSES:
                    continue
                # Kept without the person's number: the message's wamid is all the outbox
                # needs, and a number recorded with the statuses of the goodbye that /forget
                # sends would bring it back into the store.
                anonymous = {k: v for k, v in status.items() if k != "recipient_id"}
                events.append(WebhookEvent(f"{wamid}:{state}", "status", "",
                                           _int(status.get("timestamp")), _json(anonymous)))
    return events


def _list(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _profile_name(contact: Mapping[str, Any]) -> str | None:
    profile = contact.get("profile")
    name = profile.get("name") if isinstance(profile, Mapping) else None
    return name if isinstance(name, str) else None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _json(value: object) -> str:
    # ASCII-escaped: a lone surrogate in a person's text can always be stored.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


# --- a person's message as the core's neutral event -------------------------------------------

_FILE_KINDS: dict[str, FileKind] = {"image": "photo", "video": "video", "document": "document",
                                    "audio": "audio"}


def inbound_event(event: WebhookEvent) -> InboundEvent | None:
    """The neutral event (`bot/core/events.py`) of a recorded message; None for a status."""
    if event.kind != "message":
        return None
    message = json.loads(event.payload)
    if not isinstance(message, Mapping):
        return None
    return message_event(message)


def message_event(message: Mapping[str, Any]) -> InboundEvent | None:
    """Read one entry of a notification's `messages` (with the sender's `profile_name` if
    known) into a neutral event; None when it names no sender."""
    wa_id, wamid = message.get("from"), message.get("id")
    if not isinstance(wa_id, str) or not addresses.is_wa_id(wa_id) or not isinstance(wamid, str):
        return None
    name = message.get("profile_name")
    person_id = addresses.whatsapp_person(wa_id)  # negative: never a Telegram id
    # WhatsApp gives no language: the onboarding proposes the number's country's, then asks.
    sender = Person(user_id=person_id, first_name=name if isinstance(name, str) else wa_id,
                    language_code=addresses.language_of_number(wa_id))
    context = message.get("context")
    quoted = context.get("id") if isinstance(context, Mapping) else None
    quoted = quoted if isinstance(quoted, str) else None
    kind = message.get("type")
    body = _mapping(message.get(kind)) if isinstance(kind, str) else {}
    head: dict[str, Any] = {"channel": "whatsapp", "sender": sender, "chat_id": person_id}
    if kind in ("interactive", "button"):
        data = _choice_data(kind, body)
        if data is not None:
            # Like Telegram's press, a choice names the message that carried it (its context).
            return Choice(**head, message_id=quoted, data=data)
        return Unsupported(**head, message_id=wamid, reply_to=quoted, kind=str(kind))
    head.update(message_id=wamid, reply_to=quoted)
    if kind == "text":
        text = body.get("body")
        text = text if isinstance(text, str) else ""
        words = text.split()
        if words and words[0].startswith("/") and len(words[0]) > 1:
            return Command(**head, name=words[0][1:].lower(), args=tuple(words[1:]))
        return Text(**head, body=text)
    if kind == "location":
        latitude, longitude = _number(body.get("latitude")), _number(body.get("longitude"))
        if latitude is None or longitude is None:
            return Unsupported(**head, kind="location")
        return Location(**head, latitude=latitude, longitude=longitude)
    if kind in _FILE_KINDS and isinstance(body.get("id"), str):
        file_kind = _FILE_KINDS[kind]
        if kind == "audio" and body.get("voice") is True:
            file_kind = "voice"  # a voice note recorded in WhatsApp, not a shared audio file
        caption = body.get("caption")
        sha256 = body.get("sha256")
        mime_type = body.get("mime_type")
        return MediaMessage(**head, kind=file_kind, file_id=body["id"],
                            file_unique_id=sha256 if isinstance(sha256, str) else None,
                            mime_type=mime_type if isinstance(mime_type, str) else None,
                            caption=caption if isinstance(caption, str) else None)
    return Unsupported(**head, kind=str(kind or "unknown"))


def _choice_data(kind: str, body: Mapping[str, Any]) -> str | None:
    """The reference a reply button, a list row or a template's quick reply carries."""
    if kind == "button":  # a template's quick-reply button: its payload
        payload = body.get("payload")
        return payload if isinstance(payload, str) else None
    reply_kind = body.get("type")
    if reply_kind not in ("button_reply", "list_reply"):
        return None
    choice_id = _mapping(body.get(reply_kind)).get("id")
    return choice_id if isinstance(choice_id, str) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None
