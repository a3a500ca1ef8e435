"""Hostile presses and messages from a modified client, end to end: numbers SQLite cannot hold
in every callback prefix, stale review buttons, coordinates that are no place on Earth."""

from __future__ import annotations

import io

import openpyxl

from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

HUGE = "9" * 20  # more than SQLite's 2**63 - 1

# Every callback prefix the bot handles, with each numeric field replaced by HUGE.
FORGED = [
    "ac:l:" + HUGE, "ac:f:" + HUGE, "ob:l:" + HUGE, "ob:c:" + HUGE,
    f"an:ack:{HUGE}", f"an:ok:{HUGE}", f"an:av:{HUGE}:all", f"an:ls:{HUGE}",
    f"la:{HUGE}:0", f"la:0:{HUGE}", f"lv:{HUGE}",
    f"rm:go:{HUGE}", f"rm:1:{HUGE}", f"rm:{HUGE}:1",
    f"rp:ok:{HUGE}:1", f"rp:pj:1:{HUGE}", f"rp:rs:{HUGE}", f"rp:new:{HUGE}",
    f"mr:{HUGE}", f"am:{HUGE}",
    f"fu:ok:{HUGE}:1", f"fu:ok:1:{HUGE}", f"fu:no:{HUGE}",
    f"rv:ok:{HUGE}", f"rv:re:{HUGE}", "nt:" + HUGE,
    f"sv:go:{HUGE}", f"sv:c:{HUGE}:0:0", f"sv:c:1:{HUGE}:0", f"sv:c:1:0:{HUGE}",
    f"sl:f:{HUGE}", f"sl:a:{HUGE}", f"sr:{HUGE}", f"sx:{HUGE}",
]


async def _member(runner: BotRunner, phone_factory, name: str, role: str = "partner",
                  org: str | None = None, language: str = "en") -> Phone:
    phone = phone_factory(name, language_code=language)
    await join(runner, phone, role=role, org=org, language=language)
    return phone


async def test_a_huge_number_in_any_button_is_an_expired_button(
        runner: BotRunner, phone_factory) -> None:
    partner = await _member(runner, phone_factory, "Aminata")
    coordinator = await _member(runner, phone_factory, "Claire", "coordinator", "rennes")
    expired = tr("en", "This button has expired. Nothing was changed.")
    for phone in (partner, coordinator):
        for data in FORGED:
            await phone.forge(data)
            assert phone.toasts == [expired], data
    rows = await runner.store.db.fetchall("SELECT status, error FROM inbox")
    assert [tuple(r) for r in rows if r[0] != "handled"] == []


async def _send_report(partner: Phone) -> None:
    await partner.send("/report")
    await partner.press("✓")
    for value in ("10", "700", "50"):
        await partner.send(value)
    await partner.press("Skip")
    await partner.press("Done")
    await partner.press("Send")


async def test_a_stale_return_never_reopens_a_decided_report(
        runner: BotRunner, phone_factory, emulator: BotApiEmulator) -> None:
    claire = await _member(runner, phone_factory, "Claire", "coordinator", "rennes")
    marc = await _member(runner, phone_factory, "Marc", "coordinator", "rennes")
    partner = await _member(runner, phone_factory, "Aminata")
    await _send_report(partner)
    marc_card = emulator.last_message(marc.user_id)
    assert marc_card is not None
    return_data = next(data for text, data in marc_card.buttons if "Return" in text)
    # Marc presses Return, Claire accepts meanwhile, then Marc's comment arrives.
    await marc.press("Return with a comment", marc_card)
    await claire.press("Accept")
    emulator.drain_events(marc.user_id)  # his card, edited: "Accepted by Claire"
    [answer] = await marc.send("Wells: 10 or 12?")
    assert answer.text == tr("en", "Report {reference} was already reviewed: nothing was "
                                   "changed.", reference="R-2026-000001")
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "accepted"
    # A stale Return press on the accepted card: no comment is awaited, nothing reopens.
    emulator.drain_events(partner.user_id)
    await marc.forge(return_data or "", marc_card.message_id)
    await marc.send("Please redo it")
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "accepted"
    assert await runner.store.reports.awaited_comment(report.status_by or 0) is None
    assert [e for e in emulator.drain_events(partner.user_id) if e.kind == "send"] == []
    trail = [action for action, _ in await runner.store.reports.audit_trail(report.id)]
    assert trail == ["report.created", "report.accepted"]


async def test_coordinates_off_the_earth_are_refused(runner: BotRunner, phone_factory,
                                                     emulator: BotApiEmulator) -> None:
    partner = await _member(runner, phone_factory, "Aminata", language="fr")
    refusal = "📍 " + tr("fr", "This location is not a place on Earth, so it was not kept. "
                               "Please share your location again.")
    for latitude, longitude in ((91.0, 0.0), (0.0, 181.0), (-90.5, 10.0), (12.5, -180.01)):
        await runner.handled(emulator.send_location(partner.user_id, latitude, longitude))
        sent = [e.message for e in emulator.drain_events(partner.user_id)
                if e.kind == "send" and e.message]
        assert [m.text for m in sent] == [refusal]
    # During a guided report too.
    await partner.send("/report")
    await runner.handled(emulator.send_location(partner.user_id, 95.0, 0.0))
    sent = [e.message for e in emulator.drain_events(partner.user_id)
            if e.kind == "send" and e.message]
    assert [m.text for m in sent] == [refusal]
    stored = await runner.store.db.fetchall(
        "SELECT latitude, longitude FROM attachments WHERE latitude IS NOT NULL")
    assert stored == []
    # A real place is kept.
    await runner.handled(emulator.send_location(partner.user_id, 12.56, -16.27))
    stored = await runner.store.db.fetchall(
        "SELECT latitude, longitude FROM attachments WHERE latitude IS NOT NULL")
    assert [tuple(r) for r in stored] == [(12.56, -16.27)]


async def test_a_nul_in_a_text_never_breaks_the_chat_export(
        runner: BotRunner, phone_factory, emulator: BotApiEmulator) -> None:
    partner = await _member(runner, phone_factory, "Aminata")
    await partner.send("/report")
    await partner.press("✓")
    for value in ("10", "700", "50"):
        await partner.send(value)
    await partner.send("Pump\x00 repaired\x07 =1+2")  # the narrative
    await partner.press("Done")
    await partner.press("Send")
    emulator.drain_events(partner.user_id)
    [document] = await partner.send("/export")
    assert document.kind == "document", document.text
    book = openpyxl.load_workbook(io.BytesIO(emulator.file_bytes(document.file_ids[0])))
    narratives = [row[11] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert narratives == ["Pump repaired =1+2"]
