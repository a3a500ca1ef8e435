"""JSON Lines: the store, table by table, one record per line; `load` puts it back.

The first line names the format and the schema version. Rows keep their ids, so a dump loaded
into an empty database and dumped again gives the same bytes. Only tables listed here travel:
the update inbox, code attempts and half-finished onboardings belong to one running server.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import UI_LANGUAGES
from bot.core.media import valid_coordinates
from bot.exports.media_pack import REFERENCE
from bot.exports.tables import BATCH, Scope, connect_readonly

FORMAT = "palabre-jsonl"
FORMAT_VERSION = 1
Progress = Callable[[int], None]

# In the order they must be loaded (a row only refers to rows of earlier tables), with the
# filter that keeps a scoped dump self-contained. `{projects}` is the scope's project list,
# `{reports}` the reports in scope.
TABLES: tuple[tuple[str, str | None], ...] = (
    ("organisations", "id IN (SELECT organisation_id FROM project_organisations"
                      " WHERE project_id IN {projects}) OR id IN (SELECT organisation_id FROM"
                      " members WHERE id IN {members})"),
    ("projects", "id IN {projects}"),
    ("project_organisations", "project_id IN {projects}"),
    ("indicators", "project_id IN {projects}"),
    ("invitations", None),  # an administrator's, never part of a scoped dump
    ("invitation_projects", None),
    ("members", "id IN {members}"),
    ("member_projects", "project_id IN {projects} AND member_id IN {members}"),
    ("reports", "id IN {reports}"),
    ("report_versions", "report_id IN {reports}"),
    ("indicator_values", "report_version_id IN (SELECT id FROM report_versions"
                         " WHERE report_id IN {reports})"),
    ("report_drafts", None),
    ("draft_values", None),
    ("attachments", "report_version_id IN (SELECT id FROM report_versions"
                    " WHERE report_id IN {reports})"),
    ("review_comments", None),
    ("audit_log", "report_id IN {reports}"),
    # Announcements and reminders belong to the whole network: full dumps only.
    ("announcements", None),
    ("announcement_versions", None),
    ("outbox", None),
    ("announcement_replies", None),
    ("reminders", None),
    ("review_cards", None),
    # Surveys travel whole or not at all: a campaign spans projects, so no scoped dump has them.
    ("survey_forms", None),
    ("survey_media", None),
    ("survey_campaigns", None),
    ("survey_invitations", None),
    ("survey_responses", None),
    ("survey_answers", None),
)
KNOWN = {name for name, _filter in TABLES}
EVERYTHING = Scope()
MAX_LINE = 1024 * 1024  # characters; the longest record the bot writes is a few KB


class ImportError_(Exception):
    """The file cannot be loaded; the message says which line and why."""


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0)


def _scope_sql(scope: Scope) -> dict[str, str]:
    """Sub-queries for the scope, inlined with literal ids (integers only, from the database)."""
    reports = "SELECT id FROM reports r WHERE 1 = 1"
    if scope.project_ids is not None:
        ids = ", ".join(str(int(i)) for i in scope.project_ids) or "NULL"
        projects = f"({ids})"
        reports += f" AND r.project_id IN {projects}"
    else:
        projects = "(SELECT id FROM projects)"
    if scope.since is not None:
        reports += f" AND r.created_at >= '{scope.since.isoformat()}'"
    members = (f"(SELECT member_id FROM member_projects WHERE project_id IN {projects}"
               f" UNION SELECT member_id FROM reports WHERE id IN ({reports})"
               f" UNION SELECT status_by FROM reports WHERE id IN ({reports})"
               f" UNION SELECT actor_id FROM audit_log WHERE report_id IN ({reports}))")
    return {"projects": projects, "reports": f"({reports})", "members": members}


def _records(conn: sqlite3.Connection, scope: Scope) -> Iterator[dict[str, Any]]:
    scoped = scope != EVERYTHING
    values = _scope_sql(scope)
    for table, condition in TABLES:
        if scoped and condition is None:
            continue
        where = "" if not scoped or condition is None else " WHERE " + condition.format(**values)
        columns = _columns(conn, table)
        order = "rowid" if "id" not in columns else "id"
        cursor = conn.execute(f"SELECT * FROM {table}{where} ORDER BY {order}")
        while rows := cursor.fetchmany(BATCH):
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                if scoped and table == "members":
                    record["invitation_id"] = None  # invitations stay on the first server
                yield {"table": table, "row": record}


def dump(database: Path, out: IO[str], scope: Scope = EVERYTHING,
         progress: Progress | None = None) -> int:
    """Write the records in scope as JSON Lines; return how many."""
    conn = connect_readonly(database)
    try:
        header = {"format": FORMAT, "version": FORMAT_VERSION, "schema": _schema_version(conn)}
        out.write(json.dumps(header, sort_keys=True) + "\n")
        count = 0
        for record in _records(conn, scope):
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(1000)
        if progress is not None:
            progress(count % 1000)
        return count
    finally:
        conn.close()


def _is_empty(conn: sqlite3.Connection) -> bool:
    return all(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None
               for table, _filter in TABLES)


def _lines(lines: IO[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines, never reading more than MAX_LINE characters of one into memory."""
    number = 1
    while line := lines.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise ImportError_(f"line {number}: longer than {MAX_LINE} characters")
        yield number, line


