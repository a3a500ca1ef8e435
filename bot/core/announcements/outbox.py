"""The outbox state machine (with `storage/announcements.py`): rows queued at confirmation,
claimed, settled with what Telegram answered, uncertain when that cannot be known; what each
recipient receives; the author's report once nothing is left to send. The transport's sender
(`bot/channels/telegram/outbox.py`) only decides *when* a row may go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.announcements.base import (
    MAX_ATTEMPTS,
    AnnouncementBase,
    Sending,
    _Cached,
    _excerpt,
    choose_text,
)
from bot.core.callbacks import SurveyStart
from bot.core.onboarding import expired_button
from bot.core.reminder_policy import DEFAULT_POLICY, allowed
from bot.core.replies import Button, Notice, Outcome, Reply, h
from bot.i18n import (
    _,
    ngettext,
    use_language,
)
from storage.models import (
    AnnouncementStep,
    DeliveryCounts,
    Member,
    OutboxRow,
    Recipient,
)


class Outbox(AnnouncementBase):
    async def publish(self, announcement_id: int, people: Sequence[Recipient],
                      send_at: datetime | None, now: datetime) -> None:
        """Queue one row per person (a survey's invitations too). Must run inside a
        transaction: the rows and the status change commit together."""
        await self.store.announcements.enqueue(
            announcement_id, 0, [(r.member_id, r.telegram_user_id, r.language) for r in people],
            now, quiet_hours(people, send_at or now))
        await self.store.announcements.update(
            announcement_id, now, status="sending" if send_at is None else "scheduled",
            send_at=send_at, confirmed_at=now, step=AnnouncementStep.DONE)

    # --- what recipients see ---------------------------------------------------------------

    async def _load(self, announcement_id: int, *, fresh: bool = False) -> _Cached | None:
        cached = None if fresh else self._cache.get(announcement_id)
        if cached is not None:
            return cached
        announcement = await self.store.announcements.get(announcement_id)
        if announcement is None:
            return None
        versions = await self.store.announcements.versions(announcement_id)
        author_name = organisation = ""
        if announcement.author_id is not None:
            author = await self.store.members.by_id(announcement.author_id)
            if author is not None:
                author_name = author.display_name or ""
                if author.organisation_id is not None:
                    org = await self.store.network.organisation_by_id(author.organisation_id)
                    organisation = org.name if org else ""
        cached = _Cached(announcement, versions, author_name, organisation)
        if announcement.status not in ("draft", "cancelled"):
            # Confirmed announcements do not change: the sender reads each one once.
            if len(self._cache) > 100:
                self._cache.clear()
            self._cache[announcement_id] = cached
        return cached

    def _message(self, cached: _Cached | None, language: str, *, reminder: bool = False,
                 reply_to: int | None = None) -> Reply:
        """The message as its recipient sees it (the preview is this very message)."""
        assert cached is not None
        announcement = cached.announcement
        with use_language(language):
            head = "⏰ " + _("Reminder") if reminder else "📢 " + _("Announcement")
            if announcement.campaign_id is not None:
                head = "📋 " + _("Questionnaire")
            who = ", ".join(p for p in (cached.author_name, cached.organisation) if p)
            lines = [f"<b>{h(head)}</b>" + (f" · {h(who)}" if who else "")]
            body = choose_text(announcement.text, cached.versions, language)
            if body:
                lines += ["", h(body)]
            buttons: tuple[tuple[Button, ...], ...] = ()
            if announcement.campaign_id is not None:
                # An invitation: its answer is the questionnaire, started with this button.
                buttons = ((Button("▶ " + _("Start"), SurveyStart(announcement.campaign_id)),),)
            else:
                lines += ["", "<i>" + _("Reply to this message to answer.") + "</i>"]
            if announcement.ack:
                buttons = ((Button("✓ " + _("Received"),
                                   self._cb("ack", announcement.id)),),)
        media = None
        if announcement.media_kind and announcement.media_file_id:
            media = (announcement.media_kind, announcement.media_file_id)
        return Reply("\n".join(lines), buttons=buttons, media=media, reply_to=reply_to)

    async def sending(self, row: OutboxRow) -> Sending | None:
        """The message for an outbox row (None: its announcement is gone)."""
        cached = await self._load(row.announcement_id)
        if cached is None:
            return None
        reply_to = None
        if row.round > 0:
            first = await self.store.announcements.recipient_row(row.announcement_id,
                                                                 row.member_id)
            reply_to = None if first is None else first.message_id
        return Sending(row, self._message(cached, row.language, reminder=row.round > 0,
                                          reply_to=reply_to))

    # --- the outbox state machine (driven by the transport's sender) ------------------------

    async def reconcile(self) -> int:
        """At start-up: rows left `sending` were in flight when the previous process died.
        Telegram cannot tell whether it delivered them, so they become `uncertain` and are
        not re-sent on their own: the author sees them and may send them again (a press on
        "Received" or a reply proves delivery and settles them)."""
        async with self.store.transaction():
            return await self.store.announcements.in_flight_to_uncertain()

    async def due(self, limit: int, now: datetime, after_id: int = 0,
                  channel: str | None = None) -> list[OutboxRow]:
        """Rows due now (with `channel`: only the rows of that channel's people, each
        channel's sender taking its own)."""
        if after_id == 0:
            async with self.store.transaction():
                await self.store.announcements.promote_scheduled(now)
        return await self.store.announcements.due(limit, after_id, now, channel)

    async def claim(self, row: OutboxRow, token: str) -> bool:
        async with self.store.transaction():
            return await self.store.announcements.claim(row.id, token)

    async def claim_many(self, rows: Sequence[OutboxRow], token: str) -> set[int]:
        """Claim many rows in one transaction; return the ids claimed."""
        async with self.store.transaction():
            return await self.store.announcements.claim_many([r.id for r in rows], token)

    async def delivered_many(self, sent: Sequence[tuple[int, str, int]], now: datetime) -> None:
        """Record many deliveries (row id, token, message id) in one transaction."""
        async with self.store.transaction():
            await self.store.announcements.settle_sent_many(sent, now)

    async def delivered(self, row: OutboxRow, token: str, message_id: int,
                        now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "sent", now,
                                                  message_id=message_id)

    async def delivered_on_whatsapp(self, row: OutboxRow, token: str, wamid: str,
                                    now: datetime) -> None:
        """Record a message WhatsApp accepted, with its wamid (its statuses settle it)."""
        async with self.store.transaction():
            await self.store.announcements.settle_wamid(row.id, token, wamid, now)

    async def template_parameters(self, row: OutboxRow) -> tuple[str, str] | None:
        """The parameters of the announcement's WhatsApp template (who sent it, to the
        partners of which projects); None when the announcement is gone."""
        cached = await self._load(row.announcement_id)
        if cached is None:
            return None
        who = ", ".join(p for p in (cached.author_name, cached.organisation) if p)
        projects = await self.store.members.projects(row.member_id)
        names = ", ".join(p.title(row.language) for p in projects[:3]) or "Palabre"
        return who or "Palabre", names

    async def show(self, member: Member, announcement_id: int) -> Outcome:
        """The announcement as its recipient sees it: the answer to the button of its WhatsApp
        template, pressed to read it (the press opens WhatsApp's 24-hour window)."""
        row = await self.store.announcements.recipient_row(announcement_id, member.id)
        cached = None if row is None else await self._load(announcement_id)
        if row is None or cached is None:
            return expired_button()
        return Outcome.of(self._message(cached, row.language))

    async def retry_later(self, row: OutboxRow, token: str, error: str, now: datetime,
                          *, count_attempt: bool = True) -> bool:
        """Put the row back in the queue; False (and `failed`) after too many attempts."""
        give_up = count_attempt and row.attempts + 1 >= MAX_ATTEMPTS
        async with self.store.transaction():
            await self.store.announcements.settle(
                row.id, token, "failed" if give_up else "pending", now, error=error[:500])
            if not count_attempt:
                # A flood wait is Telegram's pacing, not a failure of this message.
                await self.store.announcements.uncount_attempt(row.id)
        return not give_up

    async def failed(self, row: OutboxRow, token: str, error: str, now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "failed", now,
                                                  error=error[:500])

    async def uncertain(self, row: OutboxRow, token: str, now: datetime,
                        error: str = "no answer from Telegram") -> None:
        """Telegram may have got the request but its answer was lost: like a crash in flight."""
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "uncertain", now,
                                                  error=error[:500])

    async def unreachable(self, row: OutboxRow, token: str, now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "unreachable", now,
                                                  error="blocked the bot")
            await self.store.announcements.member_unreachable(row.member_id, now)

    async def complete_finished(self, now: datetime) -> list[Notice]:
        """Close the announcements with nothing left to send; return the authors' reports."""
        notices: list[Notice] = []
        for announcement_id in await self.store.announcements.finished():
            async with self.store.transaction():
                closed = await self.store.announcements.complete(announcement_id, now)
            if closed:
                notices += await self._final_report(announcement_id)
        return notices

    async def _final_report(self, announcement_id: int) -> list[Notice]:
        announcement = await self.store.announcements.get(announcement_id)
        assert announcement is not None
        counts = await self.store.announcements.counts(announcement_id, None)
        notices = []
        for author in await self._authors(announcement):
            assert author.telegram_user_id is not None
            with use_language(author.language):
                head = ("📢 " + _("Your announcement «{excerpt}» has been delivered.")
                        if announcement.campaign_id is None else "📢 " + _(
                            "The invitations to your questionnaire «{excerpt}» have been "
                            "delivered."))
                lines = [head.format(excerpt=h(_excerpt(announcement.text, 60))),
                         self._counts_line(counts)]
                buttons: tuple[tuple[Button, ...], ...] = ()
                if counts.uncertain:
                    lines.append(self._uncertain_note(counts.uncertain))
                    buttons = ((Button("↻ " + _("Send again to them"),
                                       self._cb("ra", announcement_id)),),)
                notices.append(Notice(author.telegram_user_id,
                                      Reply("\n".join(lines), buttons=buttons)))
        return notices

    @staticmethod
    def _uncertain_note(count: int) -> str:
        return "❔ " + ngettext(
            "For {count} person, delivery could not be confirmed: it may or may not have "
            "arrived.",
            "For {count} people, delivery could not be confirmed: it may or may not have "
            "arrived.", count).format(count=count)

    @staticmethod
    def _counts_line(counts: DeliveryCounts) -> str:
        parts = [
            "⏳ " + _("{count} pending").format(count=counts.pending),
            "✅ " + _("{count} sent").format(count=counts.sent),
            "⚠️ " + _("{count} failed").format(count=counts.failed),
            "🚫 " + _("{count} unreachable").format(count=counts.unreachable),
        ]
        if counts.uncertain:
            parts.append("❔ " + _("{count} unconfirmed").format(count=counts.uncertain))
        return " · ".join(parts)


def quiet_hours(people: Sequence[Recipient], moment: datetime) -> dict[int, datetime]:
    """When each person whose night it is at `moment` may receive a message: the opening of
    the reminders' allowed hours in their own time zone (others are not held)."""
    held = {}
    for person in people:
        opening = allowed(moment, ZoneInfo(person.timezone), DEFAULT_POLICY.hours)
        if opening > moment:
            held[person.member_id] = opening
    return held
