"""/forget in storage: every place a person's identifiers or unsent work can be, in one list."""

from __future__ import annotations

from storage.db import Database
from storage.models import SurveyResponse

# Keys that other features keep per member in `kv` (the /newsurvey screens' draft).
_KV_DRAFT_KEYS = ("survey-launch:{member_id}",)


class PrivacyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def erase(self, member_id: int, telegram_user_id: int | None) -> None:
        """Remove the person's chat ids and unsent drafts; keep what they submitted.

        Submitted reports, field updates and survey answers stay with the project, attributed
        to the de-identified member row. Runs inside the caller's transaction.
        """
        # The member row itself is `MemberRepo.deidentify`; raw updates `InboxRepo.scrub_user`.
        # Telegram chat ids kept to answer or edit messages: the person's own chat.
        await self.db.execute("UPDATE reports SET chat_id = NULL, message_id = NULL"
                              " WHERE member_id = ?", (member_id,))
        await self.db.execute("UPDATE attachments SET chat_id = NULL, message_id = NULL"
                              " WHERE member_id = ?", (member_id,))
        # Drafts never sent: reports and field updates (their values and files' rows cascade),
        # announcements, questionnaires started but not submitted.
        await self.db.execute("DELETE FROM report_drafts WHERE member_id = ?"
                              " AND status != 'submitted'", (member_id,))
        await self.db.execute("DELETE FROM review_comments WHERE member_id = ?", (member_id,))
        await self.db.execute("DELETE FROM announcements WHERE author_id = ? AND status = 'draft'",
                              (member_id,))
        await self.db.execute(
            "DELETE FROM survey_answers WHERE response_id IN (SELECT id FROM survey_responses"
            " WHERE member_id = ? AND status = 'open')", (member_id,))
        await self.db.execute("DELETE FROM survey_responses WHERE member_id = ?"
                              " AND status = 'open'", (member_id,))
        for key in _KV_DRAFT_KEYS:
            await self.db.execute("DELETE FROM kv WHERE key = ?",
                                  (key.format(member_id=member_id),))
        if telegram_user_id is None:
            return
        await self.db.execute("DELETE FROM review_cards WHERE chat_id = ?", (telegram_user_id,))

    async def unsent_files(self, member_id: int) -> list[str]:
        """Paths (relative to the media folder) of files in the person's unsent drafts."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT a.path FROM attachments a JOIN report_drafts d ON d.id = a.draft_id"
            " WHERE d.member_id = ? AND d.status != 'submitted' AND a.report_version_id IS NULL"
            " AND a.path IS NOT NULL", (member_id,))
        return [r[0] for r in rows]

    async def file_in_use(self, path: str) -> bool:
        """Whether any attachment still refers to this stored file (content is shared)."""
        return bool(await self.db.fetchval("SELECT 1 FROM attachments WHERE path = ? LIMIT 1",
                                           (path,)))

    async def submitted_responses(self, campaign_id: int,
                                  members: set[int] | None) -> list[SurveyResponse]:
        """The only query that selects survey responses for someone to read: submitted ones,
        of `members` (None: everyone), in the order they were started."""
        sql = "SELECT * FROM survey_responses WHERE campaign_id = ? AND status = 'submitted'"
        params: list[object] = [campaign_id]
        if members is not None:
            if not members:
                return []
            sql += f" AND member_id IN ({','.join('?' * len(members))})"
            params += sorted(members)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [SurveyResponse.model_validate(dict(r)) for r in rows]
