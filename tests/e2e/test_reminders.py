"""Reminders end to end: the real bot, the emulator, and a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import reminder_sender
from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

FORMS = Path(__file__).parent.parent / "forms"
# eau-ziguinchor reports monthly on the 25th; Ziguinchor (Dakar) is UTC all year.
DUE = "📝 <b>Accès à l'eau potable à Ziguinchor</b> : le rapport de la période " \
      "26 févr.\u2009–\u200925 mars 2026 est attendu le 25 mars 2026."


async def _partner(runner: BotRunner, phone_factory) -> Phone:
    phone = phone_factory("Aminata", language_code="fr")
    await join(runner, phone)
    runner.emulator.drain_events(phone.user_id)
    return phone


async def _at(runner: BotRunner, *args: int) -> int:
    """Move the clock, then plan and send as the bot's jobs do; return how many were sent."""
    runner.clock.now = datetime(*args, tzinfo=UTC)
    assert runner.app is not None
    sender = reminder_sender(runner.app)
    await sender.plan()
    return await sender.tick()


def _reminders(emulator: BotApiEmulator, phone: Phone) -> list:
    return [m for m in emulator.messages(phone.user_id) if (m.text.startswith(("📝", "⚠️", "⏰"))
            and "rm:" in "".join(d or "" for _t, d in m.buttons)) or m.text.startswith("⚠️")]


