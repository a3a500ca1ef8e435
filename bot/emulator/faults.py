"""Random faults of the network and of Telegram, drawn from a seed (off unless configured).

A :class:`FaultPlan` says how often each kind of fault happens; the emulator draws one
:class:`Fault` (or none) per Bot API call, in call order, from ``random.Random(seed)``::

    emu = BotApiEmulator(faults=FaultPlan(seed=7, server_error=0.05, drop_before=0.02,
                                          drop_after=0.02, too_many=0.01, latency=0.03))

- ``server_error``: a 5xx (500, 502 or 504, as a proxy or Telegram answers); the method is not run.
- ``drop_before``: the connection is closed before the method runs (nothing happened).
- ``drop_after``: the method runs (the message is delivered), then the connection is closed
  without an answer: the caller cannot tell this from ``drop_before``.
- ``too_many``: a 429 with ``retry_after`` drawn from ``retry_after``; nothing happened.
- ``latency``: the answer is held ``spike`` seconds (combined with the other kinds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Fault", "FaultKind", "FaultPlan", "FaultStats"]

FaultKind = Literal["server_error", "drop_before", "drop_after", "too_many"]
KINDS: tuple[FaultKind, ...] = ("server_error", "drop_before", "drop_after", "too_many")
# Methods the bot calls once at start-up: a fault there only stops the process before it
# serves anyone, which tests of integrity do not want to measure (override with `exempt`).
STARTUP_METHODS = frozenset({"getme", "deletewebhook", "setmycommands", "getmycommands"})
SERVER_ERRORS = (
    (500, "Internal Server Error"),
    (502, "Bad Gateway"),
    (504, "Gateway Timeout"),
)


@dataclass(frozen=True)
class Fault:
    """What happens to one call."""

    kind: FaultKind | None
    delay: float = 0.0
    status: int = 0  # for server_error / too_many
    description: str = ""
    retry_after: int | None = None


@dataclass
class FaultStats:
    """How many faults of each kind were injected."""

    server_error: int = 0
    drop_before: int = 0
    drop_after: int = 0
    too_many: int = 0
    latency: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class FaultPlan:
    """Rates (0…1, per call) of each fault; all zero by default (no fault)."""

    seed: int = 0
    server_error: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    too_many: float = 0.0
    latency: float = 0.0
    spike: tuple[float, float] = (0.5, 2.0)  # seconds a latency spike lasts, min and max
    retry_after: tuple[int, int] = (1, 3)  # seconds a random 429 asks to wait, min and max
    exempt: frozenset[str] = STARTUP_METHODS  # lower-case method names never faulted
    stats: FaultStats = field(default_factory=FaultStats)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        total = self.server_error + self.drop_before + self.drop_after + self.too_many
        if total > 1.0 or min(self.server_error, self.drop_before, self.drop_after,
                              self.too_many, self.latency) < 0:
            raise ValueError("fault rates must be between 0 and 1 and add up to at most 1")
        self._random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return bool(self.server_error or self.drop_before or self.drop_after
                    or self.too_many or self.latency)

    def draw(self, method: str) -> Fault | None:
        """The fault for the next call of ``method`` (None: answer normally at once)."""
        if not self.active or method.lower() in self.exempt:
            return None
        rng = self._random
        # Always the same number of draws per call, so that one call's outcome does not
        # shift the faults of every later call.
        roll, spike_roll, spike, code_roll, wait = (rng.random(), rng.random(),
                                                    rng.uniform(*self.spike), rng.random(),
                                                    rng.randint(*self.retry_after))
        delay = spike if spike_roll < self.latency else 0.0
        if delay:
            self.stats.latency += 1
        kind: FaultKind | None = None
        threshold = 0.0
        for candidate in KINDS:
            threshold += getattr(self, candidate)
            if roll < threshold:
                kind = candidate
                break
        if kind is None:
            return Fault(None, delay) if delay else None
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        if kind == "server_error":
            status, text = SERVER_ERRORS[int(code_roll * len(SERVER_ERRORS))]
            return Fault(kind, delay, status, text)
        if kind == "too_many":
            return Fault(kind, delay, 429, f"Too Many Requests: retry after {wait}", wait)
        return Fault(kind, delay)
