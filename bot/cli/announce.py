"""`palabre announce`: an announcement from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.base import MAX_ID, app, fail, moment, now, read_text, run_async, settings, with_store
from storage import Store


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
    text = read_text(text_file, MAX_TEXT)
    versions: dict[str, str] = {}
    for spec in lang_file or []:
        language, sep, name = spec.partition("=")
        if not sep or language not in LANGUAGES:
            fail(f"--lang-file {spec!r}: use LANG=FILE with LANG one of {', '.join(LANGUAGES)}")
        versions[language] = read_text(Path(name), MAX_TEXT)
    try:
        target = Audience.parse(audience or [])
    except AudienceError as exc:
        fail(str(exc))
    send_at = None if at is None else moment(at, cfg.timezone)

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
