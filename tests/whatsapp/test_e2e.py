"""WhatsApp end to end: the real application (`serve`, as `palabre run`) with
`PALABRE_WHATSAPP_TOKEN` set, Telegram's Bot API emulator and the WhatsApp Cloud API emulator
calling the bot's webhook. A partner joins with a typed code, reports, and their coordinator on
Telegram gets the review card."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import media_fetcher, whatsapp_channel
from bot.channels.whatsapp import signature
from bot.config import Settings
from bot.core import invitations
from bot.emulator import BotApiEmulator
from bot.emulator.whatsapp import WhatsAppEmulator
from tests.auxil.members import join
from tests.auxil.runner import BotRunner, FakeClock
from tests.auxil.texts import tr
from tests.auxil.whatsapp import WaPhone, running_with_whatsapp

AWA = "221770000001"  # a Senegalese number: French is proposed
NETWORK = """
collectivities:
  - {id: rennes, name: Ville de Rennes, country: FR, timezone: Europe/Paris}
partners:
  - {id: ziguinchor, name: Commune de Ziguinchor, country: SN, timezone: Africa/Dakar}
projects:
  - id: puits
    name: Puits de Ziguinchor
    country: SN
    timezone: Africa/Dakar
    collectivities: [rennes]
    partners: [ziguinchor]
    cadence: "FREQ=MONTHLY;BYMONTHDAY=25"
    indicators:
      - {code: wells, name: Puits réhabilités, type: integer, target: 12, min: 0, max: 200}
