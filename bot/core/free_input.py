"""Who gets a free input — a typed text, a file, a location: one ordered list of the flows.

A person's free input is not addressed to any flow (unlike a command or a pressed choice), so
the bot must decide which open flow it belongs to. `FLOWS` lists every flow that may take one,
in the order they are asked; the first that takes it answers, and free input is never dropped
(a partner's stray text or file becomes a field update; anything left is answered with "not
understood", or the way to join for a visitor). Each entry names the kinds it takes and the
people it serves; the flow's own state (a draft, a comment being written, an open
questionnaire) decides the rest, in its service.

The same list gives `/cancel` its order: the first flow under way that can be left is left.

Channel-neutral: a channel's adapter hands in a `bot.core.events` event and renders the
`Outcome` it gets back, through the routers (`handlers/messages.py` for texts, files and
places, `handlers/account.py` for /cancel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core import codes, guided
from bot.core.account import AccountService
from bot.core.announcements import AnnouncementService
from bot.core.events import FreeInput, Location, MediaMessage, Text
from bot.core.field_updates import FieldUpdateService
from bot.core.media import location_refused
from bot.core.onboarding import OnboardingService
from bot.core.replies import Outcome
from bot.core.reports import ReportService
from bot.core.reviews import ReviewService
from bot.core.surveys import SurveyService
from storage import Store
from storage.models import ROLES, Member, Role

InputKind = Literal["text", "file", "location"]
Who = Role | Literal["visitor"]

EVERY_MEMBER: frozenset[Who] = frozenset(ROLES)
VISITORS: frozenset[Who] = frozenset({"visitor"})
ANY_INPUT: frozenset[InputKind] = frozenset({"text", "file", "location"})


def kind_of(event: FreeInput) -> InputKind:
    """Which kind of free input the event is."""
    if isinstance(event, Text):
        return "text"
    if isinstance(event, Location):
        return "location"
    return "file"


@dataclass(frozen=True)
class Taken:
    """What the free input got: the answer, and whether it only showed a step again."""

    outcome: Outcome
    flow: str  # the entry of `FLOWS` that took it ("" when nothing did)
    # Nothing moved: the flow under way was shown again (see docs/architecture.md, "Lost
    # replies": such an update leaves the pending-reply note alone).
    shows_state: bool = False


@dataclass(frozen=True)
class Input:
    """One free input as the flows see it."""

    event: FreeInput
    kind: InputKind
    member: Member | None
    now: datetime
    # The person's previous update may not have reached them (see `UpdateScope.reply_lost`).
    reply_lost: bool
    refused: bool  # a file over the download limit: kept as a mention, never fetched

    def known_member(self) -> Member:
        """The member (the flow serves members only, see `Flow.serves`)."""
        if self.member is None:
            raise ValueError("a member's flow was given a visitor's input")
        return self.member

    @property
    def words(self) -> str:
        """The text, or a file's caption ("" for a location)."""
        if isinstance(self.event, Text):
            return self.event.body
        if isinstance(self.event, MediaMessage):
            return self.event.caption or ""
        return ""


Take = Callable[["FreeInputRouter", Input], Awaitable[Outcome | None]]
Cancel = Callable[["FreeInputRouter", Member, datetime], Awaitable[Outcome | None]]


@dataclass(frozen=True)
class Flow:
    """One flow that may take a free input."""

    name: str
    takes: frozenset[InputKind]
    serves: frozenset[Who]
    take: Take
    cancel: Cancel | None = None  # how /cancel leaves it (None: nothing to leave)
    shows_state: bool = False  # it only shows the flow under way again


class FreeInputRouter:
    """Give each free input to the first flow of `FLOWS` that takes it."""

    def __init__(self, store: Store, *, onboarding: OnboardingService, account: AccountService,
                 announcements: AnnouncementService, reviews: ReviewService,
                 reports: ReportService, surveys: SurveyService,
                 field_updates: FieldUpdateService,
                 max_download_bytes: Callable[[], int]) -> None:
        self.store = store
        self.onboarding = onboarding
        self.account = account
        self.announcements = announcements
        self.reviews = reviews
        self.reports = reports
        self.surveys = surveys
        self.field_updates = field_updates
        self.max_download_bytes = max_download_bytes  # read at each file: settings may change

    async def take(self, event: FreeInput, member: Member | None, now: datetime, *,
                   reply_lost: bool = False) -> Taken:
        """Answer a free input: the first flow of `FLOWS` that takes it, else a fallback."""
        if member is not None and isinstance(event, Location) \
                and not event.media().has_valid_location:
            # A forged place is never stored, never shown: no flow sees it.
            return Taken(location_refused(), "")
        size = event.size if isinstance(event, MediaMessage) else None
        item = Input(event, kind_of(event), member, now, reply_lost,
                     refused=size is not None and size > self.max_download_bytes())
        who: Who = member.role if member is not None else "visitor"
        for flow in FLOWS:
            if item.kind not in flow.takes or who not in flow.serves:
                continue
            outcome = await flow.take(self, item)
            if outcome is not None:
                return Taken(outcome, flow.name, flow.shows_state)
        return Taken(await self._fallback(item), "")

    async def cancel(self, member: Member | None, user_id: int, now: datetime) -> Outcome:
        """Leave the first flow under way, in `FLOWS`' order; else say there was none."""
        if member is not None:
            for flow in FLOWS:
                if flow.cancel is not None and member.role in flow.serves:
                    outcome = await flow.cancel(self, member, now)
                    if outcome is not None:
                        return outcome
        # A visitor's onboarding, or nothing under way.
        return await self.account.cancel(user_id, member)

    async def _fallback(self, item: Input) -> Outcome:
        if item.member is not None:
            return self.account.not_understood(item.member)
        # A visitor is shown where their onboarding stopped, else how to join.
        pending = await self.store.onboarding.get(item.event.sender.user_id)
        return self.onboarding.resume(pending) if pending else await self.account.help(None)

    # --- the flows' ways of taking an input, in `FLOWS`' order ------------------------------

    async def _announcement_reply(self, item: Input) -> Outcome | None:
        member = item.known_member()
        reply_to = item.event.numeric_reply_to
        message_id = item.event.numeric_message_id
        if reply_to is None or message_id is None or not item.words.strip():
            return None
        return await self.announcements.on_reply(member, item.event.chat_id, reply_to,
                                                 message_id, item.words, item.now)

    async def _announcement_written(self, item: Input) -> Outcome | None:
        member = item.known_member()
        if isinstance(item.event, Text):
            return await self.announcements.on_text(member, item.event.body, item.now)
        if isinstance(item.event, MediaMessage):
            return await self.announcements.on_media(member, item.event.kind,
                                                     item.event.file_id, item.event.caption,
                                                     item.now)
        # A location is no announcement: refused the same way as any other unusable file.
        return await self.announcements.on_media(member, "location", None, None, item.now)

    async def _cancel_announcement(self, member: Member, now: datetime) -> Outcome | None:
        return await self.announcements.cancel(member, now)

    async def _review_comment(self, item: Input) -> Outcome | None:
        member = item.known_member()
        if not isinstance(item.event, Text):
            return None
        return await self.reviews.on_text(member, item.event.body, item.now)

    async def _cancel_review(self, member: Member, _now: datetime) -> Outcome | None:
        return await self.reviews.cancel(member)

    async def _reshow(self, item: Input) -> Outcome | None:
        member = item.known_member()
        if not item.reply_lost:
            return None
        for flow in await guided.under_way(self.store, member):
            outcome = (await self.reports.reshow(member, item.now) if flow == "report"
                       else await self.surveys.where_you_are(member, item.now))
            if outcome is not None:
                return outcome
        return None

    async def _guided(self, item: Input) -> Outcome | None:
        member = item.known_member()
        for flow in await guided.under_way(self.store, member):
            outcome = await (self._report_input(item, member) if flow == "report"
                             else self._survey_input(item, member))
            if outcome is not None:
                return outcome
        return None

    async def _report_input(self, item: Input, member: Member) -> Outcome | None:
        if isinstance(item.event, Text):
            return await self.reports.on_text(member, item.event.body, item.now)
        return await self.reports.on_media(member, item.event.media(), item.refused, item.now)

    async def _survey_input(self, item: Input, member: Member) -> Outcome | None:
        if isinstance(item.event, Text):
            return await self.surveys.on_text(member, item.event.body, item.now)
        media = item.event.media()
        return await self.surveys.on_media(member, media.kind, media.file_id, media.latitude,
                                           media.longitude, item.now)

    async def _cancel_guided(self, member: Member, now: datetime) -> Outcome | None:
        # A report before a questionnaire, whichever was touched last (as /cancel always did).
        return (await self.reports.cancel(member, now)
                or await self.surveys.cancel(member, now))

    async def _field_update_text(self, item: Input) -> Outcome | None:
        member = item.known_member()
        if not isinstance(item.event, Text):
            return None
        return await self.field_updates.receive_text(member, item.event.media(), item.now)

    async def _field_update_file(self, item: Input) -> Outcome | None:
        member = item.known_member()
        if isinstance(item.event, Text):
            return None
        return await self.field_updates.receive(member, item.event.media(), item.refused,
                                                item.now)

    async def _cancel_field_update(self, member: Member, now: datetime) -> Outcome | None:
        return await self.field_updates.cancel(member, now)

    async def _invitation_code(self, item: Input) -> Outcome | None:
        if not isinstance(item.event, Text):
            return None
        if not codes.looks_like_code(item.event.body):
            return None
        return await self.onboarding.start(item.event.sender, item.event.body, item.now)


FLOWS: tuple[Flow, ...] = (
    # A reply to an announcement (Telegram's reply, WhatsApp's context) names its target: it
    # goes to the announcement's author whatever else is open. A file counts by its caption; a
    # reply without words is handled as if it replied to nothing.
    Flow("announcement reply", frozenset({"text", "file"}), EVERY_MEMBER,
         FreeInputRouter._announcement_reply),
    # An announcement being written, then a review comment being written: both are short
    # steps a coordinator or an administrator opened on purpose just before (their commands
    # check the role; here the open draft decides, so that a role changed meanwhile does not
    # send the words elsewhere), so they come before the longer-lived guided flows. The
    # announcement's step takes a photo or document too (a location is refused there).
    Flow("announcement being written", ANY_INPUT, EVERY_MEMBER,
         FreeInputRouter._announcement_written, cancel=FreeInputRouter._cancel_announcement),
    Flow("review comment", frozenset({"text"}), EVERY_MEMBER,
         FreeInputRouter._review_comment, cancel=FreeInputRouter._cancel_review),
    # When the last reply may not have reached the person, their text is not the answer to a
    # question they may not have seen: the flow under way is shown again (nothing moves, see
    # docs/architecture.md, "Lost replies"). Before the guided flows, which would take it.
    # Files and locations are not retyped answers: they go on to be kept.
    Flow("reshow after a lost reply", frozenset({"text"}), EVERY_MEMBER,
         FreeInputRouter._reshow, shows_state=True),
    # The guided flow touched last (a report or a questionnaire: `bot/core/guided.py`), never
    # another flow's current question.
    Flow("guided flow touched last", ANY_INPUT, EVERY_MEMBER, FreeInputRouter._guided,
         cancel=FreeInputRouter._cancel_guided),
    # Outside any flow, a partner's text becomes a field update; anyone's text typed soon
    # after an announcement is offered to its author as an answer (FieldUpdateService decides
    # by role). Last for members: it takes whatever a partner sends, so free input is never
    # dropped.
    Flow("field update (text)", frozenset({"text"}), EVERY_MEMBER,
         FreeInputRouter._field_update_text, cancel=FreeInputRouter._cancel_field_update),
    # A file or place outside any flow: a partner's field update; from others, "not
    # understood".
    Flow("field update (file)", frozenset({"file", "location"}), frozenset({"partner"}),
         FreeInputRouter._field_update_file),
    # A visitor who typed the invitation code instead of opening the link: the same as
    # `/start CODE`. Visitors only: a member's text is never read as a code (a report's words,
    # a comment…), so it never counts towards the wrong-code lockout either.
    Flow("invitation code", frozenset({"text"}), VISITORS, FreeInputRouter._invitation_code),
)
