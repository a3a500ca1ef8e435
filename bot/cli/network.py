"""`palabre network load`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.base import fail, now, run_async, settings, with_store
from bot.core.network_file import NetworkFileError
from storage import Store

group = typer.Typer(help="Describe the network (collectivities, partners, projects).",
                    no_args_is_help=True)


@group.command("load")
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
