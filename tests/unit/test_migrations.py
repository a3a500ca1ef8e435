"""Migrations 0017 and 0018 on a database written before them, and failing migrations rolled
back whole."""

# ruff: noqa: S608 (the SQL here is the test's own)
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import Database, Store, migrations
from storage.migrations import Migration

T = "2026-03-01T10:00:00+00:00"


ALL = migrations.available()


def _until(version: int) -> list[Migration]:
    return [m for m in ALL if m.version <= version]


async def _old_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database at 0016 with flows under way in the old composite and JSON forms."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "available", lambda: _until(16))
        db = Database(path)
        await db.open()
        try:
            await migrations.upgrade(db)
        finally:
            await db.close()
    with sqlite3.connect(path) as conn:
        conn.executescript(f"""
            INSERT INTO members (id, telegram_user_id, role, status, language, timezone,
                                 created_at, updated_at)
            VALUES (1, 100, 'coordinator', 'active', 'fr', 'UTC', '{T}', '{T}');
            INSERT INTO announcements (id, author_id, status, step, created_at, updated_at)
            VALUES (1, 1, 'draft', 'version:en', '{T}', '{T}'),
                   (2, 1, 'done', 'done', '{T}', '{T}');
            INSERT INTO announcement_versions (announcement_id, language, text)
            VALUES (1, 'en', 'Hello');
            INSERT INTO survey_forms (id, form_id, version, content_hash, title, definition,
                                      source, imported_at)
            VALUES (1, 'f', 1, 'h', 'F', '{{}}', 'f.yaml', '{T}');
            INSERT INTO survey_campaigns (id, form_pk, audience, joint, opens_at, closes_at,
                                          created_at)
            VALUES (1, 1, '{{}}', 0, '{T}', '2030-01-01T00:00:00+00:00', '{T}');
            INSERT INTO survey_responses (id, campaign_id, member_id, side, step, started_at,
                                          updated_at)
            VALUES (1, 1, 1, 'collectivity', 'paused:review', '{T}', '{T}');
            INSERT INTO survey_answers (response_id, question, value, answered_at)
            VALUES (1, 'q1', 'yes', '{T}');
            INSERT INTO kv (key, value) VALUES
                ('survey-launch:1', '{{"audience": "{{\\"role\\": [\\"partner\\"]}}",
                  "days": 30, "form": 1, "joint": true, "later": true}}'),
                ('bot_username', 'palabre_bot');
        """)


async def test_flow_states_and_the_launch_draft_are_carried_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    await _old_database(path, monkeypatch)
    store = await Store.open(path)  # applies 0017 and 0018
    try:
        draft = await store.announcements.get(1)
        assert draft is not None
        assert (draft.step, draft.version_language) == ("version", "en")
        response = await store.surveys.response(1)
        assert response is not None
        assert (response.step, response.resume_step) == ("paused", "review")
        launch = await store.surveys.launch_draft(1)
        assert launch is not None
        assert (launch.form_pk, launch.audience, launch.joint, launch.days, launch.later) == (
            1, '{"role": ["partner"]}', True, 30, True)
        assert await store.kv.get("survey-launch:1") is None
        assert await store.kv.get("bot_username") == "palabre_bot"
        # Nothing that referred to the rebuilt tables was lost, and foreign keys are back on.
        assert await store.db.fetchval("SELECT COUNT(*) FROM announcement_versions") == 1
        assert await store.db.fetchval("SELECT COUNT(*) FROM survey_answers") == 1
        assert await store.db.fetchval("PRAGMA foreign_keys") == 1
        assert await store.db.fetchall("PRAGMA foreign_key_check") == []
        # Leaving the step clears its companion column (the database insists).
        async with store.transaction():
            await store.announcements.update(1, draft.updated_at, step="hub")
            await store.surveys.update_response(1, response.updated_at, step="review")
        assert (await store.announcements.get(1)).version_language is None  # type: ignore[union-attr]
        assert (await store.surveys.response(1)).resume_step is None  # type: ignore[union-attr]
    finally:
        await store.close()


@pytest.mark.parametrize(("sql", "refused"), [
    ("UPDATE announcements SET step = 'version:en' WHERE id = 1", "CHECK"),
    ("UPDATE announcements SET step = 'version' WHERE id = 2", "CHECK"),  # no language
    ("UPDATE survey_responses SET step = 'paused:question' WHERE id = 1", "CHECK"),
    ("UPDATE survey_responses SET resume_step = NULL WHERE id = 1", "CHECK"),  # where?
    ("UPDATE report_drafts SET step = 'summary'", "CHECK"),
    ("INSERT INTO survey_launch_drafts (member_id, form_pk, days, updated_at)"
     " VALUES (1, 1, 0, 'now')", "CHECK"),
])
async def test_a_state_outside_the_set_is_refused_by_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql: str, refused: str) -> None:
    path = tmp_path / "old.db"
    await _old_database(path, monkeypatch)
    await (await Store.open(path)).close()  # migrated
    with sqlite3.connect(path) as conn:
        conn.execute(f"INSERT INTO report_drafts (member_id, kind, step, created_at, updated_at)"
                     f" VALUES (1, 'report', 'value', '{T}', '{T}')")
        with pytest.raises(sqlite3.IntegrityError, match=refused):
            conn.execute(sql)


@pytest.mark.parametrize("rebuilds", [False, True])
async def test_a_failing_migration_is_rolled_back_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuilds: bool) -> None:
    store = await Store.open(tmp_path / "a.db")
    await store.close()
    head = migrations.REBUILDS + "\n" if rebuilds else ""
    broken = Migration(9999, "broken", head + (
        "CREATE TABLE half_done (id INTEGER);\n"
        "INSERT INTO kv (key, value) VALUES ('half', 'done');\n"
        # A rebuild that loses rows others refer to must not commit either.
        + ("INSERT INTO announcement_versions (announcement_id, language, text)"
           " VALUES (424242, 'en', 'orphan');\n" if rebuilds else "SELECT * FROM no_such_table;\n")))
    monkeypatch.setattr(migrations, "available", lambda: [*_until(10_000), broken])
    db = Database(tmp_path / "a.db")
    await db.open()
    try:
        with pytest.raises(Exception, match=r"no such table|foreign key"):
            await migrations.upgrade(db)
        assert await db.fetchval("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'") == 0
        assert await db.fetchval("SELECT COUNT(*) FROM kv WHERE key = 'half'") == 0
        assert 9999 not in await migrations.applied(db)
        assert await db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await db.close()
