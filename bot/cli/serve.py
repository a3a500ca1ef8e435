"""`palabre run` and `palabre demo`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.base import app, fail, run_async, settings, with_store
from bot.config import ConfigError


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
