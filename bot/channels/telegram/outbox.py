"""The outbox's sender: drains announcement rows at Telegram's pace, exactly once each.

Each row is claimed (`pending` → `sending`, with a fresh token) in a committed transaction
before its HTTP call, and settled with what Telegram's answer proves (`bot.channels.telegram.delivery`):
`sent` with the message id; `pending` again after a 429 or an error raised before the request
left; `unreachable` after a 403; `failed` after a refusal; `uncertain` when the outcome is
unknown (a read timeout, a connection closed after sending, a 5xx), never re-sent on its own.
When the bot stops, in-flight calls are given time to finish and be recorded; rows still
`sending` at the next start (the process died mid-call) become `uncertain` too (see
`AnnouncementService.reconcile`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.channels.calls import drain
from bot.channels.telegram import delivery, render
from bot.channels.telegram.delivery import Outcome
from bot.channels.telegram.ratelimit import PACED, FloodLimiter, retry_after_seconds
from bot.core.addresses import channel_of
from bot.core.announcements import AnnouncementService
from bot.logs import redact
from bot.services import Services
from storage.models import OutboxRow

log = logging.getLogger(__name__)
FIRST_RETRY = 0.5  # seconds; doubled at each transient failure of a row
LAST_RETRY = 60.0
PLACE_QUANTUM = 0.02  # seconds: the shortest wait for the next places in the pace
SEND_TIMEOUT = 20.0  # a read timeout is ambiguous (the request reached Telegram): be patient


class OutboxSender:
    """One task that sends due outbox rows, with at most `max_in_flight` calls at a time."""

    def __init__(self, services: Services, bot: ExtBot[Any], limiter: FloodLimiter | None, *,
                 batch: int = 500, max_in_flight: int = 48, idle: float = 0.5,
                 drain_timeout: float = 5.0) -> None:
        self.services = services
        self.bot = bot
        # Without the bot's limiter (not expected), pace on a private one at the settings' rate.
        settings = services.settings
        self.limiter = limiter or FloodLimiter(
            overall_per_second=settings.broadcast_rate, chat_per_second=settings.chat_rate,
            group_per_minute=settings.group_rate)
        self.batch = batch
        self.idle = idle
        self.drain_timeout = drain_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._not_before: dict[int, float] = {}  # row id → monotonic time of its next try
        self._paused_until = 0.0  # after a 429 on a broadcast: Telegram asked to slow down
        self._task: asyncio.Task[None] | None = None
        # Rounds completed (each ends with the reports of the announcements it finished): a
        # caller that saw the work done waits for the next one instead of guessing a delay.
        self.rounds = 0
        # Deliveries waiting to be recorded, written in one transaction by `_settler`.
        self._delivered: list[tuple[int, str, int]] = []
        self._settle_wanted = asyncio.Event()
        self._settler_task: asyncio.Task[None] | None = None
        self._closing = False
        self._progressed = False  # during a round: whether anything was claimed
        # "telegram" when another channel's sender takes its people's rows (WhatsApp's,
        # `bot/channels/whatsapp/outbox.py`); None: every row, a WhatsApp one failed.
        self.channel: str | None = None
        self.stats: dict[str, int] = {"sent": 0, "429": 0, "retries": 0, "unreachable": 0,
                                      "failed": 0, "uncertain": 0}

    @property
    def announcements(self) -> AnnouncementService:
        return self.services.announcements

    async def start(self) -> None:
        """Settle what a previous process left in flight, then start sending."""
        uncertain = await self.announcements.reconcile()
        if uncertain:
            log.warning("%d announcement message(s) were in flight when the bot last stopped; "
                        "marked uncertain, not re-sent", uncertain)
        self._task = asyncio.create_task(self._run(), name="palabre-outbox")
        self._closing = False
        self._settler_task = asyncio.create_task(self._settler(), name="palabre-outbox-settle")

    async def stop(self) -> None:
        """Stop claiming rows; let the calls under way finish and be recorded."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await drain(self._in_flight, self.drain_timeout)
        # What the last calls answered is recorded before the HTTP client closes: the
        # settler ends after one more batch (never cancelled in the middle of one).
        settler, self._settler_task = self._settler_task, None
        if settler is not None:
            self._closing = True
            self._settle_wanted.set()
            await settler
        await self._settle_delivered()

    async def _run(self) -> None:
        queued = self.announcements.queued
        while True:
            try:
                progressed = await self._round()
                self.rounds += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed; trying again shortly")
                progressed = False
                await asyncio.sleep(1.0)
            if not progressed:
                queued.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle):
                        await queued.wait()

    async def _round(self) -> bool:
        """Send what is due now; return whether anything was claimed.

        Rows that got a place in the pace are claimed together, in one transaction, just
        before the sender would wait (for the pace, or for a free call slot) and at the end
        of a page: at 1,000 messages/s a claim per row was most of the bot's time.
        """
        services = self.services
        self._progressed = False
        placed: list[OutboxRow] = []
        after = 0
        while True:
            rows = await self.announcements.due(self.batch, services.clock(), after,
                                                channel=self.channel)
            if not rows:
                break
            after = rows[-1].id
            for row in rows:
                if self._not_before.get(row.id, 0.0) > time.monotonic():
                    continue
                if not await self._place(row, placed):
                    continue
                if self._slots.locked():
                    await self._launch(placed)
                await self._slots.acquire()
                placed.append(row)
            await self._launch(placed)
        # An announcement with no row pending or in flight is finished (checked in SQL, so
        # other announcements still being sent do not delay its report).
        await self._report(await self.announcements.complete_finished(services.clock()))
        return self._progressed

    async def _launch(self, placed: list[OutboxRow]) -> None:
        """Claim the placed rows in one transaction and start a call for each claimed one
        (each holds one of the call slots taken when it was placed)."""
        if not placed:
            return
        rows = list(placed)
        placed.clear()
        token = secrets.token_hex(8)  # one claim, one token: settling checks it per row
        try:
            claimed = await self.announcements.claim_many(rows, token)
        except BaseException:
            for _row in rows:
                self._slots.release()
            raise
        for row in rows:
            if row.id not in claimed:
                self._slots.release()  # sent meanwhile by another process, or cancelled
                continue
            self._progressed = True
            task = asyncio.create_task(self._send(row, token))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _place(self, row: OutboxRow, placed: list[OutboxRow]) -> bool:
        """Wait for a place in the overall pace; False if this row's chat must wait (it is
        tried again later, and the others go meanwhile). The rows already placed are
        launched before any wait: their places are now."""
        while True:
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                await self._launch(placed)
                await asyncio.sleep(pause)
            overall, chat = self.limiter.broadcast_delay(row.chat_id)
            if overall == 0 and chat == 0:
                return True
            if chat > overall:
                self._not_before[row.id] = time.monotonic() + chat
                return False
            await self._launch(placed)
            # Not less than a quantum: at a high rate the places that came meanwhile are
            # then taken together (one claim) instead of one wake-up and claim per message.
            await asyncio.sleep(max(overall, PLACE_QUANTUM))

    async def _send(self, row: OutboxRow, token: str) -> None:
        announcements = self.announcements
        clock = self.services.clock
        try:
            sending = await announcements.sending(row)
            if sending is None:
                await announcements.failed(row, token, "announcement not found", clock())
                return
            if channel_of(row.chat_id) != "telegram":
                # A WhatsApp member while WhatsApp is not served (no token): never to
                # Telegram, where a negative id names a group.
                await announcements.failed(row, token, "WhatsApp is not served", clock())
                return
            try:
                message = await render.send_one(self.bot, row.chat_id, sending.reply,
                                                rate_limit_args=PACED,
                                                read_timeout=SEND_TIMEOUT)
            except TelegramError as exc:
                await self._settle_failure(row, token, exc)
                return
            self._not_before.pop(row.id, None)
            self.stats["sent"] += 1
            # Recorded with the other deliveries of the moment, in one transaction; a crash
            # before then leaves the row `sending`: uncertain at the next start, not re-sent.
            self._delivered.append((row.id, token, message.message_id))
            self._settle_wanted.set()
        except Exception:
            # E.g. the database failed while recording: the row stays `sending`, and the next
            # start marks it uncertain (never re-sent on its own).
            log.exception("outbox row %s: outcome not recorded", row.id)
        finally:
            self._slots.release()

    async def _settler(self) -> None:
        """Record deliveries in batches: whatever arrived while the last batch was written."""
        while True:
            await self._settle_wanted.wait()
            self._settle_wanted.clear()
            await self._settle_delivered()
            if self._closing:
                return

    async def _settle_delivered(self) -> None:
        batch, self._delivered = self._delivered, []
        if not batch:
            return
        try:
            await self.announcements.delivered_many(batch, self.services.clock())
        except Exception:
            # E.g. the database failed: the rows stay `sending`, and the next start marks
            # them uncertain (never re-sent on its own).
            log.exception("outbox: %d deliveries not recorded", len(batch))

    async def _settle_failure(self, row: OutboxRow, token: str, exc: TelegramError) -> None:
        """Record a failed call by what it proves: only a call Telegram certainly did not
        process is sent again; an ambiguous one is `uncertain`, shown to the author."""
        announcements, now = self.announcements, self.services.clock()
        outcome = delivery.classify(exc)
        if isinstance(exc, RetryAfter):
            wait = retry_after_seconds(exc)
            self.stats["429"] += 1
            # Telegram does not say which limit was hit: slow every broadcast down.
            self._paused_until = max(self._paused_until, time.monotonic() + wait)
            await announcements.retry_later(row, token, f"429: retry after {wait:g} s", now,
                                            count_attempt=False)
        elif outcome is Outcome.UNREACHABLE:
            self.stats["unreachable"] += 1
            log.info("member %s is unreachable: %s", row.member_id, exc.message)
            await announcements.unreachable(row, token, now)
        elif outcome is Outcome.REFUSED:
            self.stats["failed"] += 1
            log.warning("announcement %s refused for member %s: %s", row.announcement_id,
                        row.member_id, exc.message)
            await announcements.failed(row, token, redact(exc.message), now)
        elif outcome is Outcome.NOT_PROCESSED:
            await self._transient(row, token, exc)
        else:
            # A read timeout, a connection closed after the request left, a 5xx: Telegram may
            # have delivered it. Sending again could make a duplicate; the author decides.
            self.stats["uncertain"] += 1
            log.info("outbox row %s: outcome unknown (%s); marked uncertain", row.id,
                     redact(str(exc)))
            await announcements.uncertain(row, token, now, redact(str(exc)))

    async def _transient(self, row: OutboxRow, token: str, exc: Exception) -> None:
        self.stats["retries"] += 1
        again = await self.announcements.retry_later(row, token, redact(str(exc)),
                                                     self.services.clock())
        if again:
            pause = min(FIRST_RETRY * 2 ** row.attempts, LAST_RETRY)
            self._not_before[row.id] = time.monotonic() + pause
            log.info("announcement message %s failed (%s); next try in %.1f s", row.id,
                     redact(str(exc)), pause)
        else:
            self.stats["failed"] += 1
            self._not_before.pop(row.id, None)

    async def _report(self, notices: list[Any]) -> None:
        for notice in notices:
            try:
                await render.send_reply(self.bot, notice.telegram_user_id, notice.reply)
            except TelegramError as exc:
                log.warning("could not send the delivery report to %s: %s",
                            notice.telegram_user_id, redact(str(exc)))
