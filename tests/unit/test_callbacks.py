"""The callback codec: one class per prefix, packed and parsed the same way everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.callbacks import (
    AnnouncementAction,
    Forget,
    LatestPage,
    MyReportsPage,
    Notifications,
    OnboardingBack,
    ReportStep,
    SurveyAnswer,
    SurveyLaunch,
    SurveyStart,
    prefixes,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("ref", [
    AnnouncementAction("av", 3, "p.eau-ziguinchor"), AnnouncementAction("ok", 12),
    ReportStep("pe", 7, "2026-01-01/2026-01-31"), SurveyAnswer("c", 12, "3.0", "4"),
    SurveyAnswer("ok", 5, "r"), SurveyStart(9), SurveyLaunch("a", "p#2"), SurveyLaunch("go"),
    LatestPage(10, 0), MyReportsPage(5), Notifications(True), Forget(False), OnboardingBack(),
])
def test_a_reference_reads_back_as_itself(ref: object) -> None:
    data = ref.pack()  # type: ignore[attr-defined]
    assert type(ref).parse(data) == ref
    assert type(ref).matches(data)


def test_the_formats_are_those_phones_already_hold() -> None:
    # Buttons sent before an upgrade keep working: the data is the same as it always was.
    assert AnnouncementAction("ack", 4).pack() == "an:ack:4"
    assert SurveyAnswer("c", 12, "3.0", "1").pack() == "sv:c:12:3.0:1"
    assert SurveyStart(9).pack() == "sv:go:9"
    assert LatestPage(5, 0).pack() == "la:5:0"
    assert Notifications(False).pack() == "nt:0"
    assert OnboardingBack().pack() == "ob:back"
    assert SurveyLaunch("a", "all").pack() == "sl:a:all"


@pytest.mark.parametrize("data", [
    "an:ok:x", "an:ok", "an", "la:5", "la:5:0:1", "la:a:0", "nt:2", "nt:1:1", "mr:", "mr:-1",
    "sv:c:x:1.0", "sv:c:12", "rp:ok", "ob:backx", "ac:f:", None, 42, "zz:1",
])
def test_garbled_data_is_no_reference(data: object) -> None:
    for cls in prefixes().values():
        parsed = cls.parse(data)
        assert parsed is None or parsed.pack().split(":")[0] == str(data).split(":")[0], (cls, data)
    assert AnnouncementAction.parse(data) is None or data == "an:ok"


def test_a_garbled_reference_still_reaches_its_feature_unless_exact() -> None:
    # A prefix-routed feature answers a garbled press itself (as expired); an exact one leaves
    # it to the catch-all.
    assert AnnouncementAction.matches("an:zz") and AnnouncementAction.parse("an:zz") is None
    assert not MyReportsPage.matches("mr:abc")
    assert not Notifications.matches("nt:2")


def test_every_prefix_is_declared_once_and_no_module_writes_one_by_hand() -> None:
    assert len(prefixes()) == len(set(prefixes()))
    alternatives = "|".join(re.escape(p) for p in prefixes())
    handwritten = re.compile(f'f"({alternatives}):')
    splits = re.compile(r'\.split\(":"')
    for path in [*(ROOT / "bot" / "core").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not handwritten.search(text), path
        # The codec itself, and "hh:mm:ss" times (not callback data).
        if path.name not in ("callbacks.py", "expressions.py"):
            assert not splits.search(text), path
        assert "CallbackQueryHandler(" not in text or 'pattern=r"' not in text, path
        assert ".choice(r\"" not in text and ".choice(re." not in text, path
