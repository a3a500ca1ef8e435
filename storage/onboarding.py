"""People between opening an invitation and accepting the consent text; failed code tries."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.models import Onboarding


class OnboardingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, telegram_user_id: int) -> Onboarding | None:
        row = await self.db.fetchone(
            "SELECT * FROM onboarding WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return None if row is None else Onboarding.model_validate(dict(row))

    async def start(
        self, *, telegram_user_id: int, invitation_id: int | None, language: str,
        display_name: str | None, username: str | None, now: datetime,
    ) -> None:
        """Begin (or restart) onboarding at the language step."""
        await self.db.execute(
            "INSERT INTO onboarding (telegram_user_id, invitation_id, step, language,"
            " display_name, username, created_at, updated_at)"
            " VALUES (?, ?, 'language', ?, ?, ?, ?, ?)"
            " ON CONFLICT (telegram_user_id) DO UPDATE SET invitation_id=excluded.invitation_id,"
            " step='language', language=excluded.language, display_name=excluded.display_name,"
            " username=excluded.username, updated_at=excluded.updated_at",
            (telegram_user_id, invitation_id, language, display_name, username,
             now.isoformat(), now.isoformat()),
        )

    async def choose_language(self, telegram_user_id: int, language: str, now: datetime) -> None:
        await self.db.execute(
            "UPDATE onboarding SET language = ?, step = 'consent', updated_at = ?"
            " WHERE telegram_user_id = ?",
            (language, now.isoformat(), telegram_user_id),
        )

    async def back_to_language(self, telegram_user_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE onboarding SET step = 'language', updated_at = ? WHERE telegram_user_id = ?",
            (now.isoformat(), telegram_user_id),
        )

    async def delete(self, telegram_user_id: int) -> None:
        await self.db.execute(
            "DELETE FROM onboarding WHERE telegram_user_id = ?", (telegram_user_id,)
        )

    async def record_failed_code(self, telegram_user_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO code_attempts (telegram_user_id, at) VALUES (?, ?)",
            (telegram_user_id, now.isoformat()),
        )
        # Old attempts serve no purpose; keep the table small.
        await self.db.execute(
            "DELETE FROM code_attempts WHERE at < ?", ((now - timedelta(days=1)).isoformat(),)
        )

    async def failed_codes_since(self, telegram_user_id: int, since: datetime) -> list[datetime]:
        rows = await self.db.fetchall(
            "SELECT at FROM code_attempts WHERE telegram_user_id = ? AND at >= ? ORDER BY at",
            (telegram_user_id, since.isoformat()),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    async def forget(self, telegram_user_id: int) -> None:
        await self.delete(telegram_user_id)
        await self.db.execute(
            "DELETE FROM code_attempts WHERE telegram_user_id = ?", (telegram_user_id,)
        )
