"""The fault suite: the real `palabre run` process, killed again and again, against a faulty
emulator, while simulated partners file guided reports and answer a survey, and an
announcement and reminders are being sent. Then: what was lost, done twice or misplaced.

The emulator and the phones live in this process; the bot is its own process
(`python -m bot run`) on a real SQLite file, SIGKILLed at seeded moments (after a seeded
number of Bot API calls) and restarted at once. Phones behave like people: they answer what
the bot shows; when no answer comes (they lose patience) or an error message arrives, they
retype the last answer or press the button again, and go on with whatever the bot asks.

Figures (see :class:`Figures`) must all be 0 (integrity ``ok``), except ``uncertain``.
Used by tests/e2e/test_fault_suite.py (small) and benchmarks/bench_faults.py (full size).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.core import network_file
from bot.core.announcements import AnnouncementService, Audience
from bot.core.periods import Cadence
from bot.core.surveys import SurveyService
from bot.emulator import ApiCall, BotApiEmulator, FaultPlan, SentMessage
from storage import Store

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "examples" / "network.yaml"
PROJECT = "eau-ziguinchor"
FIRST_USER = 70_000
ANNOUNCEMENT = "Fault drill announcement: the partners' meeting is on Thursday."
ERROR_MARK = "Sorry, something went wrong"
INDICATORS = {"Wells rehabilitated": "wells", "Households connected": "households",
              "Water committees trained": "committees"}
QUESTION = re.compile(r"\b([1-3])/3 · ([^\n:]+)")
REFERENCE = re.compile(r"\bR-\d{4}-\d{6}\b")
SURVEY_LABELS = {"Q-colour": "colour", "Q-visits": "visits", "Q-comment": "comment",
                 "Q-wells": "wells_seen"}
COLOURS = (("red", "Red"), ("green", "Green"), ("blue", "Blue"))


@dataclass
class SuiteConfig:
    partners: int = 10
    kills: int = 3
    seed: int = 1
    faults: FaultPlan = field(default_factory=FaultPlan)
    patience: float = 8.0  # seconds a person waits for an answer before trying again
    stall_after: float = 45.0  # no answer to anyone for this long while work remains: a stall
    drain_timeout: float = 90.0  # after the phones: time left for the bot to finish its work
    max_actions: int = 80  # per person and flow, then they give up (counted as stuck)
    calls_per_partner: int = 40  # to spread the kills over the run (a rough estimate)
    # Besides the random faults: the connection dropped after delivery on the announcement to
    # the first `scripted_drops` partners and on the survey invitation to as many others, so
    # that the outbox meets an ambiguous failure on every run.
    scripted_drops: int = 2


# Errors of the connection to Telegram, not of the handler (PTB's exception names).
CHANNEL_ERRORS = ("NetworkError", "TimedOut", "RetryAfter", "NotSent")


@dataclass
class Figures:
    """What the suite found. All must be 0 / "ok" except ``uncertain`` (reported)."""

    updates_lost: int = 0
    updates_failed: int = 0  # the handler failed (a bug): never a channel fault
    replies_not_delivered: int = 0  # failed only because the reply could not be sent (reported)
    updates_handled_twice: int = 0
    wrong_answers: int = 0
    missing_answers: int = 0
    duplicate_submissions: int = 0
    delivered_twice_recorded_sent: int = 0
    uncertain: int = 0
    stalls: int = 0
    stuck_people: int = 0
    integrity: str = ""
    kills: int = 0
    updates: int = 0
    api_calls: int = 0
    reports: int = 0
    responses: int = 0
    outbox_sent: int = 0
    reminders_sent: int = 0
    retries: int = 0
    seconds: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    MUST_BE_ZERO = ("updates_lost", "updates_failed", "updates_handled_twice", "wrong_answers",
                    "missing_answers", "duplicate_submissions",
                    "delivered_twice_recorded_sent", "stalls", "stuck_people")

    def failures(self) -> dict[str, int | str]:
        """The figures that are not as they must be."""
        bad: dict[str, int | str] = {k: getattr(self, k) for k in self.MUST_BE_ZERO
                                     if getattr(self, k)}
        if self.integrity != "ok":
            bad["integrity"] = self.integrity
        return bad

    def examples(self, per_kind: int = 4) -> list[str]:
        """A few details of each kind (details of one kind differ only in their numbers)."""
        kinds: dict[str, list[str]] = defaultdict(list)
        for line in self.details:
            kinds[re.sub(r"\d+", "#", line)[:40]].append(line)
        shown: list[str] = []
        for lines in kinds.values():
            shown += lines[:per_kind]
            if len(lines) > per_kind:
                shown.append(f"  … {len(lines) - per_kind} more like the above")
        return shown

    def table(self) -> str:
        rows = [(k, getattr(self, k)) for k in self.MUST_BE_ZERO]
        rows += [("integrity_check", self.integrity), ("uncertain (reported)", self.uncertain),
                 ("replies not delivered (reported)", self.replies_not_delivered),
                 ("kills", self.kills), ("updates", self.updates), ("Bot API calls", self.api_calls),
                 ("reports", self.reports),
                 ("survey responses", self.responses), ("outbox sent", self.outbox_sent),
                 ("reminders sent", self.reminders_sent), ("retries by people", self.retries),
                 ("faults injected", self.faults), ("seconds", round(self.seconds, 1))]
        return "\n".join(f"  {name:<32} {value}" for name, value in rows)


class WatchedEmulator(BotApiEmulator):
    """The emulator, counting calls (to time the kills) and noting each call's bot process."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generation = 0
        self.kill_at: int | None = None
        self.kill_now = asyncio.Event()
        self.answers: list[tuple[int, ApiCall]] = []  # answerCallbackQuery calls, by process

    def record_call(self, call: ApiCall) -> None:
        super().record_call(call)
        if call.method == "answerCallbackQuery":
            self.answers.append((self.generation, call))
        if self.kill_at is not None and self.stats["calls"] + 1 >= self.kill_at:
            self.kill_at = None
            self.kill_now.set()


