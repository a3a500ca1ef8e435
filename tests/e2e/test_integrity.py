"""Integrity under ordinary faults: lost replies, repeated sends, late presses, stray codes."""

from __future__ import annotations

from typing import Any

from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

LOST = "My last answer may not have reached you. Nothing is lost."
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def _partner(runner: BotRunner, phone_factory: Any) -> Phone:
    phone = phone_factory("Aminata")
    await join(runner, phone)
    return phone


async def _values(runner: BotRunner, draft_member: int) -> dict[str, float | None]:
    rows = await runner.store.db.fetchall(
        "SELECT i.code, v.value FROM draft_values v JOIN indicators i ON i.id = v.indicator_id"
        " JOIN report_drafts d ON d.id = v.draft_id JOIN members m ON m.id = d.member_id"
        " WHERE m.telegram_user_id = ? AND d.status = 'open'", (draft_member,))
    return {row[0]: None if row[1] is None else float(row[1]) for row in rows}


async def test_a_lost_reply_never_moves_an_answer_to_the_next_question(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    # The answer to "Wells" is saved, but the next question never reaches the phone.
    emulator.fail_next("sendMessage", error_code=500, description="Internal Server Error",
                       chat_id=partner.user_id)
    replies = await partner.send("5", expect_failure=True)
    assert [r.text for r in replies] == [tr("fr", "✅ What you sent is saved, but my answer did "
                                                  "not get through. Send any message and I "
                                                  "will show you where you are.")]
    assert await _values(runner, partner.user_id) == {"wells": 5.0}
    # The partner, who never saw "Households", types the same answer again.
    replies = await partner.send("5")
    assert replies[0].text.startswith("⚠️ " + tr("fr", LOST))
    assert "• Puits réhabilités : 5" in replies[0].text
    assert replies[-1].text.startswith("2/3 · Ménages raccordés")
    assert await _values(runner, partner.user_id) == {"wells": 5.0}  # not taken as households
    # Now they have seen the question: the next text is its answer.
    replies = await partner.send("700")
    assert replies[-1].text.startswith("3/3")
    assert await _values(runner, partner.user_id) == {"wells": 5.0, "households": 700.0}


async def test_a_report_is_never_filed_twice(runner: BotRunner, phone_factory: Any,
                                             emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    for value in ("10", "700", "50"):
        await partner.send(value)
    await partner.press(tr("fr", "Skip"))
    await partner.press("✅")
    summary = emulator.last_message(partner.user_id)
    assert summary is not None
    [receipt] = await partner.press(tr("fr", "Send"))
    assert receipt.text.startswith("✅ Rapport R-2026-000001 reçu")
    # The receipt was lost on the phone, which still shows the summary: Send again.
    [send_data] = [data for label, data in summary.buttons if tr("fr", "Send") in label]
    assert send_data is not None
    [again] = await partner.forge(send_data, summary.message_id)
    assert "R-2026-000001" in again.text and "👁" in again.buttons[0][0]
    # Or the partner starts over with /report for the same period.
    await partner.send("/report")
    [offer] = await partner.press("✓")
    assert "R-2026-000001" in offer.text
    labels = [label for label, _data in offer.buttons]
    assert any("✏️" in label for label in labels)  # amend, within 72 hours
    count = await runner.store.db.fetchval("SELECT COUNT(*) FROM reports")
    assert count == 1


async def test_a_members_text_is_never_taken_for_a_code(runner: BotRunner,
                                                        phone_factory: Any) -> None:
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("12")
    await partner.send("700")
    await partner.send("50")
    for text in ("premier rapport", "Three wells done"):
        replies = await partner.send(text)
        assert all("code" not in r.text.lower() for r in replies), replies
    # The first was the narrative; the second, at the attachments step, asks again.
    narrative = await runner.store.db.fetchval(
        "SELECT narrative FROM report_drafts WHERE status = 'open'")
    assert narrative == "premier rapport"
    assert await runner.store.db.fetchval("SELECT COUNT(*) FROM code_attempts") == 0


async def test_a_late_press_still_gets_its_replies(runner: BotRunner, phone_factory: Any,
                                                   emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    emulator.fail_next("answerCallbackQuery", error_code=400, description=TOO_OLD)
    answered = await partner.press("✓")  # handled, not failed
    assert answered[-1].text.startswith("1/3 · Puits réhabilités")


async def test_poison_updates_are_quarantined_and_the_others_served(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator,
        caplog: Any) -> None:
    partner = await _partner(runner, phone_factory)
    # Half a character: the rest of the text is the partner's, kept and answered.
    lone = emulator.send_text(partner.user_id, "\ud800 three wells")
    # A kind of a newer Bot API without the fields this library requires.
    newer = emulator.push_update("poll", {"id": "77", "future_field": "my private words"})
    nul = emulator.send_text(partner.user_id, "nul\x00byte")  # storable, handled as usual
    assert await runner.handled(lone) == "handled"
    assert await runner.handled(nul) == "handled"
    replies = await partner.send("/help")  # everyone is served without a pause
    assert "/report" in replies[-1].text
    kept = await runner.store.db.fetchval(
        "SELECT payload FROM inbox WHERE update_id = ?", (lone,))
    assert "\ufffd three wells" in kept
    quarantined = dict(await runner.store.inbox.quarantined())
    assert set(quarantined) == {newer}
    assert quarantined[newer].startswith("cannot be parsed")
    raw = await runner.store.db.fetchval("SELECT raw FROM quarantine WHERE update_id = ?",
                                         (newer,))
    assert raw.isascii() and "future_field" in raw  # kept, escaped
    assert await runner.store.inbox.status(newer) == "handled"  # closed, never handled
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "private words" not in logged  # logged without its content
    assert logged.count(f"update {newer} quarantined") == 1


DRILL = """form_id: drill
title: {en: Drill, fr: Exercice}
default_language: fr
questions:
- {name: visits, type: integer, required: true,
   label: {fr: 'Combien de visites ?', en: 'How many visits?'}}
- {name: comment, type: text, required: true, label: {fr: 'Un commentaire ?', en: 'A comment?'}}
"""


async def test_text_goes_to_the_flow_touched_last(runner: BotRunner, phone_factory: Any,
                                                  emulator: BotApiEmulator,
                                                  tmp_path: Any) -> None:
    from datetime import timedelta

    from bot.core.announcements import Audience
    from tests.e2e.test_announcements import settled

    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    await partner.send("12")  # a report left at its second question
    form_file = tmp_path / "drill.yaml"
    form_file.write_text(DRILL, encoding="utf-8")
    form, _new = await runner.services.surveys.import_form(form_file, runner.clock())
    await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=False, opens_at=runner.clock(), closes_at=runner.clock() + timedelta(days=7),
        now=runner.clock())
    await settled(runner)
    invitation = [m for m in emulator.messages(partner.user_id) if "sv:go:" in str(m.buttons)][-1]
    runner.clock.advance(minutes=1)  # the questionnaire is started after the report
    replies = await partner.press("▶", invitation)
    assert "Combien de visites" in replies[-1].text
    runner.clock.advance(minutes=1)
    replies = await partner.send("7")  # the questionnaire's answer, not the report's
    assert "Un commentaire" in replies[-1].text
    assert await _values(runner, partner.user_id) == {"wells": 12.0}
    stored = await runner.store.db.fetchval(
        "SELECT value FROM survey_answers WHERE question = 'visits'")
    assert stored == "7"


async def test_a_text_typed_while_the_bot_answered_something_else_answers_the_question(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator) -> None:
    """A partner on a slow line asks for /help and types the answer to the question on screen
    before the help arrives: the help moved nothing, so the number is the question's."""
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")  # "1/3 · Puits réhabilités" on screen
    first = emulator.send_text(partner.user_id, "/help")
    typed = emulator.send_text(partner.user_id, "12")  # typed before the help came back
    assert await runner.handled(first) == "handled"
    assert await runner.handled(typed) == "handled"
    assert emulator.last_message(partner.user_id).text.startswith("2/3 · Ménages raccordés")
    assert await _values(runner, partner.user_id) == {"wells": 12.0}


async def test_a_retry_typed_before_the_next_question_arrived_is_not_its_answer(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator) -> None:
    """The same partner types 12 twice, the second before "Households" reached the phone: the
    second is a retry of Wells, not the households' number."""
    partner = await _partner(runner, phone_factory)
    await partner.send("/report")
    await partner.press("✓")
    first = emulator.send_text(partner.user_id, "12")
    again = emulator.send_text(partner.user_id, "12")
    assert await runner.handled(first) == "handled"
    assert await runner.handled(again) == "handled"
    last = emulator.messages(partner.user_id)[-2:]
    assert last[0].text.startswith("⚠️ " + tr("fr", LOST))
    assert last[1].text.startswith("2/3 · Ménages raccordés")
    assert await _values(runner, partner.user_id) == {"wells": 12.0}


async def test_a_questionnaire_resumed_meanwhile_still_takes_the_answer_on_screen(
        runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator,
        tmp_path: Any) -> None:
    """Continue pressed again (the earlier answer seemed lost) and the answer typed before the
    question came back: the questionnaire did not move, so the answer is the question's."""
    from datetime import timedelta

    from bot.core.announcements import Audience
    from tests.e2e.test_announcements import settled

    partner = await _partner(runner, phone_factory)
    form_file = tmp_path / "drill.yaml"
    form_file.write_text(DRILL, encoding="utf-8")
    form, _new = await runner.services.surveys.import_form(form_file, runner.clock())
    await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=False, opens_at=runner.clock(), closes_at=runner.clock() + timedelta(days=7),
        now=runner.clock())
    await settled(runner)
    invitation = [m for m in emulator.messages(partner.user_id) if "sv:go:" in str(m.buttons)][-1]
    replies = await partner.press("▶", invitation)
    assert "Combien de visites" in replies[-1].text
    [(_label, data)] = [b for b in invitation.buttons if b[0].startswith("▶")]
    assert data is not None
    pressed = emulator.press(partner.user_id, invitation.message_id, data)
    typed = emulator.send_text(partner.user_id, "7")
    assert await runner.handled(pressed) == "handled"
    assert await runner.handled(typed) == "handled"
    assert "Un commentaire" in emulator.last_message(partner.user_id).text
    stored = await runner.store.db.fetchval(
        "SELECT value FROM survey_answers WHERE question = 'visits'")
    assert stored == "7"
