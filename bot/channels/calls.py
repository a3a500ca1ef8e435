"""What every channel's sender does with its calls under way when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import Set


async def drain(in_flight: Set[asyncio.Task[None]], timeout: float) -> None:
    """Let the calls under way finish for `timeout` seconds, then cancel the rest and wait for
    them: a cancelled call's row stays `sending`, uncertain at the next start (never re-sent)."""
    if not in_flight:
        return
    _done, pending = await asyncio.wait(set(in_flight), timeout=timeout)
    for left in pending:
        left.cancel()
    if pending:
        await asyncio.wait(pending)
