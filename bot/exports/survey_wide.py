"""A campaign's answers wide, one row per response and one column per question, as Kobo
exports them: a select_multiple gets its own column (the chosen names, space-separated) and
one 0/1 column per choice, named `question/choice`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.survey_forms import Definition
from bot.core.surveys import SurveyService, reference
from storage import Store
from storage.models import Member

Cell = str | int | float | None
FIXED = ("reference", "member_id", "name", "organisation", "side", "status", "started_at",
         "submitted_at")


def columns(definition: Definition) -> list[str]:
    found = list(FIXED)
    for question in definition.questions:
        if question.type == "note":
            continue
        found.append(question.name)
        if question.type == "select_multiple":
            found += [f"{question.name}/{choice.name}" for choice in question.choices]
    return found


async def wide_rows(store: Store, definition: Definition, campaign_id: int,
                    timezone: str, members: set[int] | None = None) -> list[list[Cell]]:
    """The rows under `columns(definition)`, in the order responses were started; only the
    responses of `members` unless it is None."""
    zone = ZoneInfo(timezone)
    answers = await store.surveys.campaign_answers(campaign_id)
    organisations = {o.id: o.name for o in await store.network.organisations()}

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    rows: list[list[Cell]] = []
    for response in await store.surveys.campaign_responses(campaign_id):
        if members is not None and response.member_id not in members:
            continue
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
            if question.type == "note":
                continue
            value = given.get(question.name)
            row.append(_typed(question.type, value))
            if question.type == "select_multiple":
                chosen = set((value or "").split())
                answered = question.name in given and value is not None
                row += [(1 if choice.name in chosen else 0) if answered else None
                        for choice in question.choices]
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
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never let a spreadsheet run a member's text as a formula
    return value


def write(out: Path, header: Sequence[str], rows: Sequence[Sequence[Cell]], fmt: str,
          delimiter: str = ",") -> None:
    """CSV (UTF-8 with BOM, for spreadsheets) or XLSX (write-only workbook)."""
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows([_safe(v) for v in row] for row in rows)
        return
    from openpyxl import Workbook  # loaded on first use: the bot starts without it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("answers")
    sheet.append(list(header))
    for row in rows:
        sheet.append([_safe(v) if isinstance(v, str) else v for v in row])
    workbook.save(out)


SheetData = tuple[str, list[str], list[list[Cell]]]  # title, header, rows


async def survey_sheets(store: Store, surveys: SurveyService, reader: Member | None,
                        timezone: str) -> list[SheetData]:
    """One wide sheet per campaign with answers the reader may see (None: everything)."""
    scope = None if reader is None else await surveys.scope_members(reader)
    sheets: list[SheetData] = []
    for campaign in await store.surveys.campaigns():
        loaded = await surveys.load(campaign.id)
        if loaded is None:
            continue
        rows = await wide_rows(store, loaded.definition, campaign.id, timezone)
        rows = [row for row in rows if scope is None or row[1] in scope]
        if rows:
            title = f"{loaded.definition.form_id} #{campaign.id}"
            sheets.append((title, columns(loaded.definition), rows))
    return sheets


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """The workbook in memory (sent in the chat)."""
    from openpyxl import Workbook  # loaded on first use: the bot starts without it

    buffer = io.BytesIO()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("answers")
    sheet.append(list(header))
    for row in rows:
        sheet.append([_safe(v) if isinstance(v, str) else v for v in row])
    workbook.save(buffer)
    return buffer.getvalue()
