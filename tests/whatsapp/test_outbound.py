"""Announcements and reminders on WhatsApp, end to end: the real application with both
emulators, the WhatsApp one on the test's clock so that its 24-hour window (131047) is the
bot's. Inside the window a message goes, outside it the approved template; each row exactly
once; Meta's statuses settle what was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.app import reminder_sender, whatsapp_channel
from bot.channels.whatsapp import templates
from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator
from bot.emulator.whatsapp import SentWhatsApp, WhatsAppEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, FakeClock
from tests.auxil.texts import tr, trn
from tests.auxil.whatsapp import WaPhone, running_with_whatsapp
from tests.whatsapp.test_e2e import AWA, NETWORK

T = TypeVar("T")


@pytest.fixture
async def wa(clock: FakeClock) -> AsyncIterator[WhatsAppEmulator]:
    emulator = WhatsAppEmulator(clock=lambda: clock.now.timestamp())
    for template in templates.every_template():  # approved as Palabre sends them
        emulator.submit_template(template.payload())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def runner(tmp_path: Path, emulator: BotApiEmulator, wa: WhatsAppEmulator,
                 clock: FakeClock) -> AsyncIterator[BotRunner]:
    async with running_with_whatsapp(tmp_path, emulator, wa, clock, NETWORK) as bot:
        yield bot


async def _until(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Wait until `probe` returns something (a condition, not a fixed delay)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await probe()
        if found is not None:
            return found
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def _awa(runner: BotRunner, wa: WhatsAppEmulator) -> WaPhone:
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    return awa


async def _announce(runner: BotRunner, text: str, author: Any = None) -> int:
    announcement_id, count = await runner.services.announcements.publish_new(
        author=author, text=text, versions={}, audience=Audience({"project": ("puits",)}),
        ack=False, send_at=None, now=runner.clock())
    assert count == 1
    return announcement_id


async def _settled_row(runner: BotRunner, announcement_id: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        row = await runner.store.db.fetchone(
            "SELECT * FROM outbox WHERE announcement_id = ?", (announcement_id,))
        return None if row is None or row["state"] in ("pending", "sending") else dict(row)
    return await _until(probe)


def _payload(message: SentWhatsApp) -> str:
    [button] = [c for c in message.body["template"]["components"] if c["type"] == "button"]
    return str(button["parameters"][0]["payload"])


async def test_an_announcement_inside_the_window_goes_as_a_message_once(
        runner: BotRunner, wa: WhatsAppEmulator, emulator: BotApiEmulator,
        phone_factory: Any) -> None:
    awa = await _awa(runner, wa)
    claire = phone_factory("Claire", language_code="fr")
    await join(runner, claire, role="coordinator", project="puits", org="rennes")
    author = await runner.store.members.by_telegram_id(claire.user_id)
    before = len(wa.messages(AWA))
    announcement_id = await _announce(runner, "Réunion mardi à 10 h", author)
    row = await _settled_row(runner, announcement_id)
    assert (row["state"], row["chat_id"], row["error"]) == ("sent", -int(AWA), None)
    [message] = wa.messages(AWA)[before:]
    assert message.type != "template" and "Réunion mardi à 10 h" in message.text
    assert row["wamid"] == message.wamid

    # The emulator's statuses (sent, then delivered) record the delivery; a read, the reading.
    async def delivered() -> str | None:
        value = await runner.store.db.fetchval(
            "SELECT delivered_at FROM outbox WHERE id = ?", (row["id"],))
        return None if value is None else str(value)
    await _until(delivered)
    await wa.send_status(message, "read")

    async def read() -> str | None:
        value = await runner.store.db.fetchval("SELECT read_at FROM outbox WHERE id = ?",
                                               (row["id"],))
        return None if value is None else str(value)
    await _until(read)
    assert await runner.store.announcements.read_count(announcement_id) == 1
    # The author's /announcements counts it.
    listing = (await claire.send("/announcements"))[-1]
    assert trn("fr", "read by {count} person on WhatsApp", "read by {count} people on WhatsApp",
               1) in listing.text
    assert "lu par 1 personne sur WhatsApp" in listing.text
    # Nothing more was sent to Awa meanwhile: exactly once.
    assert len(wa.messages(AWA)) == before + 1
    assert awa.wa_id == AWA


async def test_an_announcement_outside_the_window_goes_as_the_template_then_shows(
        runner: BotRunner, wa: WhatsAppEmulator, clock: FakeClock) -> None:
    awa = await _awa(runner, wa)
    clock.advance(hours=25)  # Awa's last message is more than 24 hours old
    before = len(wa.messages(AWA))
    announcement_id = await _announce(runner, "Réunion mardi à 10 h")
    row = await _settled_row(runner, announcement_id)
    assert row["state"] == "sent"
    [message] = wa.messages(AWA)[before:]
    assert message.type == "template"
    assert message.body["template"]["name"] == "palabre_announcement"
    assert message.body["template"]["language"] == {"code": "fr"}
    assert row["wamid"] == message.wamid

    # Read: the press reopens the window and shows the announcement.
    awa.seen = len(wa.messages(AWA))
    shown = await awa._settle(await wa.press_template_button(
        AWA, message, _payload(message), tr("fr", "Read")))
    assert any("Réunion mardi à 10 h" in m.text for m in shown)
    assert [m.type for m in wa.messages(AWA)[before:]].count("template") == 1


async def test_a_window_closed_at_meta_falls_back_to_the_template(
        runner: BotRunner, wa: WhatsAppEmulator, clock: FakeClock) -> None:
    await _awa(runner, wa)
    # The bot's record says Awa wrote recently; Meta counts otherwise: 131047, then the
    # template, and nothing else.
    wa.people[AWA].last_inbound = clock.now.timestamp() - 25 * 3600
    before = len(wa.messages(AWA))
    announcement_id = await _announce(runner, "Réunion mardi à 10 h")
    row = await _settled_row(runner, announcement_id)
    assert row["state"] == "sent"
    [message] = wa.messages(AWA)[before:]
    assert message.type == "template"


async def test_an_unknown_outcome_is_uncertain_then_settled_by_its_status(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    await _awa(runner, wa)
    before = len(wa.messages(AWA))
    wa.fail_next(131000, "Something went wrong", http_status=500)
    announcement_id = await _announce(runner, "Réunion mardi à 10 h")
    row = await _settled_row(runner, announcement_id)
    assert row["state"] == "uncertain" and row["wamid"] is None
    assert wa.messages(AWA)[before:] == []  # never re-sent on its own
    # Meta did deliver it after all: its statuses name the row (the callback data).
    lost = SentWhatsApp("wamid.LOST", AWA, "text",
                        {"biz_opaque_callback_data": f"outbox:{row['id']}"}, 0.0)
    await wa.send_status(lost, "delivered")

    async def settled() -> tuple[str, str] | None:
        found = await runner.store.db.fetchone(
            "SELECT state, wamid FROM outbox WHERE id = ?", (row["id"],))
        assert found is not None
        return (str(found[0]), str(found[1])) if found[0] != "uncertain" else None
    assert await _until(settled) == ("sent", "wamid.LOST")
    # A failed status fails it.
    await wa.send_status(lost, "failed")

    async def failed() -> str | None:
        state = await runner.store.db.fetchval("SELECT state FROM outbox WHERE id = ?",
                                               (row["id"],))
        return "failed" if state == "failed" else None
    await _until(failed)


async def test_a_reminder_outside_the_window_goes_as_a_template(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    await _awa(runner, wa)
    before = len(wa.messages(AWA))
    # Three days before the report's date (the 25th), 08:00 in Dakar: Awa joined weeks ago.
    runner.clock.now = datetime(2026, 3, 22, 8, 0, 30, tzinfo=UTC)
    assert runner.app is not None
    sender = reminder_sender(runner.app)
    await sender.plan()
    assert await sender.tick() == 1
    assert await sender.tick() == 0  # never twice
    [message] = wa.messages(AWA)[before:]
    assert message.type == "template"
    template = message.body["template"]
    assert template["name"] == "palabre_report_reminder"
    [body] = [c for c in template["components"] if c["type"] == "body"]
    assert body["parameters"][0]["text"] == "Puits de Ziguinchor"
    row = await runner.store.db.fetchone(
        "SELECT state, wamid FROM reminders WHERE member_id = (SELECT id FROM members"
        " WHERE telegram_user_id = ?)", (-int(AWA),))
    assert row is not None and tuple(row) == ("sent", message.wamid)
    # "Report now" answers as on Telegram: the guided report starts.
    buttons = [c for c in template["components"] if c["type"] == "button"]
    assert len(buttons) == 2


async def test_a_survey_invitation_and_its_reminder_outside_the_window_are_templates(
        runner: BotRunner, wa: WhatsAppEmulator, clock: FakeClock) -> None:
    await _awa(runner, wa)
    clock.advance(hours=25)
    before = len(wa.messages(AWA))
    surveys = runner.services.surveys
    forms = Path(__file__).parent.parent / "forms"
    form, _new = await surveys.import_form(forms / "water_points.xlsx", clock())
    now = clock()
    campaign_id, invited = await surveys.launch(
        author=None, form=form, audience=Audience({"project": ("puits",)}), joint=False,
        opens_at=now, closes_at=datetime(2026, 3, 14, 18, 0, tzinfo=UTC), now=now,
        remind_days=(3,))
    assert invited == 1

    async def invitation() -> SentWhatsApp | None:
        sent = wa.messages(AWA)[before:]
        return sent[0] if sent else None
    message = await _until(invitation)
    assert message.type == "template"
    template = message.body["template"]
    assert template["name"] == "palabre_survey_invitation"
    [body] = [c for c in template["components"] if c["type"] == "body"]
    assert [p["text"] for p in body["parameters"]] == ["Water point monitoring", "14 mars, 18:00"]
    assert _payload(message) == f"sv:go:{campaign_id}"

    # Three days before the deadline, 08:00 in Dakar: the reminder, as a template too.
    runner.clock.now = datetime(2026, 3, 11, 8, 1, tzinfo=UTC)
    assert runner.app is not None
    sender = reminder_sender(runner.app)
    await sender.plan()
    assert await sender.tick() == 1
    reminder = wa.messages(AWA)[-1]
    assert reminder.type == "template"
    assert reminder.body["template"]["name"] == "palabre_survey_reminder"
    assert len(wa.messages(AWA)) == before + 2  # each exactly once


async def test_a_pair_rate_refusal_is_sent_again_later_exactly_once(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    await _awa(runner, wa)
    assert runner.app is not None
    channel = whatsapp_channel(runner.app)
    assert channel is not None
    channel.sender.pair_pause = 0.05  # Meta's pause for one person, shortened for the test
    before = len(wa.messages(AWA))
    wa.fail_next(131056, "(Business Account, Consumer Account) pair rate limit hit")
    announcement_id = await _announce(runner, "Réunion mardi à 10 h")
    row = await _settled_row(runner, announcement_id)
    assert (row["state"], row["attempts"]) == ("sent", 1)  # the refusal is not an attempt
    [message] = wa.messages(AWA)[before:]
    assert "Réunion mardi à 10 h" in message.text
