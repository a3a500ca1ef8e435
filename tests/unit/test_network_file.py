"""network.yaml: validated with clear messages, loaded idempotently."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import network_file
from bot.core.network_file import NetworkFileError
from bot.core.reminders import policy_of
from storage import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def test_sample_network_loads_idempotently(tmp_path: Path) -> None:
    spec = network_file.read(ROOT / "examples" / "network.yaml")
    assert (len(spec.collectivities), len(spec.partners), len(spec.projects)) == (2, 3, 3)
    assert len({p.timezone for p in spec.partners}) == 3
    store = await Store.open(tmp_path / "n.db")
    try:
        first = await network_file.load(store, spec, NOW)
        counts = [await store.db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in  # noqa: S608
                  ("organisations", "projects", "project_organisations", "indicators")]
        second = await network_file.load(store, spec, NOW)
        again = [await store.db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in  # noqa: S608
                 ("organisations", "projects", "project_organisations", "indicators")]
        assert first == second
        assert counts == again == [5, 3, 7, 6]
        project = await store.network.project("eau-ziguinchor")
        assert project is not None
        assert project.title("pt") == "Água potável em Ziguinchor"
        assert project.cadence == "FREQ=MONTHLY;BYMONTHDAY=25"
        indicators = await store.network.indicators(project.id)
        assert [i.code for i in indicators] == ["wells", "households", "committees"]
        assert (indicators[2].type, indicators[2].min_value, indicators[2].max_value) == (
            "percent", 0.0, 100.0)
    finally:
        await store.close()


BASE = """
collectivities: [{id: rennes, name: Rennes, country: FR, timezone: Europe/Paris}]
partners: [{id: zig, name: Ziguinchor, country: SN, timezone: Africa/Dakar}]
"""


@pytest.mark.parametrize(("extra", "message"), [
    ("projects: [{id: p, name: P, country: SN, timezone: Mars/Base, collectivities: [rennes],"
     " partners: [zig], cadence: FREQ=MONTHLY}]", "unknown time zone 'Mars/Base'"),
    ("projects: [{id: p, name: P, country: SN, timezone: UTC, collectivities: [lyon],"
     " partners: [zig], cadence: FREQ=MONTHLY}]", "unknown collectivity 'lyon'"),
    ("projects: [{id: p, name: P, country: SN, timezone: UTC, collectivities: [rennes],"
     " partners: [zig], cadence: every month}]", "not an iCalendar RRULE"),
    ("projects: [{id: p, name: P, country: SN, timezone: UTC, collectivities: [rennes],"
     " partners: [zig], cadence: FREQ=MONTHLY, indicators: [{code: a, name: A, min: 5,"
     " max: 1}]}]", "min is greater than max"),
    ("projects: [{id: p, name: {de: P}, country: SN, timezone: UTC, collectivities: [rennes],"
     " partners: [zig], cadence: FREQ=MONTHLY}]", "unknown languages ['de']"),
    ("projects: [{id: p, name: P, country: SN, timezone: UTC, collectivities: [rennes],"
     " partners: [zig], cadence: FREQ=MONTHLY;BYMONTHDAY=99}]", "not a usable RRULE"),
    ("members: [{telegram_id: 5, role: king}]", "members.0.role"),
    ("surprise: 1", "surprise: Extra inputs are not permitted"),
])
def test_invalid_networks_are_explained(extra: str, message: str) -> None:
    with pytest.raises(NetworkFileError, match=None) as caught:
        network_file.parse(BASE + extra)
    assert message in str(caught.value)


def test_cadence_as_dates() -> None:
    spec = network_file.parse(BASE + "projects: [{id: p, name: P, country: SN, timezone: UTC,"
                              " collectivities: [rennes], partners: [zig],"
                              " cadence: [2026-06-30, 2026-03-31]}]")
    assert spec.projects[0].cadence_text() == "DATES:2026-03-31,2026-06-30"


def test_not_yaml() -> None:
    with pytest.raises(NetworkFileError, match="not valid YAML"):
        network_file.parse("a: [b")


async def test_a_project_reminder_policy_is_stored(tmp_path: Path) -> None:
    spec = network_file.parse(BASE + "projects: [{id: p, name: P, country: SN, timezone: UTC,"
                              " collectivities: [rennes], partners: [zig], cadence: FREQ=MONTHLY,"
                              " reminders: {before: [5], escalate_north: null,"
                              " hours: ['09:00', '18:30']}}]")
    store = await Store.open(tmp_path / "p.db")
    try:
        await network_file.load(store, spec, datetime(2026, 3, 3, tzinfo=UTC))
        project = await store.network.project("p")
    finally:
        await store.close()
    assert project is not None
    policy = policy_of(project)
    assert policy.before == (5,) and policy.escalate_north is None
    assert policy.hours[1].hour == 18 and policy.hours[1].minute == 30


def test_a_bad_reminder_policy_is_explained() -> None:
    with pytest.raises(NetworkFileError, match=r"reminders\.overdue_every"):
        network_file.parse(BASE + "projects: [{id: p, name: P, country: SN, timezone: UTC,"
                           " collectivities: [rennes], partners: [zig], cadence: FREQ=MONTHLY,"
                           " reminders: {overdue_every: 0}}]")
