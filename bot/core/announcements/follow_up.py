"""After sending: the author's view (/announcements), who received it and reminders, sending
again to the unconfirmed, "Received" presses, and members' answers passed on to the author."""

from __future__ import annotations

from datetime import datetime

from bot.core.announcements.base import MAX_ANSWER, RECENT, REPLY_WINDOW, _excerpt
from bot.core.announcements.outbox import Outbox
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Notice, Outcome, Reply, h
from bot.i18n import (
    _,
    format_moment,
    ngettext,
    use_language,
)
from storage.models import (
    Announcement,
    Member,
    OutboxRow,
)


class FollowUp(Outbox):
    # --- after sending: the author's view, acknowledgements, reminders, replies -----------

    async def recent(self, member: Member, *, replace: bool = False) -> Outcome:
        if not self.may_announce(member):
            return Outcome.of(Reply(_("Announcements are sent by coordinators and "
                                      "administrators.")))
        found = await self.store.announcements.recent(
            None if member.role == "admin" else member.id, RECENT)
        if not found:
            return Outcome.of(Reply(_("You have not sent any announcement yet. Send /announce "
                                      "to write one."), replace=replace))
        lines = ["📢 <b>" + _("Your latest announcements") + "</b>"]
        rows: list[tuple[Button, ...]] = []
        for a in found:
            counts = await self.store.announcements.counts(a.id)
            when = format_moment(a.send_at or a.confirmed_at or a.created_at, member.timezone,
                                 year=False)
            state = {"scheduled": "⏰ ", "sending": "📤 ", "done": ""}.get(a.status, "")
            lines += ["", f"{state}<b>#{a.id}</b> · {when} · «{h(_excerpt(a.text, 50))}»",
                      self._counts_line(counts)]
            extra = []
            if a.ack:
                extra.append("✓ " + _("{acked}/{sent} received").format(acked=counts.acked,
                                                                      sent=counts.sent))
                rows.append((Button(_("#{number}: who received it").format(number=a.id),
                                    self._cb("who", a.id)),))
            read = await self.store.announcements.read_count(a.id)
            if read:
                # Only WhatsApp says when a message was opened (Meta's `read` status).
                extra.append("👁 " + ngettext("read by {count} person on WhatsApp",
                                              "read by {count} people on WhatsApp",
                                              read).format(count=read))
            replies = await self.store.announcements.reply_count(a.id)
            if replies:
                extra.append("💬 " + ngettext("{count} reply", "{count} replies",
                                              replies).format(count=replies))
            if extra:
                lines.append(" · ".join(extra))
            if counts.uncertain:
                rows.append((Button("↻ " + _("#{number}: send again to {count} unconfirmed")
                                    .format(number=a.id, count=counts.uncertain),
                                    self._cb("ra", a.id)),))
        rows.append((Button("🔄 " + _("Refresh"), self._cb("ls", 0)),))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(rows), replace=replace))

    async def _owned(self, member: Member, announcement_id: int) -> Announcement | None:
        """A confirmed announcement this member may follow: theirs, or any for an admin."""
        if not self.may_announce(member):
            return None
        a = await self.store.announcements.get(announcement_id)
        if a is None or a.status in ("draft", "cancelled"):
            return None
        if member.role == "admin" or a.author_id == member.id:
            return a
        return None

    async def _follow_up(self, member: Member, action: str, announcement_id: int,
                         now: datetime) -> Outcome:
        announcement = await self._owned(member, announcement_id)
        if announcement is None:
            return expired_button()
        store = self.store.announcements
        if action == "who":
            people = await store.acknowledgements(announcement_id)
            yes = [name or "?" for _id, name, acked in people if acked]
            no = [name or "?" for _id, name, acked in people if not acked]
            lines = [f"<b>#{announcement_id}</b> «{h(_excerpt(announcement.text, 50))}»",
                     "✓ " + _("Received ({count}):").format(count=len(yes)),
                     h(", ".join(yes)) or "—",
                     "… " + _("Not yet ({count}):").format(count=len(no)),
                     h(", ".join(no)) or "—"]
            buttons: tuple[tuple[Button, ...], ...] = ()
            if no:
                buttons = ((Button("🔔 " + ngettext("Remind {count} person",
                                                   "Remind {count} people", len(no)).format(
                    count=len(no)), self._cb("rm", announcement_id)),),)
            return Outcome.of(Reply("\n".join(lines), buttons=buttons))
        if action == "rm":
            async with self.store.transaction():
                rows = await store.unacknowledged(announcement_id)
                round_ = await store.last_round(announcement_id) + 1
                added = await store.enqueue(announcement_id, round_,
                                            [(r.member_id, r.chat_id, r.language) for r in rows],
                                            now)
                if added:
                    await store.reopen(announcement_id, now)
            self.queued.set()
            return Outcome.of(Reply("🔔 " + ngettext(
                "Reminder on its way to {count} person.",
                "Reminder on its way to {count} people.", added).format(count=added),
                replace=True))
        # "ra": the author decided that a possible double is better than a possible miss.
        async with self.store.transaction():
            again = await store.retry_uncertain(announcement_id)
            if again:
                await store.reopen(announcement_id, now)
        self.queued.set()
        return Outcome.of(Reply("↻ " + ngettext(
            "Sending again to {count} person.", "Sending again to {count} people.",
            again).format(count=again), replace=True))

    async def acknowledge(self, member: Member, announcement_id: int, now: datetime,
                          message_id: int | None = None) -> Outcome:
        row = await self.store.announcements.recipient_row(announcement_id, member.id)
        if row is None:
            announcement = await self.store.announcements.get(announcement_id)
            if announcement is not None and announcement.author_id == member.id:
                return Outcome(toast=_("This is how recipients will confirm."))
            return expired_button()
        if row.acked_at is not None:
            return Outcome(toast=_("Already noted, thank you."))
        async with self.store.transaction():
            await self.store.announcements.acknowledge(row.id, now, message_id)
        return Outcome(toast="✓ " + _("Noted, thank you!"))

    async def on_reply(self, member: Member, chat_id: int, replied_to: int, message_id: int,
                       text: str, now: datetime) -> Outcome | None:
        """A member answered an announcement with Telegram's reply: pass it to the author
        and keep it with the announcement. None if it is not a reply to an announcement."""
        row = await self.store.announcements.by_message(chat_id, replied_to)
        if row is None or row.member_id != member.id:
            return None
        return await self.pass_on(member, row, chat_id, message_id, text, now)

    async def answerable(self, member: Member, now: datetime) -> tuple[OutboxRow, str] | None:
        """The announcement a plain text typed now most likely answers (delivered to the
        member less than REPLY_WINDOW ago), with its author's name; None if there is none."""
        row = await self.store.announcements.latest_answerable(member.id, now - REPLY_WINDOW)
        if row is None:
            return None
        announcement = await self.store.announcements.get(row.announcement_id)
        assert announcement is not None
        names = ", ".join(a.display_name or "" for a in await self._authors(announcement))
        return row, names or _("the coordination")

    async def pass_on(self, member: Member, row: OutboxRow, chat_id: int, message_id: int,
                      text: str, now: datetime) -> Outcome | None:
        """Keep a member's answer to an announcement and pass it to the author."""
        body = text.strip()
        if not body:
            return None
        announcement = await self.store.announcements.get(row.announcement_id)
        assert announcement is not None
        async with self.store.transaction():
            await self.store.announcements.add_reply(
                announcement_id=row.announcement_id, member_id=member.id, text=body[:MAX_ANSWER],
                chat_id=chat_id, message_id=message_id, now=now)
        org = (None if member.organisation_id is None
               else await self.store.network.organisation_by_id(member.organisation_id))
        projects = await self.store.members.projects(member.id)
        notices = []
        authors = await self._authors(announcement)
        for author in authors:
            assert author.telegram_user_id is not None
            with use_language(author.language):
                where = [org.name] if org else []
                where += [p.title(author.language) for p in projects]
                head = "💬 " + _("{name} ({where}) answered your announcement «{excerpt}»:").format(
                    name=h(member.display_name or "?"), where=h(" · ".join(where)) or "—",
                    excerpt=h(_excerpt(announcement.text, 50)))
                notices.append(Notice(author.telegram_user_id,
                                      Reply(f"{head}\n\n{h(body[:MAX_ANSWER])}")))
        names = ", ".join(a.display_name or "" for a in authors) or _("the coordination")
        return Outcome(replies=(Reply("✅ " + _("Your answer was passed on to {name}.").format(
            name=h(names))),), notices=tuple(notices))
