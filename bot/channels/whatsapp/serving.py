"""WhatsApp served beside Telegram in `palabre run`: the webhook on `PALABRE_WEBHOOK_LISTEN`,
the processor that handles what it records, and the client that answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
from aiohttp import web

from bot.channels.whatsapp.client import FileOverLimit, WhatsAppClient
from bot.channels.whatsapp.events import WebhookEvent
from bot.channels.whatsapp.outbox import WhatsAppSender
from bot.channels.whatsapp.processor import NoticeSender, WhatsAppProcessor
from bot.channels.whatsapp.webhook import PATH, webhook_app
from bot.core.media import FileTooLarge
from bot.logs import add_secret
from bot.services import Services
from storage.models import Attachment

log = logging.getLogger(__name__)


class WhatsAppChannel:
    """The WhatsApp side of a running bot, started in post_init and stopped in post_stop."""

    def __init__(self, services: Services, *, notify_other: NoticeSender | None = None) -> None:
        # Read now: a missing setting is a one-line error before anything starts.
        self.token, self.phone_number_id, self.app_secret, self.verify_token = (
            services.settings.whatsapp_secrets())
        add_secret(self.token)
        add_secret(self.app_secret)
        self.services = services
        self.notify_other = notify_other
        self.port = 0  # the webhook's bound port, once started
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._processor: WhatsAppProcessor | None = None
        self._client: WhatsAppClient | None = None
        self._sender: WhatsAppSender | None = None

    @property
    def sender(self) -> WhatsAppSender:
        """Announcements, reminders and statuses on WhatsApp."""
        if self._sender is None:
            raise RuntimeError("WhatsApp is not started")
        return self._sender

    @property
    def processor(self) -> WhatsAppProcessor:
        if self._processor is None:
            raise RuntimeError("WhatsApp is not started")
        return self._processor

    async def start(self) -> None:
        """Open the client, start the processor (pending messages first), then the webhook."""
        settings = self.services.settings
        self._session = aiohttp.ClientSession()
        client = self._client = WhatsAppClient(
            self._session, base_url=settings.whatsapp_base_url, token=self.token,
            phone_number_id=self.phone_number_id)
        self._processor = WhatsAppProcessor(self.services, client,
                                            notify_other=self.notify_other)
        await self._processor.start()
        self._sender = WhatsAppSender(self.services, client)
        await self._sender.start()
        processor, sender = self._processor, self._sender

        async def record(events: Sequence[WebhookEvent]) -> int:
            """Store the events; wake the processor, and the statuses' reader."""
            new = await processor.record(events)
            sender.statuses_wanted.set()
            return new

        app = webhook_app(record, app_secret=self.app_secret,
                          verify_token=self.verify_token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        host, _, port = settings.webhook_listen.rpartition(":")
        site = web.TCPSite(self._runner, host.strip("[]"), int(port))
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else int(port)
        log.info("WhatsApp webhook listening on %s:%d%s", host, self.port, PATH)

    async def download(self, attachment: Attachment, max_bytes: int) -> bytes:
        """A person's file, by the media id recorded on its attachment (Meta's address first,
        then the bytes, the token on both calls); FileTooLarge over `max_bytes`."""
        if self._client is None:
            raise RuntimeError("WhatsApp is not started")
        if not attachment.file_id:
            raise ValueError(f"attachment {attachment.id} has no media id")
        try:
            media = await self._client.download(attachment.file_id, max_bytes)
        except FileOverLimit as exc:
            raise FileTooLarge(str(exc)) from exc
        return media.content

    async def stop(self) -> None:
        """Stop receiving first, then handling (what is under way stays pending), then the
        client."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._processor is not None:
            await self._processor.stop()
        if self._sender is not None:
            # Calls under way finish and are recorded before the client closes.
            await self._sender.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
