"""Fetch received files in the background: getFile, download, keep by content hash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.channels.telegram import render
from bot.core.addresses import Channel, channel_of
from bot.core.media import FileTooLarge, storage_notice, store_file
from bot.i18n import use_language
from bot.logs import redact
from bot.services import Services
from storage.models import Attachment

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


# Another channel's download of a file it recorded (its id in `file_id`), at most so many bytes;
# raises FileTooLarge for a file over them, anything else for a failure to retry.
Download = Callable[[Attachment, int], Awaitable[bytes]]


class MediaFetcher:
    """Downloads pending attachments; a failure is retried later with growing pauses, never
    dropped (the channel's file id was recorded when the message arrived). Telegram's files
    are fetched with getFile; another channel's with the download it registers
    (`downloads`), each file by the channel its sender writes on."""

    def __init__(self, services: Services, batch: int = 20) -> None:
        self.services = services
        self.batch = batch
        self.downloads: dict[Channel, Download] = {}
        self._lock = asyncio.Lock()  # one round at a time, even if a round is slow
        # Why the media folder cannot be written (read-only, disk full), None while it can:
        # logged and told to the administrators once per change, not once per file and round.
        self.storage_problem: str | None = None

    async def run_once(self, bot: Bot) -> int:
        """Fetch the attachments that are due; return how many were stored."""
        if self._lock.locked():
            return 0
        async with self._lock:
            store = self.services.store
            due = await store.reports.attachments_due(self.services.clock(), self.batch)
            stored = 0
            for attachment in due:
                try:
                    channel = await self._channel(attachment)
                    stored += (await self._fetch(bot, attachment) if channel == "telegram"
                               else await self._fetch_other(bot, channel, attachment))
                except Exception as exc:  # one file never holds back the others
                    log.warning("attachment %s: unexpected %s", attachment.id,
                                redact(repr(exc)))
                    await self._retry(attachment, exc)
            return stored

    async def _channel(self, attachment: Attachment) -> Channel:
        """The channel the file came by: its sender's (a forgotten sender's: Telegram's)."""
        if attachment.member_id is None:
            return "telegram"
        member = await self.services.store.members.by_id(attachment.member_id)
        if member is None or member.telegram_user_id is None:
            return "telegram"
        return channel_of(member.telegram_user_id)

    async def _fetch_other(self, bot: Bot, channel: Channel, attachment: Attachment) -> int:
        """Fetch a file received on another channel with that channel's download."""
        download = self.downloads.get(channel)
        if download is None:  # the channel is not served now: the file waits for it
            await self._retry(attachment, RuntimeError(f"{channel} is not served"), quiet=True)
            return 0
        try:
            data = await download(attachment, self.services.settings.max_download_bytes)
        except FileTooLarge:
            await self._refuse(attachment, "file too big")
            return 0
        except Exception as exc:  # a failure of the channel: retried later
            await self._retry(attachment, exc)
            return 0
        return await self._keep(bot, attachment, data)

    async def _fetch(self, bot: Bot, attachment: Attachment) -> int:
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
        return await self._keep(bot, attachment, data)

    async def _keep(self, bot: Bot, attachment: Attachment, data: bytes) -> int:
        """Store a downloaded file by its content hash and record it on its attachment."""
        store = self.services.store
        settings = self.services.settings
        try:
            digest, relative = await asyncio.to_thread(
                store_file, settings.media_dir, data, attachment.kind, attachment.mime_type)
        except OSError as exc:  # read-only folder, full disk: the file waits, retried later
            await self._storage_changed(bot, f"{type(exc).__name__}: {exc.strerror or exc}")
            await self._retry(attachment, exc, quiet=True)
            return 0
        await self._storage_changed(bot, None)
        async with store.transaction():
            await store.reports.attachment_stored(attachment.id, sha256=digest, path=relative,
                                                  size=len(data))
        return 1

    async def _refuse(self, attachment: Attachment, reason: str) -> None:
        async with self.services.store.transaction():
            await self.services.store.reports.attachment_refused(attachment.id, reason)

    async def _storage_changed(self, bot: Bot, problem: str | None) -> None:
        """Log and tell the administrators when the media folder stops or starts working."""
        if (problem is None) == (self.storage_problem is None):
            return
        self.storage_problem = problem
        folder = self.services.settings.media_dir
        if problem is not None:
            log.error("cannot store received files in %s (%s): they wait and are retried",
                      folder, problem)
        else:
            log.warning("received files can be stored in %s again", folder)
        for chat_id, language in await self._administrators():
            with use_language(language):
                reply = storage_notice(problem is not None, str(folder))
            try:
                await render.send_reply(bot, chat_id, reply)  # type: ignore[arg-type]
            except TelegramError as exc:
                log.info("could not tell administrator %s: %s", chat_id, redact(str(exc)))

    async def _administrators(self) -> list[tuple[int, str]]:
        """(chat id, language) of the active administrators (declared ids included)."""
        settings = self.services.settings
        found: dict[int, str] = {}
        for member in await self.services.store.members.active_admins():
            if member.telegram_user_id is not None:
                found[member.telegram_user_id] = member.language
        for admin_id in settings.admin_ids:
            found.setdefault(admin_id, settings.default_language)
        return sorted(found.items())

    async def _retry(self, attachment: Attachment, exc: Exception, quiet: bool = False) -> None:
        pause = min(FIRST_RETRY * (2 ** attachment.attempts), LAST_RETRY)
        (log.debug if quiet else log.info)(
            "could not fetch attachment %s (%s); next try in %s", attachment.id,
            redact(str(exc)), pause)
        async with self.services.store.transaction():
            await self.services.store.reports.attachment_retry(
                attachment.id, error=redact(f"{type(exc).__name__}: {exc}"),
                next_attempt_at=self.services.clock() + pause)


class _TooBig(Exception):
    pass
