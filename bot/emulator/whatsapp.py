"""A loopback WhatsApp Business Cloud API (Meta's Graph API) for the demo, tests and benchmarks.

It speaks the wire format of the real service and refuses what the real service refuses:
messages sent with a wrong token or phone number id, interactive messages beyond Meta's limits
(3 reply buttons of 20 characters, lists of 10 rows, bodies of 1,024 characters), free-form
messages outside the 24-hour window after the person's last message (error 131047: only
templates may go), unknown templates or a wrong number of template parameters (132000), too
many messages to one person (131056). Incoming messages are delivered as Meta delivers them:
POSTed to the bot's webhook with an `X-Hub-Signature-256` signature, retried until answered
200, sometimes twice; the statuses of sent messages (sent, delivered, read) follow the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.whatsapp import signature

WINDOW = 24 * 3600  # seconds after a person's last message when free-form messages may go
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # interactive and template bodies
BUTTON_TITLE = 20
BUTTON_ID = 256
ROW_TITLE = 24
ROW_DESCRIPTION = 72
ROW_ID = 200
LIST_ROWS = 10
LIST_SECTIONS = 10
HEADER_FOOTER = 60


class GraphError(Exception):
    """An error answer of the Graph API (HTTP 400 unless said otherwise)."""

    def __init__(self, code: int, message: str, *, http_status: int = 400,
                 details: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.details = details or message

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": "OAuthException", "code": self.code,
                          "error_data": {"messaging_product": "whatsapp",
                                         "details": self.details},
                          "fbtrace_id": "AEmulatorTrace"}}


@dataclass
class SentWhatsApp:
    """A message the bot sent, as the person's phone shows it."""

    wamid: str
    to: str
    type: str
    body: dict[str, Any]
    at: float

    @property
    def text(self) -> str:
        """The visible text: a text's body, an interactive or template body, a caption."""
        kind = self.body.get(self.type, {})
        if self.type == "text":
            return str(kind.get("body", ""))
        if self.type == "interactive":
            return str(kind.get("body", {}).get("text", ""))
        if self.type == "template":
            return json.dumps(kind.get("components", []), ensure_ascii=False)
        return str(kind.get("caption", ""))

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(id, title) of the reply buttons or list rows the person can choose."""
        kind = self.body.get("interactive", {})
        action = kind.get("action", {})
        if kind.get("type") == "button":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]
        if kind.get("type") == "list":
            return [(r["id"], r["title"]) for s in action.get("sections", [])
                    for r in s.get("rows", [])]
        return []


@dataclass
class Template:
    """An approved template: its language codes and the number of body parameters."""

    name: str
    languages: set[str]
    parameters: int = 0
    buttons: int = 0


@dataclass
class _Person:
    wa_id: str
    name: str
    last_inbound: float | None = None
    sent: list[SentWhatsApp] = field(default_factory=list)
    recent: deque[float] = field(default_factory=deque)


class WhatsAppEmulator:
    """Meta's Cloud API on 127.0.0.1, with a webhook client that calls the bot back."""

    def __init__(self, *, token: str = "EMULATOR-WA-TOKEN", phone_number_id: str = "1000001",  # noqa: S107 - fake
                 app_secret: str = "emulator-app-secret", version: str = "v23.0",  # noqa: S107
                 pair_limit: tuple[int, float] | None = None,
                 clock: Any = time.time) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.version = version
        self.pair_limit = pair_limit  # (messages, seconds) to one person before 131056
        self.clock = clock
        self.webhook_url: str | None = None
        self.people: dict[str, _Person] = {}
        self.templates: dict[str, Template] = {}
        # The business account's templates as Meta lists them (name, language, status,
        # category, components); only APPROVED ones may be sent.
        self.business_account_id = "2000001"
        self.template_list: list[dict[str, Any]] = []
        self.template_page_size = 100  # Meta's largest page; tests lower it to see the paging
        self.media: dict[str, tuple[bytes, str]] = {}
        self.deliveries: list[tuple[dict[str, Any], int]] = []  # webhook bodies, HTTP status
        self.duplicate_next = 0  # deliver the next N notifications twice
        self.statuses = True  # follow each sent message with sent/delivered statuses
        self.max_attempts = 5
        self.retry_pause = 0.05
        self._ids = itertools.count(1)
        self._faults: list[tuple[GraphError, int]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.host = "127.0.0.1"
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.version}"

    async def start(self) -> None:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/{version}/{account}/message_templates", self._list_templates)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        app.router.add_get("/download/{media_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ the world

    def add_user(self, wa_id: str, name: str) -> None:
        self.people[wa_id] = _Person(wa_id, name)

    def add_template(self, name: str, languages: set[str], parameters: int = 0,
                     buttons: int = 0) -> None:
        self.templates[name] = Template(name, languages, parameters, buttons)

    def submit_template(self, payload: dict[str, Any], status: str = "APPROVED") -> None:
        """A template submitted to Meta (the body of `POST …/message_templates`), reviewed with
        `status`; an approved one may then be sent in its language."""
        language = str(payload["language"])
        self.template_list = [t for t in self.template_list
                              if (t["name"], t["language"]) != (payload["name"], language)]
        self.template_list.append({**payload, "status": status,
                                   "id": str(next(self._ids))})
        if status == "APPROVED":
            components = payload.get("components") or []
            body = next((str(c.get("text", "")) for c in components if c.get("type") == "BODY"),
                        "")
            buttons = next((len(c.get("buttons") or []) for c in components
                            if c.get("type") == "BUTTONS"), 0)
            known = self.templates.get(str(payload["name"]))
            languages = (known.languages if known else set()) | {language}
            self.add_template(str(payload["name"]), languages,
                              len(set(re.findall(r"\{\{(\d+)\}\}", body))), buttons)

    def fail_next(self, code: int, message: str, *, http_status: int = 400,
                  times: int = 1) -> None:
        """The next `times` sends answer this error (and deliver nothing)."""
        self._faults.append((GraphError(code, message, http_status=http_status), times))

    def messages(self, wa_id: str) -> list[SentWhatsApp]:
        return list(self.people[wa_id].sent)

    def last_message(self, wa_id: str) -> SentWhatsApp | None:
        sent = self.people[wa_id].sent
        return sent[-1] if sent else None

    # ------------------------------------------------------------ a person acts

    async def send_text(self, wa_id: str, text: str, *, context: str | None = None) -> str:
        """The person sends a text (a reply to `context`, a message id, if given)."""
        return await self._inbound(wa_id, "text", {"text": {"body": text}}, context)

    async def press(self, wa_id: str, message: SentWhatsApp, choice_id: str) -> str:
        """The person presses a reply button or picks a list row of one of the bot's messages."""
        if choice_id not in dict(message.choices):
            raise ValueError(f"no choice {choice_id!r} on message {message.wamid}")
        title = dict(message.choices)[choice_id]
        kind = message.body["interactive"]["type"]
        reply = ({"type": "button_reply", "button_reply": {"id": choice_id, "title": title}}
                 if kind == "button" else
                 {"type": "list_reply", "list_reply": {"id": choice_id, "title": title}})
        return await self._inbound(wa_id, "interactive", {"interactive": reply}, message.wamid)

    async def press_template_button(self, wa_id: str, message: SentWhatsApp, payload: str,
                                    text: str) -> str:
        """The person presses a quick-reply button of a template message."""
        return await self._inbound(wa_id, "button", {"button": {"payload": payload,
                                                                "text": text}}, message.wamid)

    async def send_media(self, wa_id: str, kind: str, content: bytes, mime_type: str,
                         caption: str | None = None) -> str:
        """The person sends an image, audio (a voice note), video or document."""
        media_id = self._store_media(content, mime_type)
        item: dict[str, Any] = {"id": media_id, "mime_type": mime_type,
                                "sha256": "emulated"}
        if caption is not None:
            item["caption"] = caption
        if kind == "audio":
            item["voice"] = True
        return await self._inbound(wa_id, kind, {kind: item}, None)

    async def send_location(self, wa_id: str, latitude: float, longitude: float) -> str:
        return await self._inbound(wa_id, "location", {"location": {
            "latitude": latitude, "longitude": longitude}}, None)

    async def _inbound(self, wa_id: str, kind: str, fields: dict[str, Any],
                       context: str | None) -> str:
        person = self.people[wa_id]
        now = self.clock()
        person.last_inbound = now
        wamid = self._wamid()
        message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(now)),
                                   "type": kind, **fields}
        if context is not None:
            message["context"] = {"from": self.phone_number_id, "id": context}
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550000000",
                              "phone_number_id": self.phone_number_id},
                 "contacts": [{"profile": {"name": person.name}, "wa_id": wa_id}],
                 "messages": [message]}
        await self.deliver(self._notification(value))
        return wamid

    # ------------------------------------------------------------ webhooks

    def _notification(self, value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "WABA-EMULATOR",
                           "changes": [{"field": "messages", "value": value}]}]}

    async def deliver(self, body: dict[str, Any], *, signed: bool = True) -> int:
        """POST a notification to the webhook as Meta does: signed, retried until it is
        answered 200 (up to `max_attempts`), twice when asked. Return the last HTTP status."""
        assert self._session is not None and self.webhook_url is not None
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers[signature.HEADER] = signature.sign(raw, self.app_secret)
        copies = 2 if self.duplicate_next > 0 else 1
        self.duplicate_next = max(0, self.duplicate_next - 1)
        status = 0
        for _copy in range(copies):
            for attempt in range(self.max_attempts):
                try:
                    async with self._session.post(self.webhook_url, data=raw,
                                                  headers=headers) as response:
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                self.deliveries.append((body, status))
                if status == 200 or not signed:
                    break
                await asyncio.sleep(self.retry_pause * 2 ** attempt)
        return status

    def _status_later(self, sent: SentWhatsApp) -> None:
        if not self.statuses or self.webhook_url is None:
            return

        async def statuses() -> None:
            for state in ("sent", "delivered"):
                await self.send_status(sent, state)

        task = asyncio.create_task(statuses())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send_status(self, sent: SentWhatsApp, state: str) -> int:
        """Call the webhook with a status of a sent message (sent, delivered, read, failed),
        with the callback data its sender gave, as Meta does."""
        status: dict[str, Any] = {"id": sent.wamid, "status": state,
                                  "timestamp": str(int(self.clock())), "recipient_id": sent.to}
        if "biz_opaque_callback_data" in sent.body:
            status["biz_opaque_callback_data"] = sent.body["biz_opaque_callback_data"]
        if state == "failed":
            status["errors"] = [{"code": 131026, "title": "Message undeliverable."}]
        return await self.deliver(self._notification({
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": self.phone_number_id},
            "statuses": [status]}))

    # ------------------------------------------------------------ the Graph API

    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise GraphError(190, "Invalid OAuth access token.", http_status=401)

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
            if request.match_info["phone"] != self.phone_number_id:
                raise GraphError(100, "Unsupported post request: unknown phone number id")
            try:
                body = await request.json()
            except ValueError as exc:
                raise GraphError(100, "Invalid JSON") from exc
            for index, (error, times) in enumerate(self._faults):
                if times <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = (error, times - 1)
                raise error
            sent = self._accept(body)
        except GraphError as error:
            return web.json_response(error.body(), status=error.http_status)
        self._status_later(sent)
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": sent.to, "wa_id": sent.to}],
                                  "messages": [{"id": sent.wamid}]})

    def _accept(self, body: Any) -> SentWhatsApp:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        to = str(body.get("to", ""))
        person = self.people.get(to)
        if person is None:
            raise GraphError(131026, "Message undeliverable.")
        kind = body.get("type", "text")
        now = self.clock()
        if kind != "template" and (person.last_inbound is None
                                   or now - person.last_inbound > WINDOW):
            raise GraphError(131047, "Re-engagement message",
                             details="More than 24 hours have passed since the recipient "
                                     "last replied to the sender number.")
        validate(kind, body, self.templates)
        if self.pair_limit is not None:
            count, seconds = self.pair_limit
            while person.recent and now - person.recent[0] > seconds:
                person.recent.popleft()
            if len(person.recent) >= count:
                raise GraphError(131056, "(Business Account, Consumer Account) pair rate "
                                 "limit hit")
            person.recent.append(now)
        sent = SentWhatsApp(self._wamid(), to, kind, body, now)
        person.sent.append(sent)
        return sent

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
        except GraphError as error:
            return web.json_response(error.body(), status=error.http_status)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response(GraphError(100, "file is required").body(), status=400)
        media_id = self._store_media(upload.file.read(), upload.content_type)
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
        except GraphError as error:
            return web.json_response(error.body(), status=error.http_status)
        media_id = request.match_info["media_id"]
        if media_id == self.phone_number_id:  # the same path serves the number's own fields
            return web.json_response({"display_phone_number": "+1 555-000-0000",
                                      "id": self.phone_number_id})
        if media_id not in self.media:
            return web.json_response(GraphError(100, "Unknown media").body(), status=404)
        content, mime_type = self.media[media_id]
        return web.json_response({
            "messaging_product": "whatsapp", "id": media_id, "mime_type": mime_type,
            "sha256": "emulated", "file_size": len(content),
            "url": f"http://{self.host}:{self.port}/download/{media_id}"})

    async def _list_templates(self, request: web.Request) -> web.Response:
        """Meta's cursor-paged list of the business account's templates."""
        try:
            self._check_auth(request)
        except GraphError as error:
            return web.json_response(error.body(), status=error.http_status)
        if request.match_info["account"] != self.business_account_id:
            return web.json_response(GraphError(100, "Unsupported get request").body(),
                                     status=400)
        limit = max(1, min(int(request.query.get("limit", "25") or 25), self.template_page_size))
        start = int(request.query.get("after", "0") or 0)
        page = self.template_list[start:start + limit]
        answer: dict[str, Any] = {"data": page, "paging": {"cursors": {
            "before": str(start), "after": str(start + len(page))}}}
        if start + limit < len(self.template_list):
            answer["paging"]["next"] = (f"{self.base_url}/{self.business_account_id}/"
                                        f"message_templates?limit={limit}&after={start + limit}")
        return web.json_response(answer)

    async def _download(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)  # Meta's media URLs need the token too
        except GraphError as error:
            return web.json_response(error.body(), status=error.http_status)
        stored = self.media.get(request.match_info["media_id"])
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored[0], content_type=stored[1])

    def _store_media(self, content: bytes, mime_type: str) -> str:
        media_id = str(900000 + next(self._ids))
        self.media[media_id] = (content, mime_type)
        return media_id

    def _wamid(self) -> str:
        return f"wamid.EMU{next(self._ids):012d}"


