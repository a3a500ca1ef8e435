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

from bot.exports.tables import TABLES, Cell, Scope, Table, connect_readonly, headers
from bot.i18n import _

Progress = Callable[[int], None]  # called with the number of rows written since the last call
PROGRESS_EVERY = 1000
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F6F8B")
_SHEET_NAME_LIMIT = 31  # Excel's limit


def _sheet_title(table: Table) -> str:
    title = _(table.title)
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    return title[:_SHEET_NAME_LIMIT]


def _write_sheet(workbook: Workbook, conn: sqlite3.Connection, table: Table, scope: Scope,
                 zone: ZoneInfo, progress: Progress | None) -> int:
    # The stubs miss the write-only sheet's column_dimensions and auto_filter: typed loosely.
    sheet: Any = workbook.create_sheet(_sheet_title(table))
    names = headers(table)
    # Frozen header, widths and filter are declared before the first row (write-only sheets
    # cannot go back); the filter covers the whole rows written, set once they are counted.
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(column.width, len(
            names[index - 1]) + 2)
    header_cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    formats = [_FORMATS.get(column.kind) for column in table.columns]
    written = 0
    for row in table.rows(conn, scope, zone):
        sheet.append([_cell(sheet, value, fmt) for value, fmt in zip(row, formats, strict=True)])
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None:
        progress(written % PROGRESS_EVERY)
    last = get_column_letter(len(names))
    sheet.auto_filter.ref = f"A1:{last}{written + 1}"
    return written


def _write_rows(workbook: Workbook, title: str, header: list[str],
                rows: list[list[Any]]) -> int:
    """A sheet of ready rows, with the same header, freeze, filter and widths."""
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    sheet: Any = workbook.create_sheet(title[:_SHEET_NAME_LIMIT])
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(len(name) + 2, 10), 40)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_cell(sheet, value, None) for value in row])
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"
    return len(rows)


def _cell(sheet: Any, value: Cell, fmt: str | None) -> Any:
    if fmt is not None and isinstance(value, date | datetime):
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]  # dates are cells
        cell.number_format = fmt
        return cell
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A text that a spreadsheet would run as a formula (CSV/formula injection).
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


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
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never let a spreadsheet run a partner's text as a formula
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
