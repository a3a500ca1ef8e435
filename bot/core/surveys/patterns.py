"""`regex()` on RE2: matching takes time linear in the text whatever the pattern, so a form's
pattern (or a member's answer) can never freeze the event loop the way a backtracking engine
does on `(a+)+$`. ODK's `regex()` is a full match of the whole value."""

from __future__ import annotations

import functools

import re2


class PatternError(ValueError):
    """A pattern RE2 cannot compile (back-references and look-arounds are not linear)."""


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 8 << 20  # bytes for one compiled pattern


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> object:
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        message = exc.args[0] if exc.args else exc
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        raise PatternError(f"invalid regular expression {pattern!r}: {message}") from exc


def validate(pattern: str) -> None:
    """Raise PatternError when the pattern cannot be compiled."""
    _compiled(pattern)


def full_match(pattern: str, text: str) -> bool:
    """Whether the whole text matches (ODK's regex())."""
    return _compiled(pattern).fullmatch(text) is not None  # type: ignore[attr-defined]
