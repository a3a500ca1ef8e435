"""The core's ordered list of free-input flows: the order, the role rules, the fallbacks.

The flows' services are stand-ins that record who was asked: the end-to-end suites
(test_reliability, test_integrity, test_reports, test_surveys, test_announcements…) check the
same routing through Telegram with the real services.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.events import Location, MediaMessage, Text
from bot.core.free_input import FLOWS, FreeInputRouter
from bot.core.people import Person
from bot.core.replies import Outcome, Reply
from storage.models import Member

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SENDER = Person(user_id=42, first_name="Awa")


def _member(role: str = "partner") -> Member:
    return Member.model_validate({
        "id": 1, "telegram_user_id": 42, "display_name": "Awa", "username": None, "role": role,
        "organisation_id": None, "language": "fr", "timezone": "Africa/Dakar",
        "consent_at": NOW, "status": "active", "invitation_id": None, "created_at": NOW,
        "updated_at": NOW})


class _Flow:
    """A service whose listed methods answer (or not), recording every call."""

    def __init__(self, name: str, calls: list[str], answers: set[str]) -> None:
        self._name, self._calls, self._answers = name, calls, answers

    def __getattr__(self, method: str) -> Any:
        async def call(*_args: object, **_kwargs: object) -> Outcome | None:
            key = f"{self._name}.{method}"
            self._calls.append(key)
            return Outcome.of(Reply(key)) if key in self._answers else None

        return call


class _Account:
    def not_understood(self, member: Member) -> Outcome:
        return Outcome.of(Reply("not understood"))

    async def help(self, member: Member | None) -> Outcome:
        return Outcome.of(Reply("how to join"))

    async def cancel(self, user_id: int, member: Member | None) -> Outcome:
        return Outcome.of(Reply("nothing to cancel"))


class _Onboarding(_Flow):
    def resume(self, pending: object) -> Outcome:
        return Outcome.of(Reply("onboarding resumed"))


class _Store:
    """Report draft touched last, no pending onboarding."""

    def __init__(self, report: bool, survey: bool) -> None:
        self.reports = _Draft(report)
        self.surveys = _Response(survey)
        self.onboarding = _Pending()


class _Draft:
    def __init__(self, open_: bool) -> None:
        self.open_ = open_

    async def open_draft(self, member_id: int, kind: str) -> object:
        return type("D", (), {"updated_at": NOW})() if self.open_ else None


class _Response:
    def __init__(self, open_: bool) -> None:
        self.open_ = open_

    async def open_response(self, member_id: int) -> object:
        return type("R", (), {"updated_at": datetime(2026, 2, 1, tzinfo=UTC)})() \
            if self.open_ else None


class _Pending:
    async def get(self, user_id: int) -> object:
        return None


def _router(answers: set[str], calls: list[str], *, report: bool = True,
            survey: bool = True) -> FreeInputRouter:
    def flow(name: str) -> Any:
        return _Flow(name, calls, answers)

    return FreeInputRouter(
        _Store(report, survey),  # type: ignore[arg-type]
        onboarding=_Onboarding("onboarding", calls, answers),  # type: ignore[arg-type]
        account=_Account(),  # type: ignore[arg-type]
        announcements=flow("announcements"), reviews=flow("reviews"), reports=flow("reports"),
        surveys=flow("surveys"), field_updates=flow("field_updates"),
        max_download_bytes=lambda: 1000)


def _text(body: str, reply_to: int | None = None) -> Text:
    return Text(channel="telegram", sender=SENDER, chat_id=42, message_id=7, reply_to=reply_to,
                body=body)


def _photo(size: int = 10, caption: str | None = None) -> MediaMessage:
    return MediaMessage(channel="telegram", sender=SENDER, chat_id=42, message_id=8,
                        kind="photo", file_id="F", size=size, caption=caption)


def test_the_list_in_its_order() -> None:
    assert [flow.name for flow in FLOWS] == [
        "announcement reply", "announcement being written", "review comment",
        "reshow after a lost reply", "guided flow touched last", "field update (text)",
        "field update (file)", "invitation code"]
    # Visitors are served by the code alone; members by everything else.
    assert [f.name for f in FLOWS if "visitor" in f.serves] == ["invitation code"]
    # A file outside any flow is a field update from a partner only.
    file_update = next(f for f in FLOWS if f.name == "field update (file)")
    assert file_update.serves == frozenset({"partner"})


async def test_a_text_is_asked_in_the_list_order_until_one_takes_it() -> None:
    calls: list[str] = []
    router = _router({"field_updates.receive_text"}, calls)
    taken = await router.take(_text("hello"), _member(), NOW)
    assert taken.flow == "field update (text)" and not taken.shows_state
    assert calls == ["announcements.on_text", "reviews.on_text", "reports.on_text",
                     "surveys.on_text", "field_updates.receive_text"]


async def test_a_reply_to_an_announcement_comes_first() -> None:
    calls: list[str] = []
    router = _router({"announcements.on_reply", "announcements.on_text"}, calls)
    taken = await router.take(_text("merci", reply_to=5), _member(), NOW)
    assert taken.flow == "announcement reply" and calls == ["announcements.on_reply"]
    # A reply without words is handled as if it replied to nothing.
    calls.clear()
    taken = await router.take(_text("  ", reply_to=5), _member(), NOW)
    assert taken.flow == "announcement being written"
    assert calls == ["announcements.on_text"]


async def test_a_lost_reply_shows_the_flow_again_instead_of_taking_the_text() -> None:
    calls: list[str] = []
    router = _router({"reports.reshow", "reports.on_text"}, calls)
    taken = await router.take(_text("12"), _member(), NOW, reply_lost=True)
    assert taken.flow == "reshow after a lost reply" and taken.shows_state
    assert "reports.on_text" not in calls
    # Without a lost reply the same text answers the report.
    taken = await router.take(_text("12"), _member(), NOW)
    assert taken.flow == "guided flow touched last" and not taken.shows_state


async def test_a_file_is_never_reshown_and_goes_to_the_flow_touched_last() -> None:
    calls: list[str] = []
    router = _router({"reports.on_media", "surveys.on_media"}, calls)
    taken = await router.take(_photo(), _member(), NOW, reply_lost=True)
    assert taken.flow == "guided flow touched last"
    assert calls == ["announcements.on_media", "reports.on_media"]


async def test_a_file_outside_any_flow_is_a_partners_field_update_only() -> None:
    calls: list[str] = []
    router = _router({"field_updates.receive"}, calls, report=False, survey=False)
    assert (await router.take(_photo(), _member("partner"), NOW)).flow == "field update (file)"
    taken = await router.take(_photo(), _member("observer"), NOW)
    assert taken.flow == "" and taken.outcome.replies[0].text == "not understood"


async def test_a_forged_place_reaches_no_flow() -> None:
    calls: list[str] = []
    router = _router({"reports.on_media"}, calls)
    place = Location(channel="telegram", sender=SENDER, chat_id=42, message_id=9,
                     latitude=91.0, longitude=0.0)
    taken = await router.take(place, _member(), NOW)
    assert taken.flow == "" and calls == []


async def test_a_visitor_code_is_read_as_a_code_and_a_members_never() -> None:
    calls: list[str] = []
    router = _router({"onboarding.start", "field_updates.receive_text"}, calls)
    taken = await router.take(_text("ABCD-EFGH-JKMN-PQ"), None, NOW)
    assert taken.flow == "invitation code" and calls == ["onboarding.start"]
    taken = await router.take(_text("ABCD-EFGH-JKMN-PQ"), _member(), NOW)
    assert "onboarding.start" not in calls[1:]
    # A visitor's other words: the way to join.
    taken = await router.take(_text("bonjour"), None, NOW)
    assert taken.outcome.replies[0].text == "how to join"


async def test_cancel_leaves_the_first_flow_of_the_list() -> None:
    calls: list[str] = []
    router = _router({"surveys.cancel", "field_updates.cancel"}, calls)
    outcome = await router.cancel(_member(), 42, NOW)
    assert outcome.replies[0].text == "surveys.cancel"
    assert calls == ["announcements.cancel", "reviews.cancel", "reports.cancel",
                     "surveys.cancel"]
    assert (await router.cancel(None, 42, NOW)).replies[0].text == "nothing to cancel"
