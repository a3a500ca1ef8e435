"""WhatsApp's processor on a real database, with a recording client: messages read as WhatsApp
people type them, handled once and in order per person, marked with their writes, failures
recorded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

import handlers
from bot.channels.whatsapp import render
from bot.channels.whatsapp.client import WhatsAppClient
from bot.channels.whatsapp.events import WebhookEvent
from bot.channels.whatsapp.processor import WhatsAppProcessor
from bot.config import Settings
from bot.core import addresses
from bot.core.callbacks import AccountLanguage
from bot.core.events import Choice, Command, Text
from bot.core.replies import Button, Outcome, Reply
from bot.i18n import use_language
from bot.services import Services
from tests.auxil.texts import tr

AWA, BINTA = "221770000001", "5581990000002"


class Client:
    """Records what would be sent; fails when told to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def send(self, to: str, kind: str, content: dict[str, Any], *,
                   reply_to: str | None = None) -> str:
        self.sent.append((to, kind, content))
        return f"wamid.OUT{len(self.sent)}"

    def texts(self, to: str) -> list[str]:
        return [c.get("body") or c.get("body", {}).get("text", "")
                if kind == "text" else c["body"]["text"]
                for who, kind, c in self.sent if who == to]


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    svc = Services(Settings.model_validate({"telegram_token": "1:x",
                                            "database": tmp_path / "p.db"}))
    await svc.open()
    yield svc
    await svc.close()


@pytest.fixture
async def client() -> Client:
    return Client()


@pytest.fixture
async def processor(services: Services, client: Client) -> AsyncIterator[WhatsAppProcessor]:
    proc = WhatsAppProcessor(services, cast(WhatsAppClient, client))
    await proc.start()
    yield proc
    await proc.stop()


def _text(wa_id: str, wamid: str, body: str, at: int = 1772546700) -> WebhookEvent:
    payload = {"from": wa_id, "id": wamid, "timestamp": str(at), "type": "text",
               "text": {"body": body}, "profile_name": "Awa"}
    return WebhookEvent(wamid, "message", wa_id, at, json.dumps(payload))


async def _settled(processor: WhatsAppProcessor, services: Services,
                   *wamids: str) -> list[str | None]:
    async def done() -> list[str | None]:
        while True:
            statuses = [await services.store.whatsapp.status(w) for w in wamids]
            busy = any(processor.busy_with(w) for w in (AWA, BINTA))
            if not busy and all(s in ("handled", "failed") for s in statuses):
                return statuses
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(done(), 10)


def test_person_ids_on_two_channels() -> None:
    person = addresses.whatsapp_person(AWA)
    assert person == -221770000001 and addresses.channel_of(person) == "whatsapp"
    assert addresses.wa_id_of(person) == AWA
    assert addresses.channel_of(123456789) == "telegram"
    with pytest.raises(ValueError, match="Telegram"):
        addresses.wa_id_of(123456789)
    for wrong in ("", "0221", "1" * 16, "22177abc", "٢٢١"):
        assert not addresses.is_wa_id(wrong)
    assert addresses.whatsapp_person("9" * 15) > -(2 ** 63)  # fits SQLite's integers
    assert [addresses.language_of_number(n) for n in
            (AWA, BINTA, "258840000000", "51900000000", "447700900000", "999")] == [
        "fr", "pt-BR", "pt", "es", "en", None]


async def test_commands_typed_without_the_slash(processor: WhatsAppProcessor) -> None:
    async def read(body: str) -> object:
        return await processor.read(AWA, _text(AWA, "wamid.X", body).payload)

    for typed in ("report", "Report", " report ", "/report"):
        event = await read(typed)
        assert isinstance(event, Command) and event.name == "report", typed
    assert "report" in handlers.command_names()
    event = await read("/report R-2026-000001")
    assert isinstance(event, Command) and event.args == ("R-2026-000001",)
    # A sentence that starts with a command's name, and an unknown word, stay texts.
    for typed in ("report was late", "hello", "rapport"):
        event = await read(typed)
        assert isinstance(event, Text) and event.body == typed
    assert await processor.read(AWA, None) is None  # its payload deleted by /forget


def _numbered_reply(question: str, codes: list[str]) -> Reply:
    """A reply with more choices than a list holds: sent as numbered lines."""
    return Reply(question, buttons=tuple((Button(f"Choice {i}", AccountLanguage(code)),)
                                         for i, code in enumerate(codes, start=1)))


async def test_a_number_typed_answers_a_numbered_choice(processor: WhatsAppProcessor,
                                                        client: Client) -> None:
    languages = ["fr", "en", "pt", "pt_BR", "es"] * 3  # more than a list holds: numbered
    await processor.send_reply(AWA, _numbered_reply("Which one?", languages))
    assert "12. Choice 12" in client.texts(AWA)[-1]
    event = await processor.read(AWA, _text(AWA, "wamid.Y", "4").payload)
    assert isinstance(event, Choice) and event.data == AccountLanguage("pt_BR").pack()
    # Someone else's number is theirs: a number typed by another person stays a text.
    assert isinstance(await processor.read(BINTA, _text(BINTA, "wamid.Z", "4").payload), Text)


