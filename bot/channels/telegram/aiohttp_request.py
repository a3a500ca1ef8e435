"""python-telegram-bot's HTTP requests on aiohttp: a keyed connection pool, no scan per request.

PTB's default client (httpx over httpcore) walks its whole connection pool on every request;
with the pool of 64 the bot needs, that walk was half of the bot's CPU per update. aiohttp
(already used by the emulator) keeps idle connections per host and hands one out directly.

Errors keep what they prove about delivery (see `bot.channels.telegram.delivery`): a request that
certainly never reached the server (the connection was refused or failed, no free connection
in time, an unusable URL) raises `NotSent`; a timeout once the request was on its way raises
`TimedOut`; any other transport failure `NetworkError` (the outcome is unknown).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.delivery import NotSent

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Raised before a single byte of the request was written.
_BEFORE_SENDING = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError,
                   aiohttp.InvalidURL)


class AiohttpRequest(BaseRequest):
    """A PTB `BaseRequest` on an aiohttp session, with PTB's default timeouts and pool size.

    aiohttp has no write timeout: a call's whole duration is capped by the sum of its connect,
    pool, write and read timeouts instead (when none of them is None).
    """

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT},
                trust_env=False)

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(self, files: bool, read: ODVInput[float], write: ODVInput[float],
                 connect: ODVInput[float], pool: ODVInput[float]) -> aiohttp.ClientTimeout:
        read_s = self._read_timeout if isinstance(read, DefaultValue) else read
        write_s = ((self._media_write_timeout if files else self._write_timeout)
                   if isinstance(write, DefaultValue) else write)
        connect_s = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool_s = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        # `connect` in aiohttp covers waiting for a free connection and opening one.
        waiting = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect_s,
                                     sock_read=read_s)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data is not None and request_data.contains_files)
        timeout = self._timeout(files, read_timeout, write_timeout, connect_timeout,
                                pool_timeout)
        kwargs: dict[str, Any] = {}
        if request_data is not None:
            if files:
                kwargs["data"] = _multipart(request_data)
            else:
                parameters = request_data.json_parameters
                if parameters:
                    kwargs["data"] = urlencode(parameters).encode()
                    kwargs["headers"] = _FORM
        try:
            async with session.request(method, url, timeout=timeout, **kwargs) as response:
                return response.status, await response.read()
        except _BEFORE_SENDING as err:
            raise NotSent(f"aiohttp.{type(err).__name__}: {err}") from err
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
