"""/forget leaves no identifier of the person in any byte of the database files."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from bot.app import media_fetcher
from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner
from tests.auxil.texts import tr

FORMS = Path(__file__).resolve().parents[1] / "forms"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"Z" * 3000
USER_ID = 7_777_123_456  # six bytes as an SQLite integer: findable in binary too
NAME = "Zéphyrine"
USERNAME = "zeph_quokka_77"


def _needles() -> dict[str, bytes]:
    return {
        "id as text": str(USER_ID).encode(),
        "id as an SQLite integer": USER_ID.to_bytes(6, "big", signed=True),
        "name": NAME.encode(),
        "name (JSON escape)": b"Z\\u00e9phyrine",
        "username": USERNAME.encode(),
    }


def _found(database: Path) -> list[str]:
    """Which identifiers are in which of the files (db, -wal, -shm)."""
    hits = []
    for suffix in ("", "-wal", "-shm"):
        path = database.with_name(database.name + suffix)
        if not path.exists():
            continue
        data = path.read_bytes()
        hits += [f"{label} in {path.name}" for label, needle in _needles().items()
                 if needle in data]
    return hits


async def test_forget_leaves_no_identifier_in_the_files(runner: BotRunner, phone_factory,
                                                        emulator: BotApiEmulator) -> None:
    # Downloads run here by hand: the timer's round would race with them (one round at a time).
    assert runner.app is not None and runner.app.job_queue is not None
    for job in runner.app.job_queue.jobs():
        job.enabled = False
    phone = phone_factory(NAME, user_id=USER_ID, username=USERNAME)
    await join(runner, phone)
    # A report sent, a field update (a location) sent, a report draft left half-done.
    await phone.send("/report")
    await phone.press("✓")
    for value in ("10", "700", "50"):
        await phone.send(value)
    await phone.press(tr("fr", "Skip"))
    await phone.press("✅")
    await phone.press(tr("fr", "Send"))
    await runner.handled(emulator.send_location(USER_ID, 12.56, -16.27))
    await phone.press("✅")
    await phone.send("/report")
    await phone.press("✓")
    await phone.send("11")
    # A photo for that draft, downloaded: a file of an unsent draft.
    await runner.handled(emulator.send_photo(USER_ID, PHOTO))
    assert runner.app is not None
    assert await media_fetcher(runner.app).run_once(runner.app.bot) == 1
    path = await runner.store.db.fetchval("SELECT path FROM attachments WHERE sha256 = ?",
                                          (hashlib.sha256(PHOTO).hexdigest(),))
    photo = runner.settings.media_dir / path
    assert photo.is_file()
    database = runner.settings.database
    member = await runner.store.members.by_telegram_id(USER_ID)
    assert member is not None
    # A questionnaire started, not submitted.
    form, _new = await runner.services.surveys.import_form(FORMS / "water_points.xlsx",
                                                           runner.clock())
    campaign_id, _count = await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=False, opens_at=runner.clock(), closes_at=runner.clock() + timedelta(days=7),
        now=runner.clock())
    async with runner.store.transaction():
        response = await runner.store.surveys.start_response(
            campaign_id, member.id, "partner", 0, runner.clock())
        await runner.store.surveys.set_answer(response, "country", "SN", runner.clock())
    assert _found(database)  # the test can see them before

    await phone.send("/forget")
    await phone.press(tr("fr", "Yes, delete"))

    # In no file, -wal included: the checkpoint moved the erased pages out of the -wal, and
    # what was written after it (the update's closing) holds no identifier.
    assert _found(database) == []
    # What was submitted stays, de-identified; the unsent draft is gone.
    reports = await runner.store.db.fetchall(
        "SELECT kind, chat_id FROM reports WHERE member_id = ? ORDER BY id", (member.id,))
    assert [tuple(r) for r in reports] == [("report", None), ("field_update", None)]
    drafts = await runner.store.db.fetchall(
        "SELECT status FROM report_drafts WHERE member_id = ?", (member.id,))
    assert {r[0] for r in drafts} <= {"submitted"}
    left = await runner.store.db.fetchval(
        "SELECT COUNT(*) FROM survey_responses WHERE member_id = ?", (member.id,))
    assert left == 0  # answers in progress were never given: gone with the person
    assert not photo.exists()  # nor the unsent draft's photo
