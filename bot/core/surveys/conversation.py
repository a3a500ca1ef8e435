"""The conversation: a member answers a questionnaire one question per message.

Every answer is written the moment it arrives, and the response remembers its step (question
and repeat iteration), so a member resumes exactly where they stopped, after a restart too.
Each button names the response and the step it answers: a press for another step changes
nothing and shows the current question again. Each step's writes are one transaction. What to
ask and what an answer means is decided by the pure `engine`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from bot.core.callbacks import SurveyAnswer, SurveyStart
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Document, Outcome, Reply, h
from bot.core.surveys import engine
from bot.core.surveys.answers import (
    GEO_LINES,
    SELECTS,
    add_point,
    choice_name,
    complete,
    computed_values,
    corners,
    finished,
    instruction,
    least_points,
    name_index,
    options,
    outside,
    parse,
    points,
    show,
    typed_range,
)
from bot.core.surveys.base import Loaded, SurveyBase, fit, reference
from bot.core.surveys.engine import State, Step, key
from bot.core.surveys.forms import Question, pick
from bot.core.surveys.markup import plain, render
from bot.i18n import _, format_clock, format_day, format_moment, ngettext
from storage.models import Member, ResponseStep, SurveyResponse

PAGE = 8  # choices per page of buttons
IDLE = timedelta(hours=12)  # a response left this long no longer takes typed texts
LONG_CHOICE = 40  # characters: a longer choice is listed in full in the message
MAX_POINTS = 200  # points of one line or area shared in the chat
REVIEW_SIZE = 280  # characters a review page shows at most, the person's own words aside
LABEL = 40  # characters of a question's label in the review
_QUOTED = re.compile(r"«[^»]*»")
_TAG = re.compile(r"<[^>]+>")


def _visible(line: str) -> int:
    """What a line costs a reader: its characters, a quoted answer of theirs aside."""
    return len(_TAG.sub("", _QUOTED.sub("«»", line))) + 1


def review_pages(lines: list[str], fixed: int, size: int = REVIEW_SIZE) -> list[list[int]]:
    """The review's lines in pages that each fit `size` characters with the `fixed` part
    (the heading and the instruction), at least one line a page."""
    pages: list[list[int]] = [[]]
    used = fixed
    for index, line in enumerate(lines):
        cost = _visible(line)
        if pages[-1] and used + cost > size:
            pages.append([])
            used = fixed
        pages[-1].append(index)
        used += cost
    return pages


class Conversation(SurveyBase):
    """Starting, asking, answering, going back, reviewing and submitting."""

    # --- where a response stands -----------------------------------------------------------

    @staticmethod
    def _step(response: SurveyResponse) -> Step:
        return response.position, response.iteration

    def _token(self, response: SurveyResponse) -> str:
        if response.step == ResponseStep.REVIEW:
            return "r"
        return f"{response.position}.{response.iteration}"

    def _cb(self, action: str, response: SurveyResponse, argument: str = "") -> SurveyAnswer:
        return SurveyAnswer(action, response.id, self._token(response), argument)

    async def _state(self, response: SurveyResponse, member: Member, now: datetime
                     ) -> tuple[Loaded, State]:
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        answers = await self.store.surveys.answers(response.id)
        meta = engine.Meta(start=response.started_at.isoformat(timespec="seconds"),
                           now=now.isoformat(timespec="seconds"),
                           deviceid=f"palabre:{member.id}",
                           username=member.display_name or "")
        state = engine.evaluate(loaded.definition, answers, self._today(member, now), now, meta,
                                member.language)
        return loaded, state

    def _text(self, texts: dict[str, str], state: State, iteration: int, repeat: str | None,
              language: str) -> str:
        source = pick(texts, language, state.definition.default_language)
        return render(source, state.scope(iteration, repeat)) if source else ""

    async def _present(self, response: SurveyResponse, member: Member,
                       now: datetime) -> list[Reply]:
        """The current question, after its media label (image, voice prompt, video) in the
        member's language when the form has one: for people who read with difficulty."""
        question_reply = await self.prompt(response, member, now)
        if response.step != ResponseStep.QUESTION:
            return [question_reply]
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        question = loaded.definition.questions[response.position]
        replies = []
        for kind, sent_as in (("image", "photo"), ("audio", "voice"), ("video", "video")):
            name = pick(question.media.get(kind, {}), member.language,
                        loaded.definition.default_language)
            found = await self.store.surveys.media(loaded.form.id, name) if name else None
            if found is not None:
                replies.append(Reply("", upload=(sent_as, Document(name, found[1], found[0]))))
        return [*replies, question_reply]

    async def prompt(self, response: SurveyResponse, member: Member, now: datetime,
                     problem: str | None = None) -> Reply:
        """The question the response stands at (or the review)."""
        loaded, state = await self._state(response, member, now)
        if response.step.endswith("review"):
            return self._review(loaded, response, state, member)
        return self._ask(loaded, response, state, member, now, problem)

    def _ask(self, loaded: Loaded, response: SurveyResponse, state: State, member: Member,
             now: datetime, problem: str | None) -> Reply:
        definition = loaded.definition
        step = self._step(response)
        position, iteration = step
        question = definition.questions[position]
        language = member.language
        lines = []
        if problem:
            lines += [problem, ""]
        shown = state.path.index(step) + 1 if step in state.path else 1
        header = f"{shown}/{shown + engine.remaining(state, step)}"
        section = pick(question.section, language, definition.default_language)
        before = state.path[shown - 2] if shown > 1 and step in state.path else None
        if section:
            title = h(plain(section, {})) + (f" {engine.shown(iteration)}" if iteration else "")
            new = before is None or definition.questions[before[0]].section != question.section \
                or before[1] != iteration
            header += f" · <b>{title}</b>" if new else f" · {title}"
        lines.append(header)
        hint = self._text(question.hint, state, iteration, question.repeat, language)
        if hint:
            lines.append(f"<i>{hint}</i>")
        rows: list[tuple[Button, ...]] = []
        saved = state.answers.get(key(question, iteration))
        kind = question.type
        label = self._text(question.label, state, iteration, question.repeat, language) \
            or h(question.name)
        if kind == "repeat":
            label = _("Add another «{name}»?").format(name=h(plain(pick(
                question.label, language, definition.default_language), {})))
            rows.append((Button(_("Yes"), self._cb("c", response, "0")),
                         Button(_("No"), self._cb("c", response, "1"))))
        elif question.read_only:
            value = state.value(question, iteration)
            label += "\n" + (f"<b>{h(show(question, (value, None), language))}"
                             "</b>" if value else "—")
            rows.append((Button(_("Continue") + " ▶", self._cb("n", response)),))
        elif kind in SELECTS and not typed_range(question):
            rows += self._choice_rows(question, response, state, iteration, language, saved,
                                      lines)
        elif kind in GEO_LINES:
            lines.append(instruction(question, self._today(member, now)))
            rows += self._point_rows(question, response, saved, lines)
        elif kind == "acknowledge":
            rows.append((Button("✓ " + _("OK"), self._cb("c", response, "0")),))
        elif kind == "note":
            rows.append((Button(_("Continue") + " ▶", self._cb("n", response)),))
        else:
            lines.append(instruction(question, self._today(member, now)))
        lines.append("")
        lines.append(f"<b>{label}</b>")
        navigation = []
        proposed = engine.default(state, question, iteration)
        if kind not in ("note", "select_multiple", "rank", "repeat", *GEO_LINES) \
                and not question.read_only:
            if saved is not None and saved != (None, None):
                navigation.append(Button(_("Keep: {value}").format(
                    value=show(question, saved, language)[:30]),
                    self._cb("k", response)))
            elif saved is None and proposed is not None:
                navigation.append(Button(_("Keep: {value}").format(
                    value=show(question, (proposed, None), language)[:30]),
                    self._cb("k", response)))
        if not engine.is_required(state, question, iteration) and not question.read_only \
                and kind not in ("note", "acknowledge", "repeat"):
            navigation.append(Button(_("Skip"), self._cb("s", response)))
        if state.path and state.path[0] != step:
            navigation.append(Button("◀ " + _("Back"), self._cb("b", response)))
        else:
            # The first question has nothing to go back to: a way out that keeps everything.
            navigation.append(Button("✖ " + _("Stop for now"), self._cb("q", response)))
        if navigation:
            rows.append(tuple(navigation))
        return Reply("\n".join(lines).rstrip(), buttons=tuple(rows))

    def _point_rows(self, question: Question, response: SurveyResponse,
                    saved: tuple[str | None, str | None] | None,
                    lines: list[str]) -> list[tuple[Button, ...]]:
        """A line or an area: the points shared so far, Done once there are enough (ODK: 2
        for a line, 3 corners for an area) and Start again."""
        value = (saved[0] if saved else None) or ""
        count = len(corners(question, value))
        if count:
            lines.append(ngettext("{count} point so far.", "{count} points so far.",
                                  count).format(count=count))
        buttons = []
        if finished(question, value) is not None:
            buttons.append(Button("✅ " + _("Done"), self._cb("d", response)))
        if count:
            buttons.append(Button("↺ " + _("Start again"), self._cb("x", response)))
        return [tuple(buttons)] if buttons else []

    def _choice_rows(self, question: Question, response: SurveyResponse, state: State,
                     iteration: int, language: str, saved: tuple[str | None, str | None] | None,
                     lines: list[str]) -> list[tuple[Button, ...]]:
        rows: list[tuple[Button, ...]] = []
        found = options(question, state, iteration, language)
        chosen = (saved[0] or "").split() if saved else []
        if question.type == "rank":
            if chosen:
                lines.append(_("Your order so far:") + " " + h(", ".join(
                    dict(found).get(c, c) for c in chosen)))
            found = [(n, t) for n, t in found if n not in chosen]
        first = response.page * PAGE
        page = list(enumerate(found))[first:first + PAGE]
        long = any(len(text) > LONG_CHOICE for _i, (_n, text) in page)
        for index, (name, text) in page:
            mark = "✅ " if name in chosen and question.type != "rank" else ""
            if long:
                # The full text in the message; the button shows its number and a start.
                lines.append(f"{index + 1}. {h(text)}")
                short = text if len(text) <= LONG_CHOICE else text[:LONG_CHOICE - 1] + "…"
                rows.append((Button(f"{mark}{index + 1}. {short}",
                                    self._cb("c", response, name_index(question, name))),))
            else:
                rows.append((Button(mark + text, self._cb("c", response,
                                                          name_index(question, name))),))
        paging = []
        if response.page > 0:
            paging.append(Button("◀ " + _("Previous choices"),
                                 self._cb("p", response, str(response.page - 1))))
        if first + PAGE < len(found):
            paging.append(Button(_("More choices") + " ▶",
                                 self._cb("p", response, str(response.page + 1))))
        if paging:
            rows.append(tuple(paging))
        if question.type == "select_multiple":
            lines.append(_("Choose all that apply, then press Done."))
            rows.append((Button("✅ " + _("Done"), self._cb("d", response)),))
        if question.type == "rank":
            lines.append(_("Press the choices in order, the first one first."))
            extra = [Button("↺ " + _("Start again"), self._cb("x", response))] if chosen else []
            if not found:
                extra.append(Button("✅ " + _("Done"), self._cb("d", response)))
            if extra:
                rows.append(tuple(extra))
        return rows

    def _review(self, loaded: Loaded, response: SurveyResponse, state: State,
                member: Member) -> Reply:
        """The answers before sending, in pages that fit a phone's screen, each with its ✏️."""
        entries = self._saved_lines(response, state, member.language, edit=True)
        title = self.title(loaded, member.language)
        heading = "<b>" + _("Check your answers") + "</b> · " + h(
            title if len(title) <= LABEL else title[:LABEL - 1] + "…")
        instruction = _("Press a number to change that answer, or send your answers.")
        pages = review_pages([line for line, _b in entries],
                             _visible(heading) + _visible(instruction) + 12)
        page = min(response.page, len(pages) - 1)
        shown = [entries[i] for i in pages[page]]
        if len(pages) > 1:
            heading += f" ({page + 1}/{len(pages)})"
        lines = [heading, *(line for line, _b in shown), "", instruction]
        buttons = [b for _line, b in shown if b is not None]
        rows = [tuple(buttons[i:i + 5]) for i in range(0, len(buttons), 5)]
        paging = []
        if page > 0:
            paging.append(Button("◀ " + _("Previous answers"), self._cb("p", response,
                                                                       str(page - 1))))
        if page + 1 < len(pages):
            paging.append(Button(_("More answers") + " ▶", self._cb("p", response,
                                                                   str(page + 1))))
        if paging:
            rows.append(tuple(paging))
        rows.append((Button("✅ " + _("Send my answers"), self._cb("ok", response)),
                     Button("◀ " + _("Back"), self._cb("b", response))))
        return Reply(fit(lines, 3600), buttons=tuple(rows))

    def _saved_lines(self, response: SurveyResponse, state: State, language: str, *,
                     edit: bool, until: Step | None = None) -> list[tuple[str, Button | None]]:
        """One line per answered step of the path (`until`: those before it), with its ✏️
        button when `edit`; what the person typed is quoted («…»)."""
        definition = state.definition
        lines: list[tuple[str, Button | None]] = []
        number = 0
        for step in state.path:
            if until is not None and step == until:
                break
            position, iteration = step
            question = definition.questions[position]
            number += 1
            if question.type == "note" or (question.read_only and until is not None):
                continue
            if question.type == "repeat":
                label = _("Add another «{name}»?").format(name=h(plain(pick(
                    question.label, language, definition.default_language), {})))
            else:
                label = self._text(question.label, state, iteration, question.repeat, language) \
                    or h(question.name)
            label = plain(label, {})
            answer = state.answers.get(key(question, iteration), (None, None))
            if question.read_only:
                answer = (state.value(question, iteration) or None, None)
            shown = h(show(question, answer, language))
            if question.type == "text" and answer[0]:
                shown = f"«{shown}»"
            suffix = f" ({engine.shown(iteration)})" if iteration else ""
            short = label if len(label) <= LABEL else label[:LABEL - 1] + "…"
            button = Button(f"✏️ {number}", self._cb("e", response, f"{position}.{iteration}")) \
                if edit and not question.read_only else None
            lines.append((f"{number}. " + _("{name}: {value}").format(
                name=h(short) + suffix, value=f"<b>{shown}</b>"), button))
        return lines

    async def where_you_are(self, member: Member, now: datetime) -> Outcome | None:
        """What is saved so far, then the current question again (after a lost reply);
        None when no questionnaire is under way."""
        response = await self.store.surveys.open_response(member.id)
        if response is None or response.step not in (ResponseStep.QUESTION, ResponseStep.REVIEW):
            return None
        loaded, state = await self._state(response, member, now)
        if response.step == ResponseStep.REVIEW:
            return Outcome.of(self._review(loaded, response, state, member))
        lines = [line for line, _b in self._saved_lines(
            response, state, member.language, edit=False, until=self._step(response))]
        summary = ["📋 <b>" + h(self.title(loaded, member.language)) + "</b> · "
                   + _("saved so far:")] + (lines or ["—"])
        return Outcome(replies=(Reply(fit(summary, 3600)),
                                self._ask(loaded, response, state, member, now, None)))

    # --- starting, moving, answering ---------------------------------------------------------

    def _closed(self, loaded: Loaded, member: Member, now: datetime) -> Reply | None:
        campaign = loaded.campaign
        if now < campaign.opens_at:
            return Reply(_("This questionnaire opens on {date}.").format(
                date=format_moment(campaign.opens_at, member.timezone)))
        if now >= campaign.closes_at:
            return Reply(_("This questionnaire closed on {date}. Your answers so far are kept; "
                           "thank you for your time.").format(
                date=format_moment(campaign.closes_at, member.timezone)))
        return None

    def _already(self, response: SurveyResponse, member: Member) -> Reply:
        when = response.submitted_at or response.updated_at
        return Reply(_("Your answers were already received on {date} (reference {reference})."
                       " Thank you!").format(
            date=format_moment(when, member.timezone),
            reference=reference(response)))

    async def start(self, member: Member, campaign_id: int, now: datetime) -> Outcome:
        """Start the questionnaire, or resume it exactly where the member stopped."""
        loaded = await self.load(campaign_id)
        side = await self.store.surveys.invitation_side(campaign_id, member.id)
        if loaded is None or side is None:
            return expired_button()  # not invited: a forged or foreign button
        response = await self.store.surveys.response_of(campaign_id, member.id)
        if response is not None and response.status == "submitted":
            return Outcome.of(self._already(response, member))
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return Outcome.of(closed)
        resumed = response is not None
        if response is None:
            state = engine.evaluate(loaded.definition, {}, self._today(member, now), now)
            first = state.path[0] if state.path else (0, 0)
            async with self.store.transaction():
                response_id = await self.store.surveys.start_response(
                    campaign_id, member.id, side, first[0], now)
                if first[1] or not state.path:
                    # Inside a repeat; or nothing to ask with no answer yet: the review.
                    await self.store.surveys.update_response(
                        response_id, now, iteration=first[1],
                        step=(ResponseStep.QUESTION if state.path else ResponseStep.REVIEW))
            intro = "📋 <b>" + h(self.title(loaded, member.language)) + "</b>\n" + _(
                "One question at a time. Your answers are saved as you go: you can stop and "
                "come back with /surveys.")
        else:
            response_id = response.id
            # Paused (/cancel) or refused after a deadline since extended: back where it was.
            step = (response.resume_step if response.step == ResponseStep.PAUSED
                    else response.step)
            async with self.store.transaction():
                await self.store.surveys.update_response(
                    response.id, now, step=step if step in (ResponseStep.QUESTION,
                                                            ResponseStep.REVIEW)
                    else ResponseStep.QUESTION)
            intro = "▶ " + _("Let's continue where you stopped.")
        fresh = await self.store.surveys.response(response_id)
        assert fresh is not None
        # New messages under the intro: the press may come from an invitation far up the
        # chat, and a question edited into it would be out of sight.
        questions = [dataclasses.replace(reply, replace=False)
                     for reply in await self._present(fresh, member, now)]
        # Resumed: the question shown is the one the member stopped at, so an answer typed
        # before it arrives still belongs to it.
        return Outcome(replies=(Reply(intro), *questions), stays=resumed)

    async def _active(self, member: Member, now: datetime) -> SurveyResponse | None:
        """The response a typed text or a file answers: the one under way, unless it was left
        long ago (then a text is what it looks like, e.g. a field update; /surveys resumes).
        One whose campaign closed meanwhile is returned, to be refused once, politely."""
        response = await self.store.surveys.open_response(member.id)
        if response is None or response.step not in (ResponseStep.QUESTION, ResponseStep.REVIEW):
            return None
        if now - response.updated_at > IDLE:
            campaign = await self.store.surveys.campaign(response.campaign_id)
            if campaign is None or now < campaign.closes_at:
                return None
        return response

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        """A press on a questionnaire button. It names the response and the step it answers:
        a foreign or forged one changes nothing; one for another step shows the current
        question again; a Send on a submitted response says it was already received."""
        start = SurveyStart.parse(data)
        if start is not None:
            return await self.start(member, start.campaign_id, now)
        ref = SurveyAnswer.parse(data)
        if ref is None:
            return expired_button()
        action, response_id, token, argument = (ref.action, ref.response_id, ref.token,
                                                ref.argument)
        response = await self.store.surveys.response(response_id)
        if response is None or response.member_id != member.id:
            return expired_button()
        if response.status == "submitted":
            return Outcome.of(self._already(response, member))
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return await self._refuse_closed(response, closed, now)
        if response.step not in (ResponseStep.QUESTION, ResponseStep.REVIEW):
            return expired_button()
        if token != self._token(response):
            # An earlier message's button: nothing changes; here is where the member is.
            return Outcome(replies=(Reply(_("That button belongs to an earlier question. "
                                            "Here is where you are:")),
                                    await self.prompt(response, member, now)))
        if response.step == ResponseStep.REVIEW:
            if action == "ok":
                return await self.submit(member, response, now)
            if action == "e" and re.fullmatch(r"\d+\.\d+", argument):
                position, iteration = (int(p) for p in argument.split("."))
                return await self._edit(member, response, (position, iteration), now)
            if action == "b":
                return await self._back(member, response, now)
            if action == "p" and argument.isdigit() and len(argument) < 4:
                return await self._review_page(member, response, int(argument), now)
            return expired_button()
        if action == "c":
            return await self._choose(member, response, argument, now)
        if action == "p":
            if not argument.isdigit():
                return expired_button()
            return await self._page(member, response, int(argument), now)
        simple = {"d": self._done, "n": self._note, "k": self._keep, "s": self._skip,
                  "b": self._back, "x": self._restart_rank, "q": self._pause}
        if action in simple:
            return await simple[action](member, response, now)
        return expired_button()

    async def _refuse_closed(self, response: SurveyResponse, closed: Reply,
                             now: datetime) -> Outcome:
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, step=ResponseStep.CLOSED)
        return Outcome.of(closed)

    async def _save_and_next(self, member: Member, response: SurveyResponse, value: str | None,
                             now: datetime, *, file_id: str | None = None,
                             echo: str | None = None, save: bool = True) -> Outcome:
        """Save the answer to the current step and move to the next one: one transaction."""
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        question = loaded.definition.questions[response.position]
        async with self.store.transaction():
            if save:
                await self.store.surveys.set_answer(response.id, key(question,
                                                                     response.iteration),
                                                    value, now, file_id=file_id)
            _loaded, state = await self._state(response, member, now)
            following = self._following(response, state)
            if following is None:
                await self.store.surveys.update_response(response.id, now, step=ResponseStep.REVIEW,
                                                         page=0, editing=0)
            else:
                await self.store.surveys.update_response(
                    response.id, now, position=following[0], iteration=following[1], page=0)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        replies = [] if echo is None else [Reply(echo, replace=True)]
        replies += await self._present(fresh, member, now)
        return Outcome(replies=tuple(replies))

    def _following(self, response: SurveyResponse, state: State) -> Step | None:
        definition = state.definition
        if response.editing:
            # After a change from the review, ask only what the change made newly relevant.
            return next((s for s in state.path if definition.questions[s[0]].type != "note"
                         and not definition.questions[s[0]].read_only
                         and key(definition.questions[s[0]], s[1]) not in state.answers), None)
        current = self._step(response)
        if current in state.path:
            index = state.path.index(current)
            return state.path[index + 1] if index + 1 < len(state.path) else None
        order = engine.order(definition, current)
        return next((s for s in state.path if engine.order(definition, s) > order), None)

    async def _choose(self, member: Member, response: SurveyResponse, argument: str,
                      now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        position, iteration = self._step(response)
        question = loaded.definition.questions[position]
        if question.type == "acknowledge":
            if argument != "0":
                return expired_button()
            return await self._save_and_next(member, response, "OK", now, echo="✓ " + _("OK"))
        if question.type == "repeat":
            if argument not in ("0", "1"):
                return expired_button()
            value = "yes" if argument == "0" else "no"
            return await self._save_and_next(member, response, value, now,
                                             echo="✓ " + (_("Yes") if value == "yes"
                                                          else _("No")))
        if question.type not in SELECTS or not argument.isdigit():
            return expired_button()
        found = options(question, state, iteration, member.language)
        if int(argument) >= len(question.choices) and question.type != "range":
            return expired_button()
        name = choice_name(question, int(argument)) if question.type != "range" else \
            (found[int(argument)][0] if int(argument) < len(found) else None)
        labels = dict(found)
        if name is None or name not in labels:
            return expired_button()  # filtered out, or forged
        if question.type in ("select_multiple", "rank"):
            current = state.answers.get(key(question, iteration), (None, None))[0]
            chosen = (current or "").split()
            if question.type == "rank":
                chosen = chosen if name in chosen else [*chosen, name]
            else:
                chosen = [c for c in chosen if c != name] if name in chosen else [*chosen, name]
                order = [n for n, _label in found]
                chosen.sort(key=lambda n: order.index(n) if n in order else len(order))
            async with self.store.transaction():
                await self.store.surveys.set_answer(response.id, key(question, iteration),
                                                    " ".join(chosen) or None, now)
                await self.store.surveys.update_response(response.id, now)
            fresh = await self.store.surveys.response(response.id)
            assert fresh is not None
            prompt = await self.prompt(fresh, member, now)
            return Outcome(replies=(Reply(prompt.text, buttons=prompt.buttons, replace=True),))
        if not engine.constraint_ok(state, question, iteration, name):
            return Outcome.of(await self.prompt(response, member, now,
                                                self._refusal(state, question, iteration,
                                                              member.language)))
        return await self._save_and_next(member, response, name, now,
                                         echo="✓ " + h(labels[name]))

    def _refusal(self, state: State, question: Question, iteration: int, language: str) -> str:
        message = self._text(question.constraint_message, state, iteration, question.repeat,
                             language)
        return "⚠ " + (message or _("This answer is not accepted. Please check it and send "
                                    "it again."))

    async def _done(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        position, iteration = self._step(response)
        question = loaded.definition.questions[position]
        if question.type not in ("select_multiple", "rank", *GEO_LINES):
            return expired_button()
        value = state.answers.get(key(question, iteration), (None, None))[0]
        if question.type in GEO_LINES:
            value = finished(question, value or "")
            if value is None:
                count = least_points(question)
                return Outcome(toast=ngettext("Share at least {count} point first.",
                                              "Share at least {count} points first.",
                                              count).format(count=count))
        if question.type == "rank":
            remaining = [n for n, _l in options(question, state, iteration, member.language)
                         if n not in (value or "").split()]
            if remaining:
                return Outcome(toast=_("Put every choice in order first."))
        if not value and engine.is_required(state, question, iteration):
            message = pick(question.required_message, member.language,
                           loaded.definition.default_language)
            return Outcome(toast=plain(message, {}) or _("Choose at least one answer."))
        if not engine.constraint_ok(state, question, iteration, value or ""):
            return Outcome.of(await self.prompt(response, member, now, self._refusal(
                state, question, iteration, member.language)))
        shown = show(question, (value, None), member.language)
        return await self._save_and_next(member, response, value, now, echo="✓ " + h(shown))

    async def _restart_rank(self, member: Member, response: SurveyResponse,
                            now: datetime) -> Outcome:
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        question = loaded.definition.questions[response.position]
        if question.type not in ("rank", *GEO_LINES):
            return expired_button()
        async with self.store.transaction():
            await self.store.surveys.set_answer(response.id, key(question, response.iteration),
                                                None, now)
            await self.store.surveys.update_response(response.id, now, page=0)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        prompt = await self.prompt(fresh, member, now)
        return Outcome(replies=(Reply(prompt.text, buttons=prompt.buttons, replace=True),))

    async def _page(self, member: Member, response: SurveyResponse, page: int,
                    now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        question = loaded.definition.questions[response.position]
        found = options(question, state, response.iteration, member.language)
        if page * PAGE >= len(found):
            return expired_button()  # a page that does not exist: forged
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, page=page)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        prompt = await self.prompt(fresh, member, now)
        return Outcome(replies=(Reply(prompt.text, buttons=prompt.buttons, replace=True),))

    async def _review_page(self, member: Member, response: SurveyResponse, page: int,
                           now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        entries = self._saved_lines(response, state, member.language, edit=True)
        if page >= max(1, len(entries)):
            return expired_button()  # more pages than answers: forged (others are clamped)
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, page=page)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        review = self._review(loaded, fresh, state, member)
        return Outcome(replies=(Reply(review.text, buttons=review.buttons, replace=True),))

    async def _note(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded = await self.load(response.campaign_id)
        assert loaded is not None
        question = loaded.definition.questions[response.position]
        if question.type != "note" and not question.read_only:
            return expired_button()
        return await self._save_and_next(member, response, None, now, save=False)

    async def _keep(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        position, iteration = self._step(response)
        question = loaded.definition.questions[position]
        current = state.answers.get(key(question, iteration))
        if current is not None and current != (None, None):
            return await self._save_and_next(member, response, None, now,
                                             echo="✓ " + _("Kept"), save=False)
        proposed = engine.default(state, question, iteration)
        if current is None and proposed is not None:
            return await self._save_and_next(member, response, proposed, now,
                                             echo="✓ " + _("Kept"))
        return expired_button()

    async def _skip(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        position, iteration = self._step(response)
        question = loaded.definition.questions[position]
        if engine.is_required(state, question, iteration) or \
                question.type in ("note", "acknowledge", "repeat"):
            return expired_button()  # a required question has no Skip button: forged
        return await self._save_and_next(member, response, None, now, echo="✓ " + _("Skipped"))

    async def _back(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        loaded, state = await self._state(response, member, now)
        if response.step == ResponseStep.REVIEW:
            target = state.path[-1] if state.path else None
        else:
            current = self._step(response)
            order = engine.order(loaded.definition, current)
            earlier = [s for s in state.path if engine.order(loaded.definition, s) < order]
            target = earlier[-1] if earlier else None
        if target is None:
            return Outcome(toast=_("This is the first question."))
        return await self._go_to(member, response, target, now, editing=False)

    async def _edit(self, member: Member, response: SurveyResponse, step: Step,
                    now: datetime) -> Outcome:
        _loaded, state = await self._state(response, member, now)
        if step not in state.path:
            return expired_button()
        return await self._go_to(member, response, step, now, editing=True)

    async def _go_to(self, member: Member, response: SurveyResponse, step: Step,
                     now: datetime, *, editing: bool) -> Outcome:
        """Ask `step` again (back, or an edit from the review)."""
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now, position=step[0],
                                                     iteration=step[1], step=ResponseStep.QUESTION,
                                                     page=0, editing=1 if editing else 0)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        return Outcome(replies=tuple(await self._present(fresh, member, now)))

    async def _not_a_question(self, response: SurveyResponse, loaded: Loaded, member: Member,
                              now: datetime) -> Outcome | None:
        """The answer when what was sent cannot answer a question: the campaign closed, or the
        member is at the review (shown again); None when a question is waiting."""
        closed = self._closed(loaded, member, now)
        if closed is not None:
            return await self._refuse_closed(response, closed, now)
        if response.step == ResponseStep.REVIEW:
            return Outcome.of(await self.prompt(response, member, now))
        return None

    async def _current_question(self, member: Member, now: datetime) -> _Current | Outcome | None:
        """The question a typed answer or a file would answer; else the answer to give instead
        (a closed campaign, the review shown again), or None with no questionnaire under way."""
        response = await self._active(member, now)
        if response is None:
            return None
        loaded, state = await self._state(response, member, now)
        waiting = await self._not_a_question(response, loaded, member, now)
        if waiting is not None:
            return waiting
        position, iteration = self._step(response)
        return _Current(response, state, loaded.definition.questions[position], iteration)

    async def on_text(self, member: Member, text: str, now: datetime) -> Outcome | None:
        """Take a typed answer if a questionnaire is under way; None otherwise."""
        current = await self._current_question(member, now)
        if not isinstance(current, _Current):
            return current
        response, state, question, iteration = current
        body = text.strip()
        parsed, problem = parse(question, body, member.language, member.timezone, now)
        buttons = question.type == "select_one" or (question.type == "range"
                                                     and not typed_range(question))
        if buttons and parsed is None:
            # A choice typed instead of pressed (its label, or its name), in any case.
            typed = body.casefold()
            parsed = next((name for name, label in options(question, state, iteration,
                                                           member.language)
                           if typed in (label.casefold(), name.casefold())), None)
        if problem is None and parsed is not None and question.type in GEO_LINES:
            return await self._add_point(member, current, parsed, now)  # checked at Done
        if problem is None and parsed is not None and \
                not engine.constraint_ok(state, question, iteration, parsed):
            problem = self._refusal(state, question, iteration, member.language)
        if problem is not None or parsed is None:
            return Outcome.of(await self.prompt(response, member, now,
                                                problem or _("Please use the buttons.")))
        return await self._save_and_next(member, response, parsed, now)

    async def on_media(self, member: Member, kind: str, file_id: str | None,
                       latitude: float | None, longitude: float | None,
                       now: datetime) -> Outcome | None:
        """Take a location, photo, video or voice note for the question under way."""
        current = await self._current_question(member, now)
        if not isinstance(current, _Current):
            return current
        response, state, question, iteration = current
        # A voice note is accepted wherever free text is (phone users often speak).
        wanted = {"geopoint": ("location",), "image": ("photo",), "audio": ("voice", "audio"),
                  "video": ("video",), "text": ("voice", "audio"), "geotrace": ("location",),
                  "geoshape": ("location",)}
        if question.read_only or kind not in wanted.get(question.type, ()):
            return Outcome.of(await self.prompt(response, member, now, "⚠ " + (
                instruction(question, self._today(member, now)) if question.type in wanted
                and question.type != "text"
                else _("This question needs another kind of answer."))))
        if kind == "location":
            if latitude is None or longitude is None:
                return Outcome.of(await self.prompt(response, member, now))
            problem = outside(latitude, longitude)
            value = f"{latitude} {longitude} 0 0"  # ODK's "lat lon altitude accuracy"
            if problem is None and question.type in GEO_LINES:
                return await self._add_point(member, current, value, now)
            if problem is None and not engine.constraint_ok(state, question, iteration, value):
                problem = self._refusal(state, question, iteration, member.language)
            if problem is not None:
                return Outcome.of(await self.prompt(response, member, now, problem))
            return await self._save_and_next(member, response, value, now, echo="📍 ✓")
        return await self._save_and_next(member, response, None, now, file_id=file_id,
                                         echo="✓ " + _("Received."))

    async def _add_point(self, member: Member, current: _Current, point: str,
                         now: datetime) -> Outcome:
        """One more point of a line or an area: kept at once; the question stays, with Done
        once there are enough points."""
        response, state, question, iteration = current
        saved = state.answers.get(key(question, iteration), (None, None))[0] or ""
        value = add_point(question, saved, point)
        if len(points(value)) > MAX_POINTS:
            return Outcome.of(await self.prompt(response, member, now, "⚠ " + _(
                "That is enough points: press Done.")))
        async with self.store.transaction():
            await self.store.surveys.set_answer(response.id, key(question, iteration), value,
                                                now)
            await self.store.surveys.update_response(response.id, now)
        fresh = await self.store.surveys.response(response.id)
        assert fresh is not None
        count = len(corners(question, value))
        echo = "📍 ✓ " + ngettext("{count} point", "{count} points", count).format(count=count)
        return Outcome(replies=(Reply(echo, replace=True), await self.prompt(fresh, member, now)))

    async def cancel(self, member: Member, now: datetime) -> Outcome | None:
        """/cancel during a questionnaire: pause it; the answers stay."""
        response = await self._active(member, now)
        if response is None:
            return None
        return await self._pause(member, response, now, replace=False)

    async def _pause(self, member: Member, response: SurveyResponse, now: datetime, *,
                     replace: bool = True) -> Outcome:
        """Stop for now (the first question's way out, or /cancel): the answers stay and
        /surveys (or the invitation's Start) resumes on the same question."""
        async with self.store.transaction():
            await self.store.surveys.update_response(response.id, now,
                                                     step=ResponseStep.PAUSED,
                                                     resume_step=response.step)
        return Outcome.of(Reply(_("Paused. Your answers are kept; send /surveys to continue "
                                  "where you stopped."), replace=replace))

    # --- submitting ----------------------------------------------------------------------------

    async def submit(self, member: Member, response: SurveyResponse, now: datetime) -> Outcome:
        """Send the answers, once: a second Send says they were already received."""
        loaded, state = await self._state(response, member, now)
        definition = loaded.definition
        missing = [s for s in state.path
                   if (engine.is_required(state, definition.questions[s[0]], s[1])
                       and definition.questions[s[0]].type != "note"
                       and state.answers.get(key(definition.questions[s[0]], s[1]),
                                             (None, None)) == (None, None))
                   # a line or an area left before Done: too few points, or not closed
                   or not complete(definition.questions[s[0]], state.answers.get(
                       key(definition.questions[s[0]], s[1]), (None, None))[0])]
        if missing:
            return await self._edit(member, response, missing[0], now)
        kept = {key(definition.questions[i], it) for i, it in state.path}
        stale = [name for name in state.answers if name not in kept]
        computed = computed_values(state)
        async with self.store.transaction():
            # As ODK does: answers to questions no longer relevant are not part of the result.
            await self.store.surveys.delete_answers(response.id, stale)
            for name, value in computed.items():
                await self.store.surveys.set_answer(response.id, name, value, now)
            first = await self.store.surveys.mark_submitted(response.id, now)
        if not first:
            fresh = await self.store.surveys.response(response.id)
            assert fresh is not None
            return Outcome.of(self._already(fresh, member))
        day = format_day(now, member.timezone)
        clock = format_clock(now, member.timezone)
        text = _("✅ Your answers to «{title}» were received on {date} at {time} (reference "
                 "{reference}). Thank you!").format(
            title=h(self.title(loaded, member.language)), date=day, time=clock,
            reference=reference(response))
        return Outcome.of(Reply(text, replace=True))


class _Current(NamedTuple):
    """The question under way, with what answering it needs."""

    response: SurveyResponse
    state: State
    question: Question
    iteration: int
