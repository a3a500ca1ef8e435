"""Joining: /start with or without a code, the language buttons, the consent buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.onboarding import CB_BACK_TO_LANGUAGE, CB_CONSENT_YES, CB_LANGUAGE
from bot.transport.context import PalabreContext
from handlers.common import PRIVATE, answer, now, person


async def start(update: Update, context: PalabreContext) -> None:
    """Greet a member, or start joining with the invitation code from the link."""
    payload = " ".join(context.args or []) or None
    outcome = await context.services.onboarding.start(person(update), payload, now(context))
    await answer(update, context, outcome)


async def choose_language(update: Update, context: PalabreContext) -> None:
    """Record the language chosen while joining."""
    data = (update.callback_query and update.callback_query.data) or ""
    outcome = await context.services.onboarding.choose_language(
        person(update), data.removeprefix(CB_LANGUAGE), now(context))
    await answer(update, context, outcome)


async def consent(update: Update, context: PalabreContext) -> None:
    """Record the answer to the consent text and enrol the member."""
    data = (update.callback_query and update.callback_query.data) or ""
    outcome = await context.services.onboarding.answer_consent(
        person(update), data == CB_CONSENT_YES, now(context))
    await answer(update, context, outcome)


async def back_to_language(update: Update, context: PalabreContext) -> None:
    """Go back from the consent text to the choice of language."""
    outcome = await context.services.onboarding.back_to_language(person(update), now(context))
    await answer(update, context, outcome)


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("start", start, filters=PRIVATE),
    CallbackQueryHandler(choose_language, pattern=r"^ob:l:"),
    CallbackQueryHandler(consent, pattern=r"^ob:c:[01]$"),
    CallbackQueryHandler(back_to_language, pattern=f"^{CB_BACK_TO_LANGUAGE}$"),
]
