"""Sample history for `palabre demo`: a network that has been running for months.

Without it the demo shows empty charts and nothing late. With it: reports for past periods
(a history for /summary's charts), the water project's last period left unreported (late:
reminders, /overdue), a report waiting for review, and a joint questionnaire already answered
by both sides (for /results). Everything goes through the repositories, as the bot writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.core import network_file
from bot.core.announcements import Audience
from bot.core.periods import Cadence
from bot.core.surveys import SurveyService
from storage import Store

HISTORY_DAYS = 200  # the network was loaded this long ago


@dataclass(frozen=True)
class SamplePerson:
    user_id: int
    name: str
    role: str
    org: str
    projects: tuple[str, ...]
    language: str
    timezone: str


# People who were there before the demo's personas join (they never type in the demo).
SAMPLE_PEOPLE = (
    SamplePerson(2001, "Ibrahima", "partner", "ziguinchor", ("eau-ziguinchor",), "fr",
                 "Africa/Dakar"),
    SamplePerson(2002, "Ana", "partner", "garanhuns", ("dechets-garanhuns",), "pt",
                 "America/Recife"),
    SamplePerson(2003, "Luis", "partner", "cusco", ("ecoles-cusco",), "es", "America/Lima"),
    SamplePerson(2004, "Hélène", "observer", "rennes", (), "fr", "Europe/Paris"),
    SamplePerson(2005, "Didier", "observer", "drome", (), "fr", "Europe/Paris"),
)
# A slow start, then progress: the values of each indicator over the past periods.
GROWTH = (0.2, 0.35, 0.45, 0.6, 0.7, 0.8, 0.85, 0.9)
ANSWERS = (  # satisfaction, improve, strengths, meetings
    ("yes", None, "trust training", "6"),
    ("partly", "Plus de visites sur le terrain", "funding", "4"),
    ("partly", "Des réunions plus régulières", "trust visits", "3"),
    ("yes", None, "training", "8"),
    ("no", "Les fonds arrivent en retard", "trust", "2"),
)


async def seed_history(store: Store, surveys: SurveyService, survey_file: Path,
                       now: datetime, timezone: str) -> None:
    """Load the network as of HISTORY_DAYS ago and write its past (see the module)."""
    started = now - timedelta(days=HISTORY_DAYS)
    await network_file.load(store, network_file.read(survey_file.with_name("network.yaml")),
                            started, timezone)
    projects = {p.slug: p for p in await store.network.projects()}
    orgs = {o.slug: o.id for o in await store.network.organisations()}
    members: dict[str, int] = {}
    async with store.transaction():
        for person in SAMPLE_PEOPLE:
            members[person.name] = await store.members.create(
                telegram_user_id=person.user_id, display_name=person.name, username=None,
                role=person.role,  # type: ignore[arg-type]
                organisation_id=orgs[person.org], language=person.language,
                timezone=person.timezone, status="active", consent_at=started,
                invitation_id=None, project_ids=[projects[s].id for s in person.projects],
                now=started)
    for person in SAMPLE_PEOPLE:
        for slug in person.projects:
            await _reports(store, projects[slug].id, projects[slug].cadence,
                           members[person.name], started, now,
                           late=slug == "eau-ziguinchor")
    form, _new = await surveys.import_form(survey_file, started)
    campaign_id, _count = await surveys.launch(
        author=None, form=form, audience=Audience(), joint=True,
        opens_at=now - timedelta(days=10), now=now,
        closes_at=(now + timedelta(days=20)).date())  # the end of that day, for everyone
    answering = [members[p.name] for p in SAMPLE_PEOPLE]
    async with store.transaction():
        for member_id, (satisfied, improve, strengths, meetings) in zip(
                answering, ANSWERS, strict=True):
            side = await store.surveys.invitation_side(campaign_id, member_id)
            if side is None:
                continue
            moment = now - timedelta(days=5)
            response_id = await store.surveys.start_response(campaign_id, member_id, side, 0,
                                                             moment)
            for question, value in (("satisfaction", satisfied), ("improve", improve),
                                    ("strengths", strengths), ("meetings", meetings),
                                    ("consent", "OK")):
                if value is not None:
                    await store.surveys.set_answer(response_id, question, value, moment)
            await store.surveys.update_response(response_id, moment, status="submitted",
                                                submitted_at=moment)


async def _reports(store: Store, project_id: int, cadence: str, member_id: int,
                   started: datetime, now: datetime, *, late: bool) -> None:
    """One report per period ended since the network started, the last one left out when
    `late` (the project is then overdue); the latest one sent waits for review."""
    rule = Cadence(cadence)
    ends = rule.due_dates(started.date(), now.date() - timedelta(days=1))
    if late and ends:
        ends = ends[:-1]
    ends = ends[-len(GROWTH):]
    indicators = await store.network.indicators(project_id)
    for index, end in enumerate(ends):
        period = rule.period_ending(end)
        moment = datetime.combine(end + timedelta(days=1), datetime.min.time(),
                                  tzinfo=now.tzinfo) + timedelta(hours=10)
        share = GROWTH[min(index, len(GROWTH) - 1)]
        values = [(i.id, _value(i.type, i.target, share)) for i in indicators]
        async with store.transaction():
            report_id = await store.reports.create_report(
                kind="report", prefix="R", project_id=project_id, member_id=member_id,
                period_start=period.start, period_end=period.end, chat_id=None, now=moment)
            await store.reports.add_version(report_id, 1, narrative=None, created_by=member_id,
                                            now=moment, values=values)
            if index < len(ends) - 1:
                await store.reports.set_status(report_id, "accepted", member_id, moment)


def _value(kind: str, target: float | None, share: float) -> Decimal:
    value = (target or 100) * share
    return Decimal(round(value)) if kind == "integer" else Decimal(str(round(value, 1)))
