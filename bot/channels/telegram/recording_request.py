"""The getUpdates request that records every fetched update before it can be confirmed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram import poison as poison_updates
from bot.channels.telegram.aiohttp_request import AiohttpRequest

# Records a batch: the updates to handle, and the quarantined ones (id, escaped JSON, reason).
Recorder = Callable[[Sequence[Mapping[str, Any]], Sequence[tuple[int, str, str]]],
                    Awaitable[None]]


class RecordingRequest(AiohttpRequest):
    """The aiohttp request for getUpdates that hands each batch to a recorder before returning it.

    python-telegram-bot confirms a batch on its next getUpdates call, possibly before the
    handlers ran. Recording here, before the batch reaches the application, means that no
    update is confirmed to Telegram before it is in the inbox. If recording fails the call
    fails, PTB retries, and Telegram keeps the updates. An update that cannot be stored or
    parsed is quarantined instead (see `bot.channels.telegram.poison`), so it cannot block the others.
    """

    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._recorder = recorder

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
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if code == 200 and url.rsplit("/", 1)[-1].lower() == "getupdates":
            body = json.loads(payload)
            if body.get("ok") and isinstance(body.get("result"), list) and body["result"]:
                good, poison, handed = poison_updates.split(body["result"])
                # Shielded: PTB cancels a pending getUpdates when it stops. The batch is then
                # not confirmed and comes again; recording it anyway is harmless (by id).
                await asyncio.shield(self._recorder(good, poison))
                if poison or any(a is not b for a, b in zip(handed, body["result"],
                                                            strict=False)):
                    # Stubs in place of quarantined updates, repaired ones in place of theirs.
                    body["result"] = handed
                    payload = json.dumps(body, ensure_ascii=True).encode()
        return code, payload
