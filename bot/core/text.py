"""The core's text form: plain text with semantic emphasis, independent of any channel.

The core writes a reply's text in a small notation, the one the translation catalogs already
use (so their msgids need not change):

- `<b>…</b>` strong, `<i>…</i>` emphasis, `<u>…</u>` underline, `<s>…</s>` struck out (the last
  two only come from questionnaire authors' styling), `<code>…</code>` code, and
  `<a href="…">…</a>` a link; they nest, and every one that opens closes;
- `&lt;`, `&gt;`, `&amp;` (and `&quot;`) for the characters `<`, `>`, `&`, `"`. Any text from a
  person, a form or a file goes in through `h()`, which writes those, so it can never open an
  emphasis or a link of its own: on every channel it is shown as typed.

It is a notation, not a markup language: `parse` reads it into spans (`Plain`, `Styled`), which
are what each channel's renderer writes in its own form (Telegram's HTML, WhatsApp's *marks*,
plain SMS text) within its own limits. `parse` refuses anything else (an unknown tag, one that
closes what it did not open, a `<` that is not a tag), as Telegram would: such a text is a bug
in the core, not something to show half-formatted.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

Emphasis = Literal["strong", "emphasis", "underline", "strike", "code", "link"]

# The notation's tags and what they mean.
TAGS: dict[str, Emphasis] = {"b": "strong", "i": "emphasis", "u": "underline", "s": "strike",
                             "code": "code", "a": "link"}
_TOKEN = re.compile(
    r'<(/?)([a-z]+)(?: href="([^"<>]*)")?>'  # a tag of the notation, or a stray one
    r"|&(?:(amp|lt|gt|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));"  # an escape
    r"|<")  # a `<` that opens no tag
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}


class NotationError(ValueError):
    """A text that is not in the core's notation (a bug in the core)."""


def h(text: str | None) -> str:
    """Mark user-supplied text as plain text in the core's notation (nothing in it is emphasis)."""
    return html.escape(text or "", quote=False)


@dataclass(frozen=True)
class Plain:
    """Text shown as it is."""

    text: str


@dataclass(frozen=True)
class Styled:
    """Spans shown with one emphasis (a link's target in `href`)."""

    emphasis: Emphasis
    spans: tuple[Span, ...]
    href: str = ""


Span = Plain | Styled


def _char(number: int) -> str:
    if not 0 < number <= 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        raise NotationError(f"no character &#{number};")
    return chr(number)


def parse(text: str) -> tuple[Span, ...]:
    """The spans a text in the core's notation stands for (`NotationError` if it is not one)."""
    # Each open tag: its name, its href, and the spans read inside it so far.
    stack: list[tuple[str, str, list[Span]]] = [("", "", [])]
    pending: list[str] = []  # plain text not yet added as a span

    def flush() -> None:
        if joined := "".join(pending):
            stack[-1][2].append(Plain(joined))
        pending.clear()

    position = 0
    for match in _TOKEN.finditer(text):
        pending.append(text[position:match.start()])
        position = match.end()
        closing, name, href, named, decimal, hexadecimal = match.groups()
        if named:
            pending.append(_NAMED[named])
        elif decimal:
            pending.append(_char(int(decimal)))
        elif hexadecimal:
            pending.append(_char(int(hexadecimal, 16)))
        elif name is None or name not in TAGS:
            raise NotationError(f"not a tag of the notation at {match.start()}: {match.group()!r}")
        elif closing:
            if href is not None or stack[-1][0] != name:
                raise NotationError(f"</{name}> closes nothing open at {match.start()}")
            flush()
            _name, target, spans = stack.pop()
            stack[-1][2].append(Styled(TAGS[name], tuple(spans), target))
        else:
            if (href is None) != (name != "a"):
                raise NotationError(f"<{name}> with a wrong href at {match.start()}")
            flush()
            stack.append((name, html.unescape(href or ""), []))
    pending.append(text[position:])
    if len(stack) > 1:
        raise NotationError(f"<{stack[-1][0]}> is never closed")
    flush()
    return tuple(stack[0][2])


def plain(spans: tuple[Span, ...] | str) -> str:
    """The text without its emphasis (a link keeps only its words)."""
    if isinstance(spans, str):
        spans = parse(spans)
    return "".join(s.text if isinstance(s, Plain) else plain(s.spans) for s in spans)
