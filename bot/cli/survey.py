"""`palabre survey import|list|launch|export`: each opens one store."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.base import (
    MAX_ID,
    decimal_separator,
    fail,
    moment,
    now,
    run_async,
    settings,
    with_store,
)
from bot.i18n import use_language
from storage import Store

if TYPE_CHECKING:
    from bot.core.surveys import SurveyService

group = typer.Typer(help="Evaluation questionnaires: import, launch, list, export.",
                    no_args_is_help=True)


def surveys_of(store: Store, timezone: str) -> SurveyService:
    """The survey service over the command's one store (invitations go through the
    announcements' outbox, which the running bot drains)."""
    from bot.core.announcements import AnnouncementService
    from bot.core.surveys import SurveyService

    return SurveyService(store, AnnouncementService(store, timezone), timezone)


class WideFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@group.command("import")
def survey_import(file: Annotated[Path, typer.Argument(
        help="An XLSForm (.xlsx, .xls) or a YAML questionnaire (.yaml).")],
        choices: Annotated[list[Path] | None, typer.Option(
            "--files", "--choices", help="The form's files, or a folder holding them: data "
            "(CSV, XML or GeoJSON of select_one_from_file, csv-external, pulldata) and media "
            "labels; repeat for several. Files beside the form are found without it.")] = None
) -> None:
    """Import a questionnaire; a changed file becomes a new version."""
    from bot.core.surveys.forms import FormError

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

    async def work(store: Store) -> tuple[str, int, bool, int, list[str], tuple[str, ...]]:
        from bot.core.surveys.base import media_files, media_names

        surveys = surveys_of(store, cfg.timezone)
        form, created = await surveys.import_form(file, now(), given)
        definition = surveys.definition(form)
        missing = sorted(media_names(definition) - set(media_files(definition, file, given)))
        return (form.form_id, form.version, created, len(definition.asked()), missing,
                definition.missing_files)

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


@group.command("list")
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


@group.command("launch")
def survey_launch(
    form_id: Annotated[str, typer.Argument(help="The questionnaire's form_id (latest version).")],
    deadline: Annotated[str, typer.Option(
        help="When answers stop being accepted: a day (2026-04-30: the end of that day for "
             "everyone invited) or a time, ISO 8601 (without offset: PALABRE_TIMEZONE).")],
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

    cfg = settings()
    try:
        target = Audience.parse(audience or [])
    except AudienceError as exc:
        fail(str(exc))
    opens_at = now() if opens is None else moment(opens, cfg.timezone)
    closes_at: datetime | date
    try:  # a day alone: the end of that day, the same day for everyone invited
        closes_at = date.fromisoformat(deadline) if len(deadline) == 10 else \
            moment(deadline, cfg.timezone)
    except ValueError:
        closes_at = moment(deadline, cfg.timezone)  # explains the expected form
    remind_days: tuple[int, ...] | None = None
    if remind is not None:
        try:
            remind_days = () if remind.strip() == "none" else tuple(
                sorted({int(day) for day in remind.split(",") if day.strip()}, reverse=True))
        except ValueError:
            fail("--remind takes days as numbers separated by commas, e.g. 3,1")
        if any(day < 0 for day in remind_days):
            fail("--remind: days before the deadline cannot be negative")

    async def work(store: Store) -> tuple[int, int]:
        surveys = surveys_of(store, cfg.timezone)
        form = await store.surveys.latest_by_form_id(form_id)
        if form is None:
            fail(f"no questionnaire {form_id!r}: palabre survey import FILE first")
        sender = None
        if author is not None:
            sender = await store.members.by_telegram_id(author)
            if sender is None or not surveys.may_launch(sender):
                fail(f"--author {author}: no active coordinator or administrator with this id")
        people = await surveys.audience_people(sender, target, joint)
        typer.echo(f"{form.title} (v{form.version}) to {len(people)} people, "
                   f"{'joint, ' if joint else ''}until {closes_at.isoformat()}")
        if not people:
            fail("nobody matches this audience")
        if not yes and not typer.confirm(f"Send to {len(people)} people?"):
            typer.echo("Nothing was sent.")
            raise typer.Exit(1)
        return await surveys.launch(author=sender, form=form, audience=target, joint=joint,
                                    opens_at=opens_at, closes_at=closes_at, now=now(),
                                    remind_days=remind_days)

    try:
        campaign_id, count = run_async(with_store(cfg, work))
    except LaunchError as exc:
        fail(str(exc))
    typer.echo(f"Campaign {campaign_id}: {count} people invited; the running bot sends the "
               "invitations (`palabre run`).")


@group.command("export")
def survey_export(
    campaign: Annotated[int, typer.Argument(help="The campaign's number (palabre survey list).",
                                            min=1, max=MAX_ID)],
    fmt: Annotated[WideFormat, typer.Option("--format", help="csv or xlsx.")] = WideFormat.csv,
    out: Annotated[Path | None, typer.Option(
        "--out", help="The file to write (default: campaign-N.csv|xlsx).")] = None,
    delimiter: Annotated[str, typer.Option(
        help="CSV field separator (French spreadsheets expect ';').")] = ",",
    decimal: Annotated[str | None, typer.Option(
        help="CSV decimal separator: ',' for a spreadsheet that reads 12,5 (default: ',' "
             "with --delimiter ';', else '.').")] = None,
    codes: Annotated[bool, typer.Option(
        "--codes", help="Kobo's layout for other tools: choice names, columns named by the "
                        "questions' names, ISO dates (default: labels and titles in "
                        "PALABRE_DEFAULT_LANGUAGE, date cells).")] = False,
) -> None:
    """Export a campaign's answers wide: one row per response, one column per question."""
    from bot.core.surveys.forms import Definition, pick
    from bot.exports import survey_wide

    cfg = settings()
    target = out or Path(f"campaign-{campaign}.{fmt.value}")
    if len(delimiter) != 1:
        fail("--delimiter takes one character, e.g. ';'")
    separator = decimal_separator(decimal, delimiter)

    async def work(store: Store) -> tuple[list[str], list[list[survey_wide.Cell]],
                                          list[survey_wide.SheetData],
                                          list[survey_wide.Sheet]]:
        found = await store.surveys.campaign(campaign)
        if found is None:
            fail(f"no campaign {campaign} (palabre survey list)")
        form = await store.surveys.form(found.form_pk)
        assert form is not None
        definition = Definition.model_validate_json(form.definition)
        if not codes:
            language = cfg.default_language
            title = pick(definition.title, language, definition.default_language) \
                or definition.form_id
            with use_language(language):
                sheets = await survey_wide.readable_sheets(store, definition, campaign,
                                                           language, cfg.timezone, None, title)
            return [], [], [], sheets
        rows = await survey_wide.wide_rows(store, definition, campaign, cfg.timezone)
        repeats = survey_wide.repeat_tables(definition, await store.surveys.campaign_answers(
            campaign), [(int(str(row[-1])), str(row[0])) for row in rows])
        return survey_wide.columns(definition), rows, repeats, []

    header, rows, repeats, sheets = run_async(with_store(cfg, work))
    target.parent.mkdir(parents=True, exist_ok=True)
    if codes:
        survey_wide.write(target, header, rows, fmt.value, delimiter, repeats)
    else:
        with use_language(cfg.default_language):
            survey_wide.write_sheets(target, sheets, fmt.value, delimiter, separator)
    typer.echo(f"Wrote {len(rows) if codes else len(sheets[0].rows)} responses to {target}.")