"""


@pytest.fixture
async def wa() -> AsyncIterator[WhatsAppEmulator]:
    emulator = WhatsAppEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def runner(tmp_path: Path, emulator: BotApiEmulator, wa: WhatsAppEmulator,
                 clock: FakeClock) -> AsyncIterator[BotRunner]:
    async with running_with_whatsapp(tmp_path, emulator, wa, clock, NETWORK) as bot:
        yield bot


async def _rows(runner: BotRunner) -> list[tuple[str, str]]:
    rows = await runner.store.db.fetchall(
        "SELECT event_id, status FROM wa_inbox WHERE kind = 'message' ORDER BY rowid")
    return [(str(r[0]), str(r[1])) for r in rows]


async def test_a_partner_joins_and_reports_on_whatsapp(
        runner: BotRunner, wa: WhatsAppEmulator, emulator: BotApiEmulator,
        phone_factory) -> None:
    coordinator = phone_factory("Claire", language_code="fr")
    await join(runner, coordinator, role="coordinator", project="puits", org="rennes")
    emulator.drain_events(coordinator.user_id)
    awa = WaPhone(runner, wa, AWA, "Awa Diop")

    # The invitation's wa.me link opens the chat with the code typed; the person sends it.
    # French is proposed from +221.
    code = await runner.invite("partner", "puits")
    link = urlsplit(invitations.whatsapp_link("+1 555-000-0000", code))
    [typed] = parse_qs(link.query)["text"]
    [prompt] = await awa.send(typed)
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")
    titles = [title for _, title in prompt.choices]
    assert len(titles) == 5 and titles[0] == "Français ✓"  # five languages: a list
    answered = await awa.choose("Français")
    assert answered[0].text == tr("fr", "Language: {language}", language="Français")
    assert tr("fr", "Do you agree?") in answered[-1].text
    answered = await awa.choose("✅")
    assert tr("fr", "Welcome, {name}!", name="Awa Diop") in answered[-1].text
    member = await runner.store.members.by_telegram_id(-int(AWA))
    assert member is not None
    assert (member.role, member.language, member.status) == ("partner", "fr", "active")

    # "report" typed without its slash is the command.
    [period] = await awa.send("report")
    assert "Puits de Ziguinchor" in period.text
    answered = await awa.choose("✓")
    assert answered[-1].text.startswith("1/1 · *Puits réhabilités*")  # WhatsApp's bold
    [narrative] = await awa.send("7")
    assert narrative.text == tr("fr", "In a few words, how did the period go? Write it, or "
                                      "send a voice note.")
    answered = await awa.choose(tr("fr", "Skip"))
    answered = await awa.choose("✅")
    assert "• Puits réhabilités : 7" in answered[-1].text
    [receipt] = await awa.choose(tr("fr", "Send"))
    assert receipt.text.startswith("✅ Rapport R-2026-000001 reçu le 3 mars 2026 à 14:05.")

    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "submitted"
    assert report.member_id == member.id
    version_id, _narrative = await runner.store.reports.latest_version(report.id)
    values = await runner.store.reports.version_values(version_id)
    assert [float(v) for v in values.values()] == [7.0]
    # The coordinator, on Telegram, gets the review card.
    card = emulator.last_message(coordinator.user_id)
    assert card is not None and "R-2026-000001" in card.text and "Awa Diop" in card.text
    # Accepting it on Telegram tells the partner on WhatsApp.
    await coordinator.press("Accepter", card)
    note = wa.last_message(AWA)
    assert note is not None and note.text.startswith("✅ ") and "Claire" in note.text
    assert "R-2026-000001" in note.text
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None and report.status == "accepted"
    assert all(status == "handled" for _, status in await _rows(runner))


async def test_a_webhook_delivered_twice_is_handled_once(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    code = await runner.invite("partner", "puits")
    wa.duplicate_next = 1
    [prompt] = await awa.send(code)  # the language question, asked once
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")
    bodies = [json.dumps(body) for body, status in wa.deliveries  # statuses left aside
              if status == 200 and "messages" in body["entry"][0]["changes"][0]["value"]]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # Meta sent it twice, both accepted
    assert len(await _rows(runner)) == 1  # recorded once
    assert awa.processor.handled == 1
    assert wa.messages(AWA) == [prompt]


async def test_a_wrongly_signed_post_changes_nothing(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    code = await runner.invite("partner", "puits")
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "contacts": [{"profile": {"name": "Awa"}, "wa_id": AWA}],
            "messages": [{"from": AWA, "id": "wamid.FORGED", "timestamp": "1772546700",
                          "type": "text", "text": {"body": code}}]}}]}]}).encode()
    assert wa.webhook_url is not None
    async with aiohttp.ClientSession() as session:
        for headers in ({signature.HEADER: signature.sign(body, "not-the-app-secret")}, {}):
            async with session.post(wa.webhook_url, data=body, headers=headers) as response:
                assert response.status == 401
    assert await runner.store.whatsapp.count() == 0
    assert await runner.store.onboarding.get(-int(AWA)) is None
    # Nothing was sent, and the same code still works when the person really sends it.
    assert wa.messages(AWA) == []
    [prompt] = await awa.send(code)
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")


def test_whatsapp_is_served_only_when_its_token_is_set(settings: Settings) -> None:
    from bot.app import build_application
    from bot.config import ConfigError

    assert whatsapp_channel(build_application(settings)) is None
    # Enabled but incomplete: a one-line error before anything starts.
    incomplete = settings.model_copy(update={"whatsapp_token": SecretStr("t")})
    with pytest.raises(ConfigError, match="PALABRE_WHATSAPP_APP_SECRET"):
        build_application(incomplete)


async def test_forget_leaves_no_number_in_the_files(runner: BotRunner,
                                                    wa: WhatsAppEmulator) -> None:
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    await awa.send("Le puits de Lyndiane est réparé")  # a field update
    needles = {"number": AWA.encode(), "name": b"Awa Diop",
               "id as an SQLite integer": (-int(AWA)).to_bytes(6, "big", signed=True)}

    def found() -> list[str]:
        database = runner.settings.database
        hits = []
        for suffix in ("", "-wal"):
            path = database.with_name(database.name + suffix)
            data = path.read_bytes() if path.exists() else b""
            hits += [f"{label} in {path.name}" for label, needle in needles.items()
                     if needle in data]
        return hits

    assert found()  # the test can see them before
    await awa.send("forget")
    await awa.choose(tr("fr", "Yes, delete"))
    assert found() == []
    assert await runner.store.members.by_telegram_id(-int(AWA)) is None


async def test_an_announcement_never_goes_to_telegram_for_a_whatsapp_member(
        runner: BotRunner, wa: WhatsAppEmulator, emulator: BotApiEmulator,
        phone_factory) -> None:
    from bot.core.announcements import Audience

    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    claire = phone_factory("Claire", language_code="fr")
    await join(runner, claire, role="partner", project="puits")
    emulator.drain_events(claire.user_id)
    _id, count = await runner.services.announcements.publish_new(
        author=None, text="Réunion mardi", versions={},
        audience=Audience({"project": ("puits",)}), ack=False, send_at=None, now=runner.clock())
    assert count == 2

    async def settled() -> dict[int, tuple[str, str | None]]:
        while True:
            rows = await runner.store.db.fetchall("SELECT chat_id, state, error FROM outbox")
            if rows and all(r[1] not in ("pending", "sending") for r in rows):
                return {int(r[0]): (str(r[1]), r[2]) for r in rows}
            await asyncio.sleep(0.02)

    states = await asyncio.wait_for(settled(), 10)
    # On Telegram a negative id names a group: Awa's row goes to WhatsApp's sender, which
    # sends it on WhatsApp (her window is open: a message), and nothing goes to Telegram.
    assert states == {claire.user_id: ("sent", None), -int(AWA): ("sent", None)}
    assert "Réunion mardi" in emulator.messages(claire.user_id)[-1].text
    assert "Réunion mardi" in wa.messages(AWA)[-1].text
    assert emulator.messages(-int(AWA)) == []


async def test_a_message_recorded_before_a_stop_is_handled_at_the_next_start(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    from bot.channels.whatsapp.events import read_notification
    from storage import Store

    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    code = await runner.invite("partner", "puits")
    await runner.stop()
    # Recorded by the webhook (the 200 sent), then the process stopped before handling it.
    notification = {"object": "whatsapp_business_account", "entry": [{"changes": [{
        "field": "messages", "value": {
            "contacts": [{"profile": {"name": "Awa Diop"}, "wa_id": AWA}],
            "messages": [{"from": AWA, "id": "wamid.BEFORE", "timestamp": "1772546700",
                          "type": "text", "text": {"body": code}}]}}]}]}
    store = await Store.open(runner.settings.database)
    try:
        assert await store.whatsapp.record(read_notification(notification),
                                           runner.clock()) == 1
    finally:
        await store.close()
    wa.people[AWA].last_inbound = wa.clock()  # the person wrote: the 24-hour window is open
    await runner.start()
    assert runner.app is not None
    channel = whatsapp_channel(runner.app)
    assert channel is not None
    wa.webhook_url = f"http://127.0.0.1:{channel.port}/whatsapp/webhook"
    assert await awa.handled("wamid.BEFORE") == "handled"
    [prompt] = wa.messages(AWA)
    assert prompt.text == tr("fr", "Welcome to Palabre! Which language do you prefer?")


async def _fetched(runner: BotRunner, attachment_id: int) -> tuple[str, str | None, str | None]:
    """Run the media fetcher until the attachment is settled; return (state, sha256, path)."""
    assert runner.app is not None
    fetcher = media_fetcher(runner.app)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        await fetcher.run_once(runner.app.bot)  # returns at once while the job's round runs
        row = await runner.store.db.fetchone(
            "SELECT state, sha256, path FROM attachments WHERE id = ?", (attachment_id,))
        assert row is not None
        if row[0] != "pending":
            return str(row[0]), row[1], row[2]
        if loop.time() > deadline:
            raise TimeoutError(f"attachment {attachment_id} still pending")
        await asyncio.sleep(0.01)


async def test_files_sent_on_whatsapp_are_fetched_into_the_media_store(
        runner: BotRunner, wa: WhatsAppEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    photo = b"\xff\xd8\xff\xe0 a photo of the new pump " + bytes(range(256)) * 8
    await awa._settle(await wa.send_media(AWA, "image", photo, "image/jpeg",
                                          caption="La pompe"))
    [(attachment_id, media_id)] = [
        (int(r[0]), str(r[1])) for r in await runner.store.db.fetchall(
            "SELECT id, file_id FROM attachments WHERE kind = 'photo'")]
    assert media_id in wa.media  # Meta's media id, as the webhook gave it

    state, digest, path = await _fetched(runner, attachment_id)
    assert state == "stored" and digest == hashlib.sha256(photo).hexdigest()
    assert path is not None
    assert (runner.settings.media_dir / path).read_bytes() == photo

    # A file over the size the bot keeps is refused, not retried.
    monkeypatch.setattr(runner.settings, "max_download_mb", 0.001)
    await awa._settle(await wa.send_media(AWA, "document", b"x" * 5000, "application/pdf"))
    [big] = [int(r[0]) for r in await runner.store.db.fetchall(
        "SELECT id FROM attachments WHERE kind = 'document'")]
    state, digest, _path = await _fetched(runner, big)
    assert (state, digest) == ("refused", None)


def _many_projects(count: int) -> str:
    """A network where the partner reports on `count` projects."""
    projects = "".join(
        f"""  - id: p{i:02d}
    name: Projet {i:02d}
    country: SN
    timezone: Africa/Dakar
    collectivities: [rennes]
    partners: [ziguinchor]
    cadence: "FREQ=MONTHLY;BYMONTHDAY=25"
    indicators:
      - {{code: wells{i}, name: Puits {i}, type: integer, min: 0, max: 200}}
