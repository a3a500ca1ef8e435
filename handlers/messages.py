"""Everything not caught before: menu labels, free input (texts, typed codes, files,
locations: given to the core's ordered list of flows, `bot/core/free_input.py`), unknown
commands, other messages, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.channels.telegram import inbound
from bot.channels.telegram import scope as scopes
from bot.channels.telegram.context import PalabreContext
from bot.core.commands import menu_action
from bot.core.events import Location, MediaMessage, Text
from bot.core.onboarding import expired_button
from handlers import account, announcements, consultation, reports, surveys, telegram_adapter
from handlers.common import PRIVATE, answer, now

MEDIA = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.Document.ALL
         | filters.LOCATION)

# Menu labels lead to the same routes as the commands they stand for.
MENU_COMMANDS = frozenset({"help", "language", "mydata", "announce", "report", "myreports",
                           "surveys", "summary", "latest"})
MENU_ROUTERS = (account.router, announcements.router, reports.router, surveys.router,
                consultation.router)


async def text(update: Update, context: PalabreContext) -> None:
    """Route a menu label, else give the text to the flow that takes it (bot/core/free_input)."""
    message = update.effective_message
    body = (message.text if message else "") or ""
    action = menu_action(body)
    if action in MENU_COMMANDS and await telegram_adapter.run_command(
            MENU_ROUTERS, action, update, context):
        return
    await take_free_input(update, context)


async def media(update: Update, context: PalabreContext) -> None:
    """Keep a file or location: for the flow under way, else as a partner's field update."""
    await take_free_input(update, context)


async def take_free_input(update: Update, context: PalabreContext) -> None:
    """Give a text, file or location to the first flow of the core's list that takes it."""
    event = inbound.event_of(update)
    scope = scopes.current()
    if not isinstance(event, Text | MediaMessage | Location):
        # Only the text and media handlers call this, with such messages.
        raise TypeError(f"not a free input: {type(event).__name__}")
    taken = await context.services.free_input.take(event, scope.member, now(context),
                                                   reply_lost=scope.reply_lost)
    if taken.shows_state:
        scope.shows_state = True
    await answer(update, context, taken.outcome)


async def unknown_command(update: Update, context: PalabreContext) -> None:
    """Say that the command is unknown and point to /help."""
    message = update.effective_message
    command = ((message.text if message else "") or "/").split()[0]
    outcome = context.services.account.unknown_command(scopes.current().member, command)
    await answer(update, context, outcome)


async def other(update: Update, context: PalabreContext) -> None:
    """Answer messages of kinds not handled yet (photos, stickers…) instead of ignoring them."""
    member = scopes.current().member
    if member is None:
        await answer(update, context, await context.services.account.help(None))
        return
    await answer(update, context, context.services.account.not_understood(member))


async def stale_button(update: Update, context: PalabreContext) -> None:
    """Answer a press on a button nobody handles (old, or forged)."""
    await answer(update, context, expired_button())


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, text),
    MessageHandler(PRIVATE & filters.COMMAND, unknown_command),
    # Files and places (a message is a text or a file, never both: the order among these
    # does not matter).
    MessageHandler(PRIVATE & MEDIA, media),
    MessageHandler(PRIVATE, other),
    CallbackQueryHandler(stale_button),
]


