"""Benchmark: inbound updates/s of Palabre against bare python-telegram-bot echo bots, one run.

Same emulator, same load shape (U people × S steps, each waiting for the answer before the
next step, flood limits lifted), measured one after the other in this process:
- a bare PTB echo bot with PTB's defaults (its httpx client), `concurrent_updates(64)` as
  Palabre, long polling with the same timeout;
- the same echo bot on the fastest client adopted (`bot.channels.telegram.aiohttp_request`);
- Palabre's guided `/report` steps (8 updates per partner, as bench_reports.py);
- Palabre's `/help` (S times per member);
- p95 reply latency of `/help` sent at a fixed rate (200 updates/s) by many members.

Usage: python benchmarks/bench_inbound.py [--users 500] [--steps 8] [--rate 200 --seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bench_reports import partner
from harness import LIFTED, deployment, percentiles, running_bot, seed_members
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.emulator import BotApiEmulator

FIRST_USER = 40_000
ECHO_TEXT = "Deux puits réparés, la pompe arrive."


@dataclass(frozen=True)
class Rate:
    updates: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with the same text."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


@asynccontextmanager
async def echo_bot(emu: BotApiEmulator, fast: bool) -> AsyncIterator[None]:
    """A bare PTB echo bot: PTB's default request, or AiohttpRequest when `fast`."""
    builder = ApplicationBuilder().token(emu.token).base_url(emu.base_url)
    builder = builder.concurrent_updates(64)
    if fast:
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def _steps(emu: BotApiEmulator, user_id: int, steps: int, text: str,
                 latencies: list[float]) -> None:
    for _ in range(steps):
        started = time.perf_counter()
        emu.send_text(user_id, text)
        while (await emu.next_event(user_id, timeout=300)).kind != "send":
            pass
        latencies.append(time.perf_counter() - started)


async def _closed_loop(users: list[int], per_user: Callable[[int, list[float]], Awaitable[None]],
                       updates_each: int) -> Rate:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(per_user(uid, latencies) for uid in users))
    elapsed = time.perf_counter() - started
    p50, p95 = percentiles(latencies)
    return Rate(len(users) * updates_each, elapsed, p50, p95)


async def echo_rate(users: int, steps: int, fast: bool) -> Rate:
    """Updates/s of a bare echo bot."""
    async with BotApiEmulator() as emu:
        ids = list(range(FIRST_USER, FIRST_USER + users))
        for uid in ids:
            emu.add_user(uid, f"Person {uid}", language_code="fr")
        async with echo_bot(emu, fast):
            return await _closed_loop(
                ids, lambda uid, lat: _steps(emu, uid, steps, ECHO_TEXT, lat), steps)


async def palabre_rates(users: int, steps: int, rate: float, seconds: float) -> dict[str, Rate]:
    """Updates/s of `/report` steps and `/help`, and `/help` latency at a fixed rate."""
    async with deployment(LIFTED) as (emu, settings, store):
        ids = list(range(FIRST_USER, FIRST_USER + users))
        await seed_members(store, FIRST_USER, users)
        paced = max(users, int(rate * 2))  # each member at most once every 2 s
        if paced > users:
            await seed_members(store, FIRST_USER + users, paced - users)
        for uid in range(FIRST_USER, FIRST_USER + paced):
            emu.add_user(uid, f"Partner {uid}", language_code="fr")
        async with running_bot(settings):
            report = await _closed_loop(ids, lambda uid, lat: partner(emu, uid, lat), 8)
            help_ = await _closed_loop(
                ids, lambda uid, lat: _steps(emu, uid, steps, "/help", lat), steps)
            fixed = await _fixed_rate(emu, list(range(FIRST_USER, FIRST_USER + paced)), rate,
                                      seconds)
    return {"report": report, "help": help_, "fixed": fixed}


async def _fixed_rate(emu: BotApiEmulator, users: list[int], rate: float,
                      seconds: float) -> Rate:
    """Send `/help` at `rate` updates/s (round robin over `users`); latency to the answer."""
    events = emu.subscribe()
    for uid in users:
        emu.drain_events(uid)
    pending: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
    latencies: list[float] = []
    total = int(rate * seconds)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()

    async def collect() -> None:
        while len(latencies) < total:
            event = await asyncio.wait_for(events.get(), timeout=120)
            if event.kind == "send" and pending[event.chat_id]:
                latencies.append(time.perf_counter() - pending[event.chat_id].popleft())

    collector = asyncio.create_task(collect())
    begin = loop.time()
    for index in range(total):
        delay = begin + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        uid = users[index % len(users)]
        pending[uid].append(time.perf_counter())
        emu.send_text(uid, "/help")
    await collector
    emu.unsubscribe(events)
    p50, p95 = percentiles(latencies)
    return Rate(total, time.perf_counter() - started, p50, p95)


async def main(users: int, steps: int, rate: float, seconds: float) -> dict[str, Rate]:
    found = {"echo_default": await echo_rate(users, steps, fast=False),
             "echo_fast": await echo_rate(users, steps, fast=True)}
    found.update(await palabre_rates(users, steps, rate, seconds))
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    for name, r in asyncio.run(main(args.users, args.steps, args.rate, args.seconds)).items():
        print(f"{name:<14} {r.per_second:8.1f} updates/s  p50 {r.p50_ms:6.0f} ms  "
              f"p95 {r.p95_ms:6.0f} ms  ({r.updates} updates in {r.seconds:.1f} s)")
