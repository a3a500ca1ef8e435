"""What the benchmarks share: a temporary deployment (emulator, database, the real bot)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import PalabreApp, build_application, serve  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import network_file  # noqa: E402
from bot.emulator import BotApiEmulator  # noqa: E402
from bot.services import Clock, system_clock  # noqa: E402
from storage import Store  # noqa: E402

LIFTED = {"broadcast_rate": 1e6, "chat_rate": 1e6, "group_rate": 1e6}


@dataclass
class Deployment:
    emulator: BotApiEmulator
    settings: Settings
    app: PalabreApp


@contextlib.asynccontextmanager
async def deployment(limits: dict[str, float]) -> AsyncIterator[tuple[BotApiEmulator, Settings,
                                                                       Store]]:
    """An emulator and a database with the sample network (the bot is started separately)."""
    with tempfile.TemporaryDirectory() as folder:
        async with BotApiEmulator() as emu:
            settings = Settings.model_validate({
                "telegram_token": emu.token, "telegram_base_url": emu.base_url,
                "database": Path(folder) / "bench.db", "media_dir": Path(folder) / "media",
                **limits,
            })
            store = await Store.open(settings.database)
            await network_file.load(store, network_file.read(ROOT / "examples/network.yaml"),
                                    datetime.now(UTC))
            try:
                yield emu, settings, store
            finally:
                await store.close()


_STARTED = time.monotonic()
_AFTERNOON = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)


def daytime_clock() -> datetime:
    """Today 14:00 UTC plus the time elapsed since the benchmark started: announcements and
    invitations are never held for the night in the members' zones (Dakar, Lima, Paris…),
    whatever the hour the benchmark runs."""
    return _AFTERNOON + timedelta(seconds=time.monotonic() - _STARTED)


@contextlib.asynccontextmanager
async def running_bot(settings: Settings,
                      clock: Clock = system_clock) -> AsyncIterator[PalabreApp]:
    app = build_application(settings, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop, poll_timeout=1))
    while not (app.running and app.updater and app.updater.running):
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        stop.set()
        await task


async def seed_members(store: Store, first: int, count: int, *,
                       project_slug: str = "eau-ziguinchor", org_slug: str = "ziguinchor",
                       name: str = "Partner") -> list[int]:
    """Partners who already joined (onboarding has its own benchmark): Telegram ids `first`…
    `first + count - 1`, in one project; return their member ids."""
    project = await store.network.project(project_slug)
    org = await store.network.organisation(org_slug)
    assert project is not None and org is not None
    now = datetime.now(UTC)
    async with store.transaction():
        return [await store.members.create(
            telegram_user_id=uid, display_name=f"{name} {uid}", username=None, role="partner",
            organisation_id=org.id, language="fr", timezone=org.timezone, status="active",
            consent_at=now, invitation_id=None, project_ids=[project.id], now=now)
            for uid in range(first, first + count)]


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
