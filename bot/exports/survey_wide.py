"""A campaign's answers wide, one row per response and one column per question, in two
layouts.

**Readable** (the default, for a funder or a council meeting): the columns titled in the
reader's language (the question's label; Reference, Name, Organisation, Side, Sent at), the
choices' labels, sides and media named in words, dates and times as date cells in the
reader's zone, numbers as numbers, a place as '14.6928° N, 17.4467° W' beside its latitude
and longitude; in XLSX each sheet has its widths, a frozen header and a filter
(`xlsx_stream`). A select_multiple also gets one 1/0 column per choice, so that a column sum
counts it. Each repeat is a sheet of its own, one row per iteration, with its response's
reference.

**Codes** (`palabre survey export --codes`), as Kobo exports them, for tools that read
answers by name: a select_multiple gets its own column (the chosen names, space-separated) and
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
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.answer_access import readable_members, readable_responses
from bot.core.surveys import SurveyService, reference, side_name
from bot.core.surveys.answers import SELECTS, options, place
from bot.core.surveys.engine import IterationPath as Iteration
from bot.core.surveys.engine import chains, decode, encode, key, shown, split_key
from bot.core.surveys.forms import Definition, Question, pick
from bot.core.surveys.markup import plain
from bot.exports.cells import csv_text, xlsx_value
from bot.i18n import N_, _, current_language
from storage import Store
from storage.models import Member

Cell = str | int | float | None
Value = str | int | float | date | datetime | None  # a cell of the readable layout
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
    out.write_bytes(codes_xlsx_bytes(header, rows, repeats))


async def survey_sheets(store: Store, surveys: SurveyService, reader: Member | None,
                        timezone: str) -> list[Sheet]:
    """One readable sheet per campaign (and per repeat) with answers the reader may read
    (`answer_access`; None: the operator, every submitted answer), in the current language."""
    scope = await readable_members(surveys, reader)
    language = current_language()
    sheets: list[Sheet] = []
    for campaign in await store.surveys.campaigns():
        loaded = await surveys.load(campaign.id)
        if loaded is None:
            continue
        title = surveys.title(loaded, language)
        found = await readable_sheets(store, loaded.definition, campaign.id, language,
                                      timezone, scope, title)
        if found[0].rows:
            suffix = f" #{campaign.id}"
            for sheet in found:
                sheet.title = sheet.title[:31 - len(suffix)] + suffix
            sheets += found
    return sheets


def codes_xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]],
                     repeats: Sequence[SheetData] = ()) -> bytes:
    """The codes layout's workbook in memory: the answers, then a sheet per repeat."""
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


# --- the readable layout ----------------------------------------------------------------------

MAX_WIDTH = 50  # characters: a longer text wraps in its cell
MEDIA_WORDS = {"image": N_("photo"), "audio": N_("voice note"), "video": N_("video")}
WIDTHS = {"date": 12, "datetime": 17}


@dataclass
class Sheet:
    """One sheet as the reader reads it: titles, a kind per column (text, number, date,
    datetime) for the cells' types and formats, widths in characters, rows."""

    title: str
    names: list[str]
    kinds: list[str]
    rows: list[list[Value]]

    def widths(self) -> list[int]:
        """Each column as wide as its content (up to MAX_WIDTH), dates as their format."""
        found = []
        for index, kind in enumerate(self.kinds):
            if kind in WIDTHS:
                found.append(WIDTHS[kind])
                continue
            longest = max((len(_shown(row[index])) for row in self.rows[:500]), default=0)
            found.append(max(8, min(MAX_WIDTH, longest + 2)))
        return found


def _shown(value: Value) -> str:
    return "" if value is None else str(value)


def _label(question: Question, language: str, default: str) -> str:
    text = pick(question.label, language, default)
    return (plain(text, {}) if text else "") or question.name


