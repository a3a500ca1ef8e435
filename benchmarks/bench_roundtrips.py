"""Benchmark: database round trips per update (calls to aiosqlite's thread, transactions).

Every aiosqlite call is a hand-off to its thread and back, counted here by wrapping the
queueing function all of them go through; transactions are the BEGINs the writer connection
runs (SQLite's trace callback).
Printed for a guided `/report` step (the 8 updates of bench_reports.py) and for `/help`.

Usage: python benchmarks/bench_roundtrips.py [--people 20]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
from bench_reports import partner
from harness import LIFTED, deployment, running_bot, seed_members

from bot.app import services_of
from bot.emulator import BotApiEmulator

FIRST_USER = 60_000


@dataclass(frozen=True)
class Trips:
    updates: int
    calls: int
    transactions: int

    @property
    def calls_per_update(self) -> float:
        return self.calls / self.updates

    @property
    def transactions_per_update(self) -> float:
        return self.transactions / self.updates


class Counter:
    """Count aiosqlite calls (and the writer's BEGINs) while active."""

    def __init__(self) -> None:
        self.calls = 0
        self.begins = 0
        self.active = False
        self._original: Callable[..., Any] = aiosqlite.Connection._execute

    def __enter__(self) -> Counter:
        original = self._original
        counter = self

        async def counted(conn: aiosqlite.Connection, fn: Callable[..., Any], *args: Any,
                          **kwargs: Any) -> Any:
            if counter.active:
                counter.calls += 1
            return await original(conn, fn, *args, **kwargs)

        setattr(aiosqlite.Connection, "_execute", counted)  # noqa: B010 - typed loosely
        return self

    def traced(self, statement: str) -> None:
        """SQLite's trace callback (on the writer's thread): count the BEGINs."""
        if self.active and statement.startswith("BEGIN"):
            self.begins += 1

    def __exit__(self, *exc: object) -> None:
        setattr(aiosqlite.Connection, "_execute", self._original)  # noqa: B010


async def _help(emu: BotApiEmulator, user_id: int, steps: int) -> None:
    for _ in range(steps):
        emu.send_text(user_id, "/help")
        while (await emu.next_event(user_id, timeout=60)).kind != "send":
            pass


async def measure(people: int) -> dict[str, Trips]:
    async with deployment(LIFTED) as (emu, settings, store):
        await seed_members(store, FIRST_USER, people * 2)
        for uid in range(FIRST_USER, FIRST_USER + people * 2):
            emu.add_user(uid, f"Partner {uid}", language_code="fr")
        found: dict[str, Trips] = {}
        with Counter() as counter:
            async with running_bot(settings) as app:
                await asyncio.sleep(3)  # start-up jobs (planning) out of the way
                writer = services_of(app).store.db.writer
                await writer._execute(  # type: ignore[no-untyped-call]
                    writer._conn.set_trace_callback, counter.traced)
                works: list[tuple[str, Callable[[int], Awaitable[None]], int]] = [
                    ("report", lambda uid: partner(emu, uid, []), 8),
                    ("help", lambda uid: _help(emu, uid + people, 8), 8),
                ]
                for name, work, updates in works:
                    counter.calls = counter.begins = 0
                    counter.active = True
                    # One person at a time: getUpdates' own recording is counted too (1 call
                    # per batch, i.e. per update here).
                    for uid in range(FIRST_USER, FIRST_USER + people):
                        await work(uid)
                    counter.active = False
                    found[name] = Trips(people * updates, counter.calls, counter.begins)
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20)
    args = parser.parse_args()
    for name, trips in asyncio.run(measure(args.people)).items():
        print(f"{name:<8} {trips.calls_per_update:5.1f} aiosqlite calls per update, "
              f"{trips.transactions_per_update:4.2f} transactions ({trips.updates} updates)")
