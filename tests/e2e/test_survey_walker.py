"""The walker: every form of a folder that imports is answered end to end through the real
conversation (the bot against the emulator), with valid answers found by trying, until the
receipt; then the wide export must hold every answer in Kobo's layout (geopoint parts, media
as file names, repeats, nested ones too, as their own table linked by `_parent_index`).

The folder is tests/forms; set PALABRE_WALK_FORMS to a folder of XLSForms (for instance the
shared corpus) to walk those too. A data file a form names that is not beside it (a corpus keeps
the forms only) is made up from what the form reads of it, so that the form can be sent.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

from bot.core.announcements import Audience
from bot.core.surveys import expressions as xpath
from bot.core.surveys.engine import split_key
from bot.core.surveys.forms import Definition, FormError, read_form
from bot.emulator import BotApiEmulator
from bot.exports import survey_wide
from tests.auxil.runner import BotRunner, Phone
from tests.e2e.test_announcements import seed, settled

FORMS = Path(__file__).parent.parent / "forms"
EXTRA = os.environ.get("PALABRE_WALK_FORMS")
FOLDERS = [FORMS, *([Path(EXTRA)] if EXTRA else [])]
FILES = sorted(p for folder in FOLDERS for p in folder.iterdir()
               if p.suffix.lower() in (".xlsx", ".xls"))
MAX_MESSAGES = 600


def _importable(path: Path) -> bool:
    try:
        read_form(path)
    except FormError:
        return False
    return True


def _columns(node: xpath.Node) -> set[str]:
    """The columns of a data file an expression reads (filters, lookups, pulldata)."""
    found: set[str] = set()
    if isinstance(node, xpath.Column):
        found.add(node.name)
    elif isinstance(node, xpath.Unary):
        found |= _columns(node.operand)
    elif isinstance(node, xpath.Binary):
        found |= _columns(node.left) | _columns(node.right)
    elif isinstance(node, xpath.Lookup):
        found |= ({node.field} if node.field else set()) | (
            _columns(node.filter) if node.filter is not None else set())
    elif isinstance(node, xpath.Call):
        if node.name == "pulldata":
            found |= {str(a.value) for a in node.args[1:3] if isinstance(a, xpath.Literal)}
        for arg in node.args:
            found |= _columns(arg)
    return found


def _made_up(definition: Definition, folder: Path) -> dict[str, Path]:
    """Three rows for each data file the form names but that was not given: every column
    the form reads, row i holding i (or a choice of the question named like the column, so
    that a cascade has a way through)."""
    columns = {"name", "label"}
    for question in definition.questions:
        for source in (question.choice_filter, question.relevant, question.calculation,
                       question.constraint, question.default_expression):
            if source:
                columns |= _columns(xpath.parse(source, columns=source
                                                == question.choice_filter))
    files: dict[str, Path] = {}
    for name in definition.missing_files:
        rows = []
        for i in range(1, 4):
            row = {}
            for column in sorted(columns):
                named = definition.question(column)
                row[column] = named.choices[(i - 1) % len(named.choices)].name \
                    if named is not None and named.choices else str(i)
            row["label"] = f"Item {i}"
            rows.append(row)
        target = folder / name
        if name.endswith(".geojson"):
            target.write_text(json.dumps({"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": row["name"], "properties": {**row, "id": row["name"]},
                 "geometry": {"type": "Point", "coordinates": [-17.4, 14.7]}}
                for row in rows]}), encoding="utf-8")
        elif name.endswith(".xml"):
            items = "".join("<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in row.items())
                            + "</item>" for row in rows)
            target.write_text(f"<root>{items}</root>", encoding="utf-8")
        else:
            target.write_text("\n".join([",".join(rows[0])] + [",".join(r.values())
                                                              for r in rows]) + "\n",
                              encoding="utf-8")
        files[name] = target
    return files


def _texts(kind: str, appearance: str, today: date) -> list[str]:
    """Answers to try, most ordinary first (constraints decide which one is valid)."""

    def day(moment: date) -> str:
        return format_date(moment, "short", locale="en")

    if kind == "integer" or kind == "range":
        return ["1", "2", "0", "5", "10", "18", "30", "3", "100", "1000"]
    if kind == "decimal":
        return ["1", "2.5", "0", "10", "50", "100", "0.5"]
    if kind == "date" and "month-year" in appearance.split():
        return [today.strftime("%m/%Y"), "01/2020"]
    if kind == "date" and "year" in appearance.split():
        return [str(today.year), "2020", "1990"]
    if kind == "date":
        return [day(today), day(today - timedelta(days=30)), day(today - timedelta(days=365 * 30)),
                day(today + timedelta(days=30)), day(today - timedelta(days=365 * 10))]
    if kind == "time":
        return ["10:30", "08:00", "16:00"]
    if kind == "datetime":
        return [f"{day(today)} 10:30", f"{day(today + timedelta(days=7))} 10:30"]
    if kind == "geopoint":
        return ["14.7 -17.4"]
    return ["Walker answer", "1", "123456789", "0123456789", "walker@example.org", "ABC",
            "yes", "a"]


async def _walk(runner: BotRunner, emulator: BotApiEmulator, phone: Phone,
                definition: Definition) -> int:
    """Answer until the receipt; return the response id. Fail on a dead end."""
    store = runner.store
    member = await store.members.by_telegram_id(phone.user_id)
    assert member is not None
    [pending] = await phone.send("/surveys")
    replies = await phone.press("▶", pending)
    response = None
    tried: dict[tuple[str, int, int], int] = {}
    yes_given: set[str] = set()
    for _turn in range(MAX_MESSAGES):
        campaign_responses = await store.surveys.campaign_responses(1)
        response = next(r for r in campaign_responses if r.member_id == member.id)
        if response.status == "submitted":
            assert replies and replies[-1].text.startswith("✅"), replies
            return response.id
        last = emulator.last_message(phone.user_id)
        assert last is not None
        step = (response.step, response.position, response.iteration)
        attempt = tried.get(step, 0)
        tried[step] = attempt + 1
        assert attempt < 40, f"dead end at {definition.questions[response.position].name}: " \
                             f"{last.text[:300]}"
        buttons = [(label, data) for label, data in last.buttons if data and data.startswith("sv:")]
        if response.step == "review":
            replies = await phone.forge(next(d for text, d in buttons if "✅" in text), last.message_id)
            continue
        question = definition.questions[response.position]
        kind = question.type
        choices = [(label, data) for label, data in buttons if data.split(":")[1] == "c"]
        by_action = {data.split(":")[1]: data for _label, data in buttons}
        if kind == "repeat":
            # Add a second iteration once, to walk the loop; then stop.
            key = f"{question.name}"
            wanted = "0" if key not in yes_given and response.iteration == 1 else "1"
            yes_given.add(key)
            data = next(d for _l, d in choices if d.endswith(":" + wanted))
            replies = await phone.forge(data, last.message_id)
            continue
        if "n" in by_action:
            replies = await phone.forge(by_action["n"], last.message_id)
            continue
        if kind in ("select_multiple", "rank") and choices:
            if kind == "rank":
                for _label, data in choices:
                    await phone.forge(data, last.message_id)
                last = emulator.last_message(phone.user_id)
                assert last is not None
            else:
                await phone.forge(choices[attempt % len(choices)][1], last.message_id)
                last = emulator.last_message(phone.user_id)
                assert last is not None
            done = next((d for _t, d in last.buttons if d and d.startswith("sv:d:")), None)
            if done is not None:
                replies = await phone.forge(done, last.message_id)
            continue
        if choices and attempt < len(choices):
            replies = await phone.forge(choices[attempt][1], last.message_id)
            continue
        if kind in ("select_one", "select_multiple") and not choices and "s" not in by_action \
                and "b" in by_action:
            # The choices an earlier answer leaves are none: go back and answer it otherwise.
            replies = await phone.forge(by_action["b"], last.message_id)
            continue
        if kind in ("geotrace", "geoshape"):
            if "d" in by_action and attempt % 4 == 3:
                replies = await phone.forge(by_action["d"], last.message_id)
                continue
            step_of = 0.001 * (attempt % 4)
            replies = await phone._settle(emulator.send_location(
                phone.user_id, 14.7 + step_of, -17.4 + (step_of if attempt % 4 == 2 else 0)))
            continue
        if kind == "geopoint" and attempt == 0:
            replies = await phone._settle(emulator.send_location(phone.user_id, 14.7, -17.4))
            continue
        if kind == "image":
            replies = await phone._settle(emulator.send_photo(phone.user_id,
                                                              b"\x89PNG\r\n\x1a\n" + b"P" * 300))
            continue
        if kind == "audio":
            replies = await phone._settle(emulator.send_voice(phone.user_id, b"OggS" + b"v" * 300))
            continue
        if kind == "video":
            replies = await phone._settle(emulator.send_video(phone.user_id,
                                                              b"\0\0\0 ftyp" + b"m" * 300))
            continue
        candidates = _texts(kind, question.appearance, runner.clock().date())
        if attempt < len(candidates) and not choices:
            replies = await phone.send(candidates[attempt])
            continue
        keep = by_action.get("k")
        skip = by_action.get("s")
        if keep is not None and attempt <= len(candidates) + 1:
            replies = await phone.forge(keep, last.message_id)
            continue
        assert skip is not None, f"dead end at {question.name}: {last.text[:300]}"
        replies = await phone.forge(skip, last.message_id)
    raise AssertionError(f"more than {MAX_MESSAGES} messages for {definition.form_id}")


def _check_export(definition: Definition, answers: dict[str, tuple[str | None, str | None]],
                  header: list[str], row: list[Any],
                  repeats: list[survey_wide.SheetData]) -> None:
    """Every saved answer is in the export, where Kobo puts it."""
    main = dict(zip(header, row, strict=True))
    tables = {title: [dict(zip(head, body_row, strict=True)) for body_row in body]
              for title, head, body in repeats}
    for saved, (value, file_id) in answers.items():
        if value is None and file_id is None:
            continue
        name, iteration = split_key(saved)
        question = definition.question(name)
        assert question is not None, saved
        if question.type == "repeat":
            continue  # the loop's yes/no: the iterations are the repeat table's rows
        # A photo, voice note or video by its file name, as Kobo exports attachments.
        expected = value if value is not None else survey_wide.file_name(
            str(main["reference"]), question, iteration)
        if iteration:
            assert question.repeat is not None
            rows = tables[question.repeat]
            found = [r for r in rows if r[name] is not None]
            assert any(str(r[name]) == expected or _same(r[name], expected) for r in found), \
                (saved, expected)
            continue
        assert _same(main[name], expected), (saved, main[name], expected)
        if question.type == "geopoint" and value:
            latitude, longitude = (float(v) for v in value.split()[:2])
            assert main[f"_{name}_latitude"] == latitude
            assert main[f"_{name}_longitude"] == longitude


def _same(cell: object, expected: str | None) -> bool:
    if isinstance(cell, int | float) and expected is not None:
        try:
            return float(expected) == float(cell)
        except ValueError:
            return False
    return cell == expected


@pytest.mark.parametrize("path", FILES, ids=[p.stem[:60] for p in FILES])
async def test_every_imported_form_is_answered_end_to_end(
        runner: BotRunner, emulator: BotApiEmulator, path: Path, tmp_path: Path) -> None:
    if not _importable(path):
        pytest.skip("refused at import (with its row and column)")
    await seed(runner, 901, "Walker", language="en")
    phone = Phone(runner, 901)
    files = _made_up(read_form(path), tmp_path)
    form, _created = await runner.services.surveys.import_form(path, runner.clock(), files)
    definition = runner.services.surveys.definition(form)
    assert definition.missing_files == ()
    now = runner.clock()
    await runner.services.surveys.launch(
        author=None, form=form, audience=Audience({"language": ("en",)}), joint=False,
        opens_at=now, closes_at=now + timedelta(days=7), now=now)
    await settled(runner)
    emulator.drain_events(901)
    response_id = await _walk(runner, emulator, phone, definition)
    answers = await runner.store.surveys.answers(response_id)
    header = survey_wide.columns(definition)
    [row] = await survey_wide.wide_rows(runner.store, definition, 1, "UTC")
    repeats = survey_wide.repeat_tables(definition, await runner.store.surveys.campaign_answers(1),
                                        [(response_id, str(row[0]))],
                                        await runner.store.surveys.campaign_files(1))
    _check_export(definition, answers, header, row, repeats)
