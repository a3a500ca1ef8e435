"""Send due reminders from the store, exactly once each, at the broadcast pace.

Run by the JobQueue (APScheduler): `plan` every hour and at start-up, `tick` every 30 s (in
the background: a tick goes on until nothing is due, and the next one only starts one when
none is running, so a long batch has no gap at the 30 s boundaries). The
rows are the truth: a reminder is claimed (`planned` → `sending`, with a token) in a committed
transaction before its HTTP call and settled with Telegram's answer, so two overlapping ticks
or a restart can never send it twice; one left `sending` by a crash, or whose call failed
ambiguously (read timeout, connection closed after sending, 5xx), becomes `uncertain` and is
never re-sent (counted in the coordinators' digest).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram import delivery, render
from bot.channels.telegram.delivery import Outcome
from bot.channels.telegram.ratelimit import PACED, FloodLimiter
from bot.core.addresses import channel_of
from bot.core.reminders import Decision, ReminderService
from bot.logs import redact
from bot.services import Services
from storage.models import ReminderRow

log = logging.getLogger(__name__)
BATCH = 500


def _log_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("reminder tick failed", exc_info=task.exception())


class ReminderSender:
    def __init__(self, services: Services, bot: ExtBot[Any], limiter: FloodLimiter | None) -> None:
        self.services = services
        self.bot = bot
        self.limiter = limiter
        self._lock = asyncio.Lock()  # one tick at a time in this process
        self._ticking: asyncio.Task[int] | None = None
        self._stopping = False
        # WhatsApp's sender of a reminder for a WhatsApp person, when WhatsApp is served.
        self.other_channel: Callable[[ReminderRow, Decision], Awaitable[str]] | None = None
        self.stats = {"sent": 0, "settled": 0, "deferred": 0, "429": 0, "unreachable": 0,
                      "uncertain": 0}

    @property
    def reminders(self) -> ReminderService:
        return self.services.reminders

    async def start(self) -> None:
        store, now = self.services.store, self.services.clock()
        async with store.transaction():
            uncertain = await store.reminders.reconcile(now)
        if uncertain:
            log.warning("%d reminder(s) were in flight when the bot last stopped; marked "
                        "uncertain, not re-sent", uncertain)

    async def plan(self) -> int:
        created = await self.reminders.plan(self.services.clock())
        if created:
            log.info("planned %d reminder(s)", created)
        return created

    def start_tick(self) -> None:
        """Start a tick in the background unless one is under way (that one goes on until
        nothing is due: no gap at the scheduler's 30 s boundaries)."""
        if self._lock.locked() or self._stopping:
            return
        self._ticking = asyncio.create_task(self.tick(), name="palabre-reminders")
        self._ticking.add_done_callback(_log_failure)

    async def drained(self) -> None:
        """Wait for the background tick under way, if any, to finish."""
        task = self._ticking
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    async def stop(self) -> None:
        """Stop after the reminder being sent (before the HTTP client closes)."""
        self._stopping = True
        task, self._ticking = self._ticking, None
        if task is not None:
            with contextlib.suppress(Exception):
                await task

    async def tick(self) -> int:
        """Send what is due now (after a downtime: what is still useful), until nothing is
        due any more; return how many."""
        async with self._lock:
            sent = 0
            while True:
                rows = await self.services.store.reminders.due(self.services.clock(), BATCH)
                progressed = False
                for row in rows:
                    if self._stopping:
                        return sent
                    outcome = await self._one(row)
                    if outcome == "paused":
                        return sent
                    sent += outcome == "sent"
                    progressed = progressed or outcome != "deferred"
                if len(rows) < BATCH or not progressed:
                    return sent

    async def _one(self, row: ReminderRow) -> str:
        store, now = self.services.store, self.services.clock()
        decision = await self.reminders.decide(row, now)
        if decision.action == "defer":
            assert decision.send_at is not None
            async with store.transaction():
                await store.reminders.defer(row.id, decision.send_at)
            self.stats["deferred"] += 1
            return "deferred"
        if decision.action == "settle":
            async with store.transaction():
                await store.reminders.settle(row.id, decision.state, now, note=decision.note)
            self.stats["settled"] += 1
            return decision.state
        assert decision.reply is not None and decision.chat_id is not None
        if channel_of(decision.chat_id) != "telegram":
            # A WhatsApp member: WhatsApp's sender sends it (a template outside the 24-hour
            # window). Never to Telegram, where a negative id names a group.
            if self.other_channel is not None:
                return await self.other_channel(row, decision)
            async with store.transaction():
                await store.reminders.settle(row.id, "skipped", now,
                                             note="WhatsApp is not served")
            self.stats["settled"] += 1
            return "skipped"
        token = secrets.token_hex(8)
        async with store.transaction():
            if not await store.reminders.claim(row.id, token):
                return "taken"  # another tick (or process) has it
        await self._place(decision.chat_id)
        try:
            message = await render.send_one(self.bot, decision.chat_id, decision.reply,
                                            rate_limit_args=PACED)
        except TelegramError as exc:
            return await self._settle_failure(row.id, row.member_id, token, exc, now)
        async with store.transaction():
            await store.reminders.settle(row.id, "sent", self.services.clock(), token=token,
                                         message_id=message.message_id)
        self.stats["sent"] += 1
        return "sent"

    async def _settle_failure(self, reminder_id: int, member_id: int, token: str,
                              exc: TelegramError, now: datetime) -> str:
        """Record a failed call by what it proves (see `bot.channels.telegram.delivery`): a reminder is
        planned again only when Telegram certainly did not process it."""
        store = self.services.store
        outcome = delivery.classify(exc)
        if isinstance(exc, RetryAfter):
            self.stats["429"] += 1
            async with store.transaction():
                await store.reminders.release(reminder_id, token, "429")
            return "paused"  # the next tick goes on
        if outcome is Outcome.UNREACHABLE:
            self.stats["unreachable"] += 1
            async with store.transaction():
                await store.reminders.settle(reminder_id, "unreachable", now, token=token,
                                             note="blocked the bot")
                await store.announcements.member_unreachable(member_id, now)
            return "unreachable"
        if outcome is Outcome.REFUSED:
            async with store.transaction():
                await store.reminders.settle(reminder_id, "failed", now, token=token,
                                             note=redact(exc.message))
            return "failed"
        if outcome is Outcome.NOT_PROCESSED:
            log.info("reminder %s not sent (%s); retried at the next tick", reminder_id,
                     redact(str(exc)))
            async with store.transaction():
                await store.reminders.release(reminder_id, token, redact(str(exc))[:200])
            return "paused"
        # Telegram may have delivered it: never sent again on its own, counted in the digest.
        self.stats["uncertain"] += 1
        log.info("reminder %s: outcome unknown (%s); marked uncertain", reminder_id,
                 redact(str(exc)))
        async with store.transaction():
            await store.reminders.settle(reminder_id, "uncertain", now, token=token,
                                         note=redact(str(exc))[:200])
        return "uncertain"

    async def _place(self, chat_id: int) -> None:
        """Wait for a broadcast place: replies to people keep priority over reminders."""
        if self.limiter is None:
            return
        while True:
            overall, chat = self.limiter.broadcast_delay(chat_id)
            if overall == 0 and chat == 0:
                return
            await asyncio.sleep(max(overall, chat))
