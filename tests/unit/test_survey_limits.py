"""Import limits (issue 11): files are checked before openpyxl, xlrd or pyxform read them, and
every refusal is one line naming what is wrong."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.core.surveys.forms import FormError, read_form
from bot.core.surveys.limits import MAX_CELLS, MAX_FILE, MAX_UNCOMPRESSED


def _valid(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["text", "t", "T"])
    book.save(path)
    return path


def _rewrite(path: Path, member: str, content: bytes) -> None:
    original = zipfile.ZipFile(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in original.infolist():
            data = content if info.filename == member else original.read(info.filename)
            out.writestr(info.filename, data)
    original.close()
    path.write_bytes(buffer.getvalue())


def _refused(path: Path, message: str) -> None:
    with pytest.raises(FormError) as error:
        read_form(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_valid_workbook_passes(tmp_path: Path) -> None:
    assert read_form(_valid(tmp_path / "ok.xlsx")).questions[0].name == "t"


def test_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"\0" * (MAX_FILE + 1))
    _refused(path, "larger than 10 MB")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"this is text")
    _refused(path, "not an .xlsx workbook")


def test_a_zip_bomb_is_refused_before_it_is_unzipped(tmp_path: Path) -> None:
    path = _valid(tmp_path / "bomb.xlsx")
    _rewrite(path, "xl/worksheets/sheet1.xml", b"\0" * (MAX_UNCOMPRESSED + 1))
    _refused(path, "unzips to more than 50 MB")


def test_too_many_cells(tmp_path: Path) -> None:
    path = _valid(tmp_path / "cells.xlsx")
    cells = b"".join(b'<c r="A%d" t="inlineStr"><is><t>x</t></is></c>' % i
                     for i in range(MAX_CELLS + 1))
    _rewrite(path, "xl/worksheets/sheet1.xml",
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b"<sheetData><row>" + cells + b"</row></sheetData></worksheet>")
    _refused(path, "more than 200,000 cells")


def test_an_xml_entity_bomb_gets_one_line(tmp_path: Path) -> None:
    path = _valid(tmp_path / "lol.xlsx")
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
           b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"&lol2;</workbook>")
    _rewrite(path, "xl/workbook.xml", lol)
    _refused(path, "declares XML entities")


def test_an_unreadable_workbook_is_one_line_never_a_traceback(tmp_path: Path) -> None:
    path = _valid(tmp_path / "broken.xlsx")
    _rewrite(path, "xl/workbook.xml", b"<workbook><not closed")
    _refused(path, "cannot read broken.xlsx")
