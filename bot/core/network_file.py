"""The network description (network.yaml): its schema and its idempotent loading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config import LANGUAGES, UiLanguage
from bot.core.periods import Cadence
from bot.core.reminder_policy import ReminderPolicy
from storage import Store
from storage.models import IndicatorType, Role

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
_RRULE_PART = re.compile(r"^[A-Z]+=[A-Za-z0-9,+\-:]+$")
_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class NetworkFileError(Exception):
    """The network file cannot be read or is not valid; the message lists every problem."""


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _names(value: dict[str, str] | str) -> dict[str, str]:
    names = {"fr": value} if isinstance(value, str) else dict(value)
    unknown = set(names) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"unknown languages {sorted(unknown)}; use {', '.join(LANGUAGES)}")
    if not any(v.strip() for v in names.values()):
        raise ValueError("a name is needed")
    return names


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationSpec(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=200)
    country: Country
    timezone: str

    _tz = field_validator("timezone")(_timezone)


class IndicatorSpec(Strict):
    code: Slug
    name: dict[str, str] | str
    unit: str = ""
    type: IndicatorType = "integer"
    target: float | None = None
    min: float | None = None
    max: float | None = None

    _names = field_validator("name")(_names)

    @model_validator(mode="after")
    def _bounds(self) -> IndicatorSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.type == "percent":
            self.min = 0.0 if self.min is None else self.min
            self.max = 100.0 if self.max is None else self.max
        return self


class ProjectSpec(Strict):
    id: Slug
    name: dict[str, str] | str
    country: Country
    timezone: str
    collectivities: list[Slug] = Field(min_length=1)
    partners: list[Slug] = Field(min_length=1)
    cadence: str | list[date]
    indicators: list[IndicatorSpec] = Field(default_factory=list)
    reminders: ReminderPolicy | None = None

    _names = field_validator("name")(_names)
    _tz = field_validator("timezone")(_timezone)

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, value: str | list[date]) -> str | list[date]:
        if isinstance(value, list):
            if not value:
                raise ValueError("an explicit list of dates needs at least one date")
            return sorted(set(value))
        rule = value.removeprefix("RRULE:")
        parts = [p for p in rule.split(";") if p]
        if not parts or not all(_RRULE_PART.match(p) for p in parts):
            raise ValueError(f"not an iCalendar RRULE: {value!r}")
        keys = dict(p.split("=", 1) for p in parts)
        if keys.get("FREQ") not in _FREQS:
            raise ValueError(f"RRULE needs FREQ= one of {sorted(_FREQS)}")
        try:
            cadence = Cadence(rule)
            if cadence.due_on_or_after(date(2000, 1, 1)) is None:
                raise ValueError("it yields no date")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a usable RRULE {value!r}: {exc}") from exc
        return rule

    @field_validator("indicators")
    @classmethod
    def _unique_codes(cls, value: list[IndicatorSpec]) -> list[IndicatorSpec]:
        codes = [i.code for i in value]
        if len(set(codes)) != len(codes):
            raise ValueError("indicator codes must be unique within a project")
        return value

    def cadence_text(self) -> str:
        """Return the cadence as stored: an RRULE, or 'DATES:' and ISO dates."""
        if isinstance(self.cadence, list):
            return "DATES:" + ",".join(d.isoformat() for d in self.cadence)
        return self.cadence


class MemberSpec(Strict):
    telegram_id: int = Field(gt=0)
    name: str | None = None
    role: Role
    organisation: Slug | None = None
    projects: list[Slug] = Field(default_factory=list)
    language: UiLanguage = "fr"
    timezone: str | None = None

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        # Brazilian Portuguese as people write it (pt-BR) or as the catalogs are named (pt_BR).
        if isinstance(value, str) and value.replace("-", "_").lower() == "pt_br":
            return "pt_BR"
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _timezone(value)


class NetworkSpec(Strict):
    collectivities: list[OrganisationSpec] = Field(default_factory=list)
    partners: list[OrganisationSpec] = Field(default_factory=list)
    projects: list[ProjectSpec] = Field(default_factory=list)
    members: list[MemberSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> NetworkSpec:
        north = {o.id for o in self.collectivities}
        south = {o.id for o in self.partners}
        problems = []
        orgs = [o.id for o in self.collectivities + self.partners]
        dupes = sorted({o for o in orgs if orgs.count(o) > 1})
        if dupes:
            problems.append(f"organisation ids used twice: {', '.join(dupes)}")
        project_ids = [p.id for p in self.projects]
        if len(set(project_ids)) != len(project_ids):
            problems.append("project ids must be unique")
        for p in self.projects:
            problems += [f"project {p.id}: unknown collectivity {c!r}"
                         for c in p.collectivities if c not in north]
            problems += [f"project {p.id}: unknown partner organisation {c!r}"
                         for c in p.partners if c not in south]
        for m in self.members:
            if m.organisation is not None and m.organisation not in north | south:
                problems.append(f"member {m.telegram_id}: unknown organisation {m.organisation!r}")
            problems += [f"member {m.telegram_id}: unknown project {p!r}"
                         for p in m.projects if p not in set(project_ids)]
        telegram_ids = [m.telegram_id for m in self.members]
        if len(set(telegram_ids)) != len(telegram_ids):
            problems.append("a telegram_id is listed twice under members")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader without aliases: `*a` repeated in nests (a "billion laughs") would make
    validation walk an exponential tree; a network file never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.YAMLError(f"aliases (*{event.anchor}) are not accepted, line "
                                 f"{event.start_mark.line + 1}")
        return super().compose_node(parent, index)


def parse(text: str, source: str = "network.yaml") -> NetworkSpec:
    """Parse and validate a network description, or raise NetworkFileError naming each problem."""
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  # a safe loader, see below
    except yaml.YAMLError as exc:
        raise NetworkFileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise NetworkFileError(f"{source}: expected a mapping with collectivities, partners, projects")
    try:
        return NetworkSpec.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise NetworkFileError("\n".join(lines)) from exc


MAX_FILE_BYTES = 5 * 1024 * 1024  # a network of thousands of declared members fits well under


def read(path: Path) -> NetworkSpec:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise NetworkFileError(f"{path}: {size} bytes, larger than the limit of "
                                   f"{MAX_FILE_BYTES} bytes for a network file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NetworkFileError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise NetworkFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse(text, str(path))


@dataclass(frozen=True)
class LoadSummary:
    organisations: int
    projects: int
    indicators: int
    members: int


async def load(store: Store, spec: NetworkSpec, now: datetime,
               default_timezone: str = "UTC") -> LoadSummary:
    """Upsert the whole network in one transaction (loading twice changes nothing more)."""
    async with store.transaction():
        org_ids: dict[str, int] = {}
        org_tz: dict[str, str] = {}
        for kind, specs in (("collectivity", spec.collectivities), ("partner", spec.partners)):
            for org in specs:
                org_ids[org.id] = await store.network.upsert_organisation(
                    slug=org.id, kind=kind, name=org.name, country=org.country,
                    timezone=org.timezone, now=now,
                )
                org_tz[org.id] = org.timezone
        project_ids: dict[str, int] = {}
        indicator_count = 0
        for project in spec.projects:
            pid = await store.network.upsert_project(
                slug=project.id, name=_names(project.name), country=project.country,
                timezone=project.timezone, cadence=project.cadence_text(),
                organisation_ids=[org_ids[s] for s in project.collectivities + project.partners],
                now=now, reminders=None if project.reminders is None
                else project.reminders.model_dump_json(),
            )
            project_ids[project.id] = pid
            await store.network.replace_indicators(pid, [
                {"code": i.code, "name": _names(i.name), "unit": i.unit, "type": i.type,
                 "target": i.target, "min": i.min, "max": i.max}
                for i in project.indicators
            ])
            indicator_count += len(project.indicators)
        for m in spec.members:
            org_id = org_ids.get(m.organisation) if m.organisation else None
            timezone = m.timezone or (org_tz[m.organisation] if m.organisation else default_timezone)
            projects = [project_ids[p] for p in m.projects]
            existing = await store.members.by_telegram_id(m.telegram_id)
            if existing is None:
                await store.members.create(
                    telegram_user_id=m.telegram_id, display_name=m.name, username=None,
                    role=m.role, organisation_id=org_id, language=m.language, timezone=timezone,
                    status="pending", consent_at=None, invitation_id=None,
                    project_ids=projects, now=now,
                )
            else:
                await store.members.update(
                    existing.id, now, role=m.role, organisation_id=org_id, timezone=timezone,
                )
                await store.members.add_projects(existing.id, projects)
    return LoadSummary(len(org_ids), len(project_ids), indicator_count, len(spec.members))
