"""Evaluation surveys: import, campaigns, the one-question-per-message conversation, results.

Every answer is written the moment it arrives (one row per question), and the response
remembers its position, so a member resumes exactly where they stopped, after a restart too.
Buttons carry the response's `turn`, which grows at every change: a press on an older
message's button changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import parse_date

from bot.config import LANGUAGES
from bot.core.announcements import AnnouncementService, Audience
from bot.core.numbers import NumberError, parse_number
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Document, Outcome, Reply, h
from bot.core.surveys import expressions as xpath
from bot.core.surveys.forms import Definition, Question, pick, read_form
from bot.i18n import _, format_date, format_datetime, format_number, ngettext, use_language
from storage import Store
from storage.models import Campaign, Member, Recipient, Side, SurveyForm, SurveyResponse

CB = "sv"  # sv:<action>:<response id>:<turn>[:<argument>]; sv:go:<campaign id>
LAUNCH = "sl"  # sl:<action>[:<argument>], the coordinator's /survey screens
RESULTS = "sr"  # sr:<campaign id>
EXPORT = "sx"  # sx:<campaign id>: the answers wide, as a spreadsheet
PAGE = 8  # choices per page of buttons
LAUNCHERS: frozenset[str] = frozenset({"coordinator", "admin"})
READERS: frozenset[str] = frozenset({"coordinator", "observer", "admin"})
MAX_TEXT = 2000
DEADLINES = (7, 14, 30)  # days, offered as buttons
IDLE = timedelta(hours=12)  # a response left this long no longer takes typed texts


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


class SurveyService:
    def __init__(self, store: Store, announcements: AnnouncementService, timezone: str) -> None:
        self.store = store
        self.announcements = announcements
        self.timezone = timezone
        self._definitions: dict[int, Definition] = {}

    # --- definitions -----------------------------------------------------------------------

    async def import_form(self, path: Path, now: datetime) -> tuple[SurveyForm, bool]:
        """Import a file; return its version and whether it is new (same content: same
        version). Raises FormError naming what is refused."""
        definition = read_form(path)
        digest = definition.content_hash()
        async with self.store.transaction():
            found = await self.store.surveys.form_by_hash(definition.form_id, digest)
            if found is not None:
                return found, False
            form_pk = await self.store.surveys.add_form(
                form_id=definition.form_id, content_hash=digest,
                title=pick(definition.title, definition.default_language,
                           definition.default_language) or definition.form_id,
                definition=json.dumps(definition.model_dump(mode="json"), ensure_ascii=False,
                                      sort_keys=True), source=path.name, now=now)
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
    def title(loaded: Loaded, language: str) -> str:
        d = loaded.definition
        return pick(d.title, language, d.default_language) or d.form_id

    # --- campaigns -------------------------------------------------------------------------

    async def audience_people(self, author: Member | None, audience: Audience,
                              joint: bool) -> list[Recipient]:
        """Who is invited. A joint campaign reaches both sides whatever role was chosen: the
        partners and coordinators of the projects, and the observers of the collectivities
        taking part in them (observers follow projects through their organisation)."""
        if not joint:
            return await self.announcements.recipients(author, audience)
        base = Audience({k: v for k, v in audience.criteria.items() if k != "role"})
        people = [p for p in await self.announcements.recipients(author, base)
                  if p.role in ("partner", "coordinator", "observer")]
        slugs = list(base.criteria.get("project", ()))
        if not slugs:
            projects = (await self.store.network.projects() if author is None
                        or author.role == "admin"
                        else await self.store.members.projects(author.id))
            slugs = [p.slug for p in projects]
        if not slugs:
            return people
        marks = ",".join("?" * len(slugs))
        rows = await self.store.db.fetchall(
            "SELECT DISTINCT o.slug FROM project_organisations po"  # noqa: S608
            " JOIN projects p ON p.id = po.project_id"
            " JOIN organisations o ON o.id = po.organisation_id"
            f" WHERE o.kind = 'collectivity' AND p.slug IN ({marks})", slugs)
        organisations = {r["slug"] for r in rows}
        rest = Audience({k: v for k, v in base.criteria.items() if k != "project"})
        seen = {p.member_id for p in people}
        for candidate in rest.select(await self.store.announcements.candidates(None)):
            if (candidate.role == "observer" and candidate.organisation in organisations
                    and candidate.member_id not in seen
                    and (author is None or candidate.member_id != author.id)):
                people.append(candidate)
                seen.add(candidate.member_id)
        return people

    async def launch(self, *, author: Member | None, form: SurveyForm, audience: Audience,
                     joint: bool, opens_at: datetime, closes_at: datetime,
                     now: datetime, remind_days: tuple[int, ...] | None = None
                     ) -> tuple[int, int]:
        """Create the campaign, record who is invited (and on which side), and queue the
        invitations in the announcement outbox; return (campaign id, people invited)."""
        if closes_at <= max(opens_at, now):
            raise LaunchError("the deadline must come after the opening time and now")
        loaded_definition = self.definition(form)
        kinds = {o.slug: o.kind for o in await self.store.network.organisations()}
        async with self.store.transaction():
            people = await self.audience_people(author, audience, joint)
            if not people:
                return 0, 0
            campaign_id = await self.store.surveys.add_campaign(
                form_pk=form.id, created_by=None if author is None else author.id,
                audience=audience.to_json(), joint=joint, opens_at=opens_at,
                closes_at=closes_at, now=now,
                remind_days=None if remind_days is None else json.dumps(list(remind_days)))
            await self.store.surveys.invite(
                campaign_id, [(p.member_id, side_of(p.role, kinds.get(p.organisation or "")))
                              for p in people], now)
            versions = {}
            for language in LANGUAGES:
                with use_language(language):
                    versions[language] = self._invitation_text(loaded_definition, language,
                                                               closes_at)
            announcement_id = await self.store.announcements.create(
                author_id=None if author is None else author.id, now=now,
                text=versions[loaded_definition.default_language
                              if loaded_definition.default_language in versions else "fr"],
                audience=audience.to_json(), campaign_id=campaign_id)
            for language, text in versions.items():
                await self.store.announcements.set_version(announcement_id, language, text)
            await self.announcements.publish(announcement_id, people,
                                             opens_at if opens_at > now else None, now)
        self.announcements.queued.set()
        return campaign_id, len(people)

    def _invitation_text(self, definition: Definition, language: str,
                         closes_at: datetime) -> str:
        count = len([q for q in definition.asked() if q.type != "note"])
        title = pick(definition.title, language, definition.default_language)
        return "\n".join((
            _("New questionnaire: {title}").format(title=title),
            ngettext("About {count} question, one at a time; you can stop and come back.",
                     "About {count} questions, one at a time; you can stop and come back.",
                     count).format(count=count),
            # One text per language, not per person: the day only, in the network's time zone
            # (/surveys and the questions show the exact time in each member's own zone).
            _("Please answer by {deadline}.").format(
                deadline=format_datetime(closes_at, self.timezone, "d MMMM y")),
        ))

    async def pending(self, member: Member, now: datetime) -> Outcome:
        """/surveys: the open questionnaires waiting for the member."""
        campaigns = await self.store.surveys.pending_for(member.id, now)
        if not campaigns:
            return Outcome.of(Reply(_("No questionnaire is waiting for you. Thank you!")))
        lines = ["📋 <b>" + _("Questionnaires waiting for you") + "</b>"]
        rows = []
        for campaign in campaigns:
            loaded = await self.load(campaign.id)
            assert loaded is not None
            response = await self.store.surveys.response_of(campaign.id, member.id)
            title = h(self.title(loaded, member.language))
            deadline = format_datetime(campaign.closes_at, member.timezone, "d MMMM, HH:mm")
            state = _("started") if response is not None else _("not started")
            lines.append(f"• {title} · " + _("by {deadline}").format(deadline=deadline)
                         + f" · {state}")
            label = ("▶ " + _("Continue") if response is not None else "▶ " + _("Start"))
            rows.append((Button(f"{label}: {self.title(loaded, member.language)[:40]}",
                                f"{CB}:go:{campaign.id}"),))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(rows)))

    # --- the conversation: where a response stands ----------------------------------------

    def _today(self, member: Member, now: datetime) -> date:
        return now.astimezone(ZoneInfo(member.timezone)).date()

    def context(self, definition: Definition, answers: Mapping[str, tuple[str | None, str | None]],
                today: date) -> dict[str, str]:
        """The answers as expressions see them, calculations included (in form order)."""
        values = {k: (v if v is not None else (f or "")) for k, (v, f) in answers.items()}
        for question in definition.questions:
            if question.type == "calculate" and question.calculation:
                result = xpath.run(question.calculation, xpath.Context(values, today=today))
                values[question.name] = xpath.to_string(result) if not (
                    isinstance(result, float) and math.isnan(result)) else ""
        return values

    @staticmethod
    def relevant(question: Question, values: Mapping[str, str], today: date) -> bool:
        if not question.relevant:
            return True
        return xpath.to_bool(xpath.run(question.relevant, xpath.Context(values, today=today)))

    def path(self, definition: Definition, values: Mapping[str, str], today: date) -> list[int]:
        """Indexes of the questions to ask now, in order."""
        return [i for i, q in enumerate(definition.questions)
                if q.type != "calculate" and self.relevant(q, values, today)]

    def choices(self, question: Question, values: Mapping[str, str], today: date,
                language: str) -> list[tuple[str, str]]:
        """(name, label) of the choices offered, after the `choice_filter`."""
        found = []
        node = xpath.parse(question.choice_filter, columns=True) if question.choice_filter \
            else None
        for choice in question.choices:
            if node is not None:
                row = {"name": choice.name, **choice.properties}
                if not xpath.to_bool(xpath.evaluate(node, xpath.Context(values, today=today,
                                                                        row=row))):
                    continue
            found.append((choice.name, pick(choice.label, language) or choice.name))
        if question.type == "range":
            steps = round((question.end - question.start) / question.step)
            # Rounded: 0.1 * 3 is 0.30000000000000004 in binary floating point.
            values_ = [round(question.start + i * question.step, 6) for i in range(steps + 1)]
            found = [(xpath.to_string(v), format_number(Decimal(xpath.to_string(v))))
                     for v in values_]
        return found

    def _cb(self, action: str, response: SurveyResponse, argument: str = "") -> str:
        data = f"{CB}:{action}:{response.id}:{response.turn}"
        return f"{data}:{argument}" if argument else data

    async def _state(self, response: SurveyResponse, member: Member, now: datetime
                     ) -> tuple[Loaded, dict[str, tuple[str | None, str | None]], dict[str, str],
                                list[int]]:
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        answers = await self.store.surveys.answers(response.id)
        today = self._today(member, now)
        values = self.context(loaded.definition, answers, today)
        return loaded, answers, values, self.path(loaded.definition, values, today)

    async def prompt(self, response: SurveyResponse, member: Member, now: datetime,
                     problem: str | None = None) -> Reply:
        """The question the response stands at (or the review)."""
        loaded, answers, values, path = await self._state(response, member, now)
        if response.step.endswith("review"):
            return self._review(loaded, response, answers, path, member)
        definition = loaded.definition
        question = definition.questions[response.position]
        language = member.language
        lines = []
        if problem:
            lines += [problem, ""]
        shown = path.index(response.position) + 1 if response.position in path else 1
        header = f"{shown}/{len(path)}"
        section = pick(question.section, language, definition.default_language)
        if section and (shown == 1 or definition.questions[path[shown - 2]].section
                        != question.section):
            header += f" · <b>{h(section)}</b>"
        elif section:
            header += f" · {h(section)}"
        lines.append(header)
        label = self._label(question, values, language, definition.default_language)
        hint = pick(question.hint, language, definition.default_language)
        if hint:
            lines.append(f"<i>{h(hint)}</i>")
        rows: list[tuple[Button, ...]] = []
        today = self._today(member, now)
        current = answers.get(question.name)
        kind = question.type
        if kind in ("select_one", "select_multiple", "range"):
            options = self.choices(question, values, today, language)
            chosen = set((current[0] or "").split()) if current else set()
            first = response.page * PAGE
            for index, (name, text) in list(enumerate(options))[first:first + PAGE]:
                mark = "✅ " if name in chosen else ""
                rows.append((Button(mark + text[:60], self._cb("c", response, str(index))),))
            paging = []
            if response.page > 0:
                paging.append(Button("◀ " + _("Previous choices"),
                                     self._cb("p", response, str(response.page - 1))))
            if first + PAGE < len(options):
                paging.append(Button(_("More choices") + " ▶",
                                     self._cb("p", response, str(response.page + 1))))
            if paging:
                rows.append(tuple(paging))
            if kind == "select_multiple":
                lines.append(_("Choose all that apply, then press Done."))
                rows.append((Button("✅ " + _("Done"), self._cb("d", response)),))
        elif kind == "acknowledge":
            rows.append((Button("✓ " + _("OK"), self._cb("c", response, "0")),))
        elif kind == "note":
            rows.append((Button(_("Continue") + " ▶", self._cb("n", response)),))
        else:
            lines.append(self._instruction(question, member, now))
        lines.append("")
        lines.append(f"<b>{label}</b>" if label else "")
        navigation = []
        if current is not None and current != (None, None) and kind not in (
                "note", "select_multiple"):
            navigation.append(Button(_("Keep: {value}").format(
                value=self._show(question, current, values, today, language)[:30]),
                self._cb("k", response)))
        elif current is None and question.default and kind not in ("note", "select_multiple"):
            navigation.append(Button(_("Keep: {value}").format(value=question.default[:30]),
                                     self._cb("k", response)))
        if not question.required and kind not in ("note", "acknowledge"):
            navigation.append(Button(_("Skip"), self._cb("s", response)))
        if path and path[0] != response.position:
            navigation.append(Button("◀ " + _("Back"), self._cb("b", response)))
        if navigation:
            rows.append(tuple(navigation))
        return Reply("\n".join(lines).rstrip(), buttons=tuple(rows))

    @staticmethod
    def _label(question: Question, values: Mapping[str, str], language: str,
               default_language: str) -> str:
        """The label, with ${name} replaced by the answers given (as in ODK's output)."""
        text = pick(question.label, language, default_language) or question.name
        for name, value in values.items():
            text = text.replace("${" + name + "}", value)
        return h(text if len(text) <= 2000 else text[:2000] + "…")

    def _instruction(self, question: Question, member: Member, now: datetime) -> str:
        kind = question.type
        if kind == "integer":
            return _("Send a whole number, for example {example}.").format(
                example=format_number(12))
        if kind == "decimal":
            return _("Send a number, for example {example}.").format(
                example=format_number(Decimal("12.5")))
        if kind == "date":
            return _("Send a date, for example {example}.").format(
                example=format_date(self._today(member, now), "short"))
        if kind == "geopoint":
            return _("Share a location: 📎 then Location.")
        if kind == "image":
            return _("Send a photo.")
        if kind == "audio":
            return _("Send a voice note.")
        return _("Write your answer.")

    def _show(self, question: Question, answer: tuple[str | None, str | None],
              values: Mapping[str, str], today: date, language: str) -> str:
        value, file_id = answer
        if value is None and file_id is None:
            return "—"
        if question.type in ("select_one", "select_multiple", "range"):
            labels = dict(self.choices(question.model_copy(update={"choice_filter": None}),
                                       values, today, language))
            return ", ".join(labels.get(v, v) for v in (value or "").split())
        if question.type == "image":
            return "📷 " + _("photo")
        if question.type == "audio" or (question.type == "text" and value is None):
            return "🎤 " + _("voice note")
        if question.type == "geopoint":
            return "📍 " + (value or "")
        if question.type == "acknowledge":
            return "✓"
        if question.type in ("integer", "decimal") and value:
            return format_number(Decimal(value))
        if question.type == "date" and value:
            return format_date(date.fromisoformat(value), "medium")
        cut = value or ""
        return cut if len(cut) <= 60 else cut[:60] + "…"

    def _review(self, loaded: Loaded, response: SurveyResponse,
                answers: Mapping[str, tuple[str | None, str | None]], path: list[int],
                member: Member) -> Reply:
        definition = loaded.definition
        language = member.language
        today = self._today(member, response.updated_at)
        values = {k: (v or f or "") for k, (v, f) in answers.items()}
        lines = ["<b>" + _("Check your answers") + "</b> · " + h(self.title(loaded, language))]
        buttons: list[Button] = []
        number = 0
        for index in path:
            question = definition.questions[index]
            number += 1
            if question.type == "note":
                continue
            label = self._label(question, values, language, definition.default_language)
            shown = self._show(question, answers.get(question.name, (None, None)), values,
                               today, language)
            lines.append(f"{number}. {label[:80]}: <b>{h(shown)}</b>")
            buttons.append(Button(f"✏️ {number}", self._cb("e", response, str(index))))
        lines = fit(lines, 3600).split("\n")
        lines += ["", _("Press a number to change that answer, or send your answers.")]
        rows = [tuple(buttons[i:i + 5]) for i in range(0, len(buttons), 5)]
        rows.append((Button("✅ " + _("Send my answers"), self._cb("ok", response)),
                     Button("◀ " + _("Back"), self._cb("b", response))))
        return Reply("\n".join(lines), buttons=tuple(rows))

    # --- the conversation: starting, moving, answering ------------------------------------

    def _closed(self, loaded: Loaded, member: Member, now: datetime) -> Reply | None:
        campaign = loaded.campaign
        if now < campaign.opens_at:
            return Reply(_("This questionnaire opens on {date}.").format(
                date=format_datetime(campaign.opens_at, member.timezone, "d MMMM y, HH:mm")))
        if now >= campaign.closes_at:
            return Reply(_("This questionnaire closed on {date}. Your answers so far are kept; "
                           "thank you for your time.").format(
                date=format_datetime(campaign.closes_at, member.timezone, "d MMMM y, HH:mm")))
        return None

    async def start(self, member: Member, campaign_id: int, now: datetime) -> Outcome:
        """Start the questionnaire, or resume it exactly where the member stopped."""
        loaded = await self.load(campaign_id)
        side = await self.store.surveys.invitation_side(campaign_id, member.id)
        if loaded is None or side is None:
            return expired_button()  # not invited: a forged or foreign button
        response = await self.store.surveys.response_of(campaign_id, member.id)
        if response is not None and response.status == "submitted":
            return Outcome.of(Reply(_("You have already answered this questionnaire. Thank "
                                      "you!")))
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return Outcome.of(closed)
        if response is None:
            today = self._today(member, now)
            path = self.path(loaded.definition, self.context(loaded.definition, {}, today),
                             today)
            async with self.store.transaction():
                response_id = await self.store.surveys.start_response(
                    campaign_id, member.id, side, path[0] if path else 0, now)
            intro = "📋 <b>" + h(self.title(loaded, member.language)) + "</b>\n" + _(
                "One question at a time. Your answers are saved as you go: you can stop and "
                "come back with /surveys.")
        else:
            response_id = response.id
            # Paused (/cancel) or refused after a deadline since extended: back where it was.
            step = response.step.removeprefix("paused:")
            async with self.store.transaction():
                await self.store.surveys.update_response(
                    response.id, now, step=step if step in ("question", "review") else "question")
            intro = "▶ " + _("Let's continue where you stopped.")
        fresh = await self.store.surveys.response(response_id)
        assert fresh is not None
        return Outcome.of(Reply(intro), await self.prompt(fresh, member, now))

    async def _active(self, member: Member, now: datetime) -> SurveyResponse | None:
        """The response a typed text or a file answers: the one under way, unless it was left
        long ago (then a text is what it looks like, e.g. a field update; /surveys resumes).
        One whose campaign closed meanwhile is returned, to be refused once, politely."""
        response = await self.store.surveys.open_response(member.id)
        if response is None or response.step not in ("question", "review"):
            return None
        if now - response.updated_at > IDLE:
            campaign = await self.store.surveys.campaign(response.campaign_id)
            if campaign is None or now < campaign.closes_at:
                return None
        return response

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        """A press on a questionnaire button; a stale, foreign or forged one changes nothing."""
        parts = data.split(":")
        if len(parts) == 3 and parts[1] == "go" and parts[2].isdigit():
            return await self.start(member, int(parts[2]), now)
        if len(parts) < 4 or not parts[2].isdigit() or not parts[3].isdigit():
            return expired_button()
        action, response_id, turn = parts[1], int(parts[2]), int(parts[3])
        argument = ":".join(parts[4:])
        response = await self.store.surveys.response(response_id)
        if (response is None or response.member_id != member.id or response.status != "open"
                or response.turn != turn):
            return expired_button()
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return await self._refuse_closed(response, closed, now)
        if response.step not in ("question", "review"):
            return expired_button()
        if response.step == "review":
            if action == "ok":
                return await self.submit(member, response, now)
            if action == "e" and argument.isdigit():
                return await self._edit(member, response, int(argument), now)
            if action == "b":
                return await self._back(member, response, now)
            return expired_button()
        handlers = {"c": self._choose, "p": self._page}
        if action in handlers:
            if not argument.isdigit():
                return expired_button()
            return await handlers[action](member, response, int(argument), now)
        simple = {"d": self._done, "n": self._note, "k": self._keep, "s": self._skip,
                  "b": self._back}
        if action in simple:
            return await simple[action](member, response, now)
        return expired_button()

    async def _refuse_closed(self, response: SurveyResponse, closed: Reply,
                             now: datetime) -> Outcome:
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, step="closed")
        return Outcome.of(closed)

    async def _question(self, response: SurveyResponse) -> Question:
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        return loaded.definition.questions[response.position]

    async def _save_and_next(self, member: Member, response: SurveyResponse, value: str | None,
                             now: datetime, *, file_id: str | None = None,
                             echo: str | None = None) -> Outcome:
        """Save the answer to the current question, then move to the next one to ask."""
        question = await self._question(response)
        async with self.store.transaction():
            await self.store.surveys.set_answer(response.id, question.name, value, now,
                                                file_id=file_id)
        return await self._next(member, response, now, echo=echo)

    async def _next(self, member: Member, response: SurveyResponse, now: datetime, *,
                    echo: str | None = None) -> Outcome:
        loaded, answers, _values, path = await self._state(response, member, now)
        definition = loaded.definition
        following: int | None
        if response.editing:
            # After a change from the review, ask only what the change made newly relevant.
            following = next((i for i in path if definition.questions[i].type != "note"
                              and definition.questions[i].name not in answers), None)
        else:
            following = next((i for i in path if i > response.position), None)
        async with self.store.transaction():
            if following is None:
                await self.store.surveys.update_response(response.id, now, step="review",
                                                         page=0, editing=0)
            else:
                await self.store.surveys.update_response(response.id, now, position=following,
                                                         page=0)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        replies = [] if echo is None else [Reply(echo, replace=True)]
        replies.append(await self.prompt(fresh, member, now))
        return Outcome(replies=tuple(replies))

    async def _choose(self, member: Member, response: SurveyResponse, index: int,
                      now: datetime) -> Outcome:
        loaded, answers, values, _path = await self._state(response, member, now)
        question = loaded.definition.questions[response.position]
        today = self._today(member, now)
        if question.type == "acknowledge":
            if index != 0:
                return expired_button()
            return await self._save_and_next(member, response, "OK", now, echo="✓ " + _("OK"))
        if question.type not in ("select_one", "select_multiple", "range"):
            return expired_button()
        options = self.choices(question, values, today, member.language)
        if index >= len(options):
            return expired_button()
        name, label = options[index]
        if question.type == "select_multiple":
            current = answers.get(question.name, (None, None))[0]
            chosen = (current or "").split()
            chosen = [c for c in chosen if c != name] if name in chosen else [*chosen, name]
            order = [n for n, _label in options]
            chosen.sort(key=lambda n: order.index(n) if n in order else len(order))
            async with self.store.transaction():
                await self.store.surveys.set_answer(response.id, question.name,
                                                    " ".join(chosen) or None, now)
                await self.store.surveys.update_response(response.id, now)
            fresh = await self.store.surveys.response(response.id)
            assert fresh is not None
            prompt = await self.prompt(fresh, member, now)
            return Outcome(replies=(Reply(prompt.text, buttons=prompt.buttons, replace=True),))
        problem = self._constraint(loaded.definition, question, name, values, today,
                                   member.language)
        if problem is not None:
            return Outcome.of(await self.prompt(response, member, now, problem))
        return await self._save_and_next(member, response, name, now, echo="✓ " + h(label))

    async def _done(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, answers, values, _path = await self._state(response, member, now)
        question = loaded.definition.questions[response.position]
        if question.type != "select_multiple":
            return expired_button()
        value = answers.get(question.name, (None, None))[0]
        if not value and question.required:
            message = pick(question.required_message, member.language,
                           loaded.definition.default_language)
            return Outcome(toast=message or _("Choose at least one answer."))
        problem = self._constraint(loaded.definition, question, value or "", values,
                                   self._today(member, now), member.language)
        if problem is not None:
            return Outcome.of(await self.prompt(response, member, now, problem))
        shown = self._show(question, (value, None), values, self._today(member, now),
                           member.language)
        return await self._save_and_next(member, response, value, now, echo="✓ " + h(shown))

    async def _page(self, member: Member, response: SurveyResponse, page: int,
                    now: datetime) -> Outcome:
        loaded, _answers, values, _path = await self._state(response, member, now)
        question = loaded.definition.questions[response.position]
        options = self.choices(question, values, self._today(member, now), member.language)
        if page * PAGE >= len(options):
            return expired_button()  # a page that does not exist: forged
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, page=page)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        prompt = await self.prompt(fresh, member, now)
        return Outcome(replies=(Reply(prompt.text, buttons=prompt.buttons, replace=True),))

    async def _note(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        question = await self._question(response)
        if question.type != "note":
            return expired_button()
        return await self._next(member, response, now)

    async def _keep(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, answers, _values, _path = await self._state(response, member, now)
        question = loaded.definition.questions[response.position]
        current = answers.get(question.name)
        if current is not None and current != (None, None):
            return await self._next(member, response, now, echo="✓ " + _("Kept"))
        if question.default is not None:
            return await self._save_and_next(member, response, question.default, now,
                                             echo="✓ " + _("Kept"))
        return expired_button()

    async def _skip(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        question = await self._question(response)
        if question.required or question.type in ("note", "acknowledge"):
            return expired_button()  # a required question has no Skip button: forged
        return await self._save_and_next(member, response, None, now, echo="✓ " + _("Skipped"))

    async def _back(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        _loaded, _answers, _values, path = await self._state(response, member, now)
        if response.step == "review":
            target = path[-1] if path else None
        else:
            target = next((i for i in reversed(path) if i < response.position), None)
        if target is None:
            return Outcome(toast=_("This is the first question."))
        return await self._go_to(member, response, target, now, editing=False)

    async def _edit(self, member: Member, response: SurveyResponse, index: int,
                    now: datetime) -> Outcome:
        _loaded, _answers, _values, path = await self._state(response, member, now)
        if index not in path:
            return expired_button()
        return await self._go_to(member, response, index, now, editing=True)

    async def _go_to(self, member: Member, response: SurveyResponse, position: int,
                     now: datetime, *, editing: bool) -> Outcome:
        """Ask question `position` again (back, or an edit from the review)."""
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, position=position,
                                                     step="question", page=0,
                                                     editing=1 if editing else 0)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        return Outcome.of(await self.prompt(fresh, member, now))

    def _constraint(self, definition: Definition, question: Question, value: str,
                    values: Mapping[str, str], today: date, language: str) -> str | None:
        """The form's constraint message when the value breaks the constraint."""
        if not question.constraint or value == "":
            return None
        ok = xpath.to_bool(xpath.run(question.constraint,
                                     xpath.Context(values, current=value, today=today)))
        if ok:
            return None
        message = pick(question.constraint_message, language, definition.default_language)
        return "⚠ " + (h(message) if message else _("This answer is not accepted. Please "
                                                     "check it and send it again."))

    async def _not_a_question(self, response: SurveyResponse, loaded: Loaded, member: Member,
                              now: datetime) -> Outcome | None:
        """The answer when what was sent cannot answer a question: the campaign closed, or the
        member is at the review (shown again); None when a question is waiting."""
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return await self._refuse_closed(response, closed, now)
        if response.step == "review":
            return Outcome.of(await self.prompt(response, member, now))
        return None

    async def on_text(self, member: Member, text: str, now: datetime) -> Outcome | None:
        """Take a typed answer if a questionnaire is under way; None otherwise."""
        response = await self._active(member, now)
        if response is None:
            return None
        loaded, _answers, values, _path = await self._state(response, member, now)
        waiting = await self._not_a_question(response, loaded, member, now)
        if waiting is not None:
            return waiting
        question = loaded.definition.questions[response.position]
        body = text.strip()
        today = self._today(member, now)
        parsed, problem = self._parse(question, body, member, now)
        if question.type in ("select_one", "range") and parsed is None:
            # A choice typed instead of pressed (its label, or its name), in any case.
            typed = body.casefold()
            parsed = next((name for name, label in self.choices(question, values, today,
                                                                member.language)
                           if typed in (label.casefold(), name.casefold())), None)
        if problem is None and parsed is not None:
            problem = self._constraint(loaded.definition, question, parsed, values, today,
                                       member.language)
        if problem is not None or parsed is None:
            return Outcome.of(await self.prompt(response, member, now,
                                                problem or _("Please use the buttons.")))
        return await self._save_and_next(member, response, parsed, now)

    def _parse(self, question: Question, body: str, member: Member,
               now: datetime) -> tuple[str | None, str | None]:
        """(value as XLSForm stores it, None) or (None, what to tell the member)."""
        kind = question.type
        if kind == "text":
            if not body:
                return None, _("Write your answer.")
            return body[:MAX_TEXT], None
        if kind in ("integer", "decimal"):
            number = parse_number(body, member.language)
            if isinstance(number, NumberError):
                return None, "⚠ " + (_("This is not a number.") + " " + self._instruction(
                    question, member, now))
            if kind == "integer" and number != number.to_integral_value():
                return None, "⚠ " + self._instruction(question, member, now)
            shown = number.normalize()
            return (format(shown, "f") if kind == "decimal" else str(int(number))), None
        if kind == "date":
            try:
                day = parse_date(body, locale=member.language)
            except (ValueError, IndexError):
                day = None
            if day is None:
                return None, "⚠ " + _("I could not read this date.") + " " + \
                    self._instruction(question, member, now)
            return day.isoformat(), None
        if kind in ("geopoint", "image", "audio"):
            return None, "⚠ " + self._instruction(question, member, now)
        return None, None  # buttons only

    async def on_media(self, member: Member, kind: str, file_id: str | None,
                       latitude: float | None, longitude: float | None,
                       now: datetime) -> Outcome | None:
        """Take a location, photo or voice note for the question under way; None if none."""
        response = await self._active(member, now)
        if response is None:
            return None
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        waiting = await self._not_a_question(response, loaded, member, now)
        if waiting is not None:
            return waiting
        question = loaded.definition.questions[response.position]
        # A voice note is accepted wherever free text is (phone users often speak).
        wanted = {"geopoint": ("location",), "image": ("photo",), "audio": ("voice", "audio"),
                  "text": ("voice", "audio")}
        if kind not in wanted.get(question.type, ()):
            return Outcome.of(await self.prompt(response, member, now, "⚠ " + (
                self._instruction(question, member, now) if question.type in wanted
                and question.type != "text"
                else _("This question needs another kind of answer."))))
        if kind == "location":
            value = f"{latitude} {longitude} 0 0"  # ODK's "lat lon altitude accuracy"
            _answers, values = await self._values(response, loaded, member, now)
            problem = self._constraint(loaded.definition, question, value, values,
                                       self._today(member, now), member.language)
            if problem is not None:
                return Outcome.of(await self.prompt(response, member, now, problem))
            return await self._save_and_next(member, response, value, now, echo="📍 ✓")
        return await self._save_and_next(member, response, None, now, file_id=file_id,
                                         echo="✓ " + _("Received."))

    async def _values(self, response: SurveyResponse, loaded: Loaded, member: Member,
                      now: datetime) -> tuple[dict[str, tuple[str | None, str | None]],
                                              dict[str, str]]:
        answers = await self.store.surveys.answers(response.id)
        return answers, self.context(loaded.definition, answers, self._today(member, now))

    async def cancel(self, member: Member, now: datetime) -> Outcome | None:
        """/cancel during a questionnaire: pause it; the answers stay."""
        response = await self._active(member, now)
        if response is None:
            return None
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now,
                                                     step="paused:" + response.step)
        return Outcome.of(Reply(_("Paused. Your answers are kept; send /surveys to continue "
                                  "where you stopped.")))

    # --- submitting ------------------------------------------------------------------------

    async def submit(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, answers, values, path = await self._state(response, member, now)
        definition = loaded.definition
        kept = {definition.questions[i].name for i in path}
        missing = [definition.questions[i] for i in path
                   if definition.questions[i].required
                   and definition.questions[i].type != "note"
                   and answers.get(definition.questions[i].name, (None, None)) == (None, None)]
        if missing:
            index = definition.questions.index(missing[0])
            return await self._edit(member, response, index, now)
        stale = [name for name in answers if name not in kept]
        async with self.store.transaction():
            # As ODK does: answers to questions no longer relevant are not part of the result.
            await self.store.surveys.delete_answers(response.id, stale)
            for question in definition.questions:
                if question.type == "calculate" and values.get(question.name):
                    await self.store.surveys.set_answer(response.id, question.name,
                                                        values[question.name], now)
            await self.store.surveys.update_response(response.id, now, status="submitted",
                                                     step="done", submitted_at=now)
        day = format_datetime(now, member.timezone, "d MMMM y")
        time = format_datetime(now, member.timezone, "HH:mm")
        text = _("✅ Your answers to «{title}» were received on {date} at {time} (reference "
                 "{reference}). Thank you!").format(
            title=h(self.title(loaded, member.language)), date=day, time=time,
            reference=reference(response))
        return Outcome.of(Reply(text, replace=True))

    # --- results ---------------------------------------------------------------------------

    async def scope_members(self, reader: Member) -> set[int] | None:
        """Members whose answers the reader may see (None: everyone, for an admin)."""
        if reader.role == "admin":
            return None
        projects = await self.store.consultation.visible_project_ids(reader)
        if not projects:
            return set()
        marks = ",".join("?" * len(projects))
        # The projects' members, and the reader's own organisation (its observers follow the
        # projects through it, without being members of them).
        rows = await self.store.db.fetchall(
            f"SELECT member_id FROM member_projects WHERE project_id IN ({marks})"  # noqa: S608
            " UNION SELECT id FROM members WHERE organisation_id = ?",
            [*projects, reader.organisation_id])
        return {r["member_id"] for r in rows}

    async def results_menu(self, reader: Member) -> Outcome:
        if reader.role not in READERS:
            return Outcome.of(Reply(_("Results are for coordinators and observers.")))
        scope = await self.scope_members(reader)
        rows = []
        for campaign in (await self.store.surveys.campaigns())[:10]:
            invited = {m for m, _side in await self.store.surveys.invitations(campaign.id)}
            if scope is not None and not invited & scope:
                continue
            loaded = await self.load(campaign.id)
            assert loaded is not None
            rows.append((Button(self.title(loaded, reader.language)[:50],
                                f"{RESULTS}:{campaign.id}"),))
        if not rows:
            return Outcome.of(Reply(_("No questionnaire has been sent in your projects yet.")))
        return Outcome.of(Reply(_("Which questionnaire?"), buttons=tuple(rows)))

    async def results(self, reader: Member, campaign_id: int, now: datetime) -> Outcome:
        """Response rate per side and the distribution of each closed question, with a chart."""
        if reader.role not in READERS:
            return expired_button()
        loaded = await self.load(campaign_id)
        if loaded is None:
            return expired_button()
        scope = await self.scope_members(reader)
        invited = [(m, s) for m, s in await self.store.surveys.invitations(campaign_id)
                   if scope is None or m in scope]
        if not invited:
            return expired_button()  # not in the reader's scope: a forged press
        members = {m for m, _s in invited}
        responses = [r for r in await self.store.surveys.campaign_responses(campaign_id)
                     if r.member_id in members and r.status == "submitted"]
        answers = await self.store.surveys.campaign_answers(campaign_id)
        sides: list[Side] = ["collectivity", "partner"] if loaded.campaign.joint else []
        language = reader.language
        campaign = loaded.campaign
        lines = ["📊 <b>" + h(self.title(loaded, language)) + "</b>",
                 _("Deadline: {date}").format(date=format_datetime(
                     campaign.closes_at, reader.timezone, "d MMMM y, HH:mm"))
                 + (" · " + _("joint evaluation") if campaign.joint else "")]
        groups: list[tuple[str, list[SurveyResponse], int]] = []
        if sides:
            for side in sides:
                count = sum(1 for _m, s in invited if s == side)
                groups.append((side_name(side), [r for r in responses if r.side == side], count))
        else:
            groups.append((_("Everyone"), responses, len(invited)))
        started = [r for r in await self.store.surveys.campaign_responses(campaign_id)
                   if r.member_id in members and r.status == "open"]
        for name, group, count in groups:
            rate = round(100 * len(group) / count) if count else 0
            line = "• " + _("{side}: {answered}/{invited} answered ({rate} %)").format(
                side=name, answered=len(group), invited=count, rate=rate)
            under_way = sum(1 for r in started if not sides or side_name(r.side) == name)
            if under_way:
                line += " · " + ngettext("{count} under way", "{count} under way",
                                         under_way).format(count=under_way)
            lines.append(line)
        panels: list[tuple[str, list[str], list[tuple[str, list[int]]]]] = []
        today = self._today(reader, now)
        for question in loaded.definition.asked():
            if question.type in ("note", "image", "audio", "geopoint", "acknowledge"):
                continue
            label = pick(question.label, language, loaded.definition.default_language) \
                or question.name
            lines.append("")
            lines.append(f"<b>{h(label[:100])}</b>")
            if question.type in ("select_one", "select_multiple", "range"):
                options = self.choices(question.model_copy(update={"choice_filter": None}), {},
                                       today, language)
                series = []
                for name, group, _count in groups:
                    counter: Counter[str] = Counter()
                    for r in group:
                        counter.update((answers.get(r.id, {}).get(question.name) or "").split())
                    series.append((name, [counter[o] for o, _l in options]))
                for index, (_o, text) in enumerate(options):
                    shown = " · ".join(f"{s[1][index]}" for s in series)
                    lines.append(f"  {h(text[:40])}: {shown}")
                panels.append((label, [t for _o, t in options], series))
            elif question.type in ("integer", "decimal"):
                for name, group, _count in groups:
                    numbers = [float(v) for r in group
                               if (v := answers.get(r.id, {}).get(question.name))]
                    if numbers:
                        lines.append("  " + (f"{name}: " if sides else "") + ngettext(
                            "{count} answer", "{count} answers", len(numbers)).format(
                            count=len(numbers)) + ", " + _(
                            "mean {mean}, from {low} to {high}").format(
                            mean=format_number(Decimal(str(round(sum(numbers) / len(numbers),
                                                                 2)))),
                            low=format_number(Decimal(str(min(numbers)))),
                            high=format_number(Decimal(str(max(numbers))))))
                    else:
                        lines.append("  " + (f"{name}: " if sides else "") + "—")
            else:
                for name, group, _count in groups:
                    given = sum(1 for r in group if answers.get(r.id, {}).get(question.name))
                    lines.append("  " + (f"{name}: " if sides else "") + ngettext(
                        "{count} answer", "{count} answers", given).format(count=given))
        if sides:
            lines.insert(2, _("Counts: {first} · {second}").format(
                first=side_name(sides[0]), second=side_name(sides[1])))
        replies = [Reply(fit(lines), buttons=((Button("📥 " + _("All answers (XLSX)"),
                                                      f"{EXPORT}:{campaign_id}"),),))]
        if panels and responses:
            from bot.survey_charts import distribution_chart
            # Drawing takes a fraction of a second: off the event loop, like /summary's charts.
            image = await asyncio.to_thread(distribution_chart, panels, [g[0] for g in groups],
                                            language)
            replies.append(Reply(h(self.title(loaded, language)),
                                 photo=Document("results.png", image, "image/png")))
        return Outcome(replies=tuple(replies))

    async def export(self, reader: Member, campaign_id: int) -> Outcome:
        """The answers wide (one row per response) of the members in the reader's scope."""
        if reader.role not in READERS:
            return expired_button()
        loaded = await self.load(campaign_id)
        if loaded is None:
            return expired_button()
        scope = await self.scope_members(reader)
        invited = {m for m, _s in await self.store.surveys.invitations(campaign_id)}
        if scope is not None and not invited & scope:
            return expired_button()  # not in the reader's scope: a forged press
        from bot.exports import survey_wide

        header = survey_wide.columns(loaded.definition)
        rows = await survey_wide.wide_rows(self.store, loaded.definition, campaign_id,
                                           reader.timezone, scope)
        content = await asyncio.to_thread(survey_wide.xlsx_bytes, header, rows)
        name = f"{loaded.definition.form_id}-{campaign_id}.xlsx"
        return Outcome.of(Reply(
            ngettext("{count} response", "{count} responses", len(rows)).format(
                count=len(rows)),
            document=Document(name, content, "application/vnd.openxmlformats-officedocument"
                                             ".spreadsheetml.sheet")))

    # --- the coordinator's /survey screens ------------------------------------------------

    @staticmethod
    def may_launch(member: Member) -> bool:
        return member.role in LAUNCHERS and member.is_active

    def _key(self, member: Member) -> str:
        return f"survey-launch:{member.id}"

    async def _draft(self, member: Member) -> dict[str, object]:
        raw = await self.store.kv.get(self._key(member))
        return json.loads(raw) if raw else {}

    async def _save_draft(self, member: Member, draft: Mapping[str, object]) -> None:
        await self.store.kv.set(self._key(member), json.dumps(draft, sort_keys=True))

    async def begin_launch(self, member: Member) -> Outcome:
        """/survey: choose a questionnaire to send."""
        if not self.may_launch(member):
            return Outcome.of(Reply(_("Questionnaires are sent by coordinators and "
                                      "administrators. /surveys lists those waiting for you.")))
        forms = await self.store.surveys.latest_forms()
        if not forms:
            return Outcome.of(Reply(_("No questionnaire has been imported yet. An "
                                      "administrator imports one with “palabre survey import”.")))
        await self._save_draft(member, {})
        rows = tuple((Button(f"{f.title[:50]} (v{f.version})", f"{LAUNCH}:f:{f.id}"),)
                     for f in forms[:10])
        return Outcome.of(Reply("📋 " + _("Which questionnaire do you want to send?"),
                                buttons=rows))

    async def on_launch_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        if not self.may_launch(member):
            return expired_button()
        parts = data.split(":", 2)
        action = parts[1] if len(parts) > 1 else ""
        argument = parts[2] if len(parts) > 2 else ""
        draft = await self._draft(member)
        if action == "f" and argument.isdigit():
            form = await self.store.surveys.form(int(argument))
            if form is None:
                return expired_button()
            draft = {"form": form.id, "audience": "{}", "joint": False, "days": 14}
            await self._save_draft(member, draft)
            return Outcome.of(await self._hub(member, draft, replace=True))
        if "form" not in draft:
            return expired_button()
        if action == "au":
            return Outcome.of(await self._audience_menu(member))
        if action == "k" and argument in ("p", "c", "o", "r", "l"):
            return Outcome.of(await self._kind_menu(member, argument))
        if action == "a":
            audience = await self._chosen_audience(member, argument)
            if audience is None:
                return expired_button()
            draft["audience"] = audience.to_json()
        elif action == "j":
            draft["joint"] = not draft.get("joint")
        elif action == "d" and argument.isdigit() and int(argument) in DEADLINES:
            draft["days"] = int(argument)
        elif action == "o" and argument in ("0", "1"):
            draft["later"] = argument == "1"
        elif action == "go":
            return await self._launch_from_chat(member, draft, now)
        elif action == "x":
            await self._save_draft(member, {})
            return Outcome.of(Reply(_("Cancelled. Nothing was sent."), replace=True))
        else:
            return expired_button()
        await self._save_draft(member, draft)
        return Outcome.of(await self._hub(member, draft, replace=True))

    async def _hub(self, member: Member, draft: Mapping[str, object], *,
                   replace: bool = False) -> Reply:
        form = await self.store.surveys.form(int(str(draft["form"])))
        assert form is not None
        audience = Audience.from_json(str(draft["audience"]))
        joint = bool(draft.get("joint"))
        people = await self.audience_people(member, audience, joint)
        days = int(str(draft.get("days", 14)))
        later = bool(draft.get("later"))
        lines = ["📋 <b>" + h(form.title) + "</b>",
                 "👥 " + h(await self.announcements.describe_audience(member, audience)) + " · "
                 + ngettext("{count} person", "{count} people", len(people)).format(
                     count=len(people)),
                 "🤝 " + (_("Joint evaluation (both sides of the partnership): yes") if joint
                          else _("Joint evaluation (both sides of the partnership): no")),
                 "🕗 " + (_("Opens: now") if not later else _("Opens: tomorrow at 08:00")),
                 "⏰ " + _("Deadline: {days} days after opening").format(days=days)]
        deadline_row = tuple(Button(("✓ " if d == days else "") + _("{days} days").format(days=d),
                                    f"{LAUNCH}:d:{d}") for d in DEADLINES)
        opening_row = (Button(("✓ " if not later else "") + _("Open now"), f"{LAUNCH}:o:0"),
                       Button(("✓ " if later else "") + _("Tomorrow 08:00"), f"{LAUNCH}:o:1"))
        rows = ((Button("👥 " + _("Audience"), f"{LAUNCH}:au"),
                 Button("🤝 " + _("Joint: change"), f"{LAUNCH}:j")),
                opening_row,
                deadline_row,
                (Button("🚀 " + _("Send"), f"{LAUNCH}:go"),
                 Button("✖ " + _("Cancel"), f"{LAUNCH}:x")))
        return Reply("\n".join(lines), buttons=rows, replace=replace)

    async def _audience_menu(self, member: Member) -> Reply:
        everyone = len(await self.announcements.recipients(member, Audience()))
        label = _("Everyone in your projects") if member.role != "admin" else _("Everyone")
        rows = ((Button(f"👥 {label} ({everyone})", f"{LAUNCH}:a:all"),),
                (Button(_("By project"), f"{LAUNCH}:k:p"),
                 Button(_("By country"), f"{LAUNCH}:k:c")),
                (Button(_("By organisation"), f"{LAUNCH}:k:o"),
                 Button(_("By role"), f"{LAUNCH}:k:r")),
                (Button(_("By language"), f"{LAUNCH}:k:l"),))
        return Reply(_("Who should answer?"), buttons=rows, replace=True)

    async def _kind_menu(self, member: Member, short: str) -> Reply:
        kind = {"p": "project", "c": "country", "o": "organisation", "r": "role",
                "l": "language"}[short]
        rows = [(Button(f"{label} ({count})", f"{LAUNCH}:a:{short}#{index}"),)
                for index, (_v, label, count)
                in enumerate(await self.announcements.options(member, kind))]
        rows.append((Button("◀ " + _("Back"), f"{LAUNCH}:au"),))
        return Reply(_("Who should answer?"), buttons=tuple(rows), replace=True)

    async def _chosen_audience(self, member: Member, argument: str) -> Audience | None:
        if argument == "all":
            return Audience()
        short, _sep, index = argument.partition("#")
        kind = {"p": "project", "c": "country", "o": "organisation", "r": "role",
                "l": "language"}.get(short)
        if kind is None or not index.isdigit():
            return None
        options = await self.announcements.options(member, kind)
        if int(index) >= len(options):
            return None
        return Audience({kind: (options[int(index)][0],)})

    async def _launch_from_chat(self, member: Member, draft: Mapping[str, object],
                                now: datetime) -> Outcome:
        form = await self.store.surveys.form(int(str(draft["form"])))
        if form is None:
            return expired_button()
        opens_at = now
        if draft.get("later"):
            # Tomorrow at 08:00 where the coordinator is: invitations arrive at a working hour.
            local = now.astimezone(ZoneInfo(member.timezone)) + timedelta(days=1)
            opens_at = local.replace(hour=8, minute=0, second=0, microsecond=0)
        closes_at = opens_at + timedelta(days=int(str(draft.get("days", 14))))
        _campaign, count = await self.launch(
            author=member, form=form, audience=Audience.from_json(str(draft["audience"])),
            joint=bool(draft.get("joint")), opens_at=opens_at, closes_at=closes_at, now=now)
        if not count:
            return Outcome.of(Reply(_("Nobody matches this audience. Choose another one.")))
        await self._save_draft(member, {})
        return Outcome.of(Reply("✅ " + ngettext(
            "Questionnaire sent to {count} person. Deadline: {date}. /results shows the answers.",
            "Questionnaire sent to {count} people. Deadline: {date}. /results shows the answers.",
            count).format(count=count, date=format_datetime(closes_at, member.timezone,
                                                            "d MMMM y, HH:mm")),
            replace=True))


def fit(lines: list[str], limit: int = 3900) -> str:
    """Whole lines up to `limit` characters (Telegram takes 4,096), never half an HTML tag."""
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


def parse_when(text: str, timezone: str) -> datetime:
    """A date or date-time on the command line (ISO), read in the network's time zone."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment
