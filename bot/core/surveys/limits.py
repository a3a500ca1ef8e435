"""Import limits: a questionnaire file is checked before openpyxl, xlrd or pyxform read it,
so that a huge file, a zip bomb or an XML entity bomb is refused in one line instead of
filling the memory of the machine that runs the bot."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

MAX_FILE = 10 * 1024 * 1024  # bytes of the file as uploaded
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # bytes of an .xlsx once unzipped
MAX_RATIO = 100  # uncompressed / compressed, per member of the zip
MAX_CELLS = 200_000  # cells in all the sheets of a workbook
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class FormError(ValueError):
    """A questionnaire refused at import; the message names the sheet, row and column."""


def check_workbook(path: Path) -> None:
    """Refuse a file over the limits (size, unzipped size, compression ratio, cells, XML
    entities); raise FormError with a one-line message."""
    size = path.stat().st_size
    if size > MAX_FILE:
        raise FormError(f"{path.name}: the file is larger than {MAX_FILE // (1024 * 1024)} MB")
    if path.suffix.lower() != ".xlsx":
        if path.suffix.lower() == ".xls" and size > MAX_FILE // 2:
            raise FormError(f"{path.name}: an .xls file over {MAX_FILE // (2 * 1024 * 1024)} MB"
                            " is refused; save it as .xlsx")
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FormError(f"{path.name}: not an .xlsx workbook (not a zip file)") from exc
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if total > MAX_UNCOMPRESSED:
                raise FormError(f"{path.name}: the workbook unzips to more than "
                                f"{MAX_UNCOMPRESSED // (1024 * 1024)} MB")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO \
                    and info.file_size > 1024 * 1024:
                raise FormError(f"{path.name}: {info.filename} is compressed more than "
                                f"{MAX_RATIO} times (a zip bomb?)")
        cells = 0
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(info) as handle:
                tail = b""
                head = True
                while chunk := handle.read(1 << 16):
                    window = tail + chunk
                    if head and _DOCTYPE.search(window):
                        raise FormError(f"{path.name}: {info.filename} declares XML entities;"
                                        " refused (an XML entity bomb?)")
                    head = False
                    # Count up to the last `<`: a tag cut by the chunk's end is counted
                    # with the next chunk.
                    cut = window.rfind(b"<")
                    cut = len(window) if cut < 0 else cut
                    if info.filename.startswith("xl/worksheets/"):
                        cells += len(_CELL.findall(window, 0, cut))
                        if cells > MAX_CELLS:
                            raise FormError(f"{path.name}: more than {MAX_CELLS:,} cells")
                    tail = window[cut:][:64]
