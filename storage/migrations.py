"""Versioned SQL migrations: each file applied with its record in one transaction; a failing
migration is rolled back whole.

SQLite cannot change a column's constraints: a migration that does so rebuilds the table
(create the new one, copy, drop the old one, rename), which must run with foreign keys off
(dropping a table referenced by others would delete or cascade). Such a migration starts with
the line `-- rebuilds tables`; it is applied with foreign keys off, and `foreign_key_check`
must find nothing before its commit (as sqlite-utils' `transform` does)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from storage.db import Database, StorageError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
REBUILDS = "-- rebuilds tables"


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
        # BEGIN … (the commit below) makes the migration and its record one transaction.
        stamp = datetime.now(UTC).isoformat()
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({migration.version}, '{migration.name}', '{stamp}');\n"
        )
        rebuilds = migration.sql.lstrip().startswith(REBUILDS)
        if rebuilds:
            await db.writer.execute("PRAGMA foreign_keys=OFF")  # no effect inside a transaction
        try:
            await db.writer.executescript(script)
            if rebuilds:
                broken = await db.writer.execute_fetchall("PRAGMA foreign_key_check")
                if broken:
                    raise StorageError(f"migration {migration.version:04d} breaks "
                                       f"{len(list(broken))} foreign key(s)")
            await db.writer.execute("COMMIT")
        except Exception:
            if db.writer.in_transaction:
                await db.writer.rollback()
            raise
        finally:
            if rebuilds:
                await db.writer.execute("PRAGMA foreign_keys=ON")
        newly.append(migration)
    return newly
