"""Creating, checking, listing and revoking invitations."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import codes
from storage import Store
from storage.models import Invitation, Organisation, Role

MAX_FAILED_CODES = 5
FAILED_CODES_WINDOW = timedelta(hours=1)
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class InvitationError(Exception):
    """An invitation cannot be created as asked; the message says why."""


def parse_duration(text: str) -> timedelta:
    """Parse '30m', '12h', '14d' or '2w'."""
    match = _DURATION.match(text.lower())
    if not match or int(match[1]) == 0:
        raise InvitationError(f"not a duration: {text!r} (examples: 12h, 14d, 2w)")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def whatsapp_link(phone_number: str, code: str) -> str:
    """A `wa.me` link that opens a chat with the business number, the code already typed
    (the person only taps Send: a typed code is taken as an invitation)."""
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    return f"https://wa.me/{digits}?text={code}"


@dataclass(frozen=True)
class NewInvitation:
    code: str  # shown once; only its hash is stored
    invitation: Invitation
    organisation: Organisation | None


async def _pick_organisation(
    store: Store, role: Role, project_ids: list[int], org_slug: str | None
) -> Organisation | None:
    wanted_kind = {"partner": "partner", "observer": "collectivity"}.get(role)
    linked: dict[str, Organisation] | None = None
    for pid in project_ids:
        orgs = {o.slug: o for o in await store.network.project_organisations(pid)}
        linked = orgs if linked is None else {k: v for k, v in linked.items() if k in orgs}
    if org_slug is not None:
        org = await store.network.organisation(org_slug)
        if org is None:
            raise InvitationError(f"unknown organisation {org_slug!r}")
        if wanted_kind and org.kind != wanted_kind:
            raise InvitationError(f"a {role} belongs to a {wanted_kind} organisation, not {org.kind}")
        if linked is not None and org.slug not in linked:
            raise InvitationError(f"organisation {org_slug!r} takes no part in every project given")
        return org
    if role == "admin":
        return None
    candidates = [o for o in (linked or {}).values() if wanted_kind in (None, o.kind)]
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(sorted(o.slug for o in candidates)) or "none"
    raise InvitationError(f"--org is needed for a {role}: candidates are {names}")


async def create(
    store: Store, *, role: Role, project_slugs: list[str], org_slug: str | None,
    uses: int, expires_in: timedelta, now: datetime,
) -> NewInvitation:
    """Create an invitation and return its code (the only time it is known)."""
    if uses < 1:
        raise InvitationError("--uses must be at least 1")
    if role != "admin" and not project_slugs:
        raise InvitationError(f"a {role} invitation needs --project")
    project_ids = []
    for slug in project_slugs:
        project = await store.network.project(slug)
        if project is None:
            raise InvitationError(f"unknown project {slug!r} (load network.yaml first)")
        project_ids.append(project.id)
    org = await _pick_organisation(store, role, project_ids, org_slug)
    code = codes.new_code()
    canonical = codes.normalize(code)
    assert canonical is not None
    async with store.transaction():
        label = codes.new_label()
        while await store.invitations.label_taken(label):
            label = codes.new_label()
        invitation_id = await store.invitations.create(
            code_hash=codes.code_hash(canonical), label=label, role=role,
            organisation_id=None if org is None else org.id, project_ids=project_ids,
            max_uses=uses, expires_at=now + expires_in, now=now,
        )
    invitation = await store.invitations.by_id(invitation_id)
    assert invitation is not None
    return NewInvitation(code, invitation, org)


class CodeCheck(enum.Enum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    THROTTLED = "throttled"


async def check(
    store: Store, telegram_user_id: int, text: str, now: datetime
) -> tuple[CodeCheck, Invitation | None]:
    """Check a code typed or linked by someone (reads only: the caller records a failure with
    `record_failure`, in the transaction of its own writes)."""
    since = now - FAILED_CODES_WINDOW
    failures = await store.onboarding.failed_codes_since(telegram_user_id, since)
    if len(failures) >= MAX_FAILED_CODES:
        return CodeCheck.THROTTLED, None
    canonical = codes.normalize(text)
    invitation = None if canonical is None else await store.invitations.by_hash(
        codes.code_hash(canonical))
    if invitation is None:
        result = CodeCheck.UNKNOWN
    elif invitation.revoked_at is not None:
        result = CodeCheck.REVOKED
    elif invitation.uses >= invitation.max_uses:
        result = CodeCheck.USED
    elif now >= invitation.expires_at:
        result = CodeCheck.EXPIRED
    else:
        return CodeCheck.OK, invitation
    return result, invitation


async def record_failure(store: Store, telegram_user_id: int, now: datetime) -> None:
    """Count a wrong code against brute force (inside the caller's transaction)."""
    await store.onboarding.record_failed_code(telegram_user_id, now)


async def throttled_until(store: Store, telegram_user_id: int, now: datetime) -> datetime | None:
    """When a throttled person may try again (the oldest failure leaves the window)."""
    failures = await store.onboarding.failed_codes_since(telegram_user_id, now - FAILED_CODES_WINDOW)
    if len(failures) < MAX_FAILED_CODES:
        return None
    return failures[-MAX_FAILED_CODES] + FAILED_CODES_WINDOW


async def revoke(store: Store, text: str, now: datetime) -> bool:
    """Revoke by full code or by the label `invite list` shows; say whether one was revoked."""
    canonical = codes.normalize(text)
    async with store.transaction():
        if canonical is not None:
            return await store.invitations.revoke(codes.code_hash(canonical), now)
        label = text.strip().lstrip("#").upper()
        if len(label) != codes.LABEL_LENGTH:
            raise InvitationError("give the whole code, or the label `invite list` shows")
        return await store.invitations.revoke_by_label(label, now)
