"""A questionnaire across a network's time zones and languages, as its people meet it: a way
out at every step, one deadline day for everyone (in each one's own zone and language), and
results a coordinator reads on a phone, free-text answers included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator, SentMessage
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr
from tests.e2e.test_announcements import coordinator, seed, settled

SURVEY = Path(__file__).resolve().parents[2] / "examples" / "survey.yaml"
PEOPLE = {  # user id: (name, language, time zone)
    701: ("Aminata", "fr", "Africa/Dakar"),
    702: ("Rosa", "es", "America/Lima"),
    703: ("Celso", "pt", "Africa/Maputo"),
}


async def _people(runner: BotRunner) -> dict[int, Phone]:
    phones = {}
    for user_id, (name, language, zone) in PEOPLE.items():
        await seed(runner, user_id, name, language=language)
        member = await runner.store.members.by_telegram_id(user_id)
        assert member is not None
        async with runner.store.transaction():
            await runner.store.members.update(member.id, runner.clock(), timezone=zone)
        phones[user_id] = Phone(runner, user_id)
    return phones


def _invitation(emulator: BotApiEmulator, user_id: int) -> SentMessage:
    return [m for m in emulator.messages(user_id) if "sv:go:" in str(m.buttons)][-1]


async def test_a_questionnaire_across_zones_with_ways_out_and_readable_results(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    phones = await _people(runner)
    await runner.services.surveys.import_form(SURVEY, runner.clock())

    # Every screen of /newsurvey has a way out.
    [choose] = await claire.send("/newsurvey")
    assert "✖ " + tr("fr", "Cancel") in choose.button_texts
    [cancelled] = await claire.press("✖", choose)
    assert cancelled.text == tr("fr", "Cancelled. Nothing was sent.")
    await claire.send("/newsurvey")
    [hub] = await claire.press("Bilan à mi-parcours")
    [audience] = await claire.press("👥", hub)
    assert "◀ " + tr("fr", "Back") in audience.button_texts
    [back] = await claire.press("◀", audience)
    assert back.text == hub.text  # nothing changed
    [hub] = await claire.press("7 ", back)
    # The clock says Tuesday 3 March 2026, 14:05 UTC: seven days later, the end of the day.
    assert tr("fr", "Deadline: {date}, end of the day", date="mardi 10 mars 2026") in hub.text
    [sent] = await claire.press("🚀", hub)
    # The end of 10 March where it ends first (Maputo, 23:59): 22:59 for Claire in Paris.
    assert "10 mars 2026, 22:59" in sent.text
    campaign = (await runner.store.surveys.campaigns())[0]
    assert campaign.closes_at.isoformat() == "2026-03-10T21:59:59+00:00"
    await settled(runner)

    # Each invitation names the same day, in its reader's language; /surveys gives the time
    # in each one's own zone: the same day for everyone, never 02:25.
    expected = {701: ("mardi 10 mars 2026", "10 mars, 21:59"),
                # Peru's own formats (CLDR es_PE): a 12-hour clock, as numbers 1,500.5.
                702: ("martes, 10 de marzo de 2026", "10 de marzo, 4:59\u202fp.\u202fm."),
                703: ("terça-feira, 10 de março de 2026", "10 de março, 23:59")}
    for user_id, (day, moment) in expected.items():
        assert day in _invitation(emulator, user_id).text
        emulator.drain_events(user_id)
        [pending] = await phones[user_id].send("/surveys")
        assert moment in pending.text, pending.text

    # /summary names the questionnaire in each reader's language.
    rosa = phones[702]
    summary = (await rosa.send("/summary"))[0]
    assert "📋 Balance intermedio" in summary.text

    # The first question's way out keeps everything; /surveys resumes on the same question.
    replies = await rosa.press("▶", _invitation(emulator, 702))
    first = replies[-1]
    assert first.text.startswith("1/")
    assert "✖ " + tr("es", "Stop for now") in first.button_texts
    [paused] = await rosa.press("✖", first)
    assert paused.text == tr("es", "Paused. Your answers are kept; send /surveys to continue "
                                   "where you stopped.")
    [pending] = await rosa.send("/surveys")
    replies = await rosa.press("▶", pending)
    assert replies[-1].text == first.text

    # Two answers typed freely, in two languages.
    for phone, partly, text in ((rosa, "En parte", "Más visitas al terreno, por favor"),
                                (phones[703], "Em parte", "Formação para a equipa técnica")):
        if phone is not rosa:
            await phone.press("▶", _invitation(emulator, phone.user_id))
        await phone.press(partly)
        await phone.send(text)
        replies = await phone.press("✅")  # the strengths: none ticked, then Done
        assert replies[-1].text.startswith("4/7")  # the meetings
        await phone.send("12")
        [refused] = await phone.send("15/02/2027")  # in the future: the form says no
        assert "◀" in str(refused.button_texts)  # a way out while typing a date
        await phone.send("15/02/2026")
        await runner.handled(emulator.send_location(phone.user_id, -8.89, -36.49))
        await phone.press("OK")
        [receipt] = await phone.press("✅")
        assert receipt.text.startswith("✅")

    # Results on a phone: a short overview, then each question's answers at a press.
    emulator.drain_events(claire.user_id)
    [menu] = await claire.send("/results")
    replies = await claire.press("Bilan", menu)
    overview = replies[0]
    assert len(overview.text) < 300
    assert tr("fr", "{side}: {answered}/{invited} answered ({share})", side="Tout le monde",
              answered="2", invited="3", share="67\u00a0%") in overview.text
    [improve] = await claire.press("améliorer", overview)
    assert "«Formação para a equipa técnica»" in improve.text  # the latest first
    assert "«Más visitas al terreno, por favor»" in improve.text
    [site] = await claire.press(tr("fr", "Next question"), improve)  # the strengths
    [site] = await claire.press(tr("fr", "Next question"), site)  # the meetings
    assert "2 réponses, moyenne 12, de 12 à 12" in site.text
    [visit] = await claire.press(tr("fr", "Next question"), site)
    assert visit.text.count("15 févr. 2026") == 2  # as the reader writes dates
    [site] = await claire.press(tr("fr", "Next question"), visit)
    assert site.text.count("8,89° S, 36,49° O") == 2
