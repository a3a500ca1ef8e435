"""WhatsApp's processor: the recorded webhook messages handled once, in order per person.

The webhook receiver (`webhook.py`) only records; this processor takes each person's pending
messages from `wa_inbox` oldest first, one at a time per person and people concurrently, reads
each into a neutral event (`events.message_event`, plus what only WhatsApp needs: a command
typed without its slash, a number typed for a numbered choice), asks the features' routers
(`handlers.dispatch`) and sends the outcome (`render.py`, `client.py`).

Exactly once, as Telegram's processor (`bot/channels/telegram/processor.py`): the message's
writes form one unit of work (`Database.begin_unit`) whose commit hook marks the inbox row
`handled` in the same transaction; the unit is committed before the first message leaves, so
nothing is said about work that could still be rolled back. A message whose handling fails is
recorded `failed` with its error and the person told. Statuses of sent messages stay pending
for the outbox's settling (not yet done).

What must survive a restart is kept in the store, per person: the numbered choices offered last
(`wa_numbered_choices`) and the lost-reply note (`wa_pending_replies`: set with the writes of a
message that moves a flow, settled once every reply got its wamid; while not, the person's next
message is handled with `reply_lost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

import handlers
from bot import i18n
from bot.channels.whatsapp import render
from bot.channels.whatsapp.client import WhatsAppClient, WhatsAppError
from bot.channels.whatsapp.events import WebhookEvent, message_event
from bot.core import addresses
from bot.core.events import Choice, Command, InboundEvent, Text
from bot.core.onboarding import expired_button
from bot.core.people import Person
from bot.core.replies import Document, Notice, Outcome, Reply
from bot.i18n import _
from bot.logs import redact
from bot.services import Services
from handlers.routing import Busy, Context
from storage.db import commit_hook
from storage.models import Member

log = logging.getLogger(__name__)
RETRY_PAUSE = 1.0  # seconds before a person's messages are tried again after the store failed

# A notice for a person on another channel (a Telegram coordinator's review card): sent by
# that channel, which the application wires in.
NoticeSender = Callable[[Notice], Awaitable[None]]


class AlreadyHandled(Exception):
    """Another worker closed this message first: roll back, and skip it."""


@dataclass(frozen=True)
class StaleNumber:
    """A number typed in reply to another message than the last numbered offer (an older
    offer, or a forged context): refused like a stale button."""

    sender: Person


class WaInboxMark:
    """Mark the message's `wa_inbox` row handled inside the transaction of its writes, and
    note there that its replies are pending when those writes may move a flow."""

    def __init__(self, services: Services, event_id: str, wa_id: str) -> None:
        self.services = services
        self.database = services.store.db
        self.event_id = event_id
        self.wa_id = wa_id
        self.marked = False
        self.moved = False  # the note was set with the message's writes
        self.shows_state = False  # the answer only shows the flow under way again
        self._tentative = False
        self._moved = False

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        if self.marked:
            return
        whatsapp, now = self.services.store.whatsapp, self.services.clock()
        if not await whatsapp.mark(self.event_id, "handled", now):
            raise AlreadyHandled(self.event_id)
        if self.database.unit_writing() and not self.shows_state:
            # Writes that may move a flow (docs/architecture.md, "Lost replies"): settled once
            # every reply is sent; until then a stop or a failed send leaves the note, and the
            # person's next text is not taken as the next answer. A message that only read, or
            # showed the same step again, moved nothing.
            whatsapp.reply_pending(self.wa_id, addresses.whatsapp_person(self.wa_id),
                                   self.event_id, now)
            self._moved = True
        self._tentative = True

    def settled(self) -> bool:
        return self.marked

    def after_commit(self) -> None:
        if self._tentative:
            self.marked = True
            self.moved = self._moved
            self._tentative = False

    def after_rollback(self) -> None:
        self._tentative = False
        self._moved = False


class WhatsAppProcessor:
    """Handle the recorded messages of every person, in order per person, exactly once."""

    def __init__(self, services: Services, client: WhatsAppClient, *,
                 notify_other: NoticeSender | None = None, max_concurrent: int = 64) -> None:
        self.services = services
        self.client = client
        self.notify_other = notify_other
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._active: dict[str, asyncio.Task[None]] = {}
        self._runner: asyncio.Task[None] | None = None
        self.handled = 0  # messages handled by this processor (for tests and logs)

    # --- the webhook's side ----------------------------------------------------------

    async def record(self, events: Sequence[WebhookEvent]) -> int:
        """Store the events durably (the webhook answers 200 after this), then handle them."""
        new = await self.services.store.whatsapp.record(events, self.services.clock())
        self.wake()
        return new

    def wake(self) -> None:
        """Look for pending messages now."""
        self._wakeup.set()

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start handling, beginning with what was recorded and not handled before a stop."""
        self._runner = asyncio.create_task(self._run(), name="whatsapp-processor")
        self.wake()

    async def stop(self) -> None:
        """Stop: a message being handled is rolled back and stays pending for the next start."""
        tasks = [t for t in (self._runner, *self._active.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._runner = None
        self._active.clear()

    def busy_with(self, wa_id: str) -> bool:
        """Whether the person's messages are being handled (replies may still be on the way)."""
        return wa_id in self._active

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                people = await self.services.store.whatsapp.people_waiting()
            except Exception:  # the store failing: tried again at the next wake-up
                log.exception("cannot read the WhatsApp inbox")
                continue
            for wa_id in people:
                if wa_id not in self._active:
                    self._active[wa_id] = asyncio.create_task(self._person(wa_id),
                                                              name=f"whatsapp-{wa_id}")

    async def _person(self, wa_id: str) -> None:
        """Handle one person's pending messages, oldest first, until none is left."""
        try:
            async with self._slots:
                while (pending := await self.services.store.whatsapp.next_message(wa_id)):
                    await self._handle(wa_id, *pending)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("WhatsApp messages of a person left pending")
            # Tried again after a pause (the store failing, say), not in a tight loop.
            await asyncio.sleep(RETRY_PAUSE)
        finally:
            self._active.pop(wa_id, None)
            self.wake()  # a message recorded while this task was ending is not left behind

    # --- one message -----------------------------------------------------------------

    async def _handle(self, wa_id: str, event_id: str, payload: str | None) -> None:
        store = self.services.store
        event = await self.read(wa_id, payload)
        if event is None:
            # Nothing a person can be answered about (deleted by /forget, or not readable).
            async with store.transaction():
                await store.whatsapp.mark(event_id, "handled", self.services.clock(),
                                          None if payload is None else "not a message")
            return
        try:
            member, language = await self._who(event.sender)
        except Exception as exc:  # recorded, not retried forever (a store down raises again)
            log.error("WhatsApp message %s failed: %r", event_id, exc, exc_info=exc)
            async with store.transaction():
                await store.whatsapp.fail(event_id, self.services.clock(),
                                          redact(f"{type(exc).__name__}: {exc}")[:1000])
            return
        i18n.set_language(language, None if member is None else member.timezone)
        reply_lost = await store.whatsapp.reply_lost(wa_id)
        mark = WaInboxMark(self.services, event_id, wa_id)
        hook_token = commit_hook.set(mark)
        unit_token = store.db.begin_unit()
        error: str | None = None
        saved = skipped = False
        try:
            outcome = (expired_button() if isinstance(event, StaleNumber) else
                       await handlers.dispatch(event, self._context(wa_id, member, reply_lost)))
            if outcome is not None:
                await self.answer(wa_id, outcome)
            await store.db.flush_unit()
        except AlreadyHandled:
            log.info("WhatsApp message %s already handled; skipped", event_id)
            skipped = True
        except Exception as exc:  # recorded on the row, the person told: never re-run
            log.error("WhatsApp message %s failed: %r", event_id, exc, exc_info=exc)
            error = redact(f"{type(exc).__name__}: {exc}")[:1000]
            saved = store.db.unit_saved()
        finally:
            try:
                await store.db.discard_unit()  # after a failure or a cancellation
            finally:
                store.db.end_unit(unit_token)
                commit_hook.reset(hook_token)
        if error is None:
            self.handled += 0 if skipped else 1
            if not skipped and (mark.moved or mark.shows_state):
                # Every reply got its wamid: the step they show is on the person's screen.
                await store.whatsapp.replies_sent(
                    wa_id, event_id if mark.moved else None, self.services.clock())
            return
        async with store.transaction():
            await store.whatsapp.fail(event_id, self.services.clock(), error)
        await self._reassure(wa_id, saved)

    async def read(self, wa_id: str,
                   payload: str | None) -> InboundEvent | StaleNumber | None:
        """The neutral event of a recorded message, read as WhatsApp people type: a known
        command's bare word ("report") is the command, a number answers the numbered choice
        offered last (kept in the store: it survives a restart)."""
        if payload is None:
            return None
        try:
            message = json.loads(payload)
        except ValueError:
            return None
        event = message_event(message) if isinstance(message, Mapping) else None
        if not isinstance(event, Text):
            return event
        typed = event.body.strip()
        offer = (await self.services.store.whatsapp.numbered(wa_id)
                 if typed.isascii() and typed.isdigit() else None)
        if offer is not None and typed in offer.choices:
            if event.reply_to is not None and event.reply_to not in offer.wamids:
                return StaleNumber(event.sender)
            return Choice(channel=event.channel, sender=event.sender, chat_id=event.chat_id,
                          message_id=None, data=offer.choices[typed])
        # Only a message that is the bare word: "report" is the command, "report was late"
        # stays a sentence (a comment, a field update).
        word = typed.lower()
        if typed and " " not in typed and word in handlers.command_names():
            return Command(channel=event.channel, sender=event.sender, chat_id=event.chat_id,
                           message_id=event.message_id, reply_to=event.reply_to, name=word,
                           word=typed)
        return event

    async def _who(self, person: Person) -> tuple[Member | None, str]:
        """The active or stopped member writing, and the language to answer in."""
        store, settings = self.services.store, self.services.settings
        member = await store.members.by_telegram_id(person.user_id)
        if member is not None and member.status in ("active", "stopped"):
            if member.unreachable_at is not None:
                # Writing again proves the chat works.
                async with store.transaction():
                    await store.announcements.member_reachable(member.id)
            return member, member.language
        pending = await store.onboarding.get(person.user_id)
        return None, (pending.language if pending
                      else i18n.negotiate(person.language_code, settings.default_language))

    def _context(self, wa_id: str, member: Member | None, reply_lost: bool) -> Context:
        async def send(outcome: Outcome) -> None:
            """Send an answer now, before the route's own (its writes committed first)."""
            await self.answer(wa_id, outcome)

        async def busy(kind: Busy) -> None:
            """WhatsApp shows no upload indicator: nothing to do."""

        return Context(services=self.services, member=member, reply_lost=reply_lost, send=send,
                       busy=busy)

    # --- answers ---------------------------------------------------------------------

    async def answer(self, wa_id: str, outcome: Outcome) -> None:
        """Send the outcome: the replies, a button's toast as a text, the notices."""
        hook = commit_hook.get()
        if outcome.stays and isinstance(hook, WaInboxMark) and hook.wa_id == wa_id:
            hook.shows_state = True  # a step shown again moves nothing (see the mark)
        # Nothing leaves before the message's writes (and its inbox mark) are committed.
        await self.services.store.db.flush_unit()
        for reply in outcome.replies:
            await self.send_reply(wa_id, reply)
        if outcome.toast and not outcome.replies:
            # WhatsApp has no toast: a press answered by a toast alone gets it as a message.
            await self.send_reply(wa_id, Reply(text=outcome.toast))
        for notice in outcome.notices:
            try:
                await self.notify(notice)
            except Exception as exc:  # the person acting is not to blame: logged
                log.warning("could not notify %s: %s", notice.telegram_user_id,
                            redact(str(exc)))
        # Edits of earlier messages and command menus have no WhatsApp form: a WhatsApp
        # message cannot be changed once sent, and commands are typed.

    async def notify(self, notice: Notice) -> None:
        """Send a notice to its person, on their channel."""
        if addresses.channel_of(notice.telegram_user_id) == "whatsapp":
            await self.send_reply(addresses.wa_id_of(notice.telegram_user_id), notice.reply)
        elif self.notify_other is not None:
            await self.notify_other(notice)

    async def send_reply(self, wa_id: str, reply: Reply) -> None:
        """Send one reply as WhatsApp messages (a chart or a file uploaded first)."""
        text = render.text_of(reply.text).strip()
        made, kind = _made_file(reply)
        if made is not None:
            media_id = await self.client.upload(made.content, made.mime_type, made.filename)
            content: dict[str, Any] = {"id": media_id}
            if kind == "document":
                content["filename"] = made.filename
            if text and kind != "audio":
                content["caption"] = render.shorten(text, render.BODY_LIMIT)
            await self.client.send(wa_id, kind, content)
            if not reply.buttons:
                return
            reply = replace(reply, text=reply.text if kind == "audio" else "…")
        layout = render.layout(reply, list_button=_("Choose"))
        wamids = [await self.client.send(wa_id, kind, content)
                  for kind, content in layout.messages]
        # A reply with more choices than a list holds is sent as numbered lines: the number
        # the person types stands for the choice, kept in the store until the next reply with
        # choices (a restart must not forget it).
        whatsapp = self.services.store.whatsapp
        if layout.numbered:
            await whatsapp.offer_numbers(wa_id, wamids, layout.numbered, self.services.clock())
        elif reply.buttons:
            await whatsapp.drop_numbers(wa_id)

    async def _reassure(self, wa_id: str, saved: bool) -> None:
        if saved:
            text = _("✅ What you sent is saved, but my answer did not get through. Send any "
                     "message and I will show you where you are.")
        else:
            text = _("Sorry, something went wrong on our side and this message was not saved. "
                     "Please send it again in a moment.")
        try:
            await self.send_reply(wa_id, Reply(text=text))
        except WhatsAppError as exc:
            log.warning("could not tell a WhatsApp person about the error: %s", redact(str(exc)))


def _made_file(reply: Reply) -> tuple[Document | None, str]:
    """A file the bot made for the reply (a chart, an export, a questionnaire's media label)
    and the WhatsApp message type it goes as."""
    if reply.photo is not None:
        return reply.photo, "image"
    if reply.document is not None:
        return reply.document, "document"
    if reply.upload is not None:
        kind, made = reply.upload
        return made, {"photo": "image", "voice": "audio"}.get(kind, "video")
    return None, "document"
