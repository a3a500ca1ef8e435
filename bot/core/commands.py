"""The commands people can send, who may use them, and the main menu."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.config import UI_LANGUAGES
from bot.i18n import N_, _, use_language
from storage.models import ROLES, Role


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # a msgid, translated when shown
    roles: frozenset[Role]
    for_visitors: bool = False  # also offered to people who have not joined yet


EVERYONE = frozenset(ROLES)
PARTNERS: frozenset[Role] = frozenset({"partner"})
REVIEWERS: frozenset[Role] = frozenset({"coordinator", "admin"})
READERS: frozenset[Role] = frozenset({"coordinator", "observer", "admin"})

# Shown in this order in /help and in Telegram's command menu.
COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Join with an invitation code or show the menu"), EVERYONE, True),
    Command("help", N_("What I can do for you"), EVERYONE, True),
    Command("report", N_("Send a progress report"), PARTNERS),
    Command("myreports", N_("Your reports; amend one"), PARTNERS),
    Command("summary", N_("Where the projects stand, with charts"), EVERYONE),
    Command("latest", N_("The latest reports"), EVERYONE),
    Command("export", N_("Everything as a spreadsheet"), EVERYONE),
    Command("surveys", N_("Questionnaires waiting for you"), EVERYONE),
    Command("newsurvey", N_("Send a questionnaire"), REVIEWERS),
    Command("results", N_("Answers to the questionnaires"), READERS),
    Command("announce", N_("Send an announcement"), REVIEWERS),
    Command("announcements", N_("Your announcements and their delivery"), REVIEWERS),
    Command("overdue", N_("Who is late with a report"), REVIEWERS),
    Command("toreview", N_("Reports waiting for your review"), REVIEWERS),
    Command("notifications", N_("Turn report notifications on or off"), REVIEWERS),
    Command("language", N_("Change your language"), EVERYONE),
    Command("cancel", N_("Stop what you are doing"), EVERYONE),
    Command("mydata", N_("Get a copy of your data"), EVERYONE),
    Command("stop", N_("Stop reminders and announcements"), EVERYONE),
    Command("forget", N_("Delete your personal data"), EVERYONE),
)


# /help lists the commands by theme, names only (Telegram's "/" menu gives each one's
# description): the whole list then fits a phone's screen, under 300 characters.
HELP_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("📝", ("report", "myreports")),
    ("📊", ("summary", "latest", "toreview", "overdue", "export")),
    ("📢", ("announce", "announcements", "notifications")),
    ("📋", ("surveys", "newsurvey", "results")),
    ("⚙️", ("language", "cancel", "mydata", "stop", "forget")),
)


def help_lines(role: Role) -> list[str]:
    """One line per theme with the commands this role may use."""
    allowed = {c.name for c in commands_for(role)}
    lines = []
    for icon, names in HELP_GROUPS:
        mine = [f"/{n}" for n in names if n in allowed]
        if mine:
            lines.append(f"{icon} " + " ".join(mine))
    return lines


# Former names, still answered (not shown in /help or Telegram's menu): old name → new name.
# /survey became /newsurvey in December 2026 (one letter from /surveys, which lists what waits
# for the member); drop the alias once coordinators have had a few months with the new name.
ALIASES: dict[str, str] = {"survey": "newsurvey"}


def commands_for(role: Role | None) -> list[Command]:
    """Return the commands a member of `role` (None: a visitor) may use."""
    if role is None:
        return [c for c in COMMANDS if c.for_visitors]
    return [c for c in COMMANDS if role in c.roles]


# The main menu, a reply keyboard: (action, label msgid), in rows.
MENU: tuple[tuple[tuple[str, str], ...], ...] = (
    (("report", N_("📝 Report")), ("myreports", N_("📋 My reports"))),
    (("summary", N_("📊 Summary")), ("latest", N_("🗞 Latest reports"))),
    (("surveys", N_("📋 Questionnaires")), ("announce", N_("📢 Announce"))),
    (("help", N_("❓ Help")), ("language", N_("🌐 Language"))),
    (("mydata", N_("🗂 My data")),),
)


def menu_keyboard(role: Role) -> tuple[tuple[str, ...], ...]:
    """Return the main menu's labels in the current language."""
    allowed = {c.name for c in commands_for(role)}
    rows = (tuple(_(label) for action, label in row if action in allowed) for row in MENU)
    return tuple(row for row in rows if row)


@functools.cache
def _labels() -> dict[str, str]:
    """Every menu label, in every language, with its action (catalogs do not change)."""
    found = {}
    for row in MENU:
        for action, label in row:
            for language in UI_LANGUAGES:
                with use_language(language):
                    found[_(label)] = action
    return found


def menu_action(text: str) -> str | None:
    """Map a menu label in any of our languages back to its action."""
    return _labels().get(text.strip())
