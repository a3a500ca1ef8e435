"""A campaign's answers wide, one row per response and one column per question, as Kobo
exports them: a select_multiple gets its own column (the chosen names, space-separated) and
one 0/1 column per choice, named `question/choice`; a geopoint also `_q_latitude`,
`_q_longitude`, `_q_altitude`, `_q_precision`; a photo, voice note or video its file name
(`Q-1-000042-photo.jpg`, `-2` after it for a repeat's second iteration); the last column
`_index` is the response's number, and each repeat is a table of its own, one row per
iteration, linked by `_parent_index` to the response's `_index` (a repeat inside a repeat: to
its iteration's `_index` in the enclosing repeat's table)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.answer_access import readable_members, readable_responses
from bot.core.surveys import SurveyService, reference
from bot.core.surveys.engine import IterationPath as Iteration
from bot.core.surveys.engine import chains, decode, encode, key, shown, split_key
from bot.core.surveys.forms import Definition, Question
from bot.exports.cells import csv_text, xlsx_value
from storage import Store
from storage.models import Member

Cell = str | int | float | None
FIXED = ("reference", "member_id", "name", "organisation", "side", "status", "started_at",
         "submitted_at")


GEO = ("latitude", "longitude", "altitude", "precision")
MEDIA = ("image", "audio", "video")
EXTENSIONS = {"image": ".jpg", "video": ".mp4"}  # else a voice note: .ogg


def file_name(reference: str, question: Question, iteration: int) -> str:
    """The name a photo, voice note or video answer goes by in the export (and in a bundle
    of the files): the response's reference, the question, the iteration."""
    where = f"-{shown(iteration).replace('.', '-')}" if iteration else ""
    return f"{reference}-{question.name}{where}{EXTENSIONS.get(question.type, '.ogg')}"


def _exported(question: Question, repeat: str | None) -> bool:
    return question.type not in ("note", "repeat") and question.repeat == repeat


def _question_columns(question: Question) -> list[str]:
    found = [question.name]
    if question.type == "select_multiple":
        found += [f"{question.name}/{choice.name}" for choice in question.choices]
    if question.type == "geopoint":
        found += [f"_{question.name}_{part}" for part in GEO]
    return found


def _cells(question: Question, value: str | None, answered: bool,
           file: str | None = None) -> list[Cell]:
    """The cells of one answer; `file`: its file name when it is a file (a voice note may
    answer a text question)."""
    if file is not None and value is not None:
        value = file
    cells: list[Cell] = [_typed(question.type, value)]
    if question.type == "select_multiple":
        chosen = set((value or "").split())
        cells += [(1 if choice.name in chosen else 0) if answered and value is not None
                  else None for choice in question.choices]
    if question.type == "geopoint":
        parts: list[Cell] = []
        for number in (value or "").split()[:4]:
            try:
                parts.append(float(number))
            except ValueError:
                parts.append(None)
        cells += parts + [None] * (4 - len(parts))
    return cells


def columns(definition: Definition) -> list[str]:
    found = list(FIXED)
    for question in definition.questions:
        if _exported(question, None):
            found += _question_columns(question)
    return [*found, "_index"]


def _file(question: Question, saved: str, reference: str, iteration: int,
          files: set[str] | None) -> str | None:
    """The file name of an answer that is a file (a media question's always is)."""
    if question.type in MEDIA or (files is not None and saved in files):
        return file_name(reference, question, iteration)
    return None


def repeat_tables(definition: Definition, answers: dict[int, dict[str, str | None]],
                  parents: Sequence[tuple[int, str]],
                  files: dict[int, set[str]] | None = None) -> list[SheetData]:
    """One table per repeat: `_index`, `_parent_index` (the response's `_index`, or for a
    repeat inside a repeat its iteration's `_index` in the enclosing repeat's table), the
    response's reference, then the repeat's questions; `parents` are (response id,
    reference) of the rows exported; `files` (response → answers that are files) names a
    voice note answering a text question as a file."""
    nesting = chains(definition)
    loops = sorted((q for q in definition.questions if q.type == "repeat"),
                   key=lambda q: len(nesting.get(q.name, ())))
    indexes: dict[tuple[str, int, Iteration], int] = {}  # (repeat, response, path) → _index
    tables: dict[str, SheetData] = {}
    for loop in loops:
        inner = [q for q in definition.questions if _exported(q, loop.name)]
        depth = len(nesting.get(loop.name, (loop.name,)))
        names = {q.name for q in inner} | {loop.name}
        header = ["_index", "_parent_index", "reference"]
        for question in inner:
            header += _question_columns(question)
        rows: list[list[Cell]] = []
        for response_id, ref in parents:
            given = answers.get(response_id, {})
            paths = {decode(it) for name, it in map(split_key, given)
                     if name in names and len(decode(it)) == depth}
            # Every iteration up to the last one answered, in each enclosing iteration.
            last: dict[Iteration, int] = {}
            for path in paths:
                last[path[:-1]] = max(last.get(path[:-1], 0), path[-1])
            for outer, count in sorted(last.items()):
                parent = response_id if loop.outer is None else \
                    indexes.get((loop.outer, response_id, outer))
                for number in range(1, count + 1):
                    iteration = encode((*outer, number))
                    indexes[(loop.name, response_id, (*outer, number))] = len(rows) + 1
                    row: list[Cell] = [len(rows) + 1, parent, ref]
                    for question in inner:
                        saved = key(question, iteration)
                        row += _cells(question, given.get(saved), saved in given,
                                      _file(question, saved, ref, iteration,
                                            None if files is None
                                            else files.get(response_id, set())))
                    rows.append(row)
        tables[loop.name] = (loop.name, header, rows)
    return [tables[q.name] for q in definition.questions if q.name in tables
            and q.type == "repeat"]


