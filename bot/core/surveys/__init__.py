"""Evaluation surveys, one module per concern: `forms` (reading XLSForm and YAML),
`expressions` (the XLSForm expression language), `engine` (pure: values, repeats and what to
ask next), `answers` (pure: what a typed answer means, how an answer is shown), `markup` (form
texts in the chat), `conversation` (a member answering, step by step), `campaigns` (launching
and inviting), `results` (what coordinators read), `limits` (checks before a file is read)."""

from bot.core.surveys.base import (
    LaunchError,
    Loaded,
    fit,
    reference,
    side_name,
    side_of,
)
from bot.core.surveys.service import SurveyService

__all__ = ["LaunchError", "Loaded", "SurveyService", "fit", "reference",
           "side_name", "side_of"]
