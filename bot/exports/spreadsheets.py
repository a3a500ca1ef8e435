"""XLSX workbooks (`xlsx_stream`: rows streamed into the file) and CSV files.

Conversions are chosen once per column (by its kind), not looked up cell by cell: a CSV text
cell goes through `_text` (an XLSX one through `xlsx_stream.text_xml`), the one place where a
text is made safe; numbers and days are written as they come, times are formatted.
"""

from __future__ import annotations

import csv
import functools
import io
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.exports.cells import csv_text
from bot.exports.tables import (
    TABLES,
    After,
    Cell,
    Scope,
    Stored,
    Table,
    connect_readonly,
    headers,
    local_time,
)
from bot.exports.xlsx_stream import EPOCH, Workbook, column_cells
from bot.i18n import _

if TYPE_CHECKING:
    from bot.exports.survey_wide import Sheet

Progress = Callable[[int], None]  # called with the number of rows written since the last call
PROGRESS_EVERY = 1000


# A text cell as written to a CSV file: never run as a formula (CSV injection), without the
# characters a spreadsheet cannot hold (see `bot.exports.cells`). The same function, not a
# wrapper: one call less on every text cell.
_text = csv_text


# --- XLSX -----------------------------------------------------------------------------------


_DAY_ZERO_UTC = EPOCH.replace(tzinfo=UTC)


def _since_day_zero(zone: ZoneInfo) -> Callable[[str], timedelta | datetime | None]:
    """A stored UTC instant as the local time since the spreadsheet's day 0: the time since
    then in UTC plus the zone's offset at that instant (`local_time`'s local time, without
    building it: that was half a time cell's cost)."""

    def convert(value: str) -> timedelta | datetime | None:
        instant = datetime.fromisoformat(value)
        offset = instant.astimezone(zone).utcoffset() if instant.tzinfo is not None else None
        if offset is None:
            return local_time(value, zone)  # stored without its offset: as `local_time` reads it
        return instant - _DAY_ZERO_UTC + offset

    return convert


def _xlsx_conversions(table: Table, zone: ZoneInfo) -> After:
    """Each column's cells as the workbook's XML, by a writer chosen once by its kind (see
    `xlsx_stream.column_cells`). Days and instants are converted from the stored texts, once
    per distinct text: a day repeats on every report of a period, an instant on each value of
    a report version."""
    count = len(table.columns)
    stored: dict[str, Callable[[Any], Any]] = {"date": date.fromisoformat,
                                               "datetime": _since_day_zero(zone)}
    conversions: dict[int, Callable[[Iterable[Any]], Iterable[Any]] | Stored] = {}
    for index, column in enumerate(table.columns):
        parse = stored.get(column.kind)
        cells = column_cells(column.kind, index, count, parse)
        conversions[index] = cells if parse is None else Stored(cells)
    return conversions


def _write_sheet(book: Workbook, conn: sqlite3.Connection, table: Table, scope: Scope,
                 zone: ZoneInfo, progress: Progress | None) -> int:
    book.sheet(_(table.title), headers(table, zone.key), [c.width for c in table.columns])
    total = 0
    for count, columns in table.column_chunks(conn, scope, zone, _xlsx_conversions(table, zone)):
        total += book.chunk(count, columns)
        if progress is not None:
            progress(count)
    return total


def write_xlsx(database: Path, out: Path, scope: Scope, timezone: str,
               progress: Progress | None = None,
               extra: Sequence[Sheet] = ()) -> int:
    """Write the workbook of everything in `scope`, then the `extra` sheets (survey
    responses, wide and readable); return the number of data rows."""
    zone = ZoneInfo(timezone)
    conn = connect_readonly(database)
    try:
        book = Workbook(out)
        total = sum(_write_sheet(book, conn, table, scope, zone, progress) for table in TABLES)
        for sheet in extra:
            book.sheet(sheet.title, sheet.names, sheet.widths())
            total += book.rows(sheet.kinds, sheet.rows)
        book.close()
    finally:
        conn.close()
    return total


# --- CSV ------------------------------------------------------------------------------------


def _csv_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M")


