"""Campaigns: who is invited (joint evaluations reach both sides), the invitations through the
announcements' outbox, /surveys (what waits for a member) and the coordinator's /newsurvey
screens."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import UI_LANGUAGES
from bot.core.announcements import Audience, PickerRefs
from bot.core.callbacks import SurveyLaunch, SurveyStart
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Outcome, Reply, h
from bot.core.surveys.base import LaunchError, SurveyBase, side_of
from bot.core.surveys.forms import Definition, pick
from bot.i18n import _, format_day, format_moment, ngettext, use_language
from storage.models import LaunchDraft, Member, Recipient, SurveyForm

LAUNCHERS: frozenset[str] = frozenset({"coordinator", "admin"})
DEADLINES = (7, 14, 30)  # days, offered as buttons
END_OF_DAY = time(23, 59, 59)


def end_of_day(day: date, zones: Iterable[str]) -> datetime:
    """The deadline "by `day`" for people in `zones`: the end of that day where it ends first,
    so that everyone invited reads the same day (at 23:59 in Maputo, 16:59 in Lima) and nobody
    is told a day that, for them, has already closed."""
    return min(datetime.combine(day, END_OF_DAY, ZoneInfo(zone)) for zone in set(zones))


def deadline_day(closes_at: datetime, zones: Iterable[str]) -> date:
    """The day an invitation names: the deadline's earliest local day among those invited."""
    return min(closes_at.astimezone(ZoneInfo(zone)).date() for zone in set(zones))


