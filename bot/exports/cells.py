"""One rule for every text cell a spreadsheet will read (CSV, XLSX, index.csv of a media pack).

People's texts reach spreadsheets: narratives, captions, survey answers, names. Two things in
them must never get through as they are:

- characters XML 1.0 forbids (NUL and the other C0 controls but tab, newline and carriage
  return; lone surrogates; U+FFFE, U+FFFF): openpyxl refuses them and the whole export fails;
- a start that a spreadsheet runs as a formula (`=`, `+`, `-`, `@`, and a tab or carriage
  return, which Excel skips before reading `=`): formula injection.

Writers call `csv_text` (text kept, quoted with `'` as OWASP advises) or `xlsx_value` (text
kept and typed as a string cell, which no spreadsheet evaluates); both start from `clean`.
"""

from __future__ import annotations

import re
from typing import Any, overload

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """The text without the characters XML (and so XLSX) cannot hold."""
    return _ILLEGAL.sub("", text)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read the text as a formula."""
    return text.startswith(_FORMULA_START) or text.lstrip()[:1] in ("=", "+", "-", "@")


@overload
def csv_text(text: str) -> str: ...
@overload
def csv_text(text: None) -> None: ...
def csv_text(text: str | None) -> str | None:
    """A text for a CSV cell: cleaned, and quoted with `'` when it could run as a formula
    (None and "" as they come: both are an empty field)."""
    if not text:
        return text
    # Nearly every cell is already safe: one scan for a forbidden character and a look at the
    # first one decide it (an export writes millions of text cells; this is their whole cost).
    first = text[0]
    if first not in "=+-@" and not first.isspace() and _ILLEGAL.search(text) is None:
        return text
    text = clean(text)
    return "'" + text if is_formula_like(text) else text


def xlsx_value(sheet: Any, value: Any) -> Any:
    """A value for a write-only XLSX row: texts cleaned, formula-like ones typed as text."""
    if not isinstance(value, str):
        return value
    text = clean(value)
    if not is_formula_like(text):
        return text
    from openpyxl.cell import WriteOnlyCell  # loaded on first use: the bot starts without it

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # a string cell: shown as typed, never evaluated
    return cell
