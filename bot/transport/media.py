"""Fetch received files in the background: getFile, download, keep by content hash."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.core.media import store_file
from bot.logs import redact
from bot.services import Services
from storage.models import Attachment

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


class MediaFetcher:
    """Downloads pending attachments; a failure is retried later with growing pauses, never
    dropped (the Telegram file id was recorded when the message arrived)."""

    def __init__(self, services: Services, batch: int = 20) -> None:
        self.services = services
        self.batch = batch
        self._lock = asyncio.Lock()  # one round at a time, even if a round is slow

    async def run_once(self, bot: Bot) -> int:
        """Fetch the attachments that are due; return how many were stored."""
        if self._lock.locked():
            return 0
        async with self._lock:
            store = self.services.store
            due = await store.reports.attachments_due(self.services.clock(), self.batch)
            stored = 0
            for attachment in due:
                stored += await self._fetch(bot, attachment)
            return stored

    async def _fetch(self, bot: Bot, attachment: Attachment) -> int:
        store = self.services.store
        settings = self.services.settings
        assert attachment.file_id is not None
        try:
            telegram_file = await bot.get_file(attachment.file_id)
            if (telegram_file.file_size or 0) > settings.max_download_bytes:
                raise _TooBig
            data = bytes(await telegram_file.download_as_bytearray())
        except _TooBig:
            await self._refuse(attachment, "file too big")
            return 0
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                await self._refuse(attachment, "file too big")
                return 0
            await self._retry(attachment, exc)
            return 0
        except (TelegramError, OSError) as exc:
            await self._retry(attachment, exc)
            return 0
        digest, relative = await asyncio.to_thread(
            store_file, settings.media_dir, data, attachment.kind, attachment.mime_type)
        async with store.transaction():
            await store.reports.attachment_stored(attachment.id, sha256=digest, path=relative,
                                                  size=len(data))
        return 1

    async def _refuse(self, attachment: Attachment, reason: str) -> None:
        async with self.services.store.transaction():
            await self.services.store.reports.attachment_refused(attachment.id, reason)

    async def _retry(self, attachment: Attachment, exc: Exception) -> None:
        pause = min(FIRST_RETRY * (2 ** attachment.attempts), LAST_RETRY)
        log.info("could not fetch attachment %s (%s); next try in %s", attachment.id,
                 redact(str(exc)), pause)
        async with self.services.store.transaction():
            await self.services.store.reports.attachment_retry(
                attachment.id, error=redact(f"{type(exc).__name__}: {exc}"),
                next_attempt_at=self.services.clock() + pause)


class _TooBig(Exception):
    pass
