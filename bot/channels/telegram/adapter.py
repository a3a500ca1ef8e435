"""Telegram's routing: a few PTB handlers that read an update into a neutral event
(`inbound.py`), give it to the features' routers (`handlers.dispatch`) and render the outcome
(`answer.py`). Which feature answers is decided by the routers' ordered list, not here."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

import handlers
from bot.channels.telegram import errors
from bot.channels.telegram import scope as scopes
from bot.channels.telegram.answer import answer
from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.inbound import event_of
from bot.core.events import Command, InboundEvent
from bot.core.replies import Outcome
from handlers.routing import Busy, Context

# Private chats only, and new messages only: an edited message is not a new request.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
MEDIA = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.Document.ALL
         | filters.LOCATION)

_ACTIONS: dict[Busy, str] = {"photo": ChatAction.UPLOAD_PHOTO,
                             "document": ChatAction.UPLOAD_DOCUMENT}


def context_of(update: Update, context: PalabreContext) -> Context:
    """The routers' context of an update: its scope's member, and Telegram's ways to answer."""
    scope = scopes.maybe_current()

    async def send(outcome: Outcome) -> None:
        await answer(update, context, outcome)

    async def busy(kind: Busy) -> None:
        if update.effective_chat is not None:
            await context.bot.send_chat_action(update.effective_chat.id, _ACTIONS[kind])

    return Context(services=context.services, member=scope.member if scope else None,
                   reply_lost=scope.reply_lost if scope else False, send=send, busy=busy)


async def _route(event: InboundEvent | None, update: Update, context: PalabreContext) -> None:
    if event is None:
        return
    outcome = await handlers.dispatch(event, context_of(update, context))
    if outcome is not None:
        await answer(update, context, outcome)


async def on_update(update: Update, context: PalabreContext) -> None:
    """Give the update, read as a neutral event, to the routers; render their answer."""
    await _route(event_of(update), update, context)


async def on_other_command(update: Update, context: PalabreContext) -> None:
    """Give the routers a command no feature's name took, as an unknown command."""
    event = event_of(update)
    if isinstance(event, Command) and event.name in handlers.command_names():
        # `/help@another_bot`: python-telegram-bot's CommandHandler leaves a command addressed
        # to another bot; it stays unknown here, named as typed.
        event = replace(event, name=event.word.lower())
    await _route(event, update, context)


def telegram_handlers() -> list[BaseHandler[Update, PalabreContext, None]]:
    """The PTB handlers, one per kind of update (the kinds never overlap, except where said)."""
    return [
        # Commands by name, read by python-telegram-bot (`/name@this_bot` too)...
        CommandHandler(sorted(handlers.command_names()), on_update, filters=PRIVATE),
        # ...then every other command, unknown.
        MessageHandler(PRIVATE & filters.COMMAND, on_other_command),
        MessageHandler(PRIVATE & filters.TEXT, on_update),
        # Files and places (a message is a text or a file, never both).
        MessageHandler(PRIVATE & MEDIA, on_update),
        MessageHandler(PRIVATE, on_update),  # stickers, contacts…: answered, never dropped
        CallbackQueryHandler(on_update),  # every press; the guards router refuses forged ones
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the handlers, then the error handler."""
    app.add_handlers(telegram_handlers())
    app.add_error_handler(errors.on_error)
