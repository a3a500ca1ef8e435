"""Benchmark: N people join at once (link → language → consent → /help) through the emulator.

Runs the real application (long polling, inbox, per-person processing, SQLite in WAL mode)
against the loopback emulator in one process, and prints throughput, reply latency
percentiles and peak RSS. Usage: python benchmarks/bench_onboarding.py [--people 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from harness import LIFTED, deployment, peak_rss_mib, percentiles, running_bot

from bot.core import invitations
from bot.emulator import BotApiEmulator

FIRST_USER = 10_000


async def person(emu: BotApiEmulator, user_id: int, code: str, latencies: list[float]) -> None:
    """Join and ask for help, waiting for each answer as a person on a phone would."""

    async def wait_for(kind: str) -> None:
        while True:
            event = await emu.next_event(user_id, timeout=120)
            if event.kind == kind:
                return

    async def step(send: int, until: str) -> None:
        del send
        started = time.perf_counter()
        await wait_for(until)
        latencies.append(time.perf_counter() - started)

    await step(emu.send_text(user_id, f"/start {code}"), "send")
    prompt = emu.last_message(user_id)
    assert prompt is not None
    await step(emu.press(user_id, prompt.message_id, prompt.buttons[0][1] or ""), "send")
    consent = emu.last_message(user_id)
    assert consent is not None
    await step(emu.press(user_id, consent.message_id, consent.buttons[0][1] or ""), "send")
    await step(emu.send_text(user_id, "/help"), "send")


@dataclass
class Figures:
    elapsed: float
    latencies: list[float]

    def line(self, label: str, updates: int) -> str:
        p50, p95 = percentiles(self.latencies)
        return (f"{label:<28} {updates / self.elapsed:7.0f} updates/s  "
                f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  ({self.elapsed:.1f} s)")


async def run(people: int, limits: dict[str, float]) -> Figures:
    """Let `people` join at once with the given flood limits; return the timings."""
    async with deployment(limits) as (emu, settings, store):
        created = await invitations.create(
            store, role="partner", project_slugs=["eau-ziguinchor"], org_slug=None,
            uses=people, expires_in=invitations.parse_duration("1d"), now=datetime.now(UTC))
        for i in range(people):
            emu.add_user(FIRST_USER + i, f"Partner {i}", language_code="fr")
        async with running_bot(settings):
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(person(emu, FIRST_USER + i, created.code, latencies)
                                   for i in range(people)))
            elapsed = time.perf_counter() - started
    return Figures(elapsed, latencies)


async def main(people: int) -> None:
    updates = people * 4
    lifted = await run(people, LIFTED)
    telegram = await run(people, {})
    rss_mib = peak_rss_mib()
    print(f"{people} people join at once (link, language, consent, /help): {updates} updates, "
          f"{people * 6} messages")
    print(lifted.line("flood limits lifted", updates))
    print(telegram.line("Telegram's limits (30 msg/s)", updates))
    print(f"messages/s under Telegram's limits: {people * 6 / telegram.elapsed:.1f} of 30")
    print(f"peak RSS: {rss_mib:.0f} MiB (bot, emulator and clients in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=500)
    asyncio.run(main(parser.parse_args().people))