def _readable_columns(definition: Definition, repeat: str | None,
                      language: str) -> list[tuple[Question, list[tuple[str, str]]]]:
    """(question, [(title, kind)…]) for each exported question of `repeat` (None: outside)."""
    found = []
    for question in definition.questions:
        if not _exported(question, repeat) or question.type == "meta":
            continue
        title = _label(question, language, definition.default_language)[:120]
        kind = question.type
        if kind in ("integer", "decimal", "range"):
            columns = [(title, "number")]
        elif kind == "date" and not set(question.appearance.split()) & {"year", "month-year"}:
            columns = [(title, "date")]
        elif kind == "datetime":
            columns = [(title, "datetime")]
        else:
            columns = [(title, "text")]
        if kind == "select_multiple":
            columns += [(f"{title} — {text}", "number")
                        for _name, text in options(question, None, 0, language)]
        if kind == "geopoint":
            columns += [(f"{title} ({_('Latitude').lower()})", "number"),
                        (f"{title} ({_('Longitude').lower()})", "number")]
        found.append((question, columns))
    return found


def _readable_cells(question: Question, answer: tuple[str | None, str | None] | None,
                    language: str, zone: ZoneInfo) -> list[Value]:
    """The cells of one question's answer in the readable layout (as many as its columns)."""
    value, file_id = answer if answer is not None else (None, None)
    kind = question.type
    extra = (len(question.choices) if kind == "select_multiple" else
             2 if kind == "geopoint" else 0)
    if value is None and file_id is None:
        empty: list[Value] = [None]
        # A multiple choice skipped counts as none chosen, one never asked as unknown.
        return empty + ([0] * extra if kind == "select_multiple" and answer is not None
                        else [None] * extra)
    if kind in MEDIA_WORDS or (kind == "text" and value is None):
        return [_(MEDIA_WORDS.get(kind, N_("voice note")))] + [None] * extra
    assert value is not None
    try:
        if kind == "integer":
            return [int(value)]
        if kind in ("decimal", "range"):
            number = float(value)
            return [int(number) if number.is_integer() else number]
        if kind == "date" and "year" in question.appearance.split():
            return [value[:4]]
        if kind == "date" and "month-year" in question.appearance.split():
            return [date.fromisoformat(value).strftime("%m/%Y")]
        if kind == "date":
            return [date.fromisoformat(value)]
        if kind == "datetime":
            return [datetime.fromisoformat(value).astimezone(zone).replace(tzinfo=None)]
        if kind == "time":
            return [value[:5]]
    except ValueError:
        return [value] + [None] * extra
    if kind == "geopoint":
        numbers = value.split()
        try:
            return [place(value).removeprefix("📍 "), float(numbers[0]), float(numbers[1])]
        except (ValueError, IndexError):
            return [value, None, None]
    if kind in SELECTS:
        labels = dict(options(question, None, 0, language))
        chosen = value.split()
        shown = (" > " if kind == "rank" else "; ").join(labels.get(c, c) for c in chosen)
        if kind != "select_multiple":
            return [shown]
        return [shown] + [1 if name in chosen else 0
                          for name, _text in options(question, None, 0, language)]
    if kind == "acknowledge":
        return ["✓"]
    return [value]


def _fixed_titles(timezone: str) -> list[tuple[str, str]]:
    return [(_("Reference"), "text"), (_("Name"), "text"), (_("Organisation"), "text"),
            (_("Side"), "text"), (_("Sent at") + f" ({timezone})", "datetime")]


