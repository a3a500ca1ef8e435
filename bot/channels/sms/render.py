"""Replies as SMS: plain text in as few segments as fit, choices as numbered options.

An SMS carries 160 characters of the GSM 7-bit alphabet (its extension characters, such as
`€` or `[`, count twice), or 70 UTF-16 units as soon as one character is outside it (an
accent the alphabet lacks, an emoji). A longer message is sent as concatenated segments of 153
and 67 (each carries a header); phones join them again, but every segment is paid and old
phones show them apart. So a reply's text goes in messages of at most `MAX_SEGMENTS`
segments, cut at line ends (at spaces for a longer line); the choices follow on the last one
as `1 Accept / 2 Return`, and the person answers with the number (the caller keeps what each
number means: `Layout.numbered`).

SMS has no emphasis: strong, emphasis and code are shown as their words, a link as its words
followed by its address. Nothing in a text can style anything, so a person's text needs no
escaping here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.replies import Button, Reply
from bot.core.text import Plain, Span, parse

GSM_SINGLE = 160
GSM_PART = 153  # of a concatenated message: 7 septets go to its header
UCS2_SINGLE = 70
UCS2_PART = 67
MAX_SEGMENTS = 4  # of one message: beyond, the text goes on in another message
REFERENCE_LIMIT = 160  # characters of a choice's reference kept by the bot for its number

# GSM 03.38: the basic alphabet (one septet each) and its extension (two: escape + character).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def is_gsm(text: str) -> bool:
    """Whether the text goes in the GSM 7-bit alphabet (else as UCS-2)."""
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def _units(char: str, gsm: bool) -> int:
    if gsm:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair in UTF-16


def segments(text: str) -> list[str]:
    """The segments a carrier sends the text in (one for a text that fits a single SMS);
    neither an extension character nor a surrogate pair is cut in two."""
    gsm = is_gsm(text)
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    if sum(_units(c, gsm) for c in text) <= single:
        return [text]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        units = _units(char, gsm)
        if size + units > part:
            out.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += units
    if current:
        out.append("".join(current))
    return out


def _fits(text: str) -> bool:
    return len(segments(text)) <= MAX_SEGMENTS


def plain_of(spans: Sequence[Span]) -> str:
    """Spans as SMS text: their words, a link's address after its words."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, Plain):
            out.append(span.text)
        elif span.emphasis == "link" and span.href:
            out.append(f"{plain_of(span.spans)} ({span.href})")
        else:
            out.append(plain_of(span.spans))
    return "".join(out)


def text_of(text: str) -> str:
    """SMS text for a reply's text in the core's notation."""
    return plain_of(parse(text))


def page(text: str) -> list[str]:
    """The text cut at line ends (at spaces, or anywhere, for a line too long) into messages
    of at most `MAX_SEGMENTS` segments each."""
    if _fits(text):
        return [text]
    pages: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _fits(candidate):
            current = candidate
            continue
        if current:
            pages.append(current)
        current = ""
        for word in line.split(" "):
            candidate = f"{current} {word}" if current else word
            if _fits(candidate):
                current = candidate
                continue
            if current:
                pages.append(current)
            while not _fits(word):  # no space to cut at: cut where the segments end
                cut = len("".join(segments(word)[:MAX_SEGMENTS]))
                pages.append(word[:cut])
                word = word[cut:]
            current = word
    if current:
        pages.append(current)
    return pages


def reference(button: Button) -> str:
    """The button's reference packed for the bot to keep against its number."""
    for ref in (button.ref, button.fallback):
        if ref is not None and len(data := ref.pack()) <= REFERENCE_LIMIT:
            return data
    raise ValueError(f"the reference of choice {button.label!r} exceeds "
                     f"{REFERENCE_LIMIT} characters: {button.ref.pack()!r}")


@dataclass(frozen=True)
class Layout:
    """The messages for one reply, and what each number the person may send back means."""

    messages: tuple[str, ...]
    numbered: dict[str, str]


def options(choices: Sequence[Button]) -> str:
    """The choices as numbered options: `1 Accept / 2 Return`."""
    return " / ".join(f"{number} {button.label}"
                      for number, button in enumerate(choices, start=1))


def layout(reply: Reply) -> Layout:
    """Lay a reply's text and choices out as SMS messages."""
    text = text_of(reply.text).strip()
    choices = [button for row in reply.buttons for button in row]
    if not choices:
        return Layout(tuple(page(text)) if text else (), {})
    numbered = {str(number): reference(button)
                for number, button in enumerate(choices, start=1)}
    # The options end the last message, under the question they answer.
    messages = page(f"{text}\n{options(choices)}" if text else options(choices))
    return Layout(tuple(messages), numbered)
