"""Survey forms (versioned by content), campaigns, invitations, responses and answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database
from storage.models import Campaign, LaunchDraft, ResponseStep, Side, SurveyForm, SurveyResponse

_RESPONSE_FIELDS = {"status", "step", "resume_step", "position", "iteration", "page", "turn",
                    "editing", "submitted_at"}


class SurveyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- forms -----------------------------------------------------------------------------

    async def form_by_hash(self, form_id: str, content_hash: str) -> SurveyForm | None:
        row = await self.db.fetchone(
            "SELECT * FROM survey_forms WHERE form_id = ? AND content_hash = ?",
            (form_id, content_hash))
        return None if row is None else SurveyForm.model_validate(dict(row))

    async def add_form(self, *, form_id: str, content_hash: str, title: str, definition: str,
                       source: str, now: datetime) -> int:
        """Add a version (must run in a transaction); return its row id."""
        version = int(await self.db.fetchval(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM survey_forms WHERE form_id = ?",
            (form_id,)))
        cur = await self.db.execute(
            "INSERT INTO survey_forms (form_id, version, content_hash, title, definition, source,"
            " imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (form_id, version, content_hash, title, definition, source, now.isoformat()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def add_media(self, form_pk: int, name: str, mime_type: str, content: bytes) -> None:
        """Keep a media label's file with its form version (in a transaction)."""
        await self.db.execute(
            "INSERT OR REPLACE INTO survey_media (form_pk, name, mime_type, content)"
            " VALUES (?, ?, ?, ?)",
            (form_pk, name, mime_type, base64.b64encode(content).decode("ascii")))

    async def media(self, form_pk: int, name: str) -> tuple[str, bytes] | None:
        row = await self.db.fetchone(
            "SELECT mime_type, content FROM survey_media WHERE form_pk = ? AND name = ?",
            (form_pk, name))
        return None if row is None else (row["mime_type"], base64.b64decode(row["content"]))

    async def form(self, form_pk: int) -> SurveyForm | None:
        row = await self.db.fetchone("SELECT * FROM survey_forms WHERE id = ?", (form_pk,))
        return None if row is None else SurveyForm.model_validate(dict(row))

    async def latest_forms(self) -> list[SurveyForm]:
        """The newest version of each form, newest import first."""
        rows = await self.db.fetchall(
            "SELECT * FROM survey_forms f WHERE version = (SELECT MAX(version) FROM survey_forms"
            " WHERE form_id = f.form_id) ORDER BY imported_at DESC, id DESC")
        return [SurveyForm.model_validate(dict(r)) for r in rows]

    async def launch_draft(self, member_id: int) -> LaunchDraft | None:
        """The questionnaire a coordinator is preparing in /survey, if any."""
        row = await self.db.fetchone("SELECT * FROM survey_launch_drafts WHERE member_id = ?",
                                     (member_id,))
        return None if row is None else LaunchDraft.model_validate(dict(row))

    async def save_launch_draft(self, draft: LaunchDraft, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO survey_launch_drafts (member_id, form_pk, audience, joint, days, later,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE SET"
            " form_pk = excluded.form_pk, audience = excluded.audience, joint = excluded.joint,"
            " days = excluded.days, later = excluded.later, updated_at = excluded.updated_at",
            (draft.member_id, draft.form_pk, draft.audience, int(draft.joint), draft.days,
             int(draft.later), now.isoformat()))

    async def drop_launch_draft(self, member_id: int) -> None:
        await self.db.execute("DELETE FROM survey_launch_drafts WHERE member_id = ?",
                              (member_id,))

    async def forms(self) -> list[SurveyForm]:
        rows = await self.db.fetchall("SELECT * FROM survey_forms ORDER BY form_id, version")
        return [SurveyForm.model_validate(dict(r)) for r in rows]

    async def latest_by_form_id(self, form_id: str) -> SurveyForm | None:
        row = await self.db.fetchone(
            "SELECT * FROM survey_forms WHERE form_id = ? ORDER BY version DESC LIMIT 1",
            (form_id,))
        return None if row is None else SurveyForm.model_validate(dict(row))

    # --- campaigns -------------------------------------------------------------------------

    async def add_campaign(self, *, form_pk: int, created_by: int | None, audience: str,
                           joint: bool, opens_at: datetime, closes_at: datetime,
                           now: datetime, remind_days: str | None = None) -> int:
        cur = await self.db.execute(
            "INSERT INTO survey_campaigns (form_pk, created_by, audience, joint, opens_at,"
            " closes_at, created_at, remind_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (form_pk, created_by, audience, 1 if joint else 0, opens_at.isoformat(),
             closes_at.isoformat(), now.isoformat(), remind_days))
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def campaign(self, campaign_id: int) -> Campaign | None:
        row = await self.db.fetchone("SELECT * FROM survey_campaigns WHERE id = ?",
                                     (campaign_id,))
        return None if row is None else Campaign.model_validate(dict(row))

    async def campaigns(self) -> list[Campaign]:
        rows = await self.db.fetchall("SELECT * FROM survey_campaigns ORDER BY id DESC")
        return [Campaign.model_validate(dict(r)) for r in rows]

    async def invite(self, campaign_id: int, rows: Sequence[tuple[int, Side]],
                     now: datetime) -> None:
        await self.db.executemany(
            "INSERT OR IGNORE INTO survey_invitations (campaign_id, member_id, side, invited_at)"
            " VALUES (?, ?, ?, ?)",
            [(campaign_id, member_id, side, now.isoformat()) for member_id, side in rows])

    async def invitation_side(self, campaign_id: int, member_id: int) -> Side | None:
        value = await self.db.fetchval(
            "SELECT side FROM survey_invitations WHERE campaign_id = ? AND member_id = ?",
            (campaign_id, member_id))
        return None if value is None else value

    async def invitations(self, campaign_id: int) -> list[tuple[int, Side]]:
        rows = await self.db.fetchall(
            "SELECT member_id, side FROM survey_invitations WHERE campaign_id = ?"
            " ORDER BY member_id", (campaign_id,))
        return [(r["member_id"], r["side"]) for r in rows]

    async def pending_for(self, member_id: int, now: datetime) -> list[Campaign]:
        """Open campaigns the member was invited to and has not submitted."""
        stamp = now.isoformat()
        rows = await self.db.fetchall(
            "SELECT c.* FROM survey_campaigns c JOIN survey_invitations i"
            " ON i.campaign_id = c.id AND i.member_id = ?"
            " WHERE c.opens_at <= ? AND c.closes_at > ? AND NOT EXISTS (SELECT 1 FROM"
            " survey_responses r WHERE r.campaign_id = c.id AND r.member_id = ?"
            " AND r.status = 'submitted') ORDER BY c.closes_at", (member_id, stamp, stamp,
                                                                  member_id))
        return [Campaign.model_validate(dict(r)) for r in rows]

    # --- responses -------------------------------------------------------------------------

    async def response(self, response_id: int) -> SurveyResponse | None:
        row = await self.db.fetchone("SELECT * FROM survey_responses WHERE id = ?",
                                     (response_id,))
        return None if row is None else SurveyResponse.model_validate(dict(row))

    async def response_of(self, campaign_id: int, member_id: int) -> SurveyResponse | None:
        row = await self.db.fetchone(
            "SELECT * FROM survey_responses WHERE campaign_id = ? AND member_id = ?",
            (campaign_id, member_id))
        return None if row is None else SurveyResponse.model_validate(dict(row))

    async def open_response(self, member_id: int) -> SurveyResponse | None:
        """The response the member touched last and has not submitted."""
        row = await self.db.fetchone(
            "SELECT * FROM survey_responses WHERE member_id = ? AND status = 'open'"
            " ORDER BY updated_at DESC, id DESC LIMIT 1", (member_id,))
        return None if row is None else SurveyResponse.model_validate(dict(row))

    async def start_response(self, campaign_id: int, member_id: int, side: Side, position: int,
                             now: datetime) -> int:
        cur = await self.db.execute(
            "INSERT INTO survey_responses (campaign_id, member_id, side, position, started_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (campaign_id, member_id, side, position, now.isoformat(), now.isoformat()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def update_response(self, response_id: int, now: datetime, **fields: Any) -> None:
        """Set the given columns (names from code) and `updated_at`; the turn moves on."""
        unknown = set(fields) - _RESPONSE_FIELDS
        if unknown:
            raise ValueError(f"unknown response fields: {sorted(unknown)}")
        if "step" in fields and fields["step"] != ResponseStep.PAUSED:
            fields.setdefault("resume_step", None)  # only a paused response resumes somewhere
        values = [v.isoformat() if isinstance(v, datetime) else v for v in fields.values()]
        assignments = "".join(f"{name} = ?, " for name in fields)
        await self.db.execute(
            f"UPDATE survey_responses SET {assignments}turn = turn + 1,"  # noqa: S608
            " updated_at = ? WHERE id = ?", (*values, now.isoformat(), response_id))

    async def mark_submitted(self, response_id: int, now: datetime) -> bool:
        """Submit an open response; False when it was already submitted (a second Send)."""
        cur = await self.db.execute(
            "UPDATE survey_responses SET status = 'submitted', step = 'done', submitted_at = ?,"
            " turn = turn + 1, updated_at = ? WHERE id = ? AND status = 'open'",
            (now.isoformat(), now.isoformat(), response_id))
        return cur.rowcount == 1

    async def answers(self, response_id: int) -> dict[str, tuple[str | None, str | None]]:
        """question → (value, file id)."""
        rows = await self.db.fetchall(
            "SELECT question, value, file_id FROM survey_answers WHERE response_id = ?",
            (response_id,))
        return {r["question"]: (r["value"], r["file_id"]) for r in rows}

    async def set_answer(self, response_id: int, question: str, value: str | None,
                         now: datetime, file_id: str | None = None) -> None:
        await self.db.execute(
            "INSERT INTO survey_answers (response_id, question, value, file_id, answered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (response_id, question) DO UPDATE SET"
            " value = excluded.value, file_id = excluded.file_id,"
            " answered_at = excluded.answered_at",
            (response_id, question, value, file_id, now.isoformat()))

    async def delete_answers(self, response_id: int, questions: Sequence[str]) -> None:
        await self.db.executemany(
            "DELETE FROM survey_answers WHERE response_id = ? AND question = ?",
            [(response_id, q) for q in questions])

    async def campaign_responses(self, campaign_id: int) -> list[SurveyResponse]:
        rows = await self.db.fetchall(
            "SELECT * FROM survey_responses WHERE campaign_id = ? ORDER BY id", (campaign_id,))
        return [SurveyResponse.model_validate(dict(r)) for r in rows]

    async def campaign_answers(self, campaign_id: int) -> dict[int, dict[str, str | None]]:
        """response id → question → value, for every response of a campaign."""
        rows = await self.db.fetchall(
            "SELECT a.response_id, a.question, COALESCE(a.value, a.file_id) AS value"
            " FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id"
            " WHERE r.campaign_id = ?", (campaign_id,))
        found: dict[int, dict[str, str | None]] = {}
        for r in rows:
            found.setdefault(r["response_id"], {})[r["question"]] = r["value"]
        return found

    async def submitted_answers(self, campaign_id: int) -> list[aiosqlite.Row]:
        """(response_id, question, value, file_id) of a campaign's submitted responses."""
        return list(await self.db.fetchall(
            "SELECT a.response_id, a.question, a.value, a.file_id FROM survey_answers a"
            " JOIN survey_responses r ON r.id = a.response_id"
            " WHERE r.campaign_id = ? AND r.status = 'submitted' ORDER BY a.question",
            (campaign_id,)))

    async def campaign_files(self, campaign_id: int) -> dict[int, set[str]]:
        """response id → the questions answered with a file (a photo, a voice note…)."""
        rows = await self.db.fetchall(
            "SELECT a.response_id, a.question FROM survey_answers a"
            " JOIN survey_responses r ON r.id = a.response_id"
            " WHERE r.campaign_id = ? AND a.value IS NULL AND a.file_id IS NOT NULL",
            (campaign_id,))
        found: dict[int, set[str]] = {}
        for r in rows:
            found.setdefault(r["response_id"], set()).add(r["question"])
        return found

    async def member_responses(self, member_id: int) -> list[dict[str, object]]:
        """A member's responses with their answers (for /mydata)."""
        rows = await self.db.fetchall(
            "SELECT r.id, r.campaign_id, f.form_id, f.version, f.title, r.status, r.started_at,"
            " r.submitted_at FROM survey_responses r"
            " JOIN survey_campaigns c ON c.id = r.campaign_id"
            " JOIN survey_forms f ON f.id = c.form_pk WHERE r.member_id = ? ORDER BY r.id",
            (member_id,))
        found: list[dict[str, object]] = []
        for r in rows:
            answers = await self.answers(r["id"])
            found.append({
                "campaign": r["campaign_id"], "form_id": r["form_id"], "version": r["version"],
                "title": r["title"], "status": r["status"], "started_at": r["started_at"],
                "submitted_at": r["submitted_at"],
                "answers": {q: (v if v is not None else ({"file_id": f} if f else None))
                            for q, (v, f) in sorted(answers.items())}})
        return found

    async def project_rates(self, project_id: int, now: datetime,
                            language: str = "fr") -> list[tuple[str, int, int]]:
        """(title in `language`, answered, invited) of the open campaigns, counting the
        project's members."""
        stamp = now.isoformat()
        rows = await self.db.fetchall(
            "SELECT f.title, json_extract(f.definition, '$.title') AS titles,"
            " COUNT(*) AS invited, SUM(CASE WHEN r.status = 'submitted'"
            " THEN 1 ELSE 0 END) AS answered FROM survey_campaigns c"
            " JOIN survey_forms f ON f.id = c.form_pk"
            " JOIN survey_invitations i ON i.campaign_id = c.id"
            " JOIN member_projects mp ON mp.member_id = i.member_id AND mp.project_id = ?"
            " LEFT JOIN survey_responses r ON r.campaign_id = c.id AND r.member_id = i.member_id"
            " WHERE c.opens_at <= ? AND c.closes_at > ? GROUP BY c.id ORDER BY c.closes_at, c.id",
            (project_id, stamp, stamp))
        found = []
        for r in rows:
            titles = json.loads(r["titles"]) if r["titles"] else {}
            title = (titles.get(language) or titles.get(language.split("_")[0])
                     or r["title"]) if isinstance(titles, dict) else r["title"]
            found.append((str(title), int(r["answered"] or 0), int(r["invited"])))
        return found
