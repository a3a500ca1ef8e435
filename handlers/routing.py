"""Routers over neutral events, one per feature (in the style of aiogram's routers).

A feature declares its routes: commands by name, choices by the typed reference's class
(`bot/core/callbacks.py`: its `pattern`, never a hand-written regex), and free text, files,
places or other messages for the catch-alls. A route's function takes the neutral event
(`bot/core/events.py`) and a `Context` and returns the core's `Outcome`; it sends nothing. A
channel's adapter (Telegram: `bot/channels/telegram/adapter.py`) reads its wire format into an
event, asks `handlers.dispatch` and renders the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar, cast, overload

from bot.core.callbacks import CallbackRef
from bot.core.events import (
    Choice,
    Command,
    InboundEvent,
    Location,
    MediaMessage,
    Text,
    Unsupported,
)
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from bot.services import Services
from storage.models import Member

Busy = Literal["photo", "document"]
E = TypeVar("E", bound=InboundEvent)


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a route may use besides its event: the services, the clock, the member, and the
    channel's ways to answer before the route's outcome (a text before its slow charts)."""

    services: Services
    member: Member | None  # an active or stopped member; None for visitors
    # The person's last reply may not have reached them (see docs/architecture.md, "Lost
    # replies"): free text is then not taken as an answer.
    reply_lost: bool = False
    send: Callable[[Outcome], Awaitable[None]]  # answer now, before the route's outcome
    busy: Callable[[Busy], Awaitable[None]]  # show that a chart or a file is being made

    def now(self) -> datetime:
        """The services' clock."""
        return self.services.clock()


Call = Callable[[E, Context], Awaitable[Outcome]]
MemberCall = Callable[[E, Context, Member], Awaitable[Outcome]]
AnyCall = Callable[[Any, Context], Awaitable[Outcome]]


@dataclass(frozen=True)
class Route:
    """One route: which events it takes, and what answers them."""

    kinds: tuple[type[InboundEvent], ...]
    test: Callable[[Any], bool]
    call: AnyCall
    commands: tuple[str, ...] = ()

    def takes(self, event: InboundEvent) -> bool:
        """Whether this route answers the event."""
        return isinstance(event, self.kinds) and self.test(event)


async def for_visitors(event: InboundEvent, ctx: Context) -> Outcome:
    """A members' route reached by a visitor: how to join, or where they stopped."""
    services = ctx.services
    pending = await services.store.onboarding.get(event.sender.user_id)
    if pending is not None:
        outcome = services.onboarding.resume(pending)
    else:
        outcome = await services.account.help(None)
    if isinstance(event, Choice):
        # A member's button pressed by a visitor (forged, or after /forget).
        outcome = Outcome(replies=outcome.replies, toast=expired_button().toast)
    return outcome


def _members_only(call: MemberCall[Any]) -> AnyCall:
    async def run(event: InboundEvent, ctx: Context) -> Outcome:
        if ctx.member is None:
            return await for_visitors(event, ctx)
        return await call(event, ctx, ctx.member)

    return run


def _always(_event: object) -> bool:
    return True


class Router:
    """A feature's routes, tried in the order they are declared."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def _add(self, kinds: tuple[type[InboundEvent], ...], test: Callable[[Any], bool],
             members_only: bool, commands: tuple[str, ...] = ()) -> Callable[[Any], Any]:
        def register(call: Any) -> Any:
            run: AnyCall = _members_only(call) if members_only else call
            self.routes.append(Route(kinds, test, run, commands))
            return call

        return register

    @overload
    def command(self, *names: str) -> Callable[[Call[Command]], Call[Command]]: ...
    @overload
    def command(self, *names: str, members_only: Literal[True]
                ) -> Callable[[MemberCall[Command]], MemberCall[Command]]: ...

    def command(self, *names: str, members_only: bool = False) -> Callable[[Any], Any]:
        """Route the commands of these names (visitors get how to join if `members_only`)."""
        return self._add((Command,), lambda event: event.name in names, members_only, names)

    @overload
    def choice(self, ref: type[CallbackRef] | Callable[[object], bool]
               ) -> Callable[[Call[Choice]], Call[Choice]]: ...
    @overload
    def choice(self, ref: type[CallbackRef] | Callable[[object], bool], *,
               members_only: Literal[True]) -> Callable[[MemberCall[Choice]], MemberCall[Choice]]:
        ...

    def choice(self, ref: type[CallbackRef] | Callable[[object], bool], *,
               members_only: bool = False) -> Callable[[Any], Any]:
        """Route the choices a reference class routes (`CallbackRef.pattern`), or those a
        test on the data takes (the guards)."""
        if isinstance(ref, type) and issubclass(ref, CallbackRef):
            test = ref.pattern()
        else:
            test = cast(Callable[[object], bool], ref)
        return self._add((Choice,), lambda event: test(event.data), members_only)

    def any_choice(self) -> Callable[[Call[Choice]], Call[Choice]]:
        """Route every choice that reaches this router (the catch-all)."""
        return self._add((Choice,), _always, False)

    def any_command(self) -> Callable[[Call[Command]], Call[Command]]:
        """Route every command that reaches this router (the catch-all)."""
        return self._add((Command,), _always, False)

    def text(self) -> Callable[[Call[Text]], Call[Text]]:
        """Route free text."""
        return self._add((Text,), _always, False)

    def files_and_places(self) -> Callable[[Call[MediaMessage | Location]],
                                           Call[MediaMessage | Location]]:
        """Route files and shared places."""
        return self._add((MediaMessage, Location), _always, False)

    def unsupported(self) -> Callable[[Call[Unsupported]], Call[Unsupported]]:
        """Route the messages of kinds no feature takes (stickers, contacts…)."""
        return self._add((Unsupported,), _always, False)

    def route_for(self, event: InboundEvent) -> Route | None:
        """The first route that takes the event, if any."""
        return next((route for route in self.routes if route.takes(event)), None)

    def command_names(self) -> set[str]:
        """The commands this router names."""
        return {name for route in self.routes for name in route.commands}
