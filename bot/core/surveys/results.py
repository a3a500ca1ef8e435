"""Results: what coordinators and observers read (/results), only for the members in the
reader's scope, and the answers wide as a spreadsheet.

On a phone, one short message per thing: an overview (response rate per side, a button per
question), a chart of the closed questions, and on a press, one question's answers: the
distribution of a choice (count and share per side), the mean of a number, the latest
free-text answers to read (quoted) or the places given, with the rest in the spreadsheet.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.core.callbacks import SurveyExport, SurveyResults
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Document, Outcome, Reply, h
from bot.core.surveys.answers import SELECTS, options, place, show
from bot.core.surveys.base import Loaded, SurveyBase, fit, side_name
from bot.core.surveys.engine import split_key
from bot.core.surveys.forms import Question, pick
from bot.i18n import _, format_moment, format_number, format_share, ngettext
from storage.models import Member, Side, SurveyResponse

READERS: frozenset[str] = frozenset({"coordinator", "observer", "admin"})
PAGE = 8  # questions per page of buttons
LATEST = 8  # free-text answers (or places) shown for a question; the rest in the spreadsheet
QUOTE = 200  # characters of one answer shown
NOT_READ = frozenset({"note", "acknowledge", "repeat"})
MEDIA = frozenset({"image", "audio", "video"})


@dataclass
class _Given:
    """One answer to a question: its text (None: a file), the side, when it was sent."""

    value: str | None
    file_id: str | None
    side: Side
    submitted_at: datetime


@dataclass
class _Reading:
    """A campaign as one reader may read it."""

    loaded: Loaded
    invited: list[tuple[int, Side]]
    responses: list[SurveyResponse]  # submitted, in scope
    started: list[SurveyResponse]  # under way, in scope
    answers: dict[int, dict[str, tuple[str | None, str | None]]]  # merged iterations
    sides: list[Side]  # both, for a joint evaluation; else none

    def groups(self) -> list[tuple[str, Side | None, list[SurveyResponse], int]]:
        """(name, side, submitted responses, people invited) per side, or one for everyone."""
        if not self.sides:
            return [(_("Everyone"), None, self.responses, len(self.invited))]
        return [(side_name(side), side, [r for r in self.responses if r.side == side],
                 sum(1 for _m, s in self.invited if s == side)) for side in self.sides]


def read_questions(reading: _Reading) -> list[Question]:
    """The questions whose answers can be read, in the form's order."""
    return [q for q in reading.loaded.definition.asked()
            if q.type not in NOT_READ and not q.read_only]


