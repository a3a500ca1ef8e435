"""The survey service the bot and the command line use: the conversation, the campaigns and
the results over one store."""

from __future__ import annotations

from bot.core.surveys.campaigns import Campaigns
from bot.core.surveys.conversation import Conversation
from bot.core.surveys.results import Results


class SurveyService(Conversation, Campaigns, Results):
    """Import, campaigns, the one-question-per-message conversation, results."""
