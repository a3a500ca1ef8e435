"""Organisations, projects and indicators: upserted from network.yaml, read everywhere."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database
from storage.models import Indicator, Organisation, Project


def project_from_row(row: aiosqlite.Row) -> Project:
    return Project(
        id=row["id"], slug=row["slug"], name=json.loads(row["name"]), country=row["country"],
        timezone=row["timezone"], cadence=row["cadence"],
        reminders=row["reminders"],
    )


def _indicator(row: aiosqlite.Row) -> Indicator:
    data: dict[str, Any] = dict(row)
    data["name"] = json.loads(data["name"])
    return Indicator.model_validate(data)


class NetworkRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert_organisation(
        self, *, slug: str, kind: str, name: str, country: str, timezone: str, now: datetime
    ) -> int:
        """Insert or update an organisation by slug; return its id."""
        stamp = now.isoformat()
        cur = await self.db.execute(
            "INSERT INTO organisations (slug, kind, name, country, timezone, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (slug) DO UPDATE SET kind=excluded.kind, name=excluded.name,"
            " country=excluded.country, timezone=excluded.timezone, updated_at=excluded.updated_at"
            " RETURNING id",
            (slug, kind, name, country, timezone, stamp, stamp),
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def upsert_project(
        self, *, slug: str, name: dict[str, str], country: str, timezone: str, cadence: str,
        organisation_ids: Sequence[int], now: datetime, reminders: str | None = None,
    ) -> int:
        """Insert or update a project by slug with its links; return its id."""
        stamp = now.isoformat()
        cur = await self.db.execute(
            "INSERT INTO projects (slug, name, country, timezone, cadence, reminders, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (slug) DO UPDATE SET name=excluded.name, country=excluded.country,"
            " timezone=excluded.timezone, cadence=excluded.cadence,"
            " reminders=excluded.reminders, updated_at=excluded.updated_at RETURNING id",
            (slug, json.dumps(name, ensure_ascii=False, sort_keys=True), country, timezone,
             cadence, reminders, stamp, stamp),
        )
        row = await cur.fetchone()
        assert row is not None
        project_id = int(row[0])
        await self.db.execute(
            "DELETE FROM project_organisations WHERE project_id = ?", (project_id,)
        )
        await self.db.executemany(
            "INSERT INTO project_organisations (project_id, organisation_id) VALUES (?, ?)",
            [(project_id, org_id) for org_id in organisation_ids],
        )
        return project_id

    async def replace_indicators(
        self, project_id: int, indicators: Sequence[dict[str, Any]]
    ) -> None:
        """Upsert the project's indicators by code, in the given order."""
        for position, ind in enumerate(indicators):
            await self.db.execute(
                "INSERT INTO indicators (project_id, code, name, unit, type, target, min_value,"
                " max_value, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project_id, code) DO UPDATE SET name=excluded.name,"
                " unit=excluded.unit, type=excluded.type, target=excluded.target,"
                " min_value=excluded.min_value, max_value=excluded.max_value,"
                " position=excluded.position",
                (project_id, ind["code"], json.dumps(ind["name"], ensure_ascii=False,
                 sort_keys=True), ind["unit"], ind["type"], ind["target"], ind["min"],
                 ind["max"], position),
            )

    async def organisation(self, slug: str) -> Organisation | None:
        row = await self.db.fetchone("SELECT * FROM organisations WHERE slug = ?", (slug,))
        return None if row is None else Organisation.model_validate(dict(row))

    async def organisation_by_id(self, org_id: int) -> Organisation | None:
        row = await self.db.fetchone("SELECT * FROM organisations WHERE id = ?", (org_id,))
        return None if row is None else Organisation.model_validate(dict(row))

    async def organisations(self) -> list[Organisation]:
        rows = await self.db.fetchall("SELECT * FROM organisations ORDER BY slug")
        return [Organisation.model_validate(dict(r)) for r in rows]

    async def project(self, slug: str) -> Project | None:
        row = await self.db.fetchone("SELECT * FROM projects WHERE slug = ?", (slug,))
        return None if row is None else project_from_row(row)

    async def projects(self) -> list[Project]:
        rows = await self.db.fetchall("SELECT * FROM projects ORDER BY slug")
        return [project_from_row(r) for r in rows]

    async def projects_by_ids(self, ids: Sequence[int]) -> list[Project]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM projects WHERE id IN ({marks}) ORDER BY slug",  # noqa: S608
            tuple(ids),
        )
        return [project_from_row(r) for r in rows]

    async def project_organisations(self, project_id: int) -> list[Organisation]:
        rows = await self.db.fetchall(
            "SELECT o.* FROM organisations o JOIN project_organisations po"
            " ON po.organisation_id = o.id WHERE po.project_id = ? ORDER BY o.slug",
            (project_id,),
        )
        return [Organisation.model_validate(dict(r)) for r in rows]

    async def collectivities_of(self, project_slugs: Sequence[str]) -> set[str]:
        """The slugs of the collectivities taking part in these projects."""
        marks = ",".join("?" * len(project_slugs))
        rows = await self.db.fetchall(
            "SELECT DISTINCT o.slug FROM project_organisations po"  # noqa: S608
            " JOIN projects p ON p.id = po.project_id"
            " JOIN organisations o ON o.id = po.organisation_id"
            f" WHERE o.kind = 'collectivity' AND p.slug IN ({marks})", list(project_slugs))
        return {str(r["slug"]) for r in rows}

    async def indicators(self, project_id: int) -> list[Indicator]:
        rows = await self.db.fetchall(
            "SELECT * FROM indicators WHERE project_id = ? ORDER BY position", (project_id,)
        )
        return [_indicator(r) for r in rows]
