"""The tables of an export (reports, indicator values, attachments) as streams of typed rows."""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.exports.xlsx_stream import Percent
from bot.i18n import N_, _, current_language

Cell = str | int | float | date | datetime | None
Chunk = list[tuple[Cell, ...]]
# A chunk as its number of rows and its columns (iterables of cells, read once): a writer that
# works column by column (XLSX) takes them as they are.
Columns = tuple[int, list[Iterable[Any]]]
# A writer's conversion of some columns, by index: each takes a chunk's column (an iterable of
# its cells) and returns the converted cells.
After = Mapping[int, "Callable[[Iterable[Any]], Iterable[Any]] | Stored"]
BATCH = 2000


@dataclass(frozen=True)
class Scope:
    """What an export covers: these projects (None: all), reports submitted since a date."""

    project_ids: tuple[int, ...] | None = None
    since: date | None = None
    # Indicator values of earlier versions of amended reports: a sum over the column would
    # count an amended report twice, so a reader gets the current versions unless asked.
    all_versions: bool = False

    def versions(self) -> str:
        """The SQL condition on report versions `v` of reports `r` (no user input)."""
        return "1 = 1" if self.all_versions else "v.version = r.version"

    def where(self, alias: str = "r") -> tuple[str, list[Any]]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if self.project_ids is not None:
            clauses.append(f"{alias}.project_id IN ({', '.join('?' * len(self.project_ids))})")
            params.extend(self.project_ids)
        if self.since is not None:
            clauses.append(f"{alias}.created_at >= ?")
            params.append(self.since.isoformat())
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class Column:
    header: str  # a msgid, translated when written
    width: int  # in characters, for spreadsheets
    kind: str = "text"  # text, number, date, datetime


@dataclass
class Table:
    key: str  # file-name part: reports, indicator_values, attachments
    title: str  # a msgid: the sheet name
    columns: Sequence[Column]
    count_sql: str
    # The rows in chunks of columns, each column converted; `after` (by column index) is a
    # writer's own conversion of the cells (a CSV's text made safe), applied in the same pass.
    column_chunks: Callable[[sqlite3.Connection, Scope, ZoneInfo, After], Iterator[Columns]]

    def chunks(self, conn: sqlite3.Connection, scope: Scope, zone: ZoneInfo,
               after: After) -> Iterator[Chunk]:
        """The rows in chunks (each chunk's columns zipped into rows)."""
        for _count, columns in self.column_chunks(conn, scope, zone, after):
            yield list(zip(*columns, strict=True))

    def rows(self, conn: sqlite3.Connection, scope: Scope,
             zone: ZoneInfo) -> Iterator[tuple[Cell, ...]]:
        """The rows one by one (the chunks, flattened)."""
        return itertools.chain.from_iterable(self.chunks(conn, scope, zone, {}))

    def count(self, conn: sqlite3.Connection, scope: Scope) -> int:
        clause, params = scope.where()
        return int(conn.execute(self.count_sql.format(where=clause, versions=scope.versions()),
                                params).fetchone()[0])


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection of its own (the bot keeps writing through its own)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn


