"""Progress reports from a phone, end to end: guided reports, field updates, reviews."""

from __future__ import annotations

import hashlib
import json

from bot.app import media_fetcher
from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

PNG_A = b"\x89PNG\r\n\x1a\n" + b"A" * 2000
PNG_B = b"\x89PNG\r\n\x1a\n" + b"B" * 3000
VOICE = b"OggS" + b"v" * 5000


async def _partner(runner: BotRunner, phone_factory, language: str = "fr",
                   name: str = "Aminata") -> Phone:
    phone = phone_factory(name, language_code=language)
    await join(runner, phone, language=language)
    return phone


async def _coordinator(runner: BotRunner, phone_factory, language: str = "fr") -> Phone:
    phone = phone_factory("Claire", language_code=language)
    await join(runner, phone, role="coordinator", org="rennes", language=language)
    return phone


async def _media(runner: BotRunner, phone: Phone, update_id: int) -> list:
    await runner.handled(update_id)
    return [e.message for e in runner.emulator.drain_events(phone.user_id)
            if e.kind in ("send", "edit") and e.message]


async def test_guided_report_in_french_with_voice_and_photos(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    coordinator = await _coordinator(runner, phone_factory)
    partner = await _partner(runner, phone_factory)
    emulator.drain_events(coordinator.user_id)

    [period] = await partner.send("/report")
    assert "Accès à l'eau potable à Ziguinchor" in period.text  # one project: no question
    answered = await partner.press("✓")  # the current period, first and marked
    assert answered[0].text == "✓ 26 févr.\u2009–\u200925 mars 2026"
    assert answered[-1].text.startswith("1/3 · Puits réhabilités")
    assert "cible : 12" in answered[-1].text

    [second] = await partner.send("12")
    assert second.text.startswith("2/3 · Ménages raccordés")
    [third] = await partner.send("1 200")
    assert third.text.startswith("3/3 · Comités de l'eau formés")
    [narrative] = await partner.send("45,5")
    assert narrative.text == tr("fr", "In a few words, how did the period go? Write it, or "
                                      "send a voice note.")

    replies = await _media(runner, partner, emulator.send_voice(partner.user_id, VOICE))
    assert replies[0].text == "🎤 " + tr("fr", "Voice note received.")
    assert replies[-1].text.startswith(tr("fr", "Add photos, documents, videos or your "
                                                "location if you wish."))
    for data in (PNG_A, PNG_B):
        replies = await _media(runner, partner, emulator.send_photo(partner.user_id, data))
        assert replies
    summary = (await partner.press("✅"))[-1]
    assert "• Puits réhabilités : 12" in summary.text
    assert "• Ménages raccordés : 1\u202f200" in summary.text
    assert "• Comités de l'eau formés : 45,5 %" in summary.text
    assert "🎤" in summary.text and "📎 2" in summary.text

    [receipt] = await partner.press(tr("fr", "Send"))
    head, kept = receipt.text.split("\n\n", 1)
    assert head == "✅ Rapport R-2026-000001 reçu le 3 mars 2026 à 14:05."
    assert "Puits réhabilités : 12" in kept  # what was sent stays in view

    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "submitted"
    version_id, narrative_text = await runner.store.reports.latest_version(report.id)
    assert narrative_text is None
    values = await runner.store.reports.version_values(version_id)
    assert sorted(float(v) for v in values.values()) == [12.0, 45.5, 1200.0]
    attachments = await runner.store.reports.version_attachments(version_id)
    assert [(a.kind, a.purpose, a.state) for a in attachments] == [
        ("voice", "narrative", "pending"), ("photo", "attachment", "pending"),
        ("photo", "attachment", "pending")]
    assert all(a.file_id for a in attachments)  # recorded at once, fetched later

    # The coordinator is told, in their language, with the review buttons.
    card = emulator.last_message(coordinator.user_id)
    assert card is not None
    assert "R-2026-000001" in card.text and "Aminata (Commune de Ziguinchor)" in card.text
    assert [text for text, _ in card.buttons] == ["✅ Accepter", "↩ " + tr(
        "fr", "Return with a comment")]

    # Files are fetched in the background and kept by content hash.
    assert runner.app is not None
    assert await media_fetcher(runner.app).run_once(runner.app.bot) == 3
    stored = await runner.store.reports.version_attachments(version_id)
    assert all(a.state == "stored" for a in stored)
    for attachment, data in zip(stored, (VOICE, PNG_A, PNG_B), strict=True):
        assert attachment.sha256 == hashlib.sha256(data).hexdigest()
        assert attachment.path is not None and attachment.path.startswith(attachment.sha256[:2])
        assert (runner.settings.media_dir / attachment.path).read_bytes() == data
    assert await runner.store.reports.audit_trail(report.id) == [("report.created",
                                                                   report.member_id)]


async def test_guided_report_in_english_with_locale_numbers(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    await partner.send("/report")
    await partner.press("✓")
    [again] = await partner.send("twelve")
    assert again.text.startswith("This is not a number. Send a number, for example 12.")
    assert "1/3 · Wells rehabilitated" in again.text
    [again] = await partner.send("250")
    assert again.text.startswith("The number must be at most 200.")
    [again] = await partner.send("12.5")
    assert again.text.startswith("Send a whole number, for example 12.")
    [second] = await partner.send("12")
    assert second.text.startswith("2/3")
    [third] = await partner.send("1,200")
    assert third.text.startswith("3/3")
    await partner.press("Skip")
    [attachments] = await partner.send("Two wells repaired; the pump in Lyndiane is late.")
    assert attachments.text.startswith("Add photos")
    # After a written narrative, a voice note and photos are attachments.
    for send in (lambda: emulator.send_voice(partner.user_id, VOICE),
                 lambda: emulator.send_photo(partner.user_id, PNG_A),
                 lambda: emulator.send_photo(partner.user_id, PNG_B)):
        replies = await _media(runner, partner, send())
        assert replies[-1].text.startswith("Add photos")
    assert "3 files received so far." in replies[-1].text
    summary = (await partner.press("Done"))[-1]
    assert "📎 3 attachments" in summary.text
    assert "• Households connected: 1,200" in summary.text
    assert "• Water committees trained: —" in summary.text
    assert "«Two wells repaired; the pump in Lyndiane is late.»" in summary.text
    [receipt] = await partner.press("Send")
    assert receipt.text.split("\n\n")[0] == ("✅ Report R-2026-000001 received on 3 March "
                                             "2026 at 14:05.")


async def test_resume_after_interruption_and_restart(runner: BotRunner, phone_factory) -> None:
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("12")
    [offer] = await partner.send("/report")
    assert offer.text == tr("fr", "You have a report in progress. Continue where you stopped?")
    answered = await partner.press("▶")
    assert answered[-1].text.startswith("2/3")
    await runner.restart()
    [offer] = await partner.send("/report")
    answered = await partner.press("▶")
    assert answered[-1].text.startswith("2/3")
    # Typing the answer without pressing anything also continues the draft.
    [third] = await partner.send("800")
    assert third.text.startswith("3/3")


async def test_back_and_keep_while_answering(runner: BotRunner, phone_factory) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("12")
    answered = await partner.press("Back")
    assert answered[-1].text.startswith("1/3")
    assert answered[-1].buttons[0][0] == "Keep 12"
    answered = await partner.press("Keep 12")
    assert answered[-1].text.startswith("2/3")


async def test_quick_field_update_with_one_project(runner: BotRunner, phone_factory,
                                                   emulator: BotApiEmulator) -> None:
    coordinator = await _coordinator(runner, phone_factory)
    partner = await _partner(runner, phone_factory)
    emulator.drain_events(coordinator.user_id)
    replies = await _media(runner, partner, emulator.send_photo(
        partner.user_id, PNG_A, caption="Le nouveau puits de Boucotte"))
    assert "Accès à l'eau potable à Ziguinchor" in replies[-1].text
    [receipt] = await partner.press("✅")
    assert receipt.text.startswith("✅ ") and "F-2026-000001" in receipt.text
    report = await runner.store.reports.by_reference("F-2026-000001")
    assert report is not None and report.kind == "field_update"
    version_id, _ = await runner.store.reports.latest_version(report.id)
    [photo] = await runner.store.reports.version_attachments(version_id)
    assert photo.caption == "Le nouveau puits de Boucotte"
    card = emulator.last_message(coordinator.user_id)
    assert card is not None and "F-2026-000001" in card.text

    # Free text outside a flow is a field update too; declining keeps it for a week.
    [question] = await partner.send("La pompe est réparée.")
    assert "Accès à l'eau potable à Ziguinchor" in question.text
    [declined] = await partner.press("✖")
    assert declined.text == tr("fr", "All right, it was not sent. I keep it for 7 days, then "
                                     "delete it.")
    kept = await runner.store.db.fetchval(
        "SELECT COUNT(*) FROM report_drafts WHERE status = 'declined'")
    assert kept == 1
    runner.clock.advance(days=8)
    assert await runner.services.field_updates.purge_declined(runner.clock()) == 1


async def test_quick_update_with_several_projects_and_an_album(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    phone = phone_factory("Rosa", language_code="es")
    await join(runner, phone, role="partner", project=["ecoles-cusco"], language="es")
    # A second project for the same organisation would come from another invitation; here
    # the partner is added to a second project directly.
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None
    other = await runner.store.network.project("dechets-garanhuns")
    assert other is not None
    async with runner.store.transaction():
        await runner.store.members.add_projects(member.id, [other.id])

    first = emulator.send_photo(phone.user_id, PNG_A, media_group_id="album-1", caption="Aula")
    second = emulator.send_photo(phone.user_id, PNG_B, media_group_id="album-1")
    await runner.handled(first)
    await runner.handled(second)
    sent = [e.message for e in emulator.drain_events(phone.user_id)
            if e.kind == "send" and e.message]
    assert len(sent) == 1  # one album, one question
    assert sent[0].text == tr("es", "Which project is this field update for?")
    assert len(sent[0].buttons) == 3  # two projects and "No"
    [receipt] = await phone.press("Escuelas bilingües en Cusco")
    assert "F-2026-000001" in receipt.text
    report = await runner.store.reports.by_reference("F-2026-000001")
    assert report is not None
    assert report.project_id == (await runner.store.network.project("ecoles-cusco")).id  # type: ignore[union-attr]
    version_id, _ = await runner.store.reports.latest_version(report.id)
    assert len(await runner.store.reports.version_attachments(version_id)) == 2


async def test_an_oversized_file_is_refused_and_the_report_kept(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    await partner.send("/report")
    await partner.press("✓")
    for _ in range(3):
        await partner.press("Skip")
    await partner.press("Skip")  # no narrative
    replies = await _media(runner, partner, emulator.send_oversized_document(
        partner.user_id, size=25 * 1024 * 1024, file_name="survey.zip",
        mime_type="application/zip"))
    assert replies[0].text.startswith("⚠ This file is too big for me to receive")
    await partner.press("Done")
    [receipt] = await partner.press("Send")
    assert receipt.text.endswith("1 file was too big and was not kept.")
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None
    version_id, _ = await runner.store.reports.latest_version(report.id)
    [refused] = await runner.store.reports.version_attachments(version_id)
    assert (refused.state, refused.error) == ("refused", "file too big")


async def test_amendments_for_72_hours_and_review(runner: BotRunner, phone_factory,
                                                  emulator: BotApiEmulator) -> None:
    coordinator = await _coordinator(runner, phone_factory, "en")
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("10")
    await partner.send("700")
    await partner.send("50")
    await partner.press(tr("fr", "Skip"))
    await partner.press("✅")
    await partner.press(tr("fr", "Send"))
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None

    # The coordinator returns it with a comment, in English; the partner reads it in French.
    emulator.drain_events(coordinator.user_id)
    await coordinator.press("Return with a comment")
    [done] = await coordinator.send("Wells: 10 or 12? <check> & confirm")
    assert done.text == "Comment sent to Aminata."
    note = emulator.last_message(partner.user_id)
    assert note is not None
    assert "«Wells: 10 or 12? <check> & confirm»" in note.text
    assert note.text.startswith("↩ Claire")

    answered = await partner.press("✏️")
    assert answered[-1].text.startswith("1/3")
    await partner.send("12")
    await partner.press(tr("fr", "Keep {value}", value="700"))
    await partner.press(tr("fr", "Keep {value}", value="50 %"))
    await partner.press(tr("fr", "Skip"))
    await partner.press("✅")
    [receipt] = await partner.press(tr("fr", "Send"))
    assert receipt.text.startswith("✅ Rapport R-2026-000001 corrigé le")
    report = await runner.store.reports.report(report.id)
    assert report is not None and (report.status, report.version) == ("amended", 2)
    rows = await runner.store.db.fetchall(
        "SELECT v.version, iv.value FROM report_versions v JOIN indicator_values iv"
        " ON iv.report_version_id = v.id JOIN indicators i ON i.id = iv.indicator_id"
        " WHERE v.report_id = ? AND i.code = 'wells' ORDER BY v.version", (report.id,))
    assert [(r[0], r[1]) for r in rows] == [(1, 10.0), (2, 12.0)]  # the original is kept

    # The amended report shows up for review; accepting it tells the partner.
    card = emulator.last_message(coordinator.user_id)
    assert card is not None and "amended" in card.text
    await coordinator.press("Accept", card)
    note = emulator.last_message(partner.user_id)
    assert note is not None and note.text.startswith("✅ ") and "Claire" in note.text
    trail = [action for action, _ in await runner.store.reports.audit_trail(report.id)]
    assert trail == ["report.created", "report.returned", "report.amended", "report.accepted"]

    # After 72 hours a report can no longer be amended (unless it was returned).
    runner.clock.advance(hours=73)
    emulator.drain_events(partner.user_id)
    [listing] = await partner.send("/myreports")
    assert "R-2026-000001" in listing.text
    assert listing.button_texts == ["👁 R-2026-000001"]  # view it, no longer amend it
    [refusal] = await partner.forge(f"am:{report.id}")
    assert refusal.text == tr("fr", "Report {reference} can no longer be amended (72 hours have "
                                    "passed).", reference="R-2026-000001")


async def test_forged_and_foreign_buttons(runner: BotRunner, phone_factory,
                                          emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    intruder = await _partner(runner, phone_factory, name="Mallory")
    observer = phone_factory("Marc", language_code="en")
    await join(runner, observer, role="observer", org="rennes", language="en")
    await partner.send("/report")
    draft = await runner.store.reports.open_draft(
        (await runner.store.members.by_telegram_id(partner.user_id)).id, "report")  # type: ignore[union-attr]
    assert draft is not None
    expired = tr("fr", "This button has expired. Nothing was changed.")
    for data in (f"rp:pe:{draft.id}:2026-02-26/2026-03-25", f"rp:ok:{draft.id}",
                 f"rp:no:{draft.id}", f"fu:ok:{draft.id}:1"):
        await intruder.forge(data)
        assert intruder.toasts == [expired], data
    # A project that is not theirs, through a forged button.
    cusco = await runner.store.network.project("ecoles-cusco")
    assert cusco is not None
    async with runner.store.transaction():
        await runner.store.reports.update_draft(draft.id, runner.clock(), step="project")
    await partner.forge(f"rp:pj:{draft.id}:{cusco.id}")
    assert partner.toasts == [expired]
    still = await runner.store.reports.draft(draft.id)
    assert still is not None and still.project_id != cusco.id
    # Reviewing is for coordinators of the project.
    await observer.forge("rv:ok:1")
    assert observer.toasts == ["This button has expired. Nothing was changed."]
    [refused] = await observer.send("/report")
    assert refused.text.startswith("Reports are sent by the partners of a project.")


async def test_mydata_lists_reports(runner: BotRunner, phone_factory,
                                    emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("3")
    for _ in range(2):
        await partner.press("Skip")
    await partner.send("Going well")
    await partner.press("Done")
    await partner.press("Send")
    [readable, document] = await partner.send("/mydata")
    text = emulator.file_bytes(readable.file_ids[0]).decode()
    assert "R-2026-000001 · report · " in text and " · received · 3 March 2026, " in text
    assert "Wells rehabilitated: 3" in text and "Narrative: «Going well»" in text
    data = json.loads(emulator.file_bytes(document.file_ids[0]))
    [report] = data["reports"]
    assert (report["reference"], report["narrative"], report["status"]) == (
        "R-2026-000001", "Going well", "submitted")
    assert list(report["values"].values()) == [3.0]


async def _send_report(partner: Phone, values: tuple[str, ...], period: str = "✓") -> None:
    await partner.send("/report")
    await partner.press(period)
    for value in values:
        await partner.send(value)
    await partner.press("Skip")
    await partner.press("Done")
    await partner.press("Send")


async def test_values_beside_the_previous_period_and_stale_drafts(runner: BotRunner,
                                                                   phone_factory) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    # Last period's report first (the second period offered), then this period's.
    await _send_report(partner, ("10", "650", "40"), period="26 Jan")
    await partner.send("/report")
    await partner.press("✓")
    [prompt] = await partner.send("12")
    assert "previous period: 650" in prompt.text
    await partner.send("1200")
    await partner.send("45")
    await partner.press("Skip")
    [summary] = (await partner.press("Done"))[-1:]
    assert "• Wells rehabilitated: 12 (previous period: 10)" in summary.text
    await partner.press("Cancel")

    # A draft left for a period that is over is closed (and kept) at the next /report.
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("7")
    runner.clock.advance(days=90)
    replies = await partner.send("/report")
    assert replies[0].text.startswith("Your unfinished report for an earlier period was closed")
    closed = await runner.store.db.fetchval(
        "SELECT COUNT(*) FROM report_drafts WHERE status = 'closed'")
    assert closed == 2  # the cancelled one and the stale one, both kept


async def test_a_failed_download_is_retried_later(runner: BotRunner, phone_factory,
                                                  emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    await _media(runner, partner, emulator.send_photo(partner.user_id, PNG_A))
    assert runner.app is not None
    fetcher = media_fetcher(runner.app)
    emulator.fail_next("getFile", error_code=502, description="Bad Gateway")
    assert await fetcher.run_once(runner.app.bot) == 0
    [pending] = await runner.store.db.fetchall(
        "SELECT state, attempts, error FROM attachments")
    assert (pending[0], pending[1]) == ("pending", 1) and "Bad Gateway" in pending[2]
    assert await fetcher.run_once(runner.app.bot) == 0  # not due yet: it waits its turn
    runner.clock.advance(seconds=31)
    assert await fetcher.run_once(runner.app.bot) == 1
    state = await runner.store.db.fetchval("SELECT state FROM attachments")
    assert state == "stored"


async def test_coordinators_can_turn_notifications_off(runner: BotRunner, phone_factory,
                                                       emulator: BotApiEmulator) -> None:
    coordinator = await _coordinator(runner, phone_factory, "en")
    [prompt] = await coordinator.send("/notifications")
    assert prompt.text == "Notifications of new reports are on."
    [done] = await coordinator.press("Off")
    assert done.text == "You will no longer be told of new reports."
    partner = await _partner(runner, phone_factory, "en", "Awa")
    emulator.drain_events(coordinator.user_id)
    await _send_report(partner, ("1", "2", "3"))
    assert [e for e in emulator.drain_events(coordinator.user_id) if e.kind == "send"] == []
    [refused] = await partner.send("/notifications")
    assert refused.text == "Report notifications are for coordinators."


async def test_a_button_of_an_answered_question_changes_nothing(runner: BotRunner,
                                                                phone_factory) -> None:
    partner = await _partner(runner, phone_factory, "en", "Awa")
    await partner.send("/report")
    await partner.press("✓")
    first_question = partner.emulator.last_message(partner.user_id)
    assert first_question is not None and first_question.text.startswith("1/3")
    await partner.send("12")  # answered by typing: the old message keeps its buttons
    await partner.press("Skip", first_question)
    assert partner.toasts == ["This button has expired. Nothing was changed."]
    draft = await runner.store.reports.open_draft(
        (await runner.store.members.by_telegram_id(partner.user_id)).id, "report")  # type: ignore[union-attr]
    assert draft is not None and (draft.step, draft.position) == ("value", 1)


async def test_one_coordinators_decision_updates_the_others_cards(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    claire = await _coordinator(runner, phone_factory, "en")
    marc = phone_factory("Marc", language_code="fr")
    await join(runner, marc, role="coordinator", org="rennes")
    partner = await _partner(runner, phone_factory, "en")
    await _send_report(partner, ("10", "700", "50"))
    marc_card = emulator.last_message(marc.user_id)
    assert marc_card is not None and "Accepter" in "".join(marc_card.button_texts)

    await claire.press("Accept")
    updated = emulator.last_message(marc.user_id)
    assert updated is not None and updated.message_id == marc_card.message_id
    assert updated.edited and updated.buttons == []
    assert updated.text.endswith("✅ " + tr("fr", "Accepted by {name}.", name="Claire"))
    # A press on the old card (a client that did not refresh) changes nothing.
    await marc.forge(marc_card.buttons[0][1] or "", marc_card.message_id)
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status_by is not None
    assert (await runner.store.members.by_id(report.status_by)).display_name == "Claire"
