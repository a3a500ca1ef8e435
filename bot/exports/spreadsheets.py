"""XLSX workbooks (`xlsx_stream`: rows streamed into the file) and CSV files.

Conversions are chosen once per column (by its kind), not looked up cell by cell: a CSV text
cell goes through `_text` (an XLSX one through `xlsx_stream.text_xml`), the one place where a
text is made safe; numbers and days are written as they come, times are formatted.
"""

from __future__ import annotations

import csv
import functools
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.exports.cells import csv_text
from bot.exports.tables import TABLES, Cell, Scope, Table, connect_readonly, headers
from bot.exports.xlsx_stream import Workbook
from bot.i18n import _

if TYPE_CHECKING:
    from bot.exports.survey_wide import Sheet

Progress = Callable[[int], None]  # called with the number of rows written since the last call
PROGRESS_EVERY = 1000


def _text(value: str) -> str:
    """A text cell as written to a CSV file: never run as a formula (CSV injection), without
    the characters a spreadsheet cannot hold (see `bot.exports.cells`)."""
    return csv_text(value)


# --- XLSX -----------------------------------------------------------------------------------


def _write_sheet(book: Workbook, conn: sqlite3.Connection, table: Table, scope: Scope,
                 zone: ZoneInfo, progress: Progress | None) -> int:
    book.sheet(_(table.title), headers(table, zone.key), [c.width for c in table.columns])
    return book.rows([c.kind for c in table.columns], table.rows(conn, scope, zone), progress,
                     PROGRESS_EVERY)


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


@functools.lru_cache(maxsize=4096)  # an instant repeats on each value of a report version
def _csv_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _comma(value: Any) -> Any:
    """A number for a spreadsheet that reads 12,5 (French, Portuguese, Spanish…): 12 for a
    whole number, never 12,0."""
    if not isinstance(value, float):
        return value
    return str(int(value)) if value.is_integer() else repr(float(value)).replace(".", ",")


# A cell's conversion by column kind; None: written as it comes (the csv module writes None
# as an empty field, numbers with repr, and a day as its ISO form).
_CSV_BY_KIND: dict[str, Callable[[Any], Any] | None] = {
    "text": _text, "number": None, "date": None, "datetime": _csv_time}


def _csv_rows(table: Table, rows: Iterable[Sequence[Cell]],
              decimal: str = ".") -> Iterable[list[Any]]:
    kinds = _CSV_BY_KIND if decimal == "." else {**_CSV_BY_KIND, "number": _comma}
    converted = [(index, convert) for index, column in enumerate(table.columns)
                 if (convert := kinds.get(column.kind, _csv_any)) is not None]
    for row in rows:
        out = list(row)
        for index, convert in converted:
            value = out[index]
            if value is not None:
                out[index] = convert(value)
        yield out


def _csv_any(value: Cell) -> str | int | float:
    """A cell of a column with no declared kind, typed by its value."""
    if isinstance(value, datetime):
        return _csv_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value)
    return "" if value is None else value


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
                writer = csv.writer(handle, delimiter=delimiter)
                writer.writerow(headers(table, timezone))
                rows = iter(_csv_rows(table, table.rows(conn, scope, zone), decimal))
                while chunk := list(itertools.islice(rows, PROGRESS_EVERY)):
                    writer.writerows(chunk)  # a thousand rows in one call, in C
                    if progress is not None:
                        progress(len(chunk))
    finally:
        conn.close()
    return paths
