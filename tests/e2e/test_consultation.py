"""Consultation in the chat: /summary with charts, /latest, /report R-…, /export — by scope."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

PNG = b"\x89PNG\r\n\x1a\n" + b"Z" * 2500
VOICE = b"OggS" + b"w" * 4000


async def _member(runner: BotRunner, phone_factory, name: str, role: str, *,
                  project: str | list[str] = "eau-ziguinchor", org: str | None = None,
                  language: str = "fr") -> Phone:
    phone = phone_factory(name, language_code=language)
    await join(runner, phone, role=role, project=project, org=org, language=language)
    runner.emulator.drain_events(phone.user_id)
    return phone


async def _report(runner: BotRunner, partner: Phone, values: tuple[str, ...], *,
                  photos: int = 0, voice: bool = False) -> str:
    """Send a guided report through the bot; return its reference."""
    await partner.send("/report")
    await partner.press("✓")
    for value in values:
        await partner.send(value)
    emulator = runner.emulator
    if voice:
        await runner.handled(emulator.send_voice(partner.user_id, VOICE))
    else:
        await partner.press(tr("fr", "Skip"))
    for index in range(photos):
        await runner.handled(emulator.send_photo(partner.user_id, PNG + bytes([index])))
    await partner.press(tr("fr", "Done"))
    [receipt] = await partner.press(tr("fr", "Send"))
    return receipt.text.split()[2]  # "✅ Rapport R-2026-000001 reçu…"


def _sent(runner: BotRunner, phone: Phone, update_id: int) -> list:
    return [e.message for e in runner.emulator.drain_events(phone.user_id)
            if e.kind == "send" and e.message]


async def _command(runner: BotRunner, phone: Phone, text: str) -> list:
    update_id = runner.emulator.send_text(phone.user_id, text)
    await runner.handled(update_id)
    return _sent(runner, phone, update_id)


async def test_summary_without_data_then_with_a_report_then_overdue(
    runner: BotRunner, phone_factory
) -> None:
    observer = await _member(runner, phone_factory, "Claire", "observer", org="rennes")
    water, schools = await _command(runner, observer, "/summary")  # one message per project
    assert "<b>Accès à l'eau potable à Ziguinchor</b>" in water.html
    assert "<b>Écoles bilingues à Cusco</b>" in schools.html
    text = water
    assert all("Gestion des déchets" not in m.text for m in (water, schools))  # Drôme's
    assert tr("fr", "No report yet.") in water.text and tr("fr", "No report yet.") in schools.text
    assert "🕒 À rendre : le rapport de la période 26 févr.\u2009–\u200925 mars 2026" in text.text
    assert "• Puits réhabilités : — / 12" in text.text

    partner = await _member(runner, phone_factory, "Aminata", "partner")
    reference = await _report(runner, partner, ("6", "400", "50"))
    replies = await _command(runner, observer, "/summary")
    text, chart = replies[0], replies[2]
    assert f"Dernier rapport : 3 mars 2026 à 15:05 ({reference})" in text.text  # Paris time
    assert "✅ À jour : le rapport de la période 26 févr.\u2009–\u200925 mars 2026" in text.text
    assert "• Puits réhabilités : 6 / 12 (50\u00a0%)" in text.text
    assert "• Ménages raccordés : 400 / 800 (50\u00a0%)" in text.text
    assert "• Comités de l'eau formés : 50 % (cible : 100 %)" in text.text  # no 50 % / 100 %
    assert chart.kind == "photo" and chart.text == "📈 Accès à l'eau potable à Ziguinchor"
    assert runner.emulator.file_bytes(chart.file_ids[0]).startswith(b"\x89PNG")
    assert len(replies) == 3  # two projects; no chart for the Cusco project without data

    runner.clock.advance(days=30)  # 2 April: the March period ended without a report
    [text, _schools, _chart] = await _command(runner, observer, "/summary")
    assert "⚠️ En retard : le rapport de la période 26 mars\u2009–\u200925 avr. 2026" not in \
        text.text
    runner.clock.advance(days=30)  # 2 May: the period ending 25 April has no report
    [text, _chart] = await _command(runner, observer, "/summary eau-ziguinchor")
    assert ("⚠️ En retard : le rapport de la période 26 mars\u2009–\u200925 avr. 2026 était "
            "attendu le 25 avril 2026.") in text.text


async def test_each_role_sees_only_its_scope_by_every_path(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _member(runner, phone_factory, "Aminata", "partner")
    reference = await _report(runner, partner, ("6", "400", "50"))
    report = await runner.store.reports.by_reference(reference)
    assert report is not None
    rennes = await _member(runner, phone_factory, "Claire", "observer", org="rennes")
    drome = await _member(runner, phone_factory, "Didier", "observer", org="drome",
                          project="dechets-garanhuns")
    marc = await _member(runner, phone_factory, "Marc", "coordinator", org="drome",
                         project="dechets-garanhuns", language="en")
    for outsider in (drome, marc):
        [text] = await _command(runner, outsider, f"/report {reference}")
        unknown = await _command(runner, outsider, "/report R-2026-999999")
        assert text.text == unknown[0].text.replace("R-2026-999999", reference)
        summary = (await _command(runner, outsider, "/summary"))[0].text
        assert "Ziguinchor" not in summary
        [latest] = await _command(runner, outsider, "/latest")
        assert reference not in latest.text
        await outsider.forge(f"lv:{report.id}")  # a forged button for the report
        assert outsider.toasts and reference not in "".join(outsider.toasts)
        assert not [m for m in emulator.messages(outsider.user_id)
                    if m.text.startswith(reference)]  # never the report's details
        [export] = await _command(runner, outsider, "/export")
        book = openpyxl.load_workbook(io.BytesIO(emulator.file_bytes(export.file_ids[0])))
        assert reference not in {r[0] for r in book.worksheets[0].iter_rows(values_only=True)}
    [shown, *_files] = await _command(runner, rennes, f"/report {reference.lower()}")
    assert shown.text.startswith(f"{reference} · reçu")
    [shown, *_files] = await _command(runner, partner, f"/report {reference}")
    assert reference in shown.text  # partners read their own projects' reports


async def test_a_report_with_its_photos_as_an_album_and_its_voice_note(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _member(runner, phone_factory, "Aminata", "partner")
    reference = await _report(runner, partner, ("6", "400", "50"), photos=3, voice=True)
    admin = await _member(runner, phone_factory, "Sophie", "admin", project=[],
                          language="en")
    replies = await _command(runner, admin, f"/report {reference}")
    text = replies[0].text
    assert text.startswith(f"{reference} · received")
    assert "Sent on 3 March 2026 at 14:05 by Aminata, Commune de Ziguinchor" in text
    assert "• Wells rehabilitated: 6" in text and "🎤" in text
    album = [m for m in replies if m.kind == "media_group"]
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1
    voices = [m for m in replies if m.kind == "voice"]
    assert len(voices) == 1 and emulator.file_bytes(voices[0].file_ids[0]) == VOICE


async def test_latest_pages_through_the_reports(runner: BotRunner, phone_factory) -> None:
    partner = await _member(runner, phone_factory, "Aminata", "partner")
    for day in range(7):
        await runner.handled(runner.emulator.send_text(partner.user_id, f"Nouvelle {day}"))
        await partner.press(tr("fr", "Send"))
        runner.clock.advance(hours=1)
    coordinator = await _member(runner, phone_factory, "Claire", "coordinator", org="rennes")
    [page] = await _command(runner, coordinator, "/latest")
    assert page.text.startswith("Derniers rapports (1–5 sur 7) :")
    assert page.button_texts[-1] == "▶"
    [second] = await coordinator.press("▶")
    assert second.edited and second.text.startswith("Derniers rapports (6–7 sur 7) :")
    assert second.button_texts[-1] == "◀"
    [first] = await coordinator.press(second.button_texts[0])
    assert first.text.startswith("F-2026-")
    assert "Nouvelle 1" in first.text
    [empty] = await _command(runner, coordinator, "/latest ecoles-cusco")
    assert empty.text == tr("fr", "No project matches.")  # not one of this coordinator's


@pytest.mark.parametrize("language", ["fr", "en", "pt", "es"])
async def test_export_in_the_readers_language(runner: BotRunner, phone_factory,
                                              emulator: BotApiEmulator, language: str) -> None:
    partner = await _member(runner, phone_factory, "Aminata", "partner")
    reference = await _report(runner, partner, ("6", "1 200", "50"))
    observer = await _member(runner, phone_factory, "Claire", "observer", org="rennes",
                             language=language)
    [document] = await _command(runner, observer, "/export")
    assert document.kind == "document" and document.file_name == "palabre-2026-03-03.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(emulator.file_bytes(document.file_ids[0])))
    assert book.sheetnames[0] == tr(language, "Reports")
    sheet = book.worksheets[0]
    assert sheet.cell(1, 1).value == tr(language, "Reference")
    assert sheet.cell(2, 1).value == reference
    values = book.worksheets[1]
    assert [c.value for c in values[3]][7] == 1200
    chart = (await _command(runner, observer, "/summary"))[-1]
    assert chart.kind == "photo"
