"""`palabre export`, `palabre import` and `palabre media pack`."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.base import MAX_ID, app, decimal_separator, fail, run_async, settings, with_store
from bot.i18n import use_language
from storage import Store

if TYPE_CHECKING:
    from bot.exports.survey_wide import Sheet
    from bot.exports.tables import Scope

media = typer.Typer(help="Files sent with the reports.", no_args_is_help=True)


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    json = "json"


async def _scope(store: Store, project: str | None, since: datetime | None,
                 as_member: int | None, zone: str) -> tuple[Scope, str]:
    """The export's scope (that of `as_member` when given) and the time zone of its dates
    (the member's, else `zone`)."""
    from bot.exports.tables import Scope  # the exports load when a command exports

    ids: list[int] | None = None
    if as_member is not None:
        member = await store.members.by_id(as_member)
        if member is None:
            fail(f"no member {as_member}")
        ids = await store.consultation.visible_project_ids(member)
        zone = member.timezone
    if project is not None:
        found = await store.network.project(project)
        if found is None:
            fail(f"no project {project!r}")
        if ids is not None and found.id not in ids:
            fail(f"project {project!r} is outside what member {as_member} may see")
        ids = [found.id]
    return Scope(None if ids is None else tuple(ids), None if since is None else since.date()), zone


@contextlib.contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; nothing when the output goes to a file or a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="xlsx, csv or json.")] =
        ExportFormat.xlsx,
    project: Annotated[str | None, typer.Option(help="Only this project (its slug).")] = None,
    since: Annotated[datetime | None, typer.Option(
        help="Only reports submitted on or after this date.", formats=["%Y-%m-%d"])] = None,
    as_member: Annotated[int | None, typer.Option(
        "--as", help="Export what this member (id) may see, in their language and time zone.",
        min=1, max=MAX_ID)] = None,
    delimiter: Annotated[str, typer.Option(
        help="CSV field separator (French spreadsheets expect ';').")] = ",",
    all_versions: Annotated[bool, typer.Option(
        "--all-versions", help="Also the values of earlier versions of amended reports.")
    ] = False,
    decimal: Annotated[str | None, typer.Option(
        help="CSV decimal separator: ',' for a spreadsheet that reads 12,5 (default: ',' "
             "with --delimiter ';', else '.').")] = None,
) -> None:
    """Export reports, indicator values and attachments (XLSX, CSV) or records (JSON Lines)."""
    from bot.exports import jsonl, spreadsheets, tables

    cfg = settings()
    if len(delimiter) != 1:
        fail("--delimiter takes one character, e.g. ';'")
    separator = decimal_separator(decimal, delimiter)

    async def resolve(store: Store) -> tuple[Scope, str, str, list[Sheet]]:
        from bot.cli.survey import surveys_of
        from bot.exports.survey_wide import survey_sheets

        scope, zone = await _scope(store, project, since, as_member, cfg.timezone)
        scope = replace(scope, all_versions=all_versions)
        member = None if as_member is None else await store.members.by_id(as_member)
        language = member.language if member else cfg.default_language
        sheets: list[Sheet] = []
        if fmt is ExportFormat.xlsx:
            surveys = surveys_of(store, zone)
            with use_language(language):
                sheets = await survey_sheets(store, surveys, member, zone)
        return scope, zone, language, sheets

    scope, zone, language, survey_tabs = run_async(with_store(cfg, resolve))
    out.parent.mkdir(parents=True, exist_ok=True)
    with use_language(language):
        if fmt is ExportFormat.json:
            with out.open("w", encoding="utf-8", newline="\n") as handle, \
                    _progress(_json_total(cfg.database), "Exporting") as progress:
                count = jsonl.dump(cfg.database, handle, scope, progress)
            typer.echo(f"Wrote {count} records to {out}.")
            return
        conn = tables.connect_readonly(cfg.database)
        try:
            total = tables.total_rows(conn, scope)
        finally:
            conn.close()
        with _progress(total, "Exporting") as progress:
            if fmt is ExportFormat.xlsx:
                rows = spreadsheets.write_xlsx(cfg.database, out, scope, zone, progress,
                                               survey_tabs)
                typer.echo(f"Wrote {rows} rows to {out}.")
            else:
                paths = spreadsheets.write_csv(cfg.database, out, scope, zone, delimiter,
                                               progress, separator)
                typer.echo(f"Wrote {total} rows to " + ", ".join(str(p) for p in
                                                                  paths.values()) + ".")


def _json_total(database: Path) -> int:
    from bot.exports import jsonl, tables

    conn = tables.connect_readonly(database)
    try:
        return sum(int(conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0])  # noqa: S608
                   for name, _filter in jsonl.TABLES)
    finally:
        conn.close()


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file written by `palabre export "
                                              "--format json`.")],
) -> None:
    """Load an export into an empty database (to move a network to another server)."""
    from bot.exports import jsonl

    cfg = settings()
    if not file.is_file():
        fail(f"no file {file}")
    run_async(with_store(cfg, lambda store: asyncio.sleep(0)))  # create and migrate
    conn = sqlite3.connect(cfg.database, isolation_level=None)
    try:
        with file.open(encoding="utf-8") as lines:
            count = jsonl.load(conn, lines)
    except jsonl.ImportError_ as exc:
        fail(f"{file}: {exc}")
    finally:
        conn.close()
    typer.echo(f"Imported {count} records into {cfg.database}.")


@media.command("pack")
def media_pack(
    project: Annotated[str, typer.Option(help="The project (its slug).")],
    out: Annotated[Path, typer.Option("--out", help="The ZIP file to write.")],
) -> None:
    """Put a project's attachments in a ZIP file with an index (index.csv)."""
    from bot.exports.media_pack import PackError, pack

    cfg = settings()

    async def find(store: Store) -> int | None:
        found = await store.network.project(project)
        return None if found is None else found.id

    project_id = run_async(with_store(cfg, find))
    if project_id is None:
        fail(f"no project {project!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        packed, missing = pack(cfg.database, cfg.media_dir, project_id, out)
    except PackError as exc:
        out.unlink(missing_ok=True)
        fail(str(exc))
    typer.echo(f"Packed {packed} files into {out}."
               + (f" {missing} not downloaded yet or missing." if missing else ""))
