"""Field fit: the shortest report, review from anywhere, field updates shown as they are."""

from __future__ import annotations

import asyncio

from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

PNG = b"\x89PNG\r\n\x1a\n" + b"A" * 2000


class Counted:
    """A phone that counts what the person does: taps (buttons, menu labels) and typing."""

    def __init__(self, phone: Phone) -> None:
        self.phone, self.taps, self.typed = phone, 0, 0

    async def tap_menu(self, label: str) -> list:
        self.taps += 1
        return await self.phone.send(label)

    async def press(self, label: str) -> list:
        self.taps += 1
        return await self.phone.press(label)

    async def type(self, text: str) -> list:
        self.typed += 1
        return await self.phone.send(text)


async def test_a_one_indicator_report_takes_four_taps_and_one_typed_message(
    runner: BotRunner, phone_factory
) -> None:
    phone = phone_factory("Quispe", language_code="es")
    await join(runner, phone, project="ecoles-cusco", language="es")
    partner = Counted(phone)
    [question] = await partner.tap_menu(tr("es", "📝 Report"))
    assert tr("es", "Cancel") in " ".join(question.button_texts)  # a way out
    await partner.type("14")  # the number, at once: the ticked period is taken
    await partner.press(tr("es", "Skip"))  # no narrative
    await partner.press(tr("es", "Done"))  # no attachment
    [receipt] = await partner.press(tr("es", "Send"))
    assert receipt.text.startswith("✅ ") and "R-2026-000001" in receipt.text
    assert (partner.taps, partner.typed) == (4, 1)
    values = await runner.store.db.fetchall("SELECT value FROM indicator_values")
    assert [r[0] for r in values] == [14.0]


async def test_review_from_the_report_and_the_waiting_list(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = phone_factory("Aminata", language_code="fr")
    await join(runner, partner)
    await partner.send("/report")
    await partner.press("✓")
    for value in ("10", "700", "50"):
        await partner.send(value)
    await partner.press(tr("fr", "Skip"))
    await partner.press("✅")
    await partner.press(tr("fr", "Send"))
    # A coordinator who joined after the report never got its card.
    late = phone_factory("Claire", language_code="fr")
    await join(runner, late, role="coordinator", org="rennes")
    [waiting] = await late.send("/toreview")
    assert "R-2026-000001" in waiting.text
    opened = await late.press("R-2026-000001")
    assert "✅ " + tr("fr", "Accept") in opened[0].button_texts
    shown = (await late.send("/report R-2026-000001"))[0]
    assert "↩ " + tr("fr", "Return with a comment") in shown.button_texts
    await late.press("✅ " + tr("fr", "Accept"), shown)
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "accepted"
    [empty] = await late.send("/toreview")
    assert empty.text == "✅ " + tr("fr", "No report waits for review.")
    again = (await late.send("/report R-2026-000001"))[0]
    assert again.button_texts == []  # decided: nothing to press
    # A partner cannot review.
    replies = await partner.send("/toreview")
    assert replies[-1].text == tr("fr", "This is for coordinators. /summary shows where your "
                                        "projects stand.")
    assert replies[-1].buttons == []


async def test_field_update_cards_show_the_content_without_review_buttons(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    coordinator = phone_factory("Claire", language_code="fr")
    await join(runner, coordinator, role="coordinator", org="rennes")
    partner = phone_factory("Aminata", language_code="fr")
    await join(runner, partner)
    emulator.drain_events(coordinator.user_id)
    await partner.send("La pompe de Boucotte est réparée.")
    await partner.press("✅")
    card = emulator.last_message(coordinator.user_id)
    assert card is not None
    assert card.text.startswith("🗞 ")  # a text, not a photo
    assert "«La pompe de Boucotte est réparée.»" in card.text
    assert "📎" not in card.text and card.buttons == []  # news is not reviewed

    update_id = emulator.send_photo(partner.user_id, PNG, caption="Le nouveau puits")
    await runner.handled(update_id)
    await partner.press("✅")
    card = emulator.last_message(coordinator.user_id)
    assert card is not None and card.kind == "photo"  # the photo itself
    assert card.text.startswith("📷 ") and "«Le nouveau puits»" in card.text
    assert card.buttons == []


async def test_what_a_partner_sent_stays_in_view(runner: BotRunner, phone_factory,
                                                 emulator: BotApiEmulator) -> None:
    partner = phone_factory("Quispe", language_code="es")
    await join(runner, partner, project="ecoles-cusco", language="es")
    await partner.send("/report")
    await partner.send("14")
    update_id = emulator.send_voice(partner.user_id, b"OggS" + b"v" * 5000)
    await runner.handled(update_id)
    attachments = emulator.last_message(partner.user_id)
    assert attachments is not None
    # The voice note is the narrative, not a file: no "1 file received so far".
    assert "1" not in attachments.text
    await partner.press(tr("es", "Done"))
    [receipt] = await partner.press(tr("es", "Send"))
    assert "🎤" in receipt.text and "14" in receipt.text  # the summary is kept in the receipt
    [listing] = await partner.send("/myreports")
    assert listing.button_texts[0] == "👁 R-2026-000001"
    opened = await partner.press("👁 R-2026-000001")
    assert opened[0].text.startswith("R-2026-000001")
    # Amending keeps the voice narrative with one tap.
    await partner.press("✏️", listing)
    await partner.press(tr("es", "Keep {value}", value="14"))
    narrative = emulator.last_message(partner.user_id)
    assert narrative is not None and tr("es", "Keep") in narrative.button_texts
    await partner.press(tr("es", "Keep"), narrative)
    await partner.press(tr("es", "Done"))
    [amended] = await partner.press(tr("es", "Send"))
    assert "🎤" in amended.text


async def test_announcements_wait_for_the_morning_in_each_members_zone(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    from tests.e2e.test_announcements import announcements_in, compose, seed

    claire = phone_factory("Claire", language_code="fr")
    await join(runner, claire, role="coordinator", org="rennes")
    await seed(runner, 501, "Awa")  # Dakar: 14:05, daytime
    await seed(runner, 502, "Keiko")
    async with runner.store.transaction():
        await runner.store.db.execute(
            "UPDATE members SET timezone = 'Asia/Tokyo' WHERE telegram_user_id = 502")
    await compose(claire, "Réunion demain")  # 23:05 in Tokyo
    await claire.press("👁")
    await claire.press("✅")
    for _ in range(600):  # until Awa's copy is delivered (a condition, not a delay)
        if announcements_in(emulator, 501):
            break
        await asyncio.sleep(0.05)
    assert len(announcements_in(emulator, 501)) == 1
    held = await runner.store.db.fetchone(
        "SELECT o.state, o.not_before FROM outbox o JOIN members m ON m.id = o.member_id"
        " WHERE m.telegram_user_id = 502")
    assert tuple(held) == ("pending", "2026-03-03T23:00:00+00:00")  # 08:00 in Tokyo
    assert announcements_in(emulator, 502) == []
    runner.clock.advance(hours=9)
    runner.services.announcements.queued.set()
    for _ in range(600):
        if announcements_in(emulator, 502):
            break
        await asyncio.sleep(0.05)
    assert len(announcements_in(emulator, 502)) == 1
