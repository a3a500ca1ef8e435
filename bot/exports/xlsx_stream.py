"""A small streaming XLSX writer: each sheet's XML is written row by row straight into the
ZIP file, so memory stays flat whatever the number of rows.

Only what the exports use: inline strings (never formulas, whatever they start with), numbers,
dates and times with a number format, a coloured bold header row that stays frozen, column
widths and an auto-filter. Each column's cells are written by a writer chosen once by its kind
(`column_cells`), which converts each distinct value once (names, days, statuses repeat down a
column) and maps the column in C; a chunk of rows is joined from those pieces and written at
once. The text of a string cell passes through `text_xml`, the one place where a text is made
safe for the file. Written by hand because the general writers spend most of their time per
cell on checks and conversions the exports do not need: on the same 30,000 rows, openpyxl's
write-only mode took 12.5 s, xlsxwriter's constant-memory mode 6.9 s, this writer 1.4 s
when it wrote row by row; column by column, the 241,000 rows of the benchmark's store take
about half the CPU time they took row by row (9.6 s, then 4.6-5.5 s on the same machine).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from itertools import chain, islice, repeat
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

HEADER_COLOUR = "1F6F8B"
EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
_STYLE = {"header": 1, "date": 2, "datetime": 3, "percent": 4, "whole_percent": 5}
# Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_NAME_LIMIT = 31
HEADER_WIDTH = 32  # characters: a longer column title wraps in a taller header row


def text_xml(value: str) -> str:
    """A text as the content of an inline string: escaped, characters XML forbids dropped."""
    if _NOT_XML.search(value):
        value = _NOT_XML.sub("", value)
    return escape(value)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _serial(value: date | datetime | timedelta) -> str:
    """Excel's serial number of a day or a local time (or of its time since Excel's day 0)."""
    if isinstance(value, timedelta):
        return repr(value.days + value.seconds / 86400 + value.microseconds / 86_400e6)
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400e6)
    return str((value - EPOCH.date()).days)


class Percent(float):
    """A value in percent (45.5 for 45.5 %): a percent cell in XLSX (0.455, shown as the
    spreadsheet's locale writes percentages: 45,5 % in French), the number in CSV."""


# A cell's XML is written in two parts around its row number: `<c r="B` (ended by the cell
# before it), the number, then its "tail": the rest of the cell, up to the next cell's
# `<c r="C` (or `</row>` after the last). A tail depends on the value and the column only, so
# a column's tails are cached by value and a row is joined from existing strings: no
# formatting per cell (it was most of an export's time). Tails are cached encoded: the chunk
# is joined as bytes, with no encoding pass over it.
_EMPTY = '"/>'  # a cell without a value (None, ""): blank, as if absent
_INF = (float("inf"), float("-inf"))


def _text_tail(value: Any) -> str:
    if not value:
        return _EMPTY  # an empty text is an empty cell
    if not isinstance(value, str):
        value = str(value)
    return f'" t="inlineStr"><is><t xml:space="preserve">{text_xml(value)}</t></is></c>'


def _number_tail(value: Any) -> str:
    if value is None:
        return _EMPTY
    if isinstance(value, bool):
        value = int(value)
    if value != value or value in _INF:  # NaN, infinities
        return '" t="e"><v>#NUM!</v></c>'
    if isinstance(value, Percent):
        style = _STYLE["whole_percent" if value.is_integer() else "percent"]
        return f'" s="{style}"><v>{float(value) / 100!r}</v></c>'
    return f'"><v>{value!r}</v></c>'


def _date_tail(value: Any) -> str:
    return _EMPTY if value is None else f'" s="{_STYLE["date"]}"><v>{_serial(value)}</v></c>'


def _datetime_tail(value: Any) -> str:
    return (_EMPTY if value is None
            else f'" s="{_STYLE["datetime"]}"><v>{_serial(value)}</v></c>')


def _any_tail(value: Any) -> str:
    """A column with no declared kind (survey sheets): typed by the value."""
    if value is None or isinstance(value, str):
        return _text_tail(value)
    if isinstance(value, datetime):
        return _datetime_tail(value)
    if isinstance(value, date):
        return _date_tail(value)
    if isinstance(value, int | float):
        return _number_tail(value)
    return _text_tail(str(value))


TAILS: dict[str, Callable[[Any], str]] = {
    "text": _text_tail, "number": _number_tail, "date": _date_tail, "datetime": _datetime_tail}
# Cached tails kept per column (a name, a day, a status repeats all down a sheet), forgotten
# past this many distinct values so that memory stays flat.
CACHE_LIMIT = 4096
# A column's cells as XML tails (see above, UTF-8), from an iterable of its values.
CellColumn = Callable[[Iterable[Any]], Iterable[bytes]]


class _Tails(dict[Any, bytes]):
    """One column's tails by value, each distinct value converted once: a hit is a lookup in
    C, not a call. `parse` turns a key into the value first (a stored ISO day into a date)."""

    def __init__(self, tail: Callable[[Any], str], end: str,
                 parse: Callable[[Any], Any] | None) -> None:
        super().__init__()
        self.tail, self.end, self.parse = tail, end, parse

    def __missing__(self, key: Any) -> bytes:
        value = key if self.parse is None or key is None else self.parse(key)
        xml = self[key] = (self.tail(value) + self.end).encode()
        return xml

    def column(self, values: Iterable[Any]) -> Iterable[bytes]:
        if len(self) > CACHE_LIMIT:
            self.clear()
        return map(self.__getitem__, values)


class _TypedTails(_Tails):
    """Numbers: keyed by (type, value), since 45 == 45.0 == Percent(45.0) in a dict, but
    their cells differ (a percent cell is styled)."""

    def __missing__(self, key: Any) -> bytes:
        xml = self[key] = (self.tail(key[1]) + self.end).encode()
        return xml

    def column(self, values: Iterable[Any]) -> Iterable[bytes]:
        if not isinstance(values, list | tuple):
            values = list(values)  # read twice below
        return super().column(zip(map(type, values), values, strict=True))


class _TextTails(_Tails):
    """Texts: `_text_tail` inlined (a name or a reference is often seen once a chunk)."""

    def __missing__(self, key: Any) -> bytes:
        if not key:
            xml = _EMPTY
        else:
            text = key if isinstance(key, str) else str(key)
            if _NOT_XML.search(text):
                text = _NOT_XML.sub("", text)
            # xml.sax.saxutils.escape's three replacements, without its call.
            xml = ('" t="inlineStr"><is><t xml:space="preserve">' + text.replace(
                "&", "&amp;").replace(">", "&gt;").replace("<", "&lt;") + "</t></is></c>")
        tail = self[key] = (xml + self.end).encode()
        return tail


class _SerialTails(_Tails):
    """Date-times that `parse` gives as their time since `EPOCH` (nearly each one distinct:
    `_datetime_tail` and `_serial` inlined)."""

    def __missing__(self, key: Any) -> bytes:
        value = None if key is None or self.parse is None else self.parse(key)
        if isinstance(value, timedelta):
            serial = value.days + value.seconds / 86400 + value.microseconds / 86_400e6
            xml = f'" s="{_STYLE["datetime"]}"><v>{serial!r}</v></c>'
        else:
            xml = _datetime_tail(value)
        tail = self[key] = (xml + self.end).encode()
        return tail


def _uncached(tail: Callable[[Any], str], end: str) -> CellColumn:
    return lambda values: ((tail(value) + end).encode() for value in values)


def column_cells(kind: str, index: int, count: int,
                 parse: Callable[[Any], Any] | None = None) -> CellColumn:
    """The cells of the column `index` (of `count`) of this kind as XML tails. `parse`
    converts each distinct value first (a "date" or "datetime" column given as stored
    texts); a "datetime" value may also be a local time as its time since `EPOCH` (the
    serial number without the date-time built)."""
    end = f'<c r="{column_letter(index + 1)}' if index + 1 < count else "</row>"
    if kind == "number":
        return _TypedTails(_number_tail, end, None).column
    if kind == "datetime" and parse is None:
        # Not cached by value: equal aware instants in two offsets are two local times.
        return _uncached(_datetime_tail, end)
    if kind == "datetime":
        return _SerialTails(_datetime_tail, end, parse).column
    if kind == "text":
        return _TextTails(_text_tail, end, None).column
    if kind in TAILS:
        return _Tails(TAILS[kind], end, parse).column
    return _uncached(_any_tail, end)


class Workbook:
    """Sheets are written one after the other (`sheet`, then `rows` or `chunk`), then
    `close`."""

    def __init__(self, out: Path | IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=1)
        self._titles: list[str] = []
        self._filters: list[str] = []
        self._open: IO[bytes] | None = None
        # zlib lets go of the GIL while it compresses: a chunk is compressed and written on
        # this thread while the next one is built (one chunk ahead at most: memory stays flat).
        self._deflate = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-deflate")
        self._pending: Future[int] | None = None
        self._columns = 0
        self._last_row = 1  # the header

    def sheet(self, title: str, names: Sequence[str], widths: Sequence[int]) -> None:
        """Start a sheet: its header row (coloured, bold, frozen) and its column widths."""
        self._finish_sheet()
        for bad in "[]:*?/\\":
            title = title.replace(bad, " ")
        title = title[:_SHEET_NAME_LIMIT]
        unique, n = title, 1
        while unique.lower() in {t.lower() for t in self._titles}:  # Excel ignores case
            n += 1
            suffix = f" ({n})"
            unique = title[:_SHEET_NAME_LIMIT - len(suffix)] + suffix
        self._titles.append(unique)
        self._open = self._zip.open(f"xl/worksheets/sheet{len(self._titles)}.xml", "w",
                                    force_zip64=True)
        sizes = [max(w, min(len(n) + 2, HEADER_WIDTH)) for n, w in zip(names, widths,
                                                                           strict=True)]
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(sizes, start=1))
        # A title longer than its column wraps (the header style wraps): room for its lines.
        lines = max((-(-len(n) // max(1, w - 2)) for n, w in zip(names, sizes, strict=True)),
                    default=1)
        height = (f' ht="{15 * min(lines, 6)}" customHeight="1"' if lines > 1 else "")
        header = "".join(
            f'<c r="{column_letter(i)}1" s="{_STYLE["header"]}" t="inlineStr"><is>'
            f'<t xml:space="preserve">{text_xml(name)}</t></is></c>'
            for i, name in enumerate(names))
        self._write(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            # Printed for a council meeting: the width of the page, as many pages down as
            # needed (fitToHeight 0), never 5 rows on 20 pages.
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
            '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData><row r="1"{height}>{header}</row>')
        self._columns = len(names)
        self._last_row = 1

    def cells(self, kinds: Sequence[str]) -> list[CellColumn]:
        """The current sheet's cell writers, one per column, chosen once by its kind."""
        if len(kinds) != self._columns:
            raise ValueError(f"{len(kinds)} kinds for {self._columns} columns")
        return [column_cells(kind, index, len(kinds)) for index, kind in enumerate(kinds)]

    def chunk(self, count: int, tails: Sequence[Iterable[bytes]]) -> int:
        """Write `count` rows below the last, given column by column as XML tails (from
        `cells` or `column_cells`), in one write; return `count`."""
        first = self._last_row + 1
        self._last_row += count
        numbers = list(map(str.encode, map(str, range(first, first + count))))
        if not tails:
            self._write_bytes(b"".join(b'<row r="%s"></row>' % number for number in numbers))
            return count
        # Per row: <row r="N"><c r="A N tailA N tailB … (each tail opens the next cell).
        parts: list[Iterable[bytes]] = [repeat(b'<row r="'), numbers, repeat(b'"><c r="A')]
        for column in tails:
            parts += (numbers, column)  # zip reads the numbers once per argument
        # One join of existing pieces, in C (repeat is endless: not strict).
        self._write_bytes(b"".join(chain.from_iterable(zip(*parts, strict=False))))
        return count

    def rows(self, kinds: Sequence[str], rows: Iterable[Sequence[Any]],
             progress: Callable[[int], None] | None = None, every: int = 1000) -> int:
        """Stream the data rows (None: an empty cell) below the header; return their count."""
        cells = self.cells(kinds)
        count = 0
        source = iter(rows)
        while chunk := list(islice(source, every)):
            columns = list(zip(*chunk, strict=True))
            count += self.chunk(len(chunk), [cell(column) for cell, column in zip(
                cells, columns, strict=True)])
            if progress is not None:
                progress(len(chunk))
        return count

    def _write(self, text: str) -> None:
        self._write_bytes(text.encode("utf-8"))

    def _write_bytes(self, data: bytes) -> None:
        assert self._open is not None
        self._wait()
        self._pending = self._deflate.submit(self._open.write, data)

    def _wait(self) -> None:
        """Wait for the chunk being written; its error, if any, is raised here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _finish_sheet(self) -> None:
        if self._open is None:
            return
        self._filters.append(f"A1:{column_letter(max(self._columns, 1) - 1)}{self._last_row}")
        self._write(f'</sheetData><autoFilter ref="{self._filters[-1]}"/>'
                    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                    'header="0.3" footer="0.3"/>'
                    '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" '
                    'fitToHeight="0"/></worksheet>')
        self._wait()
        self._open.close()
        self._open = None

    def close(self) -> None:
        try:
            self._finish_sheet()
        finally:
            self._deflate.shutdown()
        self._zip.writestr("[Content_Types].xml", _content_types(len(self._titles)))
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", _workbook(self._titles, self._filters))
        self._zip.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(self._titles)))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()


def _content_types(sheets: int) -> str:
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, sheets + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{parts}</Types>")


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')


def _workbook(titles: Sequence[str], filters: Sequence[str]) -> str:
    sheets = "".join(f'<sheet name="{escape(t, {chr(34): "&quot;"})}" sheetId="{i}" '
                     f'r:id="rId{i}"/>' for i, t in enumerate(titles, start=1))
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{_quoted(t)}!{_absolute(f)}</definedName>"
        for i, (t, f) in enumerate(zip(titles, filters, strict=True)))
    # The header row repeated at the top of every printed page.
    names += "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{_quoted(t)}!$1:$1'
        "</definedName>" for i, t in enumerate(titles))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>")


def _quoted(title: str) -> str:
    return escape("'" + title.replace("'", "''") + "'")


def _absolute(ref: str) -> str:
    first, last = ref.split(":")
    return ":".join("$" + re.sub(r"(\d+)", r"$\1", part) for part in (first, last))


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, sheets + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rId{sheets + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>')


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    # Dates and times in the spreadsheet's own short formats (built-in 14 and 22: 03/03/2026
    # in a French Excel, 3/3/2026 in an American one), percentages as 45,5 %.
    '<numFmts count="1"><numFmt numFmtId="166" formatCode="0.0#%"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/><family val="2"/>'
    "</font></fonts>"
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{HEADER_COLOUR}"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")
