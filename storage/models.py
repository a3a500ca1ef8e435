"""Pydantic models returned by the repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["partner", "coordinator", "observer", "admin"]
ROLES: tuple[Role, ...] = ("partner", "coordinator", "observer", "admin")
OrgKind = Literal["collectivity", "partner"]
MemberStatus = Literal["pending", "active", "stopped", "forgotten"]
IndicatorType = Literal["integer", "decimal", "percent"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Organisation(Model):
    id: int
    slug: str
    kind: OrgKind
    name: str
    country: str
    timezone: str


class Indicator(Model):
    id: int
    project_id: int
    code: str
    name: dict[str, str]
    unit: str
    type: IndicatorType
    target: float | None
    min_value: float | None
    max_value: float | None
    position: int


class Project(Model):
    id: int
    slug: str
    name: dict[str, str]
    country: str
    timezone: str
    cadence: str

    def title(self, language: str) -> str:
        """Return the name in `language`, else French, else any."""
        return self.name.get(language) or self.name.get("fr") or next(iter(self.name.values()))


class Member(Model):
    id: int
    telegram_user_id: int | None
    display_name: str | None
    username: str | None
    role: Role
    organisation_id: int | None
    language: str
    timezone: str
    consent_at: datetime | None
    status: MemberStatus
    invitation_id: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class Invitation(Model):
    id: int
    label: str
    role: Role
    organisation_id: int | None
    max_uses: int
    uses: int
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
    project_ids: tuple[int, ...]

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.uses < self.max_uses and now < self.expires_at


class Onboarding(Model):
    telegram_user_id: int
    invitation_id: int | None
    step: Literal["language", "consent"]
    language: str
    display_name: str | None
    username: str | None


class InboxEntry(Model):
    update_id: int
    telegram_user_id: int | None
    payload: str | None
    status: Literal["pending", "handled", "failed"]
