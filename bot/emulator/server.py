"""The HTTP front of the emulator: routes, long polling, flood limits and fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.emulator.faults import Fault, FaultPlan
from bot.emulator.methods import METHODS, UPLOAD_LIMIT, Method, rate_limited
from bot.emulator.models import ApiCall, ApiError, RateLimits
from bot.emulator.ratelimit import FloodControl
from bot.emulator.state import World
from bot.emulator.wire import Params, read_params

__all__ = ["BotApiEmulator"]

_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class _Poll:
    """One waiting getUpdates; a newer one marks it conflicted and wakes it."""

    __slots__ = ("conflicted", "event")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.conflicted = False


@dataclass
class _Fault:
    method: str  # lower-case
    chat_id: int | None
    error: ApiError | None  # None: hang until stop()
    times: int


@dataclass
class _Drop:
    method: str  # lower-case
    chat_id: int | None
    text_contains: str | None
    after: bool
    times: int


def _error_response(err: ApiError) -> web.Response:
    return web.json_response(err.payload(), status=err.error_code)


def _dropped(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer (the client sees it closed mid-call)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)  # never reaches the client: the connection is gone


class BotApiEmulator(World):
    """A loopback Telegram Bot API server speaking the real wire format.

    Use ``base_url`` and ``base_file_url`` with PTB's ``ApplicationBuilder`` or ``Bot``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:EMULATOR",  # noqa: S107 - a fake token for a fake server
        bot_id: int = 123456,
        bot_username: str = "palabre_bot",
        bot_name: str = "Palabre",
        rate_limits: RateLimits | None = None,
        long_poll_cap: float = 1.0,
        faults: FaultPlan | None = None,
    ) -> None:
        super().__init__(token=token, bot_id=bot_id, bot_username=bot_username, bot_name=bot_name)
        self.rate_limits = rate_limits if rate_limits is not None else RateLimits()
        self.long_poll_cap = long_poll_cap
        self.faults = faults if faults is not None else FaultPlan()
        self.host = "127.0.0.1"
        self.port = 0
        self._flood = FloodControl()
        self._faults: list[_Fault] = []
        self._drops: list[_Drop] = []
        self._poll: _Poll | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """For PTB's ``base_url`` (the token is appended)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For PTB's ``base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (port 0 picks a free one)."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # handler_cancellation: a long poll whose client went away must not linger (and then
        # be "terminated by other getUpdates request" when the bot polls again).
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Answer hung calls and the pending long poll, then close the server."""
        self._stopping.set()
        if self._poll is not None:
            self._poll.event.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (in ``chat_id`` if given) answer this error."""
        error = ApiError(error_code, description, retry_after)
        self._faults.append(_Fault(method.lower(), chat_id, error, times))

    def hang_next(self, method: str, *, chat_id: int | None = None) -> None:
        """The next matching call gets no answer until :meth:`stop` (and has no effect)."""
        self._faults.append(_Fault(method.lower(), chat_id, None, 1))

    def drop_next(
        self,
        method: str,
        *,
        after: bool = True,
        chat_id: int | None = None,
        text_contains: str | None = None,
        times: int = 1,
    ) -> None:
        """Close the connection of the next ``times`` matching calls without an answer:
        after the method ran (``after``, the message is delivered) or before."""
        self._drops.append(_Drop(method.lower(), chat_id, text_contains, after, times))

    def _take_drop(self, method: str, params: Params) -> _Drop | None:
        chat_id = params.get("chat_id")
        text = params.get("text") or params.get("caption") or ""
        for drop in self._drops:
            if (drop.method == method and drop.chat_id in (None, chat_id)
                    and (drop.text_contains is None or drop.text_contains in str(text))):
                drop.times -= 1
                if drop.times <= 0:
                    self._drops.remove(drop)
                return drop
        return None

    def _take_fault(self, method: str, chat_id: int | None) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        lower = name.lower()
        entry = METHODS.get(lower)
        if entry is None and lower != "getupdates":
            self.record_call(ApiCall(name, {}, 404, "Not Found", time.time()))
            return _error_response(ApiError(404, "Not Found"))
        canonical, handler = entry if entry is not None else ("getUpdates", None)
        try:
            params = await read_params(request)
        except ApiError as err:
            params = Params({})
            params.error = err
        call = ApiCall(canonical, params.record(), at=time.time())
        self.record_call(call)
        self.stats["calls"] += 1
        self.stats[canonical] += 1
        fault = self.faults.draw(canonical)
        drop = self._take_drop(lower, params) if self._drops else None
        if drop is not None:
            fault = Fault("drop_after" if drop.after else "drop_before")
        if fault is not None:
            refused = await self._before(request, call, fault)
            if refused is not None:
                return refused
        try:
            if params.error is not None:
                raise params.error
            result = await self._execute(canonical, handler, params)
        except ApiError as err:
            call.status, call.description = err.error_code, err.description
            self.stats["errors"] += 1
            if err.error_code == 429:
                self.stats["429"] += 1
            return _error_response(err)
        call.status = 200
        if fault is not None and fault.kind == "drop_after":
            call.status, call.description = 0, "connection dropped after processing"
            return _dropped(request)
        return web.json_response({"ok": True, "result": result})

    async def _before(
        self, request: web.Request, call: ApiCall, fault: Fault
    ) -> web.StreamResponse | None:
        """Apply a random fault's delay and its refusal; None: the method runs."""
        if fault.delay:
            # The fault itself (a slow network), not a synchronisation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(fault.delay):
                    await self._stopping.wait()
        if fault.kind in ("server_error", "too_many"):
            err = ApiError(fault.status, fault.description, fault.retry_after)
            call.status, call.description = err.error_code, err.description
            self.stats["errors"] += 1
            self.stats["injected"] += 1
            return _error_response(err)
        if fault.kind == "drop_before":
            call.description = "connection dropped before processing"
            self.stats["injected"] += 1
            return _dropped(request)
        return None

    async def _execute(self, canonical: str, handler: Method | None, params: Params) -> Any:
        chat_id = params.get("chat_id")
        chat_id = chat_id if isinstance(chat_id, int) else None
        fault = self._take_fault(canonical.lower(), chat_id)
        if fault is not None:
            if fault.error is not None:
                raise fault.error
            await self._stopping.wait()
            raise ApiError(500, "Internal Server Error: emulator stopped")
        if rate_limited(canonical):
            retry_after = self._flood.acquire(self.rate_limits, chat_id, time.monotonic())
            if retry_after is not None:
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        if handler is None:
            return await self._get_updates(params)
        return handler(self, params)

    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, _WEBHOOK_ACTIVE)
        offset = p.get_int("offset") or 0
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_float("timeout") or 0.0, 0.0)
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(str(a) for a in allowed) or None
        previous = self._poll
        if previous is not None:
            previous.conflicted = True
            previous.event.set()
        poll = self._poll = _Poll()
        try:
            if offset:
                self.confirm_updates(offset)
            updates = self._collect(limit)
            wait = min(timeout, self.long_poll_cap)
            if not updates and wait > 0 and not self._stopping.is_set():
                self.update_waiter = poll.event
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await poll.event.wait()
                if poll.conflicted:
                    raise ApiError(409, _CONFLICT)
                updates = self._collect(limit)
            return updates
        finally:
            if self._poll is poll:
                self._poll = None
                self.update_waiter = None

    def _collect(self, limit: int) -> list[dict[str, Any]]:
        return list(itertools.islice(self.pending, limit))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        stored = self.files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "Not Found"))
