"""What every member can do with their own account: help, language, stop, data, forget."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import UI_LANGUAGES
from bot.core.addresses import channel_of, wa_id_of
from bot.core.callbacks import AccountLanguage, Forget
from bot.core.commands import commands_for, help_lines, menu_keyboard
from bot.core.media import remove_file
from bot.core.my_data import my_data_text
from bot.core.onboarding import expired_button, forget_visitor, visitor_help
from bot.core.people import role_name
from bot.core.replies import Button, Document, Outcome, Reply, h
from bot.i18n import LANGUAGE_NAMES, _, use_language
from storage import Store
from storage.models import Member


def _menu(member: Member) -> tuple[tuple[str, ...], ...]:
    return menu_keyboard(member.role)


class AccountService:
    def __init__(self, store: Store, media_dir: Path | None = None) -> None:
        self.store = store
        self.media_dir = media_dir  # where /forget removes the files of unsent drafts

    async def help(self, member: Member | None) -> Outcome:
        """List what this person may do, by role."""
        if member is None:
            lines = [visitor_help().text, ""]
            lines += [f"/{c.name} — {_(c.description)}" for c in commands_for(None)]
            return Outcome.of(Reply("\n".join(lines)))
        lines = [_("You are {role} in Palabre. Here is what you can do:").format(
            role=role_name(member.role)), ""]
        lines += help_lines(member.role)
        lines += ["", _("Type / to see what each command does.")]
        return Outcome.of(Reply("\n".join(lines), menu=_menu(member)))

    def language_prompt(self, member: Member) -> Outcome:
        buttons = tuple(
            (Button(("✓ " if lang == member.language else "") + LANGUAGE_NAMES[lang],
                    AccountLanguage(lang)),)
            for lang in UI_LANGUAGES
        )
        return Outcome.of(Reply(_("Which language do you prefer?"), buttons=buttons))

    async def set_language(self, member: Member, language: str, now: datetime) -> Outcome:
        if language not in UI_LANGUAGES:
            return expired_button()
        async with self.store.transaction():
            await self.store.members.update(member.id, now, language=language)
        with use_language(language):
            done = Reply(_("Language: {language}").format(language=LANGUAGE_NAMES[language]),
                         replace=True)
            menu = Reply(_("From now on I will write to you in this language."),
                         menu=menu_keyboard(member.role))
        return Outcome(replies=(done, menu), refresh_commands=True)

    async def stop(self, member: Member, now: datetime) -> Outcome:
        if member.status != "stopped":
            async with self.store.transaction():
                await self.store.members.update(member.id, now, status="stopped")
        return Outcome.of(Reply(
            _("Done: you will receive no more reminders or announcements. Your data is kept. "
              "Send /start to turn them back on."), menu=_menu(member)))

    async def my_data(self, member: Member, now: datetime) -> Outcome:
        """Send everything stored about the member: to read, in their language and time zone;
        then the same as JSON, for a computer (or another service)."""
        data = await self.export(member, now)
        readable = await my_data_text(self.store, member, data, now)
        document = json.dumps(data, ensure_ascii=False, indent=2)
        return Outcome(replies=(
            Reply(_("Here is everything Palabre keeps about you."),
                  document=Document("palabre-my-data.txt", readable.encode(), "text/plain")),
            Reply(_("The same, for a computer (JSON)."),
                  document=Document("palabre-my-data.json", document.encode(),
                                    "application/json")),
        ))

    async def export(self, member: Member, now: datetime) -> dict[str, Any]:
        org = (None if member.organisation_id is None
               else await self.store.network.organisation_by_id(member.organisation_id))
        projects = await self.store.members.projects(member.id)
        return {
            "exported_at": now.isoformat(),
            # The database's own numbers (id, organisation_id, invitation_id) say nothing
            # about the person: left out.
            "member": member.model_dump(mode="json", exclude={"id", "invitation_id",
                                                              "organisation_id"}),
            "organisation": None if org is None else org.model_dump(mode="json", exclude={"id"}),
            "projects": [{"id": p.slug, "name": p.name, "country": p.country} for p in projects],
            "reports": await self._reports(member, {p.id: p.slug for p in
                                                    await self.store.network.projects()}),
            "announcement_replies": await self.store.announcements.member_replies(member.id),
            "survey_responses": await self.store.surveys.member_responses(member.id),
        }

    async def _reports(self, member: Member, slugs: dict[int, str]) -> list[dict[str, Any]]:
        found = []
        for report_id in await self.store.reports.member_report_ids(member.id):
            report = await self.store.reports.report(report_id)
            assert report is not None
            version_id, narrative = await self.store.reports.latest_version(report_id)
            values = await self.store.reports.version_values(version_id)
            attachments = await self.store.reports.version_attachments(version_id)
            found.append({
                "reference": report.reference, "kind": report.kind,
                "project": slugs.get(report.project_id),
                "period": None if report.period_start is None else
                [report.period_start.isoformat(), report.period_end.isoformat()
                 if report.period_end else None],
                "status": report.status, "version": report.version,
                "submitted_at": report.created_at.isoformat(), "narrative": narrative,
                "values": {str(k): float(v) for k, v in values.items()},
                "attachments": [{"kind": a.kind, "size": a.size, "sha256": a.sha256,
                                 "caption": a.caption, "text": a.body}
                                for a in attachments],
            })
        return found

    def forget_prompt(self) -> Outcome:
        return Outcome.of(Reply(
            _("This deletes your name, the link to your Telegram account and your settings. What you "
              "submitted stays with the project, without your name. Delete your personal data?"),
            buttons=((Button(_("Yes, delete"), Forget(True)),
                      Button(_("No"), Forget(False))),),
        ))

    async def forget(self, member: Member, confirmed: bool, now: datetime) -> Outcome:
        if not confirmed:
            return Outcome.of(Reply(_("Nothing was deleted."), replace=True))
        async with self.store.transaction():
            telegram_id = member.telegram_user_id
            unsent = await self.store.privacy.unsent_files(member.id)
            await self.store.members.deidentify(member.id, now)
            await self.store.privacy.erase(member.id, telegram_id)
            await self.store.announcements.forget_member(member.id)
            for report_id in await self.store.reports.member_report_ids(member.id):
                await self.store.reports.audit(action="report.deidentified",
                                               actor_id=member.id, report_id=report_id, now=now)
            if telegram_id is not None:
                await self.store.onboarding.forget(telegram_id)
                await self.store.inbox.scrub_user(telegram_id)
                if channel_of(telegram_id) == "whatsapp":
                    await self.store.whatsapp.scrub_person(wa_id_of(telegram_id))
        # The old rows stay in the -wal file until a checkpoint: force it now.
        await self.store.db.checkpoint()
        if self.media_dir is not None:
            for path in unsent:
                if not await self.store.privacy.file_in_use(path):  # content can be shared
                    await asyncio.to_thread(remove_file, self.media_dir, path)
        return Outcome(replies=(
            Reply(_("Your personal data has been deleted. Thank you for your work with the "
                    "partnership. Goodbye!"), replace=True),
            Reply(_("To come back one day, open a new invitation link."), remove_menu=True),
        ), refresh_commands=True)

    async def cancel(self, telegram_user_id: int, member: Member | None) -> Outcome:
        """Leave whatever flow is under way."""
        pending = await self.store.onboarding.get(telegram_user_id)
        if pending is not None:
            async with self.store.transaction():
                await forget_visitor(self.store, telegram_user_id)  # nobody joined
            if pending.invitation_id is None:
                return Outcome.of(Reply(_("Cancelled. Send /start when you are ready.")))
            return Outcome.of(Reply(_("Cancelled. Open your invitation link again when you are "
                                      "ready.")))
        menu = None if member is None else _menu(member)
        return Outcome.of(Reply(_("There is nothing to cancel."), menu=menu))

    def unknown_command(self, member: Member | None, command: str) -> Outcome:
        menu = None if member is None else _menu(member)
        # Echoed short: a name, not whatever was pasted after a slash.
        return Outcome.of(Reply(
            _("I don't know the command {command}. Send /help to see what I can do.").format(
                command=h(command[:64])), menu=menu))

    def not_understood(self, member: Member) -> Outcome:
        return Outcome.of(Reply(_("I did not understand. Use the buttons below or send /help."),
                                menu=_menu(member)))
