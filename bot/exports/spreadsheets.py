"""XLSX workbooks (openpyxl, write-only: rows streamed to disk) and CSV files."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.exports.cells import csv_text, xlsx_value
from bot.exports.tables import TABLES, Cell, Scope, Table, connect_readonly, headers
from bot.i18n import _

Progress = Callable[[int], None]  # called with the number of rows written since the last call
PROGRESS_EVERY = 1000
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F6F8B")
_SHEET_NAME_LIMIT = 31  # Excel's limit


def _new_sheet(workbook: Workbook, title: str, names: list[str], widths: list[int]) -> Any:
    """A write-only sheet with its coloured header row, frozen, and column widths.

    Frozen header and widths are declared before the first row (write-only sheets cannot go
    back); the filter is set by `_close_sheet`, once the rows are counted. The stubs miss the
    write-only sheet's column_dimensions and auto_filter: typed loosely.
    """
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    sheet: Any = workbook.create_sheet(title[:_SHEET_NAME_LIMIT])
    sheet.freeze_panes = "A2"
    for index, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(width, len(name) + 2)
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    return sheet


def _close_sheet(sheet: Any, columns: int, rows: int) -> None:
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(columns, 1))}{rows + 1}"


def _write_sheet(workbook: Workbook, conn: sqlite3.Connection, table: Table, scope: Scope,
                 zone: ZoneInfo, progress: Progress | None) -> int:
    names = headers(table)
    sheet = _new_sheet(workbook, _(table.title), names, [c.width for c in table.columns])
    formats = [_FORMATS.get(column.kind) for column in table.columns]
    written = 0
    for row in table.rows(conn, scope, zone):
        sheet.append([_cell(sheet, value, fmt) for value, fmt in zip(row, formats, strict=True)])
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None:
        progress(written % PROGRESS_EVERY)
    _close_sheet(sheet, len(names), written)
    return written


def _write_rows(workbook: Workbook, title: str, header: list[str],
                rows: list[list[Any]]) -> int:
    """A sheet of ready rows (survey responses), laid out like the others."""
    sheet = _new_sheet(workbook, title, header, [10] * len(header))
    for row in rows:
        sheet.append([_cell(sheet, value, None) for value in row])
    _close_sheet(sheet, len(header), len(rows))
    return len(rows)


def _cell(sheet: Any, value: Cell, fmt: str | None) -> Any:
    if fmt is not None and isinstance(value, date | datetime):
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]  # dates are cells
        cell.number_format = fmt
        return cell
    return xlsx_value(sheet, value)  # texts: no XML-illegal character, never a formula


def write_xlsx(database: Path, out: Path, scope: Scope, timezone: str,
               progress: Progress | None = None,
               extra: Sequence[tuple[str, list[str], list[list[Any]]]] = ()) -> int:
    """Write the workbook of everything in `scope`, then the `extra` sheets (survey
    responses, wide); return the number of data rows."""
    zone = ZoneInfo(timezone)
    conn = connect_readonly(database)
    try:
        workbook = Workbook(write_only=True)
        total = sum(_write_sheet(workbook, conn, table, scope, zone, progress)
                    for table in TABLES)
        for title, header, rows in extra:
            total += _write_rows(workbook, title, header, rows)
        workbook.save(out)
    finally:
        conn.close()
    return total


def _csv_value(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_text(value)  # never let a spreadsheet run a partner's text as a formula
    return value


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
                for row in table.rows(conn, scope, zone):
                    writer.writerow([_csv_value(v) for v in row])
                    written += 1
                    if progress is not None and written % PROGRESS_EVERY == 0:
                        progress(PROGRESS_EVERY)
                if progress is not None:
                    progress(written % PROGRESS_EVERY)
    finally:
        conn.close()
    return paths
