"""Reports: /report, /myreports, /notifications, their buttons, and files sent by members."""

from __future__ import annotations

from typing import Protocol

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.channels.telegram.context import PalabreContext
from bot.core import guided
from bot.core.callbacks import Amend, FieldUpdate, MyReportsPage, Notifications, ReportStep, Review
from bot.core.media import Media, MediaKind, location_refused
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers import announcements
from handlers.common import PRIVATE, answer, members_only, now
from storage.models import Member


class _FileLike(Protocol):
    file_id: str
    file_unique_id: str
    file_size: int | None


def media_of(message: Message) -> Media | None:
    """What a message carries, with Telegram's file id (never the sender's file name)."""
    chat_id, message_id = message.chat_id, message.message_id
    if message.location is not None:
        return Media("location", latitude=message.location.latitude,
                     longitude=message.location.longitude, chat_id=chat_id,
                     message_id=message_id)
    found: tuple[MediaKind, _FileLike, str | None] | None = None
    if message.photo:
        found = ("photo", message.photo[-1], "image/jpeg")  # the largest size
    elif message.voice is not None:
        found = ("voice", message.voice, message.voice.mime_type)
    elif message.audio is not None:
        found = ("audio", message.audio, message.audio.mime_type)
    elif message.video is not None:
        found = ("video", message.video, message.video.mime_type)
    elif message.document is not None:
        found = ("document", message.document, message.document.mime_type)
    if found is None:
        return None
    kind, item, mime_type = found
    return Media(kind, item.file_id, item.file_unique_id, mime_type, item.file_size,
                 caption=message.caption, media_group_id=message.media_group_id,
                 chat_id=chat_id, message_id=message_id)


@members_only
async def report(update: Update, context: PalabreContext, member: Member) -> None:
    """Show the report named after the command, else start (or resume) a guided report."""
    if context.args:
        # `/report R-2026-000042`: anyone may read a report of the projects they follow.
        outcome = await context.services.consultation.show(member, " ".join(context.args)[:60],
                                                           now(context))
    else:
        outcome = await context.services.reports.begin(member, now(context))
    await answer(update, context, outcome)


def _data(update: Update) -> str:
    return (update.callback_query and update.callback_query.data) or ""


@members_only
async def report_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of the guided report."""
    outcome = await context.services.reports.on_callback(member, _data(update), now(context))
    await answer(update, context, outcome)


@members_only
async def my_reports(update: Update, context: PalabreContext, member: Member) -> None:
    """List the member's reports, newest first, with amend buttons."""
    page = MyReportsPage.parse(_data(update))
    outcome = await context.services.reports.my_reports(
        member, page.offset if page is not None else 0, now(context),
        paging=update.callback_query is not None)
    await answer(update, context, outcome)


@members_only
async def amend(update: Update, context: PalabreContext, member: Member) -> None:
    """Start amending one of the member's reports."""
    ref = Amend.parse(_data(update))
    if ref is None:
        await answer(update, context, expired_button())
        return
    await answer(update, context,
                 await context.services.reports.amend(member, ref.report_id, now(context)))


@members_only
async def field_update_button(update: Update, context: PalabreContext, member: Member) -> None:
    """File a field update in a project, or keep it unsent."""
    outcome = await context.services.field_updates.on_callback(member, _data(update),
                                                               now(context))
    await answer(update, context, outcome)


@members_only
async def review_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Accept a report, or start writing a comment to return it."""
    outcome = await context.services.reviews.on_callback(member, _data(update), now(context))
    await answer(update, context, outcome)


@members_only
async def notifications(update: Update, context: PalabreContext, member: Member) -> None:
    """Show whether report notifications are on, with buttons to change it."""
    await answer(update, context, context.services.reviews.notifications_prompt(member))


@members_only
async def notifications_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Turn report notifications on or off."""
    if member.role not in ("coordinator", "admin"):
        await answer(update, context, expired_button())
        return
    ref = Notifications.parse(_data(update))
    on = ref is not None and ref.on
    await answer(update, context,
                 await context.services.reviews.set_notifications(member, on, now(context)))


@members_only
async def media(update: Update, context: PalabreContext, member: Member) -> None:
    """Keep a file or location: for the report under way, else as a field update."""
    message = update.effective_message
    item = None if message is None else media_of(message)
    services = context.services
    if item is None:
        await answer(update, context, services.account.not_understood(member))
        return
    if not item.has_valid_location:
        await answer(update, context, location_refused())  # never stored, never shown
        return
    refused = item.size is not None and item.size > services.settings.max_download_bytes
    # A captioned reply to an announcement goes to its author; a photo or document may be
    # the announcement being written; else it belongs to the report under way.
    outcome = ((message and await announcements.reply_outcome(message, context, member))
               or await services.announcements.on_media(member, item.kind, item.file_id,
                                                        item.caption, now(context))
               or await _guided_media(context, member, item, refused))
    if outcome is None and member.role == "partner":
        outcome = await services.field_updates.receive(member, item, refused, now(context))
    await answer(update, context, outcome or services.account.not_understood(member))


async def _guided_media(context: PalabreContext, member: Member, item: Media,
                        refused: bool) -> Outcome | None:
    """Give the file to the guided flow the member touched last (a report, a questionnaire)."""
    services, moment = context.services, now(context)
    for flow in await guided.under_way(services.store, member):
        outcome = (await services.reports.on_media(member, item, refused, moment)
                   if flow == "report" else
                   await services.surveys.on_media(member, item.kind, item.file_id,
                                                   item.latitude, item.longitude, moment))
        if outcome is not None:
            return outcome
    return None


MEDIA = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.Document.ALL
         | filters.LOCATION)
HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("report", report, filters=PRIVATE),
    CommandHandler("myreports", my_reports, filters=PRIVATE),
    CommandHandler("notifications", notifications, filters=PRIVATE),
    CallbackQueryHandler(report_button, pattern=ReportStep.pattern()),
    CallbackQueryHandler(my_reports, pattern=MyReportsPage.pattern()),
    CallbackQueryHandler(amend, pattern=Amend.pattern()),
    CallbackQueryHandler(field_update_button, pattern=FieldUpdate.pattern()),
    CallbackQueryHandler(review_button, pattern=Review.pattern()),
    CallbackQueryHandler(notifications_button, pattern=Notifications.pattern()),
    MessageHandler(PRIVATE & MEDIA, media),
]
