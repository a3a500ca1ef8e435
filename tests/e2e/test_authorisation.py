"""The authorisation matrix: every role against every command and every callback prefix,
forged presses on other people's objects, and out-of-scope references against unknown ones.

Two collectivities (Rennes, Drôme) and two projects (eau-ziguinchor with Rennes, dechets-
garanhuns with the Drôme); per side a partner, a coordinator and an observer, plus an
administrator and a visitor. The victims' objects are in dechets-garanhuns: João's report,
draft, field update, questionnaire response and reminder; Marc's announcement draft and review
card. The table is printed in the terminal summary (and under `-s`); the test fails on any
press allowed that should be refused, any answer that tells an out-of-scope object from an
unknown one, and any state change from a refused press.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.announcements import Audience
from bot.core.commands import COMMANDS
from bot.emulator import BotApiEmulator
from tests.auxil.report import add_table
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr
from tests.conftest import ADMIN_ID
from tests.e2e.test_hostile_input import FORGED

FORMS = Path(__file__).resolve().parents[1] / "forms"
UNKNOWN = 987654  # an id no object has
ROLES = ("visitor", "partner", "coordinator", "observer", "admin")
# Tables whose rows a refused press must leave exactly as they were.
WATCHED = ("members", "member_projects", "reports", "report_versions", "report_drafts",
           "draft_values", "attachments", "review_comments", "audit_log", "announcements",
           "announcement_versions", "outbox", "announcement_replies", "reminders",
           "survey_campaigns", "survey_invitations", "survey_responses", "survey_answers",
           "kv", "onboarding")

PEOPLE = {  # name: (user id, role, organisation, projects)
    "Aminata": (801, "partner", "ziguinchor", ("eau-ziguinchor",)),
    "João": (802, "partner", "garanhuns", ("dechets-garanhuns",)),
    "Claire": (803, "coordinator", "rennes", ("eau-ziguinchor",)),
    "Marc": (804, "coordinator", "drome", ("dechets-garanhuns",)),
    "Odile": (805, "observer", "rennes", ()),
    "Didier": (806, "observer", "drome", ()),
    "Sophie": (ADMIN_ID, "admin", None, ()),
}
# Who acts in the matrix, per role: the side without the victims' project (Rennes) and the
# side with it (Drôme), so that "in scope" and "out of scope" are both tried.
ACTORS = {"visitor": ["Victor"], "partner": ["Aminata"], "coordinator": ["Claire", "Marc"],
          "observer": ["Odile", "Didier"], "admin": ["Sophie"]}


async def _seed(runner: BotRunner) -> dict[str, Phone]:
    store = runner.store
    phones: dict[str, Phone] = {}
    async with store.transaction():
        for name, (user_id, role, org, slugs) in PEOPLE.items():
            organisation = None if org is None else await store.network.organisation(org)
            projects = [p.id for s in slugs if (p := await store.network.project(s))]
            await store.members.create(
                telegram_user_id=user_id, display_name=name, username=None,
                role=role,  # type: ignore[arg-type]
                organisation_id=None if organisation is None else organisation.id,
                language="en", timezone="Europe/Paris", status="active",
                consent_at=runner.clock(), invitation_id=None, project_ids=projects,
                now=runner.clock())
    for name, (user_id, *_rest) in PEOPLE.items():
        phones[name] = runner.phone(user_id, name, language_code="en")
    phones["Victor"] = runner.phone(899, "Victor", language_code="en")
    return phones


async def _digest(runner: BotRunner) -> dict[str, str]:
    """A hash of every watched table's rows."""
    found = {}
    for table in WATCHED:
        rows = await runner.store.db.fetchall(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608
        found[table] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return found


async def _quiet(runner: BotRunner, emulator: BotApiEmulator) -> None:
    """Wait until every announcement (the questionnaire's invitations) is delivered and its
    author (the administrators, for one from the command line) has the delivery report."""
    for _attempt in range(3000):
        left = await runner.store.db.fetchval(
            "SELECT COUNT(*) FROM announcements WHERE status IN ('scheduled', 'sending')")
        reported = any("📢" in m.text for m in emulator.messages(ADMIN_ID))
        if left == 0 and reported:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("announcements still being sent")


def _buttons(emulator: BotApiEmulator, phone: Phone) -> list[str]:
    last = emulator.last_message(phone.user_id)
    assert last is not None
    return [data for _text, data in last.buttons if data]


@dataclass
class Objects:
    """Callback data of the victims' objects, as their own buttons carried them."""

    report_id: int
    draft: list[str]
    field_update: list[str]
    announcement: list[str]
    response: list[str]
    campaign_id: int
    form_pk: int
    reminder_id: int
    project_id: int
    sent_announcement: int  # the questionnaire's invitations, sent from the command line


async def _victims(runner: BotRunner, phones: dict[str, Phone],
                   emulator: BotApiEmulator) -> Objects:
    joao, marc = phones["João"], phones["Marc"]
    # A report sent, reviewed by nobody yet: Marc holds its review card.
    await joao.send("/report")
    await joao.press("✓")
    while (last := emulator.last_message(joao.user_id)) and "Skip" not in "".join(
            last.button_texts) and "Done" not in "".join(last.button_texts):
        await joao.send("3")
    while (last := emulator.last_message(joao.user_id)) and "Send" not in "".join(
            last.button_texts):
        await joao.press("Skip" if "Skip" in "".join(last.button_texts) else "Done")
    await joao.press("Send")
    report = await runner.store.reports.by_reference("R-2026-000001")
    assert report is not None
    # A field update waiting for its Send, then a report draft left open.
    await joao.send("The new bins arrived.")
    field_update = _buttons(emulator, joao)
    await joao.send("/report")
    draft = _buttons(emulator, joao)  # left open: its buttons would act for João
    # Marc's announcement, written up to its summary, not sent.
    await marc.send("/announce")
    await marc.send("Meeting on Monday")
    await marc.press("👥")
    announcement = _buttons(emulator, marc)
    # A questionnaire to dechets-garanhuns; João starts it.
    surveys = runner.services.surveys
    form, _new = await surveys.import_form(FORMS / "water_points.xlsx", runner.clock())
    campaign_id, _count = await surveys.launch(
        author=None, form=form, audience=Audience({"project": ("dechets-garanhuns",)}),
        joint=False, opens_at=runner.clock(),
        closes_at=runner.clock() + timedelta(days=7), now=runner.clock())
    await _quiet(runner, emulator)
    await joao.press("Start")
    response = _buttons(emulator, joao)
    # João's reminders.
    await runner.services.reminders.plan(runner.clock())
    joao_member = await runner.store.members.by_telegram_id(joao.user_id)
    assert joao_member is not None
    reminder_id = await runner.store.db.fetchval(
        "SELECT id FROM reminders WHERE member_id = ? ORDER BY id LIMIT 1", (joao_member.id,))
    assert reminder_id is not None
    project = await runner.store.network.project("dechets-garanhuns")
    assert project is not None
    sent = await runner.store.db.fetchval(
        "SELECT id FROM announcements WHERE status = 'done' ORDER BY id LIMIT 1")
    assert sent is not None
    return Objects(report.id, draft, field_update, announcement, response, campaign_id,
                   form.id, reminder_id, project.id, sent)


@dataclass
class Probe:
    label: str  # the prefix and whose object
    data: str
    unknown: str | None  # the same press naming an object that does not exist
    allowed: frozenset[str]  # who may press it (not pressed here: it would act)
    typed: bool = False  # a command with a reference, typed rather than pressed


def _swap(data: str, index: int) -> str:
    parts = data.split(":")
    parts[index] = str(UNKNOWN)
    return ":".join(parts)


async def _probes(runner: BotRunner, objects: Objects) -> list[Probe]:
    o = objects
    readers = frozenset({"João", "Marc", "Didier", "Sophie"})
    invited = {name for name, (uid, *_r) in PEOPLE.items()
               if await runner.store.db.fetchval(
                   "SELECT 1 FROM survey_invitations i JOIN members m ON m.id = i.member_id"
                   " WHERE i.campaign_id = ? AND m.telegram_user_id = ?", (o.campaign_id, uid))}
    probes = [Probe(f"rp: João's draft ({d.split(':')[1]})", d, _swap(d, 2), frozenset({"João"}))
              for d in o.draft]
    probes += [Probe(f"fu: João's field update ({d.split(':')[1]})", d, _swap(d, 2),
                     frozenset({"João"})) for d in o.field_update]
    probes += [
        Probe("am: João's report", f"am:{o.report_id}", f"am:{UNKNOWN}", frozenset({"João"})),
        Probe("rv:ok João's report (review)", f"rv:ok:{o.report_id}", f"rv:ok:{UNKNOWN}",
              frozenset({"Marc", "Sophie"})),
        Probe("rv:re João's report (review)", f"rv:re:{o.report_id}", f"rv:re:{UNKNOWN}",
              frozenset({"Marc", "Sophie"})),
        Probe("lv: João's report", f"lv:{o.report_id}", f"lv:{UNKNOWN}", readers),
        Probe("la: dechets-garanhuns", f"la:0:{o.project_id}", f"la:0:{UNKNOWN}", readers),
    ]
    probes += [Probe(f"an: Marc's draft ({d.split(':')[1]})", d, _swap(d, 2),
                     frozenset({"Marc"})) for d in o.announcement]
    # Its author may press the preview's "Received" (it explains what recipients will see).
    probes += [Probe("an:ack an announcement never sent", f"an:ack:{_id(o.announcement)}",
                     f"an:ack:{UNKNOWN}", frozenset({"Marc"}))]
    probes += [Probe(f"an:{action} a sent announcement (admins')",
                     f"an:{action}:{o.sent_announcement}", f"an:{action}:{UNKNOWN}",
                     frozenset({"Sophie"})) for action in ("who", "rm", "ra")]
    probes += [Probe(f"sv: João's response ({d.split(':')[1]})", d, _swap(d, 2),
                     frozenset({"João"})) for d in o.response]
    probes += [
        Probe("sv:go the campaign", f"sv:go:{o.campaign_id}", f"sv:go:{UNKNOWN}",
              frozenset(invited)),
        Probe("sr: the campaign's results", f"sr:{o.campaign_id}", f"sr:{UNKNOWN}",
              frozenset({"Marc", "Didier", "Sophie"})),
        Probe("sx: the campaign's answers", f"sx:{o.campaign_id}", f"sx:{UNKNOWN}",
              frozenset({"Marc", "Didier", "Sophie"})),
        Probe("sl:f launch a questionnaire", f"sl:f:{o.form_pk}", f"sl:f:{UNKNOWN}",
              frozenset({"Claire", "Marc", "Sophie"})),
        Probe("rm:go João's reminder", f"rm:go:{o.reminder_id}", f"rm:go:{UNKNOWN}",
              frozenset({"João"})),
        Probe("rm:1 João's reminder", f"rm:1:{o.reminder_id}", f"rm:1:{UNKNOWN}",
              frozenset({"João"})),
        Probe("rm:3 João's reminder", f"rm:3:{o.reminder_id}", f"rm:3:{UNKNOWN}",
              frozenset({"João"})),
        Probe("mr: own reports", "mr:0", None, frozenset(PEOPLE)),  # one's own, maybe none
        Probe("nt: notifications", "nt:1", None, frozenset({"Claire", "Marc", "Sophie"})),
        Probe("ac:l own language", "ac:l:en", None, frozenset(PEOPLE)),
        Probe("ac:f own /forget", "ac:f:1", None, frozenset(PEOPLE)),
        Probe("ob:l onboarding", "ob:l:en", None, frozenset()),
        Probe("ob:c onboarding", "ob:c:1", None, frozenset()),
        Probe("ob:back onboarding", "ob:back", None, frozenset()),
        # References typed with a command: out of scope reads exactly like unknown.
        Probe("/report João's report", "/report R-2026-000001", f"/report R-2026-{UNKNOWN}",
              readers, typed=True),
        Probe("/summary dechets-garanhuns", "/summary dechets-garanhuns", "/summary nowhere",
              readers, typed=True),
        Probe("/latest dechets-garanhuns", "/latest dechets-garanhuns", "/latest nowhere",
              readers, typed=True),
    ]
    # Numbers SQLite cannot hold, in every prefix: an expired button, never an error.
    probes += [Probe(f"20 digits: {data[:24]}", data, None, frozenset()) for data in FORGED]
    return probes


def _id(data: list[str]) -> str:
    return data[0].split(":")[2]


async def _press(emulator: BotApiEmulator, phone: Phone, data: str,
                 typed: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The answer to a forged press: its toasts and the texts of the messages sent."""
    phone.toasts = []
    messages = await (phone.send(data) if typed else phone.forge(data))
    emulator.drain_events(phone.user_id)
    # A typed reference is echoed back ("No report R-… among…"): what was typed, not a hint.
    echoed = data.split()[-1] if typed else None
    return tuple(phone.toasts), tuple(m.text.replace(echoed, "<ref>") if echoed else m.text
                                      for m in messages)


async def test_authorisation_matrix(runner: BotRunner, emulator: BotApiEmulator,
                                    capsys: Any) -> None:
    # Reminders and downloads run on timers: paused, so that a row they change is never taken
    # for the effect of a press (the outbox sender, not a timer, still delivers).
    assert runner.app is not None and runner.app.job_queue is not None
    for job in runner.app.job_queue.jobs():
        job.enabled = False
    phones = await _seed(runner)
    objects = await _victims(runner, phones, emulator)
    probes = await _probes(runner, objects)
    for phone in phones.values():
        emulator.drain_events(phone.user_id)
    actors = [name for names in ACTORS.values() for name in names]
    role_of = {name: role for role, names in ACTORS.items() for name in names}
    expired = tr("en", "This button has expired. Nothing was changed.")

    rows: list[list[str]] = []
    pressed = compared = 0
    wrongly_allowed: list[str] = []
    telling: list[str] = []
    changed: list[str] = []
    for probe in probes:
        row = [probe.label]
        for actor in actors:
            if actor in probe.allowed:
                row.append("ok")
                continue
            pressed += 1
            before = await _digest(runner)
            answer = await _press(emulator, phones[actor], probe.data, probe.typed)
            after = await _digest(runner)
            if before != after:
                tables = sorted(t for t in WATCHED if before[t] != after[t])
                changed.append(f"{actor}: {probe.data} changed {tables}")
            if probe.unknown is not None:
                compared += 1
                other = await _press(emulator, phones[actor], probe.unknown, probe.typed)
                if other != answer:
                    telling.append(f"{actor}: {probe.data} {answer} vs {other}")
            refused = before == after and (expired in answer[0] or (
                probe.unknown is not None and answer == other))
            if not refused:
                wrongly_allowed.append(f"{actor}: {probe.data} -> {answer}")
            row.append("refused" if refused else "ALLOWED")
        rows.append(row)

    header = ["press \\ actor"] + [f"{a} ({role_of[a]})" for a in actors]
    add_table(f"Forged presses: {pressed} refused presses checked, {compared} compared with an "
              f"unknown object; {len(wrongly_allowed)} allowed, {len(telling)} telling, "
              f"{len(changed)} state changes", header, rows)
    print("\n".join("  ".join(r) for r in [header, *rows]))
    print("WRONG", *wrongly_allowed, sep="\n")
    print("TELLING", *telling, sep="\n")
    print("CHANGED", *changed, sep="\n")
    assert wrongly_allowed == [], wrongly_allowed
    assert telling == [], telling
    assert changed == [], changed


# What a role that may not use a command is told (English msgids, so prefixes suffice).
REFUSALS = (
    "Hello! Palabre is the reporting and dialogue tool of your partnership.",  # visitors
    "Reports are sent by the partners of a project.",
    "Announcements are sent by coordinators and administrators.",
    "Questionnaires are sent by coordinators and administrators.",
    "Results are for coordinators and observers.",
    "This is for coordinators.",
    "Report notifications are for coordinators.",
)
# Answers that give nothing but the person's own (empty) data: no privilege, not a refusal.
OWN_ONLY = ("You have not sent any report yet.", "There is nothing to cancel.")


async def test_every_role_against_every_command(runner: BotRunner,
                                                emulator: BotApiEmulator) -> None:
    phones = await _seed(runner)
    actors = [name for names in ACTORS.values() for name in names]
    role_of = {name: role for role, names in ACTORS.items() for name in names}
    rows: list[list[str]] = []
    wrong: list[str] = []
    for command in COMMANDS:  # /stop and /forget come last (/forget only asks)
        row = ["/" + command.name]
        for actor in actors:
            role = role_of[actor]
            may = command.for_visitors if role == "visitor" else role in command.roles
            messages = await phones[actor].send("/" + command.name)
            emulator.drain_events(phones[actor].user_id)
            text = messages[0].text if messages else ""
            if text.startswith(OWN_ONLY):
                outcome = "own only"
            elif text.startswith(REFUSALS) and not (role == "visitor" and may):
                outcome = "refused"
            else:
                outcome = "allowed"
            if (outcome == "allowed" and not may) or (outcome == "refused" and may):
                wrong.append(f"{actor} ({role}) /{command.name}: {outcome}: {text[:60]}")
            row.append(outcome if (outcome == "allowed") == may or outcome == "own only"
                       else outcome.upper())
        rows.append(row)
    header = ["command \\ actor"] + [f"{a} ({role_of[a]})" for a in actors]
    add_table(f"Commands: {len(COMMANDS) * len(actors)} sent, {len(wrong)} answered against the "
              "role (own only: the person's own, empty, data)", header, rows)
    print("\n".join("  ".join(r) for r in [header, *rows]))
    assert wrong == [], wrong