""" for i in range(1, count + 1))
    return NETWORK.split("projects:")[0] + "projects:\n" + projects


async def _restart(runner: BotRunner, wa: WhatsAppEmulator) -> None:
    """Stop the bot and start it again (a new process: nothing kept in memory)."""
    await runner.restart()
    assert runner.app is not None
    channel = whatsapp_channel(runner.app)
    assert channel is not None
    wa.webhook_url = f"http://127.0.0.1:{channel.port}/whatsapp/webhook"


async def test_numbered_choices_survive_a_restart(runner: BotRunner, wa: WhatsAppEmulator,
                                                  tmp_path: Path) -> None:
    network = tmp_path / "many.yaml"
    network.write_text(_many_projects(11), encoding="utf-8")
    await runner.load_network(network)
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", [f"p{i:02d}" for i in range(1, 12)]))
    await awa.choose("Français")
    await awa.choose("✅")
    # Eleven projects and Cancel: more than a list holds, numbered lines.
    offer = await awa.send("report")
    assert "7. Projet 07" in offer[-1].text and "12. " in offer[-1].text
    assert offer[-1].choices == []
    await _restart(runner, wa)
    choice, period = await awa.send("7")
    assert choice.text == "✓ Projet 07"  # the choice made, as a press shows it
    assert period.text.startswith("*Projet 07*\n")  # the period of project 7 is asked
    # /forget removes the offer with the rest of the person's state.
    await awa.send("forget")
    await awa.choose(tr("fr", "Yes, delete"))
    assert await runner.store.whatsapp.numbered(AWA) is None


async def _joined_and_at_the_first_number(runner: BotRunner,
                                          wa: WhatsAppEmulator) -> WaPhone:
    """Awa joins, starts a report and is asked its first number."""
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    await awa.send("report")
    answered = await awa.choose("✓")
    assert answered[-1].text.startswith("1/1 · *Puits réhabilités*")
    return awa


async def _draft(runner: BotRunner) -> tuple[list[float], str | None]:
    """The open report draft's numbers and narrative."""
    member = await runner.store.members.by_telegram_id(-int(AWA))
    assert member is not None
    draft = await runner.store.reports.open_draft(member.id, "report")
    assert draft is not None
    values = await runner.store.reports.values(draft.id)
    return [float(v) for v in values.values()], draft.narrative


