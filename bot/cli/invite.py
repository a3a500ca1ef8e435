"""`palabre invite create|list|revoke`."""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.base import fail, now, run_async, settings, with_store
from bot.config import ConfigError, Settings
from bot.core import invitations
from bot.core.invitations import InvitationError
from storage import Store

group = typer.Typer(help="Invite people to join.", no_args_is_help=True)


class Channel(StrEnum):
    telegram = "telegram"
    whatsapp = "whatsapp"


class RoleChoice(StrEnum):
    partner = "partner"
    coordinator = "coordinator"
    observer = "observer"
    admin = "admin"


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


async def _whatsapp_number(cfg: Settings, store: Store, given: str | None) -> str:
    """The business number people write to: given once, else asked from Meta once (the
    phone number id is not the number), then remembered."""
    if given:
        if not any(ch.isdigit() for ch in given):
            raise ConfigError(f"{given!r} is not a phone number")
        await store.kv.set("whatsapp_number", given)
        return given
    known = await store.kv.get("whatsapp_number")
    if known:
        return known
    if cfg.whatsapp_token is None or not cfg.whatsapp_phone_number_id:
        raise ConfigError("set PALABRE_WHATSAPP_TOKEN and PALABRE_WHATSAPP_PHONE_NUMBER_ID, "
                          "or pass --whatsapp-number")
    import aiohttp

    from bot.channels.whatsapp.client import WhatsAppClient, WhatsAppError

    async with aiohttp.ClientSession() as session:
        client = WhatsAppClient(session, base_url=cfg.whatsapp_base_url,
                                token=cfg.whatsapp_token.get_secret_value().strip(),
                                phone_number_id=cfg.whatsapp_phone_number_id)
        try:
            number = await client.display_number()
        except WhatsAppError as exc:
            raise ConfigError(f"cannot ask WhatsApp for the business number ({exc}); "
                              "pass --whatsapp-number") from exc
    await store.kv.set("whatsapp_number", number)
    return number


@group.command("create")
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
    channel: Annotated[Channel, typer.Option(
        help="Where the person joins: a t.me link, or a wa.me link that opens WhatsApp with "
             "the code typed.")] = Channel.telegram,
    whatsapp_number: Annotated[str | None, typer.Option(
        help="The WhatsApp business number (default: asked from Meta once, then "
             "remembered).")] = None,
) -> None:
    """Create an invitation; print its code and its link (shown only once)."""
    cfg = settings()
    try:
        lifetime = invitations.parse_duration(expires)
    except InvitationError as exc:
        fail(str(exc))

    async def work(store: Store) -> tuple[invitations.NewInvitation, str]:
        # Where the link leads is known before the invitation exists: a failure to learn it
        # leaves no code created and never shown.
        if channel is Channel.whatsapp:
            number = await _whatsapp_number(cfg, store, whatsapp_number)
            link = functools.partial(invitations.whatsapp_link, number)
        else:
            link = functools.partial(invitations.deep_link,
                                     await _bot_username(cfg, store, bot_username))
        created = await invitations.create(
            store, role=role.value, project_slugs=project or [], org_slug=org, uses=uses,
            expires_in=lifetime, now=now())
        return created, link(created.code)

    created, link = run_async(with_store(cfg, work))
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


@group.command("list")
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


@group.command("revoke")
def invite_revoke(code: Annotated[str, typer.Argument(
        help="The code, or the label `invite list` shows (e.g. #K7QM2X).")]) -> None:
    """Revoke an invitation so that nobody can join with it any more."""
    cfg = settings()
    revoked = run_async(with_store(cfg, lambda store: invitations.revoke(store, code, now())))
    if not revoked:
        fail("no open invitation matches this code")
    typer.echo("Invitation revoked.")
