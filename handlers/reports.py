"""Reports: /report, /myreports, /notifications and their buttons (files and texts go to the
core's list of free-input flows, from `handlers/messages.py`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import Amend, FieldUpdate, MyReportsPage, Notifications, ReportStep, Review
from bot.core.onboarding import expired_button
from handlers.common import PRIVATE, answer, callback_data, command_args, members_only, now
from storage.models import Member


@members_only
async def report(update: Update, context: PalabreContext, member: Member) -> None:
    """Show the report named after the command, else start (or resume) a guided report."""
    args = command_args(update)
    if args:
        # `/report R-2026-000042`: anyone may read a report of the projects they follow.
        outcome = await context.services.consultation.show(member, " ".join(args)[:60],
                                                           now(context))
    else:
        outcome = await context.services.reports.begin(member, now(context))
    await answer(update, context, outcome)


@members_only
async def report_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the guided report."""
    outcome = await context.services.reports.on_callback(member, callback_data(update), now(context))
    await answer(update, context, outcome)


@members_only
async def my_reports(update: Update, context: PalabreContext, member: Member) -> None:
    """List the member's reports, newest first, with amend buttons."""
    page = MyReportsPage.parse(callback_data(update))
    outcome = await context.services.reports.my_reports(
        member, page.offset if page is not None else 0, now(context),
        paging=update.callback_query is not None)
    await answer(update, context, outcome)


@members_only
async def amend(update: Update, context: PalabreContext, member: Member) -> None:
    """Start amending one of the member's reports."""
    ref = Amend.parse(callback_data(update))
    if ref is None:
        await answer(update, context, expired_button())
        return
    await answer(update, context,
                 await context.services.reports.amend(member, ref.report_id, now(context)))


@members_only
async def field_update_button(update: Update, context: PalabreContext, member: Member) -> None:
    """File a field update in a project, or keep it unsent."""
    outcome = await context.services.field_updates.on_callback(member, callback_data(update),
                                                               now(context))
    await answer(update, context, outcome)


@members_only
async def review_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Accept a report, or start writing a comment to return it."""
    outcome = await context.services.reviews.on_callback(member, callback_data(update), now(context))
    await answer(update, context, outcome)


@members_only
async def notifications(update: Update, context: PalabreContext, member: Member) -> None:
    """Show whether report notifications are on, with buttons to change it."""
    await answer(update, context, context.services.reviews.notifications_prompt(member))


@members_only
async def notifications_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Turn report notifications on or off."""
    if member.role not in ("coordinator", "admin"):
        await answer(update, context, expired_button())
        return
    ref = Notifications.parse(callback_data(update))
    on = ref is not None and ref.on
    await answer(update, context,
                 await context.services.reviews.set_notifications(member, on, now(context)))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("report", report, filters=PRIVATE),
    CommandHandler("myreports", my_reports, filters=PRIVATE),
    CommandHandler("notifications", notifications, filters=PRIVATE),
    CallbackQueryHandler(report_button, pattern=ReportStep.pattern()),
    CallbackQueryHandler(my_reports, pattern=MyReportsPage.pattern()),
    CallbackQueryHandler(amend, pattern=Amend.pattern()),
    CallbackQueryHandler(field_update_button, pattern=FieldUpdate.pattern()),
    CallbackQueryHandler(review_button, pattern=Review.pattern()),
    CallbackQueryHandler(notifications_button, pattern=Notifications.pattern()),
]
