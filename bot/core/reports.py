"""Progress reports from a phone: the guided report, amendments, and their receipts.

Every answer is written to the draft the moment it arrives, so a dropped connection or a
restart loses nothing: `/report` offers to resume where the person stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.core.callbacks import Amend, MyReportsPage, OpenReport, ReportStep, Review
from bot.core.media import Media
from bot.core.numbers import NumberError, check_bounds, parse_number
from bot.core.onboarding import expired_button
from bot.core.periods import Cadence, Period
from bot.core.replies import Button, Notice, Outcome, Reply, h
from bot.i18n import (
    _,
    current_language,
    format_clock,
    format_date,
    format_day,
    format_number,
    ngettext,
    use_language,
)
from storage import Store
from storage.models import Attachment, Draft, DraftStep, Indicator, Member, Project, Report

AMEND_WINDOW = timedelta(hours=72)
MAX_NARRATIVE = 10_000  # longer than any chat message: what a person typed is never cut


def status_name(status: str) -> str:
    names = {"submitted": _("received"), "accepted": _("accepted"), "returned": _("returned"),
             "amended": _("amended")}
    return names.get(status, status)


def received_at(moment: datetime, timezone: str) -> tuple[str, str]:
    """Return (date, time) as the reader says them, in their own time zone."""
    return format_day(moment, timezone), format_clock(moment, timezone)


def indicator_name(indicator: Indicator) -> str:
    language = current_language()
    name = indicator.name.get(language) or indicator.name.get("fr") or indicator.code
    return f"{name} ({indicator.unit})" if indicator.unit else name


def show_value(indicator: Indicator, value: Decimal) -> str:
    shown = format_number(value.normalize() if value == value.to_integral_value() else value)
    return f"{shown} %" if indicator.type == "percent" else shown


def example(indicator: Indicator) -> str:
    return format_number(Decimal("12") if indicator.type != "decimal" else Decimal("12.5"))


class ReportService:
    def __init__(self, store: Store, timezone: str) -> None:
        self.store = store
        self.timezone = timezone

    # --- helpers ---------------------------------------------------------------------------

    async def _projects(self, member: Member) -> list[Project]:
        return await self.store.members.projects(member.id)

    async def _project(self, draft: Draft) -> Project:
        assert draft.project_id is not None
        found = await self.store.network.projects_by_ids([draft.project_id])
        return found[0]

    def _periods(self, project: Project, now: datetime, zone: str) -> list[Period]:
        local_today = now.astimezone(ZoneInfo(zone)).date()
        return Cadence(project.cadence).current_and_previous(local_today)

    async def _owned_draft(self, member: Member, draft_id: int) -> Draft | None:
        draft = await self.store.reports.draft(draft_id)
        if draft is None or draft.member_id != member.id or draft.status != "open":
            return None
        return draft

    # --- starting ----------------------------------------------------------------------------

    async def begin(self, member: Member, now: datetime, *,
                    late: tuple[int, date] | None = None) -> Outcome:
        """Start a guided report, or offer to resume the one under way; `late` (project id,
        due date), from an overdue reminder, opens that very period."""
        if member.role != "partner":
            return Outcome.of(Reply(_("Reports are sent by the partners of a project. To read "
                                      "one: /latest, or /report followed by its reference "
                                      "(e.g. /report R-2026-000042).")))
        projects = await self._projects(member)
        if not projects:
            return Outcome.of(Reply(_("You are not part of any project yet. Ask your "
                                      "coordinator.")))
        draft = await self.store.reports.open_draft(member.id, "report")
        notes: list[Reply] = []
        if draft is not None and await self._stale(draft, member, now):
            async with self.store.transaction():
                await self.store.reports.update_draft(draft.id, now, status="closed")
            notes.append(Reply(_("Your unfinished report for an earlier period was closed; "
                                 "what you entered is kept.")))
            draft = None
        if draft is not None:
            return Outcome.of(Reply(
                _("You have a report in progress. Continue where you stopped?"),
                buttons=((Button("▶ " + _("Continue"), ReportStep("rs", draft.id)),
                          Button(_("Start again"), ReportStep("new", draft.id))),)))
        return Outcome(replies=(*notes, *await self._new_draft(member, projects, now, late)))

    async def _stale(self, draft: Draft, member: Member, now: datetime) -> bool:
        """A draft whose period is older than those a report may still be sent for."""
        if draft.project_id is None or draft.period_end is None or draft.amends_report_id:
            return False
        periods = self._periods(await self._project(draft), now, member.timezone)
        return bool(periods) and draft.period_end < periods[-1].start

    async def _new_draft(self, member: Member, projects: list[Project], now: datetime,
                         late: tuple[int, date] | None = None) -> tuple[Reply, ...]:
        only = projects[0] if len(projects) == 1 else None
        if late is not None:
            only = next((p for p in projects if p.id == late[0]), only)
        async with self.store.transaction():
            draft_id = await self.store.reports.create_draft(
                member_id=member.id, kind="report", now=now,
                step=(DraftStep.PROJECT if only is None else DraftStep.PERIOD),
                project_id=None if only is None else only.id)
        draft = await self.store.reports.draft(draft_id)
        assert draft is not None
        if only is not None:
            period = await self._obvious_period(only, member, now,
                                                None if late is None else late[1])
            if period is not None:
                # No question to ask: say which period it is (Back changes it).
                indicators = await self.store.network.indicators(only.id)
                async with self.store.transaction():
                    await self.store.reports.update_draft(
                        draft.id, now, period_start=period.start, period_end=period.end,
                        step=(DraftStep.VALUE if indicators else DraftStep.NARRATIVE), position=0)
                fresh = await self.store.reports.draft(draft.id)
                assert fresh is not None
                prompt = await self.prompt(fresh, member, now)
                head = f"📝 <b>{h(only.title(member.language))}</b> · {period.label()}"
                return (Reply(f"{head}\n\n{prompt.text}", buttons=prompt.buttons),)
        return (await self.prompt(draft, member, now),)

    async def _awaited(self, project: Project, periods: list[Period]) -> list[Period]:
        """The periods offered that still have no report, the oldest first (periods over
        before the project was created are not awaited)."""
        reported = await self.store.consultation.reported_periods(
            project.id, [p.end for p in periods])
        started = await self.store.consultation.project_started(project.id)
        return sorted((p for p in periods if p.end not in reported and p.end >= started),
                      key=lambda p: p.end)

    async def _obvious_period(self, project: Project, member: Member, now: datetime,
                              due: date | None) -> Period | None:
        """The period to open without asking: the late one a reminder named (None when
        the partner has a choice to make)."""
        if due is None:
            return None
        periods = self._periods(project, now, member.timezone)
        return next((p for p in periods if p.end == due), None)

    async def restart(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        async with self.store.transaction():
            await self.store.reports.update_draft(draft.id, now, status="closed")
        projects = await self._projects(member)
        return Outcome(replies=(Reply(_("Starting a new report."), replace=True),
                                *await self._new_draft(member, projects, now)))

    # --- prompts -----------------------------------------------------------------------------

    @staticmethod
    def _token(draft: Draft) -> str:
        """Where the draft stands: buttons carry it, so a press on an older question's button
        cannot act on the current one."""
        return f"{draft.step}.{draft.position}"

    def _cb(self, action: str, draft: Draft) -> ReportStep:
        return ReportStep(action, draft.id, self._token(draft))

    async def prompt(self, draft: Draft, member: Member, now: datetime) -> Reply:
        """The question of the step the draft is at."""
        back = Button("◀ " + _("Back"), self._cb("bk", draft))
        cancel = Button("✖ " + _("Cancel"), self._cb("no", draft))
        if draft.step == DraftStep.PROJECT:
            projects = await self._projects(member)
            rows = tuple((Button(p.title(member.language),
                                 ReportStep("pj", draft.id, str(p.id))),)
                         for p in projects)
            return Reply(_("Which project is this report for?"), buttons=(*rows, (cancel,)))
        project = await self._project(draft)
        if draft.step == DraftStep.PERIOD:
            periods = self._periods(project, now, member.timezone)
            awaited = await self._awaited(project, periods)
            ticked = awaited[0] if awaited else (periods[0] if periods else None)
            rows = tuple((Button(("✓ " if p == ticked else "") + p.label(),
                                 ReportStep("pe", draft.id, p.key())),)
                         for p in periods)
            several = len(await self._projects(member)) > 1
            text = _("<b>{project}</b>\nWhich period does the report cover?").format(
                project=h(project.title(member.language)))
            indicators = await self.store.network.indicators(project.id)
            if indicators and ticked is not None:
                text += "\n" + _("Or send the first number now ({indicator}) for the ✓ "
                                 "period.").format(indicator=h(indicator_name(indicators[0])))
            return Reply(text, buttons=(*rows, (back, cancel) if several else (cancel,)))
        indicators = await self.store.network.indicators(project.id)
        if draft.step == DraftStep.VALUE:
            return await self._value_prompt(draft, project, indicators, back)
        if draft.step == DraftStep.NARRATIVE:
            row = [Button(_("Skip"), self._cb("sk", draft)), back]
            if draft.amends_report_id is not None:
                # Amending: the narrative sent before (text or voice) may stay as it is.
                row.insert(0, Button(_("Keep"), self._cb("kp", draft)))
            return Reply(
                _("In a few words, how did the period go? Write it, or send a voice note."),
                buttons=(tuple(row),))
        if draft.step == DraftStep.ATTACHMENTS:
            count = sum(1 for a in await self.store.reports.draft_attachments(draft.id)
                        if a.purpose == "attachment")  # a voice narrative is not a file
            lines = [_("Add photos, documents, videos or your location if you wish.")]
            if count:
                lines.append(ngettext("{count} file received so far.",
                                      "{count} files received so far.", count).format(
                                          count=count))
            lines.append(_("Press Done when you have finished."))
            return Reply("\n".join(lines), buttons=(
                (Button("✅ " + _("Done"), self._cb("dn", draft)), back),))
        return await self._summary(draft, member, project, indicators)

    async def _value_prompt(self, draft: Draft, project: Project, indicators: list[Indicator],
                            back: Button) -> Reply:
        indicator = indicators[draft.position]
        values = await self.store.reports.values(draft.id)
        lines = [f"{draft.position + 1}/{len(indicators)} · <b>{h(indicator_name(indicator))}</b>"]
        facts = []
        if indicator.target is not None:
            facts.append(_("target: {value}").format(
                value=show_value(indicator, Decimal(str(indicator.target)))))
        previous = await self._previous(draft)
        if indicator.id in previous:
            facts.append(_("previous period: {value}").format(
                value=show_value(indicator, previous[indicator.id])))
        if facts:
            lines.append(" · ".join(facts))
        lines.append(_("Send a number, for example {example}.").format(example=example(indicator)))
        row = [Button(_("Skip"), self._cb("sk", draft)), back]
        current = values.get(indicator.id)
        if current is not None:
            row.insert(0, Button(_("Keep {value}").format(value=show_value(indicator, current)),
                                 self._cb("kp", draft)))
        return Reply("\n".join(lines), buttons=(tuple(row),))

    async def _previous(self, draft: Draft) -> dict[int, Decimal]:
        if draft.project_id is None or draft.period_start is None:
            return {}
        return await self.store.reports.previous_values(
            draft.project_id, draft.period_start, exclude_report=draft.amends_report_id)

    async def _summary(self, draft: Draft, member: Member, project: Project,
                       indicators: list[Indicator]) -> Reply:
        body = await self.describe(draft.project_id or 0, draft.period_start, draft.period_end,
                                   await self.store.reports.values(draft.id), draft.narrative,
                                   await self._attachment_kinds(draft.id),
                                   await self._previous(draft), member.language)
        title = _("<b>Check your report</b>")
        return Reply(f"{title}\n{body}\n\n" + _("Send it?"), buttons=(
            (Button("✅ " + _("Send"), self._cb("ok", draft)),
             Button("◀ " + _("Back"), self._cb("bk", draft))),
            (Button("✖ " + _("Cancel"), self._cb("no", draft)),)))

    async def _attachment_kinds(self, draft_id: int) -> list[tuple[str, str]]:
        return [(a.kind, a.purpose) for a in await self.store.reports.draft_attachments(draft_id)]

    async def describe(self, project_id: int, start: date | None, end: date | None,
                       values: dict[int, Decimal | None] | dict[int, Decimal],
                       narrative: str | None, attachments: Sequence[tuple[str, str]],
                       previous: dict[int, Decimal], language: str) -> str:
        """Project, period, values beside the previous period's, narrative, attachments."""
        project = (await self.store.network.projects_by_ids([project_id]))[0]
        lines = [h(project.title(language))]
        if start is not None and end is not None:
            lines.append(_("Period: {period}").format(period=Period(start, end).label()))
        for indicator in await self.store.network.indicators(project_id):
            value = values.get(indicator.id)
            shown = "—" if value is None else show_value(indicator, value)
            line = "• " + _("{name}: {value}").format(name=h(indicator_name(indicator)),
                                                      value=shown)
            if indicator.id in previous:
                line += " " + _("(previous period: {value})").format(
                    value=show_value(indicator, previous[indicator.id]))
            lines.append(line)
        if narrative:
            cut = narrative if len(narrative) <= 300 else narrative[:300] + "…"
            lines.append(_("Narrative: {text}").format(text=f"«{h(cut)}»"))
        if ("voice", "narrative") in attachments or ("audio", "narrative") in attachments:
            lines.append("🎤 " + _("Narrative as a voice note"))
        files = [k for k, purpose in attachments if purpose == "attachment"]
        if files:
            lines.append("📎 " + ngettext("{count} attachment", "{count} attachments",
                                         len(files)).format(count=len(files)))
        return "\n".join(lines)

    # --- answers -----------------------------------------------------------------------------

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        """Handle a press on a report button; a stale or foreign one changes nothing."""
        ref = ReportStep.parse(data)
        if ref is None:
            return expired_button()
        action, draft_id, argument = ref.action, ref.draft_id, ref.argument
        draft = await self._owned_draft(member, draft_id)
        if draft is None and action == "ok":
            # Send pressed again (the receipt may have been lost): say it was received.
            sent = await self.store.reports.draft(draft_id)
            if sent is not None and sent.member_id == member.id and sent.report_id is not None:
                report = await self.store.reports.report(sent.report_id)
                if report is not None:
                    return Outcome.of(self._already_sent(report, member, now))
        if draft is None or draft.kind != "report":
            return expired_button()
        handlers = {
            "rs": self._resume, "new": self.restart, "bk": self._back, "sk": self._skip,
            "kp": self._keep, "dn": self._done, "ok": self.submit, "no": self._cancel_draft,
        }
        if action == "pj":
            return await self._choose_project(member, draft, argument, now)
        if action == "pe":
            return await self._choose_period(member, draft, argument, now)
        if action not in handlers:
            return expired_button()
        if action not in ("rs", "new") and argument != self._token(draft):
            return expired_button()  # a button of a question already answered
        return await handlers[action](member, draft, now)

    async def _advance(self, member: Member, draft: Draft, now: datetime, *,
                       echo: str | None = None, **changes: object) -> Outcome:
        async with self.store.transaction():
            await self.store.reports.update_draft(draft.id, now, **changes)
        fresh = await self.store.reports.draft(draft.id)
        assert fresh is not None
        replies = [] if echo is None else [Reply(echo, replace=True)]
        replies.append(await self.prompt(fresh, member, now))
        return Outcome(replies=tuple(replies))

    async def _resume(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        return Outcome.of(Reply("▶ " + _("Let's continue."), replace=True),
                          await self.prompt(draft, member, now))

    async def _choose_project(self, member: Member, draft: Draft, argument: str,
                              now: datetime) -> Outcome:
        if draft.step != DraftStep.PROJECT or not argument.isdigit():
            return expired_button()
        project_id = int(argument)
        if not await self.store.members.in_project(member.id, project_id):
            return expired_button()  # a project that is not theirs: a forged button
        project = (await self.store.network.projects_by_ids([project_id]))[0]
        return await self._advance(member, draft, now, echo="✓ " + h(project.title(
            member.language)), project_id=project_id, step=DraftStep.PERIOD)

    async def _choose_period(self, member: Member, draft: Draft, argument: str,
                             now: datetime) -> Outcome:
        if draft.step != DraftStep.PERIOD or draft.project_id is None:
            return expired_button()
        periods = self._periods(await self._project(draft), now, member.timezone)
        chosen = next((p for p in periods if p.key() == argument), None)
        if chosen is None:
            return expired_button()
        return await self._after_period(member, draft, chosen, now)

    async def _after_period(self, member: Member, draft: Draft, period: Period,
                            now: datetime) -> Outcome:
        if draft.project_id is not None and draft.amends_report_id is None:
            standing = await self.store.reports.standing_report(member.id, draft.project_id,
                                                                period.end)
            if standing is not None:
                # Sent already (perhaps its receipt was lost): never a second report for the
                # same period; the partner may read it, or amend it while that is allowed. The
                # new draft is closed, so that it takes no text meant for anything else.
                async with self.store.transaction():
                    await self.store.reports.update_draft(draft.id, now, status="closed")
                return Outcome.of(self._already_sent(standing, member, now))
        indicators = await self.store.network.indicators(draft.project_id or 0)
        step = "value" if indicators else "narrative"
        return await self._advance(member, draft, now, echo="✓ " + period.label(),
                                   period_start=period.start, period_end=period.end, step=step,
                                   position=0)

    async def _next_after_value(self, member: Member, draft: Draft, now: datetime,
                                echo: str | None) -> Outcome:
        indicators = await self.store.network.indicators(draft.project_id or 0)
        if draft.position + 1 < len(indicators):
            return await self._advance(member, draft, now, echo=echo, position=draft.position + 1)
        return await self._advance(member, draft, now, echo=echo, step=DraftStep.NARRATIVE)

    async def _skip(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        if draft.step == DraftStep.VALUE:
            indicators = await self.store.network.indicators(draft.project_id or 0)
            async with self.store.transaction():
                await self.store.reports.set_value(draft.id, indicators[draft.position].id, None)
            return await self._next_after_value(member, draft, now, "✓ " + _("Skipped"))
        if draft.step == DraftStep.NARRATIVE:
            return await self._advance(member, draft, now, echo="✓ " + _("Skipped"),
                                       step=DraftStep.ATTACHMENTS)
        return expired_button()

    async def _keep(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        if draft.step == DraftStep.NARRATIVE and draft.amends_report_id is not None:
            return await self._advance(member, draft, now, echo="✓ " + _("Kept"),
                                       step=DraftStep.ATTACHMENTS)
        if draft.step != DraftStep.VALUE:
            return expired_button()
        return await self._next_after_value(member, draft, now, "✓ " + _("Kept"))

    async def _done(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        if draft.step != DraftStep.ATTACHMENTS:
            return expired_button()
        return await self._advance(member, draft, now, echo="✓ " + _("Done"), step=DraftStep.CONFIRM)

    async def _back(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        indicators = await self.store.network.indicators(draft.project_id or 0)
        several = len(await self._projects(member)) > 1 and draft.amends_report_id is None
        if draft.step == DraftStep.PERIOD and several:
            return await self._advance(member, draft, now, step=DraftStep.PROJECT)
        if draft.step == DraftStep.VALUE and draft.position > 0:
            return await self._advance(member, draft, now, position=draft.position - 1)
        if draft.step == DraftStep.VALUE and draft.amends_report_id is None:
            return await self._advance(member, draft, now, step=DraftStep.PERIOD)
        if draft.step == DraftStep.NARRATIVE:
            if indicators:
                return await self._advance(member, draft, now, step=DraftStep.VALUE,
                                           position=len(indicators) - 1)
            if draft.amends_report_id is None:
                return await self._advance(member, draft, now, step=DraftStep.PERIOD)
        if draft.step == DraftStep.ATTACHMENTS:
            return await self._advance(member, draft, now, step=DraftStep.NARRATIVE)
        if draft.step == DraftStep.CONFIRM:
            return await self._advance(member, draft, now, step=DraftStep.ATTACHMENTS)
        return Outcome(toast=_("This is the first question."))

    async def _cancel_draft(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        async with self.store.transaction():
            await self.store.reports.update_draft(draft.id, now, status="closed")
        return Outcome.of(Reply(_("Report cancelled. What you entered is kept, but it was not "
                                  "sent."), replace=True))

    async def cancel(self, member: Member, now: datetime) -> Outcome | None:
        """/cancel during a report: close the draft (kept, not sent)."""
        draft = await self.store.reports.open_draft(member.id, "report")
        if draft is None:
            return None
        outcome = await self._cancel_draft(member, draft, now)
        return Outcome(replies=tuple(Reply(r.text) for r in outcome.replies))

    async def on_text(self, member: Member, text: str, now: datetime) -> Outcome | None:
        """Take a typed answer if a report is under way; None otherwise."""
        draft = await self.store.reports.open_draft(member.id, "report")
        if draft is None:
            return None
        if draft.step == DraftStep.VALUE:
            return await self._typed_value(member, draft, text, now)
        if draft.step == DraftStep.NARRATIVE:
            narrative = text.strip()[:MAX_NARRATIVE]
            if not narrative:
                return Outcome.of(await self.prompt(draft, member, now))
            return await self._advance(member, draft, now, narrative=narrative,
                                       step=DraftStep.ATTACHMENTS)
        if draft.step == DraftStep.PERIOD:
            quick = await self._quick_start(member, draft, text, now)
            if quick is not None:
                return quick
        # Elsewhere, a text is not an answer: show the question again.
        return Outcome.of(await self.prompt(draft, member, now))

    async def _quick_start(self, member: Member, draft: Draft, text: str,
                           now: datetime) -> Outcome | None:
        """A number typed at the period question: the ticked period, and that number as the
        first indicator's value (one tap saved); None if it is not a number."""
        if draft.project_id is None or isinstance(
                parse_number(text, member.language, member.timezone), NumberError):
            return None
        if await self.store.surveys.open_response(member.id) is not None:
            return None  # a questionnaire is under way too: the number may be its answer
        project = await self._project(draft)
        periods = self._periods(project, now, member.timezone)
        awaited = await self._awaited(project, periods)
        ticked = awaited[0] if awaited else (periods[0] if periods else None)
        if ticked is None or not await self.store.network.indicators(project.id):
            return None
        async with self.store.transaction():
            await self.store.reports.update_draft(
                draft.id, now, period_start=ticked.start, period_end=ticked.end, step=DraftStep.VALUE,
                position=0)
        fresh = await self.store.reports.draft(draft.id)
        assert fresh is not None
        answered = await self._typed_value(member, fresh, text, now)
        return Outcome(replies=(Reply("✓ " + ticked.label()), *answered.replies))

    async def reshow(self, member: Member, now: datetime) -> Outcome | None:
        """After a reply that may not have reached the partner: what is saved, then the
        current question again (their text may be the previous answer typed again, so it is
        not taken). None when no report is under way."""
        draft = await self.store.reports.open_draft(member.id, "report")
        if draft is None:
            return None
        lines = ["⚠️ " + _("My last answer may not have reached you. Nothing is lost.")]
        if draft.project_id is not None and draft.step in ("value", "narrative", "attachments"):
            indicators = await self.store.network.indicators(draft.project_id)
            values = await self.store.reports.values(draft.id)
            saved = ["• " + _("{name}: {value}").format(name=h(indicator_name(i)),
                                                        value=show_value(i, value))
                     for i in indicators if (value := values.get(i.id)) is not None]
            if draft.narrative:
                saved.append("• " + _("Narrative saved"))
            if saved:
                lines.append(_("Saved so far:"))
                lines.extend(saved)
        return Outcome.of(Reply("\n".join(lines)), await self.prompt(draft, member, now))

    async def _typed_value(self, member: Member, draft: Draft, text: str,
                           now: datetime) -> Outcome:
        indicators = await self.store.network.indicators(draft.project_id or 0)
        indicator = indicators[draft.position]
        parsed = parse_number(text, member.language, member.timezone)
        problem = parsed if isinstance(parsed, NumberError) else check_bounds(
            parsed, whole=indicator.type == "integer", minimum=indicator.min_value,
            maximum=indicator.max_value)
        if problem is not None or isinstance(parsed, NumberError):
            assert problem is not None
            explanation = self._number_problem(problem, indicator)
            prompt = await self.prompt(draft, member, now)
            return Outcome.of(Reply(f"{explanation}\n\n{prompt.text}", buttons=prompt.buttons))
        async with self.store.transaction():
            await self.store.reports.set_value(draft.id, indicator.id, parsed)
        return await self._next_after_value(member, draft, now, None)

    @staticmethod
    def _number_problem(problem: NumberError, indicator: Indicator) -> str:
        sample = example(indicator)
        if problem.reason == "ambiguous":
            return _("I am not sure how to read this number. Write it like {example}, without "
                     "a thousands separator.").format(example=sample)
        if problem.reason == "not_whole":
            return _("Send a whole number, for example {example}.").format(
                example=format_number(12))
        if problem.reason == "too_small":
            return _("The number must be at least {value}.").format(
                value=format_number(Decimal(str(indicator.min_value))))
        if problem.reason == "too_large":
            return _("The number must be at most {value}.").format(
                value=format_number(Decimal(str(indicator.max_value))))
        return _("This is not a number. Send a number, for example {example}.").format(
            example=sample)

    async def on_media(self, member: Member, media: Media, refused: bool,
                       now: datetime) -> Outcome | None:
        """Take a voice note or a file for the report under way; None if there is none."""
        draft = await self.store.reports.open_draft(member.id, "report")
        if draft is None or draft.step in (DraftStep.PROJECT, DraftStep.PERIOD):
            return None
        as_narrative = draft.step == DraftStep.NARRATIVE and media.kind in ("voice", "audio")
        async with self.store.transaction():
            seen_group = media.media_group_id is not None and any(
                a.media_group_id == media.media_group_id
                for a in await self.store.reports.draft_attachments(draft.id))
            await add_attachment(self.store, member, draft.id, media, refused, now,
                                 purpose="narrative" if as_narrative else "attachment")
            if as_narrative:
                await self.store.reports.update_draft(draft.id, now, step=DraftStep.ATTACHMENTS)
        if as_narrative:
            fresh = await self.store.reports.draft(draft.id)
            assert fresh is not None
            return Outcome.of(Reply("🎤 " + _("Voice note received.")),
                              await self.prompt(fresh, member, now))
        if refused:
            return Outcome.of(too_big_reply())
        if seen_group:
            return Outcome()  # one acknowledgement per album is enough
        if draft.step == DraftStep.ATTACHMENTS:
            fresh = await self.store.reports.draft(draft.id)
            assert fresh is not None
            return Outcome.of(await self.prompt(fresh, member, now))
        return Outcome.of(Reply("📎 " + _("Kept for this report.")))

    # --- submitting --------------------------------------------------------------------------

    def _already_sent(self, report: Report, member: Member, now: datetime) -> Reply:
        """Say that a report for this period exists, with ways to read or amend it."""
        day, time = received_at(report.created_at, member.timezone)
        row = [Button("👁 " + _("View"), OpenReport(report.id))]
        if self.can_amend(report, member, now):
            row.append(Button("✏️ " + _("Amend"), Amend(report.id)))
        rows: tuple[tuple[Button, ...], ...] = (tuple(row),)
        return Reply(_("✅ Your report {reference} for this period was received on {date} at "
                       "{time}. Nothing was sent twice.").format(
                           reference=report.reference, date=day, time=time),
                     buttons=rows, replace=True)

    async def submit(self, member: Member, draft: Draft, now: datetime) -> Outcome:
        if draft.step != DraftStep.CONFIRM or draft.project_id is None:
            return expired_button()
        if draft.amends_report_id is None and draft.period_end is not None:
            standing = await self.store.reports.standing_report(member.id, draft.project_id,
                                                                draft.period_end)
            if standing is not None:
                async with self.store.transaction():
                    await self.store.reports.update_draft(draft.id, now, status="closed")
                return Outcome.of(self._already_sent(standing, member, now))
        values = {k: v for k, v in (await self.store.reports.values(draft.id)).items()
                  if v is not None}
        refused = sum(1 for a in await self.store.reports.draft_attachments(draft.id)
                      if a.state == "refused")
        async with self.store.transaction():
            if draft.amends_report_id is None:
                report_id = await self.store.reports.create_report(
                    kind="report", prefix="R", project_id=draft.project_id, member_id=member.id,
                    period_start=draft.period_start, period_end=draft.period_end,
                    chat_id=member.telegram_user_id, now=now)
                version = 1
                action = "report.created"
            else:
                report_id = draft.amends_report_id
                report = await self.store.reports.report(report_id)
                assert report is not None
                old_version_id, _narrative = await self.store.reports.latest_version(report_id)
                version = report.version + 1
                action = "report.amended"
            version_id = await self.store.reports.add_version(
                report_id, version, narrative=draft.narrative, created_by=member.id, now=now,
                values=sorted(values.items()))
            if draft.amends_report_id is not None:
                await self.store.reports.copy_attachments(old_version_id, version_id)
                await self.store.reports.set_status(report_id, "amended", member.id, now,
                                                    version=version)
            await self.store.reports.move_attachments(draft.id, version_id)
            await self.store.reports.update_draft(draft.id, now, status="submitted",
                                                  report_id=report_id)
            await self.store.reports.audit(action=action, actor_id=member.id,
                                           report_id=report_id, now=now, version=version)
        report = await self.store.reports.report(report_id)
        assert report is not None
        day, time = received_at(now, member.timezone)
        text = (_("✅ Report {reference} received on {date} at {time}.") if version == 1 else
                _("✅ Report {reference} amended on {date} at {time}.")).format(
                    reference=report.reference, date=day, time=time)
        # The receipt replaces the summary: it keeps what was sent in view.
        version_id, narrative = await self.store.reports.latest_version(report_id)
        text += "\n\n" + await self.describe(
            report.project_id, report.period_start, report.period_end,
            await self.store.reports.version_values(version_id), narrative,
            [(a.kind, a.purpose) for a in await self.store.reports.version_attachments(
                version_id)], await self._previous(draft), member.language)
        if refused:
            text += "\n" + ngettext("{count} file was too big and was not kept.",
                                    "{count} files were too big and were not kept.",
                                    refused).format(count=refused)
        notices = await self.coordinator_notices(report, member)
        return Outcome(replies=(Reply(text, replace=True),), notices=tuple(notices))

    async def coordinator_notices(self, report: Report, author: Member) -> list[Notice]:
        """Tell the project's coordinators, each in their language, with review buttons."""
        notices = []
        for coordinator in await self.store.members.coordinators_of(report.project_id):
            if coordinator.id == author.id or coordinator.telegram_user_id is None:
                continue
            with use_language(coordinator.language):
                notices.append(Notice(coordinator.telegram_user_id,
                                      await self.review_card(report, with_buttons=True),
                                      report.id, review_card=report.kind == "report"))
        return notices

    async def review_card(self, report: Report, *, with_buttons: bool,
                          footer: str | None = None) -> Reply:
        """A report as a coordinator sees it, in the current language."""
        author = await self.store.members.by_id(report.member_id)
        org = None
        if author is not None and author.organisation_id is not None:
            org = await self.store.network.organisation_by_id(author.organisation_id)
        who = h(author.display_name if author and author.display_name else _("a former member"))
        if org is not None:
            who += f" ({h(org.name)})"
        version_id, narrative = await self.store.reports.latest_version(report.id)
        stored = await self.store.reports.version_attachments(version_id)
        if report.kind == "field_update":
            return self._news_card(report, who, stored, footer)
        attachments = [(a.kind, a.purpose) for a in stored]
        previous = ({} if report.period_start is None else
                    await self.store.reports.previous_values(report.project_id,
                                                             report.period_start, report.id))
        body = await self.describe(report.project_id, report.period_start, report.period_end,
                                   await self.store.reports.version_values(version_id),
                                   narrative, attachments, previous, current_language())
        head = (_("📝 <b>New report {reference}</b> from {who}") if report.version == 1 else
                _("📝 <b>Report {reference} amended</b> by {who}")).format(
                    reference=report.reference, who=who)
        text = f"{head}\n{body}"
        if footer:
            text += f"\n\n{footer}"
        buttons: tuple[tuple[Button, ...], ...] = ()
        if with_buttons:
            buttons = ((Button("✅ " + _("Accept"), Review("ok", report.id)),
                        Button("↩ " + _("Return with a comment"), Review("re", report.id))),)
        return Reply(text, buttons=buttons)

    @staticmethod
    def _news_card(report: Report, who: str, stored: Sequence[Attachment],
                   footer: str | None) -> Reply:
        """A field update as its readers see it: what was written, the captions, and the
        first photo itself; news is not reviewed, so no Accept/Return."""
        icon = "📷" if any(a.kind in ("photo", "video") for a in stored) else "🗞"
        lines = [icon + " " + _("<b>Field update {reference}</b> from {who}").format(
            reference=report.reference, who=who)]
        lines += [f"«{h(a.body)}»" for a in stored if a.kind == "text" and a.body]
        lines += [f"«{h(a.caption)}»" for a in stored if a.kind != "text" and a.caption]
        files = [a for a in stored if a.kind not in ("text", "location")]
        places = [a for a in stored if a.kind == "location"]
        photo = next((a for a in files if a.kind == "photo" and a.file_id), None)
        others = len(files) - (photo is not None)
        if others:
            lines.append("📎 " + ngettext("{count} attachment", "{count} attachments",
                                         others).format(count=others))
        if places:
            lines.append("📍 " + _("A location was shared."))
        lines.append(_("/report {reference} shows everything.").format(
            reference=report.reference))
        if footer:
            lines.append(footer)
        text = "\n".join(lines)
        if photo is not None and photo.file_id and len(text) < 1000:
            return Reply(text, media=("photo", photo.file_id))
        return Reply(text)

    # --- my reports and amendments -----------------------------------------------------------

    def can_amend(self, report: Report, member: Member, now: datetime) -> bool:
        return (report.member_id == member.id and report.kind == "report"
                and (report.status == "returned" or now - report.created_at <= AMEND_WINDOW))

    async def my_reports(self, member: Member, offset: int, now: datetime, *,
                         paging: bool = False, page: int = 5) -> Outcome:
        """A page of the member's reports; `paging` edits the list in place."""
        total = await self.store.reports.count_member_reports(member.id)
        if total == 0:
            return Outcome.of(Reply(_("You have not sent any report yet. Send /report to "
                                      "start one.")))
        offset = max(0, min(offset, (total - 1) // page * page))
        reports = await self.store.reports.member_reports(member.id, page, offset)
        projects = {p.id: p for p in await self.store.network.projects()}
        lines = [_("<b>Your reports</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(reports), total=total)]
        rows: list[tuple[Button, ...]] = []
        for report in reports:
            when = format_date(report.created_at.astimezone(ZoneInfo(member.timezone)), "medium")
            title = h(projects[report.project_id].title(member.language))
            lines.append(f"{report.reference} · {when} · {title} · {status_name(report.status)}")
            row = [Button("👁 " + report.reference, OpenReport(report.id))]
            if self.can_amend(report, member, now):
                row.append(Button("✏️ " + _("Amend {reference}").format(
                    reference=report.reference), Amend(report.id)))
            rows.append(tuple(row))
        navigation = []
        if offset > 0:
            navigation.append(Button("◀ " + _("Newer"), MyReportsPage(max(0, offset - page))))
        if offset + page < total:
            navigation.append(Button(_("Older") + " ▶", MyReportsPage(offset + page)))
        if navigation:
            rows.append(tuple(navigation))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(rows), replace=paging))

    async def amend(self, member: Member, report_id: int, now: datetime) -> Outcome:
        report = await self.store.reports.report(report_id)
        if report is None or report.member_id != member.id:
            return expired_button()
        if not self.can_amend(report, member, now):
            return Outcome.of(Reply(_("Report {reference} can no longer be amended (72 hours "
                                      "have passed).").format(reference=report.reference)))
        version_id, narrative = await self.store.reports.latest_version(report_id)
        values = await self.store.reports.version_values(version_id)
        indicators = await self.store.network.indicators(report.project_id)
        async with self.store.transaction():
            open_draft = await self.store.reports.open_draft(member.id, "report")
            if open_draft is not None:
                await self.store.reports.update_draft(open_draft.id, now, status="closed")
            draft_id = await self.store.reports.create_draft(
                member_id=member.id, kind="report", now=now,
                step=(DraftStep.VALUE if indicators else DraftStep.NARRATIVE),
                project_id=report.project_id,
                period_start=report.period_start, period_end=report.period_end,
                amends_report_id=report.id)
            for indicator_id, value in values.items():
                await self.store.reports.set_value(draft_id, indicator_id, value)
            if narrative:
                await self.store.reports.update_draft(draft_id, now, narrative=narrative)
        draft = await self.store.reports.draft(draft_id)
        assert draft is not None
        return Outcome.of(Reply(_("Amending report {reference}. Keep or change each answer.")
                                .format(reference=report.reference)),
                          await self.prompt(draft, member, now))


def too_big_reply() -> Reply:
    return Reply("⚠ " + _("This file is too big for me to receive (the limit is 20 MB). The rest "
                          "is kept; send a smaller version if you can."))


async def add_attachment(store: Store, member: Member, draft_id: int | None, media: Media,
                         refused: bool, now: datetime, purpose: str = "attachment") -> int:
    """Record what was received at once (its Telegram file id first: a poor connection may
    drop before the file could be fetched); the file itself is fetched later."""
    if refused:
        state = "refused"
    elif media.has_file:
        state = "pending"
    else:
        state = "none"
    return await store.reports.add_attachment(
        member_id=member.id, draft_id=draft_id, now=now, purpose=purpose, kind=media.kind,
        file_id=media.file_id, file_unique_id=media.file_unique_id, mime_type=media.mime_type,
        size=media.size, caption=(media.caption or "")[:MAX_NARRATIVE] or None,
        body=(media.body or "")[:MAX_NARRATIVE] or None, latitude=media.latitude,
        longitude=media.longitude, media_group_id=media.media_group_id, chat_id=media.chat_id,
        message_id=media.message_id, state=state,
        error="file too big" if refused else None)
