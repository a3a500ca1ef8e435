"""Joining through an invitation, end to end: real bot, real database, loopback emulator."""

from __future__ import annotations

import pytest

from bot.emulator import BotApiEmulator
from tests.auxil.members import LANG_BUTTON
from tests.auxil.runner import BotRunner
from tests.auxil.texts import tr
from tests.conftest import ADMIN_ID


@pytest.mark.parametrize(("client_language", "language"), [
    ("fr", "fr"), ("en-GB", "en"), ("es-PE", "es"),
    # Telegram sends "pt-br" for a Brazilian phone; the others get European/African Portuguese.
    ("pt-br", "pt_BR"), ("pt", "pt"), ("pt-pt", "pt"), ("pt-MZ", "pt"),
])
async def test_join_in_each_language(runner: BotRunner, phone_factory, emulator: BotApiEmulator,
                                     client_language: str, language: str) -> None:
    code = await runner.invite("partner", "eau-ziguinchor")
    phone = phone_factory("Aminata", language_code=client_language)

    [prompt] = await phone.send(f"/start {code}")
    assert prompt.text == tr(language, "Welcome to Palabre! Which language do you prefer?")
    # The language suggested by the phone comes first, marked.
    assert prompt.buttons[0][0] == f"{LANG_BUTTON[language]} ✓"
    assert len(prompt.buttons) == 5
    assert max(len(row) for row in prompt.inline_keyboard) <= 2  # "Português (Brasil)" fits

    answered = await phone.press(LANG_BUTTON[language])
    assert answered[0].text == tr(language, "Language: {language}", language=LANG_BUTTON[language])
    consent = answered[-1]
    assert tr(language, "Do you agree?") in consent.text
    assert "/forget" in consent.text
    if language.startswith("pt"):  # each Portuguese reads as itself: "você" is Brazilian
        assert ("você" in consent.text) == (language == "pt_BR")

    answered = await phone.press("✅")
    welcome = answered[-1]
    assert tr(language, "Welcome, {name}!", name="Aminata") in welcome.text
    assert phone.menu() == [tr(language, "📝 Report"), tr(language, "📋 My reports"),
                            tr(language, "📊 Summary"), tr(language, "🗞 Latest reports"),
                            tr(language, "📋 Questionnaires"), tr(language, "❓ Help"),
                            tr(language, "🌐 Language"), tr(language, "🗂 My data")]

    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None
    assert (member.role, member.language, member.status) == ("partner", language, "active")
    assert member.timezone == "Africa/Dakar"
    assert member.consent_at == runner.clock()
    projects = await runner.store.members.projects(member.id)
    assert [p.slug for p in projects] == ["eau-ziguinchor"]
    # The member's own command list, in their language.
    commands = emulator.commands(scope={"type": "chat", "chat_id": phone.user_id})
    assert [c["command"] for c in commands] == [
        "start", "help", "report", "myreports", "summary", "latest", "export", "surveys", "language",
        "cancel", "mydata", "stop", "forget"]
    assert commands[1]["description"] == tr(language, "What I can do for you")