async def test_a_reply_not_sent_leaves_the_lost_reply_note(
        runner: BotRunner, wa: WhatsAppEmulator) -> None:
    awa = await _joined_and_at_the_first_number(runner, wa)
    narrative_question = tr("fr", "In a few words, how did the period go? Write it, or send "
                                  "a voice note.")
    # The number is saved, but the next question's send fails (Meta's 500: its outcome is
    # unknown, never re-sent).
    wa.fail_next(1, "An unknown error occurred", http_status=500)
    wamid = await wa.send_text(AWA, "7")
    assert await awa.handled(wamid) == "failed"
    assert await _draft(runner) == ([7.0], None)
    assert await runner.store.whatsapp.reply_lost(AWA)
    [told] = wa.messages(AWA)[awa.seen:]
    awa.seen += 1
    assert told.text.startswith(tr("fr", "✅ What you sent is saved, but my answer did not get "
                                         "through. Send any message and I will show you where "
                                         "you are."))
    # Awa never saw the narrative question: her text is not taken as its answer; she is shown
    # what is saved and the question again.
    answered = await awa.send("Tout va bien")
    assert answered[0].text.startswith("⚠️ " + tr(
        "fr", "My last answer may not have reached you. Nothing is lost."))
    assert "Puits réhabilités : 7" in answered[0].text
    assert answered[-1].text == narrative_question
    assert await _draft(runner) == ([7.0], None)
    # Shown and sent: the note is settled, and the text now answers the question.
    assert not await runner.store.whatsapp.reply_lost(AWA)
    answered = await awa.send("Tout va bien")
    assert await _draft(runner) == ([7.0], "Tout va bien")
    assert answered[-1].text != narrative_question


async def test_replies_sent_settle_the_note(runner: BotRunner, wa: WhatsAppEmulator) -> None:
    awa = await _joined_and_at_the_first_number(runner, wa)
    [narrative] = await awa.send("7")  # moved the flow, and its reply was sent
    assert narrative.text == tr("fr", "In a few words, how did the period go? Write it, or "
                                      "send a voice note.")
    row = await runner.store.db.fetchone(
        "SELECT delivered_at FROM wa_pending_replies WHERE wa_id = ?", (AWA,))
    assert row is not None and row[0] is not None
    await awa.send("Tout va bien")
    assert await _draft(runner) == ([7.0], "Tout va bien")