# Cached: an instant repeats on each value of a report version, a period on every report of
# the month; parsing them again is most of a row's cost (datetimes are immutable).
@functools.lru_cache(maxsize=4096)
def local_time(value: str | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC instant as a naive local time: spreadsheets have no time zones."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(zone).replace(tzinfo=None)


@functools.lru_cache(maxsize=4096)
def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class _Names(dict[str | None, str]):
    """Multilingual names (JSON) shown in the reader's language, looked up once each: a dict,
    so that a column maps through `__getitem__` (a hit is a lookup in C, not a call)."""

    def __init__(self) -> None:
        super().__init__()
        self.language = current_language()

    def __missing__(self, raw: str | None) -> str:
        if raw is None:
            return ""
        names = json.loads(raw)
        found: str = (names.get(self.language) or names.get(self.language.split("_")[0])
                      or names.get("fr") or next(iter(names.values()), ""))
        self[raw] = found
        return found


def _names_by_id(conn: sqlite3.Connection, table: str) -> Callable[[int], str]:
    """The names of a table's rows (projects, indicators) by id, in the reader's language:
    rows carry the id, not the names' JSON (a long text read and looked up on every row)."""
    names = _Names()
    found = {row_id: names[raw] for row_id, raw in conn.execute(
        f"SELECT id, name FROM {table}")}  # a table of ours: no user input
    return found.__getitem__


class _Codes(dict[str, str]):
    """Stored codes (a status, a kind) by their names in the current language; an unknown
    code stands for itself."""

    def __init__(self, msgids: Mapping[str, str]) -> None:
        super().__init__({key: _(value) for key, value in msgids.items()})

    def __missing__(self, code: str) -> str:
        return code


@dataclass(frozen=True)
class Stored:
    """A writer's conversion of a column from the value as stored, instead of the table's
    (a CSV writes a stored ISO day as it is, where a spreadsheet needs a date)."""

    convert: Callable[[Iterable[Any]], Iterable[Any]] | None = None  # None: as stored


# A conversion of one column: (its index, the function, the index of a second column given to
# the function as its second argument, or None).
Conversion = tuple[int, Callable[..., Any], int | None]


def _converted(batches: Iterable[Sequence[tuple[Any, ...]]], conversions: Sequence[Conversion],
               width: int, after: After) -> Iterator[Columns]:
    """The rows in chunks of columns, each column converted in one `map` over the chunk (the
    loops run in C; a row-by-row loop in Python was most of an export's time), then the
    writer's conversions, then cut to the first `width` columns (the rest were only read by
    conversions)."""
    for batch in batches:
        columns: list[Iterable[Any]] = list(zip(*batch, strict=True))
        for index, convert, other in conversions:
            if isinstance(after.get(index), Stored):
                continue
            columns[index] = (map(convert, columns[index]) if other is None
                              else map(convert, columns[index], columns[other]))
        for index, convert_column in after.items():
            if isinstance(convert_column, Stored):
                if convert_column.convert is not None:
                    columns[index] = convert_column.convert(columns[index])
            else:
                columns[index] = convert_column(columns[index])
        yield len(batch), columns[:width]


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    while batch := cursor.fetchmany(BATCH):
        yield batch


def _localizer(zone: ZoneInfo) -> Callable[[str | None], datetime | None]:
    """`local_time` in one zone, cached by instant alone (the cheapest key)."""

    @functools.lru_cache(maxsize=4096)
    def local(value: str | None) -> datetime | None:
        return local_time(value, zone)

    return local


_KINDS = {"report": N_("report"), "field_update": N_("field update")}
_STATUSES = {"submitted": N_("received"), "accepted": N_("accepted"),
             "returned": N_("returned"), "amended": N_("amended")}


def _report_chunks(conn: sqlite3.Connection, scope: Scope, zone: ZoneInfo,
                   after: After) -> Iterator[Columns]:
    clause, params = scope.where()
    local = _localizer(zone)
    cursor = conn.execute(
        "SELECT r.reference, r.kind, r.project_id, o.name, m.display_name, r.period_start,"
        " r.period_end, r.status, r.version, r.created_at, r.status_at, v.narrative,"
        " r.status_comment FROM reports r"
        " JOIN projects p ON p.id = r.project_id JOIN members m ON m.id = r.member_id"
        " LEFT JOIN organisations o ON o.id = m.organisation_id"
        " LEFT JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
        f" WHERE {clause} ORDER BY r.id", params)
    yield from _converted(_batches(cursor), (
        (1, _Codes(_KINDS).__getitem__, None), (2, _names_by_id(conn, "projects"), None),
        (5, _day, None),
        (6, _day, None), (7, _Codes(_STATUSES).__getitem__, None), (9, local, None),
        (10, local, None)), 13, after)


def _percent(value: float | None, kind: str) -> Cell:
    """A percent indicator's value as a percent cell (45,5 % in French)."""
    return Percent(value) if kind == "percent" and value is not None else value


def _value_chunks(conn: sqlite3.Connection, scope: Scope, zone: ZoneInfo,
                  after: After) -> Iterator[Columns]:
    clause, params = scope.where()
    current = {0: _("no"), 1: _("yes")}.__getitem__  # SQLite's comparison gives 0 or 1
    cursor = conn.execute(
        "SELECT r.reference, p.id, r.period_start, r.period_end, i.code, i.id,"
        # A percent indicator's unit is named (%) when it has none.
        " CASE WHEN i.type = 'percent' THEN COALESCE(NULLIF(i.unit, ''), '%') ELSE i.unit END,"
        " iv.value, i.target, v.version, v.version = r.version, v.created_at, i.type"
        " FROM reports r"
        " JOIN projects p ON p.id = r.project_id"
        " JOIN report_versions v ON v.report_id = r.id"
        " JOIN indicator_values iv ON iv.report_version_id = v.id"
        " JOIN indicators i ON i.id = iv.indicator_id"
        f" WHERE {clause} AND {scope.versions()} ORDER BY r.id, v.version, i.position", params)
    yield from _converted(_batches(cursor), (
        (1, _names_by_id(conn, "projects"), None), (2, _day, None), (3, _day, None),
        (5, _names_by_id(conn, "indicators"), None),
        (7, _percent, 12), (8, _percent, 12), (10, current, None),
        (11, _localizer(zone), None)), 12, after)


def _attachment_chunks(conn: sqlite3.Connection, scope: Scope, zone: ZoneInfo,
                       after: After) -> Iterator[Columns]:
    clause, params = scope.where()
    cursor = conn.execute(
        "SELECT r.reference, p.id, a.kind, a.purpose, a.path, a.mime_type, a.size, a.sha256,"
        " a.caption, a.latitude, a.longitude, a.state, a.created_at FROM reports r"
        " JOIN projects p ON p.id = r.project_id"
        " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
        " JOIN attachments a ON a.report_version_id = v.id"
        f" WHERE {clause} ORDER BY r.id, a.id", params)
    yield from _converted(_attachment_batches(cursor), (
        (1, _names_by_id(conn, "projects"), None), (13, _localizer(zone), None)), 14, after)


def _attachment_batches(cursor: sqlite3.Cursor) -> Iterator[list[tuple[Any, ...]]]:
    last, rank = None, 0
    while batch := cursor.fetchmany(BATCH):
        chunk: list[tuple[Any, ...]] = []
        for (reference, project, kind, purpose, path, mime, size, sha, caption, lat, lon, state,
             created) in batch:
            # A name a reader can tell apart: the report's reference and the file's rank in
            # it (the stored name is its SHA-256, kept in the path column).
            rank = rank + 1 if reference == last else 1
            last = reference
            file_name = None if path is None else f"{reference}-{rank}{Path(path).suffix}"
            chunk.append((reference, project, kind, purpose, file_name, mime, size, sha,
                          path, caption, lat, lon, state, created))
        yield chunk


def _count(sql_from: str) -> str:
    return "SELECT COUNT(*) " + sql_from + " WHERE {where}"


TABLES: tuple[Table, ...] = (
    Table("reports", N_("Reports"), (
        Column(N_("Reference"), 16), Column(N_("Kind"), 14), Column(N_("Project"), 30),
        Column(N_("Organisation"), 28), Column(N_("Author"), 22),
        Column(N_("Period start"), 13, "date"), Column(N_("Period end"), 13, "date"),
        Column(N_("Status"), 12), Column(N_("Version"), 9, "number"),
        Column(N_("Submitted at"), 18, "datetime"), Column(N_("Status changed at"), 18, "datetime"),
        Column(N_("Narrative"), 60), Column(N_("Comment"), 40),
    ), _count("FROM reports r"), _report_chunks),
    Table("indicator_values", N_("Indicator values"), (
        Column(N_("Reference"), 16), Column(N_("Project"), 30),
        Column(N_("Period start"), 13, "date"), Column(N_("Period end"), 13, "date"),
        Column(N_("Indicator code"), 16), Column(N_("Indicator"), 32), Column(N_("Unit"), 12),
        Column(N_("Value"), 12, "number"), Column(N_("Target"), 12, "number"),
        Column(N_("Version"), 9, "number"), Column(N_("Current version"), 10),
        Column(N_("Submitted at"), 18, "datetime"),
    ), _count("FROM reports r JOIN report_versions v ON v.report_id = r.id"
              " JOIN indicator_values iv ON iv.report_version_id = v.id") + " AND {versions}",
        _value_chunks),
    Table("attachments", N_("Attachments"), (
        Column(N_("Reference"), 16), Column(N_("Project"), 30), Column(N_("Type"), 10),
        Column(N_("Purpose"), 11), Column(N_("File name"), 30), Column(N_("Media type"), 18),
        Column(N_("Size (bytes)"), 12, "number"), Column(N_("SHA-256"), 66),
        Column(N_("Path in the media folder"), 40), Column(N_("Caption"), 40),
        Column(N_("Latitude"), 11, "number"), Column(N_("Longitude"), 11, "number"),
        Column(N_("State"), 9), Column(N_("Received at"), 18, "datetime"),
    ), _count("FROM reports r JOIN report_versions v ON v.report_id = r.id"
              " AND v.version = r.version JOIN attachments a ON a.report_version_id = v.id"),
        _attachment_chunks),
)


def headers(table: Table, timezone: str | None = None) -> list[str]:
    """The columns' titles in the current language; a time's column names its time zone
    ("Submitted at (Africa/Dakar)"): a spreadsheet's cells have none."""
    return [_(column.header) + (f" ({timezone})" if timezone and column.kind == "datetime"
                                else "") for column in table.columns]


def total_rows(conn: sqlite3.Connection, scope: Scope) -> int:
    return sum(table.count(conn, scope) for table in TABLES)
