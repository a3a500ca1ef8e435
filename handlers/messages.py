"""Everything not caught before: menu labels, free input (texts, typed codes, files,
locations: given to the core's ordered list of flows, `bot/core/free_input.py`), unknown
commands, other messages, stale choices."""

from __future__ import annotations

from dataclasses import replace

from bot.core.commands import menu_action
from bot.core.events import Choice, Command, FreeInput, Location, MediaMessage, Text, Unsupported
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers import account, announcements, consultation, reports, surveys
from handlers.routing import Context, Router

router = Router("messages")

# Menu labels lead to the same routes as the commands they stand for.
MENU_COMMANDS = frozenset({"help", "language", "mydata", "announce", "report", "myreports",
                           "surveys", "summary", "latest"})
MENU_ROUTERS = (account.router, announcements.router, reports.router, surveys.router,
                consultation.router)


@router.text()
async def text(event: Text, ctx: Context) -> Outcome:
    """Route a menu label, else give the text to the flow that takes it (bot/core/free_input)."""
    action = menu_action(event.body)
    if action in MENU_COMMANDS:
        command = Command(channel=event.channel, sender=event.sender, chat_id=event.chat_id,
                          message_id=event.message_id, reply_to=event.reply_to, name=action)
        for menu_router in MENU_ROUTERS:
            route = menu_router.route_for(command)
            if route is not None:
                return await route.call(command, ctx)
    return await take_free_input(event, ctx)


# Registered before the routes below; a command is never a free text, so order is moot here.
@router.any_command()
async def unknown_command(event: Command, ctx: Context) -> Outcome:
    """Say that the command is unknown and point to /help."""
    return ctx.services.account.unknown_command(ctx.member, event.word or "/" + event.name)


@router.files_and_places()
async def media(event: MediaMessage | Location, ctx: Context) -> Outcome:
    """Keep a file or location: for the flow under way, else as a partner's field update."""
    return await take_free_input(event, ctx)


async def take_free_input(event: FreeInput, ctx: Context) -> Outcome:
    """Give a text, file or location to the first flow of the core's list that takes it."""
    taken = await ctx.services.free_input.take(event, ctx.member, ctx.now(),
                                               reply_lost=ctx.reply_lost)
    # A flow only shown again moved nothing: the outcome says so (`stays`), for the
    # lost-reply note (docs/architecture.md, "Lost replies").
    return replace(taken.outcome, stays=True) if taken.shows_state else taken.outcome


@router.unsupported()
async def other(event: Unsupported, ctx: Context) -> Outcome:
    """Answer messages of kinds not handled yet (stickers, contacts…) instead of ignoring them."""
    if ctx.member is None:
        return await ctx.services.account.help(None)
    return ctx.services.account.not_understood(ctx.member)


@router.any_choice()
async def stale_button(event: Choice, ctx: Context) -> Outcome:
    """Answer a press on a choice nobody handles (old, or forged)."""
    return expired_button()
