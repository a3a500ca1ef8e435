"""Drive the real bot against the emulator: a runner, a fake clock, and a phone per person."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import PalabreApp, build_application, serve, services_of, wait_handled
from bot.channels.telegram.processor import InboxUpdateProcessor
from bot.config import Settings
from bot.core import invitations, network_file
from bot.emulator import BotApiEmulator, SentMessage
from bot.services import Services
from storage import Store


@dataclass
class FakeClock:
    """A clock that tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 3, 14, 5, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class BotRunner:
    """Start, stop and restart the real application on one database."""

    def __init__(self, settings: Settings, emulator: BotApiEmulator, clock: FakeClock) -> None:
        self.settings = settings
        self.emulator = emulator
        self.clock = clock
        self.app: PalabreApp | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def load_network(self, path: Path) -> None:
        store = await Store.open(self.settings.database)
        try:
            await network_file.load(store, network_file.read(path), self.clock())
        finally:
            await store.close()

    async def invite(self, role: str = "partner", project: str | list[str] = "eau-ziguinchor",
                     org: str | None = None, uses: int = 1, expires: str = "14d") -> str:
        """Create an invitation through the core (as the CLI does) and return its code."""
        store = await Store.open(self.settings.database)
        projects = [project] if isinstance(project, str) else project
        try:
            created = await invitations.create(
                store, role=role, project_slugs=[p for p in projects if p],  # type: ignore[arg-type]
                org_slug=org, uses=uses, expires_in=invitations.parse_duration(expires),
                now=self.clock())
        finally:
            await store.close()
        return created.code

    async def start(self) -> None:
        self.app = build_application(self.settings, self.clock)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(serve(self.app, self._stop, poll_timeout=1))
        for _ in range(500):
            if self.app.running and self.app.updater and self.app.updater.running:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise TimeoutError("the bot did not start")

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def detach(self) -> None:
        """Forget a bot task that already ended (its outcome was checked by the test)."""
        self._task = None

    async def stop(self) -> None:
        if self._stop is not None and self._task is not None:
            self._stop.set()
            await asyncio.wait_for(self._task, 20)
        self._task = None

    async def kill(self) -> None:
        """Stop abruptly, as a crash would: nothing is shut down gracefully."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def services(self) -> Services:
        assert self.app is not None
        return services_of(self.app)

    @property
    def store(self) -> Store:
        return self.services.store

    async def handled(self, update_id: int, timeout: float = 10.0) -> str:
        """Wait until the update is closed in the inbox and answered; return its status."""
        assert self.app is not None
        return await wait_handled(self.app, update_id, timeout)

    @property
    def processor(self) -> InboxUpdateProcessor:
        assert self.app is not None
        processor = self.app.update_processor
        assert isinstance(processor, InboxUpdateProcessor)
        return processor

    def phone(self, user_id: int, first_name: str, **kwargs: Any) -> Phone:
        self.emulator.add_user(user_id, first_name, **kwargs)
        return Phone(self, user_id)


class Phone:
    """One person's Telegram app: send, press, and read what the bot answered."""

    def __init__(self, runner: BotRunner, user_id: int) -> None:
        self.runner = runner
        self.emulator = runner.emulator
        self.user_id = user_id
        self.toasts: list[str] = []
        self.expect_failure = False  # an update ending `failed` fails the test unless set

    async def send(self, text: str, *, expect_failure: bool = False) -> list[SentMessage]:
        """Send a text and return the bot's messages that answer it."""
        return await self._settle(self.emulator.send_text(self.user_id, text), expect_failure)

    async def press(self, label: str, message: SentMessage | None = None, *,
                    expect_failure: bool = False) -> list[SentMessage]:
        """Press the button whose label contains `label` on the last message that has it."""
        for candidate in ([message] if message else reversed(self.emulator.messages(self.user_id))):
            for text, data in candidate.buttons:
                if label in text:
                    return await self._settle(
                        self.emulator.press(self.user_id, candidate.message_id, data),
                        expect_failure)
        raise AssertionError(f"no button {label!r} in chat {self.user_id}")

    async def forge(self, data: str, message_id: int | None = None, *,
                    expect_failure: bool = False) -> list[SentMessage]:
        """Send a callback with any data, as a modified client could."""
        last = self.emulator.last_message(self.user_id)
        target = message_id if message_id is not None else (last.message_id if last else 1)
        return await self._settle(
            self.emulator.press(self.user_id, target, data, check=False), expect_failure)

    async def _settle(self, update_id: int, expect_failure: bool = False) -> list[SentMessage]:
        status = await self.runner.handled(update_id)
        # A reply is not proof of success: the error handler replies too. An update that
        # ended `failed` fails the test unless the test says it expects that (for one action,
        # or for all of this phone's with `phone.expect_failure`).
        if expect_failure:
            assert status == "failed", f"update {update_id} ended {status!r}, not failed"
        elif not self.expect_failure:
            error = await self.runner.store.db.fetchval(
                "SELECT error FROM inbox WHERE update_id = ?", (update_id,))
            assert status == "handled", f"update {update_id} ended {status!r}: {error}"
        events = self.emulator.drain_events(self.user_id)
        self.toasts = [e.text for e in events if e.kind == "answer_callback" and e.text]
        return [e.message for e in events if e.kind in ("send", "edit") and e.message]

    def menu(self) -> list[str]:
        return [label for row in (self.emulator.reply_keyboard(self.user_id) or []) for label in row]
