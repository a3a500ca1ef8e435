"""Versioned SQL migrations: each file applied with its record in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from storage.db import Database

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """Return the migrations shipped in `storage/migrations/`, in version order."""
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


async def applied(db: Database) -> set[int]:
    """Return the versions already recorded in the database."""
    await db.writer.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    return {row[0] for row in rows}


async def upgrade(db: Database) -> list[Migration]:
    """Apply the pending migrations; return those applied now."""
    done = await applied(db)
    newly: list[Migration] = []
    for migration in available():
        if migration.version in done:
            continue
        # executescript() commits whatever is pending first, then runs the script as is:
        # BEGIN … COMMIT inside the script makes the migration and its record one transaction.
        stamp = datetime.now(UTC).isoformat()
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({migration.version}, '{migration.name}', '{stamp}');\n"
            "COMMIT;"
        )
        try:
            await db.writer.executescript(script)
        except Exception:
            if db.writer.in_transaction:
                await db.writer.rollback()
            raise
        newly.append(migration)
    return newly
