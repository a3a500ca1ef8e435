"""The callback context of Palabre's handlers, with typed access to the services."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.services import Services


class PalabreContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return cast(Services, self.application.bot_data["services"])
