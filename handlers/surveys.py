"""Surveys: /surveys, /newsurvey (formerly /survey), /results, and the questionnaire's buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.onboarding import expired_button
from bot.transport.context import PalabreContext
from handlers.common import PRIVATE, answer, members_only, now
from storage.models import Member


def _data(update: Update) -> str:
    return (update.callback_query and update.callback_query.data) or ""


@members_only
async def pending(update: Update, context: PalabreContext, member: Member) -> None:
    """List the questionnaires waiting for the member, with Start buttons."""
    await answer(update, context, await context.services.surveys.pending(member, now(context)))


@members_only
async def survey(update: Update, context: PalabreContext, member: Member) -> None:
    """Start choosing a questionnaire to send (coordinators and administrators)."""
    await answer(update, context, await context.services.surveys.begin_launch(member))


@members_only
async def results(update: Update, context: PalabreContext, member: Member) -> None:
    """Offer the questionnaires whose results the member may read."""
    await answer(update, context, await context.services.surveys.results_menu(member))


@members_only
async def results_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Show the results of one campaign (overview and chart), or one question's answers."""
    await answer(update, context, await context.services.surveys.on_results_callback(
        member, _data(update), now(context)))


@members_only
async def export_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Send a campaign's answers in the member's scope as a spreadsheet."""
    campaign_id = _data(update).removeprefix("sx:")
    if not campaign_id.isdigit():
        await answer(update, context, expired_button())
        return
    await answer(update, context, await context.services.surveys.export(member,
                                                                        int(campaign_id)))


@members_only
async def answer_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the questionnaire under way."""
    await answer(update, context, await context.services.surveys.on_callback(
        member, _data(update), now(context)))


@members_only
async def launch_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the /newsurvey screens."""
    await answer(update, context, await context.services.surveys.on_launch_callback(
        member, _data(update), now(context)))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("surveys", pending, filters=PRIVATE),
    CommandHandler("newsurvey", survey, filters=PRIVATE),
    CommandHandler("survey", survey, filters=PRIVATE),  # the former name (ALIASES)
    CommandHandler("results", results, filters=PRIVATE),
    CallbackQueryHandler(answer_button, pattern=r"^sv:"),
    CallbackQueryHandler(launch_button, pattern=r"^sl:"),
    CallbackQueryHandler(results_button, pattern=r"^sr:"),
    CallbackQueryHandler(export_button, pattern=r"^sx:"),
]
