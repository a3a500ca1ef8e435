"""Palabre: a chat-ops bot for partner networks."""

import sys

# python-telegram-bot imports httpx, and httpx imports its own command line on import (with
# rich, click and pygments when they are installed, as typer installs them): about 4 MiB and
# a tenth of the bot's start-up, never used. Marked absent, it is skipped: httpx catches the
# ImportError and keeps a stub `httpx.main`. Left as it is if httpx is already loaded.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
