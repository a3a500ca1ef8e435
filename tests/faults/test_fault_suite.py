"""The fault suite, small size: the real `palabre run` process against a faulty emulator,
SIGKILLed 3 times while 10 partners file a guided report and answer a survey, and an
announcement, survey invitations and reminders are sent (tests/auxil/fault_suite.py).

The suite runs once for the module; each figure is its own test, so that one failing figure
does not hide the others. benchmarks/bench_faults.py runs the full size (100 partners, 20
kills).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.emulator import FaultPlan
from tests.auxil.fault_suite import Figures, SuiteConfig, run_fault_suite

CONFIG = SuiteConfig(
    partners=10, kills=3, seed=1,
    faults=FaultPlan(seed=1, server_error=0.02, drop_before=0.01, drop_after=0.01,
                     too_many=0.01, latency=0.02, spike=(0.2, 1.0)),
)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Figures:
    folder: Path = tmp_path_factory.mktemp("faults")
    found = asyncio.run(run_fault_suite(CONFIG, folder))
    print(f"\nFault suite (small), bot log in {folder}:\n{found.table()}")
    for line in found.examples():
        print("  " + line)
    return found


def _why(figures: Figures) -> str:
    return "\n" + figures.table() + "\n" + "\n".join(figures.examples())


def test_the_suite_really_killed_and_faulted(figures: Figures) -> None:
    assert figures.kills == CONFIG.kills, _why(figures)
    assert figures.faults["server_error"] and figures.faults["drop_after"], _why(figures)
    assert figures.reports >= CONFIG.partners and figures.updates > 10 * CONFIG.partners


def test_no_update_lost(figures: Figures) -> None:
    assert figures.updates_lost == 0, _why(figures)


def test_no_update_failed(figures: Figures) -> None:
    assert figures.updates_failed == 0, _why(figures)


def test_no_update_handled_twice(figures: Figures) -> None:
    assert figures.updates_handled_twice == 0, _why(figures)


def test_no_answer_on_another_question(figures: Figures) -> None:
    assert figures.wrong_answers == 0, _why(figures)


def test_every_answer_stored(figures: Figures) -> None:
    assert figures.missing_answers == 0, _why(figures)


def test_no_duplicate_report_or_response(figures: Figures) -> None:
    assert figures.duplicate_submissions == 0, _why(figures)


def test_nothing_delivered_twice_while_recorded_sent(figures: Figures) -> None:
    assert figures.delivered_twice_recorded_sent == 0, _why(figures)


def test_no_stall(figures: Figures) -> None:
    assert figures.stalls == 0, _why(figures)


def test_nobody_gives_up(figures: Figures) -> None:
    assert figures.stuck_people == 0, _why(figures)


def test_database_integrity(figures: Figures) -> None:
    assert figures.integrity == "ok", _why(figures)
