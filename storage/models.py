"""Pydantic models returned by the repositories."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
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
    reminders: str | None = None  # the reminder policy as JSON (None: the defaults)

    def title(self, language: str) -> str:
        """Return the name in `language` (a variant reads its language's: pt_BR → pt), else
        French, else any."""
        return (self.name.get(language) or self.name.get(language.split("_")[0])
                or self.name.get("fr") or next(iter(self.name.values())))


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
    notify_reports: bool = True
    unreachable_at: datetime | None = None  # the chat answered 403: nothing more is sent

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


ReportKind = Literal["report", "field_update"]
ReportStatus = Literal["submitted", "accepted", "returned", "amended"]


class DraftStep(StrEnum):
    """Where a report (or field update) draft stands; checked by the database (0017)."""

    PROJECT = "project"
    PERIOD = "period"
    VALUE = "value"  # `position`: the indicator asked
    NARRATIVE = "narrative"
    ATTACHMENTS = "attachments"
    CONFIRM = "confirm"
    FILE = "file"  # a field update: its files, then the project


class Draft(Model):
    id: int
    member_id: int
    kind: ReportKind
    project_id: int | None
    period_start: date | None
    period_end: date | None
    step: DraftStep
    position: int
    narrative: str | None
    amends_report_id: int | None
    media_group_id: str | None
    status: Literal["open", "submitted", "closed", "declined"]
    report_id: int | None
    created_at: datetime
    updated_at: datetime


class Attachment(Model):
    id: int
    member_id: int | None
    draft_id: int | None
    report_version_id: int | None
    purpose: Literal["attachment", "narrative"]
    kind: Literal["photo", "document", "video", "voice", "audio", "location", "text"]
    file_id: str | None
    file_unique_id: str | None
    mime_type: str | None
    size: int | None
    caption: str | None
    body: str | None
    latitude: float | None
    longitude: float | None
    media_group_id: str | None
    sha256: str | None
    path: str | None
    state: Literal["none", "pending", "stored", "refused"]
    attempts: int
    error: str | None


class Report(Model):
    id: int
    reference: str
    kind: ReportKind
    project_id: int
    member_id: int
    period_start: date | None
    period_end: date | None
    status: ReportStatus
    status_by: int | None
    status_at: datetime
    status_comment: str | None
    version: int
    created_at: datetime
    updated_at: datetime


AnnouncementStatus = Literal["draft", "scheduled", "sending", "done", "cancelled"]
OutboxState = Literal["pending", "sending", "sent", "failed", "unreachable", "uncertain"]


class AnnouncementStep(StrEnum):
    """Where an announcement being written in the chat stands; checked by the database."""

    TEXT = "text"  # waiting for its text (or a photo or document)
    RETEXT = "retext"  # waiting for a new text, from the hub
    AUDIENCE = "audience"  # the audience menu, right after the text
    HUB = "hub"  # the draft at a glance
    VERSION = "version"  # waiting for the version in `version_language`
    WHEN = "when"  # waiting for a typed date
    DONE = "done"  # confirmed


class Announcement(Model):
    id: int
    author_id: int | None
    status: AnnouncementStatus
    step: AnnouncementStep
    text: str
    media_kind: Literal["photo", "document"] | None
    media_file_id: str | None
    audience: str  # JSON {criterion: [values]}, read by bot.core.announcements.Audience
    ack: bool
    send_at: datetime | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    completed_at: datetime | None
    campaign_id: int | None = None  # an invitation to a survey campaign: a Start button
    version_language: str | None = None  # the language being typed (step VERSION)


class OutboxRow(Model):
    id: int
    announcement_id: int
    round: int
    member_id: int
    chat_id: int
    language: str
    state: OutboxState
    token: str | None
    attempts: int
    message_id: int | None
    error: str | None
    sent_at: datetime | None
    acked_at: datetime | None
    not_before: datetime | None = None  # quiet hours in the member's zone


class Recipient(Model):
    member_id: int
    telegram_user_id: int
    language: str
    role: Role
    organisation: str | None
    country: str | None
    projects: tuple[str, ...]
    timezone: str = "UTC"


class DeliveryCounts(Model):
    pending: int = 0  # pending or in flight
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    uncertain: int = 0
    acked: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.unreachable + self.uncertain


class ReminderRow(Model):
    id: int
    member_id: int
    project_id: int | None
    subject: str
    kind: str
    step: int
    due_at: datetime
    send_at: datetime
    state: str
    token: str | None
    message_id: int | None
    note: str | None


Side = Literal["collectivity", "partner"]


class SurveyForm(Model):
    id: int
    form_id: str
    version: int
    content_hash: str
    title: str
    definition: str  # JSON, read by bot.core.survey_forms.Definition
    source: str
    imported_at: datetime


class Campaign(Model):
    id: int
    form_pk: int
    created_by: int | None
    audience: str
    joint: bool
    opens_at: datetime
    closes_at: datetime
    created_at: datetime
    remind_days: str | None = None  # JSON list of days before the deadline (None: 3 and 1)


class LaunchDraft(Model):
    """The questionnaire a coordinator is preparing in /survey (one per member)."""

    member_id: int
    form_pk: int
    audience: str = "{}"  # JSON {criterion: [values]}, as an announcement's
    joint: bool = False
    days: int = 14  # the deadline, in days after the opening
    later: bool = False  # opens tomorrow at 08:00 instead of now


class ResponseStep(StrEnum):
    """Where a questionnaire being answered stands; checked by the database (0017)."""

    QUESTION = "question"  # `position` and `iteration` name it
    REVIEW = "review"
    PAUSED = "paused"  # /cancel: resumes at `resume_step`
    CLOSED = "closed"  # refused after the deadline (resumes at a question if extended)
    DONE = "done"  # submitted


class SurveyResponse(Model):
    id: int
    campaign_id: int
    member_id: int
    side: Side
    status: Literal["open", "submitted"]
    step: ResponseStep
    resume_step: ResponseStep | None = None
    position: int
    iteration: int = 0  # of the repeat the current question belongs to (0: none)
    page: int
    turn: int
    editing: bool
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
