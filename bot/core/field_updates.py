"""Quick field updates: anything a partner sends outside a flow is kept, then filed in a tap."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.announcements import AnnouncementService
from bot.core.callbacks import FieldUpdate
from bot.core.media import Media
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Outcome, Reply, h
from bot.core.reports import ReportService, add_attachment, received_at, too_big_reply
from bot.i18n import _
from storage import Store
from storage.models import Draft, DraftStep, Member, OutboxRow

DECLINED_KEPT = timedelta(days=7)


class FieldUpdateService:
    def __init__(self, store: Store, reports: ReportService,
                 announcements: AnnouncementService) -> None:
        self.store = store
        self.reports = reports
        self.announcements = announcements

    async def receive(self, member: Member, media: Media, refused: bool,
                      now: datetime) -> Outcome:
        """Keep what a partner sent as a draft update, and ask where it belongs."""
        if media.media_group_id is not None:
            album = await self.store.reports.draft_by_media_group(member.id, media.media_group_id)
            if album is not None and album.status == "open":
                # The rest of an album: one update, one question (already asked).
                async with self.store.transaction():
                    await add_attachment(self.store, member, album.id, media, refused, now)
                return Outcome.of(too_big_reply()) if refused else Outcome()
        draft = await self.store.reports.open_draft(member.id, "field_update")
        async with self.store.transaction():
            if draft is None:
                draft_id = await self.store.reports.create_draft(
                    member_id=member.id, kind="field_update", step=DraftStep.FILE, now=now,
                    media_group_id=media.media_group_id)
            else:
                draft_id = draft.id
            await add_attachment(self.store, member, draft_id, media, refused, now)
        replies = [too_big_reply()] if refused else []
        if draft is not None:
            # Another piece for the update already waiting for an answer.
            replies.append(Reply("📎 " + _("Added to your field update.")))
            return Outcome(replies=tuple(replies))
        fresh = await self.store.reports.draft(draft_id)
        assert fresh is not None
        answering = (await self.announcements.answerable(member, now)
                     if media.kind == "text" and not refused else None)
        replies.append(await self._question(member, fresh, answering))
        return Outcome(replies=tuple(replies))

    async def receive_text(self, member: Member, media: Media, now: datetime) -> Outcome | None:
        """A plain text outside any flow: from a partner, a field update (or an answer to a
        recent announcement); from anyone else, only an answer to a recent announcement
        (None when there is none)."""
        if member.role == "partner":
            return await self.receive(member, media, False, now)
        if await self.announcements.answerable(member, now) is None:
            return None
        return await self.receive(member, media, False, now)

    async def _question(self, member: Member, draft: Draft,
                        answering: tuple[OutboxRow, str] | None = None) -> Reply:
        projects = ([] if member.role != "partner"
                    else await self.store.members.projects(member.id))
        no = Button("✖ " + _("No, don't send"), FieldUpdate("no", draft.id))
        if answering is not None:
            # Typed soon after an announcement: most likely an answer to it.
            row, author = answering
            rows = [(Button("💬 " + _("Yes, send it to {name}").format(name=author),
                            FieldUpdate("an", draft.id, str(row.id))),)]
            rows += [(Button("📷 " + _("No, a field update: {project}").format(
                project=p.title(member.language)), FieldUpdate("ok", draft.id, str(p.id))),)
                for p in projects]
            rows.append((no,))
            return Reply(_("Is this your answer to the announcement from {name}?").format(
                name=h(author)), buttons=tuple(rows))
        if not projects:
            return Reply(_("You are not part of any project yet, so I cannot file this. Ask "
                           "your coordinator."), buttons=((no,),))
        if len(projects) == 1:
            project = projects[0]
            return Reply(_("Send this as a field update for <b>{project}</b>?").format(
                project=h(project.title(member.language))), buttons=((
                    Button("✅ " + _("Send"), FieldUpdate("ok", draft.id, str(project.id))),
                    no),))
        choices = tuple((Button(p.title(member.language),
                                FieldUpdate("ok", draft.id, str(p.id))),)
                        for p in projects)
        return Reply(_("Which project is this field update for?"), buttons=(*choices, (no,)))

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        ref = FieldUpdate.parse(data)
        if ref is None:
            return expired_button()
        draft = await self.store.reports.draft(ref.draft_id)
        if (draft is None or draft.member_id != member.id or draft.status != "open"
                or draft.kind != "field_update"):
            return expired_button()
        if ref.action == "an" and ref.argument.isdigit():
            return await self._answer(member, draft, int(ref.argument), now)
        if ref.action == "no":
            async with self.store.transaction():
                await self.store.reports.update_draft(draft.id, now, status="declined")
            return Outcome.of(Reply(_("All right, it was not sent. I keep it for 7 days, then "
                                      "delete it."), replace=True))
        if ref.action != "ok" or not ref.argument.isdigit():
            return expired_button()
        project_id = int(ref.argument)
        if not await self.store.members.in_project(member.id, project_id):
            return expired_button()  # not their project: a forged button
        async with self.store.transaction():
            report_id = await self.store.reports.create_report(
                kind="field_update", prefix="F", project_id=project_id, member_id=member.id,
                period_start=None, period_end=None, chat_id=member.telegram_user_id, now=now)
            version_id = await self.store.reports.add_version(
                report_id, 1, narrative=None, created_by=member.id, now=now, values=())
            await self.store.reports.move_attachments(draft.id, version_id)
            await self.store.reports.update_draft(draft.id, now, status="submitted",
                                                  project_id=project_id, report_id=report_id)
            await self.store.reports.audit(action="report.created", actor_id=member.id,
                                           report_id=report_id, now=now, kind="field_update")
        report = await self.store.reports.report(report_id)
        assert report is not None
        day, time = received_at(now, member.timezone)
        receipt = Reply(_("✅ Field update {reference} received on {date} at {time}.").format(
            reference=report.reference, date=day, time=time), replace=True)
        notices = await self.reports.coordinator_notices(report, member)
        return Outcome(replies=(receipt,), notices=tuple(notices))

    async def _answer(self, member: Member, draft: Draft, row_id: int,
                      now: datetime) -> Outcome:
        """Pass the typed text on as an answer to the announcement the member chose."""
        row = await self.store.announcements.row(row_id)
        texts = [a for a in await self.store.reports.draft_attachments(draft.id)
                 if a.kind == "text" and a.body]
        if row is None or row.member_id != member.id or not texts:
            return expired_button()  # somebody else's announcement: a forged button
        # The member's message id is not kept with a draft: 0 says "not a Telegram reply".
        outcome = await self.announcements.pass_on(
            member, row, row.chat_id, 0, "\n".join(a.body or "" for a in texts), now)
        async with self.store.transaction():
            await self.store.reports.update_draft(draft.id, now, status="closed")
        if outcome is None:
            return expired_button()
        return Outcome(replies=tuple(replace(r, replace=True) for r in outcome.replies),
                       notices=outcome.notices)

    async def cancel(self, member: Member, now: datetime) -> Outcome | None:
        draft = await self.store.reports.open_draft(member.id, "field_update")
        if draft is None:
            return None
        async with self.store.transaction():
            await self.store.reports.update_draft(draft.id, now, status="declined")
        return Outcome.of(Reply(_("All right, it was not sent. I keep it for 7 days, then "
                                  "delete it.")))

    async def purge_declined(self, now: datetime) -> int:
        """Remove declined updates after a week (their attachments go with them)."""
        async with self.store.transaction():
            return await self.store.reports.delete_declined(now - DECLINED_KEPT)
