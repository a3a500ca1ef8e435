"""Surveys: /surveys, /newsurvey (formerly /survey), /results, and the questionnaire's buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import SurveyAnswer, SurveyExport, SurveyLaunch, SurveyResults
from bot.core.onboarding import expired_button
from handlers.common import PRIVATE, answer, callback_data, members_only, now
from storage.models import Member


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
        member, callback_data(update), now(context)))


@members_only
async def export_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Send a campaign's answers in the member's scope as a spreadsheet."""
    ref = SurveyExport.parse(callback_data(update))
    if ref is None:
        await answer(update, context, expired_button())
        return
    await answer(update, context, await context.services.surveys.export(member,
                                                                        ref.campaign_id))


@members_only
async def answer_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the questionnaire under way."""
    await answer(update, context, await context.services.surveys.on_callback(
        member, callback_data(update), now(context)))


@members_only
async def launch_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the /newsurvey screens."""
    await answer(update, context, await context.services.surveys.on_launch_callback(
        member, callback_data(update), now(context)))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("surveys", pending, filters=PRIVATE),
    CommandHandler("newsurvey", survey, filters=PRIVATE),
    CommandHandler("survey", survey, filters=PRIVATE),  # the former name (ALIASES)
    CommandHandler("results", results, filters=PRIVATE),
    # `SurveyStart` (sv:go:…) is under the same prefix as `SurveyAnswer`.
    CallbackQueryHandler(answer_button, pattern=SurveyAnswer.pattern()),
    CallbackQueryHandler(launch_button, pattern=SurveyLaunch.pattern()),
    CallbackQueryHandler(results_button, pattern=SurveyResults.pattern()),
    CallbackQueryHandler(export_button, pattern=SurveyExport.pattern()),
]
