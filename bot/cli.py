"""The `palabre` command line: run, demo, network, invite, db, export, import, media, i18n."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from bot.config import ConfigError, Settings
from bot.core import invitations
from bot.core.invitations import InvitationError
from bot.core.network_file import NetworkFileError
from bot.exports.tables import Scope
from bot.i18n import use_language
from storage import Database, StorageError, Store

if TYPE_CHECKING:
    from bot.exports.survey_wide import SheetData

T = TypeVar("T")

app = typer.Typer(help="Palabre: reports, surveys, reminders and announcements over Telegram.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
network_app = typer.Typer(help="Describe the network (collectivities, partners, projects).",
                          no_args_is_help=True)
invite_app = typer.Typer(help="Invite people to join.", no_args_is_help=True)
db_app = typer.Typer(help="Maintain the database.", no_args_is_help=True)
i18n_app = typer.Typer(help="Translation catalogs.", no_args_is_help=True)
media_app = typer.Typer(help="Files sent with the reports.", no_args_is_help=True)
survey_app = typer.Typer(help="Evaluation questionnaires: import, launch, list, export.",
                         no_args_is_help=True)
app.add_typer(network_app, name="network")
app.add_typer(invite_app, name="invite")
app.add_typer(db_app, name="db")
app.add_typer(i18n_app, name="i18n")
app.add_typer(media_app, name="media")
app.add_typer(survey_app, name="survey")


class RoleChoice(StrEnum):
    partner = "partner"
    coordinator = "coordinator"
    observer = "observer"
    admin = "admin"


MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id is refused as a bad option


def fail(message: str) -> NoReturn:
    typer.echo(f"palabre: error: {message}", err=True)
    raise typer.Exit(1)


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PALABRE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(problems)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning expected failures into one-line errors."""
    try:
        return asyncio.run(coro)
    except (ConfigError, StorageError, NetworkFileError, InvitationError) as exc:
        fail(str(exc))


