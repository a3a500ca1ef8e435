"""XLSX workbooks (xlsxwriter, constant memory: rows streamed to disk) and CSV files.

Conversions are chosen once per column (by its kind), not looked up cell by cell: a text
column's cells go through `_text` (the one place where a text cell is made safe), numbers and
days are written as they come, times are formatted.
"""

from __future__ import annotations

import csv
import functools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.exports.cells import clean, csv_text
from bot.exports.tables import TABLES, Cell, Scope, Table, connect_readonly, headers
from bot.i18n import _

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

Progress = Callable[[int], None]  # called with the number of rows written since the last call
PROGRESS_EVERY = 1000
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
_HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F6F8B", "pattern": 1,
           "valign": "vcenter", "text_wrap": True}
_SHEET_NAME_LIMIT = 31  # Excel's limit


def _text(value: str) -> str:
    """A text cell as written to a CSV file: never run as a formula (CSV injection), without
    the characters a spreadsheet cannot hold (see `bot.exports.cells`)."""
    return csv_text(value)


# --- XLSX -----------------------------------------------------------------------------------

# Writes one cell: (sheet, row, column, value, format); typed, so a text is always a string
# cell (never a formula) and a number or a day a real one.
CellWriter = Callable[["Worksheet", int, int, Any, "Format | None"], object]


def _write_any(sheet: Worksheet, row: int, col: int, value: Any, fmt: Format | None) -> object:
    """A cell of a column with no declared kind (survey sheets): typed by its value."""
    if isinstance(value, str):
        return _xlsx_text(sheet, row, col, value, None)
    if isinstance(value, datetime):
        return sheet.write_datetime(row, col, value, fmt)
    if isinstance(value, date):
        return sheet.write_datetime(row, col, value, fmt)
    if isinstance(value, int | float):
        return sheet.write_number(row, col, value)
    return None


def _xlsx_text(sheet: Worksheet, row: int, col: int, value: str, fmt: Format | None) -> object:
    """A text cell: always a string (never a formula, whatever it starts with), without the
    characters XML cannot hold (a NUL would make the whole workbook unreadable)."""
    return sheet.write_string(row, col, clean(value))


def _writers(sheet: Worksheet, kinds: Sequence[str]) -> list[CellWriter]:
    by_kind: dict[str, CellWriter] = {
        "text": _xlsx_text,
        "number": lambda s, r, c, v, f: s.write_number(r, c, v),
        "date": lambda s, r, c, v, f: s.write_datetime(r, c, v, f),
        "datetime": lambda s, r, c, v, f: s.write_datetime(r, c, v, f),
    }
    return [by_kind.get(kind, _write_any) for kind in kinds]


class _Book:
    """An xlsxwriter workbook with the formats every sheet shares."""

    def __init__(self, out: Path | Any) -> None:
        from xlsxwriter import Workbook  # loaded on first use: the bot starts without it

        # Texts stay texts: no formula, URL or number is guessed from a string.
        self.workbook: Workbook = Workbook(out, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": True})
        self.header = self.workbook.add_format(_HEADER)
        self.formats = {kind: self.workbook.add_format({"num_format": fmt})
                        for kind, fmt in _FORMATS.items()}
        self._names: set[str] = set()

    def sheet(self, title: str, names: list[str], widths: list[int]) -> Worksheet:
        """A sheet with its coloured header row, frozen, and column widths."""
        for bad in "[]:*?/\\":
            title = title.replace(bad, " ")
        title = title[:_SHEET_NAME_LIMIT]
        unique, n = title, 1
        while unique.lower() in self._names:  # Excel's names ignore case
            n += 1
            suffix = f" ({n})"
            unique = title[:_SHEET_NAME_LIMIT - len(suffix)] + suffix
        self._names.add(unique.lower())
        sheet = self.workbook.add_worksheet(unique)
        sheet.freeze_panes(1, 0)
        for index, (name, width) in enumerate(zip(names, widths, strict=True)):
            sheet.set_column(index, index, max(width, len(name) + 2))
        for index, name in enumerate(names):
            sheet.write_string(0, index, name, self.header)
        return sheet

    def rows(self, sheet: Worksheet, kinds: Sequence[str], rows: Iterable[Sequence[Any]],
             progress: Progress | None) -> int:
        """Stream the rows below the header (None: an empty cell); set the filter."""
        plan = list(zip(_writers(sheet, kinds), [self.formats.get(k, self.formats["datetime"])
                                                 for k in kinds], strict=True))
        written = 0
        for written, row in enumerate(rows, start=1):
            for col, ((write, fmt), value) in enumerate(zip(plan, row, strict=True)):
                if value is not None:
                    write(sheet, written, col, value, fmt)
            if progress is not None and written % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
        if progress is not None:
            progress(written % PROGRESS_EVERY)
        sheet.autofilter(0, 0, written, max(len(kinds), 1) - 1)
        return written

    def close(self) -> None:
        self.workbook.close()


def _write_sheet(book: _Book, conn: sqlite3.Connection, table: Table, scope: Scope,
                 zone: ZoneInfo, progress: Progress | None) -> int:
    names = headers(table)
    sheet = book.sheet(_(table.title), names, [c.width for c in table.columns])
    return book.rows(sheet, [c.kind for c in table.columns], table.rows(conn, scope, zone),
                     progress)


def write_xlsx(database: Path, out: Path, scope: Scope, timezone: str,
               progress: Progress | None = None,
               extra: Sequence[tuple[str, list[str], list[list[Any]]]] = ()) -> int:
    """Write the workbook of everything in `scope`, then the `extra` sheets (survey
    responses, wide); return the number of data rows."""
    zone = ZoneInfo(timezone)
    conn = connect_readonly(database)
    try:
        book = _Book(out)
        total = sum(_write_sheet(book, conn, table, scope, zone, progress) for table in TABLES)
        for title, header, rows in extra:
            sheet = book.sheet(title, header, [10] * len(header))
            total += book.rows(sheet, ["any"] * len(header), rows, None)
        book.close()
    finally:
        conn.close()
    return total


# --- CSV ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # an instant repeats on each value of a report version
def _csv_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


# A cell's conversion by column kind; None: written as it comes (the csv module writes None
# as an empty field, numbers with repr, and a day as its ISO form).
_CSV_BY_KIND: dict[str, Callable[[Any], Any] | None] = {
    "text": _text, "number": None, "date": None, "datetime": _csv_time}


def _csv_rows(table: Table, rows: Iterable[Sequence[Cell]]) -> Iterable[list[Any]]:
    converted = [(index, convert) for index, column in enumerate(table.columns)
                 if (convert := _CSV_BY_KIND.get(column.kind, _csv_any)) is not None]
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
              progress: Progress | None = None) -> dict[str, Path]:
    """Write one UTF-8 CSV (with BOM, for spreadsheets) per table; return their paths."""
    zone = ZoneInfo(timezone)
    paths = csv_paths(out)
    conn = connect_readonly(database)
    try:
        for table in TABLES:
            with paths[table.key].open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=delimiter)
                writer.writerow(headers(table))
                written = 0
                for row in _csv_rows(table, table.rows(conn, scope, zone)):
                    writer.writerow(row)
                    written += 1
                    if progress is not None and written % PROGRESS_EVERY == 0:
                        progress(PROGRESS_EVERY)
                if progress is not None:
                    progress(written % PROGRESS_EVERY)
    finally:
        conn.close()
    return paths
