"""Build the Telegram application and run it: one builder chain, one serving coroutine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.channels.telegram import adapter, answer, render
from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.media import MediaFetcher
from bot.channels.telegram.outbox import OutboxSender
from bot.channels.telegram.processor import InboxUpdateProcessor
from bot.channels.telegram.ratelimit import FloodLimiter
from bot.channels.telegram.recording_request import RecordingRequest
from bot.channels.telegram.reminders import ReminderSender
from bot.channels.whatsapp.serving import WhatsAppChannel
from bot.config import Settings
from bot.core.replies import Notice
from bot.logs import add_secret
from bot.services import Clock, Services, system_clock

log = logging.getLogger(__name__)
PalabreApp = Application[Any, PalabreContext, Any, Any, Any, Any]
INBOX_RETENTION = timedelta(days=30)
MEDIA_INTERVAL = timedelta(seconds=5)
PLAN_INTERVAL = timedelta(hours=1)
REMINDER_INTERVAL = timedelta(seconds=30)


def build_application(settings: Settings, clock: Clock = system_clock) -> PalabreApp:
    """Build the bot: services are opened in post_init and closed in post_shutdown."""
    token = settings.token()
    add_secret(token)
    services = Services(settings, clock)
    app: PalabreApp = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_file_url)
        .defaults(Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            tzinfo=ZoneInfo(settings.timezone),
        ))
        .context_types(ContextTypes(context=PalabreContext))
        .concurrent_updates(InboxUpdateProcessor(services, max_concurrent_updates=64))
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(RecordingRequest(
            services.record_updates, connection_pool_size=2, read_timeout=15.0,
        ))
        .rate_limiter(FloodLimiter(
            overall_per_second=settings.broadcast_rate, chat_per_second=settings.chat_rate,
            group_per_minute=settings.group_rate,
        ))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["services"] = services
    app.bot_data["media"] = MediaFetcher(services)
    if settings.whatsapp_enabled:
        # Served beside Telegram's polling: the webhook, its processor, its client. A notice
        # for a Telegram person (a review card) goes through Telegram's bot.
        async def notify_on_telegram(notice: Notice) -> None:
            """Send a WhatsApp update's notice to a person on Telegram."""
            await answer.notify(app.bot, services, notice)

        app.bot_data["whatsapp"] = WhatsAppChannel(services, notify_other=notify_on_telegram)
    adapter.register(app)
    return app


def whatsapp_channel(app: Application[Any, Any, Any, Any, Any, Any]) -> WhatsAppChannel | None:
    """The WhatsApp side of the bot, when `PALABRE_WHATSAPP_TOKEN` is set."""
    channel: WhatsAppChannel | None = app.bot_data.get("whatsapp")
    return channel


def services_of(app: PalabreApp) -> Services:
    services: Services = app.bot_data["services"]
    return services


async def _post_init(app: PalabreApp) -> None:
    services = services_of(app)
    await services.open()
    await services.store.kv.set("bot_username", app.bot.username)
    await render.set_visitor_commands(app.bot, services.settings.default_language)
    replayed = await replay_pending(app)
    if replayed:
        log.info("replaying %d update(s) recorded but not handled before the last stop", replayed)
    limiter = app.bot.rate_limiter
    sender = OutboxSender(services, app.bot,
                          limiter if isinstance(limiter, FloodLimiter) else None)
    app.bot_data["outbox"] = sender
    await sender.start()
    reminders = ReminderSender(services, app.bot,
                               limiter if isinstance(limiter, FloodLimiter) else None)
    app.bot_data["reminders"] = reminders
    await reminders.start()
    if app.job_queue is not None:
        app.job_queue.run_repeating(_fetch_media, interval=MEDIA_INTERVAL, first=1)
        # Planned first, then sent: after a downtime, what fell due is caught up at once.
        app.job_queue.run_repeating(_plan_reminders, interval=PLAN_INTERVAL, first=0.5)
        app.job_queue.run_repeating(_send_reminders, interval=REMINDER_INTERVAL, first=2)
        app.job_queue.run_repeating(_housekeeping, interval=timedelta(hours=6), first=60)
    whatsapp = whatsapp_channel(app)
    if whatsapp is not None:
        await whatsapp.start()
        # Files people send on WhatsApp are fetched with the other files, by Meta's media id.
        media_fetcher(app).downloads["whatsapp"] = whatsapp.download
        # Telegram's notices for WhatsApp people (a partner's receipt after a review…).
        app.bot_data["notify_other_channel"] = whatsapp.processor.notify
        # WhatsApp people's announcements and reminders go out on WhatsApp.
        sender.channel = "telegram"
        reminders.other_channel = whatsapp.sender.send_reminder


async def _plan_reminders(context: PalabreContext) -> None:
    """Plan the reminders the current reporting periods call for."""
    await reminder_sender(context.application).plan()
    # Planning reads every partner: hand the pages it touched back (idle memory stays low).
    await context.services.store.db.release_memory()


async def _send_reminders(context: PalabreContext) -> None:
    """Start sending the reminders that are due (in the background, until none is)."""
    reminder_sender(context.application).start_tick()


def reminder_sender(app: Application[Any, Any, Any, Any, Any, Any]) -> ReminderSender:
    sender: ReminderSender = app.bot_data["reminders"]
    return sender