async def with_store(cfg: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    store = await Store.open(cfg.database)
    try:
        return await work(store)
    finally:
        await store.close()


def now() -> datetime:
    return datetime.now(UTC)


# --- run and demo -------------------------------------------------------------------------


@app.command()
def run() -> None:
    """Run the bot with long polling (applies pending migrations first)."""
    from telegram.error import InvalidToken, NetworkError

    from bot import logs
    from bot.app import build_application, serve

    cfg = settings()
    logs.setup()
    try:
        application = build_application(cfg)
    except ConfigError as exc:
        fail(str(exc))

    async def main() -> None:
        # Open the database once first, so that an unusable path is a one-line error.
        await with_store(cfg, lambda store: asyncio.sleep(0))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(application, stop)

    try:
        run_async(main())
    except InvalidToken:
        fail("Telegram refused the token: check PALABRE_TELEGRAM_TOKEN")
    except NetworkError as exc:
        fail(f"cannot reach Telegram at {cfg.telegram_base_url}: {exc.message}")


@app.command()
def demo(
    database: Annotated[Path | None, typer.Option(
        help="Keep the demo's database here (default: a fresh temporary one).")] = None,
) -> None:
    """Try Palabre offline: a local Telegram emulator, the real bot, and a chat in this terminal."""
    from bot.demo import run_demo

    run_async(run_demo(database=database))


# --- network ------------------------------------------------------------------------------


@network_app.command("load")
def network_load(file: Annotated[Path, typer.Argument(help="The network.yaml file.")]) -> None:
    """Load (or update) the network from a YAML file; loading twice changes nothing."""
    from bot.core import network_file

    cfg = settings()
    try:
        spec = network_file.read(file)
    except NetworkFileError as exc:
        fail(str(exc))

    async def work(store: Store) -> network_file.LoadSummary:
        return await network_file.load(store, spec, now(), cfg.timezone)

    summary = run_async(with_store(cfg, work))
    typer.echo(f"Loaded {summary.organisations} organisations, {summary.projects} projects, "
               f"{summary.indicators} indicators, {summary.members} declared members "
               f"into {cfg.database}.")


# --- invitations --------------------------------------------------------------------------


async def _bot_username(cfg: Settings, store: Store, given: str | None) -> str:
    if given:
        await store.kv.set("bot_username", given.lstrip("@"))
        return given.lstrip("@")
    known = await store.kv.get("bot_username")
    if known:
        return known
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(cfg.token(), base_url=cfg.telegram_base_url) as telegram_bot:
            username = telegram_bot.username
    except TelegramError as exc:
        raise ConfigError(f"cannot ask Telegram for the bot's name ({exc}); "
                          "pass --bot-username") from exc
    await store.kv.set("bot_username", username)
    return username


@invite_app.command("create")
def invite_create(
    role: Annotated[RoleChoice, typer.Option(help="The role the invited person will have.")],
    project: Annotated[list[str] | None, typer.Option(
        help="Project id from network.yaml (repeat for several).")] = None,
    org: Annotated[str | None, typer.Option(
        help="Organisation id; needed when a project has several of the right kind.")] = None,
    uses: Annotated[int, typer.Option(help="How many people may use the code.", min=1)] = 1,
    expires: Annotated[str, typer.Option(help="Validity, e.g. 12h, 14d, 2w.")] = "14d",
    qr: Annotated[Path | None, typer.Option(help="Also write a QR code of the link (PNG).")] = None,
    bot_username: Annotated[str | None, typer.Option(
        help="The bot's @username (default: asked from Telegram once, then remembered).")] = None,
) -> None:
    """Create an invitation; print its code and its link (shown only once)."""
    cfg = settings()
    try:
        lifetime = invitations.parse_duration(expires)
    except InvitationError as exc:
        fail(str(exc))

    async def work(store: Store) -> tuple[invitations.NewInvitation, str]:
        created = await invitations.create(
            store, role=role.value, project_slugs=project or [], org_slug=org, uses=uses,
            expires_in=lifetime, now=now())
        return created, await _bot_username(cfg, store, bot_username)

    created, username = run_async(with_store(cfg, work))
    link = invitations.deep_link(username, created.code)
    org_text = f" of {created.organisation.slug}" if created.organisation else ""
    typer.echo(f"Invitation for a {role.value}{org_text}, {uses} use(s), valid until "
               f"{created.invitation.expires_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(f"Code: {created.code}  (label #{created.invitation.label})")
    typer.echo(f"Link: {link}")
    if qr is not None:
        import segno

        try:
            segno.make(link, error="m").save(str(qr), scale=10, border=4)
        except OSError as exc:
            fail(f"cannot write {qr}: {exc.strerror}")
        typer.echo(f"QR code: {qr}")


@invite_app.command("list")
def invite_list() -> None:
    """List invitations by label (codes themselves are never shown again)."""
    cfg = settings()

    async def work(store: Store) -> list[tuple[Any, str]]:
        rows = []
        for inv in await store.invitations.all():
            projects = await store.network.projects_by_ids(inv.project_ids)
            rows.append((inv, ",".join(p.slug for p in projects) or "-"))
        return rows

    rows = run_async(with_store(cfg, work))
    if not rows:
        typer.echo("No invitations yet.")
        return
    moment = now()
    typer.echo(f"{'LABEL':<8} {'ROLE':<12} {'PROJECTS':<28} {'USES':<6} {'EXPIRES (UTC)':<17} STATE")
    for inv, projects in rows:
        state = ("revoked" if inv.revoked_at else "used up" if inv.uses >= inv.max_uses
                 else "expired" if moment >= inv.expires_at else "open")
        typer.echo(f"{'#' + inv.label:<8} {inv.role:<12} {projects[:28]:<28} "
                   f"{f'{inv.uses}/{inv.max_uses}':<6} {inv.expires_at:%Y-%m-%d %H:%M} {state}")


@invite_app.command("revoke")
def invite_revoke(code: Annotated[str, typer.Argument(
        help="The code, or the label `invite list` shows (e.g. #K7QM2X).")]) -> None:
    """Revoke an invitation so that nobody can join with it any more."""
    cfg = settings()
    revoked = run_async(with_store(cfg, lambda store: invitations.revoke(store, code, now())))
    if not revoked:
        fail("no open invitation matches this code")
    typer.echo("Invitation revoked.")


# --- announcements ------------------------------------------------------------------------


def _read_text(path: Path, limit: int) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    if not text:
        fail(f"{path} is empty")
    if len(text) > limit:
        fail(f"{path} has {len(text)} characters; an announcement has at most {limit}")
    return text


def _moment(value: str, zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at {value!r}: use ISO 8601, e.g. 2026-03-10T09:00 or 2026-03-10T09:00+01:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))  # PALABRE_TIMEZONE
    if moment <= now():
        fail(f"--at {value!r} is in the past")
    return moment


@app.command()
def announce(
    text_file: Annotated[Path, typer.Option(
        help="The announcement, plain text (UTF-8); sent to everyone without a version below.")],
    lang_file: Annotated[list[str] | None, typer.Option(
        help="A version for members reading a language: LANG=FILE (fr, en, pt, es); "
             "repeat for several.")] = None,
    audience: Annotated[list[str] | None, typer.Option(
        help="Who receives it: everyone (default), or project=ID, country=CC, "
             "organisation=ID, role=ROLE, language=LANG; repeat to narrow (all must match), "
             "commas for alternatives (role=partner,observer).")] = None,
    at: Annotated[str | None, typer.Option(
        help="Send later, at this ISO 8601 time (without offset: PALABRE_TIMEZONE).")] = None,
    ack: Annotated[bool, typer.Option(
        "--ack", help="Add a “Received” button and follow who pressed it.")] = False,
    author: Annotated[int | None, typer.Option(
        help="Telegram id of the coordinator or admin it comes from (their scope applies; "
             "replies and the report go to them). Default: the network, replies go to admins.",
        min=1, max=MAX_ID)] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Send an announcement from the command line (the running bot delivers it)."""
    from bot.config import LANGUAGES
    from bot.core.announcements import MAX_TEXT, AnnouncementService, Audience, AudienceError

    cfg = settings()
    text = _read_text(text_file, MAX_TEXT)
    versions: dict[str, str] = {}
    for spec in lang_file or []:
        language, sep, name = spec.partition("=")
        if not sep or language not in LANGUAGES:
            fail(f"--lang-file {spec!r}: use LANG=FILE with LANG one of {', '.join(LANGUAGES)}")
        versions[language] = _read_text(Path(name), MAX_TEXT)
    try:
        target = Audience.parse(audience or [])
    except AudienceError as exc:
        fail(str(exc))
    send_at = None if at is None else _moment(at, cfg.timezone)

    async def work(store: Store) -> tuple[int, int]:
        service = AnnouncementService(store, cfg.timezone)
        sender = None
        if author is not None:
            sender = await store.members.by_telegram_id(author)
            if sender is None or not service.may_announce(sender):
                fail(f"--author {author}: no active coordinator or administrator with this id")
        people = await service.recipients(sender, target)
        languages = sorted({p.language for p in people})
        typer.echo(f"Recipients: {len(people)} ({', '.join(languages) or 'nobody'})")
        typer.echo(f"When: {'as soon as the bot runs' if send_at is None else send_at.isoformat()}")
        typer.echo("--- default text ---")
        typer.echo(text)
        for language, version in sorted(versions.items()):
            typer.echo(f"--- {language} ---")
            typer.echo(version)
        if not people:
            fail("nobody matches this audience")
        if not yes and not typer.confirm(f"Send to {len(people)} people?"):
            typer.echo("Nothing was sent.")
            raise typer.Exit(1)
        return await service.publish_new(author=sender, text=text, versions=versions,
                                          audience=target, ack=ack, send_at=send_at, now=now())

    announcement_id, count = run_async(with_store(cfg, work))
    people = "1 person" if count == 1 else f"{count} people"
    typer.echo(f"Announcement #{announcement_id} queued for {people}; the running bot "
               "sends it (`palabre run`).")


# --- database -----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from storage import migrations

    cfg = settings()

    async def work() -> list[migrations.Migration]:
        db = Database(cfg.database)
        await db.open()
        try:
            return await migrations.upgrade(db)
        finally:
            await db.close()

    applied = run_async(work())
    for m in applied:
        typer.echo(f"Applied {m.version:04d}_{m.name}")
    typer.echo(f"Database {cfg.database} is up to date.")


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the database consistently with SQLite's online backup API (safe while running)."""
    cfg = settings()
    if not cfg.database.is_file():
        fail(f"no database at {cfg.database}")
    if file.resolve() == cfg.database.resolve():
        fail("the backup must go to another file")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(file)
        try:
            with target:
                source.backup(target, pages=1024)
        finally:
            target.close()
            source.close()
    except (sqlite3.Error, OSError) as exc:
        fail(f"backup failed: {exc}")
    typer.echo(f"Backed up {cfg.database} to {file}.")


# --- exports and moves --------------------------------------------------------------------


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    json = "json"


async def _scope(store: Store, project: str | None, since: datetime | None,
                 as_member: int | None, zone: str) -> tuple[Scope, str]:
    """The export's scope (that of `as_member` when given) and the time zone of its dates
    (the member's, else `zone`)."""
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
) -> None:
    """Export reports, indicator values and attachments (XLSX, CSV) or records (JSON Lines)."""
    from bot.exports import jsonl, spreadsheets, tables

    cfg = settings()
    if len(delimiter) != 1:
        fail("--delimiter takes one character, e.g. ';'")

    async def resolve(store: Store) -> tuple[Scope, str, str, list[SheetData]]:
        from bot.core.announcements import AnnouncementService
        from bot.core.surveys import SurveyService
        from bot.exports.survey_wide import survey_sheets

        scope, zone = await _scope(store, project, since, as_member, cfg.timezone)
        scope = replace(scope, all_versions=all_versions)
        member = None if as_member is None else await store.members.by_id(as_member)
        language = member.language if member else cfg.default_language
        sheets: list[SheetData] = []
        if fmt is ExportFormat.xlsx:
            surveys = SurveyService(store, AnnouncementService(store, zone), zone)
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
                                               progress)
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


@media_app.command("pack")
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


# --- translations -------------------------------------------------------------------------


@i18n_app.command("extract")
def i18n_extract() -> None:
    """Add the messages found in the code to every catalog (translations are kept)."""
    from bot import i18n_tools

    for path in i18n_tools.update_catalogs():
        typer.echo(f"Updated {path}")


@i18n_app.command("compile")
def i18n_compile() -> None:
    """Compile the .po catalogs into .mo files next to them (for external gettext tools)."""
    from bot import i18n_tools

    for path in i18n_tools.compile_all():
        typer.echo(f"Compiled {path}")


@i18n_app.command("check")
def i18n_check() -> None:
    """Fail if a message lacks a translation or a translation's placeholders differ."""
    from bot import i18n_tools

    problems = i18n_tools.check_all()
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("All catalogs are complete.")


# --- surveys ------------------------------------------------------------------------------

class WideFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@survey_app.command("import")
def survey_import(file: Annotated[Path, typer.Argument(
        help="An XLSForm (.xlsx, .xls) or a YAML questionnaire (.yaml).")],
        choices: Annotated[list[Path] | None, typer.Option(
            "--files", "--choices", help="The form's files, or a folder holding them: data "
            "(CSV, XML or GeoJSON of select_one_from_file, csv-external, pulldata) and media "
            "labels; repeat for several. Files beside the form are found without it.")] = None
) -> None:
    """Import a questionnaire; a changed file becomes a new version."""
    from bot.core.surveys.forms import FormError
    from bot.services import Services

    cfg = settings()
    if not file.is_file():
        fail(f"{file}: no such file")
    given: dict[str, Path] = {}
    for extra in choices or []:
        if not extra.exists():
            fail(f"{extra}: no such file or folder")
        if extra.is_file() and extra.stat().st_size > 10 * 1024 * 1024:
            fail(f"{extra}: larger than 10 MB")
        for one in sorted(extra.iterdir()) if extra.is_dir() else [extra]:
            if one.is_file() and one.stat().st_size <= 10 * 1024 * 1024:
                given.setdefault(one.name, one)  # a folder's other files are left aside

    async def work(_store: Store) -> tuple[str, int, bool, int, list[str], tuple[str, ...]]:
        from bot.core.surveys.base import media_files, media_names

        services = Services(cfg)
        await services.open()
        try:
            form, created = await services.surveys.import_form(file, now(), given)
            definition = services.surveys.definition(form)
            missing = sorted(media_names(definition)
                             - set(media_files(definition, file, given)))
            return (form.form_id, form.version, created, len(definition.asked()), missing,
                    definition.missing_files)
        finally:
            await services.close()

    try:
        form_id, version, created, count, missing, data = run_async(with_store(cfg, work))
    except FormError as exc:
        fail(str(exc))
    for name in missing:
        typer.echo(f"Media file {name} not found beside the form (nor in media/): that "
                   "question is asked with its text only.")
    for name in data:
        typer.echo(f"Data file {name} not found beside the form (nor in media/): the "
                   "questionnaire cannot be sent until it is imported again with it "
                   f"(--files {name}, or --files FOLDER).")
    state = "imported" if created else "unchanged, already imported"
    typer.echo(f"Questionnaire {form_id} version {version} ({count} questions): {state}.")


@survey_app.command("list")
def survey_list() -> None:
    """List the questionnaires (every version) and the campaigns."""
    async def work(store: Store) -> None:
        forms = await store.surveys.forms()
        if not forms:
            typer.echo("No questionnaire yet: palabre survey import FILE.")
            return
        for form in forms:
            typer.echo(f"{form.form_id} v{form.version}  {form.title}  "
                       f"(imported {form.imported_at:%Y-%m-%d %H:%M} from {form.source})")
        names = {f.id: f"{f.form_id} v{f.version}" for f in forms}
        for campaign in await store.surveys.campaigns():
            invited = len(await store.surveys.invitations(campaign.id))
            done = sum(1 for r in await store.surveys.campaign_responses(campaign.id)
                       if r.status == "submitted")
            typer.echo(f"campaign {campaign.id}: {names.get(campaign.form_pk, '?')}, "
                       f"{'joint, ' if campaign.joint else ''}{done}/{invited} answered, "
                       f"{campaign.opens_at:%Y-%m-%d %H:%M} → {campaign.closes_at:%Y-%m-%d %H:%M}")

    run_async(with_store(settings(), work))


@survey_app.command("launch")
def survey_launch(
    form_id: Annotated[str, typer.Argument(help="The questionnaire's form_id (latest version).")],
    deadline: Annotated[str, typer.Option(
        help="When answers stop being accepted, ISO 8601 (without offset: PALABRE_TIMEZONE).")],
    audience: Annotated[list[str] | None, typer.Option(
        help="Who answers: everyone (default), or project=ID, country=CC, organisation=ID, "
             "role=ROLE, language=LANG; repeat to narrow, commas for alternatives.")] = None,
    opens: Annotated[str | None, typer.Option(
        help="Send the invitations at this time (ISO 8601); default: now.")] = None,
    joint: Annotated[bool, typer.Option(
        "--joint", help="Joint evaluation: both sides of the partnership answer.")] = False,
    author: Annotated[int | None, typer.Option(
        help="Telegram id of the coordinator or admin launching it (their scope applies).",
        min=1, max=MAX_ID)] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    remind: Annotated[str | None, typer.Option(
        help="Days before the deadline to remind those who have not answered, e.g. '5,2,1' "
             "(default 3,1; 'none' for no reminder).")] = None,
) -> None:
    """Send a questionnaire to an audience (the running bot delivers the invitations)."""
    from bot.core.announcements import Audience, AudienceError
    from bot.core.surveys import LaunchError
    from bot.services import Services

    cfg = settings()
    try:
        target = Audience.parse(audience or [])
    except AudienceError as exc:
        fail(str(exc))
    opens_at = now() if opens is None else _moment(opens, cfg.timezone)
    closes_at = _moment(deadline, cfg.timezone)
    remind_days: tuple[int, ...] | None = None
    if remind is not None:
        try:
            remind_days = () if remind.strip() == "none" else tuple(
                sorted({int(day) for day in remind.split(",") if day.strip()}, reverse=True))
        except ValueError:
            fail("--remind takes days as numbers separated by commas, e.g. 3,1")
        if any(day < 0 for day in remind_days):
            fail("--remind: days before the deadline cannot be negative")

    async def work(_store: Store) -> tuple[int, int]:
        services = Services(cfg)
        await services.open()
        try:
            store = services.store
            form = await store.surveys.latest_by_form_id(form_id)
            if form is None:
                fail(f"no questionnaire {form_id!r}: palabre survey import FILE first")
            sender = None
            if author is not None:
                sender = await store.members.by_telegram_id(author)
                if sender is None or not services.surveys.may_launch(sender):
                    fail(f"--author {author}: no active coordinator or administrator with "
                         "this id")
            people = await services.surveys.audience_people(sender, target, joint)
            typer.echo(f"{form.title} (v{form.version}) to {len(people)} people, "
                       f"{'joint, ' if joint else ''}until {closes_at.isoformat()}")
            if not people:
                fail("nobody matches this audience")
            if not yes and not typer.confirm(f"Send to {len(people)} people?"):
                typer.echo("Nothing was sent.")
                raise typer.Exit(1)
            return await services.surveys.launch(author=sender, form=form, audience=target,
                                                 joint=joint, opens_at=opens_at,
                                                 closes_at=closes_at, now=now(),
                                                 remind_days=remind_days)
        finally:
            await services.close()

    try:
        campaign_id, count = run_async(with_store(cfg, work))
    except LaunchError as exc:
        fail(str(exc))
    typer.echo(f"Campaign {campaign_id}: {count} people invited; the running bot sends the "
               "invitations (`palabre run`).")


@survey_app.command("export")
def survey_export(
    campaign: Annotated[int, typer.Argument(help="The campaign's number (palabre survey list).",
                                            min=1, max=MAX_ID)],
    fmt: Annotated[WideFormat, typer.Option("--format", help="csv or xlsx.")] = WideFormat.csv,
    out: Annotated[Path | None, typer.Option(
        "--out", help="The file to write (default: campaign-N.csv|xlsx).")] = None,
    delimiter: Annotated[str, typer.Option(
        help="CSV field separator (French spreadsheets expect ';').")] = ",",
) -> None:
    """Export a campaign's answers wide: one row per response, one column per question."""
    from bot.core.surveys.forms import Definition
    from bot.exports import survey_wide

    cfg = settings()
    target = out or Path(f"campaign-{campaign}.{fmt.value}")
    if len(delimiter) != 1:
        fail("--delimiter takes one character, e.g. ';'")

    async def work(store: Store) -> tuple[list[str], list[list[survey_wide.Cell]],
                                          list[survey_wide.SheetData]]:
        found = await store.surveys.campaign(campaign)
        if found is None:
            fail(f"no campaign {campaign} (palabre survey list)")
        form = await store.surveys.form(found.form_pk)
        assert form is not None
        definition = Definition.model_validate_json(form.definition)
        rows = await survey_wide.wide_rows(store, definition, campaign, cfg.timezone)
        repeats = survey_wide.repeat_tables(definition, await store.surveys.campaign_answers(
            campaign), [(int(str(row[-1])), str(row[0])) for row in rows])
        return survey_wide.columns(definition), rows, repeats

    header, rows, repeats = run_async(with_store(cfg, work))
    target.parent.mkdir(parents=True, exist_ok=True)
    survey_wide.write(target, header, rows, fmt.value, delimiter, repeats)
    typer.echo(f"Wrote {len(rows)} responses to {target}.")


def main() -> None:
    """Entry point of the `palabre` console script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
