"""Invitation codes, stored only as hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.models import Invitation, Role


class InvitationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, *, code_hash: str, label: str, role: Role, organisation_id: int | None,
        project_ids: Sequence[int], max_uses: int, expires_at: datetime, now: datetime,
    ) -> int:
        cur = await self.db.execute(
            "INSERT INTO invitations (code_hash, label, role, organisation_id, max_uses,"
            " expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code_hash, label, role, organisation_id, max_uses, expires_at.isoformat(),
             now.isoformat()),
        )
        invitation_id = cur.lastrowid
        assert invitation_id is not None
        await self.db.executemany(
            "INSERT INTO invitation_projects (invitation_id, project_id) VALUES (?, ?)",
            [(invitation_id, pid) for pid in project_ids],
        )
        return invitation_id

    async def _build(self, row: aiosqlite.Row) -> Invitation:
        projects = await self.db.fetchall(
            "SELECT project_id FROM invitation_projects WHERE invitation_id = ? ORDER BY 1",
            (row["id"],),
        )
        data = dict(row)
        data.pop("code_hash", None)
        data["project_ids"] = tuple(r[0] for r in projects)
        return Invitation.model_validate(data)

    async def by_hash(self, code_hash: str) -> Invitation | None:
        row = await self.db.fetchone("SELECT * FROM invitations WHERE code_hash = ?", (code_hash,))
        return None if row is None else await self._build(row)

    async def by_id(self, invitation_id: int) -> Invitation | None:
        row = await self.db.fetchone("SELECT * FROM invitations WHERE id = ?", (invitation_id,))
        return None if row is None else await self._build(row)

    async def all(self) -> list[Invitation]:
        rows = await self.db.fetchall("SELECT * FROM invitations ORDER BY created_at, id")
        return [await self._build(r) for r in rows]

    async def consume(self, invitation_id: int, now: datetime) -> bool:
        """Count one use if the invitation is still usable; say whether it was."""
        cur = await self.db.execute(
            "UPDATE invitations SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL"
            " AND uses < max_uses AND expires_at > ?",
            (invitation_id, now.isoformat()),
        )
        return cur.rowcount == 1

    async def revoke(self, code_hash: str, now: datetime) -> bool:
        cur = await self.db.execute(
            "UPDATE invitations SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL",
            (now.isoformat(), code_hash),
        )
        return cur.rowcount == 1

    async def revoke_by_label(self, label: str, now: datetime) -> bool:
        cur = await self.db.execute(
            "UPDATE invitations SET revoked_at = ? WHERE label = ? AND revoked_at IS NULL",
            (now.isoformat(), label),
        )
        return cur.rowcount == 1

    async def label_taken(self, label: str) -> bool:
        return bool(await self.db.fetchval("SELECT 1 FROM invitations WHERE label = ?", (label,)))
