"""Replies as WhatsApp messages: formatting, choices within Meta's limits, long texts.

WhatsApp offers at most 3 reply buttons (titles of 20 characters) or a list of 10 rows (titles
of 24, descriptions of 72), and interactive bodies of 1,024 characters. A reply's choices are
laid out in the richest form that holds them whole: buttons, then a list, then numbered lines
that the person answers by typing the number (the caller keeps the numbers' meaning). A label
too long for a row title is shortened with an ellipsis and given whole in the description.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.replies import Button, Reply
from bot.core.text import Plain, Span, parse

TEXT_LIMIT = 4096
BODY_LIMIT = 1024
BUTTON_TITLE = 20
ROW_TITLE = 24
ROW_DESCRIPTION = 72
MAX_BUTTONS = 3
MAX_ROWS = 10
BUTTON_ID = 256  # characters of a reply button's id
ROW_ID = 200  # characters of a list row's id

_MARKS = {"strong": "*", "emphasis": "_", "strike": "~", "code": "```"}
# WhatsApp has no escape for its marks: a mark in plain text (a person's words) that touches
# anything but letters on both sides, and so might open or close a style, is shown as a
# look-alike that styles nothing: `*urgent*` typed by a partner reads the same but stays plain.
# A mark inside a word (`my_var`) styles nothing and is kept.
_LOOK_ALIKE = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"}
_MARK_AT_EDGE = re.compile(r"(?<!\w)[*_~`]|[*_~`](?!\w)")


def _neutral(text: str) -> str:
    return _MARK_AT_EDGE.sub(lambda m: _LOOK_ALIKE[m.group()], text)


def whatsapp_of(spans: Sequence[Span]) -> str:
    """Spans as WhatsApp text: *strong*, _emphasis_, ~struck~, ```code```, a link's words
    followed by its address; plain text neutralised."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, Plain):
            out.append(_neutral(span.text))
            continue
        inner = whatsapp_of(span.spans)
        if span.emphasis == "link":
            out.append(f"{inner} ({span.href})" if span.href else inner)
        elif span.emphasis not in _MARKS or not inner.strip():
            out.append(inner)  # no underline on WhatsApp
        else:
            # A mark must touch the words it styles: spaces go outside.
            body = inner.strip()
            lead, trail = inner[:len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
            mark = _MARKS[span.emphasis]
            out.append(f"{lead}{mark}{body}{mark}{trail}")
    return "".join(out)


def text_of(text: str) -> str:
    """WhatsApp text for a reply's text in the core's notation."""
    return whatsapp_of(parse(text))


def reply_id(button: Button, limit: int = ROW_ID) -> str:
    """The button's reference packed as the id its reply carries back, within `limit`
    characters: the shorter stand-in the core gave when the reference itself is too long."""
    for ref in (button.ref, button.fallback):
        if ref is not None and len(data := ref.pack()) <= limit:
            return data
    raise ValueError(f"the reference of choice {button.label!r} exceeds WhatsApp's "
                     f"{limit} characters: {button.ref.pack()!r}")


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text at line ends (at spaces for a line longer than the limit)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            parts.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


@dataclass(frozen=True)
class Layout:
    """The messages for one reply: (type, content) pairs for the Cloud API, and the numbered
    choices the person may type (number → the choice's data), if any."""

    messages: tuple[tuple[str, dict[str, Any]], ...]
    numbered: dict[str, str]


def layout(reply: Reply, *, list_button: str = "Options") -> Layout:
    """Lay a text reply and its choices out as WhatsApp messages."""
    text = text_of(reply.text).strip() or "…"
    choices = [button for row in reply.buttons for button in row]
    if not choices:
        return Layout(tuple(("text", {"body": part, "preview_url": False})
                            for part in split(text)), {})
    # The interactive body holds the end of the text (the question, put last); what does not
    # fit goes before it as plain text.
    *before, body = split(text, BODY_LIMIT)
    messages: list[tuple[str, dict[str, Any]]] = [
        ("text", {"body": part, "preview_url": False}) for part in before]
    if len(choices) <= MAX_BUTTONS and all(len(b.label) <= BUTTON_TITLE for b in choices):
        messages.append(("interactive", {
            "type": "button", "body": {"text": body},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": reply_id(b, BUTTON_ID), "title": b.label}}
                for b in choices]}}))
        return Layout(tuple(messages), {})
    if len(choices) <= MAX_ROWS:
        messages.append(("interactive", {
            "type": "list", "body": {"text": body},
            "action": {"button": shorten(list_button, BUTTON_TITLE),
                       "sections": [{"rows": [_row(b) for b in choices]}]}}))
        return Layout(tuple(messages), {})
    numbered = {str(i): reply_id(b) for i, b in enumerate(choices, start=1)}
    lines = [f"{i}. {b.label}" for i, b in enumerate(choices, start=1)]
    for part in split(body + "\n\n" + "\n".join(lines)):
        messages.append(("text", {"body": part, "preview_url": False}))
    return Layout(tuple(messages), numbered)


def _row(button: Button) -> dict[str, str]:
    row = {"id": reply_id(button, ROW_ID), "title": shorten(button.label, ROW_TITLE)}
    if len(button.label) > ROW_TITLE:
        row["description"] = shorten(button.label, ROW_DESCRIPTION)
    return row
