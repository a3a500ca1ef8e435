"""Announcements, their language versions, the delivery outbox and the replies received."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from storage.db import Database
from storage.models import Announcement, AnnouncementStep, DeliveryCounts, OutboxRow, Recipient

_FIELDS = {"status", "step", "version_language", "text", "media_kind", "media_file_id",
           "audience", "ack", "send_at", "confirmed_at", "completed_at", "campaign_id"}


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


class AnnouncementRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- announcements ---------------------------------------------------------------------

    async def create(self, *, author_id: int | None, now: datetime, **fields: Any) -> int:
        unknown = set(fields) - _FIELDS
        if unknown:
            raise ValueError(f"unknown announcement fields: {sorted(unknown)}")
        names = ["author_id", "created_at", "updated_at", *fields]
        values = [author_id, now.isoformat(), now.isoformat(), *map(_iso, fields.values())]
        cur = await self.db.execute(
            f"INSERT INTO announcements ({', '.join(names)})"  # noqa: S608 - names from code
            f" VALUES ({', '.join('?' * len(names))})", values)
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def get(self, announcement_id: int) -> Announcement | None:
        row = await self.db.fetchone("SELECT * FROM announcements WHERE id = ?",
                                     (announcement_id,))
        return None if row is None else Announcement.model_validate(dict(row))

    async def draft_of(self, author_id: int) -> Announcement | None:
        row = await self.db.fetchone(
            "SELECT * FROM announcements WHERE author_id = ? AND status = 'draft'"
            " ORDER BY id DESC LIMIT 1", (author_id,))
        return None if row is None else Announcement.model_validate(dict(row))

    async def update(self, announcement_id: int, now: datetime, **fields: Any) -> None:
        """Set the given columns (names from code, never from users) and `updated_at`."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise ValueError(f"unknown announcement fields: {sorted(unknown)}")
        if "step" in fields and fields["step"] != AnnouncementStep.VERSION:
            fields.setdefault("version_language", None)  # only the 'version' step has one
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(
            f"UPDATE announcements SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
            (*map(_iso, fields.values()), now.isoformat(), announcement_id))

    async def recent(self, author_id: int | None, limit: int) -> list[Announcement]:
        """The latest confirmed announcements of an author (None: everybody's)."""
        where = "status IN ('scheduled', 'sending', 'done')"
        params: tuple[Any, ...] = (limit,)
        if author_id is not None:
            where += " AND author_id = ?"
            params = (author_id, limit)
        rows = await self.db.fetchall(
            f"SELECT * FROM announcements WHERE {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            params)
        return [Announcement.model_validate(dict(r)) for r in rows]

    async def set_version(self, announcement_id: int, language: str, text: str | None) -> None:
        if text is None:
            await self.db.execute(
                "DELETE FROM announcement_versions WHERE announcement_id = ? AND language = ?",
                (announcement_id, language))
            return
        await self.db.execute(
            "INSERT INTO announcement_versions (announcement_id, language, text) VALUES (?, ?, ?)"
            " ON CONFLICT (announcement_id, language) DO UPDATE SET text = excluded.text",
            (announcement_id, language, text))

    async def versions(self, announcement_id: int) -> dict[str, str]:
        rows = await self.db.fetchall(
            "SELECT language, text FROM announcement_versions WHERE announcement_id = ?"
            " ORDER BY language", (announcement_id,))
        return {r["language"]: r["text"] for r in rows}

    async def candidates(self, project_ids: Sequence[int] | None,
                         exclude_member: int | None = None) -> list[Recipient]:
        """Active, reachable members, with what audiences are chosen by; limited to members
        of `project_ids` unless it is None (everyone)."""
        params: list[Any] = []
        scope = ""
        if project_ids is not None:
            if not project_ids:
                return []
            marks = ",".join("?" * len(project_ids))
            scope = (" AND m.id IN (SELECT member_id FROM member_projects"  # noqa: S608
                     " WHERE project_id IN (" + marks + "))")
            params += list(project_ids)
        rows = await self.db.fetchall(
            "SELECT m.id, m.telegram_user_id, m.language, m.role, m.timezone, o.slug AS org,"  # noqa: S608
            " o.country AS country,"
            " (SELECT group_concat(p.slug, ' ') FROM member_projects mp"
            "  JOIN projects p ON p.id = mp.project_id WHERE mp.member_id = m.id) AS projects"
            " FROM members m LEFT JOIN organisations o ON o.id = m.organisation_id"
            " WHERE m.status = 'active' AND m.telegram_user_id IS NOT NULL"
            f" AND m.unreachable_at IS NULL{scope} ORDER BY m.id",
            params)
        return [Recipient(member_id=r["id"], telegram_user_id=r["telegram_user_id"],
                          language=r["language"], role=r["role"], organisation=r["org"],
                          country=r["country"], timezone=r["timezone"],
                          projects=tuple(sorted((r["projects"] or "").split())))
                for r in rows if r["id"] != exclude_member]

    # --- the outbox ------------------------------------------------------------------------

    async def enqueue(self, announcement_id: int, round_: int,
                      rows: Sequence[tuple[int, int, str]], now: datetime,
                      not_before: Mapping[int, datetime] | None = None) -> int:
        """Add one pending row per (member id, chat id, language), each held until its
        member's `not_before` instant if given; return how many."""
        held = {k: v.astimezone(UTC).isoformat() for k, v in (not_before or {}).items()}
        stamp = now.isoformat()
        before = await self.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE announcement_id = ? AND round = ?",
            (announcement_id, round_))
        await self.db.executemany(
            "INSERT OR IGNORE INTO outbox (announcement_id, round, member_id, chat_id, language,"
            " created_at, not_before) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(announcement_id, round_, member_id, chat_id, language, stamp, held.get(member_id))
             for member_id, chat_id, language in rows])
        after = await self.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE announcement_id = ? AND round = ?",
            (announcement_id, round_))
        return int(after) - int(before)

    async def promote_scheduled(self, now: datetime) -> int:
        """Start the scheduled announcements whose time has come; return how many."""
        cur = await self.db.execute(
            "UPDATE announcements SET status = 'sending', updated_at = ?"
            " WHERE status = 'scheduled' AND send_at <= ?", (now.isoformat(), now.isoformat()))
        return cur.rowcount

    async def due(self, limit: int, after_id: int = 0,
                  now: datetime | None = None, channel: str | None = None) -> list[OutboxRow]:
        """Pending rows of announcements being sent, oldest first (with `now`: only rows
        whose member's quiet hours are over; with `channel`, only that channel's people:
        Telegram's ids are positive, WhatsApp's negative, see `bot.core.addresses`)."""
        until = "9999" if now is None else now.astimezone(UTC).isoformat()
        sign = {"telegram": 1, "whatsapp": -1}.get(channel or "", 0)  # 0: every row
        rows = await self.db.fetchall(
            "SELECT o.* FROM outbox o JOIN announcements a ON a.id = o.announcement_id"
            " WHERE o.state = 'pending' AND a.status = 'sending' AND o.id > ?"
            " AND (o.not_before IS NULL OR o.not_before <= ?) AND o.chat_id * ? >= 0"
            " ORDER BY o.id LIMIT ?",
            (after_id, until, sign, limit))
        return [OutboxRow.model_validate(dict(r)) for r in rows]

    async def row(self, row_id: int) -> OutboxRow | None:
        r = await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return None if r is None else OutboxRow.model_validate(dict(r))

    async def claim(self, row_id: int, token: str) -> bool:
        """pending → sending with a fresh token; False if the row is no longer pending."""
        cur = await self.db.execute(
            "UPDATE outbox SET state = 'sending', token = ?, attempts = attempts + 1"
            " WHERE id = ? AND state = 'pending'", (token, row_id))
        return cur.rowcount == 1

    async def claim_many(self, row_ids: Sequence[int], token: str) -> set[int]:
        """`claim` for many rows in one statement; return the ids claimed (still pending)."""
        if not row_ids:
            return set()
        marks = ", ".join("?" * len(row_ids))
        rows = await self.db.fetchall(
            "UPDATE outbox SET state = 'sending', token = ?, attempts = attempts + 1"  # noqa: S608
            f" WHERE id IN ({marks}) AND state = 'pending' RETURNING id", (token, *row_ids))
        return {int(r[0]) for r in rows}

    async def settle_sent_many(self, sent: Sequence[tuple[int, str, int]],
                               now: datetime) -> None:
        """`settle` as `sent` for many (row id, token, message id) in one call."""
        await self.db.executemany(
            "UPDATE outbox SET state = 'sent', message_id = ?, error = NULL, sent_at = ?"
            " WHERE id = ? AND token = ? AND state IN ('sending', 'uncertain')",
            [(message_id, now.isoformat(), row_id, token) for row_id, token, message_id in sent])

    async def settle(self, row_id: int, token: str, state: str, now: datetime, *,
                     message_id: int | None = None, error: str | None = None) -> bool:
        """Record the outcome of the attempt holding `token` (also when the row was found
        uncertain after a restart: the attempt that was in flight decides)."""
        cur = await self.db.execute(
            "UPDATE outbox SET state = ?, message_id = COALESCE(?, message_id), error = ?,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
            " WHERE id = ? AND token = ? AND state IN ('sending', 'uncertain')",
            (state, message_id, error, state, now.isoformat(), row_id, token))
        return cur.rowcount == 1

    async def settle_wamid(self, row_id: int, token: str, wamid: str, now: datetime) -> bool:
        """Record a message WhatsApp accepted: `sent`, with its wamid for the statuses."""
        cur = await self.db.execute(
            "UPDATE outbox SET state = 'sent', wamid = ?, error = NULL, sent_at = ?"
            " WHERE id = ? AND token = ? AND state IN ('sending', 'uncertain')",
            (wamid, now.isoformat(), row_id, token))
        return cur.rowcount == 1

    async def adopt_wamid(self, row_id: int, wamid: str) -> None:
        """The wamid of a row's message, named by its status (the send's answer was lost)."""
        await self.db.execute(
            "UPDATE outbox SET wamid = COALESCE(wamid, ?) WHERE id = ?", (wamid, row_id))

    async def whatsapp_status(self, wamid: str, status: str, now: datetime,
                              error: str | None = None) -> bool:
        """Settle the row of a sent WhatsApp message with Meta's status: `delivered` and
        `read` recorded (and an `uncertain` row proved `sent`), `failed` failed."""
        at = now.isoformat()
        if status == "failed":
            cur = await self.db.execute(
                "UPDATE outbox SET state = 'failed', error = ? WHERE wamid = ?"
                " AND state IN ('sending', 'sent', 'uncertain')",
                ((error or "failed")[:500], wamid))
            return cur.rowcount == 1
        cur = await self.db.execute(
            "UPDATE outbox SET state = CASE WHEN state = 'uncertain' THEN 'sent' ELSE state END,"
            " sent_at = COALESCE(sent_at, ?),"
            " delivered_at = CASE WHEN ? IN ('delivered', 'read')"
            "   THEN COALESCE(delivered_at, ?) ELSE delivered_at END,"
            " read_at = CASE WHEN ? = 'read' THEN COALESCE(read_at, ?) ELSE read_at END"
            " WHERE wamid = ?", (at, status, at, status, at, wamid))
        return cur.rowcount == 1

    async def read_count(self, announcement_id: int) -> int:
        """How many WhatsApp recipients opened the announcement (Meta's `read` status)."""
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE announcement_id = ? AND round = 0"
            " AND read_at IS NOT NULL", (announcement_id,)) or 0)

    async def uncount_attempt(self, row_id: int) -> None:
        """Take back the attempt just counted (a flood wait is not a failure of the row)."""
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts - 1 WHERE id = ? AND attempts > 0", (row_id,))

    async def in_flight_to_uncertain(self) -> int:
        """Rows claimed by a sender that is gone: whether Telegram got them is unknown."""
        cur = await self.db.execute(
            "UPDATE outbox SET state = 'uncertain',"
            " error = 'in flight when the bot stopped: delivery unknown' WHERE state = 'sending'")
        return cur.rowcount

    async def member_unreachable(self, member_id: int, now: datetime) -> None:
        """403: mark the member, and drop their other pending rows (no further sends)."""
        await self.db.execute(
            "UPDATE members SET unreachable_at = ? WHERE id = ? AND unreachable_at IS NULL",
            (now.isoformat(), member_id))
        await self.db.execute(
            "UPDATE outbox SET state = 'unreachable', error = 'blocked the bot'"
            " WHERE member_id = ? AND state = 'pending'", (member_id,))

    async def member_reachable(self, member_id: int) -> None:
        await self.db.execute("UPDATE members SET unreachable_at = NULL WHERE id = ?",
                              (member_id,))

    async def counts(self, announcement_id: int, round_: int | None = 0) -> DeliveryCounts:
        where, params = "announcement_id = ?", [announcement_id]
        if round_ is not None:
            where += " AND round = ?"
            params.append(round_)
        rows = await self.db.fetchall(
            f"SELECT state, COUNT(*) AS n, COUNT(acked_at) AS acked FROM outbox"  # noqa: S608
            f" WHERE {where} GROUP BY state", params)
        found: dict[str, int] = {"pending": 0, "acked": 0}
        for r in rows:
            state = "pending" if r["state"] in ("pending", "sending") else r["state"]
            found[state] = found.get(state, 0) + int(r["n"])
            found["acked"] += int(r["acked"])
        return DeliveryCounts.model_validate(found)

    async def finished(self) -> list[int]:
        """Announcements being sent that have nothing left to send."""
        rows = await self.db.fetchall(
            "SELECT a.id FROM announcements a WHERE a.status = 'sending' AND NOT EXISTS"
            " (SELECT 1 FROM outbox o WHERE o.announcement_id = a.id"
            "  AND o.state IN ('pending', 'sending'))")
        return [int(r["id"]) for r in rows]

    async def complete(self, announcement_id: int, now: datetime) -> bool:
        """Close a finished announcement; False if another pass already did (or rows came)."""
        cur = await self.db.execute(
            "UPDATE announcements SET status = 'done', completed_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.announcement_id = ? AND o.state IN ('pending', 'sending'))",
            (now.isoformat(), now.isoformat(), announcement_id, announcement_id))
        return cur.rowcount == 1

    async def reopen(self, announcement_id: int, now: datetime) -> None:
        """New rows (a reminder, a second try) make a finished announcement send again."""
        await self.db.execute(
            "UPDATE announcements SET status = 'sending', updated_at = ? WHERE id = ?"
            " AND status = 'done'", (now.isoformat(), announcement_id))

    async def retry_uncertain(self, announcement_id: int) -> int:
        """The author chose to send again where delivery is unknown."""
        cur = await self.db.execute(
            "UPDATE outbox SET state = 'pending', token = NULL, error = 'sent again by the author'"
            " WHERE announcement_id = ? AND state = 'uncertain'", (announcement_id,))
        return cur.rowcount

    async def by_message(self, chat_id: int, message_id: int) -> OutboxRow | None:
        r = await self.db.fetchone(
            "SELECT * FROM outbox WHERE chat_id = ? AND message_id = ? LIMIT 1",
            (chat_id, message_id))
        return None if r is None else OutboxRow.model_validate(dict(r))

    async def latest_answerable(self, member_id: int, since: datetime) -> OutboxRow | None:
        """The latest announcement (not a questionnaire invitation) delivered to a member
        since a moment: what a plain text typed soon after may be answering."""
        r = await self.db.fetchone(
            "SELECT o.* FROM outbox o JOIN announcements a ON a.id = o.announcement_id"
            " WHERE o.member_id = ? AND o.round = 0 AND o.state = 'sent'"
            " AND a.campaign_id IS NULL AND o.sent_at >= ? ORDER BY o.sent_at DESC, o.id DESC"
            " LIMIT 1", (member_id, since.isoformat()))
        return None if r is None else OutboxRow.model_validate(dict(r))

    async def recipient_row(self, announcement_id: int, member_id: int) -> OutboxRow | None:
        r = await self.db.fetchone(
            "SELECT * FROM outbox WHERE announcement_id = ? AND member_id = ? AND round = 0",
            (announcement_id, member_id))
        return None if r is None else OutboxRow.model_validate(dict(r))

    async def acknowledge(self, row_id: int, now: datetime, message_id: int | None) -> None:
        """Record "Received"; a press also proves delivery of a row left uncertain."""
        await self.db.execute(
            "UPDATE outbox SET acked_at = COALESCE(acked_at, ?),"
            " state = CASE WHEN state = 'uncertain' THEN 'sent' ELSE state END,"
            " message_id = COALESCE(message_id, ?) WHERE id = ?",
            (now.isoformat(), message_id, row_id))

    async def acknowledgements(self, announcement_id: int) -> list[tuple[int, str, bool]]:
        """(member id, name, acknowledged) of every recipient the announcement reached."""
        rows = await self.db.fetchall(
            "SELECT o.member_id, COALESCE(m.display_name, '') AS name, o.acked_at IS NOT NULL"
            " AS acked FROM outbox o JOIN members m ON m.id = o.member_id"
            " WHERE o.announcement_id = ? AND o.round = 0 AND o.state = 'sent'"
            " ORDER BY name, o.member_id", (announcement_id,))
        return [(int(r["member_id"]), str(r["name"]), bool(r["acked"])) for r in rows]

    async def unacknowledged(self, announcement_id: int) -> list[OutboxRow]:
        rows = await self.db.fetchall(
            "SELECT o.* FROM outbox o JOIN members m ON m.id = o.member_id"
            " WHERE o.announcement_id = ? AND o.round = 0 AND o.state = 'sent'"
            " AND o.acked_at IS NULL AND m.status = 'active' AND m.unreachable_at IS NULL"
            " AND m.telegram_user_id IS NOT NULL ORDER BY o.id", (announcement_id,))
        return [OutboxRow.model_validate(dict(r)) for r in rows]

    async def last_round(self, announcement_id: int) -> int:
        return int(await self.db.fetchval(
            "SELECT COALESCE(MAX(round), 0) FROM outbox WHERE announcement_id = ?",
            (announcement_id,)))

    async def add_reply(self, *, announcement_id: int, member_id: int, text: str, chat_id: int,
                        message_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO announcement_replies (announcement_id, member_id, text,"
            " chat_id, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (announcement_id, member_id, text, chat_id, message_id, now.isoformat()))

    async def replies(self, announcement_id: int) -> list[tuple[int, str]]:
        rows = await self.db.fetchall(
            "SELECT member_id, text FROM announcement_replies WHERE announcement_id = ?"
            " ORDER BY id", (announcement_id,))
        return [(int(r["member_id"]), str(r["text"])) for r in rows]

    async def member_replies(self, member_id: int) -> list[dict[str, object]]:
        """What a member answered to announcements (for /mydata)."""
        rows = await self.db.fetchall(
            "SELECT announcement_id, text, created_at FROM announcement_replies"
            " WHERE member_id = ? ORDER BY id", (member_id,))
        return [{"announcement": int(r["announcement_id"]), "text": r["text"],
                 "at": r["created_at"]} for r in rows]

    async def reply_count(self, announcement_id: int) -> int:
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM announcement_replies WHERE announcement_id = ?",
            (announcement_id,)))

    async def forget_member(self, member_id: int) -> None:
        """/forget: nothing more is sent, and their chat id is not kept."""
        await self.db.execute(
            "UPDATE outbox SET state = 'failed', error = 'the person left'"
            " WHERE member_id = ? AND state = 'pending'", (member_id,))
        await self.db.execute(
            "UPDATE outbox SET chat_id = 0 WHERE member_id = ?", (member_id,))
        await self.db.execute(
            "UPDATE announcement_replies SET chat_id = 0 WHERE member_id = ?", (member_id,))