class _CsvLocal(dict[str | None, str | None]):
    """A chunk's stored UTC instants as the reader's local times (`2026-11-24 12:38`), each
    distinct instant once: a report version's instant repeats on each of its values."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__()
        self.zone = zone

    def __missing__(self, value: str | None) -> str | None:
        # isoformat in C; strftime was the export's slowest call, about 4 times slower.
        local = None if value is None else datetime.fromisoformat(value).astimezone(
            self.zone).replace(tzinfo=None).isoformat(" ", "minutes")
        self[value] = local
        return local


def _csv_local(zone: ZoneInfo) -> Callable[[Iterable[str | None]], Iterable[str | None]]:
    """A column of stored instants as local times, with a cache per chunk (bounded)."""
    return lambda column: map(_CsvLocal(zone).__getitem__, column)


def _comma(value: Any) -> Any:
    """A number for a spreadsheet that reads 12,5 (French, Portuguese, Spanish…): 12 for a
    whole number, never 12,0."""
    if not isinstance(value, float):
        return value
    return str(int(value)) if value.is_integer() else repr(float(value)).replace(".", ",")


class _SafeTexts(dict[str | None, str | None]):
    """A chunk's text cells made safe, each distinct text once: a name, a unit or a status
    repeats down a column, and a hit is a lookup in C, not a call."""

    def __missing__(self, text: str | None) -> str | None:
        safe = self[text] = _text(text)
        return safe


def _safe_texts(column: Iterable[str | None]) -> Iterable[str | None]:
    return map(_SafeTexts().__getitem__, column)  # a dict per chunk: its size stays bounded


def _csv_conversions(table: Table, zone: ZoneInfo, decimal: str = ".") -> After:
    """The CSV's conversion of each column, chosen by its kind. Days and numbers are written
    from the stored values (an ISO day, a number: what the csv module writes of a date or a
    percent anyway), instants from the stored UTC one, texts made safe."""
    number = Stored(None if decimal == "." else functools.partial(map, _comma))
    by_kind: dict[str, Callable[[Iterable[Any]], Iterable[Any]] | Stored] = {
        "text": _safe_texts, "number": number, "date": Stored(),
        "datetime": Stored(_csv_local(zone))}
    return {index: by_kind.get(column.kind, functools.partial(map, _csv_any))
            for index, column in enumerate(table.columns)}


def _csv_any(value: Cell) -> str | int | float | None:
    """A cell of a column with no declared kind, typed by its value."""
    if isinstance(value, datetime):
        return _csv_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value)
    return value


def csv_paths(out: Path) -> dict[str, Path]:
    """One file per table next to `out`: reports.csv → reports_indicator_values.csv…"""
    stem = out.with_suffix("")
    return {table.key: out if index == 0 else stem.with_name(f"{stem.name}_{table.key}.csv")
            for index, table in enumerate(TABLES)}


def write_csv(database: Path, out: Path, scope: Scope, timezone: str, delimiter: str = ",",
              progress: Progress | None = None, decimal: str = ".") -> dict[str, Path]:
    """Write one UTF-8 CSV (with BOM, for spreadsheets) per table; return their paths.
    `decimal` ',' writes 12,5 for a spreadsheet of a comma-decimal country (a percent as its
    number of percent, 45,5)."""
    zone = ZoneInfo(timezone)
    paths = csv_paths(out)
    conn = connect_readonly(database)
    try:
        for table in TABLES:
            with paths[table.key].open("w", encoding="utf-8-sig", newline="") as handle:
                # Rows go to a buffer, and the buffer to the file once a chunk: one encoding
                # and one write a chunk rather than one a row.
                buffer = io.StringIO()
                writer = csv.writer(buffer, delimiter=delimiter)
                writer.writerow(headers(table, timezone))
                for chunk in table.chunks(conn, scope, zone, _csv_conversions(table, zone, decimal)):
                    writer.writerows(chunk)  # a chunk of rows in one call, in C
                    handle.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
                    if progress is not None:
                        progress(len(chunk))
                handle.write(buffer.getvalue())
    finally:
        conn.close()
    return paths
