"""Coordinators review reports: accept, or return with a comment the partner can act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.callbacks import Amend, Notifications, Review
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Edit, Notice, Outcome, Reply, h
from bot.core.reports import ReportService
from bot.i18n import _, use_language
from storage import Store
from storage.models import Member, Report

MAX_COMMENT = 2000
AWAITING_REVIEW = ("submitted", "amended")  # a decision applies only to these


def already_reviewed(report: Report) -> Outcome:
    """A stale Accept or Return on a report someone already decided: nothing changes."""
    return Outcome.of(Reply(_("Report {reference} was already reviewed: nothing was "
                              "changed.").format(reference=report.reference)))


class ReviewService:
    def __init__(self, store: Store, reports: ReportService) -> None:
        self.store = store
        self.reports = reports

    async def _reviewable(self, member: Member, report_id: int) -> Report | None:
        """The report, if this member may review it: a coordinator of its project, or admin."""
        report = await self.store.reports.report(report_id)
        if report is None:
            return None
        if member.role == "admin":
            return report
        if member.role != "coordinator":
            return None
        return report if await self.store.members.in_project(member.id, report.project_id) else None

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        ref = Review.parse(data)
        if ref is None:
            return expired_button()
        report = await self._reviewable(member, ref.report_id)
        if report is None:
            return expired_button()
        if ref.action == "ok":
            return await self._accept(member, report, now)
        if ref.action == "re":
            if report.status not in AWAITING_REVIEW:
                return already_reviewed(report)
            async with self.store.transaction():
                await self.store.reports.await_comment(member.id, report.id, now)
            author = await self.store.members.by_id(report.member_id)
            name = h(author.display_name if author and author.display_name else "")
            return Outcome(replies=(Reply(
                _("Write your comment for {name} about {reference} in one message. /cancel to "
                  "leave it.").format(name=name, reference=report.reference),
                buttons=((Button("✖ " + _("Cancel"), Review("cx", report.id)),),)),),
                toast=_("Write your comment"))
        if ref.action == "cx":
            outcome = await self.cancel(member)
            return Outcome(replies=tuple(Reply(r.text, replace=True) for r in outcome.replies)
                           ) if outcome is not None else expired_button()
        return expired_button()

    async def _accept(self, member: Member, report: Report, now: datetime) -> Outcome:
        if report.status == "accepted":
            return Outcome(toast=_("Already accepted."))
        if report.status not in AWAITING_REVIEW:
            return already_reviewed(report)
        async with self.store.transaction():
            await self.store.reports.set_status(report.id, "accepted", member.id, now)
            await self.store.reports.audit(action="report.accepted", actor_id=member.id,
                                           report_id=report.id, now=now)
        reviewer = h(member.display_name or "")
        card = await self.reports.review_card(report, with_buttons=False, footer="✅ " + _(
            "Accepted by {name}.").format(name=reviewer))
        notices = await self._tell_author(report, lambda: Reply(
            "✅ " + _("Your report {reference} was accepted by {name}.").format(
                reference=report.reference, name=reviewer)))
        edits = await self._other_cards(report, member, lambda: "✅ " + _(
            "Accepted by {name}.").format(name=reviewer))
        return Outcome(replies=(Reply(card.text, replace=True),), notices=notices, edits=edits)

    async def _other_cards(self, report: Report, member: Member,
                           footer: Callable[[], str]) -> tuple[Edit, ...]:
        """The other coordinators' cards of this report, without buttons, saying who decided."""
        fresh = await self.store.reports.report(report.id) or report
        edits = []
        for chat_id, message_id, language in await self.store.reports.cards(report.id):
            if chat_id == member.telegram_user_id:
                continue
            with use_language(language):
                card = await self.reports.review_card(fresh, with_buttons=False,
                                                      footer=footer())
            edits.append(Edit(chat_id, message_id, card))
        return tuple(edits)

    async def on_text(self, member: Member, text: str, now: datetime) -> Outcome | None:
        """Take the comment a coordinator is writing; None if they are not writing one."""
        report_id = await self.store.reports.awaited_comment(member.id)
        if report_id is None:
            return None
        report = await self._reviewable(member, report_id)
        comment = text.strip()[:MAX_COMMENT]
        if report is None or not comment:
            async with self.store.transaction():
                await self.store.reports.clear_comment(member.id)
            return None if report is None else Outcome.of(Reply(_("Nothing was sent.")))
        async with self.store.transaction():
            # Checked again now that the text arrived: between the press and this message,
            # another coordinator may have decided (or this press was a stale one).
            fresh = await self.store.reports.report(report.id)
            if fresh is None or fresh.status not in AWAITING_REVIEW:
                await self.store.reports.clear_comment(member.id)
                decided = True
            else:
                decided = False
                await self.store.reports.set_status(report.id, "returned", member.id, now,
                                                    comment)
                await self.store.reports.clear_comment(member.id)
                await self.store.reports.audit(action="report.returned", actor_id=member.id,
                                               report_id=report.id, now=now, comment=comment)
        if decided:
            return already_reviewed(report)
        reviewer = h(member.display_name or "")
        author = await self.store.members.by_id(report.member_id)
        name = h(author.display_name if author and author.display_name else "")
        notices = await self._tell_author(report, lambda: Reply(
            "↩ " + _("{name} returned your report {reference} with this comment:").format(
                name=reviewer, reference=report.reference) + f"\n«{h(comment)}»\n"
            + _("You can amend it with the button below."),
            buttons=((Button("✏️ " + _("Amend {reference}").format(reference=report.reference),
                             Amend(report.id)),),)))
        edits = await self._other_cards(report, member, lambda: "↩ " + _(
            "Returned by {name} with a comment.").format(name=reviewer))
        return Outcome(replies=(Reply(_("Comment sent to {name}.").format(name=name)),),
                       notices=notices, edits=edits)

    async def cancel(self, member: Member) -> Outcome | None:
        if await self.store.reports.awaited_comment(member.id) is None:
            return None
        async with self.store.transaction():
            await self.store.reports.clear_comment(member.id)
        return Outcome.of(Reply(_("Nothing was sent.")))

    async def _tell_author(self, report: Report,
                           make: Callable[[], Reply]) -> tuple[Notice, ...]:
        author = await self.store.members.by_id(report.member_id)
        if author is None or author.telegram_user_id is None or author.status == "forgotten":
            return ()
        with use_language(author.language):
            return (Notice(author.telegram_user_id, make(), report.id),)

    async def set_notifications(self, member: Member, on: bool, now: datetime) -> Outcome:
        async with self.store.transaction():
            await self.store.members.update(member.id, now, notify_reports=1 if on else 0)
        return Outcome.of(Reply(
            _("You will be told of each new report.") if on
            else _("You will no longer be told of new reports."), replace=True))

    def notifications_prompt(self, member: Member) -> Outcome:
        if member.role not in ("coordinator", "admin"):
            return Outcome.of(Reply(_("Report notifications are for coordinators.")))
        state = _("on") if member.notify_reports else _("off")
        return Outcome.of(Reply(
            _("Notifications of new reports are {state}.").format(state=state),
            buttons=((Button("🔔 " + _("On"), Notifications(True)),
                      Button("🔕 " + _("Off"), Notifications(False))),)))
