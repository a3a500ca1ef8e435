"""What every sub-command shares: the application, one-line errors, the settings, one store
per command, the clock, and reading the options common to several commands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from bot.config import ConfigError, Settings
from bot.core.invitations import InvitationError
from bot.core.network_file import NetworkFileError
from storage import StorageError, Store

T = TypeVar("T")

app = typer.Typer(help="Palabre: reports, surveys, reminders and announcements over Telegram.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id is refused as a bad option


def fail(message: str) -> NoReturn:
    typer.echo(f"palabre: error: {message}", err=True)
    raise typer.Exit(1)


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PALABRE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(problems)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning expected failures into one-line errors."""
    try:
        return asyncio.run(coro)
    except (ConfigError, StorageError, NetworkFileError, InvitationError) as exc:
        fail(str(exc))


async def with_store(cfg: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on the command's one store, opened (and migrated) here and closed after."""
    store = await Store.open(cfg.database)
    try:
        return await work(store)
    finally:
        await store.close()


def now() -> datetime:
    return datetime.now(UTC)


def read_text(path: Path, limit: int) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    if not text:
        fail(f"{path} is empty")
    if len(text) > limit:
        fail(f"{path} has {len(text)} characters; an announcement has at most {limit}")
    return text


def moment(value: str, zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at {value!r}: use ISO 8601, e.g. 2026-03-10T09:00 or 2026-03-10T09:00+01:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))  # PALABRE_TIMEZONE
    if moment <= now():
        fail(f"--at {value!r} is in the past")
    return moment


def decimal_separator(decimal: str | None, delimiter: str) -> str:
    """The CSV decimal separator: as asked, else a comma where fields are separated by ';'
    (the spreadsheets of comma-decimal countries, French first), else a point."""
    if decimal is None:
        return "," if delimiter == ";" else "."
    if decimal not in (",", "."):
        fail("--decimal takes ',' or '.'")
    if decimal == delimiter:
        fail("--decimal and --delimiter must differ")
    return decimal