class Results(SurveyBase):

    async def scope_members(self, reader: Member) -> set[int] | None:
        """Members whose answers the reader may see (None: everyone, for an admin)."""
        if reader.role == "admin":
            return None
        projects = await self.store.consultation.visible_project_ids(reader)
        if not projects:
            return set()
        # The projects' members, and the reader's own organisation (its observers follow the
        # projects through it, without being members of them).
        return await self.store.members.in_scope(projects, reader.organisation_id)

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
                                SurveyResults(campaign.id)),))
        if not rows:
            return Outcome.of(Reply(_("No questionnaire has been sent in your projects yet.")))
        return Outcome.of(Reply(_("Which questionnaire?"), buttons=tuple(rows)))

    async def _reading(self, reader: Member, campaign_id: int) -> _Reading | None:
        """The campaign as `reader` may read it; None when it is not theirs to read."""
        if reader.role not in READERS:
            return None
        loaded = await self.load(campaign_id)
        if loaded is None:
            return None
        scope = await self.scope_members(reader)
        invited = [(m, s) for m, s in await self.store.surveys.invitations(campaign_id)
                   if scope is None or m in scope]
        if not invited:
            return None  # not in the reader's scope: a forged press
        members = {m for m, _s in invited}
        every = [r for r in await self.store.surveys.campaign_responses(campaign_id)
                 if r.member_id in members]
        submitted = [r for r in every if r.status == "submitted"]
        rows = await self.store.surveys.submitted_answers(campaign_id)
        answers: dict[int, dict[str, tuple[str | None, str | None]]] = {}
        wanted = {r.id for r in submitted}
        for row in rows:
            if row["response_id"] not in wanted:
                continue
            given = answers.setdefault(row["response_id"], {})
            name, iteration = split_key(row["question"])
            if not iteration:
                given[name] = (row["value"], row["file_id"])
            elif row["value"] or row["file_id"]:
                # A question inside a repeat counts every iteration's answer.
                value, file_id = given.get(name, (None, None))
                joined = " ".join(v for v in (value, row["value"]) if v) or None
                given[name] = (joined, file_id or row["file_id"])
        return _Reading(loaded, invited, submitted, [r for r in every if r.status == "open"],
                        answers, ["collectivity", "partner"] if loaded.campaign.joint else [])

    async def on_results_callback(self, reader: Member, data: str, now: datetime) -> Outcome:
        """sr:<campaign> (overview and chart), sr:<campaign>:p<page> (another page of
        questions), sr:<campaign>:q<index> (one question's answers)."""
        ref = SurveyResults.parse(data)
        if ref is None:
            return expired_button()
        campaign_id = ref.campaign_id
        if not ref.part:
            return await self.results(reader, campaign_id, now)
        kind, number = ref.part[:1], ref.part[1:]
        if kind not in ("p", "q") or not number.isdigit() or len(number) > 4:
            return expired_button()
        reading = await self._reading(reader, campaign_id)
        if reading is None:
            return expired_button()
        if kind == "p":
            if int(number) * PAGE >= max(1, len(read_questions(reading))):
                return expired_button()
            overview = self._overview(reading, reader, int(number))
            return Outcome.of(Reply(overview.text, buttons=overview.buttons, replace=True))
        return self._question(reading, reader, int(number))

    async def results(self, reader: Member, campaign_id: int, now: datetime) -> Outcome:
        """The overview (response rate per side, a button per question), then a chart of the
        closed questions."""
        reading = await self._reading(reader, campaign_id)
        if reading is None:
            return expired_button()
        replies = [self._overview(reading, reader, 0)]
        panels = self._panels(reading, reader.language)
        if panels and reading.responses:
            title = self.title(reading.loaded, reader.language)
            # Drawing takes a fraction of a second: off the event loop, like /summary's charts.
            image = await asyncio.to_thread(self.documents.distribution_chart, panels,
                                            [g[0] for g in reading.groups()], reader.language,
                                            title)
            replies.append(Reply(h(title), photo=Document("results.png", image, "image/png")))
        return Outcome(replies=tuple(replies))

    def _overview(self, reading: _Reading, reader: Member, page: int) -> Reply:
        campaign = reading.loaded.campaign
        title = self.title(reading.loaded, reader.language)
        lines = ["📊 <b>" + h(title if len(title) <= 60 else title[:59] + "…") + "</b>",
                 "⏰ " + _("Deadline: {date}").format(date=format_moment(
                     campaign.closes_at, reader.timezone))
                 + (" · " + _("joint evaluation") if campaign.joint else "")]
        for name, side, group, count in reading.groups():
            line = "• " + _("{side}: {answered}/{invited} answered ({share})").format(
                side=name, answered=len(group), invited=count,
                share=format_share(len(group) / count if count else 0))
            under_way = sum(1 for r in reading.started if side is None or r.side == side)
            if under_way:
                line += " · " + ngettext("{count} under way", "{count} under way",
                                         under_way).format(count=under_way)
            lines.append(line)
        questions = read_questions(reading)
        rows: list[tuple[Button, ...]] = []
        if questions and reading.responses:
            lines += ["", _("Press a question to read its answers.")]
            first = page * PAGE
            for index, question in enumerate(questions[first:first + PAGE], start=first):
                label = self._label(reading, question, reader.language)
                rows.append((Button(f"{index + 1}. {label[:40]}",
                                    SurveyResults(campaign.id, f"q{index}")),))
            paging = []
            if page > 0:
                paging.append(Button("◀ " + _("Previous questions"),
                                     SurveyResults(campaign.id, f"p{page - 1}")))
            if first + PAGE < len(questions):
                paging.append(Button(_("More questions") + " ▶",
                                     SurveyResults(campaign.id, f"p{page + 1}")))
            if paging:
                rows.append(tuple(paging))
        rows.append((Button("📥 " + _("All answers (XLSX)"), SurveyExport(campaign.id)),))
        return Reply(fit(lines, 3600), buttons=tuple(rows))

    @staticmethod
    def _label(reading: _Reading, question: Question, language: str) -> str:
        definition = reading.loaded.definition
        from bot.core.surveys.markup import plain

        return plain(pick(question.label, language, definition.default_language), {}) \
            or question.name

    def _given(self, reading: _Reading, question: Question) -> list[_Given]:
        """The answers to a question, the latest first."""
        found = []
        for response in reading.responses:
            value, file_id = reading.answers.get(response.id, {}).get(question.name,
                                                                        (None, None))
            if value or file_id:
                found.append(_Given(value, file_id, response.side,
                                    response.submitted_at or response.updated_at))
        return sorted(found, key=lambda g: g.submitted_at, reverse=True)

    def _question(self, reading: _Reading, reader: Member, index: int) -> Outcome:
        questions = read_questions(reading)
        if index >= len(questions):
            return expired_button()
        question = questions[index]
        language = reader.language
        label = self._label(reading, question, language)
        lines = [f"<b>{index + 1}/{len(questions)} · {h(label[:200])}</b>"]
        given = self._given(reading, question)
        groups = reading.groups()
        joint = bool(reading.sides)
        if not given:
            lines.append(_("No answer yet."))
        elif question.type in SELECTS:
            if joint:
                lines.append(_("Counts: {first} · {second}").format(
                    first=groups[0][0], second=groups[1][0]))
            for name, counts, answered in self._distribution(reading, question, language):
                shown = " · ".join(
                    f"{n} ({format_share(n / total)})" if n and total else f"{n}"
                    for n, total in zip(counts, answered, strict=True))
                lines.append("  " + _("{name}: {value}").format(name=h(name[:40]), value=shown))
        elif question.type in ("integer", "decimal"):
            for name, side, _group, _count in groups:
                numbers = [Decimal(v) for g in given if side is None or g.side == side
                           for v in (g.value or "").split()]
                prefix = _("{name}: {value}").format(name=name, value="") if joint else ""
                if not numbers:
                    lines.append("  " + prefix + "—")
                    continue
                mean = sum(numbers, Decimal(0)) / len(numbers)
                lines.append("  " + prefix + ngettext(
                    "{count} answer", "{count} answers", len(numbers)).format(
                    count=len(numbers)) + ", " + _("mean {mean}, from {low} to {high}").format(
                    mean=format_number(round(mean, 2)), low=format_number(min(numbers)),
                    high=format_number(max(numbers))))
        elif question.type in MEDIA:
            for name, side, _group, _count in groups:
                count = sum(1 for g in given if side is None or g.side == side)
                lines.append("  " + (_("{name}: {value}").format(name=name, value="")
                                     if joint else "") + ngettext(
                    "{count} answer", "{count} answers", count).format(count=count))
        else:
            lines += self._latest(reading, question, given, language)
        buttons = []
        if index > 0:
            buttons.append(Button("◀ " + _("Previous question"),
                                  SurveyResults(reading.loaded.campaign.id, f"q{index - 1}")))
        if index + 1 < len(questions):
            buttons.append(Button(_("Next question") + " ▶",
                                  SurveyResults(reading.loaded.campaign.id, f"q{index + 1}")))
        return Outcome.of(Reply(fit(lines, 3800), buttons=(tuple(buttons),) if buttons else ()))

    def _latest(self, reading: _Reading, question: Question, given: list[_Given],
                language: str) -> list[str]:
        """The latest answers to read, each on its line: typed texts quoted as written, a
        voice note named, a place with a link to a map, a date as the reader writes it."""
        lines = []
        joint = bool(reading.sides)
        for answer in given[:LATEST]:
            side = f" ({side_name(answer.side)})" if joint else ""
            if answer.value is None:
                lines.append("• 🎤 " + _("voice note") + side)
            elif question.type == "geopoint":
                lines.append("• " + place(answer.value, link=True) + side)
            elif question.type == "text":
                text = answer.value if len(answer.value) <= QUOTE else \
                    answer.value[:QUOTE - 1] + "…"
                lines.append(f"• «{h(text)}»{side}")
            else:
                lines.append("• " + h(show(question, (answer.value, None), language)) + side)
        if len(given) > LATEST:
            more = len(given) - LATEST
            lines.append(ngettext("… and {count} more in the spreadsheet (📥).",
                                  "… and {count} more in the spreadsheet (📥).",
                                  more).format(count=more))
        return lines

    def _distribution(self, reading: _Reading, question: Question, language: str
                      ) -> list[tuple[str, list[int], list[int]]]:
        """(choice label, count per side, people of that side who answered) per choice."""
        offered = options(question, None, 0, language)
        per_side = []
        for _name, _side, group, _count in reading.groups():
            counter: Counter[str] = Counter()
            answered = 0
            for response in group:
                value = reading.answers.get(response.id, {}).get(question.name, (None, None))[0]
                if value:
                    answered += 1
                    counter.update(value.split())
            per_side.append((counter, answered))
        return [(text, [c[name] for c, _n in per_side], [n for _c, n in per_side])
                for name, text in offered]

    def _panels(self, reading: _Reading, language: str
                ) -> list[tuple[str, list[str], list[tuple[str, list[int], int]]]]:
        """One chart panel per closed question: its choices, and per side the counts and the
        number of people who answered it (the base of each share)."""
        panels = []
        names = [g[0] for g in reading.groups()]
        for question in read_questions(reading):
            if question.type not in ("select_one", "select_multiple", "range"):
                continue
            rows = self._distribution(reading, question, language)
            series = [(names[i], [counts[i] for _t, counts, _a in rows],
                       rows[0][2][i] if rows else 0) for i in range(len(names))]
            panels.append((self._label(reading, question, language), [t for t, _c, _a in rows],
                           series))
        return panels

    async def export(self, reader: Member, campaign_id: int) -> Outcome:
        """The answers wide (one row per response) of the members in the reader's scope, as
        the reader reads them: labels, their language, dates in their zone."""
        if reader.role not in READERS:
            return expired_button()
        loaded = await self.load(campaign_id)
        if loaded is None:
            return expired_button()
        scope = await self.scope_members(reader)
        invited = {m for m, _s in await self.store.surveys.invitations(campaign_id)}
        if scope is not None and not invited & scope:
            return expired_button()  # not in the reader's scope: a forged press
        content, count = await self.documents.survey_answers(
            loaded, reader, scope, self.title(loaded, reader.language))
        name = f"{loaded.definition.form_id}-{campaign_id}.xlsx"
        return Outcome.of(Reply(
            ngettext("{count} response", "{count} responses", count).format(count=count),
            document=Document(name, content, "application/vnd.openxmlformats-officedocument"
                                             ".spreadsheetml.sheet")))
