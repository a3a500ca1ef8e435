"""Meta's webhook notifications, read into the events Palabre records.

A notification (`object: whatsapp_business_account`) holds entries, each with changes; a
`messages` change holds a person's messages (keyed by their `wamid`) and the statuses of
messages Palabre sent (sent, delivered, read, failed). Meta retries a notification for days
until it gets a 200, and may send one twice: events are keyed so that a repeat is recognised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

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
                recipient = status.get("recipient_id")
                if not isinstance(wamid, str) or state not in STATUSES:
                    continue
                events.append(WebhookEvent(f"{wamid}:{state}", "status", str(recipient or ""),
                                           _int(status.get("timestamp")), _json(status)))
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
