"""The long-lived services of a running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.config import Settings
from bot.core.account import AccountService
from bot.core.announcements import AnnouncementService
from bot.core.consultation import ConsultationService
from bot.core.field_updates import FieldUpdateService
from bot.core.free_input import FreeInputRouter
from bot.core.onboarding import OnboardingService
from bot.core.reminders import ReminderService
from bot.core.reports import ReportService
from bot.core.reviews import ReviewService
from bot.core.surveys import SurveyService
from bot.documents import Documents
from storage import StorageError, Store

Clock = Callable[[], datetime]
T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(UTC)


def update_sender(raw: Mapping[str, Any]) -> int | None:
    """Return the id of the person an update comes from, whatever its kind."""
    for key, value in raw.items():
        if key != "update_id" and isinstance(value, Mapping):
            sender = value.get("from") or value.get("user")
            if isinstance(sender, Mapping) and isinstance(sender.get("id"), int):
                return int(sender["id"])
            chat = value.get("chat")
            if isinstance(chat, Mapping) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


def _opened(service: T | None) -> T:
    if service is None:
        raise StorageError("services are not open")
    return service


class Services:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self._store: Store | None = None
        self._onboarding: OnboardingService | None = None
        self._account: AccountService | None = None
        self._reports: ReportService | None = None
        self._field_updates: FieldUpdateService | None = None
        self._reviews: ReviewService | None = None
        self._consultation: ConsultationService | None = None
        self._announcements: AnnouncementService | None = None
        self._reminders: ReminderService | None = None
        self._surveys: SurveyService | None = None
        self._free_input: FreeInputRouter | None = None

    async def open(self) -> None:
        self._store = await Store.open(self.settings.database)
        self._onboarding = OnboardingService(self._store, self.settings)
        self._account = AccountService(self._store, self.settings.media_dir)
        self._reports = ReportService(self._store, self.settings.timezone)
        self._announcements = AnnouncementService(self._store, self.settings.timezone)
        self._field_updates = FieldUpdateService(self._store, self._reports,
                                                 self._announcements)
        self._reviews = ReviewService(self._store, self._reports)
        documents = Documents(self._store, self.settings.database)
        self._surveys = SurveyService(self._store, self._announcements, self.settings.timezone,
                                      documents)
        self._consultation = ConsultationService(self._store, self._reports, self._surveys,
                                                 documents)
        self._reminders = ReminderService(self._store, self._reports, self._surveys,
                                          self.settings.timezone)
        self._free_input = FreeInputRouter(
            self._store, onboarding=self._onboarding, account=self._account,
            announcements=self._announcements, reviews=self._reviews, reports=self._reports,
            surveys=self._surveys, field_updates=self._field_updates,
            max_download_bytes=lambda: self.settings.max_download_bytes)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None

    @property
    def store(self) -> Store:
        return _opened(self._store)

    @property
    def onboarding(self) -> OnboardingService:
        return _opened(self._onboarding)

    @property
    def account(self) -> AccountService:
        return _opened(self._account)

    @property
    def consultation(self) -> ConsultationService:
        return _opened(self._consultation)

    @property
    def reports(self) -> ReportService:
        return _opened(self._reports)

    @property
    def field_updates(self) -> FieldUpdateService:
        return _opened(self._field_updates)

    @property
    def reviews(self) -> ReviewService:
        return _opened(self._reviews)

    @property
    def reminders(self) -> ReminderService:
        return _opened(self._reminders)

    @property
    def announcements(self) -> AnnouncementService:
        return _opened(self._announcements)

    @property
    def surveys(self) -> SurveyService:
        return _opened(self._surveys)

    @property
    def free_input(self) -> FreeInputRouter:
        return _opened(self._free_input)

    async def record_updates(self, raw_updates: Sequence[Mapping[str, Any]],
                             quarantined: Sequence[tuple[int, str, str]] = ()) -> None:
        """Store fetched updates durably before Telegram can be told they were received;
        keep the unreadable ones (id, escaped JSON, reason) apart, closed in the inbox."""
        if quarantined:
            await self.store.inbox.quarantine(quarantined, self.clock())
        rows = [
            (int(raw["update_id"]), update_sender(raw),
             json.dumps(raw, ensure_ascii=False, separators=(",", ":")))
            for raw in raw_updates
            if isinstance(raw.get("update_id"), int)
        ]
        await self.store.inbox.record(rows, self.clock())
