"""Writing an announcement in the chat: the text (or a photo or document), the audience,
language versions, the "Received" button, when; the preview; the confirmation, which writes
the outbox in one transaction (the command line's `publish_new` too)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import LANGUAGES, base_language
from bot.core.announcements.audience import SHORT, Audience
from bot.core.announcements.base import MAX_CAPTION, MAX_TEXT, _excerpt
from bot.core.announcements.outbox import Outbox
from bot.core.announcements.picker_refs import PickerRefs
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Outcome, Reply, h
from bot.i18n import (
    LANGUAGE_NAMES,
    _,
    format_datetime,
    format_moment,
    ngettext,
)
from storage.models import (
    Announcement,
    AnnouncementStep,
    Member,
)


class Composing(Outbox):
    async def begin(self, member: Member, now: datetime) -> Outcome:
        if not self.may_announce(member):
            return Outcome.of(Reply(_("Announcements are sent by coordinators and "
                                      "administrators.")))
        async with self.store.transaction():
            old = await self.store.announcements.draft_of(member.id)
            if old is not None:
                await self.store.announcements.update(old.id, now, status="cancelled")
            draft_id = await self.store.announcements.create(author_id=member.id, now=now,
                                                             step=AnnouncementStep.TEXT)
        return Outcome.of(Reply(
            "📢 " + _("New announcement.") + "\n"
            + _("Write your message in one text. You can also send a photo or a document with "
                "a caption."), buttons=((Button("✖ " + _("Cancel"), self._cb("no", draft_id)),),)))

    async def _draft(self, member: Member) -> Announcement | None:
        if not self.may_announce(member):
            return None
        return await self.store.announcements.draft_of(member.id)

    async def on_text(self, member: Member, text: str, now: datetime) -> Outcome | None:
        """Take the text of the announcement being written; None if none is expected."""
        draft = await self._draft(member)
        if draft is None:
            return None
        body = text.strip()
        if draft.step in (AnnouncementStep.TEXT, AnnouncementStep.RETEXT):
            limit = MAX_CAPTION if draft.media_kind else MAX_TEXT
            if not body or len(body) > limit:
                return Outcome.of(Reply(_("Please keep it under {count} characters (yours has "
                                          "{length}).").format(count=limit, length=len(body))))
            async with self.store.transaction():
                await self.store.announcements.update(
                    draft.id, now, text=body,
                    step=(AnnouncementStep.AUDIENCE if draft.step == AnnouncementStep.TEXT
                          else AnnouncementStep.HUB))
            return await self._after_text(member, draft.id)
        if draft.step == AnnouncementStep.VERSION and draft.version_language:
            language = draft.version_language
            limit = MAX_CAPTION if draft.media_kind else MAX_TEXT
            if not body or len(body) > limit:
                return Outcome.of(Reply(_("Please keep it under {count} characters (yours has "
                                          "{length}).").format(count=limit, length=len(body))))
            async with self.store.transaction():
                await self.store.announcements.set_version(draft.id, language, body)
                await self.store.announcements.update(draft.id, now, step=AnnouncementStep.HUB)
            return Outcome.of(await self.hub(member, draft.id))
        if draft.step == AnnouncementStep.WHEN:
            moment = parse_moment(body, member.timezone, now)
            if moment is None:
                return Outcome.of(Reply(_("I could not read this date. Write it like "
                                          "{example}, or /cancel.").format(
                    example=format_datetime(now + timedelta(days=1), member.timezone,
                                            "dd/MM HH:mm")), buttons=(
                    (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),)))
            async with self.store.transaction():
                await self.store.announcements.update(draft.id, now, send_at=moment,
                                                      step=AnnouncementStep.HUB)
            return Outcome.of(await self.hub(member, draft.id))
        return None

    async def on_media(self, member: Member, kind: str, file_id: str | None,
                       caption: str | None, now: datetime) -> Outcome | None:
        """Take a photo or document for the announcement being written; None if not asked."""
        draft = await self._draft(member)
        if draft is None or draft.step not in (AnnouncementStep.TEXT, AnnouncementStep.RETEXT):
            return None
        if kind not in ("photo", "document") or not file_id:
            return Outcome.of(Reply(_("Only a photo or a document can go with an "
                                      "announcement.")))
        body = (caption or "").strip()
        if len(body) > MAX_CAPTION:
            return Outcome.of(Reply(_("Please keep it under {count} characters (yours has "
                                      "{length}).").format(count=MAX_CAPTION, length=len(body))))
        async with self.store.transaction():
            await self.store.announcements.update(
                draft.id, now, text=body, media_kind=kind, media_file_id=file_id,
                step=(AnnouncementStep.AUDIENCE if draft.step == AnnouncementStep.TEXT
                          else AnnouncementStep.HUB))
        return await self._after_text(member, draft.id)

    async def _after_text(self, member: Member, announcement_id: int) -> Outcome:
        draft = await self.store.announcements.get(announcement_id)
        assert draft is not None
        if draft.step == AnnouncementStep.AUDIENCE:
            return Outcome.of(await self._audience_menu(member, draft))
        return Outcome.of(await self.hub(member, draft.id))

    async def cancel(self, member: Member, now: datetime) -> Outcome | None:
        """/cancel while writing an announcement: drop the draft."""
        draft = await self._draft(member)
        if draft is None:
            return None
        async with self.store.transaction():
            await self.store.announcements.update(draft.id, now, status="cancelled")
        return Outcome.of(Reply(_("Announcement cancelled. Nothing was sent.")))

    # --- the draft's screens ---------------------------------------------------------------

    def _picker_refs(self, draft: Announcement) -> PickerRefs:
        return PickerRefs(menu=self._cb("au", draft.id),
                          kind=lambda short: self._cb("ak", draft.id, short),
                          choose=lambda argument: self._cb("av", draft.id, argument),
                          by_value=True)

    async def _audience_menu(self, member: Member, draft: Announcement) -> Reply:
        return await self.audiences.menu(
            member, _("Who should receive it?"), self._picker_refs(draft),
            footer=((Button("✖ " + _("Cancel"), self._cb("no", draft.id)),),))

    async def _set_audience(self, member: Member, draft: Announcement, argument: str,
                            now: datetime) -> Outcome:
        audience = await self.audiences.chosen(member, argument, by_value=True)
        if audience is None:
            return expired_button()
        async with self.store.transaction():
            await self.store.announcements.update(draft.id, now, audience=audience.to_json(),
                                                  step=AnnouncementStep.HUB)
        return Outcome(replies=(await self.hub(member, draft.id, replace=True),))

    def _when(self, announcement: Announcement, zone: str) -> str:
        if announcement.send_at is None:
            return _("now")
        return format_moment(announcement.send_at, zone)

    async def hub(self, member: Member, announcement_id: int, *, replace: bool = False) -> Reply:
        """The draft at a glance, with a button for each thing that can be changed."""
        draft = await self.store.announcements.get(announcement_id)
        assert draft is not None
        audience = Audience.from_json(draft.audience)
        count = len(await self.recipients(member, audience))
        versions = await self.store.announcements.versions(draft.id)
        excerpt = h(_excerpt(draft.text, 300)) or "—"
        lines = ["📢 <b>" + _("Your announcement") + "</b>", f"«{excerpt}»"]
        if draft.media_kind:
            lines.append("📎 " + (_("with a photo") if draft.media_kind == "photo"
                                 else _("with a document")))
        lines.append("👥 " + h(await self.audiences.describe(member, audience)) + " · "
                     + ngettext("{count} person", "{count} people", count).format(count=count))
        if versions:
            lines.append("🌐 " + _("Other languages: {languages}").format(
                languages=", ".join(LANGUAGE_NAMES[v] for v in sorted(versions))))
        lines.append("✓ " + (_("“Received” button: yes") if draft.ack
                             else _("“Received” button: no")))
        lines.append("⏰ " + _("Sending: {when}").format(when=self._when(draft, member.timezone)))
        buttons = (
            (Button("👥 " + _("Audience"), self._cb("au", draft.id)),
             Button("🌐 " + _("Languages"), self._cb("ln", draft.id))),
            (Button("✓ " + (_("No “Received”") if draft.ack else _("Ask “Received”")),
                    self._cb("ac", draft.id)),
             Button("⏰ " + _("When"), self._cb("wh", draft.id))),
            (Button("✏️ " + _("Text"), self._cb("tx", draft.id)),
             Button("✖ " + _("Cancel"), self._cb("no", draft.id))),
            (Button("👁 " + _("Preview"), self._cb("pv", draft.id)),),
        )
        return Reply("\n".join(lines), buttons=buttons, replace=replace)

    def _languages_menu(self, draft: Announcement, versions: Mapping[str, str]) -> Reply:
        rows = []
        for language in LANGUAGES:
            mark = "✓ " if language in versions else ""
            rows.append((Button(mark + LANGUAGE_NAMES[language],
                                self._cb("vl", draft.id, language)),))
        rows.append((Button("◀ " + _("Back"), self._cb("hb", draft.id)),))
        return Reply(_("Add a version for the members who read this language (the others get "
                       "your text as it is). ✓: a version is there; choose it to replace it."),
                     buttons=tuple(rows), replace=True)

    def _when_menu(self, member: Member, draft: Announcement, now: datetime) -> Reply:
        zone = ZoneInfo(member.timezone)
        morning = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(8),
                                   zone)
        return Reply(_("When should it be sent?"), buttons=(
            (Button("⚡ " + _("Now"), self._cb("ws", draft.id, "now")),),
            (Button(_("In one hour"), self._cb("ws", draft.id, "1h")),),
            (Button(format_moment(morning, zone, weekday=True),
                    self._cb("ws", draft.id, "tm")),),
            (Button("⌨️ " + _("Type a date"), self._cb("wt", draft.id)),),
            (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),
        ), replace=True)

    async def _preview(self, member: Member, draft: Announcement) -> Outcome:
        audience = Audience.from_json(draft.audience)
        people = await self.recipients(member, audience)
        if not people:
            return Outcome.of(Reply(_("Nobody matches this audience. Choose another one."),
                                    buttons=((Button("👥 " + _("Audience"),
                                                     self._cb("au", draft.id)),),)))
        versions = await self.store.announcements.versions(draft.id)
        by_text: dict[str, list[str]] = {}
        for r in people:
            language = r.language if r.language in versions else (
                base_language(r.language) if base_language(r.language) in versions else "")
            by_text.setdefault(language, []).append(r.language)
        cached = await self._load(draft.id, fresh=True)
        replies = [Reply("👁 " + _("Preview: this is exactly what they will receive."))]
        for language in sorted(by_text, key=lambda v: (v != "", v)):
            count = len(by_text[language])
            shown = (_("Your text") if not language else LANGUAGE_NAMES[language])
            replies.append(Reply(f"<i>{h(shown)} · " + ngettext(
                "{count} person", "{count} people", count).format(count=count) + "</i>"))
            # Header and footer are in each reader's language: show the commonest one.
            reader = language or Counter(by_text[language]).most_common(1)[0][0]
            replies.append(self._message(cached, reader))
        when = self._when(draft, member.timezone)
        question = (ngettext("Send it now to {count} person?", "Send it now to {count} people?",
                             len(people)) if draft.send_at is None else
                    ngettext("Send it on {when} to {count} person?",
                             "Send it on {when} to {count} people?", len(people)))
        replies.append(Reply(question.format(count=len(people), when=when), buttons=(
            (Button("✅ " + _("Send"), self._cb("ok", draft.id)),),
            (Button("✏️ " + _("Change"), self._cb("hb", draft.id)),
             Button("✖ " + _("Cancel"), self._cb("no", draft.id))),
        )))
        return Outcome(replies=tuple(replies))

    async def _draft_action(self, member: Member, draft: Announcement, action: str,
                            argument: str, now: datetime) -> Outcome:
        store = self.store.announcements
        if action == "au":
            menu = await self._audience_menu(member, draft)
            return Outcome.of(Reply(menu.text, menu.buttons, replace=True))
        if action == "ak" and argument in SHORT.values():
            return Outcome.of(await self.audiences.kind_menu(
                member, argument, _("Who should receive it?"), self._picker_refs(draft)))
        if action == "av":
            return await self._set_audience(member, draft, argument, now)
        if action == "hb":
            if draft.step in (AnnouncementStep.WHEN, AnnouncementStep.RETEXT,
                              AnnouncementStep.VERSION):
                async with self.store.transaction():  # no longer waiting for a typed text
                    await store.update(draft.id, now, step=AnnouncementStep.HUB)
            return Outcome.of(await self.hub(member, draft.id, replace=True))
        if action == "ln":
            return Outcome.of(self._languages_menu(draft, await store.versions(draft.id)))
        if action == "vl" and argument in LANGUAGES:
            async with self.store.transaction():
                await store.update(draft.id, now, step=AnnouncementStep.VERSION,
                                   version_language=argument)
            return Outcome.of(Reply(_("Write the version in {language} in one message.").format(
                language=LANGUAGE_NAMES[argument]), replace=True, buttons=(
                    (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),)))
        if action == "ac":
            async with self.store.transaction():
                await store.update(draft.id, now, ack=0 if draft.ack else 1)
            return Outcome.of(await self.hub(member, draft.id, replace=True))
        if action == "wh":
            return Outcome.of(self._when_menu(member, draft, now))
        if action == "ws" and argument in ("now", "1h", "tm"):
            zone = ZoneInfo(member.timezone)
            moment: datetime | None = None
            if argument == "1h":
                moment = now + timedelta(hours=1)
            elif argument == "tm":
                moment = datetime.combine(now.astimezone(zone).date() + timedelta(days=1),
                                          time(8), zone)
            async with self.store.transaction():
                await store.update(draft.id, now, send_at=moment, step=AnnouncementStep.HUB)
            return Outcome.of(await self.hub(member, draft.id, replace=True))
        if action == "wt":
            async with self.store.transaction():
                await store.update(draft.id, now, step=AnnouncementStep.WHEN)
            example = format_datetime(now + timedelta(days=1), member.timezone, "dd/MM HH:mm")
            return Outcome.of(Reply(_("Write the date and time, like {example}.").format(
                example=example), replace=True, buttons=(
                    (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),)))
        if action == "tx":
            async with self.store.transaction():
                await store.update(draft.id, now, step=AnnouncementStep.RETEXT)
            return Outcome.of(Reply(_("Write the new text in one message."), replace=True,
                                    buttons=((Button("◀ " + _("Back"),
                                                     self._cb("hb", draft.id)),),)))
        if action == "pv":
            return await self._preview(member, draft)
        if action == "ok":
            return await self.confirm(member, draft, now)
        if action == "no":
            async with self.store.transaction():
                await store.update(draft.id, now, status="cancelled")
            return Outcome.of(Reply(_("Announcement cancelled. Nothing was sent."),
                                    replace=True))
        return expired_button()

    # --- confirmation: the outbox is written in one transaction ---------------------------

    async def confirm(self, member: Member, draft: Announcement, now: datetime) -> Outcome:
        audience = Audience.from_json(draft.audience)
        if draft.send_at is not None and draft.send_at <= now:
            draft = draft.model_copy(update={"send_at": None})
        async with self.store.transaction():
            people = await self.recipients(member, audience)
            if not people:
                return Outcome.of(Reply(_("Nobody matches this audience. Choose another one.")))
            await self.publish(draft.id, people, draft.send_at, now)
        self.queued.set()
        if draft.send_at is None:
            text = "✅ " + ngettext(
                "Sending to {count} person. You will get a report when it is done; "
                "/announcements shows where it stands.",
                "Sending to {count} people. You will get a report when it is done; "
                "/announcements shows where it stands.", len(people))
        else:
            text = "⏰ " + ngettext(
                "Scheduled for {when}, to {count} person. /announcements shows it.",
                "Scheduled for {when}, to {count} people. /announcements shows it.",
                len(people))
        return Outcome.of(Reply(text.format(count=len(people),
                                            when=self._when(draft, member.timezone)),
                                replace=True))

    async def publish_new(self, *, author: Member | None, text: str,
                          versions: Mapping[str, str], audience: Audience, ack: bool,
                          send_at: datetime | None, now: datetime) -> tuple[int, int]:
        """Create and confirm an announcement at once (the command line); return its id and
        the number of recipients."""
        async with self.store.transaction():
            people = await self.recipients(author, audience)
            if not people:
                return 0, 0
            announcement_id = await self.store.announcements.create(
                author_id=None if author is None else author.id, now=now, text=text,
                audience=audience.to_json(), ack=1 if ack else 0)
            for language, version in versions.items():
                await self.store.announcements.set_version(announcement_id, language, version)
            await self.publish(announcement_id, people, send_at, now)
        self.queued.set()
        return announcement_id, len(people)


_MOMENT = re.compile(
    r"^\s*(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?)"
    r"(?:[ T,]+(\d{1,2})[:h](\d{2})?)?\s*$")


def parse_moment(text: str, zone: str, now: datetime) -> datetime | None:
    """Read a date and time typed by a person (2026-03-10 09:00, 10/03 9h30, 10/03/2026
    14:00) in their time zone; None if unreadable or not in the future."""
    match = _MOMENT.match(text)
    if match is None:
        return None
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    try:
        if match[1]:
            year, month, day = int(match[1]), int(match[2]), int(match[3])
        else:
            day, month = int(match[4]), int(match[5])
            year = int(match[6]) if match[6] else local_now.year
            if year < 100:
                year += 2000
        hour = int(match[7]) if match[7] else 8
        minute = int(match[8]) if match[8] else 0
        moment = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None
    if not match[1] and not match[6] and moment < local_now:
        moment = moment.replace(year=moment.year + 1)  # "10/01" typed in December
    return moment if moment > now else None
