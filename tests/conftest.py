"""Shared fixtures: no network but loopback, a real SQLite file, the emulator, the real bot."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.emulator import BotApiEmulator
from tests.auxil.runner import BotRunner, FakeClock, Phone

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 9001


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a host other than this machine."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise RuntimeError(f"tests must not use the network (tried {host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _database_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.fixture(autouse=True)
def _no_database_left_open() -> Any:
    """Fail a test that leaves an SQLite connection open.

    aiosqlite runs each connection on a non-daemon thread: one left open keeps the whole test
    process alive after the last test (a CI run that never ends) instead of failing here.
    """
    before = _database_threads()
    yield
    left = _database_threads() - before
    for thread in left:
        thread.join(timeout=2)  # a closed connection's thread ends a moment after close()
    still_open = [t.name for t in left if t.is_alive()]
    assert not still_open, f"database connection(s) left open: {still_open}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def settings(tmp_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=emulator.token,
        telegram_base_url=emulator.base_url,
        database=tmp_path / "palabre.db",
        media_dir=tmp_path / "media",
        admin_ids=str(ADMIN_ID),
        # Pacing has its own tests; here it would only make the suite wait.
        broadcast_rate=10_000, chat_rate=10_000, group_rate=10_000,
    )


@pytest.fixture
async def runner(settings: Settings, emulator: BotApiEmulator,
                 clock: FakeClock) -> AsyncIterator[BotRunner]:
    """The real application, long polling the emulator, with the sample network loaded."""
    bot_runner = BotRunner(settings, emulator, clock)
    await bot_runner.load_network(ROOT / "examples" / "network.yaml")
    await bot_runner.start()
    try:
        yield bot_runner
    finally:
        await bot_runner.stop()


@pytest.fixture
def phone_factory(runner: BotRunner) -> Any:
    counter = iter(range(1000, 100000))

    def make(first_name: str = "Aminata", language_code: str | None = "fr",
             user_id: int | None = None, **kwargs: Any) -> Phone:
        uid = user_id if user_id is not None else next(counter)
        return runner.phone(uid, first_name, language_code=language_code, **kwargs)

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the tables tests registered (the authorisation matrix)."""
    from tests.auxil.report import TABLES, render

    for title, header, rows in TABLES:
        terminalreporter.write_sep("-", title)
        for line in render(title, header, rows)[1:]:
            terminalreporter.write_line(line)