def _quoting(wa_id: str, wamid: str, body: str, quoted: str) -> WebhookEvent:
    """A text typed in reply to (quoting) the message `quoted`."""
    payload = {"from": wa_id, "id": wamid, "timestamp": "1772546700", "type": "text",
               "text": {"body": body}, "context": {"id": quoted}}
    return WebhookEvent(wamid, "message", wa_id, 1772546700, json.dumps(payload))


async def test_numbered_choices_survive_a_restart_and_an_older_offer_is_refused(
        services: Services, client: Client) -> None:
    first = WhatsAppProcessor(services, cast(WhatsAppClient, client))
    await first.send_reply(AWA, _numbered_reply("Which one?", ["fr"] * 11))
    [older] = [f"wamid.OUT{len(client.sent)}"]
    await first.send_reply(AWA, _numbered_reply("And now?", ["en", "es", "pt"] * 4))
    [latest] = [f"wamid.OUT{len(client.sent)}"]
    # A new processor (a restart: nothing kept in memory) reads the number from the store.
    second = WhatsAppProcessor(services, cast(WhatsAppClient, client))
    event = await second.read(AWA, _text(AWA, "wamid.N1", "2").payload)
    assert isinstance(event, Choice) and event.data == AccountLanguage("es").pack()
    event = await second.read(AWA, _quoting(AWA, "wamid.N2", "2", latest).payload)
    assert isinstance(event, Choice) and event.data == AccountLanguage("es").pack()
    # Typed in reply to the older offer (or to a message the bot never sent): refused like a
    # stale button, nothing changed.
    await second.start()
    try:
        for n, quoted in enumerate((older, "wamid.FORGED")):
            wamid = f"wamid.S{n}"
            await second.record([_quoting(AWA, wamid, "2", quoted)])
            assert await _settled(second, services, wamid) == ["handled"]
            assert client.texts(AWA)[-1] == tr("fr", "This button has expired. Nothing was "
                                                     "changed.")
    finally:
        await second.stop()
    assert await services.store.members.by_telegram_id(-int(AWA)) is None
    # The next reply with other choices replaces the offer: the number is a text again.
    await second.send_reply(AWA, Reply("Sure?", buttons=((Button("Yes", AccountLanguage("fr")),),)))
    assert isinstance(await second.read(AWA, _text(AWA, "wamid.N3", "2").payload), Text)


async def test_handled_once_in_order_per_person(processor: WhatsAppProcessor,
                                                services: Services, client: Client) -> None:
    events = [_text(AWA, "wamid.A1", "help", 100), _text(BINTA, "wamid.B1", "help", 101),
              _text(AWA, "wamid.A2", "bonjour", 102)]
    assert await processor.record(events) == 3
    assert await processor.record(events[:1]) == 0  # Meta sending it again: recorded once
    assert await _settled(processor, services, "wamid.A1", "wamid.B1", "wamid.A2") == [
        "handled"] * 3
    assert processor.handled == 3
    # Each in the language of their number's country, Awa's in the order she wrote: the
    # help first (a visitor's), then the answer to a text no flow takes.
    with use_language("fr"):
        awa_help = (await services.account.help(None)).replies
    with use_language("pt_BR"):
        binta_help = (await services.account.help(None)).replies
    assert client.texts(AWA)[0] == render.text_of(awa_help[0].text)
    assert client.texts(BINTA)[0] == render.text_of(binta_help[0].text)
    assert len(client.texts(AWA)) > len(awa_help)
    count = len(client.sent)
    processor.wake()
    await _settled(processor, services, "wamid.A1")
    assert len(client.sent) == count and processor.handled == 3  # nothing handled twice


async def test_a_failure_is_recorded_and_the_person_told(
        processor: WhatsAppProcessor, services: Services, client: Client,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(event: object, ctx: object) -> Outcome:
        async with services.store.transaction():  # a write, undone with the failure
            await services.store.kv.set("half-done", "x")
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers, "dispatch", broken)
    await processor.record([_text(AWA, "wamid.F1", "help")])
    assert await _settled(processor, services, "wamid.F1") == ["failed"]
    error = await services.store.db.fetchval(
        "SELECT error FROM wa_inbox WHERE event_id = 'wamid.F1'")
    assert error == "RuntimeError: boom"
    assert await services.store.kv.get("half-done") is None
    assert client.texts(AWA) == [tr("fr", "Sorry, something went wrong on our side and this "
                                          "message was not saved. Please send it again in a "
                                          "moment.")]


async def test_closed_events_and_old_statuses_are_pruned(processor: WhatsAppProcessor,
                                                         services: Services) -> None:
    store = services.store
    status = WebhookEvent("wamid.OUT1:sent", "status", "", 100, "{}")
    await processor.record([_text(AWA, "wamid.P1", "help"), status])
    assert await _settled(processor, services, "wamid.P1") == ["handled"]
    await processor.stop()  # P2 stays pending
    later = services.clock() + timedelta(days=31)
    await store.whatsapp.record([_text(AWA, "wamid.P2", "help")], later)
    assert await store.whatsapp.prune(services.clock() + timedelta(days=1)) == 2
    rows = await store.db.fetchall("SELECT event_id, status FROM wa_inbox")
    assert [(r[0], r[1]) for r in rows] == [("wamid.P2", "pending")]
