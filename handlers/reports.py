"""Reports: /report, /myreports, /notifications and their buttons (files and texts go to the
core's list of free-input flows, from `handlers/messages.py`)."""

from __future__ import annotations

from bot.core.callbacks import Amend, FieldUpdate, MyReportsPage, Notifications, ReportStep, Review
from bot.core.events import Choice, Command
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("reports")


@router.command("report", members_only=True)
async def report(event: Command, ctx: Context, member: Member) -> Outcome:
    """Show the report named after the command, else start (or resume) a guided report."""
    if event.args:
        # `/report R-2026-000042`: anyone may read a report of the projects they follow.
        return await ctx.services.consultation.show(member, " ".join(event.args)[:60],
                                                    ctx.now())
    return await ctx.services.reports.begin(member, ctx.now())


@router.command("myreports", members_only=True)
async def my_reports(event: Command, ctx: Context, member: Member) -> Outcome:
    """List the member's reports, newest first, with amend buttons."""
    return await ctx.services.reports.my_reports(member, 0, ctx.now(), paging=False)


@router.choice(MyReportsPage, members_only=True)
async def my_reports_page(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Turn a page of the member's reports."""
    page = MyReportsPage.parse(event.data)
    return await ctx.services.reports.my_reports(
        member, page.offset if page is not None else 0, ctx.now(), paging=True)


@router.command("notifications", members_only=True)
async def notifications(event: Command, ctx: Context, member: Member) -> Outcome:
    """Show whether report notifications are on, with buttons to change it."""
    return ctx.services.reviews.notifications_prompt(member)


@router.choice(ReportStep, members_only=True)
async def report_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Handle a button of the guided report."""
    return await ctx.services.reports.on_callback(member, event.data, ctx.now())


@router.choice(Amend, members_only=True)
async def amend(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Start amending one of the member's reports."""
    ref = Amend.parse(event.data)
    if ref is None:
        return expired_button()
    return await ctx.services.reports.amend(member, ref.report_id, ctx.now())


@router.choice(FieldUpdate, members_only=True)
async def field_update_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """File a field update in a project, or keep it unsent."""
    return await ctx.services.field_updates.on_callback(member, event.data, ctx.now())


@router.choice(Review, members_only=True)
async def review_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Accept a report, or start writing a comment to return it."""
    return await ctx.services.reviews.on_callback(member, event.data, ctx.now())


@router.choice(Notifications, members_only=True)
async def notifications_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Turn report notifications on or off."""
    if member.role not in ("coordinator", "admin"):
        return expired_button()
    ref = Notifications.parse(event.data)
    return await ctx.services.reviews.set_notifications(member, ref is not None and ref.on,
                                                        ctx.now())
