"""Members: people with a role in the network, known by their Telegram id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.db import Database
from storage.models import Member, Project, Role
from storage.network import project_from_row


class MemberRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_telegram_id(self, telegram_user_id: int) -> Member | None:
        row = await self.db.fetchone(
            "SELECT * FROM members WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return None if row is None else Member.model_validate(dict(row))

    async def by_id(self, member_id: int) -> Member | None:
        row = await self.db.fetchone("SELECT * FROM members WHERE id = ?", (member_id,))
        return None if row is None else Member.model_validate(dict(row))

    async def create(
        self, *, telegram_user_id: int | None, display_name: str | None, username: str | None,
        role: Role, organisation_id: int | None, language: str, timezone: str,
        status: str, consent_at: datetime | None, invitation_id: int | None,
        project_ids: Sequence[int], now: datetime,
    ) -> int:
        """Insert a member with their projects; return the new id."""
        cur = await self.db.execute(
            "INSERT INTO members (telegram_user_id, display_name, username, role,"
            " organisation_id, language, timezone, consent_at, status, invitation_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (telegram_user_id, display_name, username, role, organisation_id, language,
             timezone, None if consent_at is None else consent_at.isoformat(), status,
             invitation_id, now.isoformat(), now.isoformat()),
        )
        member_id = cur.lastrowid
        assert member_id is not None
        await self.add_projects(member_id, project_ids)
        return member_id

    async def add_projects(self, member_id: int, project_ids: Sequence[int]) -> None:
        await self.db.executemany(
            "INSERT OR IGNORE INTO member_projects (member_id, project_id) VALUES (?, ?)",
            [(member_id, pid) for pid in project_ids],
        )

    async def update(self, member_id: int, now: datetime, **fields: object) -> None:
        """Set the given columns (names from code, never from users) and `updated_at`."""
        allowed = {"display_name", "username", "role", "organisation_id", "language",
                   "timezone", "consent_at", "status", "telegram_user_id", "invitation_id",
                   "notify_reports"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown member fields: {sorted(unknown)}")
        values = [v.isoformat() if isinstance(v, datetime) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(
            f"UPDATE members SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
            (*values, now.isoformat(), member_id),
        )

    async def projects(self, member_id: int) -> list[Project]:
        rows = await self.db.fetchall(
            "SELECT p.* FROM projects p JOIN member_projects mp ON mp.project_id = p.id"
            " WHERE mp.member_id = ? ORDER BY p.slug",
            (member_id,),
        )
        return [project_from_row(r) for r in rows]

    async def deidentify(self, member_id: int, now: datetime) -> None:
        """Remove what identifies the person; keep the row so submissions stay attributed."""
        await self.db.execute(
            "UPDATE members SET telegram_user_id = NULL, display_name = NULL, username = NULL,"
            " consent_at = NULL, status = 'forgotten', updated_at = ? WHERE id = ?",
            (now.isoformat(), member_id),
        )

    async def coordinators_of(self, project_id: int) -> list[Member]:
        """Active coordinators of a project who want report notifications."""
        rows = await self.db.fetchall(
            "SELECT m.* FROM members m JOIN member_projects mp ON mp.member_id = m.id"
            " WHERE mp.project_id = ? AND m.role = 'coordinator' AND m.status = 'active'"
            " AND m.notify_reports = 1 AND m.telegram_user_id IS NOT NULL ORDER BY m.id",
            (project_id,))
        return [Member.model_validate(dict(r)) for r in rows]

    async def active_admins(self) -> list[Member]:
        rows = await self.db.fetchall(
            "SELECT * FROM members WHERE role = 'admin' AND status = 'active' ORDER BY id")
        return [Member.model_validate(dict(r)) for r in rows]

    async def in_scope(self, project_ids: Sequence[int], organisation_id: int | None) -> set[int]:
        """The members of these projects and of this organisation (its observers follow the
        projects through it, without being members of them)."""
        marks = ",".join("?" * len(project_ids))
        rows = await self.db.fetchall(
            f"SELECT member_id FROM member_projects WHERE project_id IN ({marks})"  # noqa: S608
            " UNION SELECT id FROM members WHERE organisation_id = ?",
            [*project_ids, organisation_id])
        return {int(r["member_id"]) for r in rows}

    async def in_project(self, member_id: int, project_id: int) -> bool:
        return bool(await self.db.fetchval(
            "SELECT 1 FROM member_projects WHERE member_id = ? AND project_id = ?",
            (member_id, project_id)))

