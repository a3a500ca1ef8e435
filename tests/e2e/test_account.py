"""Every member's commands, visitors, and what happens with odd or hostile input."""

from __future__ import annotations

import json

from bot.emulator import BotApiEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner
from tests.auxil.texts import tr


async def test_help_is_role_aware(runner: BotRunner, phone_factory) -> None:
    partner = phone_factory("Awa")
    await join(runner, partner)
    [reply] = await partner.send("/help")
    assert tr("fr", "You are {role} in Palabre. Here is what you can do:",
              role=tr("fr", "partner")) in reply.text
    assert "/mydata" in reply.text and "/forget" in reply.text

    observer = phone_factory("Marc", language_code="en")
    await join(runner, observer, role="observer", language="en")
    [reply] = await observer.send("/help")
    assert reply.text.startswith("You are observer in Palabre.")


async def test_menu_buttons_lead_to_commands(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory()
    await join(runner, phone)
    [reply] = await phone.send(tr("fr", "❓ Help"))
    assert "/language" in reply.text
    [reply] = await phone.send(tr("fr", "🌐 Language"))
    assert reply.text == tr("fr", "Which language do you prefer?")


async def test_change_language(runner: BotRunner, phone_factory, emulator: BotApiEmulator) -> None:
    phone = phone_factory()
    await join(runner, phone)
    await phone.send("/language")
    answered = await phone.press("English")
    assert answered[0].text == "Language: English"
    assert phone.menu() == ["📝 Report", "📋 My reports", "📊 Summary",
                            "🗞 Latest reports", "📋 Questionnaires", "❓ Help", "🌐 Language",
                            "🗂 My data"]
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.language == "en"
    commands = emulator.commands(scope={"type": "chat", "chat_id": phone.user_id})
    assert commands[1]["description"] == "What I can do for you"
    # A language that does not exist, forged: nothing changes.
    await phone.forge("ac:l:xx")
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.language == "en"
    assert phone.toasts == ["This button has expired. Nothing was changed."]


async def test_switch_between_the_two_portuguese(runner: BotRunner, phone_factory) -> None:
    """A Mozambican on a Brazilian phone, or the other way round, picks their own Portuguese:
    /language offers both, and each then reads as itself, menu and dates included."""
    phone = phone_factory("Celso", language_code="pt-br")
    await join(runner, phone, language="pt_BR")
    [prompt] = await phone.send("/language")
    assert [label.removeprefix("✓ ") for label in prompt.button_texts] == [
        "Français", "English", "Português", "Português (Brasil)", "Español"]
    assert "✓ Português (Brasil)" in prompt.button_texts
    [_, menu] = await phone.press("Português", prompt)
    assert menu.text == "A partir de agora, escrevo-lhe neste idioma."
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.language == "pt"
    [reply] = await phone.send("/help")
    assert "Eis o que pode fazer" in reply.text and "você" not in reply.text
    # A menu label of the other Portuguese still works (a keyboard left on the phone).
    [reply] = await phone.send(tr("pt_BR", "❓ Help"))
    assert "/language" in reply.text
    await phone.send("/language")
    await phone.press("Português (Brasil)")
    [reply] = await phone.send("/help")
    assert "Veja o que você pode fazer" in reply.text


async def test_stop_then_start_again(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory()
    await join(runner, phone)
    [reply] = await phone.send("/stop")
    assert "/start" in reply.text
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.status == "stopped"
    replies = await phone.send("/start")
    assert replies[0].text == tr("fr", "Reminders and announcements are on again.")
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None and member.status == "active"


async def test_mydata_sends_a_text_to_read_and_a_json_document(
        runner: BotRunner, phone_factory, emulator: BotApiEmulator) -> None:
    phone = phone_factory("Aminata", username="aminata_z")
    await join(runner, phone)
    [readable, reply] = await phone.send("/mydata")
    # To read first: in the person's language and time zone, names instead of numbers.
    assert readable.kind == "document" and readable.file_name == "palabre-my-data.txt"
    text = emulator.file_bytes(readable.file_ids[0]).decode()
    assert text.startswith(tr("fr", "What Palabre keeps about you, {name}", name="Aminata"))
    assert "Compte Telegram : @aminata_z" in text
    assert "Organisation : Commune de Ziguinchor" in text
    assert "Accès à l'eau potable à Ziguinchor" in text
    assert "Accord donné le : 3 mars 2026, 14:05" in text  # Dakar: UTC+0
    assert "Fuseau horaire : Africa/Dakar" in text
    assert reply.kind == "document"
    assert reply.file_name == "palabre-my-data.json"
    data = json.loads(emulator.file_bytes(reply.file_ids[0]))
    assert data["member"]["display_name"] == "Aminata"
    assert data["member"]["username"] == "aminata_z"
    assert data["member"]["telegram_user_id"] == phone.user_id
    assert data["organisation"]["slug"] == "ziguinchor"
    assert data["projects"][0]["id"] == "eau-ziguinchor"
    assert data["member"]["consent_at"].startswith("2026-03-03T14:05")
    assert "id" not in data["member"] and "organisation_id" not in data["member"]


async def test_forget_deidentifies_and_keeps_the_row(runner: BotRunner, phone_factory,
                                                     emulator: BotApiEmulator) -> None:
    phone = phone_factory("Aminata")
    await join(runner, phone)
    member = await runner.store.members.by_telegram_id(phone.user_id)
    assert member is not None
    [_prompt] = await phone.send("/forget")
    answered = await phone.press(tr("fr", "No"))
    assert answered[0].text == tr("fr", "Nothing was deleted.")
    await phone.send("/forget")
    answered = await phone.press(tr("fr", "Yes, delete"))
    assert answered[-1].text == tr("fr", "To come back one day, open a new invitation link.")
    assert phone.menu() == []
    kept = await runner.store.members.by_id(member.id)
    assert kept is not None
    assert (kept.status, kept.telegram_user_id, kept.display_name, kept.consent_at) == (
        "forgotten", None, None, None)
    assert [p.slug for p in await runner.store.members.projects(member.id)] == ["eau-ziguinchor"]
    # Raw updates held names and texts: they are gone too.
    rows = await runner.store.db.fetchall(
        "SELECT payload FROM inbox WHERE payload LIKE ?", ('%"Aminata"%',))
    assert rows == []
    assert emulator.commands(scope={"type": "chat", "chat_id": phone.user_id}) == []
    # Afterwards they are a visitor again.
    [reply] = await phone.send("/mydata")
    assert "invitation" in reply.text


async def test_cancel(runner: BotRunner, phone_factory) -> None:
    code = await runner.invite()
    phone = phone_factory()
    await phone.send(f"/start {code}")
    [reply] = await phone.send("/cancel")
    assert reply.text == tr("fr", "Cancelled. Open your invitation link again when you are ready.")
    assert await runner.store.onboarding.get(phone.user_id) is None
    [reply] = await phone.send("/cancel")
    assert reply.text == tr("fr", "There is nothing to cancel.")


async def test_visitors_are_told_how_to_join(runner: BotRunner, phone_factory,
                                             emulator: BotApiEmulator) -> None:
    phone = phone_factory(language_code="es")
    for text in ("/start", "hola", "/mydata", "/stop", "/forget", "/help"):
        replies = await phone.send(text)
        assert replies, text
        assert "7KQM-2XRT-9HVB-4D" in replies[0].text, text
    update_id = emulator.send_photo(phone.user_id, b"\x89PNG fake", caption="photo")
    await runner.handled(update_id)
    [event] = [e for e in emulator.drain_events(phone.user_id) if e.kind == "send"]
    assert event.message is not None and "7KQM-2XRT-9HVB-4D" in event.message.text
    assert await runner.store.members.by_telegram_id(phone.user_id) is None


async def test_unknown_command(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory(language_code="en")
    await join(runner, phone, language="en")
    [reply] = await phone.send("/frobnicate now")
    assert reply.text == "I don't know the command /frobnicate. Send /help to see what I can do."


HOSTILE = [
    "<b",
    "a & b <i>not closed",
    "</b>&amp;&lt;&#x1F600;<script>alert(1)</script>",
    "\u202eRTL override \u200f\u0645\u0631\u062d\u0628\u0627 zero\u200bwidth\u200d\ufeff",
    "x" * 5000,
    "🙂" * 3000,
]


async def test_hostile_text_is_answered_safely(runner: BotRunner, phone_factory,
                                               emulator: BotApiEmulator) -> None:
    phone = phone_factory("<b>Eve & co</b>", language_code="en")
    # An observer: free text is not a field update for them, so each text gets an answer.
    await join(runner, phone, role="observer", org="rennes", language="en")
    for text in HOSTILE:
        [reply] = await phone.send(text)
        assert reply.text == "I did not understand. Use the buttons below or send /help."
        [reply] = await phone.send("/cmd" + text)
        # Echoed as typed (cut to 64 characters), never interpreted as markup.
        command = ("/cmd" + text).split()[0][:64]
        assert reply.text == (f"I don't know the command {command}. "
                              "Send /help to see what I can do.")
    # The hostile name is shown as typed, not interpreted.
    [welcome] = await phone.send("/start")
    assert "Welcome back, <b>Eve & co</b>!" in welcome.text
    assert all(call.status == 200 for call in emulator.calls if call.method == "sendMessage")


async def test_hostile_text_from_visitors(runner: BotRunner, phone_factory) -> None:
    phone = phone_factory("\u202e<i>", language_code=None)
    for text in HOSTILE:
        assert await phone.send(text)
        assert await phone.send(f"/start {text}")


async def test_hostile_text_from_a_partner_is_kept_verbatim(runner: BotRunner, phone_factory,
                                                            emulator: BotApiEmulator) -> None:
    phone = phone_factory("Eve", language_code="en")
    await join(runner, phone, language="en")
    [question] = await phone.send(HOSTILE[2])
    assert question.text.startswith("Send this as a field update for")
    for text in HOSTILE[3:]:
        [added] = await phone.send(text)
        assert added.text == "📎 Added to your field update."
    [receipt] = await phone.press("Send")
    assert "F-2026-000001" in receipt.text
    report = await runner.store.reports.by_reference("F-2026-000001")
    assert report is not None
    version_id, _ = await runner.store.reports.latest_version(report.id)
    bodies = [a.body for a in await runner.store.reports.version_attachments(version_id)]
    assert bodies == HOSTILE[2:]