async def test_on_time_snooze_and_stop_on_submission(runner: BotRunner, phone_factory,
                                                     emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    assert await _at(runner, 2026, 3, 21, 12) == 0  # nothing due yet
    assert await _at(runner, 2026, 3, 22, 8, 0, 30) == 1  # 3 days before, 08:00 in Dakar
    [reminder] = _reminders(emulator, partner)
    assert reminder.html == DUE
    assert reminder.button_texts == ["📝 Faire le rapport", "⏰ Demain", "Dans 3 jours"]
    assert await _at(runner, 2026, 3, 22, 8, 5) == 0  # never twice

    moved = (await partner.press("⏰ Demain"))[-1]
    assert moved.text == "⏰ Je vous le rappellerai le lundi 23 mars 2026, 08:05."
    assert await _at(runner, 2026, 3, 23, 8, 0) == 0
    assert await _at(runner, 2026, 3, 23, 8, 6) == 1  # the snoozed one
    assert emulator.last_message(partner.user_id).html == DUE

    # "Report now" opens the guided report; once it is sent, reminders stop.
    emulator.drain_events(partner.user_id)
    started = await partner.press("📝 Faire le rapport")
    assert "Accès à l'eau potable à Ziguinchor" in started[-1].text
    assert "26 févr.\u2009–\u200925 mars 2026" in started[-1].text  # the period reminded of
    for value in ("6", "400", "50"):
        await partner.send(value)
    await partner.press(tr("fr", "Skip"))
    await partner.press(tr("fr", "Done"))
    await partner.press(tr("fr", "Send"))
    assert await _at(runner, 2026, 3, 25, 9) == 0
    assert await _at(runner, 2026, 3, 27, 9) == 0
    states = await runner.store.db.fetchall(
        "SELECT kind, step, state FROM reminders WHERE subject = 'report:2026-03-25'"
        " ORDER BY due_at")
    assert [tuple(r) for r in states][:4] == [("before", 3, "sent"), ("snooze", 1, "sent"),
                                              ("before", 0, "done"), ("overdue", 1, "done")]


async def test_quiet_hours_after_a_downtime(runner: BotRunner, phone_factory,
                                            emulator: BotApiEmulator) -> None:
    partner = await _partner(runner, phone_factory)
    # The bot was down from before 22 March 08:00 until 21:30: too late in the evening.
    assert await _at(runner, 2026, 3, 22, 21, 30) == 0
    assert _reminders(emulator, partner) == []
    assert await _at(runner, 2026, 3, 23, 7, 59) == 0
    assert await _at(runner, 2026, 3, 23, 8, 0, 10) == 1  # at the next opening, once
    await runner.restart()
    assert await _at(runner, 2026, 3, 23, 8, 1) == 0
    assert len(_reminders(emulator, partner)) == 1


async def test_downtime_catch_up_sends_only_what_is_still_useful(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    # Down from 20 March to 28 March 09:00: the two "before" reminders are stale, the first
    # overdue one (27 March 08:00) is still worth sending.
    assert await _at(runner, 2026, 3, 28, 9) == 1
    [sent] = _reminders(emulator, partner)
    assert sent.text.startswith("⚠️ Accès à l'eau potable à Ziguinchor : le rapport de la "
                                "période 26 févr.\u2009–\u200925 mars 2026 était attendu le "
                                "25 mars 2026.")
    skipped = await runner.store.db.fetchall(
        "SELECT step, note FROM reminders WHERE kind = 'before'"
        " AND subject = 'report:2026-03-25' ORDER BY step")
    assert [tuple(r) for r in skipped] == [(0, "stale"), (3, "stale")]


async def test_stop_cancels_and_forged_buttons_change_nothing(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    other = phone_factory("Fatou", language_code="fr")
    await join(runner, other)
    assert await _at(runner, 2026, 3, 22, 8, 1) == 2
    row_id = await runner.store.db.fetchval(
        "SELECT r.id FROM reminders r JOIN members m ON m.id = r.member_id"
        " WHERE m.telegram_user_id = ? AND r.state = 'sent'", (partner.user_id,))
    await other.forge(f"rm:1:{row_id}")  # another member's reminder
    await other.forge("rm:9:1")
    assert other.toasts
    assert await runner.store.db.fetchval(
        "SELECT COUNT(*) FROM reminders WHERE kind = 'snooze'") == 0
    await partner.send("/stop")
    assert await _at(runner, 2026, 3, 25, 8, 1) == 1  # only Fatou
    assert len(_reminders(emulator, partner)) == 1


async def test_blocked_partner_escalation_digest_and_overdue(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    south = phone_factory("Moussa", language_code="fr")
    await join(runner, south, role="coordinator", org="ziguinchor")
    north = phone_factory("Claire", language_code="fr")
    await join(runner, north, role="coordinator", org="rennes")
    emulator.block(partner.user_id)
    await _at(runner, 2026, 3, 22, 8, 1)
    member = await runner.store.members.by_telegram_id(partner.user_id)
    assert member is not None and member.unreachable_at is not None
    # Monday 30 March, 08:00 in Paris: the weekly digest tells the coordinators who is late.
    await _at(runner, 2026, 3, 30, 6, 1)
    digest = emulator.last_message(north.user_id)
    assert digest.text.startswith("🗓 Point hebdomadaire : rapports en retard")
    assert "Aminata 🚫 injoignable (a bloqué le bot)" in digest.text
    # Seven days late, the partner organisation's coordinators; fourteen, the collectivity's.
    await _at(runner, 2026, 4, 1, 8, 1)
    assert "a 7 jours de retard" in emulator.last_message(south.user_id).text
    assert "7 jours" not in emulator.last_message(north.user_id).text
    await _at(runner, 2026, 4, 8, 8, 1)
    assert "a 14 jours de retard" in emulator.last_message(north.user_id).text
    emulator.drain_events(north.user_id)
    [late] = await north.send("/overdue")
    assert late.text.startswith("⚠️ Rapports en retard")
    assert "14 jours de retard" in late.text
    observer = phone_factory("Didier", language_code="fr")
    await join(runner, observer, role="observer", org="rennes")
    [refused] = await observer.send("/overdue")
    assert refused.text.startswith("Ceci est réservé aux coordinateur·rices.")


async def test_a_reminder_in_flight_at_a_crash_is_never_sent_again(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    runner.clock.now = datetime(2026, 3, 22, 8, 1, tzinfo=UTC)
    assert runner.app is not None
    await reminder_sender(runner.app).plan()
    async with runner.store.transaction():  # claimed, then the process died mid-call
        await runner.store.db.execute(
            "UPDATE reminders SET state = 'sending', token = 'x' WHERE kind = 'before'"
            " AND step = 3")
    await runner.kill()
    await runner.start()
    assert await _at(runner, 2026, 3, 22, 8, 2) == 0
    assert await runner.store.db.fetchval(
        "SELECT state FROM reminders WHERE kind = 'before' AND step = 3") == "uncertain"
    assert _reminders(emulator, partner) == []


async def test_a_survey_reminds_only_those_who_have_not_answered(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    fatou = phone_factory("Fatou", language_code="fr")
    await join(runner, fatou)
    surveys, store = runner.services.surveys, runner.store
    form, _new = await surveys.import_form(FORMS / "water_points.xlsx", runner.clock())
    now = runner.clock()
    deadline = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    campaign_id, invited = await surveys.launch(
        author=None, form=form, audience=Audience({"project": ("eau-ziguinchor",)}),
        joint=False, opens_at=now, closes_at=deadline, now=now, remind_days=(3, 1))
    assert invited == 2
    fatou_member = await store.members.by_telegram_id(fatou.user_id)
    assert fatou_member is not None
    async with store.transaction():  # Fatou has answered (the flow is tested with surveys)
        response_id = await store.surveys.start_response(campaign_id, fatou_member.id,
                                                         "partner", 0, now)
        await store.surveys.update_response(response_id, now, status="submitted",
                                            submitted_at=now)
    emulator.drain_events(partner.user_id)
    emulator.drain_events(fatou.user_id)

    assert await _at(runner, 2026, 3, 7, 8, 1) == 1  # 3 days before, 08:00 in Dakar
    reminder = emulator.last_message(partner.user_id)
    assert reminder is not None
    assert reminder.text.startswith("📋 Water point monitoring : vos réponses sont attendues")
    assert "10 mars, 18:00" in reminder.text
    assert reminder.button_texts == ["📋 Répondre maintenant", "⏰ Demain", "Dans 3 jours"]
    assert reminder.buttons[0][1] == f"sv:go:{campaign_id}"
    assert not [m for m in emulator.messages(fatou.user_id) if "sont attendues" in m.text]
    started = await partner.press("📋 Répondre maintenant")
    assert started  # the questionnaire opens (its flow is tested with the surveys)
    # The deadline passed: the 1-day reminder of a campaign that closed is not sent.
    assert await _at(runner, 2026, 3, 11, 8, 1) == 0
    assert await store.db.fetchval(
        "SELECT note FROM reminders WHERE subject = ? AND step = 1",
        (f"survey:{campaign_id}",)) in ("campaign closed", "stale")


async def test_an_overdue_reminder_opens_the_late_period(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    assert await _at(runner, 2026, 3, 28, 9) == 1  # overdue: 26 Feb – 25 Mar is late
    emulator.drain_events(partner.user_id)
    [opened] = await partner.press("📝 Faire le rapport")
    # No period question: the late period is open, not the current one (26 Mar – 25 Apr).
    assert opened.text.startswith("📝 Accès à l'eau potable à Ziguinchor · "
                                  "26 févr.\u2009–\u200925 mars 2026")
    assert "1/3 · Puits réhabilités" in opened.text
    draft = await runner.store.db.fetchone(
        "SELECT period_start, period_end, step FROM report_drafts WHERE status = 'open'")
    assert tuple(draft) == ("2026-02-26", "2026-03-25", "value")
    # Back shows both periods, the late one ticked, with a way out.
    choice = (await partner.press(tr("fr", "Back")))[-1]
    assert choice.button_texts == ["26 mars\u2009–\u200925 avr. 2026",
                                   "✓ 26 févr.\u2009–\u200925 mars 2026", "✖ " + tr("fr", "Cancel")]

async def test_an_ambiguous_failure_is_uncertain_never_resent_and_shown(
    runner: BotRunner, phone_factory, emulator: BotApiEmulator
) -> None:
    partner = await _partner(runner, phone_factory)
    coordinator = phone_factory("Awa", language_code="fr")
    await join(runner, coordinator, role="coordinator", org="ziguinchor")
    # A 502 from a proxy: Telegram may have delivered it. A 429 proves it did not.
    emulator.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry "
                       "after 1", retry_after=1, chat_id=partner.user_id)
    assert await _at(runner, 2026, 3, 22, 8, 0, 30) == 0  # the 429: planned again
    emulator.fail_next("sendMessage", error_code=502, description="Bad Gateway",
                       chat_id=partner.user_id)
    assert await _at(runner, 2026, 3, 22, 8, 1, 30) == 0
    assert await runner.store.db.fetchval(
        "SELECT state FROM reminders WHERE kind = 'before' AND step = 3") == "uncertain"
    assert await _at(runner, 2026, 3, 22, 9, 0) == 0  # never sent again on its own
    tries = [c for c in emulator.calls if c.method.lower() == "sendmessage"
             and c.params.get("chat_id") == partner.user_id
             and "attendu" in str(c.params.get("text"))]
    assert len(tries) == 2  # the 429, then the 502; nothing after
    # Once the report is late, the coordinators see that the reminder may not have arrived.
    runner.clock.now = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    emulator.drain_events(coordinator.user_id)
    [late] = await coordinator.send("/overdue")
    assert "❔ " + tr("fr", "a reminder may not have arrived") in late.text


async def test_a_background_tick_runs_once_and_stops_cleanly(runner: BotRunner, phone_factory,
                                                             emulator: BotApiEmulator) -> None:
    """The scheduler's tick runs in the background until nothing is due (no gap at its 30 s
    boundaries); asking again meanwhile starts nothing; stopping ends it after the reminder
    under way, and what was not sent stays planned."""
    partners = []
    for name in ("Aminata", "Binta", "Coumba", "Dieynaba"):
        partners.append(phone_factory(name, language_code="fr"))
        await join(runner, partners[-1])
        emulator.drain_events(partners[-1].user_id)
    runner.clock.now = datetime(2026, 3, 22, 8, 0, 30, tzinfo=UTC)
    assert runner.app is not None
    sender = reminder_sender(runner.app)
    await sender.plan()
    sender.start_tick()
    sender.start_tick()  # one is under way: nothing more
    await sender.drained()
    assert [len(_reminders(emulator, p)) for p in partners] == [1, 1, 1, 1]
    states = [r[0] for r in await runner.store.db.fetchall(
        "SELECT state FROM reminders WHERE subject = 'report:2026-03-25' AND kind = 'before'"
        " AND step = 3")]
    assert states == ["sent"] * 4
    # Stopping: the tick under way ends after its reminder; nothing starts afterwards.
    runner.clock.now = datetime(2026, 3, 25, 8, 0, 30, tzinfo=UTC)  # the due day's reminders
    await sender.plan()
    sender.start_tick()
    await sender.stop()
    sender.start_tick()
    await sender.drained()
    states = [r[0] for r in await runner.store.db.fetchall(
        "SELECT state FROM reminders WHERE subject = 'report:2026-03-25' AND kind = 'before'"
        " AND step = 0")]
    sent = [len(_reminders(emulator, p)) - 1 for p in partners]
    assert all(n <= 1 for n in sent)  # never twice
    assert states.count("sent") == sum(sent) and set(states) <= {"sent", "planned"}
