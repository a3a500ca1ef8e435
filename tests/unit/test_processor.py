"""The update processor on a real database: exactly once, and safe when cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import Services
from bot.transport.processor import AlreadyHandled, InboxUpdateProcessor
from storage import Store
from tests.auxil.factories import make_message_update


@pytest.fixture
async def services(tmp_path: Path) -> Services:
    svc = Services(Settings.model_validate({"telegram_token": "1:x",
                                            "database": tmp_path / "p.db"}))
    await svc.open()
    yield svc  # type: ignore[misc]
    await svc.close()


async def _write(services: Services, key: str) -> None:
    async with services.store.transaction():
        await services.store.db.execute("INSERT INTO kv (key, value) VALUES (?, 'x')", (key,))


async def test_handled_once_and_marked_with_the_write(services: Services) -> None:
    processor = InboxUpdateProcessor(services)
    update = make_message_update(7, 42, "/help")
    await processor.do_process_update(update, _write(services, "a"))
    assert await services.store.inbox.status(7) == "handled"
    await processor.do_process_update(update, _write(services, "b"))
    assert processor.skipped == 1
    assert await services.store.kv.get("b") is None


async def test_a_cancelled_update_stays_pending_and_the_database_usable(
    services: Services,
) -> None:
    processor = InboxUpdateProcessor(services)
    started = asyncio.Event()

    async def slow_handler() -> None:
        async with services.store.transaction():
            await services.store.db.execute("INSERT INTO kv (key, value) VALUES ('c', 'x')")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(
        processor.do_process_update(make_message_update(8, 42, "/help"), slow_handler()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await services.store.inbox.status(8) == "pending"  # replayed at the next start
    assert await services.store.kv.get("c") is None
    assert not processor.busy_with(8)
    await _write(services, "d")  # the writer connection was left clean
    assert await services.store.kv.get("d") == "x"


async def test_cancelled_while_beginning_leaves_the_writer_clean(services: Services) -> None:
    for _ in range(50):
        task = asyncio.create_task(_write(services, "e"))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await _write(services, "f")
    assert await services.store.kv.get("f") == "x"


async def test_an_update_closed_elsewhere_rolls_back(services: Services) -> None:
    """Another process marked the update while this one was working: its writes are undone."""
    processor = InboxUpdateProcessor(services)
    update = make_message_update(9, 42, "/help")
    other_process = await Store.open(services.settings.database)

    async def racing_handler() -> None:
        async with other_process.transaction():
            await other_process.inbox.mark(9, "handled", services.clock())
        await _write(services, "g")

    try:
        with pytest.raises(AlreadyHandled):
            await processor.do_process_update(update, racing_handler())
    finally:
        await other_process.close()
    assert await services.store.kv.get("g") is None
    assert await services.store.inbox.status(9) == "handled"