@dataclass
class Intent:
    """What one person means to answer."""

    values: dict[str, int]  # indicator code -> value
    narrative: str
    survey: dict[str, str]  # question name -> stored value


def intent_of(index: int) -> Intent:
    # Disjoint ranges: a value stored on another indicator cannot look right by chance.
    return Intent(
        values={"wells": 100 + index % 100, "households": 1000 + index, "committees": 7 + index % 50},
        narrative=f"Partner {index}: two wells repaired, the pump arrives next week.",
        survey={"colour": COLOURS[index % 3][0], "visits": str(300 + index % 200),
                "comment": f"Comment from partner {index}", "wells_seen": str(600 + index % 300)})


class Person:
    """One partner on a phone: acts, waits for the bot, and acts on what it shows."""

    def __init__(self, suite: FaultSuite, index: int) -> None:
        self.suite = suite
        self.emu = suite.emu
        self.user_id = FIRST_USER + index
        self.intent = intent_of(index)
        self.last: tuple[str, Any] | None = None
        self.unanswered = 0  # times in a row the last action brought no answer
        self.actions = 0
        self.retries = 0
        self.stuck = ""
        self.unknown: list[str] = []  # the last bot messages this person could not place

    # -- acting

    def _do(self, action: tuple[str, Any]) -> None:
        if action != self.last:
            self.unanswered = 0
        self.last = action
        self.actions += 1
        kind, arg = action
        if kind == "text":
            self.emu.send_text(self.user_id, arg)
        else:
            message_id, data = arg
            self.emu.press(self.user_id, message_id, data, check=False)

    def _press(self, message: SentMessage, label: str) -> bool:
        for text, data in message.buttons:
            if label in text and data:
                self._do(("press", (message.message_id, data)))
                return True
        return False

    def _again(self, command: str) -> None:
        """Try the last action again; after two tries without an answer, start over with the
        flow's command, as a person who sees nothing happen would."""
        self.retries += 1
        self.unanswered += 1
        if self.last is None or self.unanswered > 2:
            self._do(("text", command))
            return
        self._do(self.last)

    async def _screen(self, classify: Any) -> tuple[str, SentMessage] | None:
        """Wait for the bot's next screen of this flow; None when patience runs out."""
        try:
            while True:
                event = await self.emu.next_event(self.user_id, timeout=self.suite.cfg.patience)
                if event.kind not in ("send", "edit") or event.message is None:
                    continue
                if classify(event.message.text) is None:
                    self.unknown = [*self.unknown[-2:], event.message.text[:120]]
                found = self._latest(classify)
                if found is not None and found[1].message_id >= event.message.message_id:
                    self.suite.progress()  # the bot answered: progress (retries are not)
                    return found
        except TimeoutError:
            return None

    def _latest(self, classify: Any) -> tuple[str, SentMessage] | None:
        """The newest message (edits applied) that this flow knows, among those just received."""
        self.emu.drain_events(self.user_id)
        for message in reversed(self.emu.messages(self.user_id)):
            kind = classify(message.text)
            if kind is not None:
                return kind, message
        return None

    # -- the report

    async def report(self) -> None:
        self._do(("text", "/report"))
        while self.actions < self.suite.cfg.max_actions:
            screen = await self._screen(_report_screen)
            if screen is None:
                self._again("/report")
                continue
            kind, message = screen
            if kind == "receipt":
                return
            if not self._report_step(kind, message):
                self._do(("text", "/report"))
        self.stuck = "report"

    def _report_step(self, kind: str, message: SentMessage) -> bool:
        if kind == "error":
            self._again("/report")
            return True
        if kind == "resume":
            return self._press(message, "Continue")
        if kind == "period":
            return self._press(message, "✓")
        if kind == "question":
            match = QUESTION.search(message.text)
            assert match is not None
            code = INDICATORS.get(match.group(2).strip())
            if code is None:
                return False
            self._do(("text", str(self.intent.values[code])))
            return True
        if kind == "narrative":
            self._do(("text", self.intent.narrative))
            return True
        if kind == "attachments":
            return self._press(message, "Done")
        if kind == "review":
            return self._press(message, "Send")
        return False

    # -- the survey

    async def survey(self) -> None:
        invitation = next((m for m in reversed(self.emu.messages(self.user_id))
                           if any((d or "").startswith("sv:go:") for _t, d in m.buttons)), None)
        if invitation is None or not self._press(invitation, "▶"):
            self._do(("text", "/surveys"))
        while self.actions < self.suite.cfg.max_actions * 2:
            screen = await self._screen(_survey_screen)
            if screen is None:
                self._again("/surveys")
                continue
            kind, message = screen
            if kind == "done":
                return
            if not self._survey_step(kind, message):
                self._do(("text", "/surveys"))
        self.stuck = "survey"

    def _survey_step(self, kind: str, message: SentMessage) -> bool:
        if kind == "error":
            self._again("/surveys")
            return True
        if kind == "list":
            return self._press(message, "Continue") or self._press(message, "Start")
        if kind == "review":
            return self._press(message, "Send my answers")
        if kind == "colour":
            label = dict(COLOURS)[self.intent.survey["colour"]]
            return self._press(message, label)
        if kind in ("visits", "comment", "wells_seen"):
            self._do(("text", self.intent.survey[kind]))
            return True
        return False

    async def live(self) -> None:
        await self.report()
        await self.survey()


