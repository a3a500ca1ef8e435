"""Every member's own account: /help, /language, /cancel, /stop, /mydata, /forget."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram import scope as scopes
from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import AccountLanguage, Forget
from handlers.common import PRIVATE, answer, callback_data, members_only, now, person
from storage.models import Member


async def help_command(update: Update, context: PalabreContext) -> None:
    """List what the person may do, by role (or how to join)."""
    await answer(update, context, await context.services.account.help(scopes.current().member))


@members_only
async def language(update: Update, context: PalabreContext, member: Member) -> None:
    """Offer the four languages."""
    await answer(update, context, context.services.account.language_prompt(member))


@members_only
async def set_language(update: Update, context: PalabreContext, member: Member) -> None:
    """Switch the member's language."""
    ref = AccountLanguage.parse(callback_data(update))
    outcome = await context.services.account.set_language(
        member, ref.language if ref else "", now(context))
    await answer(update, context, outcome)


async def cancel(update: Update, context: PalabreContext) -> None:
    """Leave the flow under way, if any (the first in the core's list of flows)."""
    outcome = await context.services.free_input.cancel(scopes.current().member,
                                                       person(update).user_id, now(context))
    await answer(update, context, outcome)


@members_only
async def stop(update: Update, context: PalabreContext, member: Member) -> None:
    """Stop reminders and announcements; keep the data."""
    await answer(update, context, await context.services.account.stop(member, now(context)))


@members_only
async def my_data(update: Update, context: PalabreContext, member: Member) -> None:
    """Send the member their stored data as a JSON document."""
    await answer(update, context, await context.services.account.my_data(member, now(context)))


@members_only
async def forget(update: Update, context: PalabreContext, member: Member) -> None:
    """Ask for confirmation before deleting personal data."""
    await answer(update, context, context.services.account.forget_prompt())


@members_only
async def forget_answer(update: Update, context: PalabreContext, member: Member) -> None:
    """Delete personal data if confirmed."""
    ref = Forget.parse(callback_data(update))
    confirmed = ref is not None and ref.confirmed
    outcome = await context.services.account.forget(member, confirmed, now(context))
    await answer(update, context, outcome)


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("help", help_command, filters=PRIVATE),
    CommandHandler("language", language, filters=PRIVATE),
    CommandHandler("cancel", cancel, filters=PRIVATE),
    CommandHandler("stop", stop, filters=PRIVATE),
    CommandHandler("mydata", my_data, filters=PRIVATE),
    CommandHandler("forget", forget, filters=PRIVATE),
    CallbackQueryHandler(set_language, pattern=AccountLanguage.pattern()),
    CallbackQueryHandler(forget_answer, pattern=Forget.pattern()),
]