def _field_problem(table: str, column: str, value: Any) -> str | None:
    """Why a value cannot be stored as it is (what the bot would never have written)."""
    if value is None:
        return None
    if column.endswith("_at") or column == "at":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return "not a date and time"
        return None if moment.tzinfo is not None else "a date and time without its offset"
    if column in ("period_start", "period_end"):
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return "not a date"
        return None
    if column == "timezone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            return "not a time zone"
        return None
    if column == "language":
        return None if value in UI_LANGUAGES else "not a language of the bot"
    if table == "reports" and column == "reference":
        return None if REFERENCE.fullmatch(str(value)) else "not a report reference"
    return None


def _check_row(number: int, table: str, row: dict[str, Any]) -> None:
    for column, value in row.items():
        problem = _field_problem(table, column, value)
        if problem is not None:
            raise ImportError_(f"line {number}: {table}.{column}: {value!r:.60} is {problem}")
    if "latitude" in row or "longitude" in row:
        try:
            ok = valid_coordinates(row.get("latitude"), row.get("longitude"))
        except TypeError:
            ok = False
        if not ok:
            raise ImportError_(f"line {number}: {table}: coordinates out of range")


def load(conn: sqlite3.Connection, lines: IO[str], progress: Progress | None = None) -> int:
    """Insert the records of a dump into an empty, migrated database in one transaction."""
    if not _is_empty(conn):
        raise ImportError_("the database is not empty: import only into a new database")
    header_line = lines.readline(MAX_LINE)
    try:
        header = json.loads(header_line)
    except json.JSONDecodeError as exc:
        raise ImportError_("line 1: not a Palabre JSON Lines export") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ImportError_("line 1: not a Palabre JSON Lines export")
    if header.get("version") != FORMAT_VERSION or header.get("schema") != _schema_version(conn):
        raise ImportError_(
            f"line 1: export of schema {header.get('schema')}, this database has schema "
            f"{_schema_version(conn)}: upgrade the older one first (palabre db upgrade)")
    columns = {table: set(_columns(conn, table)) for table in KNOWN}
    conn.execute("PRAGMA foreign_keys = ON")  # a record pointing nowhere is refused
    count = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for number, line in _lines(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                table, row = record["table"], record["row"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ImportError_(f"line {number}: not a record ({exc})") from exc
            if table not in KNOWN or not isinstance(row, dict):
                raise ImportError_(f"line {number}: unknown table {table!r}")
            unknown = set(row) - columns[table]
            if unknown:
                raise ImportError_(f"line {number}: unknown columns {sorted(unknown)} in {table}")
            _check_row(number, table, row)
            names = list(row)
            try:
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(names)})"
                    f" VALUES ({', '.join('?' * len(names))})", list(row.values()))
            except sqlite3.Error as exc:
                raise ImportError_(f"line {number}: {table}: {exc}") from exc
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(1000)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if progress is not None:
        progress(count % 1000)
    return count
