"""A campaign's answers wide, one row per response and one column per question, as Kobo
exports them: a select_multiple gets its own column (the chosen names, space-separated) and
one 0/1 column per choice, named `question/choice`; a geopoint also `_q_latitude`,
`_q_longitude`, `_q_altitude`, `_q_precision`; the last column `_index` is the response's
number, and each repeat is a table of its own, one row per iteration, linked by
`_parent_index`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.answer_access import readable_members, readable_responses
from bot.core.surveys import SurveyService, reference
from bot.core.surveys.engine import split_key
from bot.core.surveys.forms import Definition, Question
from bot.exports.cells import csv_text, xlsx_value
from storage import Store
from storage.models import Member

Cell = str | int | float | None
FIXED = ("reference", "member_id", "name", "organisation", "side", "status", "started_at",
         "submitted_at")


GEO = ("latitude", "longitude", "altitude", "precision")


def _exported(question: Question, repeat: str | None) -> bool:
    return question.type not in ("note", "repeat") and question.repeat == repeat


def _question_columns(question: Question) -> list[str]:
    found = [question.name]
    if question.type == "select_multiple":
        found += [f"{question.name}/{choice.name}" for choice in question.choices]
    if question.type == "geopoint":
        found += [f"_{question.name}_{part}" for part in GEO]
    return found


def _cells(question: Question, value: str | None, answered: bool) -> list[Cell]:
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


def repeat_tables(definition: Definition, answers: dict[int, dict[str, str | None]],
                  parents: Sequence[tuple[int, str]]) -> list[SheetData]:
    """One table per repeat: `_index`, `_parent_index` (the response's `_index`), the
    parent's reference, then the repeat's questions; `parents` are (response id, reference)
    of the rows exported."""
    tables: list[SheetData] = []
    for loop in definition.questions:
        if loop.type != "repeat":
            continue
        inner = [q for q in definition.questions if _exported(q, loop.name)]
        header = ["_index", "_parent_index", "reference"]
        for question in inner:
            header += _question_columns(question)
        rows: list[list[Cell]] = []
        for response_id, ref in parents:
            given = answers.get(response_id, {})
            count = max((split_key(k)[1] for k in given
                         if split_key(k)[0] in {q.name for q in inner}), default=0)
            for iteration in range(1, count + 1):
                row: list[Cell] = [len(rows) + 1, response_id, ref]
                for question in inner:
                    saved = f"{question.name}[{iteration}]"
                    row += _cells(question, given.get(saved), saved in given)
                rows.append(row)
        tables.append((loop.name, header, rows))
    return tables


async def wide_rows(store: Store, definition: Definition, campaign_id: int,
                    timezone: str, members: set[int] | None = None) -> list[list[Cell]]:
    """The rows under `columns(definition)`, in the order responses were started: submitted
    responses only, of `members` unless it is None (the rule of `answer_access`)."""
    zone = ZoneInfo(timezone)
    answers = await store.surveys.campaign_answers(campaign_id)
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
        for question in definition.questions:
            if _exported(question, None):
                row += _cells(question, given.get(question.name), question.name in given)
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
                                 await store.surveys.campaign_answers(campaign.id))
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
               answers: dict[int, dict[str, str | None]]) -> list[SheetData]:
    """The repeat tables of the exported rows (the parent is the row's `_index`)."""
    parents = [(int(str(row[-1])), str(row[0])) for row in rows]
    return [(f"{definition.form_id} #{campaign_id} {title}", header, body)
            for title, header, body in repeat_tables(definition, answers, parents)]
