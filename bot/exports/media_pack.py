"""A project's attachments in one ZIP file, with a CSV index."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from bot.exports.tables import BATCH, connect_readonly

INDEX_COLUMNS = ("file", "reference", "kind", "purpose", "media_type", "size", "sha256",
                 "caption", "received_at")


def pack(database: Path, media_dir: Path, project_id: int, out: Path) -> tuple[int, int]:
    """Write the ZIP; return (files packed, files missing from the media folder).

    Paths come from the database (written by the bot as `ab/<sha256>.<ext>`), never from a
    sender; each is still checked to lie inside the media folder before it is read.
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
                    writer.writerow((name, reference, kind, purpose, mime, size, sha,
                                     caption or "", created))
            archive.writestr("index.csv", "\ufeff" + index.getvalue())
    finally:
        conn.close()
    return packed, missing


def _compression(mime: str | None) -> int:
    """Photos, videos and voice notes are compressed already: store them as they are."""
    if mime and mime.split("/")[0] in ("image", "video", "audio"):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED
