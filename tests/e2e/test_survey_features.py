"""Real-form features through the real conversation: the defects D1–D6 of issue 16, the
progress total, metadata, repeats, read-only values, a location off the Earth, and the view of
what is saved so far (after a lost reply)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.announcements import Audience
from bot.emulator import BotApiEmulator
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr
from tests.e2e.test_announcements import seed, settled

FORMS = Path(__file__).parent.parent / "forms"


async def _open(runner: BotRunner, emulator: BotApiEmulator, name: str, user_id: int) -> Phone:
    await seed(runner, user_id, "Walker", language="en")
    phone = Phone(runner, user_id)
    form, _created = await runner.services.surveys.import_form(FORMS / name, runner.clock())
    now = runner.clock()
    await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"language": ("en",)}), joint=False,
        opens_at=now, closes_at=now + timedelta(days=7), now=now)
    await settled(runner)
    emulator.drain_events(user_id)
    return phone


def _labels(message: Any) -> list[str]:
    return [label for label, _data in message.buttons]


async def test_household_visit_d1_to_d6_metadata_and_repeats(
        runner: BotRunner, emulator: BotApiEmulator) -> None:
    phone = await _open(runner, emulator, "household_visit.xlsx", 911)
    [pending] = await phone.send("/surveys")
    replies = await phone.press("▶", pending)
    welcome = replies[-1]
    # The media label comes first, as a photo (the file found beside the form at import).
    assert replies[-2].kind == "photo"
    # Metadata are never asked; Markdown and HTML become the chat's markup (D5).
    assert "<b>Household visit</b>" in welcome.text or "Household visit" in welcome.text
    assert "<br/>" not in welcome.text and "**" not in welcome.text
    replies = await phone.press(tr("en", "Continue"))
    [voice, region] = replies[-2:]
    assert "Region" in region.text
    assert voice.kind == "voice"  # a voice prompt, for people who read with difficulty
    # D2: a choices sheet headed `list name` keeps its columns: the cascade offers North's.
    [district] = (await phone.press("North"))[-1:]
    assert _labels(district)[:2] == ["North One", "North Two"]
    assert "South One" not in _labels(district)
    assert "In north" in district.text  # D5: ${region} replaced in the hint
    [electricity] = (await phone.press("North Two"))[-1:]
    # D4: the default is shown by its label, and kept as its name.
    assert tr("en", "Keep: {value}", value="No") in _labels(electricity)
    [member] = (await phone.press(tr("en", "Keep: {value}", value="No")))[-1:]
    # D1: `begin repeat` with a space runs as a loop.
    assert "Name of member 1" in member.text and "Household member 1" in member.text
    [age] = (await phone.send("Awa"))[-1:]
    assert "Age of Awa" in age.text
    # D3: a constraint naming its own question checks the value being answered.
    [refused] = await phone.send("150")
    assert "Between 0 and 119" in refused.text
    [loop] = (await phone.send("34"))[-1:]
    assert tr("en", "Add another «{name}»?", name="Household member") in loop.text
    [second] = (await phone.press(tr("en", "Yes")))[-1:]
    assert "Name of member 2" in second.text
    await phone.send("Moussa")
    await phone.send("8")
    [summary] = (await phone.press(tr("en", "No")))[-1:]
    # A read-only calculation is shown, not asked: count() and indexed-repeat().
    assert "2 people, first: Awa" in summary.text
    assert not any(tr("en", "Skip") == label for label in _labels(summary))
    [visits] = (await phone.press(tr("en", "Continue")))[-1:]
    assert "How many follow-up visits?" in visits.text
    [visit_day] = (await phone.send("1"))[-1:]
    # repeat_count: one iteration, with a computed default (today()).
    assert "Day of visit 1" in visit_day.text
    assert any(label.startswith(tr("en", "Keep: {value}", value="")) for label in
               _labels(visit_day))
    [committee] = (await phone.press(tr("en", "Keep: {value}", value="")[:5]))[-1:]
    # D6: a long choice is listed in full in the message, its button shortened with "…".
    assert "1. Shared management committee with the municipality, the water users' " \
           "association and the district health office" in committee.text
    assert any(label.startswith("1. Shared") and label.endswith("…")
               for label in _labels(committee))
    [name] = (await phone.press("1. Shared"))[-1:]
    assert "Managed by: shared" in name.text
    await phone.press(tr("en", "Skip"))  # committee_name
    [when] = (await phone.press(tr("en", "Skip")))[-1:]  # visit_time
    # A conditional required: required only with electricity, so here it may be skipped.
    assert "Next meeting" in when.text and tr("en", "Skip") in _labels(when)
    [since] = (await phone.press(tr("en", "Skip")))[-1:]
    assert tr("en", "Send a month and a year, for example {example}.",
              example=runner.clock().strftime("%m/%Y")) in since.text
    [location] = (await phone.send("03/2024"))[-1:]
    assert "Location of the house" in location.text
    # A location outside the Earth's bounds is refused, in the member's language.
    [off] = await phone.send("95 10")
    assert tr("en", "This location is not on Earth: latitude goes from -90 to 90 and "
                    "longitude from -180 to 180.") in off.text
    [signature] = (await phone._settle(emulator.send_location(911, 14.7, -17.4)))[-1:]
    assert tr("en", "Draw or sign on paper, then send a photo of it.") in signature.text
    # What is saved so far, then the question again (the lead calls it after a lost reply).
    member = await runner.store.members.by_telegram_id(911)
    assert member is not None
    shown = await runner.services.surveys.where_you_are(member, runner.clock())
    assert shown is not None and "Awa" in shown.replies[0].text
    assert "Signature" in shown.replies[-1].text
    [bye] = (await phone._settle(emulator.send_photo(911, b"\x89PNG" + b"p" * 200)))[-1:]
    assert "Thank you! 2 people, North Two." in bye.text  # jr:choice-name
    [review] = (await phone.press(tr("en", "Continue")))[-1:]
    assert tr("en", "Check your answers") in review.text and "Awa" in review.text
    [receipt] = await phone.press(tr("en", "Send my answers"))
    assert receipt.text.startswith("✅")
    response = await runner.store.surveys.response_of(1, member.id)
    assert response is not None
    answers = await runner.store.surveys.answers(response.id)
    assert answers["member_name[2]"][0] == "Moussa" and answers["age[1]"][0] == "34"
    assert answers["total_age"][0] == "42" and answers["members"][0] == "2"
    assert answers["rounded"][0] == "14"
    assert answers["day"][0] == runner.clock().date().isoformat()
    assert answers["device"][0] == f"palabre:{member.id}" and answers["user"][0] == "Walker"
    assert answers["started"][0] and answers["ended"][0]
    assert answers["district_label"][0] == "North Two" and answers["first_pick"][0] == "shared"
    assert answers["since"][0] == "2024-03-01"
    assert answers.get("next_meeting", (None, None)) == (None, None)


async def test_progress_total_does_not_jump_as_relevance_opens_questions(
        runner: BotRunner, emulator: BotApiEmulator) -> None:
    phone = await _open(runner, emulator, "progress_total.xlsx", 912)
    [pending] = await phone.send("/surveys")
    first = (await phone.press("▶", pending))[-1]
    assert first.text.startswith("1/12")  # the ten details may still come
    old_no = next(data for label, data in first.buttons if label == "No")
    second = (await phone.press("Yes"))[-1]
    assert second.text.startswith("2/12")
    # The first question's button pressed again (an older message): nothing changes, the
    # current question is shown again.
    again = await phone.forge(old_no, first.message_id)
    assert tr("en", "That button belongs to an earlier question. Here is where you are:") \
        in again[0].text and "Detail 1" in again[-1].text
    member = await runner.store.members.by_telegram_id(912)
    assert member is not None
    response = await runner.store.surveys.response_of(1, member.id)
    assert response is not None
    assert (await runner.store.surveys.answers(response.id))["any"] == ("yes", None)
    back = (await phone.press(tr("en", "Back")))[-1]
    assert back.text.startswith("1/12")
    after_no = (await phone.press("No"))[-1]
    assert after_no.text.startswith("2/2")
