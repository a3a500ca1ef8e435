"""Results: the response rate per side and the distribution of each question (/results), and
the answers wide as a spreadsheet, only for the members in the reader's scope."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from decimal import Decimal

from bot.core.onboarding import expired_button
from bot.core.replies import Button, Document, Outcome, Reply, h
from bot.core.surveys.answers import options
from bot.core.surveys.base import EXPORT, RESULTS, SurveyBase, fit, side_name
from bot.core.surveys.engine import split_key
from bot.core.surveys.forms import pick
from bot.i18n import _, format_datetime, format_number, ngettext
from storage.models import Member, Side, SurveyResponse

READERS: frozenset[str] = frozenset({"coordinator", "observer", "admin"})


class Results(SurveyBase):

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
        # A question inside a repeat counts every iteration's answer.
        answers = {rid: _merged(given) for rid, given in answers.items()}
        for question in loaded.definition.asked():
            if question.type in ("note", "image", "audio", "video", "geopoint", "geotrace",
                                 "geoshape", "acknowledge") \
                    or question.read_only:
                continue
            label = pick(question.label, language, loaded.definition.default_language) \
                or question.name
            lines.append("")
            lines.append(f"<b>{h(label[:100])}</b>")
            if question.type in ("select_one", "select_multiple", "range"):
                offered = options(question, None, 0, language)
                series = []
                for name, group, _count in groups:
                    counter: Counter[str] = Counter()
                    for r in group:
                        counter.update((answers.get(r.id, {}).get(question.name) or "").split())
                    series.append((name, [counter[o] for o, _l in offered]))
                for index, (_o, text) in enumerate(offered):
                    shown = " · ".join(f"{s[1][index]}" for s in series)
                    lines.append(f"  {h(text[:40])}: {shown}")
                panels.append((label, [t for _o, t in offered], series))
            elif question.type in ("integer", "decimal"):
                for name, group, _count in groups:
                    numbers = [float(v) for r in group
                               for v in (answers.get(r.id, {}).get(question.name) or "").split()]
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
        repeats = survey_wide.repeats_of(loaded.definition, campaign_id, rows,
                                         await self.store.surveys.campaign_answers(campaign_id))
        repeats = [(title.rpartition(" ")[2], head, body) for title, head, body in repeats]
        content = await asyncio.to_thread(survey_wide.xlsx_bytes, header, rows, repeats)
        name = f"{loaded.definition.form_id}-{campaign_id}.xlsx"
        return Outcome.of(Reply(
            ngettext("{count} response", "{count} responses", len(rows)).format(
                count=len(rows)),
            document=Document(name, content, "application/vnd.openxmlformats-officedocument"
                                             ".spreadsheetml.sheet")))


def _merged(given: dict[str, str | None]) -> dict[str, str | None]:
    """`name[i]` answers of a repeat joined under `name` (space-separated, as selects)."""
    merged: dict[str, str | None] = dict(given)
    for saved, value in given.items():
        name, iteration = split_key(saved)
        if iteration and value:
            merged[name] = f"{merged.get(name) or ''} {value}".strip()
    return merged
