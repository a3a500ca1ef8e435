"""The streaming XLSX writer: what a spreadsheet reads back (openpyxl, strict reader)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl

from bot.exports.xlsx_stream import Workbook, column_letter


def _book(write: object) -> openpyxl.Workbook:
    buffer = io.BytesIO()
    book = Workbook(buffer)
    write(book)  # type: ignore[operator]
    book.close()
    assert zipfile.ZipFile(io.BytesIO(buffer.getvalue())).testzip() is None
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def test_typed_cells_header_filter_and_widths() -> None:
    counted: list[int] = []

    def write(book: Workbook) -> None:
        book.sheet("Rapports", ["Référence", "Valeur", "Jour", "Reçu à", "Texte"],
                   [16, 10, 13, 18, 60])
        rows = [("R-1", 12.5, date(2026, 1, 26), datetime(2026, 3, 3, 14, 5), "=1+1 « ça »"),
                ("R-2", None, None, None, "@cmd\x00\x07 <b> & 'x'"),
                ("R-3", 7, date(2026, 2, 1), datetime(2026, 3, 4, 8, 0), ""),
                ("R-4", float("nan"), date(2026, 2, 2), datetime(2026, 3, 5, 9, 30), "-2")]
        assert book.rows(["text", "number", "date", "datetime", "text"], rows,
                         counted.append, every=3) == 4

    sheet = _book(write)["Rapports"]
    assert counted == [3, 1]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E5"
    assert [c.value for c in sheet[1]] == ["Référence", "Valeur", "Jour", "Reçu à", "Texte"]
    header = sheet.cell(1, 1)
    assert header.font.bold and header.fill.fgColor.rgb.endswith("1F6F8B")
    assert sheet.column_dimensions["E"].width == 60
    assert sheet.column_dimensions["A"].width == 16
    first = [c.value for c in sheet[2]]
    assert first == ["R-1", 12.5, datetime(2026, 1, 26), datetime(2026, 3, 3, 14, 5),
                     "=1+1 « ça »"]
    assert sheet.cell(2, 5).data_type == "s"  # never a formula
    assert sheet.cell(2, 3).number_format == "mm-dd-yy"  # the reader's short date (14)
    assert sheet.cell(2, 4).number_format == "m/d/yy h:mm"  # and date-time (22)
    assert [c.value for c in sheet[3]] == ["R-2", None, None, None, "@cmd <b> & 'x'"]
    assert sheet.cell(4, 5).value is None  # an empty text is an empty cell
    assert sheet.cell(5, 2).value == "#NUM!" and sheet.cell(5, 5).value == "-2"


def test_sheet_names_are_made_valid_and_unique() -> None:
    def write(book: Workbook) -> None:
        for title in ("a/b:c", "A/B:C", "x" * 40, "survey #1", "survey #1"):
            book.sheet(title, ["n"], [5])
            book.rows(["any"], [[1], ["two"], [date(2026, 1, 1)]])

    names = _book(write).sheetnames
    assert names == ["a b c", "A B C (2)", "x" * 31, "survey #1", "survey #1 (2)"]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_a_failed_write_is_raised_not_lost() -> None:
    """Chunks are compressed and written on a worker thread: a disk that fills up still
    fails the export."""
    import pytest

    class Full(io.BytesIO):
        room = 10_000

        def write(self, data: bytes) -> int:  # type: ignore[override]
            if self.tell() > self.room:
                raise OSError(28, "No space left on device")
            return super().write(data)

    out = Full()
    book = Workbook(out)
    book.sheet("Rapports", ["Texte", "Nombre"], [20, 10])
    with pytest.raises(OSError, match="No space left"):
        book.rows(["text", "number"], ((f"ligne {n} « {n * 7919 % 10007} »", n * 1.5)
                                       for n in range(200_000)))
    out.room = 10**9  # room made: the workbook closes (its thread too)
    book.close()
