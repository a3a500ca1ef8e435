"""Outbox rows claimed and settled in batches keep the one-claim, one-settle rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import network_file
from bot.core.announcements import AnnouncementService, Audience
from storage import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "a.db")
    try:
        await network_file.load(opened, network_file.read(ROOT / "examples/network.yaml"), NOW)
        org = await opened.network.organisation("ziguinchor")
        project = await opened.network.project("eau-ziguinchor")
        assert org is not None and project is not None
        async with opened.transaction():
            for uid in range(500, 505):
                await opened.members.create(
                    telegram_user_id=uid, display_name=f"P{uid}", username=None,
                    role="partner", organisation_id=org.id, language="fr",
                    timezone="Africa/Dakar", status="active", consent_at=NOW,
                    invitation_id=None, project_ids=[project.id], now=NOW)
        yield opened
    finally:
        await opened.close()


async def test_claim_many_takes_only_pending_rows_and_settles_by_token(store: Store) -> None:
    service = AnnouncementService(store, "UTC")
    _id, count = await service.publish_new(
        author=None, text="Réunion mardi", versions={},
        audience=Audience({"project": ("eau-ziguinchor",)}), ack=False, send_at=None, now=NOW)
    assert count == 5
    rows = await service.due(10, NOW)
    assert len(rows) == 5
    assert await service.claim_many(rows[:2], "first") == {rows[0].id, rows[1].id}
    # Claimed rows are not claimed again; the others are.
    assert await service.claim_many(rows, "second") == {r.id for r in rows[2:]}
    # A settle with another claim's token changes nothing; with its own, the row is sent.
    await service.delivered_many([(rows[0].id, "second", 11), (rows[2].id, "second", 12),
                                  (rows[3].id, "second", 13)], NOW)
    states = {r[0]: (r[1], r[2]) for r in await store.db.fetchall(
        "SELECT id, state, message_id FROM outbox ORDER BY id")}
    assert states[rows[0].id] == ("sending", None)
    assert states[rows[2].id] == ("sent", 12) and states[rows[3].id] == ("sent", 13)
    assert states[rows[4].id] == ("sending", None)
    assert await service.claim_many([], "none") == set()
