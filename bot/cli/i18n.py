"""`palabre i18n extract|compile|check`."""

from __future__ import annotations

import typer

group = typer.Typer(help="Translation catalogs.", no_args_is_help=True)


@group.command("extract")
def i18n_extract() -> None:
    """Add the messages found in the code to every catalog (translations are kept)."""
    from bot import i18n_tools

    for path in i18n_tools.update_catalogs():
        typer.echo(f"Updated {path}")


@group.command("compile")
def i18n_compile() -> None:
    """Compile the .po catalogs into .mo files next to them (for external gettext tools)."""
    from bot import i18n_tools

    for path in i18n_tools.compile_all():
        typer.echo(f"Compiled {path}")


@group.command("check")
def i18n_check() -> None:
    """Fail if a message lacks a translation or a translation's placeholders differ."""
    from bot import i18n_tools

    problems = i18n_tools.check_all()
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("All catalogs are complete.")
