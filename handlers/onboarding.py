"""Joining: /start with or without a code, the language buttons, the consent buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import OnboardingBack, OnboardingConsent, OnboardingLanguage
from handlers.common import PRIVATE, answer, callback_data, command_args, now, person


async def start(update: Update, context: PalabreContext) -> None:
    """Greet a member, or start joining with the invitation code from the link."""
    payload = " ".join(command_args(update)) or None
    outcome = await context.services.onboarding.start(person(update), payload, now(context))
    await answer(update, context, outcome)


async def choose_language(update: Update, context: PalabreContext) -> None:
    """Record the language chosen while joining."""
    ref = OnboardingLanguage.parse(callback_data(update))
    outcome = await context.services.onboarding.choose_language(
        person(update), ref.language if ref else "", now(context))
    await answer(update, context, outcome)


async def consent(update: Update, context: PalabreContext) -> None:
    """Record the answer to the consent text and enrol the member."""
    ref = OnboardingConsent.parse(callback_data(update))
    outcome = await context.services.onboarding.answer_consent(
        person(update), ref is not None and ref.agreed, now(context))
    await answer(update, context, outcome)


async def back_to_language(update: Update, context: PalabreContext) -> None:
    """Go back from the consent text to the choice of language."""
    outcome = await context.services.onboarding.back_to_language(person(update), now(context))
    await answer(update, context, outcome)


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("start", start, filters=PRIVATE),
    CallbackQueryHandler(choose_language, pattern=OnboardingLanguage.pattern()),
    CallbackQueryHandler(consent, pattern=OnboardingConsent.pattern()),
    CallbackQueryHandler(back_to_language, pattern=OnboardingBack.pattern()),
]
