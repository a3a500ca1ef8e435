"""What every handler needs: the person, the member, the clock, and a way to answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import wraps
from typing import Any

from telegram import Update
from telegram.ext import filters

from bot.channels.telegram import scope as scopes
from bot.channels.telegram.answer import answer as answer  # re-exported while features move
from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.inbound import event_of, sender_of
from bot.core.events import Choice, Command
from bot.core.onboarding import expired_button
from bot.core.people import Person
from bot.core.replies import Outcome
from storage.models import Member

# Private chats only, and new messages only: an edited message is not a new request.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

Callback = Callable[[Update, PalabreContext], Coroutine[Any, Any, None]]
MemberCallback = Callable[[Update, PalabreContext, Member], Coroutine[Any, Any, None]]


def person(update: Update) -> Person:
    """The person an update comes from."""
    return sender_of(update)


def callback_data(update: Update) -> str:
    """The reference a pressed button carries ("" for anything else), read as the neutral
    `Choice` event."""
    event = event_of(update)
    return event.data if isinstance(event, Choice) else ""


def command_args(update: Update) -> tuple[str, ...]:
    """The words after a command (as python-telegram-bot's `context.args`), read as the
    neutral `Command` event; () for anything else (a menu label standing for the command)."""
    event = event_of(update)
    return event.args if isinstance(event, Command) else ()


def now(context: PalabreContext) -> datetime:
    return context.services.clock()


def members_only(callback: MemberCallback) -> Callback:
    """Run the callback for members; tell visitors how to join (or where they stopped)."""

    @wraps(callback)
    async def wrapper(update: Update, context: PalabreContext) -> None:
        member = scopes.current().member
        if member is not None:
            await callback(update, context, member)
            return
        pending = await context.services.store.onboarding.get(person(update).user_id)
        if pending is not None:
            outcome = context.services.onboarding.resume(pending)
        else:
            outcome = await context.services.account.help(None)
        if update.callback_query is not None:
            # A member's button pressed by a visitor (forged, or after /forget).
            outcome = Outcome(replies=outcome.replies, toast=expired_button().toast)
        await answer(update, context, outcome)

    return wrapper
