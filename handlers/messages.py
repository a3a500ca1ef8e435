"""Everything not caught before: menu buttons, typed codes, unknown commands, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.channels.telegram import scope as scopes
from bot.channels.telegram.context import PalabreContext
from bot.core import codes, guided
from bot.core.commands import menu_action
from bot.core.media import Media
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers import account, announcements, consultation, reports, surveys
from handlers.common import PRIVATE, answer, now, person
from storage.models import Member

# Menu labels lead to the same callbacks as the commands they stand for.
MENU_ACTIONS = {
    "report": reports.report,
    "myreports": reports.my_reports,
    "summary": consultation.summary,
    "latest": consultation.latest,
    "help": account.help_command,
    "language": account.language,
    "mydata": account.my_data,
    "announce": announcements.announce,
    "surveys": surveys.pending,
}


async def text(update: Update, context: PalabreContext) -> None:
    """Route a menu label, take a typed invitation code, or explain what to do."""
    message = update.effective_message
    body = (message.text if message else "") or ""
    action = menu_action(body)
    if action in MENU_ACTIONS:
        await MENU_ACTIONS[action](update, context)
        return
    services = context.services
    member = scopes.current().member
    who = person(update)
    if member is None and codes.looks_like_code(body):
        # A visitor typed the code instead of opening the link: the same as /start CODE. A
        # member's text is never read as a code (a report's words, a comment…), so it never
        # counts towards the wrong-code lockout either.
        await answer(update, context, await services.onboarding.start(who, body, now(context)))
        return
    if member is not None:
        # A reply to an announcement, then an announcement or a comment being written, then
        # (when the last reply may have been lost) the state of the flow under way shown
        # again, then an answer to the guided flow touched last (a report, a questionnaire),
        # then (from a partner) a field update: free text is never dropped.
        scope = scopes.current()
        outcome = ((message and await announcements.reply_outcome(message, context, member))
                   or await services.announcements.on_text(member, body, now(context))
                   or await services.reviews.on_text(member, body, now(context))
                   or (scope.reply_lost and await _reshow(context, member))
                   or await _guided_text(context, member, body))
        if outcome is None:
            # A partner's text becomes a field update; anyone's text typed soon after an
            # announcement is offered to its author as an answer.
            outcome = await services.field_updates.receive_text(
                member, Media("text", body=body, chat_id=message.chat_id if message else None,
                              message_id=message.message_id if message else None),
                now(context))
        await answer(update, context, outcome or services.account.not_understood(member))
        return
    pending = await services.store.onboarding.get(who.user_id)
    outcome = (services.onboarding.resume(pending) if pending
               else await services.account.help(None))
    await answer(update, context, outcome)


async def _guided_text(context: PalabreContext, member: Member, body: str) -> Outcome | None:
    """Give the text to the guided flow the member touched last (a report, a questionnaire)."""
    services, moment = context.services, now(context)
    for flow in await guided.under_way(services.store, member):
        outcome = (await services.reports.on_text(member, body, moment) if flow == "report"
                   else await services.surveys.on_text(member, body, moment))
        if outcome is not None:
            return outcome
    return None


async def _reshow(context: PalabreContext, member: Member) -> Outcome | None:
    """Show the flow under way again instead of taking the text as its next answer."""
    services, moment = context.services, now(context)
    for flow in await guided.under_way(services.store, member):
        outcome = (await services.reports.reshow(member, moment) if flow == "report"
                   else await services.surveys.where_you_are(member, moment))
        if outcome is not None:
            scopes.current().shows_state = True
            return outcome
    return None


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
    MessageHandler(PRIVATE, other),
    CallbackQueryHandler(stale_button),
]


