"""Calls to WhatsApp's Cloud API (Meta's Graph API) on aiohttp, with what each failure proves.

Plain HTTP rather than a client library: Palabre needs five calls (send a message, upload a
file, read a file's address, download it, and the errors' meaning for its outbox), all of them
JSON over one keep-alive connection pool it already has (aiohttp), and an exact record of
whether a failed send may have been delivered. pywa was considered: it brings its own web
framework integration and handlers, which would duplicate Palabre's inbox and routing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.telegram.delivery import Outcome

log = logging.getLogger(__name__)

# Meta's error codes and what they prove about the message (Cloud API error reference).
_NOT_PROCESSED = {
    4, 80007, 130429,  # rate limits of the app, the account, the number's throughput
    131056,  # pair rate limit: too many messages to this person for now
    133016,  # number being registered / migrated: try later
}
_UNREACHABLE = {131026}  # undeliverable: not a WhatsApp user, old app, or blocked us
_REFUSED_OUTSIDE_WINDOW = 131047  # more than 24 h since their last message: a template is needed


class WhatsAppError(Exception):
    """A failed call, with Meta's error code (0 when none came back)."""

    def __init__(self, message: str, *, code: int = 0, http_status: int = 0,
                 outcome: Outcome = Outcome.UNKNOWN) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.outcome = outcome

    @property
    def needs_template(self) -> bool:
        """Refused because the 24-hour window is closed: only a template may go now."""
        return self.code == _REFUSED_OUTSIDE_WINDOW


class FileOverLimit(WhatsAppError):
    """A person's file larger than the bot keeps (refused before it is read whole)."""


@dataclass(frozen=True)
class MediaFile:
    content: bytes
    mime_type: str


def outcome_of(http_status: int, code: int) -> Outcome:
    """What an error answer proves about the message (see `bot.channels.telegram.delivery`)."""
    if code in _NOT_PROCESSED or http_status == 429:
        return Outcome.NOT_PROCESSED
    if code in _UNREACHABLE:
        return Outcome.UNREACHABLE
    if 400 <= http_status < 500:
        return Outcome.REFUSED  # an explicit refusal (window closed, limits, bad template…)
    return Outcome.UNKNOWN  # a 5xx: Meta may have accepted it


class WhatsAppClient:
    """One phone number's sending side."""

    def __init__(self, session: aiohttp.ClientSession, *, base_url: str, token: str,
                 phone_number_id: str, timeout: float = 20.0) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, to: str, kind: str, content: dict[str, Any], *,
                   reply_to: str | None = None, callback_data: str | None = None) -> str:
        """Send one message (`kind` is text, interactive, template, image…); return its wamid.
        `callback_data` comes back with the message's statuses (Meta's
        `biz_opaque_callback_data`): it names the row that sent it even when the answer, and
        so the wamid, was lost."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": to, "type": kind, kind: content}
        if reply_to is not None:
            body["context"] = {"message_id": reply_to}
        if callback_data is not None:
            body["biz_opaque_callback_data"] = callback_data
        answer = await self._call("POST", f"{self.base_url}/{self.phone_number_id}/messages",
                                  json=body)
        messages = answer.get("messages")
        if not isinstance(messages, list) or not messages or "id" not in messages[0]:
            raise WhatsAppError("no message id in the answer", outcome=Outcome.UNKNOWN)
        return str(messages[0]["id"])

    async def upload(self, content: bytes, mime_type: str, filename: str) -> str:
        """Upload a file (a chart, an export) and return its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", content, filename=filename, content_type=mime_type)
        answer = await self._call("POST", f"{self.base_url}/{self.phone_number_id}/media",
                                  data=form)
        return str(answer["id"])

    async def download(self, media_id: str, max_bytes: int) -> MediaFile:
        """Fetch a person's file: its address first, then its bytes (the token is needed for
        both); refuse one larger than `max_bytes` before reading it."""
        info = await self._call("GET", f"{self.base_url}/{media_id}")
        size = int(info.get("file_size") or 0)
        if size > max_bytes:
            raise FileOverLimit(f"file of {size} bytes over the limit", outcome=Outcome.REFUSED)
        url = str(info["url"])
        try:
            async with self.session.get(url, headers=self._headers,
                                        timeout=self._timeout) as response:
                if response.status != 200:
                    raise WhatsAppError(f"download answered {response.status}",
                                        http_status=response.status,
                                        outcome=outcome_of(response.status, 0))
                content = await response.content.read(max_bytes + 1)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise WhatsAppError(f"download failed: {type(exc).__name__}") from exc
        if len(content) > max_bytes:
            raise FileOverLimit("file over the limit", outcome=Outcome.REFUSED)
        return MediaFile(content, str(info.get("mime_type") or "application/octet-stream"))

    async def display_number(self) -> str:
        """The business phone number people write to, as Meta shows it (`+1 555-000-0000`)."""
        answer = await self._call(
            "GET", f"{self.base_url}/{self.phone_number_id}?fields=display_phone_number")
        number = answer.get("display_phone_number")
        if not isinstance(number, str) or not any(ch.isdigit() for ch in number):
            raise WhatsAppError("no display_phone_number in the answer", outcome=Outcome.REFUSED)
        return number

    async def templates(self, business_account_id: str, max_pages: int = 50
                        ) -> list[dict[str, Any]]:
        """The business account's message templates (name, language, status, category,
        components), every page of Meta's cursor-paged list."""
        found: list[dict[str, Any]] = []
        url: str | None = (f"{self.base_url}/{business_account_id}/message_templates"
                           "?fields=name,language,status,category,components&limit=100")
        for _page in range(max_pages):
            if url is None:
                break
            answer = await self._call("GET", url)
            found += [item for item in answer.get("data") or () if isinstance(item, dict)]
            paging = answer.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            # Only Meta's own address is followed: the token goes with every call.
            url = (str(following) if isinstance(following, str)
                   and following.startswith(self.base_url + "/") else None)
        return found

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session.request(method, url, headers=self._headers,
                                            timeout=self._timeout, **kwargs) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
                if response.status == 200 and isinstance(answer, dict):
                    return answer
                error = answer.get("error", {}) if isinstance(answer, dict) else {}
                code = int(error.get("code") or 0) if isinstance(error, dict) else 0
                message = str(error.get("message") or response.reason) \
                    if isinstance(error, dict) else str(response.reason)
                raise WhatsAppError(f"{response.status} ({code}): {message}", code=code,
                                    http_status=response.status,
                                    outcome=outcome_of(response.status, code))
        except aiohttp.ClientConnectorError as exc:
            # No connection was made: the request never left.
            raise WhatsAppError(f"cannot connect: {type(exc).__name__}",
                                outcome=Outcome.NOT_PROCESSED) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Sent, maybe processed: a timeout or a connection closed before the answer.
            raise WhatsAppError(f"no answer: {type(exc).__name__}") from exc
