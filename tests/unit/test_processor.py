"""The update processor on a real database: exactly once, and safe when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.channels.telegram.processor import InboxUpdateProcessor
from bot.config import Settings
from bot.services import Services
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
        await processor.do_process_update(update, racing_handler())
    finally:
        await other_process.close()
    assert processor.skipped == 1
    assert await services.store.kv.get("g") is None
    assert await services.store.inbox.status(9) == "handled"


async def test_an_update_writing_twice_commits_once(services: Services) -> None:
    """Two transactions of one handler are one: a crash between them leaves neither."""
    processor = InboxUpdateProcessor(services)
    between = asyncio.Event()

    async def two_steps() -> None:
        await _write(services, "first")
        between.set()
        await asyncio.sleep(60)  # killed here
        await _write(services, "second")

    task = asyncio.create_task(
        processor.do_process_update(make_message_update(10, 42, "/report"), two_steps()))
    await between.wait()
    assert await services.store.kv.get("first") is None  # not committed before the end
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await services.store.kv.get("first") is None
    assert await services.store.inbox.status(10) == "pending"  # replayed whole at the start

    await processor.do_process_update(make_message_update(10, 42, "/report"),
                                      _two_writes(services))
    assert await services.store.kv.get("first") == "x"
    assert await services.store.kv.get("second") == "x"
    assert await services.store.inbox.status(10) == "handled"


async def _two_writes(services: Services) -> None:
    await _write(services, "first")
    await _write(services, "second")


async def test_a_block_that_fails_undoes_only_itself(services: Services) -> None:
    """A failed block caught by its caller is undone alone, as its own transaction was."""
    processor = InboxUpdateProcessor(services)

    async def handler() -> None:
        await _write(services, "kept")
        with contextlib.suppress(RuntimeError):
            async with services.store.transaction():
                await services.store.db.execute("INSERT INTO kv (key, value) VALUES ('gone', 1)")
                raise RuntimeError("refused")
        await _write(services, "also kept")

    await processor.do_process_update(make_message_update(11, 42, "/x"), handler())
    assert await services.store.kv.get("kept") == "x"
    assert await services.store.kv.get("gone") is None
    assert await services.store.kv.get("also kept") == "x"


async def test_reply_note_set_with_the_writes_and_cleared_after(services: Services) -> None:
    processor = InboxUpdateProcessor(services)
    seen: list[bool] = []

    async def handler() -> None:
        await _write(services, "n")
        await services.store.db.flush_unit()  # what the first outgoing call does
        seen.append(await services.store.inbox.reply_lost(42))

    await processor.do_process_update(make_message_update(12, 42, "/x"), handler())
    assert seen == [True]  # committed with the writes, before any reply could leave
    assert not await services.store.inbox.reply_lost(42)  # cleared once the update ended
