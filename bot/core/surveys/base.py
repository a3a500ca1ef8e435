"""What every part of the survey service shares: the store, the imported definitions (read
once per version), a campaign with its form, and small helpers (sides, references)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.announcements import AnnouncementService
from bot.core.ports import Documents
from bot.core.surveys.forms import Definition, pick, read_form
from bot.i18n import _
from storage import Store
from storage.models import Campaign, Member, Side, SurveyForm, SurveyResponse


class LaunchError(ValueError):
    """A campaign that cannot be launched (from the command line)."""


@dataclass(frozen=True)
class Loaded:
    campaign: Campaign
    form: SurveyForm
    definition: Definition


def side_of(recipient_role: str, organisation_kind: str | None) -> Side:
    """The member's side of the partnership: their organisation's kind, else their role."""
    if organisation_kind in ("collectivity", "partner"):
        return organisation_kind  # type: ignore[return-value]
    return "partner" if recipient_role == "partner" else "collectivity"


def side_name(side: str) -> str:
    return _("Partners") if side == "partner" else _("Collectivity")



class SurveyBase:
    """The store and the definitions; the conversation, campaigns and results build on it."""

    def __init__(self, store: Store, announcements: AnnouncementService, timezone: str,
                 documents: Documents | None = None) -> None:
        self.store = store
        self.announcements = announcements
        self.timezone = timezone
        self._documents = documents
        self._definitions: dict[int, Definition] = {}

    @property
    def documents(self) -> Documents:
        """The charts and spreadsheets of /results (given by the running bot)."""
        if self._documents is None:
            raise RuntimeError("this survey service was opened without documents")
        return self._documents

    # --- definitions -----------------------------------------------------------------------

    async def import_form(self, path: Path, now: datetime,
                          files: Mapping[str, Path] | None = None) -> tuple[SurveyForm, bool]:
        """Import a file; return its version and whether it is new (same content: same
        version). `files`: the form's data and media files given by name (a CSV for
        select_one_from_file, an image for media::image…); those missing are also looked
        for beside the form. Media files found for a version already imported are added to
        it (a team attaches them later). Raises FormError naming what is refused."""
        definition = read_form(path, files)
        digest = definition.content_hash()
        async with self.store.transaction():
            found = await self.store.surveys.form_by_hash(definition.form_id, digest)
            if found is not None:
                for name, (mime_type, content) in media_files(definition, path, files).items():
                    if await self.store.surveys.media(found.id, name) is None:
                        await self.store.surveys.add_media(found.id, name, mime_type, content)
                return found, False
            form_pk = await self.store.surveys.add_form(
                form_id=definition.form_id, content_hash=digest,
                title=pick(definition.title, definition.default_language,
                           definition.default_language) or definition.form_id,
                definition=json.dumps(definition.model_dump(mode="json"), ensure_ascii=False,
                                      sort_keys=True), source=path.name, now=now)
            for name, (mime_type, content) in media_files(definition, path, files).items():
                await self.store.surveys.add_media(form_pk, name, mime_type, content)
        form = await self.store.surveys.form(form_pk)
        assert form is not None
        return form, True

    def definition(self, form: SurveyForm) -> Definition:
        cached = self._definitions.get(form.id)
        if cached is None:
            # Versions never change once imported: each is read once.
            cached = Definition.model_validate_json(form.definition)
            self._definitions[form.id] = cached
        return cached

    async def load(self, campaign_id: int) -> Loaded | None:
        campaign = await self.store.surveys.campaign(campaign_id)
        if campaign is None:
            return None
        form = await self.store.surveys.form(campaign.form_pk)
        assert form is not None
        return Loaded(campaign, form, self.definition(form))

    @staticmethod
    def _today(member: Member, now: datetime) -> date:
        return now.astimezone(ZoneInfo(member.timezone)).date()

    @staticmethod
    def title(loaded: Loaded, language: str) -> str:
        d = loaded.definition
        return pick(d.title, language, d.default_language) or d.form_id


def fit(lines: list[str], limit: int = 3900) -> str:
    """Whole lines up to `limit` characters, never half a tag of the notation: a screen whose
    buttons act on what it shows is kept to what a person reads at once (the channel's
    renderer pages a longer text all the same)."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def reference(response: SurveyResponse) -> str:
    """What the member can quote: Q-<campaign>-<response>."""
    return f"Q-{response.campaign_id}-{response.id:06d}"


MAX_MEDIA = 10 * 1024 * 1024  # bytes of one media label: a questionnaire stays light on 2G
MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".gif": "image/gif", ".webp": "image/webp", ".mp3": "audio/mpeg",
               ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
               ".m4a": "audio/mp4", ".wav": "audio/wav", ".amr": "audio/amr",
               ".mp4": "video/mp4", ".3gp": "video/3gpp", ".webm": "video/webm"}


def media_names(definition: Definition) -> set[str]:
    return {name for q in definition.questions for texts in q.media.values()
            for name in texts.values() if name}


def media_files(definition: Definition, form: Path, files: Mapping[str, Path] | None = None
                ) -> dict[str, tuple[str, bytes]]:
    """The media labels given by name in `files`, else found where Kobo and ODK tools put
    them: beside the form, in `media/` or `<form>-media/` (a name from the form is a file
    name, never a path)."""
    found: dict[str, tuple[str, bytes]] = {}
    for name in sorted(media_names(definition)):
        if Path(name).name != name or Path(name).suffix.lower() not in MEDIA_TYPES:
            continue
        given = (files or {}).get(name)
        for candidate in ([given] if given else []) + [
                folder / name for folder in (form.parent, form.parent / "media",
                                             form.parent / f"{form.stem}-media")]:
            if candidate.is_file() and candidate.stat().st_size <= MAX_MEDIA:
                found[name] = (MEDIA_TYPES[candidate.suffix.lower()], candidate.read_bytes())
                break
    return found
