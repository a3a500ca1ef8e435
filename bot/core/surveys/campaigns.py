"""Campaigns: who is invited (joint evaluations reach both sides), the invitations through the
announcements' outbox, /surveys (what waits for a member) and the coordinator's /survey
screens."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import LANGUAGES
from bot.core.announcements import Audience
from bot.core.onboarding import expired_button
from bot.core.replies import Button, Outcome, Reply, h
from bot.core.surveys.base import CB, LAUNCH, LaunchError, SurveyBase, side_of
from bot.core.surveys.forms import Definition, pick
from bot.i18n import _, format_datetime, ngettext, use_language
from storage.models import Member, Recipient, SurveyForm

LAUNCHERS: frozenset[str] = frozenset({"coordinator", "admin"})
DEADLINES = (7, 14, 30)  # days, offered as buttons


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
            waiting = self._waiting_for_files(form)
            if waiting is not None:
                return Outcome.of(waiting)
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

    def _waiting_for_files(self, form: SurveyForm) -> Reply | None:
        """Why a questionnaire cannot be sent yet: data files it names were not given."""
        missing = self.definition(form).missing_files
        if not missing:
            return None
        return Reply("⚠ " + _("This questionnaire cannot be sent yet: it needs the file "
                              "{files}, which was not given when it was imported. An "
                              "administrator adds it with “palabre survey import … "
                              "--files”.").format(files=h(", ".join(missing))))

    async def _launch_from_chat(self, member: Member, draft: Mapping[str, object],
                                now: datetime) -> Outcome:
        form = await self.store.surveys.form(int(str(draft["form"])))
        if form is None:
            return expired_button()
        waiting = self._waiting_for_files(form)
        if waiting is not None:
            return Outcome.of(waiting)
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

