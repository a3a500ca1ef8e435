"""`palabre db upgrade|backup`."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.base import fail, run_async, settings
from storage import Database

group = typer.Typer(help="Maintain the database.", no_args_is_help=True)


@group.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from storage import migrations

    cfg = settings()

    async def work() -> list[migrations.Migration]:
        db = Database(cfg.database)
        await db.open()
        try:
            return await migrations.upgrade(db)
        finally:
            await db.close()

    applied = run_async(work())
    for m in applied:
        typer.echo(f"Applied {m.version:04d}_{m.name}")
    typer.echo(f"Database {cfg.database} is up to date.")


@group.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the database consistently with SQLite's online backup API (safe while running)."""
    cfg = settings()
    if not cfg.database.is_file():
        fail(f"no database at {cfg.database}")
    if file.resolve() == cfg.database.resolve():
        fail("the backup must go to another file")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(file)
        try:
            with target:
                source.backup(target, pages=1024)
        finally:
            target.close()
            source.close()
    except (sqlite3.Error, OSError) as exc:
        fail(f"backup failed: {exc}")
    typer.echo(f"Backed up {cfg.database} to {file}.")
