"""Checks that run before every feature: forged button data is refused in one place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import is_out_of_range
from bot.core.onboarding import expired_button
from handlers.common import answer


async def out_of_range(update: Update, context: PalabreContext) -> None:
    """Answer a press carrying an impossible number as an expired button; change nothing."""
    await answer(update, context, expired_button())


HANDLERS = [CallbackQueryHandler(out_of_range, pattern=is_out_of_range)]
