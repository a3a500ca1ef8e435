"""Joining the network: invitation code → language → consent → welcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import UI_LANGUAGES, Settings
from bot.core import invitations
from bot.core.callbacks import OnboardingBack, OnboardingConsent, OnboardingLanguage
from bot.core.commands import menu_keyboard
from bot.core.invitations import CodeCheck
from bot.core.people import Person, role_name
from bot.core.replies import Button, Outcome, Reply, h
from bot.i18n import LANGUAGE_NAMES, _, format_duration, negotiate, use_language
from storage import Store
from storage.models import Member, Onboarding, Role


def expired_button() -> Outcome:
    """A stale or forged button press: change nothing, say so kindly."""
    return Outcome(toast=_("This button has expired. Nothing was changed."))


def visitor_help() -> Reply:
    return Reply(
        _("Hello! Palabre is the reporting and dialogue tool of your partnership.")
        + "\n\n"
        + _("To join, open the invitation link your coordinator sent you, or type the "
            "invitation code here (for example 7KQM-2XRT-9HVB-4D).")
    )


async def welcome(store: Store, member: Member, *, again: bool = False) -> Reply:
    """Greet a member in their language with the main menu."""
    projects = await store.members.projects(member.id)
    name = h(member.display_name or "")
    with use_language(member.language):
        greeting = (_("Welcome back, {name}!") if again else _("Welcome, {name}!")).format(name=name)
        lines = [f"<b>{greeting}</b>"]
        if projects:
            titles = ", ".join(h(p.title(member.language)) for p in projects)
            lines.append(_("You take part as {role} in: {projects}.").format(
                role=role_name(member.role), projects=titles))
        else:
            lines.append(_("You take part as {role}.").format(role=role_name(member.role)))
        lines.append(_("Use the buttons below, or send /help."))
        return Reply("\n".join(lines), menu=menu_keyboard(member.role))


async def forget_visitor(store: Store, telegram_user_id: int) -> None:
    """Drop all that was kept about someone who did not join (inside a transaction)."""
    await store.onboarding.forget(telegram_user_id)
    await store.inbox.scrub_user(telegram_user_id)


class OnboardingService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def _language_prompt(self, suggested: str) -> Reply:
        with use_language(suggested):
            text = _("Welcome to Palabre! Which language do you prefer?")
        first = (Button(f"{LANGUAGE_NAMES[suggested]} ✓", OnboardingLanguage(suggested)),)
        others = [Button(LANGUAGE_NAMES[lang], OnboardingLanguage(lang))
                  for lang in UI_LANGUAGES if lang != suggested]
        # Two a row: "Português (Brasil)" beside three others would be cut on a small phone.
        rows = tuple(tuple(others[i:i + 2]) for i in range(0, len(others), 2))
        return Reply(text, buttons=(first, *rows))

    def _consent_prompt(self, language: str) -> Reply:
        with use_language(language):
            text = "\n".join([
                "<b>" + _("Before we start") + "</b>",
                # Short enough for a small screen in every language (under 300 characters).
                "• " + _("Kept: your name, language and what you send."),
                "• " + _("Read by: your project's coordinators and partner collectivities."),
                "• " + _("/stop: no more reminders. /mydata: your data. /forget: delete it."),
                "",
                _("Do you agree?"),
            ])
            buttons = ((Button("✅ " + _("I agree"), OnboardingConsent(True)),
                        Button(_("No, thanks"), OnboardingConsent(False))),
                       (Button("🌐 " + LANGUAGE_NAMES[language], OnboardingBack()),))
        return Reply(text, buttons=buttons)

    async def _begin(self, person: Person, invitation_id: int | None, now: datetime) -> Outcome:
        suggested = negotiate(person.language_code, self.settings.default_language)
        async with self.store.transaction():
            await self.store.onboarding.start(
                telegram_user_id=person.user_id, invitation_id=invitation_id, language=suggested,
                display_name=person.display_name, username=person.username, now=now,
            )
        return Outcome.of(self._language_prompt(suggested))

    async def start(self, person: Person, payload: str | None, now: datetime) -> Outcome:
        """Handle /start, with or without an invitation code."""
        member = await self.store.members.by_telegram_id(person.user_id)
        if member is not None and member.status in ("active", "stopped"):
            return await self._returning(person, member, payload, now)
        if member is not None or person.user_id in self.settings.admin_ids:
            # Declared in network.yaml or named an administrator: no code needed.
            return await self._begin(person, None, now)
        if payload:
            return await self.code(person, payload, now)
        pending = await self.store.onboarding.get(person.user_id)
        if pending is not None:
            return self.resume(pending)
        return Outcome.of(visitor_help())

    async def _returning(
        self, person: Person, member: Member, payload: str | None, now: datetime
    ) -> Outcome:
        replies: list[Reply] = []
        result, invitation = (None, None) if not payload else await invitations.check(
            self.store, person.user_id, payload, now)
        async with self.store.transaction():
            if member.status == "stopped":
                await self.store.members.update(member.id, now, status="active")
                replies.append(Reply(_("Reminders and announcements are on again.")))
            if result is CodeCheck.OK and invitation is not None:
                # A member opening another invitation joins its projects, if it was meant for
                # someone like them; a code for another role or organisation is left unused.
                if (invitation.role == member.role and invitation.organisation_id in (
                        None, member.organisation_id)):
                    if await self.store.invitations.consume(invitation.id, now):
                        await self.store.members.add_projects(member.id, invitation.project_ids)
                else:
                    replies.append(Reply(_("This invitation is for another role or organisation, "
                                           "so it was not used. Ask your coordinator if you "
                                           "need it.")))
            elif result is not None and result is not CodeCheck.OK and not (
                    invitation is not None and invitation.id == member.invitation_id):
                # (Opening one's own, used, invitation link again is just a way back in.)
                if result is not CodeCheck.THROTTLED:
                    await invitations.record_failure(self.store, person.user_id, now)
                replies.append(self._code_problem(result))
        refreshed = await self.store.members.by_id(member.id)
        assert refreshed is not None
        replies.append(await welcome(self.store, refreshed, again=True))
        return Outcome(replies=tuple(replies), refresh_commands=True)

    async def code(self, person: Person, text: str, now: datetime) -> Outcome:
        """Handle an invitation code typed or sent through the link by a visitor."""
        result, invitation = await invitations.check(self.store, person.user_id, text, now)
        if result is CodeCheck.OK and invitation is not None:
            return await self._begin(person, invitation.id, now)
        if result is CodeCheck.THROTTLED:
            until = await invitations.throttled_until(self.store, person.user_id, now)
            # A delay, not a clock time: a visitor's time zone is not known yet.
            delay = format_duration(max((until or now) - now, timedelta(minutes=1)))
            return Outcome.of(Reply(_("Too many wrong codes. Please try again in {delay}, or ask "
                                      "your coordinator for a new link.").format(delay=delay)))
        async with self.store.transaction():
            await invitations.record_failure(self.store, person.user_id, now)
        return Outcome.of(self._code_problem(result))

    @staticmethod
    def _code_problem(result: CodeCheck) -> Reply:
        text_for = {
            CodeCheck.UNKNOWN: _("I don't know this invitation code. Check it and try again, "
                                 "or ask your coordinator for a new link."),
            CodeCheck.EXPIRED: _("This invitation has expired. Ask your coordinator for a new "
                                 "link."),
            CodeCheck.USED: _("This invitation has already been used. Ask your coordinator for "
                              "a new link."),
            CodeCheck.REVOKED: _("This invitation was cancelled. Ask your coordinator for a new "
                                 "link."),
            CodeCheck.THROTTLED: _("Too many wrong codes. Please try again later, or ask your "
                                   "coordinator for a new link."),
        }
        return Reply(text_for[result])

    def resume(self, pending: Onboarding) -> Outcome:
        """Show again the step where someone stopped."""
        if pending.step == "language":
            return Outcome.of(self._language_prompt(pending.language))
        return Outcome.of(self._consent_prompt(pending.language))

    async def choose_language(self, person: Person, language: str, now: datetime) -> Outcome:
        pending = await self.store.onboarding.get(person.user_id)
        if pending is None or pending.step != "language" or language not in UI_LANGUAGES:
            return expired_button()
        async with self.store.transaction():
            await self.store.onboarding.choose_language(person.user_id, language, now)
        with use_language(language):
            chosen = Reply(_("Language: {language}").format(language=LANGUAGE_NAMES[language]),
                           replace=True)
        return Outcome.of(chosen, self._consent_prompt(language))

    async def back_to_language(self, person: Person, now: datetime) -> Outcome:
        """Let someone at the consent step choose another language."""
        pending = await self.store.onboarding.get(person.user_id)
        if pending is None or pending.step != "consent":
            return expired_button()
        async with self.store.transaction():
            await self.store.onboarding.back_to_language(person.user_id, now)
        prompt = self._language_prompt(pending.language)
        return Outcome.of(Reply(prompt.text, buttons=prompt.buttons, replace=True))

    async def answer_consent(self, person: Person, accepted: bool, now: datetime) -> Outcome:
        pending = await self.store.onboarding.get(person.user_id)
        if pending is None or pending.step != "consent":
            return expired_button()
        with use_language(pending.language):
            if not accepted:
                async with self.store.transaction():
                    await forget_visitor(self.store, person.user_id)
                again = (_("If you change your mind, open the invitation link again.")
                         if pending.invitation_id is not None
                         else _("If you change your mind, send /start."))
                return Outcome.of(Reply(_("No problem: nothing about you was kept.") + " " + again,
                                        replace=True))
            member_id = await self._enrol(person, pending, now)
            if member_id is None:
                return Outcome.of(Reply(_("This invitation is no longer valid. Ask your "
                                          "coordinator for a new link."), replace=True))
            member = await self.store.members.by_id(member_id)
            assert member is not None
            accepted_reply = Reply("✅ " + _("Thank you, you have agreed."), replace=True)
            return Outcome(replies=(accepted_reply, await welcome(self.store, member)),
                           refresh_commands=True)

    async def _enrol(self, person: Person, pending: Onboarding, now: datetime) -> int | None:
        """Create or activate the member in one transaction; None if the code was used up."""
        async with self.store.transaction():
            declared = await self.store.members.by_telegram_id(person.user_id)
            if declared is not None:
                await self.store.members.update(
                    declared.id, now, display_name=declared.display_name or person.display_name,
                    username=person.username, language=pending.language, consent_at=now,
                    status="active",
                )
                await self.store.onboarding.delete(person.user_id)
                return declared.id
            if pending.invitation_id is None:
                if person.user_id not in self.settings.admin_ids:
                    await self.store.onboarding.delete(person.user_id)
                    return None
                role: Role = "admin"
                org_id: int | None = None
                project_ids: tuple[int, ...] = ()
                timezone = self.settings.timezone
            else:
                invitation = await self.store.invitations.by_id(pending.invitation_id)
                if invitation is None or not await self.store.invitations.consume(invitation.id, now):
                    await self.store.onboarding.delete(person.user_id)
                    return None
                role, org_id, project_ids = (invitation.role, invitation.organisation_id,
                                             invitation.project_ids)
                timezone = await self._timezone(org_id, project_ids)
            member_id = await self.store.members.create(
                telegram_user_id=person.user_id, display_name=person.display_name,
                username=person.username, role=role, organisation_id=org_id,
                language=pending.language, timezone=timezone, status="active", consent_at=now,
                invitation_id=pending.invitation_id, project_ids=project_ids, now=now,
            )
            await self.store.onboarding.delete(person.user_id)
            return member_id

    async def _timezone(self, org_id: int | None, project_ids: tuple[int, ...]) -> str:
        """A new member lives where their organisation is, else where their project is."""
        if org_id is not None:
            org = await self.store.network.organisation_by_id(org_id)
            if org is not None:
                return org.timezone
        projects = await self.store.network.projects_by_ids(project_ids)
        return projects[0].timezone if projects else self.settings.timezone