async def readable_sheets(store: Store, definition: Definition, campaign_id: int,
                          language: str, timezone: str, members: set[int] | None,
                          title: str) -> list[Sheet]:
    """The answers of `members` (None: all; submitted responses only) as `language` reads
    them, dates in `timezone`: the answers' sheet, then a sheet per repeat."""
    zone = ZoneInfo(timezone)
    given = await _answers(store, campaign_id)
    organisations = {o.id: o.name for o in await store.network.organisations()}
    main = _readable_columns(definition, None, language)
    names, kinds = [], []
    for name, kind in _fixed_titles(timezone) + [c for _q, cols in main for c in cols]:
        names.append(name)
        kinds.append(kind)
    rows: list[list[Value]] = []
    parents: list[tuple[int, str]] = []
    for response in await readable_responses(store, campaign_id, members):
        member = await store.members.by_id(response.member_id)
        answers = given.get(response.id, {})
        sent = response.submitted_at or response.updated_at
        row: list[Value] = [
            reference(response), member.display_name if member else None,
            organisations.get(member.organisation_id) if member and member.organisation_id
            else None, side_name(response.side),
            sent.astimezone(zone).replace(tzinfo=None)]
        for question, _columns in main:
            row += _readable_cells(question, answers.get(question.name), language, zone)
        rows.append(row)
        parents.append((response.id, reference(response)))
    sheets = [Sheet(title, names, kinds, rows)]
    for loop in definition.questions:
        if loop.type != "repeat":
            continue
        inner = _readable_columns(definition, loop.name, language)
        head = [(_("Reference"), "text"), ("#", "number")] + [c for _q, cols in inner
                                                              for c in cols]
        body: list[list[Value]] = []
        for response_id, ref in parents:
            answers = given.get(response_id, {})
            count = max((split_key(k)[1] for k in answers
                         if split_key(k)[0] in {q.name for q, _c in inner}), default=0)
            for iteration in range(1, count + 1):
                line: list[Value] = [ref, iteration]
                for question, _columns in inner:
                    line += _readable_cells(question, answers.get(
                        f"{question.name}[{iteration}]"), language, zone)
                body.append(line)
        sheets.append(Sheet(_label(loop, language, definition.default_language),
                            [n for n, _k in head], [k for _n, k in head], body))
    return sheets


async def _answers(store: Store, campaign_id: int
                   ) -> dict[int, dict[str, tuple[str | None, str | None]]]:
    """response id → question → (value, file id)."""
    rows = await store.db.fetchall(
        "SELECT a.response_id, a.question, a.value, a.file_id FROM survey_answers a"
        " JOIN survey_responses r ON r.id = a.response_id WHERE r.campaign_id = ?",
        (campaign_id,))
    found: dict[int, dict[str, tuple[str | None, str | None]]] = {}
    for row in rows:
        found.setdefault(row["response_id"], {})[row["question"]] = (row["value"],
                                                                      row["file_id"])
    return found


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook in memory (sent in the chat), written by the exports' stream writer:
    typed cells, widths, a frozen header and a filter, landscape on the page's width."""
    from bot.exports.xlsx_stream import Workbook

    buffer = io.BytesIO()
    book = Workbook(buffer)
    for sheet in sheets:
        book.sheet(sheet.title, sheet.names, sheet.widths())
        book.rows(sheet.kinds, sheet.rows)
    book.close()
    return buffer.getvalue()


def _csv_cell(value: Value, decimal: str) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, str):
        return csv_text(value)
    return value


def write_sheets(out: Path, sheets: Sequence[Sheet], fmt: str, delimiter: str = ",",
                 decimal: str = ".") -> None:
    """The readable layout as XLSX (a sheet per repeat) or CSV (UTF-8 with BOM; a repeat in
    `<out>_<n>.csv`; `decimal` ',' for a spreadsheet that reads 12,5)."""
    if fmt != "csv":
        out.write_bytes(xlsx_bytes(sheets))
        return
    for index, sheet in enumerate(sheets):
        target = out if index == 0 else out.with_name(f"{out.stem}_{index}{out.suffix}")
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(sheet.names)
            writer.writerows([_csv_cell(v, decimal) for v in row] for row in sheet.rows)


def repeats_of(definition: Definition, campaign_id: int, rows: Sequence[Sequence[Cell]],
               answers: dict[int, dict[str, str | None]],
               files: dict[int, set[str]] | None = None) -> list[SheetData]:
    """The repeat tables of the exported rows (the parent is the row's `_index`)."""
    parents = [(int(str(row[-1])), str(row[0])) for row in rows]
    return [(f"{definition.form_id} #{campaign_id} {title}", header, body)
            for title, header, body in repeat_tables(definition, answers, parents, files)]
