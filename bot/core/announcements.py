"""Announcements: compose in the chat (or the CLI), target an audience, deliver through the
outbox, and open a dialogue (replies routed back, acknowledgements, reminders).

The outbox state machine lives here and in `storage/announcements.py`; the transport's
sender (`bot/transport/outbox.py`) only decides *when* a row may go and reports what Telegram
answered.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale

from bot.config import LANGUAGES, base_language
from bot.core.onboarding import expired_button
from bot.core.people import role_name
from bot.core.reminder_policy import DEFAULT_POLICY, allowed
from bot.core.replies import Button, Notice, Outcome, Reply, h
from bot.i18n import (
    LANGUAGE_NAMES,
    _,
    current_language,
    format_datetime,
    format_moment,
    ngettext,
    use_language,
)
from storage import Store
from storage.models import (
    ROLES,
    Announcement,
    DeliveryCounts,
    Member,
    OutboxRow,
    Recipient,
)

CB = "an"  # callback prefix: an:<action>:<announcement id>[:<argument>]
MAX_TEXT = 3500  # leaves room for the header within Telegram's 4,096
MAX_CAPTION = 900  # a photo's or document's caption is limited to 1,024 by Telegram
CRITERIA = ("project", "country", "organisation", "role", "language")
_SHORT = {"project": "p", "country": "c", "organisation": "o", "role": "r", "language": "l"}
_LONG = {v: k for k, v in _SHORT.items()}
MAX_ATTEMPTS = 8  # transient failures (5xx, timeouts) before a row is reported as failed
RECENT = 5
AUTHORS: frozenset[str] = frozenset({"coordinator", "admin"})
# A plain text (not a Telegram reply) typed this soon after an announcement may answer it:
# the member is asked before it is passed on.
REPLY_WINDOW = timedelta(hours=48)


class AudienceError(ValueError):
    """An audience given on the command line that cannot be understood."""


@dataclass(frozen=True)
class Audience:
    """Who receives an announcement, within the author's scope: every criterion given must
    match (AND); several values of one criterion are alternatives (OR). No criterion:
    everyone in scope."""

    criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Audience:
        """Read `project=eau-ziguinchor`, `role=partner,observer`, `everyone`…"""
        found: dict[str, list[str]] = {}
        for spec in specs:
            if spec.strip().lower() in ("everyone", "all"):
                continue
            kind, sep, values = spec.partition("=")
            kind = kind.strip().lower()
            if not sep or kind not in CRITERIA:
                raise AudienceError(
                    f"unknown audience {spec!r}: use everyone, or one of "
                    f"{', '.join(c + '=…' for c in CRITERIA)}")
            for value in values.split(","):
                value = value.strip()
                if not value:
                    raise AudienceError(f"empty value in audience {spec!r}")
                value = value.upper() if kind == "country" else value.lower()
                if kind == "role" and value not in ROLES:
                    raise AudienceError(f"unknown role {value!r} ({', '.join(ROLES)})")
                if kind == "language" and value not in LANGUAGES:
                    raise AudienceError(f"unknown language {value!r} ({', '.join(LANGUAGES)})")
                found.setdefault(kind, [])
                if value not in found[kind]:
                    found[kind].append(value)
        return cls({k: tuple(v) for k, v in found.items()})

    @classmethod
    def from_json(cls, raw: str) -> Audience:
        data = json.loads(raw or "{}")
        return cls({k: tuple(v) for k, v in data.items() if k in CRITERIA})

    def to_json(self) -> str:
        return json.dumps({k: list(v) for k, v in self.criteria.items()}, sort_keys=True)

    def matches(self, r: Recipient) -> bool:
        for kind, values in self.criteria.items():
            if kind == "project" and not set(values) & set(r.projects):
                return False
            if kind == "country" and r.country not in values:
                return False
            if kind == "organisation" and r.organisation not in values:
                return False
            if kind == "role" and r.role not in values:
                return False
            if kind == "language" and base_language(r.language) not in values:
                return False
        return True

    def select(self, candidates: Sequence[Recipient]) -> list[Recipient]:
        return [r for r in candidates if self.matches(r)]


def choose_text(default: str, versions: Mapping[str, str], language: str) -> str:
    """The version in the member's language (pt_BR reads pt), else the default one."""
    return versions.get(language) or versions.get(base_language(language)) or default


