"""Telegram's side of the neutral routers: PTB handlers that read an update into a neutral
event, ask the feature's router and render its outcome."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram import scope as scopes
from bot.channels.telegram.answer import answer
from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.inbound import event_of
from bot.core.events import Choice, Command, InboundEvent
from bot.core.people import Person
from bot.core.replies import Outcome
from handlers.common import PRIVATE
from handlers.routing import Busy, Context, Router

_ACTIONS: dict[Busy, str] = {"photo": ChatAction.UPLOAD_PHOTO,
                             "document": ChatAction.UPLOAD_DOCUMENT}


def context_of(update: Update, context: PalabreContext) -> Context:
    """The neutral context of an update: its scope's member, and Telegram's ways to answer."""
    scope = scopes.maybe_current()

    async def send(outcome: Outcome) -> None:
        await answer(update, context, outcome)

    async def busy(kind: Busy) -> None:
        if update.effective_chat is not None:
            await context.bot.send_chat_action(update.effective_chat.id, _ACTIONS[kind])

    return Context(services=context.services, member=scope.member if scope else None,
                   reply_lost=scope.reply_lost if scope else False, send=send, busy=busy)


async def run(routers: tuple[Router, ...], event: InboundEvent, update: Update,
              context: PalabreContext) -> bool:
    """Answer the event with the first route of the routers that takes it."""
    for router in routers:
        route = router.route_for(event)
        if route is not None:
            await answer(update, context, await route.call(event, context_of(update, context)))
            return True
    return False


def handlers_for(router: Router) -> list[BaseHandler[Update, PalabreContext, None]]:
    """PTB handlers for one router's commands and choices."""

    async def on_update(update: Update, context: PalabreContext) -> None:
        """Give the update, read as a neutral event, to the router."""
        event = event_of(update)
        if event is not None:
            await run((router,), event, update, context)

    def takes_choice(data: object) -> bool:
        probe = Choice(channel="telegram", sender=Person(user_id=0, first_name=""), chat_id=0,
                       message_id=None, data=data if isinstance(data, str) else "")
        return router.route_for(probe) is not None

    found: list[BaseHandler[Update, PalabreContext, None]] = []
    if router.command_names():
        found.append(CommandHandler(sorted(router.command_names()), on_update, filters=PRIVATE))
    if any(Choice in route.kinds for route in router.routes):
        found.append(CallbackQueryHandler(on_update, pattern=takes_choice))
    return found


async def run_command(routers: tuple[Router, ...], name: str, update: Update,
                      context: PalabreContext) -> bool:
    """Run a command named by a menu label, as if it had been typed."""
    event = event_of(update)
    if event is None:
        return False
    command = Command(channel=event.channel, sender=event.sender, chat_id=event.chat_id,
                      message_id=event.message_id, reply_to=event.reply_to, name=name)
    return await run(routers, command, update, context)
