"""Fixtures: a started emulator with two users and a group, and a PTB Bot talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from bot.emulator import BotApiEmulator

ALICE = 1001
BOB = 1002
GROUP = -1001234567890


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(long_poll_cap=0.5)
    emulator.add_user(ALICE, "Alice", username="alice", language_code="fr")
    emulator.add_user(BOB, "Bob", language_code="en")
    emulator.add_group(GROUP, "Coop", [ALICE, BOB])
    async with emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url
    ) as ptb_bot:
        yield ptb_bot