def validate(kind: str, body: dict[str, Any], templates: dict[str, Template]) -> None:
    """Refuse what Meta refuses in a message body (error 100 / 131009 / 132000)."""
    item = body.get(kind)
    if not isinstance(item, dict):
        raise GraphError(100, f"The parameter {kind} is required.")
    if kind == "text":
        text = item.get("body")
        if not isinstance(text, str) or not text.strip():
            raise GraphError(100, "The parameter text['body'] is required.")
        _limit(text, TEXT_LIMIT, "text['body']")
    elif kind == "interactive":
        _interactive(item)
    elif kind == "template":
        _template(item, templates)
    elif kind in ("image", "audio", "video", "document", "sticker"):
        if not item.get("id") and not item.get("link"):
            raise GraphError(100, f"The parameter {kind}['id'] is required.")
        if "caption" in item:
            _limit(str(item["caption"]), BODY_LIMIT, f"{kind}['caption']")
    elif kind == "location":
        lat, lon = item.get("latitude"), item.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float) \
                or not -90 <= lat <= 90 or not -180 <= lon <= 180:
            raise GraphError(131009, "Parameter value is not valid: location")
    else:
        raise GraphError(100, f"Unsupported message type {kind}")


def _limit(text: str, limit: int, name: str) -> None:
    if len(text) > limit:
        raise GraphError(131009, f"Parameter value is not valid: {name} is longer than "
                         f"{limit} characters")


