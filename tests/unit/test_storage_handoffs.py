"""Fewer hand-offs to SQLite's thread, same guarantees: fixed write patterns run as one call
(`write_batch`: BEGIN, the statements, COMMIT), and an update's arrival (its inbox status, its
sender's membership and lost-reply note) is one query."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "a.db")
    try:
        yield opened
    finally:
        await opened.close()


@contextmanager
def handoffs() -> Iterator[list[int]]:
    """Count the calls queued to aiosqlite's threads."""
    count = [0]
    original: Callable[..., Any] = aiosqlite.Connection._execute

    async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await original(conn, fn, *args, **kwargs)

    setattr(aiosqlite.Connection, "_execute", counted)  # noqa: B010
    try:
        yield count
    finally:
        setattr(aiosqlite.Connection, "_execute", original)  # noqa: B010


async def test_write_batch_is_one_handoff_and_all_or_nothing(store: Store) -> None:
    with handoffs() as count:
        await store.inbox.record([(1, 7, "{}"), (2, 7, "{}")], NOW)
    assert count[0] == 1
    assert await store.inbox.status(2) == "pending"
    with pytest.raises(sqlite3.IntegrityError):
        await store.db.write_batch([
            ("INSERT INTO kv (key, value) VALUES (?, ?)", [("a", "1")]),
            ("INSERT INTO kv (key, value) VALUES (?, ?)", [("k", "1"), ("k", "2")]),
        ])  # the last row breaks the key: nothing of the batch stays
    assert await store.kv.get("a") is None
    # The writer is usable afterwards, and a batch inside a transaction joins it.
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.db.write_batch([("INSERT INTO kv (key, value) VALUES ('b', '1')", [()])])
            raise RuntimeError("undo")
    assert await store.kv.get("b") is None


async def test_close_is_one_handoff(store: Store) -> None:
    await store.inbox.record([(1, 7, "{}"), (2, 7, "{}")], NOW)
    async with store.transaction():
        await store.inbox.reply_pending(7, 1, NOW)
    assert await store.inbox.reply_lost(7)
    with handoffs() as count:
        await store.inbox.close(2, NOW, error=None, mark=True, user_id=7, clear="moved")
    assert count[0] == 1
    assert await store.inbox.status(2) == "handled"
    assert await store.inbox.reply_lost(7)  # the note was update 1's, not 2's
    await store.inbox.close(1, NOW, error=None, mark=True, user_id=7, clear="moved")
    assert await store.inbox.status(1) == "handled" and not await store.inbox.reply_lost(7)
    await store.inbox.record([(3, 7, "{}")], NOW)
    await store.inbox.close(3, NOW, error="boom", mark=True, user_id=7, clear="shown")
    assert await store.inbox.status(3) == "failed"


async def test_arrival_in_one_query(store: Store) -> None:
    assert await store.inbox.arrival(5, 42) == (None, None, False)
    assert await store.inbox.arrival(5, None) == (None, None, False)
    await store.inbox.record([(5, 42, "{}")], NOW)
    async with store.transaction():
        member_id = await store.members.create(
            telegram_user_id=42, display_name="Aminata", username=None, role="partner",
            organisation_id=None, language="fr", timezone="Africa/Dakar", status="active",
            consent_at=NOW, invitation_id=None, project_ids=[], now=NOW)
        await store.inbox.reply_pending(42, 5, NOW)
    with handoffs() as count:
        status, member, lost = await store.inbox.arrival(5, 42)
    assert count[0] == 1
    assert status == "pending" and lost
    assert member == await store.members.by_id(member_id)


