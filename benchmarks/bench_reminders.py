"""Benchmark: reminder planning for a large network, and reminders sent under flood limits.

1. Planning: 20,000 partners across 50 projects in 10 time zones (monthly cadences on
   different days), plus 100 coordinators. Prints the time of the planning pass that plans a
   day's reminders from scratch (every row of the current periods), and of the hourly pass
   that follows (idempotent: nothing new).
2. Sending: the real bot and the emulator limiting it to N messages/s overall and 1/s per
   chat; K reminders fall due at once; prints reminders/s as a fraction of N, 429s received,
   and duplicates (must be 0).

Usage: python benchmarks/bench_reminders.py [--members 20000] [--projects 50] [--send 1500]
       [--rate 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import deployment, peak_rss_mib, running_bot, seed_members

from bot.core.announcements import AnnouncementService
from bot.core.periods import Cadence
from bot.core.reminders import ReminderService
from bot.core.reports import ReportService
from bot.core.surveys import SurveyService
from bot.emulator import RateLimits
from storage import Store

ZONES = ("Africa/Dakar", "Africa/Abidjan", "Africa/Douala", "Africa/Nairobi", "America/Lima",
         "America/Recife", "America/Bogota", "Asia/Kolkata", "Asia/Ho_Chi_Minh", "Europe/Paris")
NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
ALL_DAY = json.dumps({"hours": ["00:00", "23:59"]})


async def build_network(store: Store, members: int, projects: int) -> None:
    """Projects, organisations and members written through the repositories, in bulk."""
    network = store.network
    async with store.transaction():
        north = await network.upsert_organisation(
            slug="north", kind="collectivity", name="Région", country="FR",
            timezone="Europe/Paris", now=NOW)
        south = [await network.upsert_organisation(
            slug=f"south-{i}", kind="partner", name=f"Commune {i}", country="SN", timezone=zone,
            now=NOW) for i, zone in enumerate(ZONES)]
        project_ids = []
        for index in range(projects):
            zone = ZONES[index % len(ZONES)]
            project_ids.append(await network.upsert_project(
                slug=f"p{index}", name={"fr": f"Projet {index}"}, country="SN", timezone=zone,
                cadence=f"FREQ=MONTHLY;BYMONTHDAY={index % 28 + 1}",
                organisation_ids=[north, south[index % len(ZONES)]],
                now=NOW - timedelta(days=90)))
        for index in range(members):
            project = index % projects
            await store.members.create(
                telegram_user_id=1_000_000 + index, display_name=f"Partner {index}",
                username=None, role="partner", organisation_id=south[project % len(ZONES)],
                language="fr", timezone=ZONES[project % len(ZONES)], status="active",
                consent_at=NOW, invitation_id=None, project_ids=[project_ids[project]], now=NOW)
        for index in range(100):
            project = index % projects
            await store.members.create(
                telegram_user_id=2_000_000 + index, display_name=f"Coordinator {index}",
                username=None, role="coordinator",
                organisation_id=north if index % 2 else south[project % len(ZONES)],
                language="fr", timezone="Europe/Paris", status="active", consent_at=NOW,
                invitation_id=None, project_ids=[project_ids[project]], now=NOW)


async def planning(members: int, projects: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "plan.db")
        try:
            started = time.perf_counter()
            await build_network(store, members, projects)
            print(f"network: {members:,} partners, 100 coordinators, {projects} projects, "
                  f"{len(ZONES)} time zones (built in {time.perf_counter() - started:.1f} s)")
            surveys = SurveyService(store, AnnouncementService(store, "UTC"), "UTC")
            service = ReminderService(store, ReportService(store, "UTC"), surveys, "UTC")
            started = time.perf_counter()
            created = await service.plan(NOW)
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = await service.plan(NOW + timedelta(hours=1))
            hourly = time.perf_counter() - started
            print(f"planning a day from scratch: {created:,} reminders in {first:.2f} s "
                  f"({created / first:,.0f} rows/s)")
            print(f"the hourly pass after it: {again:,} new in {hourly:.2f} s")
        finally:
            await store.close()


async def sending(count: int, rate: float) -> dict[str, float]:
    limits = {"broadcast_rate": rate, "chat_rate": 1.0, "group_rate": 20.0}
    async with deployment(limits) as (emu, settings, store):
        emu.rate_limits = RateLimits(global_per_second=rate, per_chat_per_second=1.0,
                                     per_chat_burst=3, per_group_per_minute=20.0)
        await _due_reminders(store, count)
        for uid in range(3_000_000, 3_000_000 + count):
            emu.add_user(uid, f"Partner {uid}", language_code="fr")
        events = emu.subscribe()
        started = time.perf_counter()
        async with running_bot(settings):
            delivered: Counter[int] = Counter()
            first = 0.0
            while sum(delivered.values()) < count:
                event = await asyncio.wait_for(events.get(), timeout=300)
                if event.kind == "send" and event.chat_id >= 3_000_000:
                    delivered[event.chat_id] += 1
                    first = first or time.perf_counter()
            finished = time.perf_counter()
            elapsed = finished - first
            await asyncio.sleep(2)  # anything sent twice would arrive now
            while not events.empty():
                event = events.get_nowait()
                if event.kind == "send" and event.chat_id >= 3_000_000:
                    delivered[event.chat_id] += 1
        duplicates = sum(n - 1 for n in delivered.values() if n > 1)
        achieved = (count - 1) / elapsed  # from the first message to the last
        print(f"sending: {count:,} reminders due at once, emulator limited to N = {rate:g} msg/s "
              f"(1/s per chat)")
        print(f"  first sent {first - started:.1f} s after the bot started (its first tick), "
              f"the last {finished - started:.1f} s after")
        print(f"  {achieved:.1f} msg/s = "
              f"{achieved / rate:.3f} of N; 429 received: {emu.stats.get('429', 0)}; "
              f"duplicates: {duplicates}")
        return {"achieved": achieved, "rate": rate, "duplicates": duplicates,
                "429": emu.stats.get("429", 0), "first": first - started}


async def _due_reminders(store: Store, count: int) -> None:
    """K partners of one project, each with a reminder due now (allowed all day)."""
    project = await store.network.project("eau-ziguinchor")
    assert project is not None
    now = datetime.now(UTC)
    due = Cadence(project.cadence).due_on_or_after(now.date())
    members = await seed_members(store, 3_000_000, count)
    async with store.transaction():
        await store.db.execute("UPDATE projects SET reminders = ? WHERE id = ?",
                               (ALL_DAY, project.id))
        await store.reminders.plan(
            [(member_id, project.id, f"report:{due}", "before", 0, now, now)
             for member_id in members], now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--send", type=int, default=1_500)
    parser.add_argument("--rate", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(planning(args.members, args.projects))
    asyncio.run(sending(args.send, args.rate))
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