def _interactive(item: dict[str, Any]) -> None:
    body = item.get("body", {}).get("text") if isinstance(item.get("body"), dict) else None
    if not isinstance(body, str) or not body:
        raise GraphError(100, "The parameter interactive['body']['text'] is required.")
    _limit(body, BODY_LIMIT, "interactive['body']['text']")
    for part in ("header", "footer"):
        text = item.get(part, {}).get("text") if isinstance(item.get(part), dict) else None
        if isinstance(text, str):
            _limit(text, HEADER_FOOTER, f"interactive['{part}']['text']")
    action = item.get("action")
    if not isinstance(action, dict):
        raise GraphError(100, "The parameter interactive['action'] is required.")
    if item.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise GraphError(131009, "Parameter value is not valid: buttons must be 1 to 3")
        ids = set()
        for button in buttons:
            reply = button.get("reply", {}) if isinstance(button, dict) else {}
            title, button_id = reply.get("title"), reply.get("id")
            if not isinstance(title, str) or not title or not isinstance(button_id, str):
                raise GraphError(100, "A button needs an id and a title.")
            _limit(title, BUTTON_TITLE, "button title")
            _limit(button_id, BUTTON_ID, "button id")
            if button_id in ids or title in {b["reply"]["title"] for b in buttons
                                             if b is not button}:
                raise GraphError(131009, "Parameter value is not valid: buttons must be "
                                 "unique")
            ids.add(button_id)
    elif item.get("type") == "list":
        button = action.get("button")
        if not isinstance(button, str) or not button:
            raise GraphError(100, "The parameter interactive['action']['button'] is required.")
        _limit(button, BUTTON_TITLE, "list button")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS:
            raise GraphError(131009, "Parameter value is not valid: sections")
        rows = [row for section in sections for row in section.get("rows", [])]
        if not 1 <= len(rows) <= LIST_ROWS:
            raise GraphError(131009, "Parameter value is not valid: a list has 1 to 10 rows")
        ids = set()
        for row in rows:
            title, row_id = row.get("title"), row.get("id")
            if not isinstance(title, str) or not title or not isinstance(row_id, str):
                raise GraphError(100, "A row needs an id and a title.")
            _limit(title, ROW_TITLE, "row title")
            _limit(row_id, ROW_ID, "row id")
            if "description" in row:
                _limit(str(row["description"]), ROW_DESCRIPTION, "row description")
            if row_id in ids:
                raise GraphError(131009, "Parameter value is not valid: row ids must be unique")
            ids.add(row_id)
    else:
        raise GraphError(100, f"Unsupported interactive type {item.get('type')}")


def _template(item: dict[str, Any], templates: dict[str, Template]) -> None:
    name = item.get("name")
    language = item.get("language", {}).get("code") if isinstance(item.get("language"),
                                                                   dict) else None
    template = templates.get(str(name))
    if template is None or language not in template.languages:
        raise GraphError(132001, "Template name does not exist in the translation",
                         details=f"template name ({name}) does not exist in {language}")
    body_parameters = 0
    for component in item.get("components", []):
        if isinstance(component, dict) and component.get("type") == "body":
            parameters = component.get("parameters", [])
            body_parameters = len(parameters)
            for parameter in parameters:
                if parameter.get("type") == "text":
                    _limit(str(parameter.get("text", "")), BODY_LIMIT, "template parameter")
    if body_parameters != template.parameters:
        raise GraphError(132000, "Number of parameters does not match the expected number of "
                         "params")
