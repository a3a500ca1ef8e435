"""The store: migrations recorded once, transactions enforced, WAL and foreign keys on."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import StorageError, Store
from storage.migrations import available, upgrade


async def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        rows = await store.db.fetchall("SELECT version, name FROM schema_migrations")
        assert [(r[0], r[1]) for r in rows] == [(m.version, m.name) for m in available()]
        assert await upgrade(store.db) == []
        assert await store.db.fetchval("PRAGMA journal_mode") == "wal"
        assert await store.db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await store.close()


async def test_writes_outside_a_transaction_are_refused(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        with pytest.raises(StorageError):
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
    finally:
        await store.close()


async def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
                raise RuntimeError("boom")
        assert await store.kv.get("a") is None
        async with store.transaction(), store.transaction():  # nested joins the outer one
            await store.db.execute("INSERT INTO kv (key, value) VALUES ('a', 'c')")
        assert await store.kv.get("a") == "c"
    finally:
        await store.close()


async def test_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open database"):
        await Store.open(blocker / "sub" / "palabre.db")


async def test_inbox_records_once_and_scrubs(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    store = await Store.open(tmp_path / "a.db")
    try:
        await store.inbox.record([(5, 42, '{"update_id":5}')], now)
        await store.inbox.record([(5, 42, '{"update_id":5,"changed":1}'), (6, 42, "{}")], now)
        pending = await store.inbox.pending()
        assert [(e.update_id, e.payload) for e in pending] == [(5, '{"update_id":5}'), (6, "{}")]
        async with store.transaction():
            assert await store.inbox.mark(5, "handled", now)
            assert not await store.inbox.mark(5, "handled", now)
            await store.inbox.scrub_user(42)
        # Payloads are gone; the pending entry stays pending (closed at replay).
        assert [(e.update_id, e.payload) for e in await store.inbox.pending()] == [(6, None)]
        assert await store.db.fetchval("SELECT COUNT(*) FROM inbox WHERE payload IS NOT NULL") == 0
    finally:
        await store.close()


async def test_reads_see_commits_made_by_other_tasks_at_once(tmp_path: Path) -> None:
    """Concurrent readers on the shared connection never serve a stale snapshot."""
    import asyncio

    store = await Store.open(tmp_path / "a.db")
    try:
        async def write_then_read(i: int) -> str | None:
            async with store.transaction():
                await store.db.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"k{i}", "v"))
            return await store.kv.get(f"k{i}")

        async def keep_reading() -> None:
            for _ in range(200):
                await store.db.fetchall("SELECT * FROM kv")

        readers = [asyncio.create_task(keep_reading()) for _ in range(4)]
        results = await asyncio.gather(*(write_then_read(i) for i in range(300)))
        await asyncio.gather(*readers)
        assert results == ["v"] * 300
    finally:
        await store.close()


async def test_the_audit_log_is_append_only(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime

    store = await Store.open(tmp_path / "a.db")
    try:
        async with store.transaction():
            await store.reports.audit(action="report.created", actor_id=None, report_id=None,
                                      now=datetime(2026, 1, 1, tzinfo=UTC))
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                async with store.transaction():
                    await store.db.execute(statement)
        assert await store.db.fetchval("SELECT action FROM audit_log") == "report.created"
    finally:
        await store.close()


async def test_campaign_instants_are_brought_to_utc(tmp_path: Path) -> None:
    """Migration 0020: a campaign stored with a local offset (the command line's, before) is
    brought to UTC, so that comparing it as text with now is comparing instants."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    store = await Store.open(tmp_path / "a.db")
    try:
        now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
        async with store.transaction():
            form = await store.surveys.add_form(form_id="f", content_hash="h", title="F",
                                                definition="{}", source="f.yaml", now=now)
            campaign_id = await store.surveys.add_campaign(
                form_pk=form, created_by=None, audience="{}", joint=False,
                opens_at=datetime(2026, 3, 3, 9, 0, tzinfo=paris),
                closes_at=datetime(2026, 3, 10, 0, 30, tzinfo=paris), now=now, remind_days=None)
        [migration] = [m for m in available() if m.version == 20]
        async with store.transaction():
            for statement in migration.sql.split(";"):
                if statement.strip():
                    await store.db.execute(statement)
        raw = await store.db.fetchall(
            "SELECT opens_at, closes_at FROM survey_campaigns WHERE id = ?", (campaign_id,))
        assert tuple(raw[0]) == ("2026-03-03T08:00:00+00:00", "2026-03-09T23:30:00+00:00")
        # Still open at 23:00 UTC on the 9th (the text "2026-03-10T00:30:00+01:00" said no).
        pending = await store.db.fetchval(
            "SELECT COUNT(*) FROM survey_campaigns WHERE closes_at > ?",
            ("2026-03-09T23:00:00+00:00",))
        assert pending == 1
    finally:
        await store.close()
