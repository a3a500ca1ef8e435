"""Evaluation surveys, one module per concern: `forms` (reading XLSForm and YAML),
`expressions` (the XLSForm expression language), `engine` (the pure conversation rules: what
to ask next, what an answer means), `conversation` (a member answering, step by step),
`campaigns` (launching and inviting), `results` (what coordinators read)."""

from bot.core.surveys.base import (
    LaunchError,
    Loaded,
    fit,
    parse_when,
    reference,
    side_name,
    side_of,
)
from bot.core.surveys.service import SurveyService

__all__ = ["LaunchError", "Loaded", "SurveyService", "fit", "parse_when", "reference",
           "side_name", "side_of"]