def country_name(code: str) -> str:
    """The country's name in the current language (e.g. SN → Sénégal)."""
    name = Locale.parse(current_language()).territories.get(code.upper())
    return str(name) if name else code


@dataclass(frozen=True)
class Sending:
    """What the sender sends for one outbox row."""

    row: OutboxRow
    reply: Reply


@dataclass
class _Cached:
    announcement: Announcement
    versions: dict[str, str]
    author_name: str
    organisation: str


class AnnouncementService:
    def __init__(self, store: Store, timezone: str) -> None:
        self.store = store
        self.timezone = timezone
        # Set when rows are queued, so that the sender starts at once instead of at its next
        # look at the database.
        self.queued = asyncio.Event()
        self._cache: dict[int, _Cached] = {}

    # --- scope and audience ----------------------------------------------------------------

    async def _candidates(self, author: Member | None) -> list[Recipient]:
        """Everyone the author may write to: their projects' members, or all for an admin."""
        if author is None or author.role == "admin":
            return await self.store.announcements.candidates(
                None, exclude_member=None if author is None else author.id)
        projects = await self.store.members.projects(author.id)
        return await self.store.announcements.candidates([p.id for p in projects],
                                                         exclude_member=author.id)

    async def recipients(self, author: Member | None, audience: Audience) -> list[Recipient]:
        candidates = await self._candidates(author)
        if author is not None and author.role != "admin":
            # A coordinator's criteria cannot reach outside their own projects.
            own = {p.slug for p in await self.store.members.projects(author.id)}
            candidates = [replace_projects(r, own) for r in candidates]
        return audience.select(candidates)

    # --- composing in the chat ---------------------------------------------------------------

    @staticmethod
    def may_announce(member: Member) -> bool:
        return member.role in AUTHORS and member.is_active

    async def begin(self, member: Member, now: datetime) -> Outcome:
        if not self.may_announce(member):
            return Outcome.of(Reply(_("Announcements are sent by coordinators and "
                                      "administrators.")))
        async with self.store.transaction():
            old = await self.store.announcements.draft_of(member.id)
            if old is not None:
                await self.store.announcements.update(old.id, now, status="cancelled")
            draft_id = await self.store.announcements.create(author_id=member.id, now=now,
                                                             step="text")
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
        if draft.step in ("text", "retext"):
            limit = MAX_CAPTION if draft.media_kind else MAX_TEXT
            if not body or len(body) > limit:
                return Outcome.of(Reply(_("Please keep it under {count} characters (yours has "
                                          "{length}).").format(count=limit, length=len(body))))
            async with self.store.transaction():
                await self.store.announcements.update(
                    draft.id, now, text=body, step="audience" if draft.step == "text" else "hub")
            return await self._after_text(member, draft.id)
        if draft.step.startswith("version:"):
            language = draft.step.removeprefix("version:")
            limit = MAX_CAPTION if draft.media_kind else MAX_TEXT
            if not body or len(body) > limit:
                return Outcome.of(Reply(_("Please keep it under {count} characters (yours has "
                                          "{length}).").format(count=limit, length=len(body))))
            async with self.store.transaction():
                await self.store.announcements.set_version(draft.id, language, body)
                await self.store.announcements.update(draft.id, now, step="hub")
            return Outcome.of(await self.hub(member, draft.id))
        if draft.step == "when":
            moment = parse_moment(body, member.timezone, now)
            if moment is None:
                return Outcome.of(Reply(_("I could not read this date. Write it like "
                                          "{example}, or /cancel.").format(
                    example=format_datetime(now + timedelta(days=1), member.timezone,
                                            "dd/MM HH:mm")), buttons=(
                    (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),)))
            async with self.store.transaction():
                await self.store.announcements.update(draft.id, now, send_at=moment, step="hub")
            return Outcome.of(await self.hub(member, draft.id))
        return None

    async def on_media(self, member: Member, kind: str, file_id: str | None,
                       caption: str | None, now: datetime) -> Outcome | None:
        """Take a photo or document for the announcement being written; None if not asked."""
        draft = await self._draft(member)
        if draft is None or draft.step not in ("text", "retext"):
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
                step="audience" if draft.step == "text" else "hub")
        return await self._after_text(member, draft.id)

    async def _after_text(self, member: Member, announcement_id: int) -> Outcome:
        draft = await self.store.announcements.get(announcement_id)
        assert draft is not None
        if draft.step == "audience":
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

    @staticmethod
    def _cb(action: str, announcement_id: int, argument: str = "") -> str:
        data = f"{CB}:{action}:{announcement_id}"
        return f"{data}:{argument}" if argument else data

    async def _audience_menu(self, member: Member, draft: Announcement) -> Reply:
        everyone = len(await self.recipients(member, Audience()))
        label = (_("Everyone in your projects") if member.role != "admin" else _("Everyone"))
        rows: list[tuple[Button, ...]] = [
            (Button(f"👥 {label} ({everyone})", self._cb("av", draft.id, "all")),),
            (Button(_("By project"), self._cb("ak", draft.id, "p")),
             Button(_("By country"), self._cb("ak", draft.id, "c"))),
            (Button(_("By organisation"), self._cb("ak", draft.id, "o")),
             Button(_("By role"), self._cb("ak", draft.id, "r"))),
            (Button(_("By language"), self._cb("ak", draft.id, "l")),),
            (Button("✖ " + _("Cancel"), self._cb("no", draft.id)),),
        ]
        return Reply(_("Who should receive it?"), buttons=tuple(rows))

    async def options(self, member: Member, kind: str) -> list[tuple[str, str, int]]:
        """(value, label, number of people) for each value of a criterion in the scope."""
        people = await self.recipients(member, Audience())
        counts: Counter[str] = Counter()
        for r in people:
            if kind == "project":
                counts.update(r.projects)
            else:
                value = {"country": r.country, "organisation": r.organisation, "role": r.role,
                         "language": base_language(r.language)}[kind]
                if value:
                    counts[value] += 1
        labels: dict[str, str] = {}
        if kind == "project":
            labels = {p.slug: p.title(member.language) for p in await self.store.network.projects()}
        elif kind == "organisation":
            labels = {o.slug: o.name for o in await self.store.network.organisations()}
        elif kind == "country":
            labels = {code: country_name(code) for code in counts}
        elif kind == "role":
            labels = {role: role_name(role) for role in ROLES}
        else:
            labels = dict(LANGUAGE_NAMES)
        return sorted(((v, labels.get(v, v), n) for v, n in counts.items()),
                      key=lambda item: item[1].lower())

    async def _kind_menu(self, member: Member, draft: Announcement, short: str) -> Reply:
        kind = _LONG[short]
        rows: list[tuple[Button, ...]] = []
        for index, (value, label, count) in enumerate(await self.options(member, kind)):
            data = self._cb("av", draft.id, f"{short}.{value}")
            if len(data.encode()) > 64:  # a long id: point at it by position instead
                data = self._cb("av", draft.id, f"{short}#{index}")
            rows.append((Button(f"{label} ({count})", data),))
        rows.append((Button("◀ " + _("Back"), self._cb("au", draft.id)),))
        return Reply(_("Who should receive it?"), buttons=tuple(rows), replace=True)

    async def _set_audience(self, member: Member, draft: Announcement, argument: str,
                            now: datetime) -> Outcome:
        if argument == "all":
            audience = Audience()
        else:
            _short, kind = argument[:1], _LONG.get(argument[:1])
            if kind is None:
                return expired_button()
            options = await self.options(member, kind)
            value: str | None = None
            if argument[1:2] == ".":
                value = argument[2:]
                if value not in {v for v, _label, _n in options}:
                    return expired_button()
            elif (argument[1:2] == "#" and argument[2:].isdigit()
                  and int(argument[2:]) < len(options)):
                value = options[int(argument[2:])][0]
            if value is None:
                return expired_button()
            audience = Audience({kind: (value,)})
        async with self.store.transaction():
            await self.store.announcements.update(draft.id, now, audience=audience.to_json(),
                                                  step="hub")
        return Outcome(replies=(await self.hub(member, draft.id, replace=True),))

    async def describe_audience(self, member: Member | None, audience: Audience) -> str:
        if not audience.criteria:
            return (_("everyone in your projects") if member is not None
                    and member.role != "admin" else _("everyone"))
        parts = []
        for kind, values in audience.criteria.items():
            if kind == "project":
                projects = {p.slug: p.title(current_language())
                            for p in await self.store.network.projects()}
                shown = [projects.get(v, v) for v in values]
            elif kind == "organisation":
                orgs = {o.slug: o.name for o in await self.store.network.organisations()}
                shown = [orgs.get(v, v) for v in values]
            elif kind == "country":
                shown = [country_name(v) for v in values]
            elif kind == "role":
                shown = [role_name(v) for v in values]  # type: ignore[arg-type]
            else:
                shown = [LANGUAGE_NAMES.get(v, v) for v in values]
            parts.append(" / ".join(shown))
        return " + ".join(parts)

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
        lines.append("👥 " + h(await self.describe_audience(member, audience)) + " · "
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

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        parts = data.split(":", 3)
        if len(parts) < 3 or not parts[2].isdigit():
            return expired_button()
        action, announcement_id = parts[1], int(parts[2])
        argument = parts[3] if len(parts) == 4 else ""
        if action == "ack":
            return await self.acknowledge(member, announcement_id, now)
        if action in ("who", "rm", "ra"):
            return await self._follow_up(member, action, announcement_id, now)
        if action == "ls":
            return await self.recent(member, replace=True)
        draft = await self._draft(member)
        if draft is None or draft.id != announcement_id:
            return expired_button()
        return await self._draft_action(member, draft, action, argument, now)

    async def _draft_action(self, member: Member, draft: Announcement, action: str,
                            argument: str, now: datetime) -> Outcome:
        store = self.store.announcements
        if action == "au":
            menu = await self._audience_menu(member, draft)
            return Outcome.of(Reply(menu.text, menu.buttons, replace=True))
        if action == "ak" and argument in _LONG:
            return Outcome.of(await self._kind_menu(member, draft, argument))
        if action == "av":
            return await self._set_audience(member, draft, argument, now)
        if action == "hb":
            if draft.step in ("when", "retext") or draft.step.startswith("version:"):
                async with self.store.transaction():  # no longer waiting for a typed text
                    await store.update(draft.id, now, step="hub")
            return Outcome.of(await self.hub(member, draft.id, replace=True))
        if action == "ln":
            return Outcome.of(self._languages_menu(draft, await store.versions(draft.id)))
        if action == "vl" and argument in LANGUAGES:
            async with self.store.transaction():
                await store.update(draft.id, now, step=f"version:{argument}")
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
                await store.update(draft.id, now, send_at=moment, step="hub")
            return Outcome.of(await self.hub(member, draft.id, replace=True))
        if action == "wt":
            async with self.store.transaction():
                await store.update(draft.id, now, step="when")
            example = format_datetime(now + timedelta(days=1), member.timezone, "dd/MM HH:mm")
            return Outcome.of(Reply(_("Write the date and time, like {example}.").format(
                example=example), replace=True, buttons=(
                    (Button("◀ " + _("Back"), self._cb("hb", draft.id)),),)))
        if action == "tx":
            async with self.store.transaction():
                await store.update(draft.id, now, step="retext")
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

    async def publish(self, announcement_id: int, people: Sequence[Recipient],
                      send_at: datetime | None, now: datetime) -> None:
        """Queue one row per person (a survey's invitations too). Must run inside a
        transaction: the rows and the status change commit together."""
        await self.store.announcements.enqueue(
            announcement_id, 0, [(r.member_id, r.telegram_user_id, r.language) for r in people],
            now, quiet_hours(people, send_at or now))
        await self.store.announcements.update(
            announcement_id, now, status="sending" if send_at is None else "scheduled",
            send_at=send_at, confirmed_at=now, step="done")

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

    # --- what recipients see ---------------------------------------------------------------

    async def _load(self, announcement_id: int, *, fresh: bool = False) -> _Cached | None:
        cached = None if fresh else self._cache.get(announcement_id)
        if cached is not None:
            return cached
        announcement = await self.store.announcements.get(announcement_id)
        if announcement is None:
            return None
        versions = await self.store.announcements.versions(announcement_id)
        author_name = organisation = ""
        if announcement.author_id is not None:
            author = await self.store.members.by_id(announcement.author_id)
            if author is not None:
                author_name = author.display_name or ""
                if author.organisation_id is not None:
                    org = await self.store.network.organisation_by_id(author.organisation_id)
                    organisation = org.name if org else ""
        cached = _Cached(announcement, versions, author_name, organisation)
        if announcement.status not in ("draft", "cancelled"):
            # Confirmed announcements do not change: the sender reads each one once.
            if len(self._cache) > 100:
                self._cache.clear()
            self._cache[announcement_id] = cached
        return cached

    def _message(self, cached: _Cached | None, language: str, *, reminder: bool = False,
                 reply_to: int | None = None) -> Reply:
        """The message as its recipient sees it (the preview is this very message)."""
        assert cached is not None
        announcement = cached.announcement
        with use_language(language):
            head = "⏰ " + _("Reminder") if reminder else "📢 " + _("Announcement")
            if announcement.campaign_id is not None:
                head = "📋 " + _("Questionnaire")
            who = ", ".join(p for p in (cached.author_name, cached.organisation) if p)
            lines = [f"<b>{h(head)}</b>" + (f" · {h(who)}" if who else "")]
            body = choose_text(announcement.text, cached.versions, language)
            if body:
                lines += ["", h(body)]
            buttons: tuple[tuple[Button, ...], ...] = ()
            if announcement.campaign_id is not None:
                # An invitation: its answer is the questionnaire, started with this button.
                buttons = ((Button("▶ " + _("Start"), f"sv:go:{announcement.campaign_id}"),),)
            else:
                lines += ["", "<i>" + _("Reply to this message to answer.") + "</i>"]
            if announcement.ack:
                buttons = ((Button("✓ " + _("Received"),
                                   self._cb("ack", announcement.id)),),)
        media = None
        if announcement.media_kind and announcement.media_file_id:
            media = (announcement.media_kind, announcement.media_file_id)
        return Reply("\n".join(lines), buttons=buttons, media=media, reply_to=reply_to)

    async def sending(self, row: OutboxRow) -> Sending | None:
        """The message for an outbox row (None: its announcement is gone)."""
        cached = await self._load(row.announcement_id)
        if cached is None:
            return None
        reply_to = None
        if row.round > 0:
            first = await self.store.announcements.recipient_row(row.announcement_id,
                                                                 row.member_id)
            reply_to = None if first is None else first.message_id
        return Sending(row, self._message(cached, row.language, reminder=row.round > 0,
                                          reply_to=reply_to))

    # --- the outbox state machine (driven by the transport's sender) ------------------------

    async def reconcile(self) -> int:
        """At start-up: rows left `sending` were in flight when the previous process died.
        Telegram cannot tell whether it delivered them, so they become `uncertain` and are
        not re-sent on their own: the author sees them and may send them again (a press on
        "Received" or a reply proves delivery and settles them)."""
        async with self.store.transaction():
            return await self.store.announcements.in_flight_to_uncertain()

    async def due(self, limit: int, now: datetime, after_id: int = 0) -> list[OutboxRow]:
        if after_id == 0:
            async with self.store.transaction():
                await self.store.announcements.promote_scheduled(now)
        return await self.store.announcements.due(limit, after_id, now)

    async def claim(self, row: OutboxRow, token: str) -> bool:
        async with self.store.transaction():
            return await self.store.announcements.claim(row.id, token)

    async def claim_many(self, rows: Sequence[OutboxRow], token: str) -> set[int]:
        """Claim many rows in one transaction; return the ids claimed."""
        async with self.store.transaction():
            return await self.store.announcements.claim_many([r.id for r in rows], token)

    async def delivered_many(self, sent: Sequence[tuple[int, str, int]], now: datetime) -> None:
        """Record many deliveries (row id, token, message id) in one transaction."""
        async with self.store.transaction():
            await self.store.announcements.settle_sent_many(sent, now)

    async def delivered(self, row: OutboxRow, token: str, message_id: int,
                        now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "sent", now,
                                                  message_id=message_id)

    async def retry_later(self, row: OutboxRow, token: str, error: str, now: datetime,
                          *, count_attempt: bool = True) -> bool:
        """Put the row back in the queue; False (and `failed`) after too many attempts."""
        give_up = count_attempt and row.attempts + 1 >= MAX_ATTEMPTS
        async with self.store.transaction():
            await self.store.announcements.settle(
                row.id, token, "failed" if give_up else "pending", now, error=error[:500])
            if not count_attempt:
                # A flood wait is Telegram's pacing, not a failure of this message.
                await self.store.db.execute(
                    "UPDATE outbox SET attempts = attempts - 1 WHERE id = ? AND attempts > 0",
                    (row.id,))
        return not give_up

    async def failed(self, row: OutboxRow, token: str, error: str, now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "failed", now,
                                                  error=error[:500])

    async def uncertain(self, row: OutboxRow, token: str, now: datetime,
                        error: str = "no answer from Telegram") -> None:
        """Telegram may have got the request but its answer was lost: like a crash in flight."""
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "uncertain", now,
                                                  error=error[:500])

    async def unreachable(self, row: OutboxRow, token: str, now: datetime) -> None:
        async with self.store.transaction():
            await self.store.announcements.settle(row.id, token, "unreachable", now,
                                                  error="blocked the bot")
            await self.store.announcements.member_unreachable(row.member_id, now)

    async def complete_finished(self, now: datetime) -> list[Notice]:
        """Close the announcements with nothing left to send; return the authors' reports."""
        notices: list[Notice] = []
        for announcement_id in await self.store.announcements.finished():
            async with self.store.transaction():
                closed = await self.store.announcements.complete(announcement_id, now)
            if closed:
                notices += await self._final_report(announcement_id)
        return notices

    async def _authors(self, announcement: Announcement) -> list[Member]:
        """Who hears about an announcement: its author, or the administrators for one sent
        from the command line."""
        if announcement.author_id is not None:
            author = await self.store.members.by_id(announcement.author_id)
            return [author] if author and author.telegram_user_id and author.is_active else []
        rows = await self.store.db.fetchall(
            "SELECT id FROM members WHERE role = 'admin' AND status = 'active'"
            " AND telegram_user_id IS NOT NULL ORDER BY id")
        found = [await self.store.members.by_id(int(r["id"])) for r in rows]
        return [m for m in found if m is not None]

    async def _final_report(self, announcement_id: int) -> list[Notice]:
        announcement = await self.store.announcements.get(announcement_id)
        assert announcement is not None
        counts = await self.store.announcements.counts(announcement_id, None)
        notices = []
        for author in await self._authors(announcement):
            assert author.telegram_user_id is not None
            with use_language(author.language):
                head = ("📢 " + _("Your announcement «{excerpt}» has been delivered.")
                        if announcement.campaign_id is None else "📢 " + _(
                            "The invitations to your questionnaire «{excerpt}» have been "
                            "delivered."))
                lines = [head.format(excerpt=h(_excerpt(announcement.text, 60))),
                         self._counts_line(counts)]
                buttons: tuple[tuple[Button, ...], ...] = ()
                if counts.uncertain:
                    lines.append(self._uncertain_note(counts.uncertain))
                    buttons = ((Button("↻ " + _("Send again to them"),
                                       self._cb("ra", announcement_id)),),)
                notices.append(Notice(author.telegram_user_id,
                                      Reply("\n".join(lines), buttons=buttons)))
        return notices

    @staticmethod
    def _uncertain_note(count: int) -> str:
        return "❔ " + ngettext(
            "For {count} person, delivery could not be confirmed: it may or may not have "
            "arrived.",
            "For {count} people, delivery could not be confirmed: it may or may not have "
            "arrived.", count).format(count=count)

    @staticmethod
    def _counts_line(counts: DeliveryCounts) -> str:
        parts = [
            "⏳ " + _("{count} pending").format(count=counts.pending),
            "✅ " + _("{count} sent").format(count=counts.sent),
            "⚠️ " + _("{count} failed").format(count=counts.failed),
            "🚫 " + _("{count} unreachable").format(count=counts.unreachable),
        ]
        if counts.uncertain:
            parts.append("❔ " + _("{count} unconfirmed").format(count=counts.uncertain))
        return " · ".join(parts)

    # --- after sending: the author's view, acknowledgements, reminders, replies -----------

    async def recent(self, member: Member, *, replace: bool = False) -> Outcome:
        if not self.may_announce(member):
            return Outcome.of(Reply(_("Announcements are sent by coordinators and "
                                      "administrators.")))
        found = await self.store.announcements.recent(
            None if member.role == "admin" else member.id, RECENT)
        if not found:
            return Outcome.of(Reply(_("You have not sent any announcement yet. Send /announce "
                                      "to write one."), replace=replace))
        lines = ["📢 <b>" + _("Your latest announcements") + "</b>"]
        rows: list[tuple[Button, ...]] = []
        for a in found:
            counts = await self.store.announcements.counts(a.id)
            when = format_moment(a.send_at or a.confirmed_at or a.created_at, member.timezone,
                                 year=False)
            state = {"scheduled": "⏰ ", "sending": "📤 ", "done": ""}.get(a.status, "")
            lines += ["", f"{state}<b>#{a.id}</b> · {when} · «{h(_excerpt(a.text, 50))}»",
                      self._counts_line(counts)]
            extra = []
            if a.ack:
                extra.append("✓ " + _("{acked}/{sent} received").format(acked=counts.acked,
                                                                      sent=counts.sent))
                rows.append((Button(_("#{number}: who received it").format(number=a.id),
                                    self._cb("who", a.id)),))
            replies = await self.store.announcements.reply_count(a.id)
            if replies:
                extra.append("💬 " + ngettext("{count} reply", "{count} replies",
                                              replies).format(count=replies))
            if extra:
                lines.append(" · ".join(extra))
            if counts.uncertain:
                rows.append((Button("↻ " + _("#{number}: send again to {count} unconfirmed")
                                    .format(number=a.id, count=counts.uncertain),
                                    self._cb("ra", a.id)),))
        rows.append((Button("🔄 " + _("Refresh"), self._cb("ls", 0)),))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(rows), replace=replace))

    async def _owned(self, member: Member, announcement_id: int) -> Announcement | None:
        """A confirmed announcement this member may follow: theirs, or any for an admin."""
        if not self.may_announce(member):
            return None
        a = await self.store.announcements.get(announcement_id)
        if a is None or a.status in ("draft", "cancelled"):
            return None
        if member.role == "admin" or a.author_id == member.id:
            return a
        return None

    async def _follow_up(self, member: Member, action: str, announcement_id: int,
                         now: datetime) -> Outcome:
        announcement = await self._owned(member, announcement_id)
        if announcement is None:
            return expired_button()
        store = self.store.announcements
        if action == "who":
            people = await store.acknowledgements(announcement_id)
            yes = [name or "?" for _id, name, acked in people if acked]
            no = [name or "?" for _id, name, acked in people if not acked]
            lines = [f"<b>#{announcement_id}</b> «{h(_excerpt(announcement.text, 50))}»",
                     "✓ " + _("Received ({count}):").format(count=len(yes)),
                     h(", ".join(yes)) or "—",
                     "… " + _("Not yet ({count}):").format(count=len(no)),
                     h(", ".join(no)) or "—"]
            buttons: tuple[tuple[Button, ...], ...] = ()
            if no:
                buttons = ((Button("🔔 " + ngettext("Remind {count} person",
                                                   "Remind {count} people", len(no)).format(
                    count=len(no)), self._cb("rm", announcement_id)),),)
            return Outcome.of(Reply("\n".join(lines), buttons=buttons))
        if action == "rm":
            async with self.store.transaction():
                rows = await store.unacknowledged(announcement_id)
                round_ = await store.last_round(announcement_id) + 1
                added = await store.enqueue(announcement_id, round_,
                                            [(r.member_id, r.chat_id, r.language) for r in rows],
                                            now)
                if added:
                    await store.reopen(announcement_id, now)
            self.queued.set()
            return Outcome.of(Reply("🔔 " + ngettext(
                "Reminder on its way to {count} person.",
                "Reminder on its way to {count} people.", added).format(count=added),
                replace=True))
        # "ra": the author decided that a possible double is better than a possible miss.
        async with self.store.transaction():
            again = await store.retry_uncertain(announcement_id)
            if again:
                await store.reopen(announcement_id, now)
        self.queued.set()
        return Outcome.of(Reply("↻ " + ngettext(
            "Sending again to {count} person.", "Sending again to {count} people.",
            again).format(count=again), replace=True))

    async def acknowledge(self, member: Member, announcement_id: int, now: datetime,
                          message_id: int | None = None) -> Outcome:
        row = await self.store.announcements.recipient_row(announcement_id, member.id)
        if row is None:
            announcement = await self.store.announcements.get(announcement_id)
            if announcement is not None and announcement.author_id == member.id:
                return Outcome(toast=_("This is how recipients will confirm."))
            return expired_button()
        if row.acked_at is not None:
            return Outcome(toast=_("Already noted, thank you."))
        async with self.store.transaction():
            await self.store.announcements.acknowledge(row.id, now, message_id)
        return Outcome(toast="✓ " + _("Noted, thank you!"))

    async def on_reply(self, member: Member, chat_id: int, replied_to: int, message_id: int,
                       text: str, now: datetime) -> Outcome | None:
        """A member answered an announcement with Telegram's reply: pass it to the author
        and keep it with the announcement. None if it is not a reply to an announcement."""
        row = await self.store.announcements.by_message(chat_id, replied_to)
        if row is None or row.member_id != member.id:
            return None
        return await self.pass_on(member, row, chat_id, message_id, text, now)

    async def answerable(self, member: Member, now: datetime) -> tuple[OutboxRow, str] | None:
        """The announcement a plain text typed now most likely answers (delivered to the
        member less than REPLY_WINDOW ago), with its author's name; None if there is none."""
        row = await self.store.announcements.latest_answerable(member.id, now - REPLY_WINDOW)
        if row is None:
            return None
        announcement = await self.store.announcements.get(row.announcement_id)
        assert announcement is not None
        names = ", ".join(a.display_name or "" for a in await self._authors(announcement))
        return row, names or _("the coordination")

    async def pass_on(self, member: Member, row: OutboxRow, chat_id: int, message_id: int,
                      text: str, now: datetime) -> Outcome | None:
        """Keep a member's answer to an announcement and pass it to the author."""
        body = text.strip()
        if not body:
            return None
        announcement = await self.store.announcements.get(row.announcement_id)
        assert announcement is not None
        async with self.store.transaction():
            await self.store.announcements.add_reply(
                announcement_id=row.announcement_id, member_id=member.id, text=body[:4000],
                chat_id=chat_id, message_id=message_id, now=now)
        org = (None if member.organisation_id is None
               else await self.store.network.organisation_by_id(member.organisation_id))
        projects = await self.store.members.projects(member.id)
        notices = []
        authors = await self._authors(announcement)
        for author in authors:
            assert author.telegram_user_id is not None
            with use_language(author.language):
                where = [org.name] if org else []
                where += [p.title(author.language) for p in projects]
                head = "💬 " + _("{name} ({where}) answered your announcement «{excerpt}»:").format(
                    name=h(member.display_name or "?"), where=h(" · ".join(where)) or "—",
                    excerpt=h(_excerpt(announcement.text, 50)))
                notices.append(Notice(author.telegram_user_id,
                                      Reply(f"{head}\n\n{h(body[:3500])}")))
        names = ", ".join(a.display_name or "" for a in authors) or _("the coordination")
        return Outcome(replies=(Reply("✅ " + _("Your answer was passed on to {name}.").format(
            name=h(names))),), notices=tuple(notices))


def quiet_hours(people: Sequence[Recipient], moment: datetime) -> dict[int, datetime]:
    """When each person whose night it is at `moment` may receive a message: the opening of
    the reminders' allowed hours in their own time zone (others are not held)."""
    held = {}
    for person in people:
        opening = allowed(moment, ZoneInfo(person.timezone), DEFAULT_POLICY.hours)
        if opening > moment:
            held[person.member_id] = opening
    return held


def replace_projects(r: Recipient, allowed: set[str]) -> Recipient:
    """Keep only the projects a coordinator may target (their own)."""
    return r.model_copy(update={"projects": tuple(p for p in r.projects if p in allowed)})


def _excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


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
