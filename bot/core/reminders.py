"""Reminders: plan them as rows, decide at sending time, snooze, escalate, digest, /overdue.

The current time is always a parameter; nothing here imports Telegram or sleeps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.callbacks import Reminder, SurveyStart
from bot.core.onboarding import expired_button
from bot.core.periods import Cadence, Period
from bot.core.reminder_policy import (
    DEFAULT_POLICY,
    STALE_AFTER,
    Planned,
    ReminderPolicy,
    allowed,
    at_local,
    escalations,
    next_digest,
    plan_for_due_date,
    snoozed_until,
)
from bot.core.replies import Button, Outcome, Reply, h
from bot.core.reports import ReportService
from bot.core.status import periods_to_check, project_status
from bot.core.surveys import SurveyService
from bot.i18n import _, format_day, format_moment, ngettext, use_language
from storage import Store
from storage.models import Member, Project, ReminderRow

log = logging.getLogger(__name__)
SNOOZE_DAYS = (1, 3)
PLAN_PAGE = 250  # partners planned per pass: memory stays flat whatever the network's size
SURVEY_DAYS = (3, 1)  # days before a campaign's deadline, unless the campaign says otherwise


def policy_of(project: Project) -> ReminderPolicy:
    if project.reminders is None:
        return DEFAULT_POLICY
    return ReminderPolicy.model_validate_json(project.reminders)


@dataclass(frozen=True)
class Decision:
    action: Literal["send", "settle", "defer"]
    reply: Reply | None = None
    chat_id: int | None = None
    state: str = ""  # for settle: done, skipped, cancelled, unreachable
    note: str = ""
    send_at: datetime | None = None
    # Outside WhatsApp's 24-hour window: the approved template that goes instead of `reply`
    # (`bot/channels/whatsapp/templates.py`) and its parameters; None when none fits.
    template: str | None = None
    parameters: tuple[str, ...] = ()


class ReminderService:
    def __init__(self, store: Store, reports: ReportService, surveys: SurveyService,
                 timezone: str) -> None:
        self.store = store
        self.reports = reports
        self.surveys = surveys
        self.timezone = timezone
        self._projects: dict[int, Project] = {}

    async def _project(self, project_id: int) -> Project:
        found = self._projects.get(project_id)
        if found is None:
            found = (await self.store.network.projects_by_ids([project_id]))[0]
            self._projects[project_id] = found
        return found

    # --- planning -----------------------------------------------------------------------

    async def plan(self, now: datetime) -> int:
        """Plan every reminder the current periods call for (idempotent); return new rows."""
        self._projects.clear()
        created = 0
        for project in await self.store.network.projects():
            async for rows in self._plan_project(project, now):
                # The hourly pass mostly finds its rows planned already: only new ones are
                # written. Keys are read for this page's members only (memory stays flat).
                known = await self.store.reminders.planned_keys(
                    project.id, sorted({row[2] for row in rows}),
                    (min(row[0] for row in rows), max(row[0] for row in rows)))
                rows = [row for row in rows
                        if (row[0], row[2], row[3], row[4], row[5].isoformat()) not in known]
                if rows:
                    async with self.store.transaction():
                        created += await self.store.reminders.plan(rows, now)
        rows = await self._plan_surveys(now)
        for member in await self.store.reminders.coordinators():
            zone = ZoneInfo(member.timezone)
            # This week's (if planning starts after Monday's opening) and the next one.
            upcoming = next_digest(now, zone, DEFAULT_POLICY.hours)
            for moment in (next_digest(upcoming - timedelta(days=7), zone,
                                       DEFAULT_POLICY.hours), upcoming):
                monday = moment.astimezone(zone).date().isoformat()
                rows.append((member.id, None, f"digest:{monday}", "digest", 0, moment, moment))
        async with self.store.transaction():
            created += await self.store.reminders.plan(rows, now)
        return created

    async def _plan_project(self, project: Project, now: datetime) -> AsyncIterator[list[
            tuple[int, int | None, str, str, int, datetime, datetime]]]:
        """The project's rows, a page of partners at a time, then the escalations."""
        policy = policy_of(project)
        project_zone = ZoneInfo(project.timezone)
        cadence = Cadence(project.cadence)
        today = now.astimezone(project_zone).date()
        last, current = periods_to_check(cadence, today)
        started = await self.store.consultation.project_started(project.id)
        periods = [p for p in (last, current) if p is not None and p.end >= started]
        if not periods:
            return
        reported = await self.store.consultation.reported_periods(project.id,
                                                                  [p.end for p in periods])
        periods = [p for p in periods if p.end not in reported]
        if not periods:
            return
        after = 0
        while partners := await self.store.reminders.partners_of(project.id, after, PLAN_PAGE):
            after = partners[-1].id
            page: list[tuple[int, int | None, str, str, int, datetime, datetime]] = []
            for period in periods:
                subject = f"report:{period.end.isoformat()}"
                for member in partners:
                    zone = ZoneInfo(member.timezone)
                    for item in plan_for_due_date(policy, period.end, zone):
                        page.append(_row(member, project, subject, item, zone, policy))
            if page:
                yield page
        rows: list[tuple[int, int | None, str, str, int, datetime, datetime]] = []
        for period in periods:
            subject = f"report:{period.end.isoformat()}"
            for item in escalations(policy, period.end, project_zone):
                kind = "partner" if item.kind == "escalate_partner" else "collectivity"
                for coordinator in await self.store.reminders.coordinators_at(project.id, kind):
                    rows.append(_row(coordinator, project, subject, item,
                                     ZoneInfo(coordinator.timezone), policy))
        if rows:
            yield rows

    async def _plan_surveys(self, now: datetime) -> list[
            tuple[int, int | None, str, str, int, datetime, datetime]]:
        """Remind those invited to an open campaign who have not answered, days before its
        deadline (the campaign's own days, else 3 and 1), at the opening of their day."""
        rows: list[tuple[int, int | None, str, str, int, datetime, datetime]] = []
        opening = DEFAULT_POLICY.hours[0]
        for campaign in await self.store.surveys.campaigns():
            if not campaign.opens_at <= now < campaign.closes_at:
                continue
            days = (SURVEY_DAYS if campaign.remind_days is None
                    else tuple(json.loads(campaign.remind_days)))
            subject = f"survey:{campaign.id}"
            for member_id, _side in await self.store.surveys.invitations(campaign.id):
                response = await self.store.surveys.response_of(campaign.id, member_id)
                if response is not None and response.status == "submitted":
                    continue
                member = await self.store.members.by_id(member_id)
                if member is None or member.status != "active":
                    continue
                zone = ZoneInfo(member.timezone)
                last_day = campaign.closes_at.astimezone(zone).date()
                for day in days:
                    due = at_local(last_day - timedelta(days=day), opening, zone)
                    if campaign.opens_at <= due < campaign.closes_at:
                        rows.append((member.id, None, subject, "before", day, due, due))
        return rows

    # --- sending ------------------------------------------------------------------------

    async def decide(self, row: ReminderRow, now: datetime) -> Decision:
        """Whether a due reminder goes now, waits for allowed hours, or is closed unsent."""
        member = await self.store.members.by_id(row.member_id)
        if member is None or member.status != "active" or member.telegram_user_id is None:
            return Decision("settle", state="cancelled", note="member stopped or left")
        if member.unreachable_at is not None:
            return Decision("settle", state="unreachable", note="blocked the bot")
        project = None if row.project_id is None else await self._project(row.project_id)
        if (project is not None and row.kind in ("before", "overdue", "snooze")
                and not await self.store.members.in_project(member.id, project.id)):
            return Decision("settle", state="cancelled", note="no longer in the project")
        policy = DEFAULT_POLICY if project is None else policy_of(project)
        period = None
        if project is not None and row.subject.startswith("report:"):
            due = date.fromisoformat(row.subject.removeprefix("report:"))
            period = Cadence(project.cadence).period_ending(due)
            if due in await self.store.consultation.reported_periods(project.id, [due]):
                return Decision("settle", state="done", note="report received")
        if row.subject.startswith("survey:"):
            survey = await self._survey_state(row, member, now)
            if isinstance(survey, Decision):
                return survey
        if now - row.due_at > STALE_AFTER:
            log.info("reminder %s (%s, %s) skipped: due %s, too long ago", row.id, row.kind,
                     row.subject, row.due_at.isoformat())
            return Decision("settle", state="skipped", note="stale")
        if await self.store.reminders.superseded(row, now):
            return Decision("settle", state="skipped", note="a later reminder is due")
        opening = allowed(now, ZoneInfo(member.timezone), policy.hours)
        if opening > now:
            return Decision("defer", send_at=opening)
        template: str | None = None
        parameters: tuple[str, ...] = ()
        with use_language(member.language):
            reply: Reply | None
            if row.subject.startswith("survey:"):
                reply, parameters = await self._survey_reminder(row, member)
                template = "palabre_survey_reminder"
            elif row.kind == "digest":
                reply = await self.overdue_reply(member, now, digest=True)
                if reply is None:
                    return Decision("settle", state="skipped", note="nothing late")
            else:
                assert project is not None and period is not None
                reply = await self._compose(row, member, project, period, now)
                if row.kind in ("before", "snooze", "overdue"):
                    template = ("palabre_report_overdue" if row.kind == "overdue"
                                else "palabre_report_reminder")
                    parameters = (project.title(member.language), period.label(),
                                  format_day(period.end))
        return Decision("send", reply=reply, chat_id=member.telegram_user_id,
                        template=template, parameters=parameters)

    async def _survey_state(self, row: ReminderRow, member: Member,
                            now: datetime) -> Decision | None:
        """Closed unsent when the campaign is over or the member answered; None: it may go."""
        campaign = await self.store.surveys.campaign(int(row.subject.removeprefix("survey:")))
        if campaign is None or now >= campaign.closes_at:
            return Decision("settle", state="skipped", note="campaign closed")
        response = await self.store.surveys.response_of(campaign.id, member.id)
        if response is not None and response.status == "submitted":
            return Decision("settle", state="done", note="answered")
        return None

    async def _survey_reminder(self, row: ReminderRow,
                               member: Member) -> tuple[Reply, tuple[str, str]]:
        """The reminder, and its template's parameters (the title, the deadline)."""
        campaign_id = int(row.subject.removeprefix("survey:"))
        loaded = await self.surveys.load(campaign_id)
        assert loaded is not None
        deadline = format_moment(loaded.campaign.closes_at, ZoneInfo(member.timezone),
                                 year=False)
        text = "📋 " + _("<b>{title}</b>: your answers are awaited before {deadline}.").format(
            title=h(self.surveys.title(loaded, member.language)), deadline=deadline)
        buttons = ((Button(_("📋 Answer now"), SurveyStart(campaign_id)),),
                   (Button(_("⏰ Tomorrow"), Reminder("1", row.id)),
                    Button(_("In 3 days"), Reminder("3", row.id))))
        return Reply(text, buttons=buttons), (self.surveys.title(loaded, member.language),
                                              deadline)

    async def _compose(self, row: ReminderRow, member: Member, project: Project,
                       period: Period, now: datetime) -> Reply:
        title = h(project.title(member.language))
        due = format_day(period.end)
        if row.kind in ("escalate_partner", "escalate_north"):
            late = [h(p.display_name or "?") for p in
                    await self.store.reminders.partners_of(project.id)]
            days = (now.astimezone(ZoneInfo(project.timezone)).date() - period.end).days
            text = "⚠️ " + ngettext(
                "<b>{project}</b>: the report for {period} is {days} day late (due on {due}).",
                "<b>{project}</b>: the report for {period} is {days} days late (due on {due}).",
                days).format(project=title, period=period.label(), days=days, due=due)
            if late:
                text += "\n" + _("Partners asked to report: {names}").format(
                    names=", ".join(late))
            return Reply(text + "\n" + _("/overdue shows everything that is late."))
        if row.kind == "overdue":
            text = "⚠️ " + _("<b>{project}</b>: the report for {period} was due on {due}. "
                             "It takes a few minutes.").format(project=title,
                                                               period=period.label(), due=due)
        elif row.kind == "before" and row.step == 0:
            text = "📝 " + _("<b>{project}</b>: the report for {period} is due today.").format(
                project=title, period=period.label())
        else:
            text = "📝 " + _("<b>{project}</b>: the report for {period} is due on {due}.").format(
                project=title, period=period.label(), due=due)
        buttons = ((Button(_("📝 Report now"), Reminder("go", row.id)),),
                   (Button(_("⏰ Tomorrow"), Reminder("1", row.id)),
                    Button(_("In 3 days"), Reminder("3", row.id))))
        return Reply(text, buttons=buttons)

    # --- buttons ------------------------------------------------------------------------

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        """Report now, or snooze this member's reminder (a button of another person's
        reminder, or a forged one, changes nothing)."""
        ref = Reminder.parse(data)
        if ref is None:
            return expired_button()
        row = await self.store.reminders.get(ref.reminder_id)
        if row is None or row.member_id != member.id or row.kind == "digest":
            return expired_button()
        if ref.action == "go" and row.project_id is not None:
            late = (None if not row.subject.startswith("report:") else
                    (row.project_id, date.fromisoformat(row.subject.removeprefix("report:"))))
            return await self.reports.begin(member, now, late=late)
        if ref.action not in {str(d) for d in SNOOZE_DAYS}:
            return expired_button()
        policy = (DEFAULT_POLICY if row.project_id is None
                  else policy_of(await self._project(row.project_id)))
        zone = ZoneInfo(member.timezone)
        until = snoozed_until(now, int(ref.action), zone, policy.hours)
        async with self.store.transaction():
            await self.store.reminders.skip_subject(member.id, row.subject, until, "snoozed", now)
            await self.store.reminders.plan(
                [(member.id, row.project_id, row.subject, "snooze", row.id, until, until)], now)
        when = format_moment(until, zone, weekday=True)
        return Outcome(replies=(Reply(_("⏰ I will remind you on {when}.").format(when=when),
                                      replace=True),), toast=_("Reminder moved"))

    # --- what is late -------------------------------------------------------------------

    async def overdue_reply(self, member: Member, now: datetime, *,
                            digest: bool = False) -> Reply | None:
        """Who is late, per project in the member's scope (None for a digest with nothing)."""
        ids = await self.store.consultation.visible_project_ids(member)
        blocks = []
        for project in sorted(await self.store.network.projects_by_ids(ids), key=lambda p: p.slug):
            status, today = await project_status(self.store.consultation, project, now)
            if status.kind != "overdue" or status.period is None:
                continue
            days = (today - status.period.end).days
            lines = [f"<b>{h(project.title(member.language))}</b> · " + ngettext(
                "{days} day late", "{days} days late", days).format(days=days)
                + " · " + status.period.label()]
            unconfirmed = await self.store.reminders.uncertain_members(
                project.id, now - timedelta(days=7))
            for partner in await self.store.reminders.partners_of(project.id):
                mark = " 🚫 " + _("cannot be reached (blocked the bot)") \
                    if partner.unreachable_at is not None else ""
                if partner.id in unconfirmed:
                    # Telegram's answer was lost: the reminder may or may not have arrived.
                    mark += " ❔ " + _("a reminder may not have arrived")
                lines.append(f"• {h(partner.display_name or _('(removed)'))}{mark}")
            blocks.append("\n".join(lines))
        if not blocks:
            return None if digest else Reply("✅ " + _("Nothing is late."))
        head = "🗓 " + _("Weekly digest: late reports") if digest else "⚠️ " + _("Late reports")
        return Reply(f"<b>{head}</b>\n\n" + "\n\n".join(blocks))

    async def overdue(self, member: Member, now: datetime) -> Outcome:
        if member.role not in ("coordinator", "admin"):
            return Outcome.of(Reply(_("This is for coordinators. /summary shows where your "
                                      "projects stand.")))
        reply = await self.overdue_reply(member, now)
        assert reply is not None
        return Outcome.of(reply)


def _row(member: Member, project: Project, subject: str, item: Planned, zone: ZoneInfo,
         policy: ReminderPolicy) -> tuple[int, int | None, str, str, int, datetime, datetime]:
    return (member.id, project.id, subject, item.kind, item.step, item.due_at,
            allowed(item.due_at, zone, policy.hours))


