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
from bot.services import Services
from bot.transport import scope as scopes
from storage.db import commit_hook

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
        store = self.services.store
        status = await store.inbox.status(update_id)
        if update_id in self._in_flight or status in ("handled", "failed"):
            log.info("update %s already handled; skipped", update_id)
            _discard(coroutine)
            return
        if status is None:
            # Not fetched through getUpdates (e.g. a webhook or a test): record it now.
            await self.services.record_updates([update.to_dict()])
        self._in_flight.add(update_id)
        scope = await self._scope_for(update)
        scope_token = scopes.enter(scope)
        i18n.set_language(scope.language)
        hook_token = commit_hook.set(_marker(self.services, scope))
        try:
            await coroutine
        finally:
            commit_hook.reset(hook_token)
            scopes.leave(scope_token)
            try:
                if not scope.marked:
                    async with store.transaction():
                        await store.inbox.mark(
                            update_id, "failed" if scope.error else "handled",
                            self.services.clock(), scope.error,
                        )
            finally:
                self._in_flight.discard(update_id)

    async def _scope_for(self, update: Update) -> scopes.UpdateScope:
        store = self.services.store
        user = update.effective_user
        settings = self.services.settings
        member = None
        language: str = settings.default_language
        if user is not None:
            member = await store.members.by_telegram_id(user.id)
            if member is not None and member.status in ("active", "stopped"):
                language = member.language
            else:
                member = None
                pending = await store.onboarding.get(user.id)
                language = (pending.language if pending
                            else i18n.negotiate(user.language_code, settings.default_language))
        return scopes.UpdateScope(
            update_id=update.update_id, user_id=None if user is None else user.id,
            member=member, language=language,
        )


def _marker(services: Services, scope: scopes.UpdateScope) -> Any:
    async def mark(conn: aiosqlite.Connection) -> None:
        if not scope.marked:
            await services.store.inbox.mark(scope.update_id, "handled", services.clock())
            scope.marked = True

    return mark


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
