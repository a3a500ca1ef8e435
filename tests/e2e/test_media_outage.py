"""A media folder that cannot be written (read-only, full disk): files wait and are retried
with growing pauses, none holds back the others, the outage is logged and told once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import media_fetcher
from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner
from tests.auxil.texts import tr
from tests.conftest import ADMIN_ID

PHOTOS = [b"\x89PNG\r\n\x1a\n" + bytes([n]) * 2000 for n in range(3)]


async def test_an_unwritable_media_folder(runner: BotRunner, phone_factory,
                                          emulator: BotApiEmulator,
                                          caplog: pytest.LogCaptureFixture) -> None:
    # Downloads run here by hand: the timer's round would race with them (one round at a time).
    assert runner.app is not None and runner.app.job_queue is not None
    for job in runner.app.job_queue.jobs():
        job.enabled = False
    admin = phone_factory("Sophie", user_id=ADMIN_ID)
    await admin.send("/start")
    await admin.press("Français")
    await admin.press("✅")
    partner = phone_factory("Aminata")
    await join(runner, partner)
    for photo in PHOTOS:
        await runner.handled(emulator.send_photo(partner.user_id, photo))
    emulator.drain_events(admin.user_id)
    assert runner.app is not None
    fetcher = media_fetcher(runner.app)

    # The folder's place is taken by a file: every write fails with an OSError, as on a
    # read-only or full disk (a root test process ignores permission bits).
    folder = runner.settings.media_dir
    if folder.exists():
        folder.rmdir()
    folder.write_text("not a folder")
    caplog.set_level(logging.DEBUG, logger="bot.channels.telegram.media")
    for _round in range(3):
        assert await fetcher.run_once(runner.app.bot) == 0
        runner.clock.advance(hours=2)  # past any pause: every file is due again
    rows = await runner.store.db.fetchall("SELECT state, attempts, error FROM attachments")
    assert [(r[0], r[1]) for r in rows] == [("pending", 3)] * 3  # none held back the others
    assert all("Error" in r[2] for r in rows)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(problems) == 1 and "cannot store received files" in problems[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no traceback
    notices = [e.message.text for e in emulator.drain_events(admin.user_id)
               if e.kind == "send" and e.message]
    assert notices == ["⚠️ " + tr("fr", "Received files cannot be stored in {folder} (read-only "
                                        "or full). Nothing is lost: they are kept at Telegram "
                                        "and retried until the folder can be written.",
                                  folder=str(folder))]

    # Repaired: the waiting files are stored, and the administrators are told once.
    folder.unlink()
    await asyncio.to_thread(folder.mkdir)
    assert await fetcher.run_once(runner.app.bot) == 3
    states = await runner.store.db.fetchall("SELECT state FROM attachments")
    assert [r[0] for r in states] == ["stored"] * 3
    notices = [e.message.text for e in emulator.drain_events(admin.user_id)
               if e.kind == "send" and e.message]
    assert notices == ["✅ " + tr("fr", "Received files can be stored in {folder} again; those "
                                        "waiting are being fetched.", folder=str(folder))]