async def wide_rows(store: Store, definition: Definition, campaign_id: int,
                    timezone: str, members: set[int] | None = None) -> list[list[Cell]]:
    """The rows under `columns(definition)`, in the order responses were started: submitted
    responses only, of `members` unless it is None (the rule of `answer_access`)."""
    zone = ZoneInfo(timezone)
    answers = await store.surveys.campaign_answers(campaign_id)
    files = await store.surveys.campaign_files(campaign_id)
    organisations = {o.id: o.name for o in await store.network.organisations()}

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    rows: list[list[Cell]] = []
    for response in await readable_responses(store, campaign_id, members):
        member = await store.members.by_id(response.member_id)
        given = answers.get(response.id, {})
        row: list[Cell] = [
            reference(response), response.member_id,
            member.display_name if member else None,
            organisations.get(member.organisation_id) if member and member.organisation_id
            else None,
            response.side, response.status, when(response.started_at),
            when(response.submitted_at)]
        ref = reference(response)
        for question in definition.questions:
            if _exported(question, None):
                row += _cells(question, given.get(question.name), question.name in given,
                              _file(question, question.name, ref, 0,
                                    files.get(response.id, set())))
        row.append(response.id)
        rows.append(row)
    return rows


def _typed(kind: str, value: str | None) -> Cell:
    if value is None:
        return None
    try:
        if kind == "integer":
            return int(value)
        if kind in ("decimal", "range"):
            number = float(value)
            return int(number) if number.is_integer() else number
    except ValueError:
        return value
    return value


def _safe(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)  # never let a spreadsheet run a member's text as a formula
    return value


SheetData = tuple[str, list[str], list[list[Cell]]]  # title, header, rows


def write(out: Path, header: Sequence[str], rows: Sequence[Sequence[Cell]], fmt: str,
          delimiter: str = ",", repeats: Sequence[SheetData] = ()) -> None:
    """CSV (UTF-8 with BOM, for spreadsheets; a repeat in `<out>_<repeat>.csv`) or XLSX
    (write-only workbook, a sheet per repeat)."""
    if fmt == "csv":
        for target, head, body in ((out, header, rows), *(
                (out.with_name(f"{out.stem}_{title}{out.suffix}"), h, r)
                for title, h, r in repeats)):
            with target.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=delimiter)
                writer.writerow(head)
                writer.writerows([_safe(v) for v in row] for row in body)
        return
    out.write_bytes(xlsx_bytes(header, rows, repeats))


async def survey_sheets(store: Store, surveys: SurveyService, reader: Member | None,
                        timezone: str) -> list[SheetData]:
    """One wide sheet per campaign with answers the reader may read (`answer_access`; None:
    the operator, every submitted answer)."""
    scope = await readable_members(surveys, reader)
    sheets: list[SheetData] = []
    for campaign in await store.surveys.campaigns():
        loaded = await surveys.load(campaign.id)
        if loaded is None:
            continue
        rows = await wide_rows(store, loaded.definition, campaign.id, timezone, scope)
        if rows:
            title = f"{loaded.definition.form_id} #{campaign.id}"
            sheets.append((title, columns(loaded.definition), rows))
            sheets += repeats_of(loaded.definition, campaign.id, rows,
                                 await store.surveys.campaign_answers(campaign.id),
                                 await store.surveys.campaign_files(campaign.id))
    return sheets


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]],
               repeats: Sequence[SheetData] = ()) -> bytes:
    """The workbook in memory (sent in the chat): the answers, then a sheet per repeat."""
    from openpyxl import Workbook  # loaded on first use: the bot starts without it

    buffer = io.BytesIO()
    workbook = Workbook(write_only=True)
    for title, head, body in (("answers", header, rows), *repeats):
        sheet = workbook.create_sheet(title[:31])
        sheet.append(list(head))
        for row in body:
            # Texts typed as strings (never formulas), without what XML cannot hold.
            sheet.append([xlsx_value(sheet, v) for v in row])
    workbook.save(buffer)
    return buffer.getvalue()


def repeats_of(definition: Definition, campaign_id: int, rows: Sequence[Sequence[Cell]],
               answers: dict[int, dict[str, str | None]],
               files: dict[int, set[str]] | None = None) -> list[SheetData]:
    """The repeat tables of the exported rows (the parent is the row's `_index`)."""
    parents = [(int(str(row[-1])), str(row[0])) for row in rows]
    return [(f"{definition.form_id} #{campaign_id} {title}", header, body)
            for title, header, body in repeat_tables(definition, answers, parents, files)]
