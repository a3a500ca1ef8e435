"""Every flow, in every language, read as a partner on a small phone would read it.

The walk goes through onboarding, /help, a guided report, review, consultation, a field
update, an announcement and its answer, a questionnaire (sent, answered with a typed date and
a location, read in /results), /language and /forget, for a partner and a coordinator
speaking the same language, in each language the bot speaks (both Portuguese included).
Every message the bot sends is checked:

- under 300 characters, text quoted from a person (in «…») aside;
- dates, times and numbers as babel writes them in the reader's language: no ISO dates, no
  seconds, no "UTC", no month name of another language, no "30 novembro 2026" without "de",
  no decimal point where the language writes a comma (or the other way round);
- every step the walk answers (a question with buttons, or a prompt for typing) shows a way
  out: Back, Cancel, Skip, No, Stop for now, or /cancel.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

from bot.config import UI_LANGUAGES
from bot.core.commands import COMMANDS, HELP_GROUPS
from bot.emulator import SentMessage
from bot.i18n import FORMAT_LOCALES
from tests.auxil.members import LANG_BUTTON
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr

LANGUAGES = UI_LANGUAGES
SURVEY = Path(__file__).resolve().parents[2] / "examples" / "survey.yaml"
# The sample questionnaire's words, as each reader sees them (its texts are in fr, en, pt, es).
TITLE = {"fr": "Bilan", "en": "Mid-term", "pt": "Balanço", "pt_BR": "Balanço", "es": "Balance"}
PARTLY = {"fr": "En partie", "en": "Partly", "pt": "Em parte", "pt_BR": "Em parte",
          "es": "En parte"}
CLIENT = {"pt": "pt-PT", "pt_BR": "pt-br"}  # what Telegram sends for each phone
LIMIT = 300
QUOTED = re.compile(r"«[^»]*»")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
WORD = re.compile(r"[^\W\d_]{4,}")


def _months(language: str) -> set[str]:
    locale = Locale.parse(FORMAT_LOCALES.get(language, language))
    return {m.lower() for m in locale.months["format"]["wide"].values()}


MONTHS = {language: _months(language) for language in LANGUAGES}


def problems(message: SentMessage, language: str) -> list[str]:
    """What is wrong with one message for a reader of `language`."""
    text = message.text
    found = []
    shown = QUOTED.sub("«»", text)
    if len(shown) > LIMIT:
        found.append(f"{len(shown)} characters")
    if ISO_DATE.search(shown) or SECONDS.search(shown) or "UTC" in shown:
        found.append("an ISO date, seconds or UTC")
    words = {w.lower() for w in WORD.findall(shown)}
    foreign = set().union(*(MONTHS[o] for o in LANGUAGES if o != language)) - MONTHS[language]
    if words & foreign:
        found.append(f"a month of another language: {sorted(words & foreign)}")
    if language in ("pt", "es"):
        months = "|".join(MONTHS[language])
        if re.search(rf"\b\d{{1,2}} (?:{months}) \d{{4}}", shown, re.IGNORECASE):
            found.append("a date without 'de'")
    comma = language != "en"
    if re.search(r"\b\d+\.\d{1,2}\b(?![.\d])" if comma else r"\b\d+,\d{1,2}\b(?![,\d])",
                 shown):
        found.append("a decimal separator of another language")
    return found


class Walker:
    """A phone that checks every message it receives and every step it answers."""

    def __init__(self, phone: Phone, language: str, seen: list[str]) -> None:
        self.phone, self.language, self.seen = phone, language, seen
        self.ways_out = {tr(language, w) for w in (
            "Back", "Cancel", "Skip", "No", "No, thanks", "No, don't send", "Keep",
            "Stop for now")}

    def _check(self, replies: list[SentMessage]) -> list[SentMessage]:
        for message in replies:
            for problem in problems(message, self.language):
                self.seen.append(f"[{self.language}] {problem}: {message.text[:80]!r}")
        return replies

    def _step(self, message: SentMessage | None, *, answers: bool = False) -> None:
        """The message being answered is a step: it must show a way out. In a questionnaire
        (`answers`), a choice labelled "No" is an answer, not a way out."""
        if message is None:
            return
        labels = message.button_texts
        ways = self.ways_out - {tr(self.language, "No")} if answers else self.ways_out
        out = any(w in label for label in labels for w in ways) or any(
            mark in label for label in labels for mark in ("◀", "✖")) or "/cancel" in message.text
        if not out:
            self.seen.append(f"[{self.language}] no way out: {message.text[:80]!r} {labels}")

    def _last_with(self, label: str) -> SentMessage:
        for message in reversed(self.phone.emulator.messages(self.phone.user_id)):
            if any(label in text for text in message.button_texts):
                return message
        raise AssertionError(f"no button {label!r}")

    async def press(self, label: str, *, step: bool = True,
                    answers: bool = False) -> list[SentMessage]:
        message = self._last_with(label)
        if step:
            self._step(message, answers=answers)
        return self._check(await self.phone.press(label, message))

    async def type(self, text: str, *, step: bool = True,
                   answers: bool = False) -> list[SentMessage]:
        if step:
            self._step(self.phone.emulator.last_message(self.phone.user_id), answers=answers)
        return self._check(await self.phone.send(text))

    async def command(self, text: str) -> list[SentMessage]:
        return self._check(await self.phone.send(text))

    async def location(self, latitude: float, longitude: float) -> list[SentMessage]:
        self._step(self.phone.emulator.last_message(self.phone.user_id), answers=True)
        runner = self.phone.runner
        await runner.handled(runner.emulator.send_location(self.phone.user_id, latitude,
                                                           longitude))
        return self.inbox()

    def inbox(self) -> list[SentMessage]:
        """Messages that came without being asked for (notices, announcements)."""
        events = self.phone.emulator.drain_events(self.phone.user_id)
        return self._check([e.message for e in events if e.kind in ("send", "edit")
                            and e.message])


def number(language: str, value: str) -> str:
    """A number typed as a person writing `language` writes it."""
    return value.replace(".", ",") if language != "en" else value


async def _join(runner: BotRunner, walker: Walker, role: str, org: str | None) -> None:
    code = await runner.invite(role, "eau-ziguinchor", org=org)
    await walker.command(f"/start {code}")
    # The first message (the language choice) is the way in: not answering it is the way out.
    await walker.press(LANG_BUTTON[walker.language], step=False)
    await walker.press("✅")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_flow_fits_a_small_phone(runner: BotRunner, phone_factory: Any,
                                             language: str) -> None:
    seen: list[str] = []
    client = CLIENT.get(language, language)
    partner = Walker(phone_factory("Aminata", language_code=client), language, seen)
    coordinator = Walker(phone_factory("Claire", language_code=client), language, seen)
    await _join(runner, partner, "partner", None)
    await _join(runner, coordinator, "coordinator", "rennes")
    coordinator.inbox()
    for walker in (partner, coordinator):
        await walker.command("/help")

    # A guided report, start to finish.
    await partner.command("/report")
    await partner.press("✓")
    await partner.type("12")
    await partner.type("1200")
    await partner.type(number(language, "45.5"))
    await partner.type("Deux puits réparés.")
    await partner.press(tr(language, "Done"))
    await partner.press(tr(language, "Send"))
    await partner.command("/myreports")
    await partner.command("/summary")
    await partner.command("/latest")
    await partner.command("/report R-2026-000001")

    # Review from the card, then what waits and the report itself.
    coordinator.inbox()
    await coordinator.command("/toreview")
    await coordinator.command("/report R-2026-000001")
    # Cards offering an action (review, amend) are not steps of a flow: leaving them is the
    # way out, and nothing waits for an answer.
    await coordinator.press(tr(language, "Return with a comment"), step=False)
    await coordinator.type("Combien de ménages ?")
    partner.inbox()
    await partner.press("✏️", step=False)
    await partner.press(tr(language, "Keep {value}", value="12"))
    await partner.type("1250")
    await partner.press(tr(language, "Skip"))
    await partner.press(tr(language, "Keep"))
    await partner.press(tr(language, "Done"))
    await partner.press(tr(language, "Send"))
    coordinator.inbox()
    await coordinator.press(tr(language, "Accept"), step=False)
    await coordinator.command("/overdue")

    # A field update, declined.
    await partner.type("La pompe est réparée.", step=False)
    await partner.press(tr(language, "No, don't send"))

    # An announcement with every screen, then a plain answer to it.
    await coordinator.command("/announce")
    await coordinator.type("Réunion mardi à 10 h : qui vient ?")
    await coordinator.press("👥")
    await coordinator.press("⏰")
    await coordinator.press("⌨️")
    await coordinator.type("hier")
    await coordinator.press(tr(language, "Back"))
    await coordinator.press("👁")
    await coordinator.press("✅")
    for _ in range(600):  # until the outbox delivered it (a condition, not a delay)
        if await runner.store.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 1:
            break
        await asyncio.sleep(0.05)
    partner.inbox()
    await partner.type("D'accord pour mardi", step=False)
    await partner.press("💬")
    coordinator.inbox()
    await coordinator.command("/announcements")

    # A questionnaire: sent with every screen's way out tried, answered (a typed date, a
    # location), read as results, one question at a time, and as a spreadsheet.
    await runner.services.surveys.import_form(SURVEY, runner.clock())
    partner.inbox()
    await coordinator.command("/newsurvey")
    await coordinator.press(TITLE[language])
    await coordinator.press("👥")
    await coordinator.press("◀")  # the audience's Back: the summary, unchanged
    await coordinator.press("🚀")
    for _ in range(600):  # until the invitation is delivered too
        if await runner.store.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 2:
            break
        await asyncio.sleep(0.05)
    partner.inbox()
    await partner.press("▶", step=False)  # the invitation's Start
    await partner.press(PARTLY[language], answers=True)
    await partner.type("Plus de visites de terrain, s'il vous plaît", answers=True)
    await partner.press("✅", answers=True)  # no strength ticked: Done
    await partner.type("12", answers=True)
    await partner.type("15/02/2026", answers=True)
    await partner.location(12.5681, -16.2733)
    await partner.press("OK", answers=True)
    await partner.press(tr(language, "Send my answers"), answers=True)
    await partner.command("/surveys")
    coordinator.inbox()
    await coordinator.command("/results")
    await coordinator.press(TITLE[language], step=False)
    await coordinator.press("2.", step=False)  # the typed answers, quoted
    await coordinator.press("▶", step=False)
    await coordinator.press("▶", step=False)
    await coordinator.press("▶", step=False)  # the date
    await coordinator.press("▶", step=False)  # the place
    await coordinator.press("📥", step=False)

    # Settings.
    await partner.command("/language")
    await partner.press(LANG_BUTTON[language], step=False)  # ✓ marks the current one
    await partner.command("/forget")
    await partner.press(tr(language, "No"))

    assert not seen, "\n".join(seen)


def test_help_lists_every_command_by_theme() -> None:
    grouped = {name for _icon, names in HELP_GROUPS for name in names}
    assert {c.name for c in COMMANDS} - {"start", "help"} == grouped
