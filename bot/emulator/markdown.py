"""A minimal MarkdownV2 check: Telegram's escaping rule, without producing entities.

Palabre formats with HTML; this only keeps a stray MarkdownV2 call from passing
silently with unescaped reserved characters, which Telegram rejects.
"""

from __future__ import annotations

from bot.emulator.html import HtmlParseError

__all__ = ["strip_markdown_v2"]

_MARKUP = frozenset("*_~|[]")
_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def _reserved(char: str) -> HtmlParseError:
    return HtmlParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def strip_markdown_v2(src: str) -> str:
    """Return the plain text of a MarkdownV2 string, or raise on unescaped reserved chars."""
    out: list[str] = []
    i, n = 0, len(src)
    line_start = True
    while i < n:
        char = src[i]
        if char == "\\" and i + 1 < n:
            out.append(src[i + 1])
            i += 2
        elif char == "`":
            fence = "```" if src.startswith("```", i) else "`"
            end = src.find(fence, i + len(fence))
            if end == -1:
                raise HtmlParseError(
                    f"Can't find end of {'Pre' if len(fence) == 3 else 'Code'} "
                    f"entity at byte offset {len(src[:i].encode())}"
                )
            out.append(src[i + len(fence) : end].replace("\\`", "`").replace("\\\\", "\\"))
            i = end + len(fence)
        elif char == "]" and src.startswith("](", i):
            end = src.find(")", i + 2)
            if end == -1:
                raise _reserved("(")
            i = end + 1  # the URL of an inline link is not part of the text
        elif char == ">" and line_start:
            i += 1  # a blockquote marker
        elif char in _MARKUP:
            i += 1
        elif char in _RESERVED:
            raise _reserved(char)
        else:
            out.append(char)
            i += 1
        line_start = char == "\n"
    return "".join(out)
