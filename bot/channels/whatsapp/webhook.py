"""The webhook receiver: Meta's handshake, signed notifications, durable before the 200.

Meta retries a notification until it gets a 200, for days, so the 200 is sent only once every
event of the notification is on disk (a repeat is recognised by its key and recorded once). A
POST that is not signed with the app secret gets 401 and changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.channels.whatsapp import signature
from bot.channels.whatsapp.events import NotificationError, WebhookEvent, read_notification

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
MAX_BODY = 1024 * 1024  # Meta's notifications are a few KB; media come by id, not inline

# Writes the events durably (ids already known are left as they are); returns how many were new.
Recorder = Callable[[Sequence[WebhookEvent]], Awaitable[int]]


def webhook_app(recorder: Recorder, *, app_secret: str, verify_token: str) -> web.Application:
    """An aiohttp application serving `PATH` (GET: handshake; POST: notifications)."""
    app = web.Application(client_max_size=MAX_BODY)

    async def handshake(request: web.Request) -> web.Response:
        query = request.query
        if (query.get("hub.mode") == "subscribe"
                and query.get("hub.verify_token") == verify_token and verify_token):
            return web.Response(text=query.get("hub.challenge", ""))
        return web.Response(status=403, text="verification failed")

    async def notification(request: web.Request) -> web.Response:
        body = await request.read()
        if not signature.verify(body, request.headers.get(signature.HEADER), app_secret):
            log.warning("webhook POST with a missing or wrong signature refused")
            return web.Response(status=401, text="bad signature")
        try:
            events = read_notification(json.loads(body))
        except (ValueError, NotificationError) as exc:
            # Signed by Meta but unreadable: a 200 stops the retries; nothing to keep.
            log.warning("webhook notification ignored: %s", type(exc).__name__)
            return web.Response(text="ignored")
        if events:
            await recorder(events)  # raises (500, retried by Meta) if it cannot be stored
        return web.Response(text="ok")

    app.router.add_get(PATH, handshake)
    app.router.add_post(PATH, notification)
    return app
