"""Consulting what came in: /summary with charts, /latest, one report, and /export.

Every entry point starts from the projects the reader may see (`ConsultationRepo.
visible_project_ids`); a reference outside them is answered exactly like an unknown one.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.callbacks import LatestPage, OpenReport, Review
from bot.core.onboarding import expired_button
from bot.core.ports import ChartTexts, Documents, Panel
from bot.core.replies import Button, Document, Outcome, Reply, SentFile, h
from bot.core.reports import (
    ReportService,
    indicator_name,
    received_at,
    show_value,
    status_name,
)
from bot.core.status import project_status
from bot.core.surveys import SurveyService
from bot.i18n import _, current_language, format_day, format_number, format_share, ngettext
from storage import Store
from storage.models import Member, Project, Report

PAGE = 5
MAX_CHARTS = 5  # charts sent for one /summary; the others are one tap away with /summary <project>
# The largest document the bot sends: the smallest of its channels' limits (a Telegram bot
# sends up to 50 MB, WhatsApp's Cloud API documents up to 100 MB), so that an export is
# answered the same whichever channel asks for it.
MAX_DOCUMENT = 50 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ConsultationService:
    def __init__(self, store: Store, reports: ReportService, surveys: SurveyService,
                 documents: Documents) -> None:
        self.store = store
        self.reports = reports
        self.surveys = surveys
        self.documents = documents

    async def _projects(self, member: Member, slug: str | None = None) -> list[Project]:
        ids = await self.store.consultation.visible_project_ids(member)
        projects = await self.store.network.projects_by_ids(ids)
        if slug:
            wanted = slug.strip().lower()
            projects = [p for p in projects if p.slug == wanted
                        or p.title(member.language).lower() == wanted]
        return sorted(projects, key=lambda p: p.slug)

    # --- /summary ----------------------------------------------------------------------------

    async def summary(self, member: Member, now: datetime, slug: str | None = None) -> Outcome:
        """Per project in scope: last report, reporting status, indicators; then charts."""
        text = await self.summary_text(member, now, slug)
        charts = await self.summary_charts(member, slug)
        return Outcome(replies=text.replies + charts.replies)

    async def summary_text(self, member: Member, now: datetime,
                           slug: str | None = None) -> Outcome:
        """The summary's text: sent first, since drawing the charts takes a moment."""
        projects = await self._projects(member, slug)
        if not projects:
            return Outcome.of(Reply(_("No project matches.") if slug else
                                    _("There is no project for you to follow yet.")))
        # One message per project: each stays short enough to read on a phone.
        blocks = [await self._project_block(member, project, now) for project in projects]
        return Outcome(replies=tuple(Reply(block) for block in blocks))

    async def summary_charts(self, member: Member, slug: str | None = None) -> Outcome:
        """One chart per project in scope with values (the first few), as photos."""
        projects = await self._projects(member, slug)
        replies: list[Reply] = []
        for project in projects[:MAX_CHARTS]:
            chart = await self._chart(project)
            if chart is not None:
                replies.append(Reply("📈 <b>" + h(project.title(member.language)) + "</b>",
                                     photo=Document(f"{project.slug}.png", chart, "image/png")))
        if len(projects) > MAX_CHARTS:
            replies.append(Reply(_("Charts of the other projects: /summary followed by the "
                                   "project's short name, e.g. /summary {slug}").format(
                                       slug=h(projects[MAX_CHARTS].slug))))
        return Outcome(replies=tuple(replies))

    async def _project_block(self, member: Member, project: Project, now: datetime) -> str:
        repo = self.store.consultation
        lines = [f"<b>{h(project.title(member.language))}</b>"]
        last = await repo.last_report(project.id)
        if last is None:
            lines.append(_("No report yet."))
        else:
            day, time = received_at(last[1], member.timezone)
            lines.append(_("Last report: {day} at {time} ({reference})").format(
                day=day, time=time, reference=last[0]))
        status, _today = await project_status(repo, project, now)
        if status.period is not None:
            due = format_day(status.period.end)
            lines.append({
                "overdue": "⚠️ " + _("Overdue: the report for {period} was due on {due}."),
                "due": "🕒 " + _("Due: the report for {period} is expected by {due}."),
                "on_time": "✅ " + _("On time: the report for {period} came in."),
            }[status.kind].format(period=status.period.label(), due=due))
        values = await repo.latest_values(project.id)
        for indicator in await self.store.network.indicators(project.id):
            found = values.get(indicator.id)
            shown = "—" if found is None else show_value(indicator, Decimal(str(found[0])))
            line = "• " + _("{name}: {value}").format(name=h(indicator_name(indicator)),
                                                      value=shown)
            if indicator.target is not None:
                target = show_value(indicator, Decimal(str(indicator.target)))
                if indicator.type == "percent":
                    # A rate is not a share of its target: "45,5 % (target: 60 %)".
                    line += " (" + _("target: {value}").format(value=target) + ")"
                else:
                    line += " / " + target  # "6 / 12 (50 %)"
                    if found is not None and indicator.target:
                        line += f" ({format_share(found[0] / indicator.target)})"
            lines.append(line)
        # The questionnaires open to the project's members, and how many answered so far.
        for title, answered, invited in await self.store.surveys.project_rates(
                project.id, now, current_language()):
            lines.append("📋 " + _("{title}: {answered}/{invited} answered").format(
                title=h(title), answered=answered, invited=invited))
        return "\n".join(lines)

    async def _chart(self, project: Project) -> bytes | None:
        points = await self.store.consultation.series(project.id)
        if not points:
            return None
        by_indicator: dict[int, list[tuple[date, float]]] = defaultdict(list)
        for point in points:
            by_indicator[point.indicator_id].append((point.period_end, point.value))
        language = current_language()
        panels = [Panel(indicator_name(i), by_indicator.get(i.id, []), i.target, i.type)
                  for i in await self.store.network.indicators(project.id)]
        texts = ChartTexts(title=project.title(language), target=_("Target"),
                                  no_data=_("No value yet"))
        # Drawing takes a few hundred milliseconds: off the event loop.
        return await asyncio.to_thread(self.documents.progress_chart, panels, texts, language)

    # --- /latest and one report ---------------------------------------------------------------

    async def latest(self, member: Member, offset: int, slug: str | None = None,
                     *, paging: bool = False) -> Outcome:
        """A page of the latest reports in scope, newest first, each one tap from its details."""
        projects = await self._projects(member, slug)
        if slug and not projects:
            return Outcome.of(Reply(_("No project matches."), replace=paging))
        ids = [p.id for p in projects]
        titles = {p.id: p.title(member.language) for p in projects}
        total = await self.store.consultation.count(ids)
        if total == 0:
            return Outcome.of(Reply(_("No report yet."), replace=paging))
        offset = max(0, min(offset, (total - 1) // PAGE * PAGE))
        lines = [_("Latest reports ({first}–{last} of {total}):").format(
            first=offset + 1, last=min(offset + PAGE, total), total=total)]
        buttons: list[tuple[Button, ...]] = []
        for line in await self.store.consultation.latest(ids, PAGE, offset):
            day, _time = received_at(line.created_at, member.timezone)
            people = (line.author or _("(removed)"), line.organisation)
            who = ", ".join(h(x) for x in people if x)
            icon = "📝" if line.kind == "report" else "📷"
            lines.append(f"{icon} <b>{line.reference}</b> · {h(titles[line.project_id])}\n"
                         f"   {day} · {who} · {status_name(line.status)}")
            buttons.append((Button(line.reference, OpenReport(line.id)),))
        scope = projects[0].id if slug and len(projects) == 1 else 0
        nav = []
        if offset > 0:
            nav.append(Button("◀", LatestPage(offset - PAGE, scope)))
        if offset + PAGE < total:
            nav.append(Button("▶", LatestPage(offset + PAGE, scope)))
        if nav:
            buttons.append(tuple(nav))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(buttons), replace=paging))

    async def latest_page(self, member: Member, data: str) -> Outcome:
        """Turn a page of /latest (button `la:<offset>:<project id or 0>`)."""
        ref = LatestPage.parse(data)
        if ref is None:
            return expired_button()
        slug = None
        if ref.project_id != 0:
            found = await self.store.network.projects_by_ids([ref.project_id])
            visible = await self.store.consultation.visible_project_ids(member)
            if not found or found[0].id not in visible:
                return expired_button()
            slug = found[0].slug
        return await self.latest(member, ref.offset, slug, paging=True)

    async def show(self, member: Member, reference: str, now: datetime) -> Outcome:
        """One report in scope: its details, then its photos, voice notes and files."""
        ids = await self.store.consultation.visible_project_ids(member)
        wanted = reference.strip().upper().replace(" ", "")
        report = await self.store.consultation.visible_report(wanted, ids)
        if report is None:
            return Outcome.of(Reply(_("No report {reference} among the projects you follow.")
                                    .format(reference=h(reference.strip()[:40]))))
        return await self._details(member, report)

    async def show_by_id(self, member: Member, data: str) -> Outcome:
        """Open a report from a /latest button (`lv:<report id>`), checking the scope again."""
        ref = OpenReport.parse(data)
        if ref is None:
            return expired_button()
        report = await self.store.reports.report(ref.report_id)
        ids = await self.store.consultation.visible_project_ids(member)
        if report is None or report.project_id not in ids:
            return expired_button()
        outcome = await self._details(member, report)
        return Outcome(replies=outcome.replies, toast=report.reference)

    async def _details(self, member: Member, report: Report) -> Outcome:
        reports = self.store.reports
        version_id, narrative = await reports.latest_version(report.id)
        attachments = await reports.version_attachments(version_id)
        author, organisation = await self.store.consultation.author(report.member_id)
        values = await reports.version_values(version_id)
        previous = ({} if report.period_start is None else
                    await reports.previous_values(report.project_id, report.period_start,
                                                  exclude_report=report.id))
        kinds = [(a.kind, a.purpose) for a in attachments]
        body = await self._describe(report, values, narrative, kinds, previous, member.language)
        day, time = received_at(report.created_at, member.timezone)
        head = [f"<b>{report.reference}</b> · {status_name(report.status)}",
                _("Sent on {day} at {time} by {who}").format(
                    day=day, time=time,
                    who=", ".join(h(x) for x in (author or _("(removed)"), organisation) if x))]
        if report.version > 1:
            head.append(ngettext("Amended: version {version} (the earlier one is kept).",
                                 "Amended: version {version} (the earlier ones are kept).",
                                 report.version - 1).format(version=report.version))
        if report.status_comment:
            head.append(_("Comment: {text}").format(text=f"«{h(report.status_comment)}»"))
        files = tuple(
            SentFile(a.kind, a.file_id, h(a.caption or ""), a.latitude, a.longitude)
            for a in attachments if a.kind != "text" and (a.file_id or a.kind == "location"))
        texts = [h(a.body) for a in attachments if a.kind == "text" and a.body]
        text = "\n".join(head) + "\n\n" + body
        if texts:
            text += "\n" + "\n".join(f"✏️ {t}" for t in texts)
        replies = [Reply(text, buttons=self.review_buttons(member, report))]
        if files:
            replies.append(Reply("", files=files))
        return Outcome(replies=tuple(replies))

    @staticmethod
    def review_buttons(member: Member, report: Report) -> tuple[tuple[Button, ...], ...]:
        """Accept / Return for a report still awaiting review, when the reader may review it
        (the report is in their scope, so a coordinator coordinates its project)."""
        if (member.role not in ("coordinator", "admin") or report.kind != "report"
                or report.status not in ("submitted", "amended")):
            return ()
        return ((Button("✅ " + _("Accept"), Review("ok", report.id)),
                 Button("↩ " + _("Return with a comment"), Review("re", report.id))),)

    async def to_review(self, member: Member) -> Outcome:
        """The reports in the reader's projects that wait for a decision, oldest first."""
        if member.role not in ("coordinator", "admin"):
            return Outcome.of(Reply(_("This is for coordinators. /summary shows where your "
                                      "projects stand.")))
        ids = await self.store.consultation.visible_project_ids(member)
        waiting = await self.store.consultation.awaiting_review(ids, PAGE)
        if not waiting:
            return Outcome.of(Reply("✅ " + _("No report waits for review.")))
        projects = {p.id: p for p in await self.store.network.projects_by_ids(ids)}
        lines = [_("<b>Waiting for review</b> (oldest first):")]
        buttons: list[tuple[Button, ...]] = []
        for line in waiting:
            day, _time = received_at(line.created_at, member.timezone)
            lines.append(f"📝 <b>{line.reference}</b> · "
                         f"{h(projects[line.project_id].title(member.language))} · {day}")
            buttons.append((Button(line.reference, OpenReport(line.id)),))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(buttons)))

    async def _describe(self, report: Report, values: dict[int, Decimal], narrative: str | None,
                        kinds: Sequence[tuple[str, str]], previous: dict[int, Decimal],
                        language: str) -> str:
        return await self.reports.describe(
            report.project_id, report.period_start, report.period_end, values,
            narrative, kinds, previous, language)

    # --- /export -----------------------------------------------------------------------------

    async def export(self, member: Member, now: datetime) -> Outcome:
        """Build the workbook of everything in scope off the event loop and send it."""
        ids = await self.store.consultation.visible_project_ids(member)
        if not ids:
            return Outcome.of(Reply(_("There is no project for you to follow yet.")))
        local = now.astimezone(ZoneInfo(member.timezone))
        name = f"palabre-{local:%Y-%m-%d}.xlsx"
        with tempfile.TemporaryDirectory(prefix="palabre-export-") as folder:
            path = Path(folder) / name
            rows = await self.documents.workbook(self.surveys, member, path, ids)
            if path.stat().st_size > MAX_DOCUMENT:
                return Outcome.of(Reply(_("The spreadsheet is too large to send here. Ask an "
                                          "administrator for `palabre export`, or use /summary.")))
            content = path.read_bytes()
        caption = ngettext("{count} row, {projects} project(s): reports, indicator values, "
                           "attachments.", "{count} rows, {projects} project(s): reports, "
                           "indicator values, attachments.", rows).format(
                               count=format_number(rows), projects=len(ids))
        return Outcome.of(Reply(caption, document=Document(name, content, XLSX_TYPE)))