async def test_a_stop_between_recording_and_handling_answers_once(
        runner: BotRunner, wa: WhatsAppEmulator, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers
    from bot.core.events import InboundEvent, Text
    from bot.core.replies import Outcome
    from handlers.routing import Context
    from storage import Store

    network = tmp_path / "two.yaml"
    network.write_text(NETWORK + "      - {code: pumps, name: Pompes installées, type: integer,"
                                 " min: 0, max: 200}\n", encoding="utf-8")
    await runner.load_network(network)
    awa = WaPhone(runner, wa, AWA, "Awa Diop")
    await awa.send(await runner.invite("partner", "puits"))
    await awa.choose("Français")
    await awa.choose("✅")
    await awa.send("report")
    answered = await awa.choose("✓")
    assert answered[-1].text.startswith("1/2 · *Puits réhabilités*")
    answered = await awa.send("7")
    assert answered[-1].text.startswith("2/2 · *Pompes installées*")

    # The second number is recorded (the webhook answered 200) and its handling has written
    # the answer, not yet committed, when the bot is stopped.
    real_dispatch = handlers.dispatch
    reached = asyncio.Event()

    async def dispatch_then_stall(event: InboundEvent, ctx: Context) -> Outcome | None:
        """Handle the message, then wait for the stop before anything is committed or sent."""
        outcome = await real_dispatch(event, ctx)
        if isinstance(event, Text) and event.body == "9":
            reached.set()
            await asyncio.Event().wait()  # until cancelled by the stop
        return outcome

    monkeypatch.setattr(handlers, "dispatch", dispatch_then_stall)
    wamid = await wa.send_text(AWA, "9")
    [recorded] = [body for body, status in wa.deliveries
                  if status == 200 and wamid in json.dumps(body)]
    await asyncio.wait_for(reached.wait(), 10)
    await runner.stop()
    monkeypatch.setattr(handlers, "dispatch", real_dispatch)
    store = await Store.open(runner.settings.database)
    try:
        assert await store.whatsapp.status(wamid) == "pending"  # rolled back, on disk
    finally:
        await store.close()
    assert awa.seen == len(wa.messages(AWA))  # nothing was said about the 9

    await _restart(runner, wa)
    assert await wa.deliver(recorded) == 200  # Meta retrying it meanwhile: recorded once
    assert await awa.handled(wamid) == "handled"
    answered = wa.messages(AWA)[awa.seen:]
    awa.seen += len(answered)
    assert [m.text for m in answered] == [tr("fr", "In a few words, how did the period go? "
                                                   "Write it, or send a voice note.")]
    assert awa.processor.handled == 1  # handled once, by the new process
    # The report ends with the right answers: none stored twice, none shifted.
    assert await _draft(runner) == ([7.0, 9.0], None)
    await awa.send("RAS")
    assert await _draft(runner) == ([7.0, 9.0], "RAS")
    answered = await awa.choose("✅")
    assert "• Puits réhabilités : 7" in answered[-1].text
    assert "• Pompes installées : 9" in answered[-1].text
    [receipt] = await awa.choose(tr("fr", "Send"))
    assert receipt.text.startswith("✅ Rapport R-2026-000001 reçu")
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None
    version_id, narrative = await runner.store.reports.latest_version(report.id)
    values = await runner.store.reports.version_values(version_id)
    assert ([float(v) for v in values.values()], narrative) == ([7.0, 9.0], "RAS")
    assert [status for _, status in await _rows(runner)] == ["handled"] * len(await _rows(runner))


async def test_a_stop_after_the_commit_leaves_the_note_for_the_next_text(
        runner: BotRunner, wa: WhatsAppEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from typing import Any

    awa = await _joined_and_at_the_first_number(runner, wa)
    client = awa.processor.client
    reached = asyncio.Event()

    async def stall(to: str, kind: str, content: dict[str, Any], *,
                    reply_to: str | None = None) -> str:
        """Wait for the stop: the number is committed, the next question never leaves."""
        reached.set()
        await asyncio.Event().wait()
        raise AssertionError("not reached")

    monkeypatch.setattr(client, "send", stall)
    wamid = await wa.send_text(AWA, "7")
    await asyncio.wait_for(reached.wait(), 10)
    await _restart(runner, wa)
    assert await awa.handled(wamid) == "handled"  # committed before the send: not replayed
    assert await _draft(runner) == ([7.0], None)
    assert await runner.store.whatsapp.reply_lost(AWA)
    assert wa.messages(AWA)[awa.seen:] == []
    answered = await awa.send("Tout va bien")  # not the narrative: she never saw its question
    assert answered[0].text.startswith("⚠️ ")
    assert await _draft(runner) == ([7.0], None)
    await awa.send("Tout va bien")
    assert await _draft(runner) == ([7.0], "Tout va bien")
