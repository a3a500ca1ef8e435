"""`palabre whatsapp templates [--check] [--json]`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.base import fail, run_async, settings
from bot.config import Settings

group = typer.Typer(help="WhatsApp's side: the message templates to submit to Meta.",
                    no_args_is_help=True)


@group.command("templates")
def templates(
    check: Annotated[bool, typer.Option(
        "--check", help="Compare with the templates Meta approved for the business account "
                        "(needs PALABRE_WHATSAPP_TOKEN and "
                        "PALABRE_WHATSAPP_BUSINESS_ACCOUNT_ID); exit 1 if any differs.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print Meta's creation payloads (one JSON object a line).")] = False,
) -> None:
    """Print the templates to submit to Meta: names, categories, bodies in every language."""
    from bot.channels.whatsapp.templates import TEMPLATES, every_template, problems

    specs = {spec.name: spec for spec in TEMPLATES}
    rendered = every_template()
    wrong = [(t, p) for t in rendered for p in problems(t, specs[t.name])]
    if wrong:
        fail("; ".join(f"{t.name} ({t.language}): {p}" for t, p in wrong))
    if check:
        _check(settings())
        return
    if as_json:
        for template in rendered:
            typer.echo(json.dumps(template.payload(), ensure_ascii=False))
        return
    for spec in TEMPLATES:
        typer.echo(f"{spec.name}  ·  category {rendered[0].category}  ·  {spec.purpose}")
        typer.echo(f"  parameters: {', '.join(f'{{{{{i}}}}} e.g. {example}' for i, example in enumerate(spec.examples, 1))}")  # noqa: E501
        for template in (t for t in rendered if t.name == spec.name):
            buttons = " | ".join(template.buttons)
            typer.echo(f"  [{template.language}] {template.body}")
            typer.echo(f"  {' ' * (len(template.language) + 2)} buttons: {buttons}")
        typer.echo("")


def _check(cfg: Settings) -> None:
    if cfg.whatsapp_token is None or not cfg.whatsapp_token.get_secret_value().strip():
        fail("PALABRE_WHATSAPP_TOKEN is not set")
    if not cfg.whatsapp_business_account_id:
        fail("PALABRE_WHATSAPP_BUSINESS_ACCOUNT_ID is not set (WhatsApp Manager → Account "
             "tools → the WhatsApp Business Account id)")
    differences = run_async(_differences(cfg))
    if differences:
        for difference in differences:
            typer.echo(f"✗ {difference}")
        fail(f"{len(differences)} template(s) differ from what Meta approved")
    typer.echo("✓ every template is approved as Palabre sends it")


async def _differences(cfg: Settings) -> list[object]:
    import aiohttp

    from bot.channels.whatsapp.client import WhatsAppClient, WhatsAppError
    from bot.channels.whatsapp.templates import compare

    assert cfg.whatsapp_token is not None and cfg.whatsapp_business_account_id
    async with aiohttp.ClientSession() as session:
        client = WhatsAppClient(session, base_url=cfg.whatsapp_base_url,
                                token=cfg.whatsapp_token.get_secret_value().strip(),
                                phone_number_id=cfg.whatsapp_phone_number_id or "")
        try:
            listed = await client.templates(cfg.whatsapp_business_account_id)
        except WhatsAppError as exc:
            fail(f"cannot read the templates from Meta: {exc}")
    return list(compare(listed))
