"""Benchmark: database round trips per update (calls to aiosqlite's thread, transactions).

Every aiosqlite call is a hand-off to its thread and back, counted here by wrapping the
queueing function all of them go through; transactions are counted where they start
(`Database.transaction()` and `Database.write_alone()` outside a transaction).
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

from bot.emulator import BotApiEmulator
from storage import db as db_module
from storage.db import Database

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
    """Count aiosqlite calls (and BEGINs) while active."""

    def __init__(self) -> None:
        self.calls = 0
        self.begins = 0
        self.active = False
        self._original: Callable[..., Any] = aiosqlite.Connection._execute
        self._methods = {name: getattr(Database, name)
                         for name in ("transaction", "write_alone") if hasattr(Database, name)}

    def __enter__(self) -> Counter:
        original = self._original
        counter = self

        async def counted(conn: aiosqlite.Connection, fn: Callable[..., Any], *args: Any,
                          **kwargs: Any) -> Any:
            if counter.active:
                counter.calls += 1
            return await original(conn, fn, *args, **kwargs)

        def starts(method: Callable[..., Any]) -> Callable[..., Any]:
            def counting(db: Database, *args: Any) -> Any:
                if counter.active and db_module._tx_conn(db) is None:
                    counter.begins += 1
                return method(db, *args)
            return counting

        setattr(aiosqlite.Connection, "_execute", counted)  # noqa: B010 - typed loosely
        for name in self._methods:
            setattr(Database, name, starts(self._methods[name]))
        return self

    def __exit__(self, *exc: object) -> None:
        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]
        for name, method in self._methods.items():
            setattr(Database, name, method)


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
            async with running_bot(settings):
                await asyncio.sleep(3)  # start-up jobs (planning) out of the way
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
