"""What people send besides text, and how received files are kept: by content hash."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.replies import Outcome, Reply, h
from bot.i18n import _


class FileTooLarge(Exception):
    """A received file over the size the bot keeps: refused, never retried."""


MediaKind = Literal["photo", "document", "video", "voice", "audio", "location", "text"]
_DEFAULT_EXTENSION = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "audio": ".mp3"}


@dataclass(frozen=True)
class Media:
    """One thing a person sent, independent of the channel it came through."""

    kind: MediaKind
    file_id: str | None = None
    file_unique_id: str | None = None
    mime_type: str | None = None
    size: int | None = None
    caption: str | None = None
    body: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    media_group_id: str | None = None
    chat_id: int | None = None
    message_id: int | None = None

    @property
    def has_file(self) -> bool:
        return self.file_id is not None

    @property
    def has_valid_location(self) -> bool:
        """Whether a location (if any) is a place on Earth; a forged one is never stored."""
        return valid_coordinates(self.latitude, self.longitude)


def valid_coordinates(latitude: float | None, longitude: float | None) -> bool:
    """Both absent, or a finite latitude in [-90, 90] and longitude in [-180, 180]."""
    if latitude is None and longitude is None:
        return True
    if latitude is None or longitude is None:
        return False
    # NaN fails both comparisons; infinities fail the bounds.
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def extension(kind: str, mime_type: str | None) -> str:
    """A file extension from the type Telegram reported (never from the sender's file name)."""
    guessed = mimetypes.guess_extension(mime_type or "", strict=False) if mime_type else None
    if guessed == ".jpe":
        guessed = ".jpg"
    return guessed or _DEFAULT_EXTENSION.get(kind, ".bin")


def remove_file(media_dir: Path, relative: str) -> bool:
    """Delete a stored file if it lies inside the media folder; whether it was there."""
    root = media_dir.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return False
    target.unlink()
    return True


def store_file(media_dir: Path, data: bytes, kind: str, mime_type: str | None) -> tuple[str, str]:
    """Write `data` under its sha256 (once) and return (sha256, path relative to media_dir)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{digest[:2]}/{digest}{extension(kind, mime_type)}"
    target = media_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a crash never leaves a half file under a good name.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    return digest, relative


def location_refused() -> Outcome:
    """A location outside the Earth's coordinates (a forged client): kept nowhere."""
    return Outcome.of(Reply("📍 " + _("This location is not a place on Earth, so it was not "
                                     "kept. Please share your location again.")))


def storage_notice(failing: bool, folder: str) -> Reply:
    """What the administrators are told when received files cannot be stored, or can again."""
    if failing:
        return Reply("⚠️ " + _("Received files cannot be stored in {folder} (read-only or "
                              "full). Nothing is lost: they are kept at Telegram and retried "
                              "until the folder can be written.").format(folder=h(folder)))
    return Reply("✅ " + _("Received files can be stored in {folder} again; those waiting are "
                          "being fetched.").format(folder=h(folder)))
