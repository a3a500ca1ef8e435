"""Benchmark: partners send a complete guided report at the same moment, through the emulator.

Each partner: /report, the current period, three numbers, a narrative, Done, Send (8 updates,
with replies awaited as on a phone). Printed: reports/s, reply latency p50/p95, peak RSS; once
with the flood limits lifted (the bot's own capacity), once with Telegram's limits.
Usage: python benchmarks/bench_reports.py [--partners 500] [--limited 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from harness import LIFTED, deployment, peak_rss_mib, percentiles, running_bot, seed_members

from bot.emulator import BotApiEmulator

FIRST_USER = 20_000


async def partner(emu: BotApiEmulator, user_id: int, latencies: list[float]) -> None:
    """Act as a person on a phone: do one thing, wait for the bot's answer, then the next."""

    async def answered(until: str) -> None:
        # Each action brings exactly one new message ("send"), except the final Send whose
        # receipt replaces the summary ("edit"); waiting for it keeps the steps in order.
        started = time.perf_counter()
        first = True
        while True:
            event = await emu.next_event(user_id, timeout=300)
            if first:
                latencies.append(time.perf_counter() - started)
                first = False
            if event.kind == until:
                return

    def press_first() -> None:
        message = emu.last_message(user_id)
        assert message is not None and message.buttons, message
        emu.press(user_id, message.message_id, message.buttons[0][1] or "")

    emu.send_text(user_id, "/report")
    await answered("send")
    press_first()  # the current period
    await answered("send")
    for value in ("12", "1 200", "45"):
        emu.send_text(user_id, value)
        await answered("send")
    emu.send_text(user_id, "Deux puits réparés, la pompe arrive.")
    await answered("send")
    press_first()  # Done
    await answered("send")
    press_first()  # Send
    await answered("edit")


async def run(partners: int, limits: dict[str, float]) -> tuple[float, list[float], int]:
    async with deployment(limits) as (emu, settings, store):
        await seed_members(store, FIRST_USER, partners)
        for i in range(partners):
            emu.add_user(FIRST_USER + i, f"Partner {i}", language_code="fr")
        async with running_bot(settings):
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(partner(emu, FIRST_USER + i, latencies)
                                   for i in range(partners)))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.5)  # the last receipts commit before counting
        sent = int(await store.db.fetchval("SELECT COUNT(*) FROM reports"))
    return elapsed, latencies, sent


def line(label: str, partners: int, elapsed: float, latencies: list[float], sent: int) -> str:
    p50, p95 = percentiles(latencies)
    return (f"{label:<30} {partners:4d} partners  {sent / elapsed:6.1f} reports/s  "
            f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  ({elapsed:.1f} s, {sent} reports)")


async def main(partners: int, limited: int) -> None:
    lifted = await run(partners, LIFTED)
    telegram = await run(limited, {})
    print("Guided report (8 updates per partner), all partners at once:")
    print(line("flood limits lifted", partners, *lifted))
    print(line("Telegram's limits (30 msg/s)", limited, *telegram))
    print(f"peak RSS: {peak_rss_mib():.0f} MiB (bot, emulator and clients in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--limited", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.partners, args.limited))
