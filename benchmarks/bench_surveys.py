"""Benchmark: members answer a 20-question survey at the same moment, through the emulator.

A campaign is launched to every member (invitations through the announcement outbox); each
member waits for the invitation, presses Start, answers 20 questions (10 choices as buttons,
8 numbers and 2 texts typed), then sends from the review: 22 actions, each reply awaited as on
a phone. Printed: answers/s, reply latency p50/p95, peak RSS; with the flood limits lifted (the
bot's own capacity), and optionally under Telegram's limits.
Usage: python benchmarks/bench_surveys.py [--members 1000] [--limited 0]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml
from harness import (
    LIFTED,
    daytime_clock,
    deployment,
    peak_rss_mib,
    percentiles,
    running_bot,
    seed_members,
)

from bot.core.announcements import AnnouncementService, Audience
from bot.core.surveys import SurveyService
from bot.emulator import BotApiEmulator
from storage import Store

FIRST_USER = 30_000
QUESTIONS = 20


def questionnaire() -> dict[str, object]:
    """20 questions as evaluations have them: choices, numbers with constraints, free text."""
    questions: list[dict[str, object]] = []
    for i in range(QUESTIONS):
        if i % 2 == 0:
            questions.append({
                "name": f"q{i}", "type": "select_one", "required": True,
                "label": {"fr": f"Question {i + 1} : êtes-vous d'accord ?"},
                "choices": [{"name": n, "label": {"fr": n}}
                            for n in ("oui", "plutot_oui", "plutot_non", "non")]})
        elif i in (9, 19):
            questions.append({"name": f"q{i}", "type": "text", "required": True,
                              "label": {"fr": f"Question {i + 1} : un commentaire ?"}})
        else:
            questions.append({"name": f"q{i}", "type": "integer", "required": True,
                              "constraint": ". >= 0 and . <= 1000",
                              "constraint_message": {"fr": "Entre 0 et 1000"},
                              "relevant": "${q0} != 'x'",
                              "label": {"fr": f"Question {i + 1} : combien ?"}})
    return {"form_id": "bench", "title": {"fr": "Évaluation (benchmark)"},
            "default_language": "fr", "questions": questions}


async def launch(store: Store, folder: Path) -> None:
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(questionnaire(), allow_unicode=True), encoding="utf-8")
    service = SurveyService(store, AnnouncementService(store, "Europe/Paris"), "Europe/Paris")
    now = daytime_clock()
    form, _created = await service.import_form(path, now)
    await service.launch(author=None, form=form, audience=Audience(), joint=False,
                         opens_at=now, closes_at=now + timedelta(days=7), now=now)


async def member(emu: BotApiEmulator, user_id: int, latencies: list[float]) -> None:
    """A person on a phone: act, wait for the bot's next question, act again."""

    async def answered(until: str) -> None:
        started = time.perf_counter()
        first = True
        while True:
            event = await emu.next_event(user_id, timeout=600)
            if first:
                latencies.append(time.perf_counter() - started)
                first = False
            if event.kind == until and event.message is not None:
                return

    def press(prefix: str) -> None:
        message = emu.last_message(user_id)
        assert message is not None
        data = next(d for _label, d in message.buttons if d and d.startswith(prefix))
        emu.press(user_id, message.message_id, data)

    while True:  # the invitation, through the outbox
        event = await emu.next_event(user_id, timeout=600)
        if event.kind == "send" and event.message and any(
                (d or "").startswith("sv:go:") for _l, d in event.message.buttons):
            break
    press("sv:go:")
    await answered("send")  # the introduction
    await answered("send")  # the first question
    for i in range(QUESTIONS):
        if i % 2 == 0:
            press("sv:c:")
        elif i in (9, 19):
            emu.send_text(user_id, "Le comité se réunit chaque mois, la pompe marche.")
        else:
            emu.send_text(user_id, str(10 + i))
        await answered("send")  # the next question, then the review
    press("sv:ok:")
    await answered("edit")  # the receipt


async def run(members: int, limits: dict[str, float]) -> tuple[float, list[float], int]:
    async with deployment(limits) as (emu, settings, store):
        await seed_members(store, FIRST_USER, members, name="Member")
        for i in range(members):
            emu.add_user(FIRST_USER + i, f"Member {i}", language_code="fr")
        with tempfile.TemporaryDirectory() as folder:
            await launch(store, Path(folder))
        async with running_bot(settings, daytime_clock):
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(member(emu, FIRST_USER + i, latencies)
                                   for i in range(members)))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.5)
        answers = int(await store.db.fetchval("SELECT COUNT(*) FROM survey_answers"))
        done = int(await store.db.fetchval(
            "SELECT COUNT(*) FROM survey_responses WHERE status = 'submitted'"))
        assert done == members, (done, members)
    return elapsed, latencies, answers


def line(label: str, members: int, elapsed: float, latencies: list[float], answers: int) -> str:
    p50, p95 = percentiles(latencies)
    return (f"{label:<30} {members:5d} members  {answers / elapsed:7.1f} answers/s  "
            f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  ({elapsed:.1f} s, {answers} answers)")


async def main(members: int, limited: int) -> None:
    lifted = await run(members, LIFTED)
    print(f"Survey of {QUESTIONS} questions (22 actions per member), all members at once:")
    print(line("flood limits lifted", members, *lifted))
    if limited:
        print(line("Telegram's limits (30 msg/s)", limited, *await run(limited, {})))
    print(f"peak RSS: {peak_rss_mib():.0f} MiB (bot, emulator and clients in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--limited", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.limited))
