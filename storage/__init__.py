"""The shared store: an SQLite database behind small repositories."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiosqlite

from storage.announcements import AnnouncementRepo
from storage.consultation import ConsultationRepo
from storage.db import Database, StorageError
from storage.inbox import InboxRepo
from storage.invitations import InvitationRepo
from storage.kv import KeyValueRepo
from storage.members import MemberRepo
from storage.migrations import upgrade
from storage.network import NetworkRepo
from storage.onboarding import OnboardingRepo
from storage.privacy import PrivacyRepo
from storage.reminders import ReminderRepo
from storage.reports import ReportRepo
from storage.surveys import SurveyRepo
from storage.whatsapp import WhatsAppRepo

__all__ = ["Database", "StorageError", "Store"]


class Store:
    """The repositories over one database; open with `await Store.open(path)`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.network = NetworkRepo(db)
        self.members = MemberRepo(db)
        self.invitations = InvitationRepo(db)
        self.onboarding = OnboardingRepo(db)
        self.inbox = InboxRepo(db)
        self.whatsapp = WhatsAppRepo(db)
        self.kv = KeyValueRepo(db)
        self.reports = ReportRepo(db)
        self.reminders = ReminderRepo(db)
        self.consultation = ConsultationRepo(db)
        self.announcements = AnnouncementRepo(db)
        self.surveys = SurveyRepo(db)
        self.privacy = PrivacyRepo(db)

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open the database and apply pending migrations."""
        db = Database(path)
        await db.open()
        try:
            await upgrade(db)
        except Exception as exc:
            await db.close()
            raise StorageError(f"cannot migrate database {path}: {exc}") from exc
        return cls(db)

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """Shortcut for `self.db.transaction()`."""
        return self.db.transaction()

    async def close(self) -> None:
        await self.db.close()
