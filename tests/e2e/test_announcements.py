"""Announcements end to end: composing, targeting, languages, scheduling, delivery through
the outbox (429s, 5xx, blocked people, a crash), replies and acknowledgements."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from bot.channels.telegram.outbox import OutboxSender
from bot.emulator import BotApiEmulator, SentMessage
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr, trn

ANNOUNCEMENT = "📢 " + "Announcement"


async def seed(runner: BotRunner, user_id: int, name: str, *, role: str = "partner",
               org: str | None = "ziguinchor", projects: tuple[str, ...] = ("eau-ziguinchor",),
               language: str = "fr") -> None:
    """A member who already joined (onboarding has its own tests)."""
    store = runner.store
    organisation = None if org is None else await store.network.organisation(org)
    project_ids = []
    for slug in projects:
        project = await store.network.project(slug)
        assert project is not None
        project_ids.append(project.id)
    async with store.transaction():
        await store.members.create(
            telegram_user_id=user_id, display_name=name, username=None, role=role,  # type: ignore[arg-type]
            organisation_id=None if organisation is None else organisation.id,
            language=language, timezone="Africa/Dakar", status="active",
            consent_at=runner.clock(), invitation_id=None, project_ids=project_ids,
            now=runner.clock())
    runner.emulator.add_user(user_id, name, language_code=language)


async def coordinator(runner: BotRunner, phone_factory: Any, language: str = "fr") -> Phone:
    phone = phone_factory("Claire", language_code=language)
    await join(runner, phone, role="coordinator", org="rennes", language=language)
    runner.emulator.drain_events(phone.user_id)
    return phone


async def compose(phone: Phone, text: str, audience: list[str] | None = None) -> None:
    """Write an announcement up to the summary: the text, then the audience's buttons."""
    await phone.send("/announce")
    await phone.send(text)
    for label in audience or ["👥"]:
        await phone.press(label)