class Campaigns(SurveyBase):

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
        organisations = await self.store.network.collectivities_of(slugs)
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
                     joint: bool, opens_at: datetime, closes_at: datetime | date,
                     now: datetime, remind_days: tuple[int, ...] | None = None
                     ) -> tuple[int, int]:
        """Create the campaign, record who is invited (and on which side), and queue the
        invitations in the announcement outbox; return (campaign id, people invited). A
        deadline given as a day is the end of that day for everyone invited (`end_of_day`)."""
        loaded_definition = self.definition(form)
        if loaded_definition.missing_files:
            raise LaunchError(
                f"{form.form_id} v{form.version} cannot be sent yet: it needs "
                f"{', '.join(loaded_definition.missing_files)}, not given at import; import "
                "the form again with its files: palabre survey import FORM --files FILE_OR_FOLDER")
        kinds = {o.slug: o.kind for o in await self.store.network.organisations()}
        async with self.store.transaction():
            people = await self.audience_people(author, audience, joint)
            if not people:
                return 0, 0
            # Those invited, and the one who sends it (or the network, from the command line):
            # everyone reads the same day.
            zones = [p.timezone for p in people] + [
                self.timezone if author is None else author.timezone]
            if not isinstance(closes_at, datetime):
                closes_at = end_of_day(closes_at, zones)
            # Stored in UTC: the store compares instants as texts.
            opens_at, closes_at = opens_at.astimezone(UTC), closes_at.astimezone(UTC)
            if closes_at <= max(opens_at, now):
                raise LaunchError("the deadline must come after the opening time and now")
            day = deadline_day(closes_at, zones)
            campaign_id = await self.store.surveys.add_campaign(
                form_pk=form.id, created_by=None if author is None else author.id,
                audience=audience.to_json(), joint=joint, opens_at=opens_at,
                closes_at=closes_at, now=now,
                remind_days=None if remind_days is None else json.dumps(list(remind_days)))
            await self.store.surveys.invite(
                campaign_id, [(p.member_id, side_of(p.role, kinds.get(p.organisation or "")))
                              for p in people], now)
            versions = {}
            for language in UI_LANGUAGES:  # Brazilian readers get their own wording too
                with use_language(language):
                    versions[language] = self._invitation_text(loaded_definition, language, day)
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

    def _invitation_text(self, definition: Definition, language: str, day: date) -> str:
        count = len([q for q in definition.asked() if q.type != "note"])
        title = pick(definition.title, language, definition.default_language)
        return "\n".join((
            _("New questionnaire: {title}").format(title=title),
            ngettext("About {count} question, one at a time; you can stop and come back.",
                     "About {count} questions, one at a time; you can stop and come back.",
                     count).format(count=count),
            # One text per language, not per person: the day only, the same day in every
            # invited member's zone (/surveys shows the time too, in the member's own zone).
            _("Please answer by {deadline}.").format(
                deadline=format_day(day, weekday=True)),
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
            deadline = format_moment(campaign.closes_at, member.timezone, year=False)
            state = _("started") if response is not None else _("not started")
            lines.append(f"• {title} · " + _("by {deadline}").format(deadline=deadline)
                         + f" · {state}")
            label = ("▶ " + _("Continue") if response is not None else "▶ " + _("Start"))
            rows.append((Button(f"{label}: {self.title(loaded, member.language)[:40]}",
                                SurveyStart(campaign.id)),))
        return Outcome.of(Reply("\n".join(lines), buttons=tuple(rows)))


    # --- the coordinator's /newsurvey screens ------------------------------------------------

    @staticmethod
    def may_launch(member: Member) -> bool:
        return member.role in LAUNCHERS and member.is_active

    async def _save_draft(self, draft: LaunchDraft, now: datetime) -> None:
        async with self.store.transaction():
            await self.store.surveys.save_launch_draft(draft, now)

    async def _drop_draft(self, member: Member) -> None:
        async with self.store.transaction():
            await self.store.surveys.drop_launch_draft(member.id)

    async def begin_launch(self, member: Member) -> Outcome:
        """/newsurvey: choose a questionnaire to send (or cancel)."""
        if not self.may_launch(member):
            return Outcome.of(Reply(_("Questionnaires are sent by coordinators and "
                                      "administrators. /surveys lists those waiting for you.")))
        forms = await self.store.surveys.latest_forms()
        if not forms:
            return Outcome.of(Reply(_("No questionnaire has been imported yet. An "
                                      "administrator imports one with “palabre survey import”.")))
        await self._drop_draft(member)
        rows = tuple((Button(f"{self._form_title(f, member)[:50]} (v{f.version})",
                             SurveyLaunch("f", str(f.id))),)
                     for f in forms[:10])
        return Outcome.of(Reply("📋 " + _("Which questionnaire do you want to send?"),
                                buttons=(*rows, (Button("✖ " + _("Cancel"),
                                                        SurveyLaunch("x")),))))

    async def on_launch_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        if not self.may_launch(member):
            return expired_button()
        ref = SurveyLaunch.parse(data)
        action, argument = (ref.action, ref.argument) if ref is not None else ("", "")
        if action == "f" and argument.isdigit():
            form = await self.store.surveys.form(int(argument))
            if form is None:
                return expired_button()
            waiting = self._waiting_for_files(form)
            if waiting is not None:
                return Outcome.of(waiting)
            fresh = LaunchDraft(member_id=member.id, form_pk=form.id)
            await self._save_draft(fresh, now)
            return Outcome.of(await self._hub(member, fresh, now, replace=True))
        if action == "x":
            # From the questionnaire's choice or from the summary: nothing is kept.
            await self._drop_draft(member)
            return Outcome.of(Reply(_("Cancelled. Nothing was sent."), replace=True))
        draft = await self.store.surveys.launch_draft(member.id)
        if draft is None:
            return expired_button()
        if action == "au":
            return Outcome.of(await self._audience_menu(member))
        if action == "k" and argument in ("p", "c", "o", "r", "l"):
            return Outcome.of(await self._kind_menu(member, argument))
        if action == "a":
            audience = await self._chosen_audience(member, argument)
            if audience is None:
                return expired_button()
            draft = draft.model_copy(update={"audience": audience.to_json()})
        elif action == "j":
            draft = draft.model_copy(update={"joint": not draft.joint})
        elif action == "d" and argument.isdigit() and int(argument) in DEADLINES:
            draft = draft.model_copy(update={"days": int(argument)})
        elif action == "o" and argument in ("0", "1"):
            draft = draft.model_copy(update={"later": argument == "1"})
        elif action == "go":
            return await self._launch_from_chat(member, draft, now)
        elif action != "h":  # h: back to the summary, unchanged
            return expired_button()
        await self._save_draft(draft, now)
        return Outcome.of(await self._hub(member, draft, now, replace=True))

    def _form_title(self, form: SurveyForm, member: Member) -> str:
        """The questionnaire's title in the member's language (its own, else the form's)."""
        definition = self.definition(form)
        return pick(definition.title, member.language, definition.default_language) \
            or form.title

    def _deadline(self, member: Member, draft: LaunchDraft, now: datetime) -> date:
        """The deadline's day: `days` after the opening day, where the coordinator is."""
        zone = ZoneInfo(member.timezone)
        opening = now.astimezone(zone).date() + timedelta(days=1 if draft.later else 0)
        return opening + timedelta(days=draft.days)

    async def _hub(self, member: Member, draft: LaunchDraft, now: datetime, *,
                   replace: bool = False) -> Reply:
        form = await self.store.surveys.form(draft.form_pk)
        assert form is not None
        audience = Audience.from_json(draft.audience)
        joint = draft.joint
        people = await self.audience_people(member, audience, joint)
        days = draft.days
        later = draft.later
        lines = ["📋 <b>" + h(self._form_title(form, member)) + "</b>",
                 "👥 " + h(await self.announcements.audiences.describe(member, audience)) + " · "
                 + ngettext("{count} person", "{count} people", len(people)).format(
                     count=len(people)),
                 "🤝 " + (_("Joint evaluation (both sides of the partnership): yes") if joint
                          else _("Joint evaluation (both sides of the partnership): no")),
                 "🕗 " + (_("Opens: now") if not later else _("Opens: tomorrow at 08:00")),
                 "⏰ " + _("Deadline: {date}, end of the day").format(
                     date=format_day(self._deadline(member, draft, now), weekday=True))]
        deadline_row = tuple(Button(("✓ " if d == days else "") + _("{days} days").format(days=d),
                                    SurveyLaunch("d", str(d))) for d in DEADLINES)
        opening_row = (Button(("✓ " if not later else "") + _("Open now"),
                              SurveyLaunch("o", "0")),
                       Button(("✓ " if later else "") + _("Tomorrow 08:00"),
                              SurveyLaunch("o", "1")))
        rows = ((Button("👥 " + _("Audience"), SurveyLaunch("au")),
                 Button("🤝 " + _("Joint: change"), SurveyLaunch("j"))),
                opening_row,
                deadline_row,
                (Button("🚀 " + _("Send"), SurveyLaunch("go")),
                 Button("✖ " + _("Cancel"), SurveyLaunch("x"))))
        return Reply("\n".join(lines), buttons=rows, replace=replace)

    # The audience picker of /announce, with this screen's references (by position only).
    PICKER = PickerRefs(menu=SurveyLaunch("au"),
                        kind=lambda short: SurveyLaunch("k", short),
                        choose=lambda argument: SurveyLaunch("a", argument))

    async def _audience_menu(self, member: Member) -> Reply:
        return await self.announcements.audiences.menu(
            member, _("Who should answer?"), self.PICKER, replace=True,
            footer=((Button("◀ " + _("Back"), SurveyLaunch("h")),),))

    async def _kind_menu(self, member: Member, short: str) -> Reply:
        return await self.announcements.audiences.kind_menu(member, short,
                                                            _("Who should answer?"), self.PICKER)

    async def _chosen_audience(self, member: Member, argument: str) -> Audience | None:
        return await self.announcements.audiences.chosen(member, argument, by_value=False)

    def _waiting_for_files(self, form: SurveyForm) -> Reply | None:
        """Why a questionnaire cannot be sent yet: data files it names were not given."""
        missing = self.definition(form).missing_files
        if not missing:
            return None
        return Reply("⚠ " + _("This questionnaire cannot be sent yet: it needs the file "
                              "{files}, which was not given when it was imported. An "
                              "administrator adds it with “palabre survey import … "
                              "--files”.").format(files=h(", ".join(missing))))

    async def _launch_from_chat(self, member: Member, draft: LaunchDraft,
                                now: datetime) -> Outcome:
        form = await self.store.surveys.form(draft.form_pk)
        if form is None:
            return expired_button()
        waiting = self._waiting_for_files(form)
        if waiting is not None:
            return Outcome.of(waiting)
        opens_at = now
        if draft.later:
            # Tomorrow at 08:00 where the coordinator is: invitations arrive at a working hour.
            local = now.astimezone(ZoneInfo(member.timezone)) + timedelta(days=1)
            opens_at = local.replace(hour=8, minute=0, second=0, microsecond=0)
        campaign_id, count = await self.launch(
            author=member, form=form, audience=Audience.from_json(draft.audience),
            joint=draft.joint, opens_at=opens_at, closes_at=self._deadline(member, draft, now),
            now=now)
        if not count:
            return Outcome.of(Reply(_("Nobody matches this audience. Choose another one.")))
        campaign = await self.store.surveys.campaign(campaign_id)
        assert campaign is not None
        closes_at = campaign.closes_at
        await self._drop_draft(member)
        return Outcome.of(Reply("✅ " + ngettext(
            "Questionnaire sent to {count} person. Deadline: {date}. /results shows the answers.",
            "Questionnaire sent to {count} people. Deadline: {date}. /results shows the answers.",
            count).format(count=count, date=format_moment(closes_at, member.timezone)),
            replace=True))