async def test_choose_another_language_than_the_phone(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite()
    phone = phone_factory("João", language_code="fr")
    await phone.send(f"/start {code}")
    answered = await phone.press("Português")
    assert tr("pt", "Do you agree?") in answered[-1].text
    answered = await phone.press("✅")
    assert tr("pt", "Welcome, {name}!", name="João") in answered[-1].text


async def test_code_typed_instead_of_link(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite("observer", "eau-ziguinchor")
    phone = phone_factory("Claire", language_code="fr")
    # Lower case, spaces instead of dashes, O for 0: people type codes as they read them.
    typed = code.lower().replace("-", " ").replace("0", "o")
    [prompt] = await phone.send(typed)
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")
    await phone.press("Français")
    await phone.press("✅")
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.role == "observer"
    org = await runner.store.network.organisation_by_id(member.organisation_id or 0)
    assert org is not None and org.slug == "rennes"


async def test_unknown_code(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory(language_code="en")
    [reply] = await phone.send("/start ABCD-EFGH-JKMN-PQ")
    assert reply.text == tr("en", "I don't know this invitation code. Check it and try again, "
                                  "or ask your coordinator for a new link.")
    assert await runner.store.onboarding.get(phone.user_id) is None


async def test_expired_code(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite(expires="2d")
    runner.clock.advance(days=2, seconds=1)
    phone = phone_factory(language_code="fr")
    [reply] = await phone.send(f"/start {code}")
    assert reply.text == tr("fr", "This invitation has expired. Ask your coordinator for a new "
                                  "link.")


async def test_used_code_and_multi_use_code(runner: BotRunner, phone_factory) -> None:
    single = await runner.invite()
    first, second = phone_factory("Awa"), phone_factory("Binta")
    await first.send(f"/start {single}")
    await first.press("Français")
    await first.press("✅")
    [reply] = await second.send(f"/start {single}")
    assert reply.text == tr("fr", "This invitation has already been used. Ask your coordinator "
                                  "for a new link.")

    workshop = await runner.invite(uses=2)
    for name in ("Cheikh", "Diarra"):
        phone = phone_factory(name)
        await phone.send(f"/start {workshop}")
        await phone.press("Français")
        await phone.press("✅")
    late = phone_factory("Eva")
    [reply] = await late.send(f"/start {workshop}")
    assert reply.text == tr("fr", "This invitation has already been used. Ask your coordinator "
                                  "for a new link.")


async def test_single_use_code_opened_by_two_people_enrols_one(runner: BotRunner,
                                                                phone_factory) -> None:
    code = await runner.invite()
    first, second = phone_factory("Awa"), phone_factory("Binta")
    for phone in (first, second):
        await phone.send(f"/start {code}")
        await phone.press("Français")
    await first.press("✅")
    answered = await second.press("✅")
    assert answered[-1].text == tr("fr", "This invitation is no longer valid. Ask your "
                                         "coordinator for a new link.")
    assert await runner.store.members.by_telegram_id(second.user_id) is None


async def test_too_many_wrong_codes_are_refused_for_a_while(runner: BotRunner,
                                                            phone_factory) -> None:
    good = await runner.invite()
    phone = phone_factory(language_code="en")
    for attempt in range(5):
        [reply] = await phone.send(f"/start WRONG-C0DE-{attempt:04d}-XX")
        assert "don't know" in reply.text
    [reply] = await phone.send(f"/start {good}")  # even a good code waits now
    assert reply.text == tr("en", "Too many wrong codes. Please try again in {delay}, or ask your "
                                  "coordinator for a new link.", delay="1 hour")
    runner.clock.advance(hours=1, seconds=1)
    [reply] = await phone.send(f"/start {good}")
    assert reply.text == tr("en", "Welcome to Palabre! Which language do you prefer?")


async def test_consent_declined_keeps_nothing(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite()
    phone = phone_factory(language_code="es")
    await phone.send(f"/start {code}")
    await phone.press("Español")
    answered = await phone.press(tr("es", "No, thanks"))
    assert answered[-1].text == (tr("es", "No problem: nothing about you was kept.") + " "
                                 + tr("es", "If you change your mind, open the invitation link "
                                            "again."))
    assert await runner.store.onboarding.get(phone.user_id) is None
    assert await runner.store.members.by_telegram_id(phone.user_id) is None
    # Not even the raw messages, which held the person's name.
    held = await runner.store.db.fetchval(
        "SELECT COUNT(*) FROM inbox WHERE payload LIKE ?", ('%"Aminata"%',))
    assert held == 0
    # The code was not used up: the person can still join later.
    await phone.send(f"/start {code}")
    await phone.press("Español")
    await phone.press("✅")
    assert await runner.store.members.by_telegram_id(phone.user_id) is not None


async def test_resume_where_onboarding_stopped(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite()
    phone = phone_factory(language_code="pt-BR")
    await phone.send(f"/start {code}")
    await phone.press("Português (Brasil)")
    await runner.restart()
    [again] = await phone.send("olá")
    assert tr("pt_BR", "Do you agree?") in again.text
    answered = await phone.press("✅")
    assert tr("pt_BR", "Welcome, {name}!", name="Aminata") in answered[-1].text


async def test_administrator_joins_without_code(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory("Sophie", user_id=ADMIN_ID, language_code="fr")
    [prompt] = await phone.send("/start")
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")
    await phone.press("Français")
    await phone.press("✅")
    member = await runner.store.members.by_telegram_id(ADMIN_ID)
    assert member is not None and member.role == "admin"


async def test_returning_member_and_second_invitation(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory("Claire", language_code="fr")
    code = await runner.invite("coordinator", "eau-ziguinchor", org="rennes")
    await phone.send(f"/start {code}")
    await phone.press("Français")
    await phone.press("✅")
    [welcome] = await phone.send("/start")
    assert tr("fr", "Welcome back, {name}!", name="Claire") in welcome.text
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None
    assert [p.slug for p in await runner.store.members.projects(member.id)] == ["eau-ziguinchor"]
    # A second invitation for the same role and organisation adds its project.
    second = await runner.invite("coordinator", "ecoles-cusco", org="rennes")
    [welcome] = await phone.send(f"/start {second}")
    assert "Écoles bilingues à Cusco" in welcome.text
    slugs = [p.slug for p in await runner.store.members.projects(member.id)]
    assert slugs == ["eau-ziguinchor", "ecoles-cusco"]


async def test_change_language_at_the_consent_step(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite()
    phone = phone_factory(language_code="fr")
    await phone.send(f"/start {code}")
    await phone.press("Français")
    [back] = await phone.press("🌐")
    assert back.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")
    answered = await phone.press("English")
    assert "Do you agree?" in answered[-1].text
    answered = await phone.press("✅")
    assert "Welcome, Aminata!" in answered[-1].text


async def test_declared_member_who_declines_is_told_to_send_start(runner: BotRunner,
                                                                   phone_factory) -> None:
    phone = phone_factory("Sophie", user_id=ADMIN_ID, language_code="en")
    await phone.send("/start")
    await phone.press("English")
    answered = await phone.press("No, thanks")
    assert answered[-1].text.endswith("If you change your mind, send /start.")
    assert await runner.store.members.by_telegram_id(ADMIN_ID) is None


async def test_member_opening_invitations_again(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory("Awa", language_code="en")
    own = await runner.invite("partner", "eau-ziguinchor")
    await phone.send(f"/start {own}")
    await phone.press("English")
    await phone.press("✅")
    # Their own link again: simply back in, no complaint.
    replies = await phone.send(f"/start {own}")
    assert [r.text.splitlines()[0] for r in replies] == ["Welcome back, Awa!"]
    # A coordinator's invitation is not for them: not used, and they are told.
    other = await runner.invite("coordinator", "ecoles-cusco", org="cusco")
    replies = await phone.send(f"/start {other}")
    assert replies[0].text.startswith("This invitation is for another role or organisation")
    # A member's typed text is never read as a code (only visitors' is).
    replies = await phone.send(other)
    assert not any("invitation" in r.text for r in replies)
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None
    assert [p.slug for p in await runner.store.members.projects(member.id)] == ["eau-ziguinchor"]
    stranger = phone_factory("Rosa", language_code="es")
    await stranger.send(f"/start {other}")  # still usable by the person it was meant for
    await stranger.press("Español")
    await stranger.press("✅")
    assert await runner.store.members.by_telegram_id(stranger.user_id) is not None
    # Wrong codes count against members too.
    for _ in range(5):
        replies = await phone.send("/start ZZZZ-ZZZZ-ZZZZ-ZZ")
        assert replies[0].text.startswith("I don't know this invitation code")
    replies = await phone.send("/start ZZZZ-ZZZZ-ZZZZ-ZZ")
    assert replies[0].text.startswith("Too many wrong codes.")
