"""Consultation: /summary, /latest, /export, and the buttons of /latest."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import LatestPage, OpenReport
from handlers.common import PRIVATE, answer, callback_data, command_args, members_only, now
from storage.models import Member


def _argument(update: Update) -> str | None:
    args = command_args(update)
    return " ".join(args)[:100] if args else None


async def _busy(update: Update, context: PalabreContext, action: str) -> None:
    """Show 'sending a photo/file…' while a chart or a workbook is being made."""
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, action)


@members_only
async def summary(update: Update, context: PalabreContext, member: Member) -> None:
    """Show where each project in scope stands, with a chart of its indicators."""
    consultation, slug = context.services.consultation, _argument(update)
    await answer(update, context, await consultation.summary_text(member, now(context), slug))
    await _busy(update, context, ChatAction.UPLOAD_PHOTO)
    charts = await consultation.summary_charts(member, slug)
    if charts.replies:
        await answer(update, context, charts)


@members_only
async def latest(update: Update, context: PalabreContext, member: Member) -> None:
    """List the latest reports in scope, newest first."""
    outcome = await context.services.consultation.latest(member, 0, _argument(update))
    await answer(update, context, outcome)


@members_only
async def latest_page(update: Update, context: PalabreContext, member: Member) -> None:
    """Turn a page of the latest reports."""
    await answer(update, context,
                 await context.services.consultation.latest_page(member, callback_data(update)))


@members_only
async def open_report(update: Update, context: PalabreContext, member: Member) -> None:
    """Show a report picked in the latest reports."""
    await answer(update, context,
                 await context.services.consultation.show_by_id(member, callback_data(update)))


@members_only
async def to_review(update: Update, context: PalabreContext, member: Member) -> None:
    """List the reports waiting for a coordinator's decision."""
    await answer(update, context, await context.services.consultation.to_review(member))


@members_only
async def export(update: Update, context: PalabreContext, member: Member) -> None:
    """Send a spreadsheet of everything in scope."""
    await _busy(update, context, ChatAction.UPLOAD_DOCUMENT)
    await answer(update, context,
                 await context.services.consultation.export(member, now(context)))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("summary", summary, filters=PRIVATE),
    CommandHandler("latest", latest, filters=PRIVATE),
    CommandHandler("toreview", to_review, filters=PRIVATE),
    CommandHandler("export", export, filters=PRIVATE),
    CallbackQueryHandler(latest_page, pattern=LatestPage.pattern()),
    CallbackQueryHandler(open_report, pattern=OpenReport.pattern()),
]
