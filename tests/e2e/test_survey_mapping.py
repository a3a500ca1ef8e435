"""Field mapping through the real conversation: a line (geotrace) and an area (geoshape) as
locations shared one after the other, saved as ODK saves them; a questionnaire whose data file
was not given at import waits for it, and says which one; a repeat inside a repeat (a census of
plots and their trees), with its photos named in Kobo's export layout."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.announcements import Audience
from bot.core.surveys import LaunchError
from bot.emulator import BotApiEmulator, SentMessage
from bot.exports import survey_wide
from tests.auxil.runner import BotRunner, Phone
from tests.auxil.texts import tr, trn
from tests.e2e.test_announcements import seed, settled

FORMS = Path(__file__).parent.parent / "forms"


def _labels(message: SentMessage) -> list[str]:
    return [label for label, _data in message.buttons]


async def test_a_form_without_its_data_file_waits_for_it(
        runner: BotRunner, emulator: BotApiEmulator, tmp_path: Path) -> None:
    alone = tmp_path / "upload" / "field_mapping.xlsx"
    alone.parent.mkdir()
    shutil.copy(FORMS / "field_mapping.xlsx", alone)
    surveys = runner.services.surveys
    form, _new = await surveys.import_form(alone, runner.clock())
    assert surveys.definition(form).missing_files == ("villages.csv",)
    now = runner.clock()
    with pytest.raises(LaunchError, match=r"needs villages\.csv"):
        await surveys.launch(author=None, form=form, audience=Audience(), joint=False,
                             opens_at=now, closes_at=now + timedelta(days=7), now=now)
    # In the chat, a coordinator choosing it is told which file is missing.
    await seed(runner, 921, "Claire", role="coordinator", language="en")
    coordinator = Phone(runner, 921)
    await coordinator.send("/survey")
    [told] = await coordinator.press("Field mapping")
    assert tr("en", "This questionnaire cannot be sent yet: it needs the file {files}, which "
                    "was not given when it was imported. An administrator adds it with "
                    "“palabre survey import … --files”.", files="villages.csv") in told.text
    assert await runner.store.surveys.campaigns() == []
    # Given later (here by name, as `--files` does), it is a new version that can be sent.
    again, created = await surveys.import_form(alone, runner.clock(),
                                               {"villages.csv": FORMS / "villages.csv"})
    assert created and again.version == form.version + 1
    assert surveys.definition(again).missing_files == ()
    campaign_id, _count = await surveys.launch(
        author=None, form=again, audience=Audience(), joint=False, opens_at=now,
        closes_at=now + timedelta(days=7), now=now)
    assert campaign_id == 1


async def test_a_line_and_an_area_are_shared_point_by_point(
        runner: BotRunner, emulator: BotApiEmulator) -> None:
    await seed(runner, 922, "Walker", language="en")
    phone = Phone(runner, 922)
    surveys = runner.services.surveys
    form, _new = await surveys.import_form(FORMS / "field_mapping.xlsx", runner.clock())
    definition = surveys.definition(form)
    assert definition.missing_files == ()  # villages.csv lies beside the form
    now = runner.clock()
    await surveys.launch(author=None, form=form, audience=Audience({"language": ("en",)}),
                         joint=False, opens_at=now, closes_at=now + timedelta(days=7), now=now)
    await settled(runner)
    emulator.drain_events(922)
    [pending] = await phone.send("/surveys")
    [village] = (await phone.press("▶", pending))[-1:]
    assert _labels(village)[:2] == ["Kandé", "Brin"]
    [road] = (await phone.press("Kandé"))[-1:]
    assert tr("en", "Share the points of the line one after the other (📎 then Location), "
                    "then press Done.") in road.text
    done = "✅ " + tr("en", "Done")
    assert done not in _labels(road)
    # One point is not a line: no Done yet (ODK: at least 2 points).
    [echo, road] = await phone._settle(emulator.send_location(922, 12.5, -16.27))
    assert echo.text == "📍 ✓ " + trn("en", "{count} point", "{count} points", 1)
    assert trn("en", "{count} point so far.", "{count} points so far.", 1) \
        in road.text and done not in _labels(road)
    # A second point 1 m away: a line, refused by the form's constraint distance(.) >= 10.
    await phone._settle(emulator.send_location(922, 12.50001, -16.27))
    [refused] = await phone.press(done)
    assert "At least 10 m" in refused.text
    [road] = await phone.press("↺ " + tr("en", "Start again"))
    assert done not in _labels(road)
    await phone._settle(emulator.send_location(922, 12.5, -16.27))
    await phone.send("12.501 -16.27")  # a point may be typed too
    [field] = (await phone.press(done))[-1:]
    assert tr("en", "Share the corners of the area one after the other (📎 then Location), "
                    "then press Done.") in field.text
    # An area needs 3 corners; Done before that is refused with a short notice.
    await phone._settle(emulator.send_location(922, 12.5, -16.27))
    [field] = (await phone._settle(emulator.send_location(922, 12.5, -16.269)))[-1:]
    assert done not in _labels(field)
    [field] = (await phone._settle(emulator.send_location(922, 12.501, -16.269)))[-1:]
    assert trn("en", "{count} point so far.", "{count} points so far.", 3) \
        in field.text
    [note] = (await phone.press(done))[-1:]
    # ODK's distance() and area() on them, and pulldata() on the data file.
    assert "Road 111 m, field 6" in note.text and "m², 1200 people." in note.text
    [review] = (await phone.press(tr("en", "Continue")))[-1:]
    assert "📍 " + trn("en", "{count} point", "{count} points", 3) in review.text
    [receipt] = await phone.press(tr("en", "Send my answers"))
    assert receipt.text.startswith("✅")
    member = await runner.store.members.by_telegram_id(922)
    assert member is not None
    response = await runner.store.surveys.response_of(1, member.id)
    assert response is not None
    answers = await runner.store.surveys.answers(response.id)
    # As ODK writes them: "lat lon altitude accuracy" joined by ";", an area closed.
    assert answers["road"][0] == "12.5 -16.27 0 0;12.501 -16.27 0 0"
    assert answers["field"][0] == ("12.5 -16.27 0 0;12.5 -16.269 0 0;12.501 -16.269 0 0;"
                                   "12.5 -16.27 0 0")
    assert answers["road_m"][0] == "111" and answers["people"][0] == "1200"
    header = survey_wide.columns(definition)
    [row] = await survey_wide.wide_rows(runner.store, definition, 1, "UTC")
    exported = dict(zip(header, row, strict=True))
    assert exported["road"] == answers["road"][0] and exported["field"] == answers["field"][0]


async def test_a_repeat_inside_a_repeat(runner: BotRunner, emulator: BotApiEmulator) -> None:
    await seed(runner, 923, "Walker", language="en")
    phone = Phone(runner, 923)
    surveys = runner.services.surveys
    form, _new = await surveys.import_form(FORMS / "tree_census.xlsx", runner.clock())
    definition = surveys.definition(form)
    now = runner.clock()
    await surveys.launch(author=None, form=form, audience=Audience({"language": ("en",)}),
                         joint=False, opens_at=now, closes_at=now + timedelta(days=7), now=now)
    await settled(runner)
    emulator.drain_events(923)
    [pending] = await phone.send("/surveys")
    [name] = (await phone.press("▶", pending))[-1:]
    assert "Name of plot 1" in name.text and "Plot 1" in name.text
    await phone.send("North")
    [asked] = (await phone.send("2"))[-1:]
    # The inner repeat's iterations, each knowing its plot: "Tree 1.2" is plot 1's tree 2.
    for tree, species in ((1, "Mango"), (2, "Neem")):
        assert f"Species of tree {tree} in North" in asked.text
        assert f"Tree 1.{tree}" in asked.text
        [photo] = (await phone.press(species))[-1:]
        assert tr("en", "Send a photo.") in photo.text
        [asked] = (await phone._settle(emulator.send_photo(
            923, b"\x89PNG\r\n\x1a\n" + b"t" * 200)))[-1:]
    assert "North: 2 trees" in asked.text  # count() within the plot
    [another] = (await phone.press(tr("en", "Continue")))[-1:]
    assert tr("en", "Add another «{name}»?", name="Plot") in another.text
    [second] = (await phone.press(tr("en", "Yes")))[-1:]
    assert "Name of plot 2" in second.text
    await phone.send("South")
    [species] = (await phone.send("1"))[-1:]
    assert "Species of tree 1 in South" in species.text and "Tree 2.1" in species.text
    await phone.press("Mango")
    [done] = (await phone._settle(emulator.send_photo(923, b"\x89PNG" + b"u" * 200)))[-1:]
    assert "South: 1 trees" in done.text
    await phone.press(tr("en", "Continue"))
    [total] = (await phone.press(tr("en", "No")))[-1:]
    assert "3 trees in 2 plots" in total.text  # count() over every plot
    [review] = (await phone.press(tr("en", "Continue")))[-1:]
    # The review comes in pages that fit a phone: read them all, as a person would.
    pages = [review.text]
    while any(tr("en", "More answers") in label for label in review.button_texts):
        [review] = (await phone.press(tr("en", "More answers"), review))[-1:]
        pages.append(review.text)
    assert any("(2.1)" in page for page in pages), pages
    [receipt] = await phone.press(tr("en", "Send my answers"))
    assert receipt.text.startswith("✅")
    member = await runner.store.members.by_telegram_id(923)
    assert member is not None
    response = await runner.store.surveys.response_of(1, member.id)
    assert response is not None
    answers = await runner.store.surveys.answers(response.id)
    assert answers["species[1][2]"][0] == "neem" and answers["species[2][1]"][0] == "mango"
    assert answers["plot_trees[1]"][0] == "2" and answers["all_trees"][0] == "3"
    assert answers["second_first"][0] == "mango"  # plot 2's tree 1
    # Kobo's layout: a table per repeat; a tree's _parent_index is its plot's _index.
    [row] = await survey_wide.wide_rows(runner.store, definition, 1, "UTC")
    reference = str(row[0])
    tables = {title: [dict(zip(head, r, strict=True)) for r in body]
              for title, head, body in survey_wide.repeat_tables(
                  definition, await runner.store.surveys.campaign_answers(1),
                  [(response.id, reference)], await runner.store.surveys.campaign_files(1))}
    plots = {r["plot_name"]: r["_index"] for r in tables["plot"]}
    assert [(r["_parent_index"], r["species"]) for r in tables["tree"]] == [
        (plots["North"], "mango"), (plots["North"], "neem"), (plots["South"], "mango")]
    assert [r["tree_photo"] for r in tables["tree"]] == [
        f"{reference}-tree_photo-1-1.jpg", f"{reference}-tree_photo-1-2.jpg",
        f"{reference}-tree_photo-2-1.jpg"]
