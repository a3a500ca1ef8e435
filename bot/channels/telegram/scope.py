"""Per-update facts (who writes, in which language) held in a ContextVar for the handlers."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from storage.models import Member


@dataclass
class UpdateScope:
    update_id: int
    user_id: int | None
    member: Member | None  # an active or stopped member; None for visitors
    language: str
    marked: bool = False  # the inbox entry was closed inside a handler's transaction
    error: str | None = None
    skipped: bool = False  # another worker had already handled this update
    # The person's previous update wrote something whose reply may not have reached them: free
    # text is then not an answer to the current step (they may be retyping the previous one).
    reply_lost: bool = False
    # This update showed the person again where their flow stands (nothing moved).
    shows_state: bool = False
    # This update's writes may have moved a flow: until its replies are delivered, the person's
    # free text is not taken as an answer (they may not have seen the new question).
    moved: bool = False
    last_message_id: int | None = None  # the last message sent in the person's chat


_scope: ContextVar[UpdateScope | None] = ContextVar("palabre_update_scope", default=None)


def current() -> UpdateScope:
    """Return the scope of the update being handled."""
    scope = _scope.get()
    if scope is None:
        raise RuntimeError("no update is being handled in this task")
    return scope


def maybe_current() -> UpdateScope | None:
    return _scope.get()


def enter(scope: UpdateScope) -> object:
    return _scope.set(scope)


def leave(token: object) -> None:
    _scope.reset(token)  # type: ignore[arg-type]
