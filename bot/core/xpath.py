"""Kept for code written before the survey package: the expression language is
`bot.core.surveys.expressions`."""

from bot.core.surveys.expressions import Context, ExpressionError, evaluate, parse, run

__all__ = ["Context", "ExpressionError", "evaluate", "parse", "run"]