async def settled(runner: BotRunner, announcement_id: int | None = None,
                  timeout: float = 30.0) -> None:
    """Wait until every confirmed announcement is delivered and reported."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = await runner.store.db.fetchval(
            "SELECT COUNT(*) FROM announcements WHERE status IN ('sending', 'scheduled')"
            " AND (? IS NULL OR id = ?)", (announcement_id, announcement_id))
        if left == 0:
            # The final report is sent after the commit, within the round that finished the
            # announcement: wait for a round to end after this one (no guessed delay).
            assert runner.app is not None
            sender: OutboxSender = runner.app.bot_data["outbox"]
            seen = sender.rounds
            while sender.rounds <= seen:
                if loop.time() > deadline:
                    raise TimeoutError("the outbox sender did not finish a round")
                await asyncio.sleep(0.01)
            return
        if loop.time() > deadline:
            raise TimeoutError("announcements still being sent")
        await asyncio.sleep(0.02)


async def a_round_later(runner: BotRunner, timeout: float = 30.0) -> None:
    """Wait until the outbox sender has run a whole round from now: what it would send if it
    were due has been sent (a check that nothing went, without a guessed delay)."""
    assert runner.app is not None
    sender: OutboxSender = runner.app.bot_data["outbox"]
    seen = sender.rounds + 1  # the round under way may have started before this call
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while sender.rounds <= seen:
        if loop.time() > deadline:
            raise TimeoutError("the outbox sender did not finish a round")
        await asyncio.sleep(0.01)


def announcements_in(emulator: BotApiEmulator, chat_id: int) -> list[SentMessage]:
    return [m for m in emulator.messages(chat_id)
            if m.html.startswith("<b>📢") or m.html.startswith("<b>⏰")]


async def test_a_coordinator_announces_to_their_project(runner: BotRunner, phone_factory: Any,
                                                        emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await seed(runner, 502, "Moussa", language="en")
    await seed(runner, 503, "João", org="garanhuns", projects=("dechets-garanhuns",),
               language="pt")  # outside Claire's projects

    [prompt] = await claire.send("/announce")
    assert prompt.text.startswith("📢 " + tr("fr", "New announcement."))
    [audience] = await claire.send("Réunion <mardi> & mercredi à 10h")
    assert tr("fr", "Who should receive it?") in audience.text
    assert audience.buttons[0][0].endswith("(2)")  # Awa and Moussa, not João
    [summary] = await claire.press("👥")
    assert "«Réunion &lt;mardi&gt; &amp; mercredi à 10h»" in summary.html
    preview = await claire.press("👁")
    shown = [m for m in preview if m.html.startswith("<b>📢")]
    assert len(shown) == 1
    assert "Réunion <mardi> & mercredi à 10h" in shown[0].text
    assert "Claire" in shown[0].text and "Ville de Rennes" in shown[0].text
    assert preview[-1].text == trn("fr", "Send it now to {count} person?",
                                   "Send it now to {count} people?", 2)
    await claire.press("✅")
    await settled(runner)

    for uid in (501, 502):
        [received] = announcements_in(emulator, uid)
        assert received.html == shown[0].html.replace(
            tr("fr", "Reply to this message to answer."),
            tr("fr" if uid == 501 else "en", "Reply to this message to answer.")).replace(
            tr("fr", "Announcement"), tr("fr" if uid == 501 else "en", "Announcement"))
    assert announcements_in(emulator, 503) == []
    report = emulator.last_message(claire.user_id)
    assert report is not None
    assert tr("fr", "{count} sent", count="2") in report.text


async def test_others_are_refused(runner: BotRunner, phone_factory: Any) -> None:
    partner = phone_factory("Awa")
    await join(runner, partner)
    [refused] = await partner.send("/announce")
    assert refused.text == tr("fr", "Announcements are sent by coordinators and administrators.")
    [refused] = await partner.send("/announcements")
    assert refused.text == tr("fr", "Announcements are sent by coordinators and administrators.")
    await partner.forge("an:pv:1")
    assert partner.toasts == [tr("fr", "This button has expired. Nothing was changed.")]


async def test_a_coordinator_cannot_press_another_authors_buttons(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await compose(claire, "Hello")
    other = phone_factory("Rosa")
    await join(runner, other, role="coordinator", project="ecoles-cusco", org="cusco")
    draft_id = await runner.store.db.fetchval("SELECT id FROM announcements")
    for action in ("ok", "pv", "no", "who", "rm", "ra"):
        await other.forge(f"an:{action}:{draft_id}")
        assert other.toasts == [tr("fr", "This button has expired. Nothing was changed.")]
    assert await runner.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 0


CRITERIA = [
    # (the button of the kind, the button of the value, who receives it)
    ("By project", "Gestion des déchets", {601, 604}),
    ("By country", "Pérou", {602}),
    ("By organisation", "Commune de Ziguinchor", {603, 605}),
    ("By role", "observateur", {604}),
    ("By language", "Español", {602}),
]


@pytest.mark.parametrize(("kind", "value", "expected"), CRITERIA,
                         ids=[c[0].split()[-1] for c in CRITERIA])
async def test_targeting_by_each_criterion(runner: BotRunner, phone_factory: Any,
                                           emulator: BotApiEmulator, kind: str, value: str,
                                           expected: set[int]) -> None:
    admin = phone_factory("Sophie", user_id=9001)
    await admin.send("/start")
    await admin.press("Français")
    await admin.press("✅")
    await seed(runner, 601, "João", org="garanhuns", projects=("dechets-garanhuns",),
               language="pt")
    await seed(runner, 602, "Rosa", org="cusco", projects=("ecoles-cusco",), language="es")
    await seed(runner, 603, "Awa")
    await seed(runner, 604, "Marc", role="observer", org="drome",
               projects=("dechets-garanhuns",), language="en")
    await seed(runner, 605, "Moussa", language="en")
    await admin.send("/announce")
    await admin.send("Bonjour à tous")
    await admin.press(tr("fr", kind))
    [summary] = await admin.press(value)
    assert f"{len(expected)} " in summary.text
    await admin.press("👁")
    await admin.press("✅")
    await settled(runner)
    reached = {uid for uid in (601, 602, 603, 604, 605) if announcements_in(emulator, uid)}
    assert reached == expected


async def test_language_versions(runner: BotRunner, phone_factory: Any,
                                 emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await seed(runner, 502, "Moussa", language="en")
    await seed(runner, 503, "Zé", language="pt")
    await compose(claire, "Réunion mardi")
    await claire.press("🌐")
    [ask] = await claire.press("English")
    assert tr("fr", "Write the version in {language} in one message.",
              language="English") in ask.text
    [summary] = await claire.send("Meeting on Tuesday")
    assert "English" in summary.text
    preview = await claire.press("👁")
    assert sum(m.html.startswith("<b>📢") for m in preview) == 2  # one per version
    await claire.press("✅")
    await settled(runner)
    assert "Réunion mardi" in announcements_in(emulator, 501)[0].text
    assert "Meeting on Tuesday" in announcements_in(emulator, 502)[0].text
    assert tr("en", "Announcement") in announcements_in(emulator, 502)[0].text
    pt = announcements_in(emulator, 503)[0].text
    assert "Réunion mardi" in pt and tr("pt", "Announcement") in pt  # the default text


async def test_cancel_sends_nothing(runner: BotRunner, phone_factory: Any,
                                    emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await compose(claire, "Oops")
    await claire.press("👁")
    [cancelled] = await claire.press("✖")
    assert cancelled.text == tr("fr", "Announcement cancelled. Nothing was sent.")
    await compose(claire, "Oops again")
    [cancelled] = await claire.send("/cancel")
    assert cancelled.text == tr("fr", "Announcement cancelled. Nothing was sent.")
    await a_round_later(runner)
    assert announcements_in(emulator, 501) == []
    assert await runner.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    # Text sent afterwards is no longer taken as an announcement.
    [reply] = await claire.send("Hello")
    assert reply.text == tr("fr", "I did not understand. Use the buttons below or send /help.")


async def test_scheduled_for_later(runner: BotRunner, phone_factory: Any,
                                   emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await compose(claire, "Demain")
    await claire.press("⏰")
    [summary] = await claire.press(tr("fr", "In one hour"))
    assert "3 mars 2026, 16:05" in summary.text  # Claire's time zone: Europe/Paris
    await claire.press("👁")
    [done] = await claire.press("✅")
    assert done.text.startswith("⏰")
    await a_round_later(runner)
    assert announcements_in(emulator, 501) == []
    runner.clock.advance(hours=1, seconds=1)
    await settled(runner)
    assert len(announcements_in(emulator, 501)) == 1


async def test_a_typed_date(runner: BotRunner, phone_factory: Any) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await compose(claire, "Plus tard")
    await claire.press("⏰")
    await claire.press("⌨️")
    [again] = await claire.send("hier")
    assert "10" in again.text or "/" in again.text
    [summary] = await claire.send("10/03 09:30")
    assert "10 mars 2026, 09:30" in summary.text


async def test_a_reply_goes_back_to_the_author(runner: BotRunner, phone_factory: Any,
                                               emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await compose(claire, "Qui vient mardi ?")
    await claire.press("👁")
    await claire.press("✅")
    await settled(runner)
    emulator.drain_events(claire.user_id)
    emulator.drain_events(501)
    [received] = announcements_in(emulator, 501)
    update_id = emulator.send_text(501, "Moi, avec <deux> collègues",
                                   reply_to_message_id=received.message_id)
    assert await runner.handled(update_id) == "handled"
    [thanks] = [e.message for e in emulator.drain_events(501) if e.kind == "send" and e.message]
    assert thanks.text == "✅ " + tr("fr", "Your answer was passed on to {name}.", name="Claire")
    [forwarded] = [e.message for e in emulator.drain_events(claire.user_id)
                   if e.kind == "send" and e.message]
    assert "Awa (Commune de Ziguinchor · Accès à l'eau potable à Ziguinchor)" in forwarded.text
    assert "Moi, avec &lt;deux&gt; collègues" in forwarded.html
    assert await runner.store.announcements.replies(1) == [(2, "Moi, avec <deux> collègues")]
    # Not a field update draft.
    assert await runner.store.db.fetchval("SELECT COUNT(*) FROM report_drafts") == 0
    [listing] = await claire.send("/announcements")
    assert "💬 " + trn("fr", "{count} reply", "{count} replies", 1) in listing.text


async def test_a_plain_text_after_an_announcement_reaches_the_author(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    awa = Phone(runner, 501)
    await compose(claire, "Réunion le 12 janvier : qui vient ?")
    await claire.press("👁")
    await claire.press("✅")
    await settled(runner)
    emulator.drain_events(claire.user_id)
    emulator.drain_events(501)
    # Typed without Telegram's swipe-to-reply: the bot asks, it does not guess.
    [question] = await awa.send("D'accord pour le 12 janvier")
    assert question.text == tr("fr", "Is this your answer to the announcement from {name}?",
                               name="Claire")
    assert question.button_texts[0] == "💬 " + tr("fr", "Yes, send it to {name}", name="Claire")
    assert any(t.startswith("📷") for t in question.button_texts)  # or a field update
    [thanks] = await awa.press("💬")
    assert thanks.text == "✅ " + tr("fr", "Your answer was passed on to {name}.", name="Claire")
    [forwarded] = [e.message for e in emulator.drain_events(claire.user_id)
                   if e.kind == "send" and e.message]
    assert "D'accord pour le 12 janvier" in forwarded.text
    assert await runner.store.announcements.replies(1) == [(2, "D'accord pour le 12 janvier")]
    assert await runner.store.db.fetchval("SELECT COUNT(*) FROM reports") == 0
    # Two days later a plain text is news from the field again.
    runner.clock.advance(hours=49)
    [later] = await awa.send("Le puits est réparé")
    assert not any(t.startswith("💬") for t in later.button_texts)
    assert "Accès à l'eau potable à Ziguinchor" in later.text


async def test_acknowledgements_and_a_reminder(runner: BotRunner, phone_factory: Any,
                                               emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    for uid, name in ((501, "Awa"), (502, "Bineta"), (503, "Cheikh")):
        await seed(runner, uid, name)
    await compose(claire, "Merci de confirmer")
    await claire.press("✓")
    await claire.press("👁")
    await claire.press("✅")
    await settled(runner)
    awa = runner.phone(501, "Awa")
    [received] = announcements_in(emulator, 501)
    await awa.press(tr("fr", "Received"), received)
    assert awa.toasts == ["✓ " + tr("fr", "Noted, thank you!")]
    await awa.press(tr("fr", "Received"), received)
    assert awa.toasts == [tr("fr", "Already noted, thank you.")]
    emulator.drain_events(claire.user_id)  # the delivery report
    [listing] = await claire.send("/announcements")
    assert "✓ " + tr("fr", "{acked}/{sent} received", acked="1", sent="3") in listing.text
    [who] = await claire.press(tr("fr", "#{number}: who received it", number="1"))
    assert "Awa" in who.text and "Bineta, Cheikh" in who.text
    answered = await claire.press("🔔")
    # The reminder leaves at once on the outbox's own task: on a slow machine its delivery
    # report ("📢 …") may reach Claire before the answer to her press is read here.
    [reminded] = [m for m in answered if not m.text.startswith("📢")]
    assert "2" in reminded.text
    await settled(runner)
    assert len(announcements_in(emulator, 501)) == 1
    for uid in (502, 503):
        first, reminder = announcements_in(emulator, uid)
        assert reminder.html.startswith("<b>⏰")
        assert reminder.reply_to_message_id == first.message_id


async def test_blocked_recipients_are_unreachable(runner: BotRunner, phone_factory: Any,
                                                  emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await seed(runner, 502, "Bineta")
    emulator.block(502)
    await compose(claire, "Première")
    await claire.press("👁")
    await claire.press("✅")
    await settled(runner)
    report = emulator.last_message(claire.user_id)
    assert report is not None
    assert tr("fr", "{count} unreachable", count="1") in report.text
    member = await runner.store.members.by_telegram_id(502)
    assert member is not None and member.unreachable_at is not None
    # No further sends: the next announcement leaves her out.
    await compose(claire, "Deuxième")
    [summary] = emulator.messages(claire.user_id)[-1:]
    assert "1 " in summary.text
    calls = [c for c in emulator.calls if c.params.get("chat_id") == 502]
    assert len(calls) == 1


async def test_429_and_5xx_lose_and_duplicate_nothing(runner: BotRunner, phone_factory: Any,
                                                      emulator: BotApiEmulator) -> None:
    claire = await coordinator(runner, phone_factory)
    for uid in range(501, 521):
        await seed(runner, uid, f"P{uid}")
    # On broadcast rows themselves (not on Claire's own replies): a 429 proves Telegram did
    # not process the call, so the row goes again; a 5xx leaves the outcome unknown.
    emulator.fail_next("sendMessage", error_code=429,
                       description="Too Many Requests: retry after 1", retry_after=1, times=2,
                       chat_id=503)
    emulator.fail_next("sendMessage", error_code=500, description="Internal Server Error",
                       chat_id=505)
    emulator.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=506)
    await compose(claire, "Robuste")
    await claire.press("👁")
    await claire.press("✅")
    await settled(runner)
    for uid in range(501, 521):
        expected = 0 if uid in (505, 506) else 1  # the emulator's 5xx delivered nothing
        assert len(announcements_in(emulator, uid)) == expected, uid
    assert len([c for c in emulator.calls if c.params.get("chat_id") == 503]) == 3
    assert len([c for c in emulator.calls if c.params.get("chat_id") in (505, 506)]) == 2
    counts = await runner.store.announcements.counts(1)
    assert (counts.sent, counts.uncertain, counts.failed, counts.pending) == (18, 2, 0, 0)
    # The author is told which could not be confirmed, with a way to send them again.
    report = emulator.last_message(claire.user_id)
    assert report is not None
    assert tr("fr", "{count} unconfirmed", count="2") in report.text


async def seed_many(runner: BotRunner, first: int, count: int) -> None:
    store = runner.store
    project = await store.network.project("eau-ziguinchor")
    org = await store.network.organisation("ziguinchor")
    assert project is not None and org is not None
    async with store.transaction():
        for uid in range(first, first + count):
            await store.members.create(
                telegram_user_id=uid, display_name=f"P{uid}", username=None, role="partner",
                organisation_id=org.id, language="fr", timezone="Africa/Dakar",
                status="active", consent_at=runner.clock(), invitation_id=None,
                project_ids=[project.id], now=runner.clock())
    for uid in range(first, first + count):
        runner.emulator.add_user(uid, f"P{uid}")


async def confirm_to_everyone(claire: Phone, text: str) -> None:
    await compose(claire, text)
    await claire.press("👁")
    await claire.press("✅")


async def wait_sent(emulator: BotApiEmulator, at_least: int) -> None:
    for _ in range(12_000):  # up to a minute on a busy machine
        if emulator.stats["messages_sent"] >= at_least:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(f"fewer than {at_least} messages sent")


async def test_a_crash_in_the_middle_of_2000_recipients(runner: BotRunner, phone_factory: Any,
                                                        emulator: BotApiEmulator) -> None:
    """The bot is killed while delivering; after the restart each person has one message."""
    claire = await coordinator(runner, phone_factory)
    await seed_many(runner, 10_000, 2000)
    before = emulator.stats["messages_sent"]
    await confirm_to_everyone(claire, "Deux mille")
    await wait_sent(emulator, before + 400)
    await runner.kill()
    sent_at_crash = emulator.stats["messages_sent"] - before
    assert sent_at_crash < 2000, sent_at_crash  # the crash did come in the middle
    await runner.start()
    await settled(runner, timeout=120)
    counts = Counter(len(announcements_in(emulator, uid)) for uid in range(10_000, 12_000))
    assert set(counts) <= {0, 1}, counts  # nobody receives it twice
    summary = await runner.store.announcements.counts(1)
    # The calls in flight at the kill are `uncertain` (by design, never re-sent blindly);
    # every other row was sent exactly once.
    assert summary.pending == 0
    assert summary.sent + summary.uncertain == 2000, summary
    assert counts[1] >= summary.sent
    assert counts[0] <= summary.uncertain


async def test_a_call_cut_off_by_a_crash_is_never_resent_blindly(
    runner: BotRunner, phone_factory: Any, emulator: BotApiEmulator
) -> None:
    """A call still unanswered when the process dies: delivery unknown. The row is marked
    uncertain, not re-sent; the author is told and chooses to send it again."""
    claire = await coordinator(runner, phone_factory)
    await seed(runner, 501, "Awa")
    await seed(runner, 502, "Bineta")
    emulator.hang_next("sendMessage", chat_id=502)  # never answered (and not delivered)
    assert runner.app is not None
    runner.app.bot_data["outbox"].drain_timeout = 0.3
    await confirm_to_everyone(claire, "Incertain")
    for _ in range(500):
        if await runner.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"):
            break
        await asyncio.sleep(0.01)
    await runner.kill()
    await runner.start()
    await settled(runner)
    counts = await runner.store.announcements.counts(1)
    assert (counts.sent, counts.uncertain) == (1, 1)
    assert announcements_in(emulator, 502) == []
    report = emulator.last_message(claire.user_id)
    assert report is not None and report.text.startswith("📢")
    assert "❔" in report.text
    emulator.drain_events(claire.user_id)
    await claire.press("↻", report)
    await settled(runner)
    assert len(announcements_in(emulator, 502)) == 1
    assert len(announcements_in(emulator, 501)) == 1
