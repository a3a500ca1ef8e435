"""Fewer hand-offs to SQLite's thread, same guarantees: BEGIN rides with a transaction's first
statement and COMMIT with its last (`finish`), fixed patterns run in one call (`write_alone`),
and the inbox status and the sender's membership come from one query."""

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


async def test_a_transaction_of_k_statements_is_k_handoffs_plus_commit(store: Store) -> None:
    with handoffs() as count:
        async with store.transaction():
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
            assert await store.db.fetchval("SELECT value FROM kv WHERE key = 'a'") == "1"
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('b', '2')")
    assert count[0] == 4  # three statements (the first carrying BEGIN), then COMMIT
    assert await store.kv.get("b") == "2"
    with handoffs() as count:
        async with store.transaction():
            pass
    assert count[0] == 0  # nothing to begin or commit


async def test_the_write_lock_is_taken_before_the_first_read(store: Store,
                                                             tmp_path: Path) -> None:
    """BEGIN IMMEDIATE still precedes the block's first statement, even a read: another
    process cannot write between that read and the block's writes."""
    other = sqlite3.connect(tmp_path / "a.db", timeout=0, isolation_level=None)
    try:
        async with store.transaction():
            assert await store.db.fetchval("SELECT COUNT(*) FROM kv") == 0
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO kv (key, value) VALUES ('x', 'y')")
    finally:
        other.close()


async def test_finish_commits_with_its_write_or_not_at_all(store: Store) -> None:
    await store.inbox.record([(1, 7, "{}")], NOW)
    with handoffs() as count:
        async with store.transaction():
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
            assert await store.inbox.mark_and_commit(1, "handled", NOW)
    assert count[0] == 2  # the insert with BEGIN, the mark with COMMIT
    assert await store.inbox.status(1) == "handled"
    assert await store.kv.get("a") == "1"
    # Already closed: nothing of the transaction is committed (the caller raises).
    with pytest.raises(LookupError):
        async with store.transaction():
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('b', '1')")
            if not await store.inbox.mark_and_commit(1, "handled", NOW):
                raise LookupError("already handled")
    assert await store.kv.get("b") is None


async def test_write_alone_is_one_handoff_and_all_or_nothing(store: Store) -> None:
    with handoffs() as count:
        await store.inbox.record([(1, 7, "{}"), (2, 7, "{}")], NOW)
    assert count[0] == 1
    assert await store.inbox.status(2) == "pending"
    with pytest.raises(sqlite3.IntegrityError):
        await store.db.write_alone("INSERT INTO kv (key, value) VALUES (?, ?)",
                                   [("k", "1"), ("k", "2")])  # the second breaks the key
    assert await store.kv.get("k") is None
    with handoffs() as count:
        await store.inbox.close_alone(2, NOW)
    assert count[0] == 1
    assert await store.inbox.status(2) == "handled"


async def test_status_and_member_in_one_query(store: Store) -> None:
    assert await store.inbox.status_and_member(5, 42) == (None, None, False)
    assert await store.inbox.status_and_member(5, None) == (None, None, False)
    await store.inbox.record([(5, 42, "{}")], NOW)
    async with store.transaction():
        member_id = await store.members.create(
            telegram_user_id=42, display_name="Aminata", username=None, role="partner",
            organisation_id=None, language="fr", timezone="Africa/Dakar", status="active",
            consent_at=NOW, invitation_id=None, project_ids=[], now=NOW)
    with handoffs() as count:
        status, member, reply_lost = await store.inbox.status_and_member(5, 42)
    assert count[0] == 1
    assert status == "pending" and not reply_lost
    assert member == await store.members.by_id(member_id)