async def _post_stop(app: PalabreApp) -> None:
    # WhatsApp first: no webhook is taken in once stopping has begun, and a message being
    # handled is rolled back, pending for the next start.
    whatsapp = whatsapp_channel(app)
    if whatsapp is not None:
        media_fetcher(app).downloads.pop("whatsapp", None)
        await whatsapp.stop()
    # Before the HTTP client closes: calls under way finish and are recorded (a call cut
    # off half-way would leave its message's delivery unknown).
    sender: OutboxSender | None = app.bot_data.get("outbox")
    if sender is not None:
        await sender.stop()
    reminders: ReminderSender | None = app.bot_data.get("reminders")
    if reminders is not None:
        await reminders.stop()


async def _post_shutdown(app: PalabreApp) -> None:
    await _post_stop(app)  # when the application never started
    await services_of(app).close()


async def replay_pending(app: PalabreApp) -> int:
    """Queue the updates recorded in the inbox but never handled (e.g. after a crash)."""
    services = services_of(app)
    count = 0
    for entry in await services.store.inbox.pending():
        if entry.payload is None:
            # The person asked for their data to be deleted (/forget) before it was handled.
            async with services.store.transaction():
                await services.store.inbox.mark(entry.update_id, "handled", services.clock(),
                                                "payload deleted at the person's request")
            continue
        try:
            update = Update.de_json(json.loads(entry.payload), app.bot)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("update %s in the inbox cannot be read: %s", entry.update_id, exc)
            async with services.store.transaction():
                await services.store.inbox.fail(entry.update_id, services.clock(),
                                                f"unreadable payload: {exc}")
            continue
        await app.update_queue.put(update)
        count += 1
    return count


def media_fetcher(app: Application[Any, Any, Any, Any, Any, Any]) -> MediaFetcher:
    fetcher: MediaFetcher = app.bot_data["media"]
    return fetcher


async def _fetch_media(context: PalabreContext) -> None:
    """Download the files received since the last round (and retry earlier failures)."""
    await media_fetcher(context.application).run_once(context.bot)


async def _housekeeping(context: PalabreContext) -> None:
    """Forget handled updates after the retention period and declined field updates."""
    services = context.services
    removed = await services.store.inbox.prune(services.clock() - INBOX_RETENTION)
    removed += await services.store.whatsapp.prune(services.clock() - INBOX_RETENTION)
    purged = await services.field_updates.purge_declined(services.clock())
    if removed or purged:
        log.info("housekeeping: %d inbox entries, %d declined field updates removed",
                 removed, purged)


async def serve(app: PalabreApp, stop: asyncio.Event, *, poll_timeout: int = 10) -> None:
    """Run the bot with long polling until `stop` is set (as run_polling does, without a loop)."""
    # Each teardown step runs even when an earlier one fails: with a revoked token,
    # `updater.stop()` raises again, and the store must still be closed (its worker threads
    # would otherwise keep the process alive after the bot is gone).
    async with contextlib.AsyncExitStack() as teardown:
        await app.initialize()
        if app.post_shutdown:
            teardown.push_async_callback(app.post_shutdown, app)
        teardown.push_async_callback(app.shutdown)
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        teardown.push_async_callback(_stop_polling, app)
        await app.start()
        teardown.push_async_callback(_stop_application, app)
        # First of all on the way down: no new broadcast message once stopping has begun.
        teardown.push_async_callback(_post_stop, app)
        log.info("Palabre is running as @%s", app.bot.username)
        await _until_stopped_or_polling_ends(stop)


async def _stop_polling(app: PalabreApp) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()


async def _stop_application(app: PalabreApp) -> None:
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)


POLLING_TASK = "Updater:start_polling:polling_task"  # the name PTB gives its polling task


async def _until_stopped_or_polling_ends(stop: asyncio.Event) -> None:
    """Wait for `stop`, but end (re-raising its error) if polling dies on its own, e.g. when
    Telegram revokes the token: a bot that no longer polls must not look alive."""
    polling = next((t for t in asyncio.all_tasks() if t.get_name() == POLLING_TASK), None)
    stopped = asyncio.create_task(stop.wait())
    watched: set[asyncio.Future[Any]] = {stopped}
    if polling is not None:
        watched.add(polling)
    try:
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if polling is not None and polling.done() and not stop.is_set():
        error = None if polling.cancelled() else polling.exception()
        log.error("polling stopped on its own: %r", error)
        if error is not None:
            raise error
        raise RuntimeError("polling stopped on its own")


async def wait_handled(app: PalabreApp, update_id: int, timeout: float = 10.0) -> str:
    """Wait until an update is closed in the inbox and its replies are sent; return its status."""
    processor = app.update_processor
    store = services_of(app).store
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        # Busy first, then the status: read the other way round, a status read just before
        # the update's closing (say `handled`, then `failed`) could be returned as final.
        busy = isinstance(processor, InboxUpdateProcessor) and processor.busy_with(update_id)
        status = await store.inbox.status(update_id)
        if status in ("handled", "failed") and not busy:
            return status
        if loop.time() > deadline:
            raise TimeoutError(f"update {update_id} was not handled in {timeout:.0f} s")
        await asyncio.sleep(0.01)
