"""The `palabre` command line, one module per group of sub-commands (each command opens one
store): `serve` (run, demo), `network`, `invite`, `announce`, `db`, `exports` (export, import,
media pack), `i18n`, `survey`, `whatsapp`. Command and option names are a contract: scripts use them."""

from __future__ import annotations

import sys

from bot.cli import announce, db, exports, i18n, invite, network, serve, survey, whatsapp
from bot.cli.base import app

app.add_typer(network.group, name="network")
app.add_typer(invite.group, name="invite")
app.add_typer(db.group, name="db")
app.add_typer(i18n.group, name="i18n")
app.add_typer(exports.media, name="media")
app.add_typer(survey.group, name="survey")
app.add_typer(whatsapp.group, name="whatsapp")

__all__ = ["announce", "app", "main", "serve"]


def main() -> None:
    """Entry point of the `palabre` console script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
