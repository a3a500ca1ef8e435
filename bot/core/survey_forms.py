"""Kept for code written before the survey package: the form reader is
`bot.core.surveys.forms`."""

from bot.core.surveys.forms import Choice, Definition, FormError, Question, pick, read_form

__all__ = ["Choice", "Definition", "FormError", "Question", "pick", "read_form"]
