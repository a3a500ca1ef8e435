"""Update processing: per-person order, exactly-once handling through the inbox, locale."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import i18n
from bot.channels.telegram import scope as scopes
from bot.services import Services
from storage.db import commit_hook
from storage.models import Member

log = logging.getLogger(__name__)


class InboxUpdateProcessor(BaseUpdateProcessor):
    """Run updates concurrently across people but one at a time per person, exactly once.

    Each update is looked up in the inbox first: one already handled (a replay, or Telegram
    sending it again after a crash) is skipped. The entry is marked handled inside the
    handler's own transaction when it writes, else right after it returns.
    """

    def __init__(self, services: Services, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self.services = services
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._in_flight: set[int] = set()
        self.skipped = 0  # updates seen again and not handled twice (for tests and logs)

    def busy_with(self, update_id: int) -> bool:
        """Say whether the update is being handled right now (its replies may still be on the way)."""
        return update_id in self._in_flight

    async def initialize(self) -> None:
        """Nothing to set up: the services are opened in post_init."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        user = update.effective_user
        key = user.id if user else (update.effective_chat.id if update.effective_chat else 0)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._process_once(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def _process_once(self, update: Update, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id
        if update_id in self._in_flight:
            self._skip(update_id, coroutine)
            return
        self._in_flight.add(update_id)
        try:
            store = self.services.store
            user = update.effective_user
            # One query: the entry's status, its sender's membership and lost-reply note. A
            # message's id tells a retry typed before the bot's last question reached the
            # person (say while the bot restarted) from an answer to it.
            typed = update.message.message_id if update.message is not None else None
            status, member, reply_lost = await store.inbox.arrival(
                update_id, None if user is None else user.id, typed)
            if status in ("handled", "failed"):
                self._in_flight.discard(update_id)
                self._skip(update_id, coroutine)
                return
            if status is None:
                # Not fetched through getUpdates (e.g. a webhook or a test): record it now.
                await self.services.record_updates([update.to_dict()])
            scope = await self._scope_for(update, member, reply_lost)
        except BaseException:
            self._in_flight.discard(update_id)
            _discard(coroutine)
            raise
        scope_token = scopes.enter(scope)
        i18n.set_language(scope.language,
                          None if scope.member is None else scope.member.timezone)
        hook_token = commit_hook.set(InboxMark(self.services, scope))
        # All of the update's writes form one transaction, committed before its first
        # outgoing call (see FloodLimiter) or at its end, together with the inbox mark.
        unit_token = store.db.begin_unit()
        cancelled = False
        try:
            await coroutine
            if scope.error is None:
                await store.db.flush_unit()
        except asyncio.CancelledError:
            # Stopped half-way (shutdown): its uncommitted writes are rolled back, so the entry
            # stays pending and the update is replayed at the next start.
            cancelled = True
            raise
        except AlreadyHandled:
            scope.skipped = True
        finally:
            try:
                await store.db.discard_unit()  # after a failure, or a cancellation
            finally:
                store.db.end_unit(unit_token)
                commit_hook.reset(hook_token)
                scopes.leave(scope_token)
            try:
                if not cancelled:
                    await self._close(scope)
            finally:
                self._in_flight.discard(update_id)

    def _skip(self, update_id: int, coroutine: Awaitable[Any]) -> None:
        log.info("update %s already handled; skipped", update_id)
        self.skipped += 1
        _discard(coroutine)

    async def _close(self, scope: scopes.UpdateScope) -> None:
        """Close the inbox entry: record a failure, or mark it handled if no write did; clear
        the person's lost-reply note once the replies of what they changed were delivered."""
        store = self.services.store
        if scope.skipped:
            self.skipped += 1
            return
        user_id = scope.user_id
        # One transaction, one hand-off (a fixed pattern: no read in between). A failure is
        # recorded even after a committed write: it must be visible, not retried.
        clear = "shown" if scope.shows_state else ("moved" if scope.moved else None)
        await store.inbox.close(scope.update_id, self.services.clock(), error=scope.error,
                                mark=not scope.marked, user_id=user_id, clear=clear,
                                last_message_id=scope.last_message_id)

    async def _scope_for(self, update: Update, member: Member | None,
                         reply_lost: bool) -> scopes.UpdateScope:
        store = self.services.store
        user = update.effective_user
        settings = self.services.settings
        language: str = settings.default_language
        if user is not None:
            if member is not None and member.status in ("active", "stopped"):
                language = member.language
                if member.unreachable_at is not None:
                    # They blocked the bot once; writing to it again proves the chat works.
                    async with store.transaction():
                        await store.announcements.member_reachable(member.id)
            else:
                member = None
                pending = await store.onboarding.get(user.id)
                language = (pending.language if pending
                            else i18n.negotiate(user.language_code, settings.default_language))
        return scopes.UpdateScope(
            update_id=update.update_id, user_id=None if user is None else user.id,
            member=member, language=language,
            reply_lost=user is not None and reply_lost,
        )


class AlreadyHandled(Exception):
    """Another worker closed this update first: roll back, and skip the update."""


class InboxMark:
    """Close the update's inbox entry inside the update's transaction, with its writes.

    The update's writes commit as one transaction (see `Database.begin_unit`) that carries
    the mark; if the entry is no longer pending (another process handled the same update), it
    is rolled back instead. A write after the update's first outgoing message (bookkeeping
    such as a sent card's message id) commits on its own, without a second mark.
    """

    def __init__(self, services: Services, scope: scopes.UpdateScope) -> None:
        self.services = services
        self.database = services.store.db
        self.scope = scope
        self._tentative = False
        self._moved = False

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        if self.scope.marked:
            return
        inbox, now = self.services.store.inbox, self.services.clock()
        if not await inbox.mark(self.scope.update_id, "handled", now):
            raise AlreadyHandled(self.scope.update_id)
        if self.scope.user_id is not None and self.database.unit_writing() \
                and not self.scope.shows_state:
            # Writes that may move a flow: cleared once the replies are delivered; until then,
            # a crash or a lost answer leaves the note, and the person's next text is not taken
            # as the next answer. An update that only read (/help, a list) or showed the same
            # step again moved nothing: a text typed meanwhile answers the question on screen.
            await inbox.reply_pending(self.scope.user_id, self.scope.update_id, now)
            self._moved = True
        self._tentative = True

    def settled(self) -> bool:
        return self.scope.marked

    def after_commit(self) -> None:
        if self._tentative:
            self.scope.marked = True
            self.scope.moved = self._moved
            self._tentative = False

    def after_rollback(self) -> None:
        self._tentative = False
        self._moved = False


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