async def test_a_transaction_is_its_statements_plus_commit(store: Store) -> None:
    """BEGIN IMMEDIATE rides with the first statement, COMMIT is one more hand-off, and a
    write nobody reads (`execute_later`) rides with the COMMIT."""
    with handoffs() as count:
        async with store.transaction():
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
            assert await store.db.fetchval("SELECT value FROM kv WHERE key = 'a'") == "1"
            store.db.execute_later("INSERT INTO kv (key, value) VALUES ('b', '2')")
    assert count[0] == 3
    assert await store.kv.get("b") == "2"
    with handoffs() as count:
        async with store.transaction():
            pass
    assert count[0] == 0  # nothing to begin or to commit


async def test_a_queued_write_that_fails_undoes_the_transaction(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with store.transaction():
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('c', '1')")
            store.db.execute_later("INSERT INTO kv (key, value) VALUES ('c', '2')")
    assert await store.kv.get("c") is None
    with pytest.raises(RuntimeError):
        async with store.transaction():
            store.db.execute_later("INSERT INTO kv (key, value) VALUES ('d', '1')")
            raise RuntimeError("undo")
    assert await store.kv.get("d") is None
    async with store.transaction():  # the writer is clean afterwards
        await store.db.execute("INSERT INTO kv (key, value) VALUES ('e', '1')")
    assert await store.kv.get("e") == "1"


async def test_the_write_lock_is_taken_before_the_first_read(store: Store,
                                                             tmp_path: Path) -> None:
    """BEGIN IMMEDIATE still precedes the block's first statement, a read included: another
    process cannot write between that read and the block's writes."""
    other = sqlite3.connect(tmp_path / "a.db", timeout=0, isolation_level=None)
    try:
        async with store.transaction():
            assert await store.db.fetchval("SELECT COUNT(*) FROM kv") == 0
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO kv (key, value) VALUES ('x', 'y')")
    finally:
        other.close()


async def test_a_message_sent_before_the_question_arrived_is_not_its_answer(
        store: Store) -> None:
    """A retry typed while the bot restarted reaches it after its question went out: its
    message id in the chat, lower than the question's, says it cannot answer that question."""
    await store.inbox.record([(1, 7, "{}")], NOW)
    async with store.transaction():
        await store.inbox.reply_pending(7, 1, NOW)
    await store.inbox.close(1, NOW, error=None, mark=True, user_id=7, clear="moved",
                            last_message_id=40)
    assert not await store.inbox.reply_lost(7)

    async def lost(message_id: int | None) -> bool:
        return (await store.inbox.arrival(2, 7, message_id))[2]

    assert await lost(39)  # typed before the question existed in the chat
    assert not await lost(41)  # typed after it: an answer
    assert not await lost(None)  # a button press carries its own step
    # A later update whose replies only edited messages keeps the highest id.
    await store.inbox.close(1, NOW, error=None, mark=False, user_id=7, clear="shown",
                            last_message_id=None)
    assert await lost(39) and not await lost(41)
    # The same step shown again (a resumed flow) after it was delivered moves nothing: a text
    # typed between the two showings still answers it.
    await store.inbox.close(1, NOW, error=None, mark=False, user_id=7, clear="shown",
                            last_message_id=60)
    assert not await lost(41) and await lost(39)


async def test_a_step_shown_again_counts_as_its_delivery_only_if_it_was_lost(
        store: Store) -> None:
    """After a move whose replies were lost, the step shown again is the first time the person
    sees it: what they typed before that showing may answer the previous step."""
    await store.inbox.record([(1, 7, "{}"), (2, 7, "{}")], NOW)
    async with store.transaction():
        await store.inbox.reply_pending(7, 1, NOW)
    await store.inbox.close(1, NOW, error="NetworkError: Bad Gateway", mark=True, user_id=7,
                            clear="moved", last_message_id=None)
    assert (await store.inbox.arrival(3, 7, 50))[2]  # the new step never reached the phone
    await store.inbox.close(2, NOW, error=None, mark=True, user_id=7, clear="shown",
                            last_message_id=52)
    assert (await store.inbox.arrival(3, 7, 51))[2]  # typed before the step was shown
    assert not (await store.inbox.arrival(3, 7, 53))[2]  # typed after: its answer
