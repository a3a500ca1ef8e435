"""Who is writing: the channel-independent facts the core needs about a person."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, _
from storage.models import Role


@dataclass(frozen=True)
class Person:
    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p).strip()[:128]


ROLE_NAMES: dict[Role, str] = {
    "partner": N_("partner"),
    "coordinator": N_("coordinator"),
    "observer": N_("observer"),
    "admin": N_("administrator"),
}


def role_name(role: Role) -> str:
    """Return the role's name in the current language."""
    return _(ROLE_NAMES[role])
