"""One person's WhatsApp against the real bot and the WhatsApp emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import whatsapp_channel
from bot.channels.whatsapp.processor import WhatsAppProcessor
from bot.config import Settings
from bot.emulator import BotApiEmulator
from bot.emulator.whatsapp import SentWhatsApp, WhatsAppEmulator
from tests.auxil.runner import BotRunner, FakeClock
from tests.conftest import ADMIN_ID


@contextlib.asynccontextmanager
async def running_with_whatsapp(tmp_path: Path, emulator: BotApiEmulator, wa: WhatsAppEmulator,
                                clock: FakeClock, network: str) -> AsyncIterator[BotRunner]:
    """The real application serving both channels against both emulators, the network
    loaded, WhatsApp's webhooks pointed at the bot's listener (on a free port)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=emulator.token, telegram_base_url=emulator.base_url,
        database=tmp_path / "palabre.db", media_dir=tmp_path / "media",
        admin_ids=str(ADMIN_ID), broadcast_rate=10_000, chat_rate=10_000, group_rate=10_000,
        whatsapp_token=wa.token, whatsapp_phone_number_id=wa.phone_number_id,
        whatsapp_app_secret=wa.app_secret, whatsapp_verify_token="verify-me",
        whatsapp_base_url=wa.base_url, webhook_listen="127.0.0.1:0",
    )
    path = tmp_path / "network.yaml"
    path.write_text(network, encoding="utf-8")
    bot = BotRunner(settings, emulator, clock)
    await bot.load_network(path)
    await bot.start()
    assert bot.app is not None
    channel = whatsapp_channel(bot.app)
    assert channel is not None
    wa.webhook_url = f"http://127.0.0.1:{channel.port}/whatsapp/webhook"
    try:
        yield bot
    finally:
        await bot.stop()


class WaPhone:
    """One person's WhatsApp: send, choose, and read what the bot answered."""

    def __init__(self, runner: BotRunner, wa: WhatsAppEmulator, wa_id: str, name: str) -> None:
        wa.add_user(wa_id, name)
        self.runner, self.wa, self.wa_id = runner, wa, wa_id
        self.seen = 0

    @property
    def processor(self) -> WhatsAppProcessor:
        assert self.runner.app is not None
        channel = whatsapp_channel(self.runner.app)
        assert channel is not None
        return channel.processor

    async def send(self, text: str) -> list[SentWhatsApp]:
        """Send a text; return the bot's messages that answer it."""
        return await self._settle(await self.wa.send_text(self.wa_id, text))

    async def choose(self, label: str) -> list[SentWhatsApp]:
        """Press the button (or pick the list row) whose title contains `label`, on the
        last message that offers it."""
        for message in reversed(self.wa.messages(self.wa_id)):
            for choice_id, title in message.choices:
                if label in title:
                    return await self._settle(await self.wa.press(self.wa_id, message,
                                                                  choice_id))
        raise AssertionError(f"no choice {label!r} offered to {self.wa_id}")

    async def _settle(self, wamid: str) -> list[SentWhatsApp]:
        status = await self.handled(wamid)
        assert status == "handled", f"{wamid} ended {status!r}"
        sent = self.wa.messages(self.wa_id)
        new, self.seen = sent[self.seen:], len(sent)
        return new

    async def handled(self, wamid: str, timeout: float = 10.0) -> str:
        """Wait until the message is closed in wa_inbox and its replies are sent."""
        store = self.runner.store
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Busy first, then the status (a status read first could be followed by replies).
            busy = self.processor.busy_with(self.wa_id)
            status = await store.whatsapp.status(wamid)
            if status in ("handled", "failed") and not busy:
                return status
            if loop.time() > deadline:
                raise TimeoutError(f"{wamid} not handled in {timeout:.0f} s: {status}")
            await asyncio.sleep(0.01)
