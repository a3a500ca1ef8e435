"""WhatsApp's senders: announcements' outbox rows and reminders for WhatsApp people, and the
statuses Meta calls back with, which settle what was sent.

The same rows and state machine as Telegram's (`bot/channels/telegram/outbox.py`): a row is
claimed (`pending` → `sending`, with a fresh token) in a committed transaction before its call
and settled with what Meta's answer proves (`WhatsAppError.outcome`): `sent` with its wamid;
`pending` again after a rate limit (130429, 131056) or an error raised before the request left;
`unreachable` after 131026; `failed` after a refusal; `uncertain` when the outcome is unknown,
never re-sent on its own. This sender takes the rows of WhatsApp people (negative ids,
`bot.core.addresses`), Telegram's the others.

**The 24-hour window.** Within 24 hours of the person's last message (`wa_inbox`) the message
goes as it is (`render.py`); outside it, or when Meta refuses it as outside (131047), the
approved template (`templates.py`) goes instead, whose quick-reply buttons carry the message's
own references: a press is a message from the person, which reopens the window and shows the
announcement, or answers the reminder as its buttons do on Telegram.

**Statuses.** Each message carries its row in Meta's `biz_opaque_callback_data`, which comes
back with its statuses: a `sent`, `delivered` or `read` status proves an `uncertain` row
delivered, and the delivery and the reading are recorded for `/announcements`; `failed`
fails the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.channels.calls import drain
from bot.channels.telegram.delivery import Outcome
from bot.channels.whatsapp import render
from bot.channels.whatsapp.client import WhatsAppClient, WhatsAppError
from bot.channels.whatsapp.templates import LANGUAGES
from bot.core.addresses import wa_id_of
from bot.core.announcements import AnnouncementService
from bot.core.callbacks import AnnouncementAction, SurveyStart
from bot.core.reminders import Decision
from bot.core.replies import Button, Reply
from bot.i18n import _, format_moment, use_language
from bot.logs import redact
from bot.services import Services
from storage.models import OutboxRow, ReminderRow

log = logging.getLogger(__name__)
WINDOW = 24 * 3600.0  # seconds after the person's last message when anything may be sent
WINDOW_MARGIN = 120.0  # a message sent this close to the window's end goes as a template
THROUGHPUT = 60.0  # messages/s: under Meta's default 80/s per business number
PAIR_PAUSE = 6.0  # seconds before another try to one person after 131056 (pair rate)
FIRST_RETRY = 0.5
LAST_RETRY = 60.0
NO_TEMPLATE_NOTE = "WhatsApp: no template for this reminder outside the 24-hour window"
# Meta's language codes of Palabre's catalogs (a template is approved per language).
META_LANGUAGE = {catalog: code for code, catalog in LANGUAGES.items()}
_STATUS_ORDER = ("sent", "delivered", "read", "failed")


def meta_language(language: str) -> str:
    return META_LANGUAGE.get(language, META_LANGUAGE.get(language.split("_")[0], "en"))


def template_message(name: str, language: str, parameters: Sequence[str],
                     buttons: Sequence[Button]) -> dict[str, Any]:
    """A template message's content: its body parameters, and each quick reply carrying the
    reference of the message's button at its place."""
    components: list[dict[str, Any]] = []
    if parameters:
        components.append({"type": "body", "parameters": [
            {"type": "text", "text": render.shorten(p, 200) or "-"} for p in parameters]})
    for index, button in enumerate(buttons):
        components.append({"type": "button", "sub_type": "quick_reply", "index": str(index),
                           "parameters": [{"type": "payload",
                                           "payload": render.reply_id(button, 256)}]})
    return {"name": name, "language": {"code": meta_language(language)},
            "components": components}


