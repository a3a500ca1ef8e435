"""A project's attachments in one ZIP file, with a CSV index."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from bot.exports.cells import csv_text
from bot.exports.tables import BATCH, connect_readonly

# What the bot writes (`R-2026-000042`): a ZIP folder name that cannot climb out (`../`).
REFERENCE = re.compile(r"^[A-Z]{1,3}-[0-9]{4}-[0-9]{1,12}$")
INDEX_COLUMNS = ("file", "reference", "kind", "purpose", "media_type", "size", "sha256",
                 "caption", "received_at")


class PackError(Exception):
    """The store holds something a ZIP must not carry; the message says what (one line)."""


def pack(database: Path, media_dir: Path, project_id: int, out: Path) -> tuple[int, int]:
    """Write the ZIP; return (files packed, files missing from the media folder).

    Paths come from the database (written by the bot as `ab/<sha256>.<ext>`), never from a
    sender; each is still checked to lie inside the media folder before it is read. Entry
    names are `<reference>/<file name>`: a reference that is not one the bot writes (a crafted
    import, an edited database) stops the pack before anything is written.
    """
    root = media_dir.resolve()
    conn = connect_readonly(database)
    packed = missing = 0
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(INDEX_COLUMNS)
    try:
        cursor = conn.execute(
            "SELECT r.reference, a.kind, a.purpose, a.path, a.mime_type, a.size, a.sha256,"
            " a.caption, a.created_at FROM reports r"
            " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
            " JOIN attachments a ON a.report_version_id = v.id"
            " WHERE r.project_id = ? AND a.state = 'stored' ORDER BY r.id, a.id", (project_id,))
        bad = conn.execute(
            "SELECT reference FROM reports WHERE project_id = ? ORDER BY id",
            (project_id,)).fetchall()
        for (reference,) in bad:
            if not REFERENCE.fullmatch(str(reference)):
                raise PackError(f"{reference!r} is not a report reference: nothing packed")
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            seen: set[str] = set()
            while rows := cursor.fetchmany(BATCH):
                for reference, kind, purpose, path, mime, size, sha, caption, created in rows:
                    source = (root / path).resolve()
                    if not source.is_relative_to(root) or not source.is_file():
                        missing += 1
                        continue
                    name = f"{reference}/{Path(path).name}"
                    if name not in seen:  # the same file twice in a report is packed once
                        archive.write(source, name, compress_type=_compression(mime))
                        seen.add(name)
                        packed += 1
                    writer.writerow([csv_text(v) if isinstance(v, str) else v for v in (
                        name, reference, kind, purpose, mime, size, sha, caption or "",
                        created)])
            archive.writestr("index.csv", "\ufeff" + index.getvalue())
    finally:
        conn.close()
    return packed, missing


def _compression(mime: str | None) -> int:
    """Photos, videos and voice notes are compressed already: store them as they are."""
    if mime and mime.split("/")[0] in ("image", "video", "audio"):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED
