"""Poison updates: what getUpdates returns that cannot be stored or parsed.

One such update used to stop the bot for everyone: recording failed (a lone surrogate cannot be
written as UTF-8) or python-telegram-bot could not parse it (a kind or field of a newer Bot API),
so getUpdates failed and PTB fetched the same batch again, forever. Now a lone surrogate is
replaced by U+FFFD (the rest of the person's message is theirs, and answered); an update that
still cannot be stored or parsed is kept raw (ASCII-escaped) in the `quarantine` table,
replaced in the batch by an empty update with the same id (so that PTB confirms it to Telegram
at the next call), logged once without its content, and never handled.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Update

log = logging.getLogger(__name__)


def problem(raw: Mapping[str, Any]) -> str | None:
    """Why this update cannot be handled (the exception's type, never its content), or None."""
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError) as exc:
        return f"cannot be stored: {type(exc).__name__}"
    try:
        Update.de_json(dict(raw), None)
    except Exception as exc:  # whatever PTB raises on a shape it does not know
        return f"cannot be parsed: {type(exc).__name__}"
    return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def repaired(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD (JSON joins valid pairs already,
    so any surrogate left in a string is half of a character that cannot be stored)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {key: repaired(item) for key, item in value.items()}
    if isinstance(value, list):
        return [repaired(item) for item in value]
    return value


def split(batch: Sequence[Any]) -> tuple[list[Mapping[str, Any]], list[tuple[int, str, str]],
                                         list[Any]]:
    """Split a getUpdates result into the updates to record, the quarantined ones as
    (update_id, escaped raw JSON, reason), and the batch to hand to PTB (stubs in their place).
    """
    good: list[Mapping[str, Any]] = []
    poison: list[tuple[int, str, str]] = []
    handed: list[Any] = []
    for raw in batch:
        update_id = raw.get("update_id") if isinstance(raw, Mapping) else None
        if not isinstance(update_id, int):
            # Without an id nothing can be confirmed or recorded: PTB skips it too.
            log.warning("getUpdates returned an entry without an update id; ignored")
            continue
        reason = problem(raw)
        if reason is not None and reason.startswith("cannot be stored"):
            # Half a character (a client bug, or a forged update): the rest of the message is
            # the person's and is handled, with U+FFFD in place of what cannot be stored.
            fixed = repaired(raw)
            if problem(fixed) is None:
                log.warning("update %s: lone surrogates replaced", update_id)
                raw, reason = fixed, None
        if reason is None:
            good.append(raw)
            handed.append(raw)
            continue
        log.warning("update %s quarantined (%s)", update_id, reason)
        poison.append((update_id, json.dumps(raw, ensure_ascii=True), reason))
        handed.append({"update_id": update_id})
    return good, poison, handed
