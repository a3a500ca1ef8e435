"""Evaluation surveys end to end: XLSForms committed under tests/forms/, launched by a
coordinator, answered one question per message (constraints, Back, Skip, a restart, a review
edit, a late answer, forged buttons), then read as results and exported wide."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl

from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator, SentMessage
from bot.exports import survey_wide
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr
from tests.e2e.test_announcements import coordinator, seed, settled

FORMS = Path(__file__).parent.parent / "forms"


async def _import(runner: BotRunner, name: str) -> Any:
    form, created = await runner.services.surveys.import_form(FORMS / name, runner.clock())
    assert created
    return form


async def _review_pages(phone: Phone, review: SentMessage) -> list[SentMessage]:
    """Every page of the review, the first one first (the message is edited in place)."""
    pages = [review]
    while tr("fr", "More answers") in " ".join(pages[-1].button_texts):
        [page] = await phone.press(tr("fr", "More answers"), pages[-1])
        pages.append(page)
    return pages


async def _invited(runner: BotRunner, phone: Phone) -> None:
    """Wait for the invitation to come through the outbox, then forget the chat so far."""
    await settled(runner)
    assert any("sv:go:" in data for m in runner.emulator.messages(phone.user_id)
               for _label, data in m.buttons)
    runner.emulator.drain_events(phone.user_id)


async def test_joint_evaluation_answered_start_to_finish(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Aminata")
    aminata = Phone(runner, 501)
    await _import(runner, "joint_evaluation.xlsx")

    # The coordinator sends it from the chat, as a joint evaluation, with buttons only.
    [choose] = await claire.send("/newsurvey")
    assert tr("fr", "Which questionnaire do you want to send?") in choose.text
    [hub] = await claire.press("Évaluation conjointe 2026")
    assert "1 personne" in hub.text or "1 person" in hub.text
    [kinds] = await claire.press("👥")
    assert tr("fr", "Who should answer?") in kinds.text
    [projects] = await claire.press(tr("fr", "By project"))
    [hub] = await claire.press("Accès à l'eau potable à Ziguinchor (1)", projects)
    assert "Accès à l'eau potable à Ziguinchor" in hub.text
    [hub] = await claire.press("30")
    # The deadline is a day (30 days after today where Claire is), ending at the end of the day.
    assert tr("fr", "Deadline: {date}, end of the day", date="jeudi 2 avril 2026") in hub.text
    [hub] = await claire.press(tr("fr", "Tomorrow 08:00"))
    assert tr("fr", "Opens: tomorrow at 08:00") in hub.text
    [hub] = await claire.press(tr("fr", "Open now"))
    assert tr("fr", "Opens: now") in hub.text
    [hub] = await claire.press("🤝")
    assert tr("fr", "Joint evaluation (both sides of the partnership): yes") in hub.text
    [sent] = await claire.press("🚀")
    assert sent.text.startswith("✅")
    await _invited(runner, aminata)
    invitation = [m for m in emulator.messages(501) if "sv:go:" in str(m.buttons)][-1]
    assert "Évaluation conjointe 2026" in invitation.text

    # The same button pressed by someone not invited changes nothing.
    intruder = phone_factory("Intrus")
    await intruder.forge("sv:go:1")
    assert intruder.toasts

    replies = await aminata.press("▶", invitation)
    assert replies[-1].text.startswith("1/")
    assert "Évaluation conjointe du partenariat 2026" in replies[-1].text  # ${year} computed
    [question] = await aminata.press("▶")  # the note's Continue
    assert "Le partenariat" in question.text and "satisfait" in question.text
    replies = await aminata.press("En partie")
    assert replies[0].text == "✓ En partie"
    strengths = replies[-1]
    assert "3/" in strengths.text.split("·")[0]
    for label in ("La confiance", "Le financement", "Les formations", "Les visites"):
        [strengths] = await aminata.press(label)
    assert sum(label.startswith("✅ ") for label, _d in strengths.buttons) == 5  # and Done
    [refused] = await aminata.press(tr("fr", "Done"))
    assert "Trois réponses au plus" in refused.text  # the form's French constraint_message
    await aminata.press("✅ Les visites")  # untick one
    replies = await aminata.press(tr("fr", "Done"))
    assert "Que faudrait-il améliorer" in replies[-1].text  # relevant: "partly"
    [meetings] = await aminata.send("Plus de visites de terrain")
    assert "Les activités" in meetings.text and "réunions" in meetings.text
    [refused] = await aminata.send("60")
    assert "Entre 0 et 52 réunions" in refused.text
    [refused] = await aminata.send("douze")
    assert "12" in refused.text  # an example in the re-prompt
    [budget] = await aminata.send("12")
    assert "budget" in budget.text
    replies = await aminata.press(tr("fr", "Skip"))
    assert "dernière visite" in replies[-1].text
    [budget] = await aminata.press(tr("fr", "Back"))
    assert "budget" in budget.text
    [visit] = await aminata.send("45,5")
    assert "dernière visite" in visit.text
    [refused] = await aminata.send("15/02/2027")
    assert "futur" in refused.text
    [site] = await aminata.send("15/02/2026")
    assert "site principal" in site.text

    # A restart in the middle: nothing is lost, the next answer lands on the same question.
    await runner.restart()
    await runner.handled(emulator.send_location(501, 12.56, -16.27))
    photo_question = [e.message for e in emulator.drain_events(501) if e.message][-1]
    assert "photo" in photo_question.text.lower()
    [wrong] = await aminata.send("une belle photo")
    assert tr("fr", "Send a photo.") in wrong.text  # a text is not a photo: asked again
    await runner.handled(emulator.send_photo(501, b"\x89PNG\r\n\x1a\n" + b"P" * 500))
    consent = [e.message for e in emulator.drain_events(501) if e.message][-1]
    assert "J'accepte" in consent.text
    [review] = (await aminata.press("OK"))[-1:]
    assert tr("fr", "Check your answers") in review.text
    assert "En partie" in review.text and len(review.text) < 300  # a page at a time

    # A review edit: satisfied after all; the follow-up question is no longer relevant.
    replies = await aminata.press("✏️ 2")
    assert "satisfait" in replies[-1].text
    replies = await aminata.press("Oui")
    review = replies[-1]
    assert tr("fr", "Check your answers") in review.text
    assert "améliorer" not in review.text
    pages = await _review_pages(aminata, review)
    assert len(pages) > 1 and all(len(page.text) < 300 for page in pages)
    assert any("45,5" in page.text for page in pages)

    # Forged and stale buttons change nothing: a press for another step (here a question,
    # while the member is at the review) shows the review again.
    response = await runner.store.surveys.response_of(1, (await runner.store.members
                                                          .by_telegram_id(501)).id)  # type: ignore[union-attr]
    assert response is not None
    stale = await aminata.forge(f"sv:ok:{response.id}:3.0")
    assert tr("fr", "Check your answers") in stale[-1].text
    await intruder.forge(f"sv:ok:{response.id}:r")
    assert intruder.toasts
    assert (await runner.store.surveys.response(response.id)).status == "open"  # type: ignore[union-attr]

    [receipt] = await aminata.press(tr("fr", "Send my answers"))
    assert receipt.text.startswith("✅") and f"Q-1-{response.id:06d}" in receipt.text
    # A second Send (a double tap, or a retry after a lost reply) creates nothing new.
    [again] = await aminata.forge(f"sv:ok:{response.id}:r")
    assert f"Q-1-{response.id:06d}" in again.text and not again.text.startswith("✅")
    assert len(await runner.store.surveys.campaign_responses(1)) == 1
    answers = await runner.store.surveys.answers(response.id)
    assert answers["satisfaction"] == ("yes", None)
    assert "improve" not in answers  # no longer relevant: not part of the result
    assert answers["strengths"][0] == "trust funding training"
    assert answers["meetings"][0] == "12" and answers["budget_share"][0] == "45.5"
    assert answers["last_visit"][0] == "2026-02-15"
    assert answers["site"][0] == "12.56 -16.27 0 0"
    assert answers["photo"][0] is None and answers["photo"][1]  # Telegram's file id
    assert answers["year"][0] == "2026"  # the calculation, stored with the answers
    [readable, mine] = await aminata.send("/mydata")
    text = emulator.file_bytes(readable.file_ids[0]).decode()
    assert "Évaluation conjointe 2026 · envoyé le 3 mars 2026" in text
    assert "Êtes-vous satisfait·e du partenariat ? : Oui" in text
    data = json.loads(emulator.file_bytes(mine.file_ids[0]))
    [given] = data["survey_responses"]
    assert given["form_id"] == "joint_eval_2026" and given["status"] == "submitted"
    assert given["answers"]["meetings"] == "12" and "file_id" in given["answers"]["photo"]
    [done] = await aminata.send("/surveys")
    assert tr("fr", "No questionnaire is waiting for you. Thank you!") in done.text

    # /summary shows where the questionnaire stands in each project.
    emulator.drain_events(claire.user_id)
    summary = (await claire.send("/summary"))[0]
    assert "📋 " + tr("fr", "{title}: {answered}/{invited} answered",
                     title="Évaluation conjointe 2026", answered="1", invited="1") in summary.text

    # Results: the two sides side by side, as text and a chart.
    [menu] = await claire.send("/results")
    assert tr("fr", "Which questionnaire?") in menu.text
    replies = await claire.press("Évaluation conjointe")
    overview = replies[0]
    assert "Partenaires : 1/1 ont répondu (100\u00a0%)" in overview.text
    # The deadline: the end of the day Claire chose, in her zone (and before it in Dakar's).
    assert "2 avril 2026, 23:59" in overview.text
    assert len(overview.text) < 300
    assert replies[-1].kind == "photo"
    # One question at a press: the distribution per side, with shares; the mean of a number.
    [satisfaction] = await claire.press("satisfait", overview)
    assert "  Oui : 0 · 1 (100\u00a0%)" in satisfaction.text
    [meetings] = await claire.press("Combien de réunions", overview)
    assert "1 réponse, moyenne 12, de 12 à 12" in meetings.text
    [site] = await claire.press(tr("fr", "Next question"), meetings)  # the budget share
    [site] = await claire.press(tr("fr", "Next question"), site)  # the last visit
    assert "15 févr. 2026" in site.text
    [site] = await claire.press(tr("fr", "Next question"), site)
    assert "12,56° N, 16,27° O" in site.text  # not "12.56 -16.27 0 0"
    assert "openstreetmap.org/?mlat=12.56000&amp;mlon=-16.27000" in site.html  # one tap: a map
    [sheet] = await claire.press("📥", overview)
    assert sheet.kind == "document" and sheet.file_name == "joint_eval_2026-1.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(emulator.file_bytes(sheet.file_ids[0])))
    assert workbook.active is not None
    assert [c.value for c in workbook.active[1]][:3] == ["Référence", "Nom", "Organisation"]
    await intruder.forge("sx:1")
    assert intruder.toasts

    # The wide export: one column per question, select_multiple one column per choice.
    form = await runner.store.surveys.form(1)
    assert form is not None
    definition = runner.services.surveys.definition(form)
    header = survey_wide.columns(definition)
    rows = await survey_wide.wide_rows(runner.store, definition, 1, "Europe/Paris")
    out = tmp_path / "wide.csv"
    survey_wide.write(out, header, rows, "csv")
    with out.open(encoding="utf-8-sig") as handle:
        [record] = list(csv.DictReader(handle))
    assert record["strengths"] == "trust funding training"
    assert record["strengths/trust"] == "1" and record["strengths/visits"] == "0"
    assert record["status"] == "submitted" and record["side"] == "partner"


async def test_late_answer_after_the_deadline_is_refused_and_partial_answers_kept(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    await seed(runner, 601, "Moussa", language="en")
    moussa = Phone(runner, 601)
    form = await _import(runner, "water_points.xlsx")
    now = runner.clock()
    campaign_id, count = await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=False, opens_at=now, closes_at=now + timedelta(days=1), now=now)
    assert count == 1
    await _invited(runner, moussa)
    replies = await moussa.press("▶")
    assert "Country" in replies[-1].text
    region = (await moussa.press("Senegal"))[-1]
    labels = [label for label, _d in region.buttons]
    assert "Ziguinchor" in labels and "Boucle du Mouhoun" not in labels  # choice_filter
    await moussa.press("Ziguinchor")
    problems = (await moussa.press("No"))[-1]
    assert "What is wrong?" in problems.text  # relevant: not working
    await moussa.press("Broken pump")
    await moussa.press("Other")
    other = (await moussa.press(tr("en", "Done")))[-1]
    assert "Specify other" in other.text
    await moussa.send("The handle is missing")

    runner.clock.advance(days=2)
    [late] = await moussa.send("120")
    assert late.text == tr("en", "This questionnaire closed on {date}. Your answers so far are "
                                 "kept; thank you for your time.", date="4 March 2026, 14:05")
    response = await runner.store.surveys.response_of(campaign_id, (await runner.store.members
                                                                   .by_telegram_id(601)).id)  # type: ignore[union-attr]
    assert response is not None and response.status == "open"
    answers = await runner.store.surveys.answers(response.id)
    assert answers["problems"][0] == "pump other"
    assert answers["problems_other"][0] == "The handle is missing"
    assert "households" not in answers
    # Free text after that is no longer taken as an answer.
    replies = await moussa.send("hello")
    assert all("closed" not in m.text for m in replies)
    [nothing] = await moussa.send("/surveys")
    assert tr("en", "No questionnaire is waiting for you. Thank you!") in nothing.text


async def test_training_feedback_in_english_with_pages_regex_and_calculations(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    await seed(runner, 701, "Grace", language="en")
    grace = Phone(runner, 701)
    form = await _import(runner, "training_feedback.xlsx")
    now = runner.clock()
    await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"language": ("en",)}), joint=False,
        opens_at=now, closes_at=now + timedelta(days=7), now=now)
    await _invited(runner, grace)
    [pending] = await grace.send("/surveys")
    assert "Training feedback" in pending.text
    replies = await grace.press("▶")
    first = replies[-1]
    assert len([b for b in first.buttons if (b[1] or "").startswith("sv:c:")]) == 8  # a page
    data = next(d for _l, d in first.buttons if d and d.startswith("sv:c:"))
    _sv, _c, response_id, turn, _index = data.split(":")
    await grace.forge(f"sv:p:{response_id}:{turn}:9")  # a page that does not exist
    assert grace.toasts
    await grace.forge(f"sv:c:{response_id}:{turn}:99")  # a choice that does not exist
    assert grace.toasts
    [page2] = await grace.press(tr("en", "More choices"))
    assert any("Module 12" in label for label, _d in page2.buttons)
    replies = await grace.press("Module 11")
    assert "phone number" in replies[-1].text
    [refused] = await grace.send("77 12")
    assert "Digits only, 8 to 12 of them" in refused.text
    [participants] = await grace.send("771234567")
    # Back to an answered question offers to keep the answer; /cancel pauses, /surveys resumes.
    [phone] = await grace.press(tr("en", "Back"))
    assert "phone number" in phone.text
    [paused] = await grace.send("/cancel")
    assert tr("en", "Paused. Your answers are kept; send /surveys to continue where you "
                    "stopped.") in paused.text
    [pending] = await grace.send("/surveys")
    assert tr("en", "started") in pending.text
    replies = await grace.press("▶")
    assert replies[0].text == "▶ " + tr("en", "Let's continue where you stopped.")
    assert "phone number" in replies[-1].text
    replies = await grace.press("Keep: 771234567")
    assert replies[-1].text == participants.text
    replies = await grace.send("9")
    assert "so many people" in replies[-1].text  # calculated big_group = yes
    replies = await grace.send("The whole team wanted to come")
    assert "Thank you, 771234567!" in replies[-1].text  # a note with an answer in it
    [review] = (await grace.press("▶"))[-1:]
    assert "Module 11" in review.text
    [receipt] = await grace.press(tr("en", "Send my answers"))
    assert receipt.text.startswith("✅")


async def test_roles_are_checked_on_commands_and_forged_buttons(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    await seed(runner, 801, "Awa")
    awa = Phone(runner, 801)
    await seed(runner, 802, "Didier", role="observer", org="drome", projects=())
    didier = Phone(runner, 802)
    await seed(runner, 803, "Claude", role="observer", org="rennes", projects=())
    claude = Phone(runner, 803)
    form = await _import(runner, "joint_evaluation.xlsx")
    now = runner.clock()
    campaign_id, count = await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=True, opens_at=now, closes_at=now + timedelta(days=7), now=now)
    assert count == 2  # Awa (partner) and Claude (observer of Rennes, in the partnership)
    await settled(runner)
    for phone in (awa, didier, claude):
        emulator.drain_events(phone.user_id)

    [refused] = await awa.send("/newsurvey")
    assert tr("fr", "Questionnaires are sent by coordinators and administrators. /surveys "
                    "lists those waiting for you.") in refused.text
    await awa.forge(f"sl:f:{form.id}")
    assert awa.toasts
    await didier.forge("sl:go")
    assert didier.toasts
    [refused] = await awa.send("/results")
    assert tr("fr", "Results are for coordinators and observers.") in refused.text
    await awa.forge(f"sr:{campaign_id}")
    assert awa.toasts
    # An observer outside the partnership sees no results of it; one inside does.
    [nothing] = await didier.send("/results")
    assert tr("fr", "No questionnaire has been sent in your projects yet.") in nothing.text
    await didier.forge(f"sr:{campaign_id}")
    assert didier.toasts
    [menu] = await claude.send("/results")
    replies = await claude.press("Évaluation conjointe", menu)
    assert replies[0].text.count("0/1") == 2  # nobody answered yet, on either side


async def test_water_points_with_a_range_and_a_voice_note_and_a_later_opening(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    await seed(runner, 901, "Fatou", language="fr")
    fatou = Phone(runner, 901)
    form = await _import(runner, "water_points.xlsx")
    now = runner.clock()
    campaign_id, _count = await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"role": ("partner",)}), joint=False,
        opens_at=now + timedelta(hours=2), closes_at=now + timedelta(days=3), now=now)
    [early] = await fatou.forge(f"sv:go:{campaign_id}")
    assert early.text.startswith(tr("fr", "This questionnaire opens on {date}.",
                                    date="3 mars 2026, 16:05")[:20])
    [nothing] = await fatou.send("/surveys")
    assert tr("fr", "No questionnaire is waiting for you. Thank you!") in nothing.text

    runner.clock.advance(hours=2)
    replies = await fatou.forge(f"sv:go:{campaign_id}")
    assert "Pays" in replies[-1].text  # the French labels of an English-first form
    [region] = await fatou.send("sénégal")  # typed instead of pressed
    assert "Région" in region.text
    [wrong] = await fatou.send("Dakar")  # not a choice here
    assert tr("fr", "Please use the buttons.") in wrong.text
    await fatou.press("Kolda")
    households = (await fatou.press("Oui"))[-1]
    assert "ménages" in households.text  # "problems" is skipped: the point works
    [refused] = await fatou.send("0")
    assert "Entre 1 et 4999 ménages" in refused.text
    quality = (await fatou.send("1 250"))[-1]
    assert [label for label, _d in quality.buttons][:5] == ["1", "2", "3", "4", "5"]
    comment = (await fatou.press("4"))[-1]
    assert "commentaire vocal" in comment.text
    await runner.handled(emulator.send_voice(901, b"OggS" + b"v" * 800))
    review = [e.message for e in emulator.drain_events(901) if e.message][-1]
    assert tr("fr", "Check your answers") in review.text
    pages = "\n".join(page.text for page in await _review_pages(fatou, review))
    assert "1\u202f250" in pages and "🎤" in pages
    [receipt] = await fatou.press(tr("fr", "Send my answers"))
    assert receipt.text.startswith("✅")
    response = await runner.store.surveys.response_of(
        campaign_id, (await runner.store.members.by_telegram_id(901)).id)  # type: ignore[union-attr]
    assert response is not None
    answers = await runner.store.surveys.answers(response.id)
    assert answers["households"][0] == "1250" and answers["quality"][0] == "4"
    assert answers["comment"][1] and "problems" not in answers


async def test_a_response_left_for_a_day_no_longer_takes_free_text(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    await seed(runner, 951, "Ibrahima")
    ibrahima = Phone(runner, 951)
    form = await _import(runner, "training_feedback.xlsx")
    now = runner.clock()
    campaign_id, _count = await runner.services.surveys.launch(
        author=None, form=form, audience=Audience(), joint=False, opens_at=now,
        closes_at=now + timedelta(days=7), now=now)
    await ibrahima.forge(f"sv:go:{campaign_id}")
    replies = await ibrahima.press("Module 2")
    assert "phone number" in replies[-1].text
    runner.clock.advance(days=1)
    replies = await ibrahima.send("La pompe est réparée")  # news from the field, not an answer
    assert all("phone number" not in m.text for m in replies)
    member = await runner.store.members.by_telegram_id(951)
    assert member is not None
    response = await runner.store.surveys.response_of(campaign_id, member.id)
    assert response is not None
    assert "phone" not in await runner.store.surveys.answers(response.id)
    [pending] = await ibrahima.send("/surveys")
    replies = await ibrahima.press("▶", pending)
    assert "phone number" in replies[-1].text  # exactly where it stopped