def _report_screen(text: str) -> str | None:
    if ERROR_MARK in text:
        return "error"
    if text.startswith("✅ Report R-") or (REFERENCE.search(text) and "New report" not in text
                                          and "Check your report" not in text):
        return "receipt"  # the receipt, or (once fixed) "you already sent R-…: view or amend"
    if "You have a report in progress" in text:
        return "resume"
    if "Which period does the report cover?" in text:
        return "period"
    if "Check your report" in text:
        return "review"
    if QUESTION.search(text):
        return "question"
    if "how did the period go?" in text:
        return "narrative"
    if text.startswith("Add photos"):
        return "attachments"
    return None


def _survey_screen(text: str) -> str | None:
    if ERROR_MARK in text:
        return "error"
    if ("were received on" in text or "already answered this questionnaire" in text
            or "No questionnaire is waiting for you" in text):
        return "done"
    if "Questionnaires waiting for you" in text:
        return "list"
    if "Check your answers" in text:
        return "review"
    for label, name in SURVEY_LABELS.items():
        if label in text:
            return name
    return None


def questionnaire() -> dict[str, Any]:
    def label(text: str) -> dict[str, str]:
        return {"en": text}

    return {"form_id": "fault_drill", "title": label("Fault drill"), "default_language": "en",
            "questions": [
                {"name": "colour", "type": "select_one", "required": True,
                 "label": label("Q-colour: which colour?"),
                 "choices": [{"name": n, "label": label(t)} for n, t in COLOURS]},
                {"name": "visits", "type": "integer", "required": True,
                 "constraint": ". >= 0 and . <= 1000", "label": label("Q-visits: how many?")},
                {"name": "comment", "type": "text", "required": True,
                 "label": label("Q-comment: a comment?")},
                {"name": "wells_seen", "type": "integer", "required": True,
                 "label": label("Q-wells: how many wells seen?")}]}


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so reminders are within allowed hours."""
    offset = 12 - now.hour
    if offset > 12:
        offset -= 24
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


class FaultSuite:
    def __init__(self, cfg: SuiteConfig, folder: Path) -> None:
        self.cfg = cfg
        self.folder = folder
        self.database = folder / "faults.db"
        self.log = folder / "bot.log"
        self.emu = WatchedEmulator(faults=cfg.faults)
        self.rng = random.Random(cfg.seed)
        self.process: asyncio.subprocess.Process | None = None
        self.figures = Figures()
        self.last_progress = time.monotonic()
        self.people: list[Person] = []

    def progress(self) -> None:
        self.last_progress = time.monotonic()

    # -- the deployment

    async def seed(self) -> None:
        now = datetime.now(UTC)
        store = await Store.open(self.database)
        try:
            await network_file.load(store, network_file.read(NETWORK), now - timedelta(days=90))
            project = await store.network.project(PROJECT)
            org = await store.network.organisation("ziguinchor")
            assert project is not None and org is not None
            zone = noon_zone(now)
            async with store.transaction():
                members = [await store.members.create(
                    telegram_user_id=FIRST_USER + i, display_name=f"Partner {i}", username=None,
                    role="partner", organisation_id=org.id, language="en", timezone=zone,
                    status="active", consent_at=now, invitation_id=None,
                    project_ids=[project.id], now=now) for i in range(self.cfg.partners)]
            # An overdue reminder for the last period, to every partner.
            due = Cadence(project.cadence).due_before(now.date())
            assert due is not None
            async with store.transaction():
                await store.reminders.plan(
                    [(m, project.id, f"report:{due.isoformat()}", "overdue", 0,
                      now - timedelta(hours=1), now) for m in members], now)
            announcements = AnnouncementService(store, "UTC")
            await announcements.publish_new(author=None, text=ANNOUNCEMENT, versions={},
                                            audience=Audience(), ack=False, send_at=None,
                                            now=now)
            form_path = self.folder / "fault_drill.yaml"
            form_path.write_text(yaml.safe_dump(questionnaire(), allow_unicode=True),
                                 encoding="utf-8")
            surveys = SurveyService(store, announcements, "UTC")
            form, _new = await surveys.import_form(form_path, now)
            campaign_id, _invited = await surveys.launch(
                author=None, form=form, audience=Audience(), joint=False, opens_at=now,
                closes_at=now + timedelta(days=7), now=now)
            # A reminder of the questionnaire, due now, to every partner: the report's overdue
            # reminder is settled as soon as the first partner files the period (the project
            # has reported), so at full size it would never be sent under faults. A partner
            # answers the questionnaire after the report: most of these go out meanwhile.
            async with store.transaction():
                await store.reminders.plan(
                    [(m, None, f"survey:{campaign_id}", "before", 1, now, now)
                     for m in members], now)
        finally:
            await store.close()
        for i in range(self.cfg.partners):
            self.emu.add_user(FIRST_USER + i, f"Partner {i}", language_code="en")
        drops = min(self.cfg.scripted_drops, self.cfg.partners // 2)
        for i in range(drops):
            self.emu.drop_next("sendMessage", chat_id=FIRST_USER + i, text_contains=ANNOUNCEMENT[:30])
            self.emu.drop_next("sendMessage", chat_id=FIRST_USER + drops + i,
                               text_contains="New questionnaire")

    async def start_bot(self) -> None:
        env = {**os.environ, "PALABRE_TELEGRAM_TOKEN": self.emu.token,
               "PALABRE_TELEGRAM_BASE_URL": self.emu.base_url,
               "PALABRE_DATABASE": str(self.database),
               "PALABRE_MEDIA_DIR": str(self.folder / "media"),
               "PALABRE_BROADCAST_RATE": "1000000", "PALABRE_CHAT_RATE": "1000000",
               "PALABRE_GROUP_RATE": "1000000",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.emu.generation += 1
        with self.log.open("ab") as log:
            log.write(f"\n=== bot process {self.emu.generation} ===\n".encode())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.folder, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)

    async def kill_bot(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        self.figures.kills += 1

    async def stop_bot(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            await process.wait()
            self.figures.details.append("the bot did not stop within 30 s of SIGTERM")

    async def killer(self) -> None:
        """SIGKILL the bot after seeded numbers of Bot API calls, and restart it at once."""
        mean_gap = self.cfg.partners * self.cfg.calls_per_partner / (self.cfg.kills + 1)
        for _ in range(self.cfg.kills):
            self.emu.kill_now.clear()
            self.emu.kill_at = self.emu.stats["calls"] + max(
                20, int(mean_gap * self.rng.uniform(0.5, 1.5)))
            await self.emu.kill_now.wait()
            await self.kill_bot()
            await self.start_bot()
        self.emu.kill_at = None

    async def watchdog(self, done: asyncio.Event) -> None:
        """Count stalls: nobody got an answer for `stall_after` seconds while some are not
        done (a person retrying is no progress)."""
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 1.0)
            if time.monotonic() - self.last_progress > self.cfg.stall_after:
                self.figures.stalls += 1
                self.figures.details.append(
                    f"stall: nobody got an answer for {self.cfg.stall_after} s")
                self.progress()

    # -- the run

    async def run(self) -> Figures:
        started = time.monotonic()
        await self.emu.start()
        try:
            await self.seed()
            await self.start_bot()
            self.people = [Person(self, i) for i in range(self.cfg.partners)]
            done = asyncio.Event()
            killer = asyncio.create_task(self.killer())
            watchdog = asyncio.create_task(self.watchdog(done))
            try:
                await asyncio.gather(*(p.live() for p in self.people))
            finally:
                done.set()
                killer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await killer
                await watchdog
            if self.process is None or self.process.returncode is not None:
                await self.start_bot()
            await self.drain()
            await self.stop_bot()
        finally:
            with contextlib.suppress(ProcessLookupError):
                if self.process is not None and self.process.returncode is None:
                    self.process.kill()
                    await self.process.wait()
            self.figures.seconds = time.monotonic() - started
            self.figures.faults = self.emu.faults.stats.as_dict()
        self.measure()
        await self.emu.stop()
        return self.figures

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True,
                                                timeout=30)) as db:
            return db.execute(sql, params).fetchall()

    def _work_left(self) -> list[str]:
        left = []
        handled = {u for (u,) in self._query("SELECT update_id FROM inbox WHERE status != 'pending'")}
        missing = [u for u in self.emu.updates_pushed if u not in handled]
        if missing:
            left.append(f"{len(missing)} update(s) not handled, e.g. {missing[:5]}")
        [(outbox,)] = self._query("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
        if outbox:
            left.append(f"{outbox} outbox row(s) pending or sending")
        [(reminders,)] = self._query(
            "SELECT COUNT(*) FROM reminders WHERE state IN ('planned', 'sending')"
            " AND send_at <= ?", (datetime.now(UTC).isoformat(),))
        if reminders:
            left.append(f"{reminders} due reminder(s) planned or sending")
        return left

    async def drain(self) -> None:
        """Wait (on the condition, polled) until the bot has finished all its work."""
        deadline = time.monotonic() + self.cfg.drain_timeout
        while True:
            left = self._work_left()
            if not left:
                return
            if time.monotonic() > deadline:
                self.figures.stalls += 1
                self.figures.details.append("work left at the end: " + "; ".join(left))
                return
            await asyncio.sleep(0.25)

    # -- the figures

    def measure(self) -> None:
        f = self.figures
        f.updates = len(self.emu.updates_pushed)
        f.api_calls = self.emu.stats["calls"]
        rows = self._query("SELECT update_id, status, error FROM inbox")
        statuses = {row[0]: row[1] for row in rows}
        errors = {row[0]: str(row[2] or "") for row in rows}
        lost = [u for u in self.emu.updates_pushed if statuses.get(u) in (None, "pending")]
        failed = [u for u in self.emu.updates_pushed if statuses.get(u) == "failed"]
        # An update whose only failure was sending its reply through a faulty connection is
        # a channel fault, injected on purpose: reported, and the person is shown where they
        # stand at their next message. Any other failure is a handler's bug.
        channel = [u for u in failed if errors[u].startswith(CHANNEL_ERRORS)]
        f.replies_not_delivered = len(channel)
        failed = [u for u in failed if u not in channel]
        f.updates_lost, f.updates_failed = len(lost), len(failed)
        if lost:
            f.details.append(f"lost updates: {lost[:10]}")
        if failed:
            f.details.append(f"failed updates: {failed[:10]}")
        # An answerCallbackQuery that reached Telegram from two bot processes: the update was
        # handled (at least partly) twice.
        reached: dict[str, set[int]] = defaultdict(set)
        for generation, call in self.emu.answers:
            if call.status not in (500, 502, 504, 429) and "before" not in (call.description or ""):
                reached[str(call.params.get("callback_query_id"))].add(generation)
        f.updates_handled_twice = sum(1 for g in reached.values() if len(g) > 1)
        f.retries = sum(p.retries for p in self.people)
        f.stuck_people = sum(1 for p in self.people if p.stuck)
        for p in self.people:
            if p.stuck:
                f.details.append(f"{p.user_id} gave up during the {p.stuck}; last messages it "
                                 f"could not place: {p.unknown}")
        self._answers()
        self._deliveries()
        [(f.integrity,)] = self._query("PRAGMA integrity_check")

    def _answers(self) -> None:
        f = self.figures
        reports = self._query(
            "SELECT m.telegram_user_id, r.id, r.period_start FROM reports r"
            " JOIN members m ON m.id = r.member_id WHERE r.kind = 'report'")
        f.reports = len(reports)
        periods = Counter((uid, start) for uid, _rid, start in reports)
        f.duplicate_submissions = sum(n - 1 for n in periods.values())
        for (uid, start), n in periods.items():
            if n > 1:
                f.details.append(f"{uid}: {n} reports for the period from {start}")
        values: dict[int, dict[str, float]] = defaultdict(dict)
        for uid, code, value in self._query(
                "SELECT m.telegram_user_id, i.code, v.value FROM reports r"
                " JOIN members m ON m.id = r.member_id"
                " JOIN report_versions rv ON rv.report_id = r.id AND rv.version = r.version"
                " JOIN indicator_values v ON v.report_version_id = rv.id"
                " JOIN indicators i ON i.id = v.indicator_id WHERE r.kind = 'report'"):
            values[uid][code] = value
        responses = self._query(
            "SELECT m.telegram_user_id, s.status FROM survey_responses s"
            " JOIN members m ON m.id = s.member_id")
        f.responses = sum(1 for _u, status in responses if status == "submitted")
        f.duplicate_submissions += len(responses) - len({u for u, _s in responses})
        answers: dict[int, dict[str, str]] = defaultdict(dict)
        for uid, question, value in self._query(
                "SELECT m.telegram_user_id, a.question, a.value FROM survey_answers a"
                " JOIN survey_responses s ON s.id = a.response_id"
                " JOIN members m ON m.id = s.member_id"):
            answers[uid][question] = value
        for person in self.people:
            meant = person.intent
            stored = values.get(person.user_id, {})
            for code, value in meant.values.items():
                self._compare(person.user_id, f"indicator {code}", stored.get(code), value)
            given = answers.get(person.user_id, {})
            for name, text in meant.survey.items():
                self._compare(person.user_id, f"question {name}", given.get(name), text)

    def _compare(self, uid: int, what: str, stored: Any, meant: Any) -> None:
        f = self.figures
        if stored is None:
            f.missing_answers += 1
            f.details.append(f"{uid}: {what} not stored (meant {meant})")
        elif _same(stored, meant):
            return
        else:
            f.wrong_answers += 1
            f.details.append(f"{uid}: {what} stored {stored!r}, meant {meant!r}")

    def _deliveries(self) -> None:
        """Rows recorded `sent` whose message reached the chat more than once."""
        f = self.figures
        rows = [("outbox", chat, mid) for chat, mid in self._query(
            "SELECT chat_id, message_id FROM outbox WHERE state = 'sent'")]
        rows += [("reminder", chat, mid) for chat, mid in self._query(
            "SELECT m.telegram_user_id, r.message_id FROM reminders r"
            " JOIN members m ON m.id = r.member_id WHERE r.state = 'sent'")]
        f.outbox_sent = sum(1 for kind, _c, _m in rows if kind == "outbox")
        f.reminders_sent = len(rows) - f.outbox_sent
        for kind, chat, message_id in rows:
            delivered = self.emu.delivered(chat)
            original = next((m for m in delivered if m.message_id == message_id), None)
            if original is None:
                f.details.append(f"{kind} to {chat}: message {message_id} recorded, never seen")
                continue
            copies = sum(1 for m in delivered if m.text == original.text and m.kind == original.kind)
            if copies > 1:
                f.delivered_twice_recorded_sent += 1
                f.details.append(f"{kind} to {chat} delivered {copies} times, recorded sent")
        [(outbox_uncertain,)] = self._query("SELECT COUNT(*) FROM outbox WHERE state = 'uncertain'")
        [(reminders_uncertain,)] = self._query(
            "SELECT COUNT(*) FROM reminders WHERE state = 'uncertain'")
        f.uncertain = int(outbox_uncertain) + int(reminders_uncertain)


def _same(stored: Any, meant: Any) -> bool:
    if isinstance(meant, int):
        try:
            return float(stored) == float(meant)
        except (TypeError, ValueError):
            return False
    return str(stored) == str(meant)


async def run_fault_suite(cfg: SuiteConfig, folder: Path) -> Figures:
    """Run the suite in `folder` (the database and the bot's log stay there)."""
    return await FaultSuite(cfg, folder).run()