class WhatsAppSender:
    """The WhatsApp outbox's task, its reminders, and the statuses' reader."""

    def __init__(self, services: Services, client: WhatsAppClient, *,
                 throughput: float = THROUGHPUT, batch: int = 200, idle: float = 0.25,
                 max_in_flight: int = 16, drain_timeout: float = 5.0) -> None:
        self.services = services
        self.client = client
        self.interval = 1.0 / throughput
        self.batch = batch
        self.idle = idle
        self.drain_timeout = drain_timeout
        self.pair_pause = PAIR_PAUSE
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._not_before: dict[int, float] = {}  # row id → monotonic time of its next try
        self._next_place = 0.0  # monotonic time of the next place in the pace
        self._paused_until = 0.0  # after 130429: the number's throughput is exceeded
        self._tasks: list[asyncio.Task[None]] = []
        self.statuses_wanted = asyncio.Event()
        self.stats: dict[str, int] = {"sent": 0, "templates": 0, "retries": 0,
                                      "unreachable": 0, "failed": 0, "uncertain": 0,
                                      "statuses": 0}

    @property
    def announcements(self) -> AnnouncementService:
        return self.services.announcements

    async def start(self) -> None:
        """Start sending rows and reading statuses (what a stop left in flight is made
        uncertain by Telegram's sender, which starts first)."""
        self._tasks = [asyncio.create_task(self._run(), name="palabre-wa-outbox"),
                       asyncio.create_task(self._read_statuses(), name="palabre-wa-statuses")]

    async def stop(self) -> None:
        """Stop claiming rows; let the calls under way finish and be recorded."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await drain(self._in_flight, self.drain_timeout)

    # --- the window ------------------------------------------------------------------------

    async def window_open(self, wa_id: str) -> bool:
        """Whether a normal message may go: the person wrote within the last 24 hours."""
        last = await self.services.store.whatsapp.last_message_at(wa_id)
        if last is None:
            return False
        now = self.services.clock().timestamp()
        return now - last < WINDOW - WINDOW_MARGIN

    async def send_reply(self, wa_id: str, reply: Reply, language: str,
                         callback_data: str) -> str:
        """Send a message inside the window; return the wamid of its first part."""
        with use_language(language):
            layout = render.layout(replace_media(reply), list_button=_("Choose"))
        first: str | None = None
        for kind, content in layout.messages:
            try:
                wamid = await self.client.send(wa_id, kind, content,
                                               callback_data=callback_data)
            except WhatsAppError:
                if first is None:
                    raise
                # The start is delivered: the row is settled by it; the rest is logged.
                log.warning("a later part of a WhatsApp message was not sent", exc_info=True)
                break
            first = first or wamid
        if first is None:
            raise WhatsAppError("nothing to send", outcome=Outcome.REFUSED)
        return first

    async def send_either(self, wa_id: str, reply: Reply, language: str, callback_data: str,
                          template: dict[str, Any] | None) -> str:
        """The message inside the window, else (or when Meta says the window is closed) the
        template; without a template outside the window, Meta's refusal is raised."""
        if template is None or await self.window_open(wa_id):
            try:
                return await self.send_reply(wa_id, reply, language, callback_data)
            except WhatsAppError as exc:
                if not exc.needs_template or template is None:
                    raise
                log.info("the 24-hour window of a WhatsApp person is closed: template sent")
        self.stats["templates"] += 1
        return await self.client.send(wa_id, "template", template, callback_data=callback_data)

    # --- announcements ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                progressed = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("WhatsApp outbox round failed; trying again shortly")
                progressed = False
                await asyncio.sleep(1.0)
            if not progressed:
                # Telegram's sender clears `queued`; this one looks at the rows again soon.
                await asyncio.sleep(self.idle)

    async def _round(self) -> bool:
        progressed = False
        after = 0
        while True:
            rows = await self.announcements.due(self.batch, self.services.clock(), after,
                                                channel="whatsapp")
            if not rows:
                return progressed
            after = rows[-1].id
            for row in rows:
                if self._not_before.get(row.id, 0.0) > time.monotonic():
                    continue
                await self._place()
                await self._slots.acquire()
                token = secrets.token_hex(8)
                try:
                    claimed = await self.announcements.claim_many([row], token)
                except BaseException:
                    self._slots.release()
                    raise
                if row.id not in claimed:
                    self._slots.release()
                    continue
                progressed = True
                task = asyncio.create_task(self._send(row, token))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    async def _place(self) -> None:
        """Wait for the next place in the number's throughput (and a pause Meta asked for)."""
        now = time.monotonic()
        start = max(self._next_place, self._paused_until, now)
        self._next_place = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    async def _send(self, row: OutboxRow, token: str) -> None:
        announcements, clock = self.announcements, self.services.clock
        try:
            sending = await announcements.sending(row)
            parameters = await announcements.template_parameters(row)
            if sending is None or parameters is None:
                await announcements.failed(row, token, "announcement not found", clock())
                return
            template = await self._announcement_template(row, parameters)
            try:
                wamid = await self.send_either(wa_id_of(row.chat_id), sending.reply,
                                               row.language, f"outbox:{row.id}", template)
            except WhatsAppError as exc:
                await self._settle_failure(row, token, exc)
                return
            self._not_before.pop(row.id, None)
            self.stats["sent"] += 1
            await announcements.delivered_on_whatsapp(row, token, wamid, clock())
        except Exception:
            # E.g. the database failed while recording: the row stays `sending`, and the next
            # start marks it uncertain (never re-sent on its own).
            log.exception("WhatsApp outbox row %s: outcome not recorded", row.id)
        finally:
            self._slots.release()

    async def _announcement_template(self, row: OutboxRow,
                                     parameters: tuple[str, str]) -> dict[str, Any]:
        """The template of the row's first message: a questionnaire's invitation (its Start
        opens the questionnaire), else an announcement's (its Read shows the message)."""
        services = self.services
        announcement = await services.store.announcements.get(row.announcement_id)
        campaign_id = None if announcement is None else announcement.campaign_id
        loaded = None if campaign_id is None else await services.surveys.load(campaign_id)
        member = await services.store.members.by_id(row.member_id)
        if campaign_id is not None and loaded is not None and member is not None:
            with use_language(row.language):
                deadline = format_moment(loaded.campaign.closes_at, member.timezone,
                                         year=False)
                start = Button(_("Start"), SurveyStart(campaign_id))
            return template_message("palabre_survey_invitation", row.language,
                                    (services.surveys.title(loaded, row.language), deadline),
                                    (start,))
        with use_language(row.language):
            read = Button(_("Read"), AnnouncementAction("rd", row.announcement_id))
        return template_message("palabre_announcement", row.language, parameters, (read,))

    async def _settle_failure(self, row: OutboxRow, token: str, exc: WhatsAppError) -> None:
        """Record a failed call by what it proves: only a call Meta certainly did not process
        is sent again; an ambiguous one is `uncertain` (its statuses may still settle it)."""
        announcements, now = self.announcements, self.services.clock()
        if exc.outcome is Outcome.NOT_PROCESSED:
            self.stats["retries"] += 1
            limited = exc.code in (130429, 131056, 4, 80007) or exc.http_status == 429
            pause = self.pair_pause if exc.code == 131056 else min(
                FIRST_RETRY * 2 ** row.attempts, LAST_RETRY)
            if exc.code in (130429, 4, 80007):
                self._paused_until = max(self._paused_until, time.monotonic() + pause)
            again = await announcements.retry_later(row, token, redact(str(exc)), now,
                                                    count_attempt=not limited)
            if again:
                self._not_before[row.id] = time.monotonic() + pause
            return
        self._not_before.pop(row.id, None)
        if exc.outcome is Outcome.UNREACHABLE:
            self.stats["unreachable"] += 1
            await announcements.unreachable(row, token, now)
        elif exc.outcome is Outcome.REFUSED:
            self.stats["failed"] += 1
            log.warning("announcement %s refused by WhatsApp: %s", row.announcement_id,
                        redact(str(exc)))
            await announcements.failed(row, token, redact(str(exc)), now)
        else:
            self.stats["uncertain"] += 1
            await announcements.uncertain(row, token, now, redact(str(exc)))

    # --- reminders -------------------------------------------------------------------------

    async def send_reminder(self, row: ReminderRow, decision: Decision) -> str:
        """Send a reminder Telegram's reminder sender decided to send to a WhatsApp person
        (claimed, sent, settled as there); return what became of it."""
        store, now = self.services.store, self.services.clock()
        assert decision.reply is not None and decision.chat_id is not None
        member = await store.members.by_id(row.member_id)
        language = member.language if member is not None else "en"
        template = None
        if decision.template is not None:
            buttons = [b for line in decision.reply.buttons for b in line]
            spec = {"palabre_report_reminder": 2, "palabre_report_overdue": 2,
                    "palabre_survey_reminder": 2}.get(decision.template, 0)
            template = template_message(decision.template, language, decision.parameters,
                                        buttons[:spec])
        wa_id = wa_id_of(decision.chat_id)
        if template is None and not await self.window_open(wa_id):
            async with store.transaction():
                await store.reminders.settle(row.id, "skipped", now, note=NO_TEMPLATE_NOTE)
            return "skipped"
        token = secrets.token_hex(8)
        async with store.transaction():
            if not await store.reminders.claim(row.id, token):
                return "taken"
        await self._place()
        try:
            wamid = await self.send_either(wa_id, decision.reply, language,
                                           f"reminder:{row.id}", template)
        except WhatsAppError as exc:
            return await self._reminder_failure(row, token, exc)
        async with store.transaction():
            await store.reminders.settle(row.id, "sent", self.services.clock(), token=token)
            await store.reminders.set_wamid(row.id, wamid)
        self.stats["sent"] += 1
        return "sent"

    async def _reminder_failure(self, row: ReminderRow, token: str, exc: WhatsAppError) -> str:
        store, now = self.services.store, self.services.clock()
        note = redact(str(exc))[:200]
        async with store.transaction():
            if exc.outcome is Outcome.NOT_PROCESSED:
                await store.reminders.release(row.id, token, note)
                return "paused"  # the next tick goes on
            if exc.outcome is Outcome.UNREACHABLE:
                await store.reminders.settle(row.id, "unreachable", now, token=token,
                                             note="undeliverable on WhatsApp")
                await store.announcements.member_unreachable(row.member_id, now)
                return "unreachable"
            state = "failed" if exc.outcome is Outcome.REFUSED else "uncertain"
            await store.reminders.settle(row.id, state, now, token=token, note=note)
            return state

    # --- statuses --------------------------------------------------------------------------

    async def _read_statuses(self) -> None:
        while True:
            try:
                read = await self.read_statuses()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("WhatsApp statuses not read; trying again shortly")
                read = 0
                await asyncio.sleep(1.0)
            if not read:
                self.statuses_wanted.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle * 4):
                        await self.statuses_wanted.wait()

    async def read_statuses(self) -> int:
        """Settle the rows of the statuses received; return how many statuses were read."""
        store = self.services.store
        pending = await store.whatsapp.pending_statuses()
        if not pending:
            return 0
        # Oldest first, and within one message in Meta's order (sent before read).
        for event_id, payload in pending:
            wamid, _sep, state = event_id.rpartition(":")
            status = _json(payload)
            callback = str(status.get("biz_opaque_callback_data") or "")
            error = None
            if state == "failed":
                errors = status.get("errors")
                first = errors[0] if isinstance(errors, list) and errors else {}
                error = f"WhatsApp: {first.get('code', '')} {first.get('title', '')}".strip() \
                    if isinstance(first, dict) else "WhatsApp: failed"
            at = datetime.fromtimestamp(int(status.get("timestamp") or 0) or
                                        self.services.clock().timestamp(), UTC)
            async with store.transaction():
                if state in _STATUS_ORDER:
                    await self._settle_status(wamid, state, callback, at, error)
                await store.whatsapp.mark(event_id, "handled", self.services.clock())
            self.stats["statuses"] += 1
        return len(pending)

    async def _settle_status(self, wamid: str, state: str, callback: str, at: datetime,
                             error: str | None) -> None:
        store = self.services.store
        kind, _sep, ident = callback.partition(":")
        row_id = int(ident) if ident.isdigit() else None
        if kind == "outbox" and row_id is not None:
            # The row names itself: an `uncertain` row (its answer lost) learns its wamid.
            await store.announcements.adopt_wamid(row_id, wamid)
        elif kind == "reminder" and row_id is not None:
            await store.reminders.adopt_wamid(row_id, wamid, state, at, error)
            return
        await store.announcements.whatsapp_status(wamid, state, at, error)


def replace_media(reply: Reply) -> Reply:
    """The reply without Telegram's file ids, which WhatsApp cannot send (its text goes)."""
    return reply if reply.media is None else replace(reply, media=None)


def _json(payload: str | None) -> dict[str, Any]:
    try:
        value = json.loads(payload or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
