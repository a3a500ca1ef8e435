"""Benchmark: one announcement to 10,000 members through the outbox, against an emulator that
enforces Telegram-like flood limits of N messages/s (429 beyond), while a few people keep
talking to the bot.

Printed: the delivery rate as a fraction of N (target ≥ 0.95), the 429s received, duplicates
(must be 0), and the reply latency (p50/p95) of the people talking to the bot meanwhile.
Usage: python benchmarks/bench_announcements.py [--recipients 10000] [--rate 200] [--talkers 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from harness import (
    daytime_clock,
    deployment,
    peak_rss_mib,
    percentiles,
    running_bot,
    seed_members,
)

from bot.app import services_of
from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator, RateLimits

FIRST_USER = 100_000
FIRST_TALKER = 900_000


async def talker(emu: BotApiEmulator, user_id: int, stop: asyncio.Event,
                 latencies: list[float]) -> None:
    """A person asking /help every second or so during the broadcast, waiting for each answer."""
    while not stop.is_set():
        emu.drain_events(user_id)
        started = time.perf_counter()
        emu.send_text(user_id, "/help")
        while True:
            event = await emu.next_event(user_id, timeout=120)
            if event.kind == "send":
                break
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(1.0)


async def run(recipients: int, rate: float, talkers: int) -> dict[str, float]:
    limits = {"broadcast_rate": rate, "chat_rate": 1.0, "group_rate": 20.0}
    async with deployment(limits) as (emu, settings, store):
        emu.rate_limits = RateLimits(global_per_second=rate, per_chat_per_second=1.0,
                                     per_chat_burst=3, per_group_per_minute=20.0)
        await seed_members(store, FIRST_USER, recipients, name="Member")
        await seed_members(store, FIRST_TALKER, talkers, project_slug="ecoles-cusco",
                           org_slug="cusco", name="Talker")
        for uid in range(FIRST_USER, FIRST_USER + recipients):
            emu.add_user(uid, f"Member {uid}", language_code="fr")
        for uid in range(FIRST_TALKER, FIRST_TALKER + talkers):
            emu.add_user(uid, f"Talker {uid}", language_code="fr")
        events = emu.subscribe()
        async with running_bot(settings, daytime_clock) as app:
            service = services_of(app).announcements
            stop = asyncio.Event()
            latencies: list[float] = []
            tasks = [asyncio.create_task(talker(emu, uid, stop, latencies))
                     for uid in range(FIRST_TALKER, FIRST_TALKER + talkers)]
            started = time.perf_counter()
            _id, count = await service.publish_new(
                author=None, text="Réunion du réseau mardi à 10 h : ordre du jour en pièce jointe.",
                versions={}, audience=Audience({"project": ("eau-ziguinchor",)}), ack=True,
                send_at=None, now=daytime_clock())
            assert count == recipients
            per_chat: Counter[int] = Counter()
            first = last = 0.0
            all_sent = 0
            while sum(per_chat.values()) < recipients:
                event = await asyncio.wait_for(events.get(), timeout=120)
                if event.kind != "send":
                    continue
                all_sent += 1
                if event.chat_id >= FIRST_TALKER:
                    continue
                last = time.perf_counter()
                first = first or last
                per_chat[event.chat_id] += 1
            elapsed = last - first
            stop.set()
            await asyncio.gather(*tasks)
            await asyncio.sleep(1.0)  # anything sent twice would show up now
            while not events.empty():
                event = events.get_nowait()
                if event.kind == "send" and event.chat_id < FIRST_TALKER:
                    per_chat[event.chat_id] += 1
            total = time.perf_counter() - started
        emu.unsubscribe(events)
        sent_rows = int(await store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"))
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    p50, p95 = percentiles(latencies) if len(latencies) >= 2 else (0.0, 0.0)
    return {"recipients": recipients, "rate": rate, "elapsed": elapsed, "total": total,
            "achieved": (recipients - 1) / elapsed if elapsed else 0.0,
            "overall": all_sent / elapsed if elapsed else 0.0,
            "429": emu.stats["429"], "duplicates": duplicates,
            "missing": recipients - len(per_chat), "sent_rows": sent_rows,
            "replies": len(latencies), "p50": p50, "p95": p95}


async def main(recipients: int, rate: float, talkers: int) -> None:
    r = await run(recipients, rate, talkers)
    print(f"Announcement to {recipients:,} members, emulator limited to N = {rate:g} msg/s "
          f"(1/s per chat), {talkers} people talking to the bot meanwhile:")
    print(f"  delivered in {r['elapsed']:.1f} s: {r['achieved']:.1f} msg/s = "
          f"{r['achieved'] / rate:.3f} of N  (with the replies: {r['overall']:.1f} msg/s = "
          f"{r['overall'] / rate:.3f} of N)")
    print(f"  429 received: {r['429']:.0f}   duplicates: {r['duplicates']:.0f}   "
          f"missing: {r['missing']:.0f}   rows marked sent: {r['sent_rows']:.0f}")
    print(f"  interactive replies during the broadcast: {r['replies']:.0f}, "
          f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB (bot, emulator and clients in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--talkers", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.recipients, args.rate, args.talkers))
