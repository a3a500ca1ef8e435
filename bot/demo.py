"""`palabre demo`: the real bot against a local emulator, and a phone in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot import logs
from bot.app import PalabreApp, build_application, serve, services_of, wait_handled
from bot.config import Settings
from bot.core import invitations
from bot.core.announcements import AnnouncementService
from bot.core.surveys import SurveyService
from bot.demo_data import SAMPLE_PEOPLE, seed_history
from bot.emulator import BotApiEmulator, BotEvent, SentMessage
from storage import Store

NETWORK_FILE = Path(__file__).resolve().parent.parent / "examples" / "network.yaml"
SURVEY_FILE = NETWORK_FILE.with_name("survey.yaml")


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    first_name: str
    language_code: str
    role: str
    project: str | None
    org: str | None
    about: str


PERSONAS = (
    Persona("aminata", 1001, "Aminata", "fr", "partner", "eau-ziguinchor", "ziguinchor",
            "partner at the Commune de Ziguinchor (Senegal), phone in French"),
    Persona("joao", 1002, "João", "pt-BR", "partner", "dechets-garanhuns", "garanhuns",
            "partner at the Prefeitura de Garanhuns (Brazil), phone in Portuguese"),
    Persona("rosa", 1003, "Rosa", "es-PE", "coordinator", "ecoles-cusco", "cusco",
            "coordinator at the Municipalidad del Cusco (Peru), phone in Spanish"),
    Persona("claire", 1004, "Claire", "fr", "coordinator", "eau-ziguinchor", "rennes",
            "coordinator at the Ville de Rennes (France), phone in French"),
    Persona("marc", 1005, "Marc", "en", "observer", "dechets-garanhuns", "drome",
            "observer at the Département de la Drôme (France), phone in English"),
    Persona("sophie", 1006, "Sophie", "fr", "admin", None, None,
            "administrator of the network (in PALABRE_ADMIN_IDS), phone in French"),
)
HELP = ("Demo commands: ':as NAME' switches person (" + ", ".join(p.key for p in PERSONAS)
        + "), ':who' lists them, ':quit' leaves. A number presses the button shown with it "
        "([1], [2]…); a letter presses a menu button ([a], [b]…); any other number is sent as "
        "typed (an answer such as 7); to send a small number that is also a button, type it "
        "after an apostrophe: '3. '> text' answers the bot's last message with a Telegram "
        "reply (e.g. an announcement).")
MENU_KEYS = "abcdefghijklmnopqrstuvwxyz"
FILES_DIR = Path("palabre-demo-files")  # in the current folder: still there after the demo


class Terminal:
    """A phone in the terminal: prints what the bot sends, numbers the buttons."""

    def __init__(self, emulator: BotApiEmulator, echo: bool,
                 files: Path = FILES_DIR) -> None:
        self.emulator = emulator
        self.echo = echo
        self.files = files
        self.saved = 0
        self.persona = PERSONAS[0]
        self.codes: dict[str, str] = {}
        self.events = emulator.subscribe()

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def name_of(self, chat_id: int) -> str:
        return next((p.first_name for p in PERSONAS if p.user_id == chat_id), str(chat_id))

    def choices(self) -> tuple[list[tuple[SentMessage, str, str]], list[str]]:
        """Inline buttons of the last message that has some, then the reply keyboard."""
        # The buttons of the latest message only: older ones are answered already.
        messages = self.emulator.messages(self.persona.user_id)
        latest = messages[-1] if messages else None
        inline = [] if latest is None else [
            (latest, text, data) for text, data in latest.buttons if data]
        menu = [label for row in (self.emulator.reply_keyboard(self.persona.user_id) or [])
                for label in row]
        return inline, menu

    def show_pending(self) -> None:
        """Print what the bot did since last time, then the numbered choices."""
        while not self.events.empty():
            self.show_event(self.events.get_nowait())
        inline, menu = self.choices()
        if inline:
            self.say("   " + "  ".join(f"[{i}] {text}" for i, (_, text, _) in
                                        enumerate(inline, start=1)))
        if menu:
            self.say("   menu: " + "  ".join(f"[{key}] {label}"
                                             for key, label in zip(MENU_KEYS, menu, strict=False)))

    def show_event(self, event: BotEvent) -> None:
        who = "" if event.chat_id == self.persona.user_id else f" (to {self.name_of(event.chat_id)})"
        if event.kind == "answer_callback":
            if event.text:
                self.say(f"   ({event.text})")
            return
        message = event.message
        if message is None or event.kind not in ("send", "edit"):
            return
        label = "Palabre" + who + (" [edited]" if event.kind == "edit" else "") + ":"
        self.say(label)
        if message.kind in ("document", "photo") and message.file_ids:
            self.say(f"   📎 saved as {self.save(message)}")
        for line in (message.text or "").splitlines() or [""]:
            self.say(f"   {line}")

    def save(self, message: SentMessage) -> Path:
        """Keep a chart or a file the bot sent where the user can open it."""
        self.files.mkdir(parents=True, exist_ok=True)
        self.saved += 1
        caption = re.sub(r"\W+", "-", (message.text or "").split("\n")[0]).strip("-").lower()
        name = message.file_name or f"{caption[:40] or message.kind}.png"
        path = self.files / f"{self.saved:02d}-{Path(name).name}"
        path.write_bytes(self.emulator.file_bytes(message.file_ids[-1]))
        return path.resolve()

    def persona_intro(self) -> None:
        p = self.persona
        self.say(f"You are now {p.first_name}, {p.about}.")


async def _seed(settings: Settings, terminal: Terminal) -> None:
    store = await Store.open(settings.database)
    try:
        moment = datetime.now(UTC)
        # Months of history: past reports, a late one, a questionnaire already answered.
        surveys = SurveyService(store, AnnouncementService(store, settings.timezone),
                                settings.timezone)
        await seed_history(store, surveys, SURVEY_FILE, moment, settings.timezone)
        for persona in PERSONAS:
            if persona.role == "admin" or persona.project is None:
                continue
            created = await invitations.create(
                store, role=persona.role, project_slugs=[persona.project],  # type: ignore[arg-type]
                org_slug=persona.org, uses=1, expires_in=invitations.parse_duration("14d"),
                now=moment)
            terminal.codes[persona.key] = created.code
    finally:
        await store.close()


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Read standard input on a daemon thread (a blocked read must not hold up the exit)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="demo-stdin", daemon=True).start()
    return queue


@contextlib.contextmanager
def _database(path: Path | None) -> Iterator[Path]:
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="palabre-demo-") as folder:
        yield Path(folder) / "demo.db"


async def run_demo(database: Path | None = None) -> None:
    """Run the offline demo until standard input ends or ':quit'."""
    logs.setup(logging.WARNING)
    echo = not sys.stdin.isatty()
    async with BotApiEmulator() as emulator:
        for persona in PERSONAS:
            emulator.add_user(persona.user_id, persona.first_name,
                              language_code=persona.language_code)
        for person in SAMPLE_PEOPLE:
            emulator.add_user(person.user_id, person.name, language_code=person.language)
        with _database(database) as db_path:
            settings = Settings.model_validate({
                "telegram_token": emulator.token, "telegram_base_url": emulator.base_url,
                "database": db_path, "media_dir": db_path.parent / "media",
                "admin_ids": str(next(p.user_id for p in PERSONAS if p.role == "admin")),
            })
            terminal = Terminal(emulator, echo)
            await _seed(settings, terminal)
            app = build_application(settings)
            stop = asyncio.Event()
            bot_task = asyncio.create_task(serve(app, stop, poll_timeout=1))
            try:
                await _wait_running(app, bot_task)
                await _chat(app, emulator, terminal)
            finally:
                stop.set()
                await bot_task


async def _wait_running(app: PalabreApp, task: asyncio.Task[None]) -> None:
    while not (app.running and app.updater is not None and app.updater.running):
        if task.done():
            task.result()
        await asyncio.sleep(0.01)


async def _chat(app: PalabreApp, emulator: BotApiEmulator, terminal: Terminal) -> None:
    say = terminal.say
    say(f"Palabre demo: offline. A Telegram emulator runs on {emulator.base_url[:-4]}; "
        "the real bot talks to it.")
    say(HELP)
    say(f"Charts and files the bot sends are saved in {terminal.files.resolve()}.")
    terminal.persona_intro()
    say("Type /start to open your invitation link, then answer with the numbers of the buttons.")
    lines = _stdin_lines(asyncio.get_running_loop())
    while True:
        if not terminal.echo:
            print(f"{terminal.persona.first_name}> ", end="", flush=True)
        line = await lines.get()
        if line is None:
            break
        text = line.strip()
        if terminal.echo:
            say(f"{terminal.persona.first_name}> {text}")
        if not text:
            continue
        if text.startswith(":"):
            if not _demo_command(terminal, text):
                break
            continue
        update_id = await _act(app, emulator, terminal, text)
        if update_id is not None:
            status = await wait_handled(app, update_id, timeout=30)
            await asyncio.sleep(0.05)  # let the last events reach the queue
            if status == "failed":
                say("   (the bot reported an error for this message; see the log above)")
        terminal.show_pending()
    say("Bye.")


def _demo_command(terminal: Terminal, text: str) -> bool:
    words = text[1:].split()
    command = words[0].lower() if words else ""
    if command in ("quit", "q", "exit"):
        return False
    if command == "as" and len(words) == 2:
        found = next((p for p in PERSONAS if p.key == words[1].lower()), None)
        if found is None:
            terminal.say("Unknown person. " + HELP)
        else:
            terminal.persona = found
            terminal.persona_intro()
            terminal.show_pending()
        return True
    if command == "who":
        for p in PERSONAS:
            terminal.say(f"  {p.key:<8} {p.first_name}, {p.about}")
        return True
    terminal.say(HELP)
    return True


async def _act(app: PalabreApp, emulator: BotApiEmulator, terminal: Terminal,
               text: str) -> int | None:
    """Turn a typed line into what the phone would send; return the update id."""
    persona = terminal.persona
    if text.startswith(">"):
        last = emulator.last_message(persona.user_id)
        if last is not None:  # a Telegram reply, as when swiping a message to answer it
            return emulator.send_text(persona.user_id, text[1:].strip(),
                                      reply_to_message_id=last.message_id)
    if text.startswith("'"):
        text = text[1:]  # a number meant as an answer, not as a button
    elif text.isdigit():
        inline, _menu = terminal.choices()
        index = int(text) - 1
        if 0 <= index < len(inline):
            message, _, data = inline[index]
            return emulator.press(persona.user_id, message.message_id, data)
        # Any other number is an answer (e.g. an indicator's value): sent as typed, never a
        # menu button (those have letters).
    elif len(text) == 1 and text.lower() in MENU_KEYS:
        _inline, menu = terminal.choices()
        index = MENU_KEYS.index(text.lower())
        if index < len(menu):
            text = menu[index]
    if text == "/start" and persona.key in terminal.codes:
        member = await services_of(app).store.members.by_telegram_id(persona.user_id)
        if member is None:
            terminal.say("   (opening the invitation link)")
            text = f"/start {terminal.codes[persona.key]}"
    return emulator.send_text(persona.user_id, text)
