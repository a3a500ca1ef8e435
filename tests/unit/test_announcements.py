"""Announcements without Telegram: audiences, language choice, typed dates, the outbox's
state machine, and the broadcast's place behind interactive replies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.telegram.ratelimit import FloodLimiter
from bot.core.announcements import (
    AnnouncementService,
    Audience,
    AudienceError,
    choose_text,
    parse_moment,
)
from storage import Store
from storage.models import Recipient

NOW = datetime(2026, 3, 3, 13, 5, tzinfo=UTC)


def _person(**fields: object) -> Recipient:
    base: dict[str, object] = {"member_id": 1, "telegram_user_id": 11, "language": "fr",
                               "role": "partner", "organisation": "ziguinchor",
                               "country": "SN", "projects": ("eau-ziguinchor",)}
    return Recipient.model_validate({**base, **fields})


def test_audience_from_the_command_line() -> None:
    audience = Audience.parse(["project=eau-ziguinchor", "role=partner,observer", "country=sn"])
    assert audience.criteria == {"project": ("eau-ziguinchor",),
                                 "role": ("partner", "observer"), "country": ("SN",)}
    assert Audience.parse(["everyone"]).criteria == {}
    assert Audience.from_json(audience.to_json()) == audience
    for bad in ("planet=mars", "role=chief", "language=de", "project=", "eau"):
        with pytest.raises(AudienceError):
            Audience.parse([bad])


def test_criteria_are_and_across_kinds_or_within_one() -> None:
    awa = _person()
    marc = _person(member_id=2, role="observer", organisation="drome", country="FR",
                   projects=("dechets-garanhuns",), language="en")
    both = [awa, marc]
    assert Audience().select(both) == both
    assert Audience.parse(["role=partner,observer"]).select(both) == both
    assert Audience.parse(["role=observer", "country=SN"]).select(both) == []
    assert Audience.parse(["project=dechets-garanhuns"]).select(both) == [marc]
    assert Audience.parse(["language=en"]).select(both) == [marc]
    assert Audience.parse(["organisation=ziguinchor"]).select(both) == [awa]


def test_each_member_gets_their_language_or_the_default() -> None:
    versions = {"en": "Meeting", "pt": "Reunião"}
    assert choose_text("Réunion", versions, "en") == "Meeting"
    assert choose_text("Réunion", versions, "es") == "Réunion"


def test_typed_dates_are_read_in_the_persons_time_zone() -> None:
    paris = parse_moment("10/03 09:30", "Europe/Paris", NOW)
    assert paris == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    assert parse_moment("2026-03-10 9h", "Africa/Dakar", NOW) == datetime(2026, 3, 10, 9,
                                                                           tzinfo=UTC)
    assert parse_moment("01/01", "UTC", NOW) == datetime(2027, 1, 1, 8, tzinfo=UTC)
    for bad in ("tomorrow", "31/02 10:00", "2026-03-01 10:00"):
        assert parse_moment(bad, "UTC", NOW) is None


def test_a_broadcast_leaves_room_for_replies() -> None:
    now = [100.0]
    limiter = FloodLimiter(overall_per_second=30, clock=lambda: now[0])
    granted = 0
    while limiter.broadcast_delay(10_000 + granted) == (0.0, 0.0):
        granted += 1
    assert 0 < granted < 30  # not the whole burst
    # A reply to someone goes at once, however busy the broadcast is.
    assert limiter.chat_delay("sendMessage", 42) == 0.0
    assert limiter.overall_delay("sendMessage") == 0.0
    overall, chat = limiter.broadcast_delay(99)
    assert overall > 0 and chat == 0
    now[0] += 1.0
    assert limiter.broadcast_delay(99) == (0.0, 0.0)
    # One person's chat is paced for broadcasts too (bursts of 3 less a 0.25 s cushion,
    # then 1 a second).
    for _ in range(2):
        now[0] += 0.15
        assert limiter.broadcast_delay(99) == (0.0, 0.0)
    now[0] += 0.1
    assert limiter.broadcast_delay(99)[1] > 0


async def test_the_outbox_state_machine(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        async with store.transaction():
            ids = [await store.members.create(
                telegram_user_id=500 + i, display_name=f"P{i}", username=None, role="partner",
                organisation_id=None, language="fr", timezone="UTC", status="active",
                consent_at=NOW, invitation_id=None, project_ids=[], now=NOW) for i in range(3)]
        service = AnnouncementService(store, "UTC")
        announcement_id, count = await service.publish_new(
            author=None, text="Bonjour", versions={}, audience=Audience(), ack=False,
            send_at=None, now=NOW)
        assert count == 3 and service.queued.is_set()
        rows = await service.due(10, NOW)
        assert [r.member_id for r in rows] == ids
        first, second, third = rows

        assert await service.claim(first, "t1")
        assert not await service.claim(first, "t2")  # claimed once only
        await service.delivered(first, "wrong", 77, NOW)  # another attempt's answer: ignored
        assert (await store.announcements.row(first.id)).state == "sending"  # type: ignore[union-attr]
        await service.delivered(first, "t1", 77, NOW)
        row = await store.announcements.row(first.id)
        assert row is not None and (row.state, row.message_id) == ("sent", 77)

        assert await service.claim(second, "t3")
        assert await service.claim(third, "t4")
        # The process dies here: both rows are in flight.
        assert await service.reconcile() == 2
        assert await service.due(10, NOW) == []  # uncertain rows are not re-sent on their own
        # The attempt that was in flight may still report: its answer settles the row.
        await service.delivered(third, "t4", 78, NOW)
        counts = await store.announcements.counts(announcement_id)
        assert (counts.sent, counts.uncertain, counts.pending) == (2, 1, 0)
        # A press on "Received" proves delivery of the uncertain one.
        async with store.transaction():
            await store.announcements.acknowledge(second.id, NOW, 79)
        counts = await store.announcements.counts(announcement_id)
        assert (counts.sent, counts.uncertain, counts.acked) == (3, 0, 1)
        # Sent from the command line, and no administrator to tell.
        assert await service.complete_finished(NOW) == []
        assert (await store.announcements.get(announcement_id)).status == "done"  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_unreachable_members_get_nothing_more(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        async with store.transaction():
            member_id = await store.members.create(
                telegram_user_id=500, display_name="Gone", username=None, role="partner",
                organisation_id=None, language="fr", timezone="UTC", status="active",
                consent_at=NOW, invitation_id=None, project_ids=[], now=NOW)
        service = AnnouncementService(store, "UTC")
        await service.publish_new(author=None, text="Un", versions={}, audience=Audience(),
                                  ack=False, send_at=None, now=NOW)
        second, _count = await service.publish_new(author=None, text="Deux", versions={},
                                                   audience=Audience(), ack=False,
                                                   send_at=None, now=NOW)
        first_row, second_row = await service.due(10, NOW)
        assert await service.claim(first_row, "t")
        await service.unreachable(first_row, "t", NOW)
        assert await service.due(10, NOW) == []  # the second announcement's row is dropped
        assert (await store.announcements.counts(second)).unreachable == 1
        assert await service.recipients(None, Audience()) == []
        async with store.transaction():
            await store.announcements.member_reachable(member_id)
        assert len(await service.recipients(None, Audience())) == 1
        del second_row
    finally:
        await store.close()
