"""Telegram's HTML subset: a strict parser producing plain text and Bot API entities.

It follows tdlib's ``parse_html`` (same tags, attribute rules and error texts) but is
stricter about ``&``: Telegram passes an unknown ``&`` through as text, which hides
missing escaping in the bot, so any ``&`` that is not a supported entity is an error.
Offsets and lengths of entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlParseError", "ParsedText", "parse_html", "utf16_len"]

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_SPACES = frozenset(" \t\r\n\v\f")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_ENTITY_LIKE = re.compile(r"&#?[0-9A-Za-z]{1,32};")
_NAME_TOKEN = re.compile(r"[0-9A-Za-z.\-]*")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(err)`` is Telegram's detail text."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text and its Bot API entities (dicts with UTF-16 offset/length)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_start: int
    out_index: int


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of every Telegram limit."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _decode_entity(src: str, pos: int) -> tuple[str, int]:
    match = _ENTITY.match(src, pos)
    if match is None:
        like = _ENTITY_LIKE.match(src, pos)
        if like is not None:
            raise HtmlParseError(
                f'Unsupported HTML entity "{like.group(0)}" at byte offset {_byte_offset(src, pos)}'
            )
        raise HtmlParseError(
            f'Character "&" must be escaped as "&amp;" at byte offset {_byte_offset(src, pos)}'
        )
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlParseError(
            f'Invalid character reference "{match.group(0)}" at byte offset '
            f"{_byte_offset(src, pos)}"
        )
    return chr(code), match.end()


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.utf16 += utf16_len(chunk)

    def run(self) -> ParsedText:
        src, n, i = self.src, len(self.src), 0
        while i < n:
            match = _SPECIAL.search(src, i)
            stop = n if match is None else match.start()
            if stop > i:
                self.emit(src[i:stop])
                i = stop
                if i >= n:
                    break
            if src[i] == "&":
                char, i = _decode_entity(src, i)
                self.emit(char)
            elif i + 1 < n and src[i + 1] == "/":
                i = self.close_tag(i)
            else:
                i = self.open_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def open_tag(self, begin: int) -> int:
        src, n = self.src, len(self.src)
        end = begin + 1
        while end < n and src[end] not in _SPACES and src[end] != ">":
            end += 1
        tag = src[begin + 1 : end].lower()
        if tag not in _SUPPORTED_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
            )
        unclosed = HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        argument = ""
        while True:
            while end < n and src[end] in _SPACES:
                end += 1
            if end >= n:
                raise unclosed
            if src[end] == ">":
                break
            name_start = end
            while end < n and src[end] not in _SPACES and src[end] not in "=>":
                end += 1
            attribute = src[name_start:end]
            if not attribute:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{_byte_offset(src, begin)}"
                )
            while end < n and src[end] in _SPACES:
                end += 1
            if end < n and src[end] != "=" and tag == "blockquote" and attribute == "expandable":
                argument = "1"  # the only attribute Telegram accepts without a value
                continue
            if end >= n or src[end] != "=":
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(src, begin)}"
                )
            end += 1
            while end < n and src[end] in _SPACES:
                end += 1
            if end >= n:
                raise unclosed
            value, end = self.attribute_value(end, unclosed)
            if tag == "a" and attribute == "href":
                argument = value
            elif tag == "code" and attribute == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attribute == "emoji-id":
                argument = value
            elif tag == "blockquote" and attribute == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, begin)}'
            )
        self.stack.append(_Open(tag, argument, self.utf16, len(self.out)))
        return end + 1

    def attribute_value(self, pos: int, unclosed: HtmlParseError) -> tuple[str, int]:
        src, n = self.src, len(self.src)
        quote = src[pos]
        if quote not in "'\"":
            token = _NAME_TOKEN.match(src, pos)
            end = token.end() if token is not None else pos
            if end < n and src[end] not in _SPACES and src[end] != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(src, pos)}"
                )
            return src[pos:end].lower(), end
        chars: list[str] = []
        end = pos + 1
        while end < n and src[end] != quote:
            if src[end] == "&":
                char, end = _decode_entity(src, end)
                chars.append(char)
            else:
                chars.append(src[end])
                end += 1
        if end >= n:
            raise unclosed
        return "".join(chars), end + 1

    def close_tag(self, begin: int) -> int:
        src, n = self.src, len(self.src)
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
        end = src.find(">", begin + 2)
        name_end = n if end == -1 else end
        name = src[begin + 2 : name_end].lower()
        top = self.stack[-1]
        if name and name != top.tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                f'expected "</{top.tag}>", found "</{name}>"'
            )
        if end == -1:
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
        self.stack.pop()
        self.add_entity(top)
        return end + 1

    def add_entity(self, top: _Open) -> None:
        offset, length = top.utf16_start, self.utf16 - top.utf16_start
        if top.tag == "tg-emoji" and (not top.argument.isdigit() or int(top.argument) == 0):
            raise HtmlParseError("Invalid custom emoji identifier specified")
        if length == 0:
            return
        if top.tag in _SIMPLE_ENTITY:
            self.entities.append(
                {"type": _SIMPLE_ENTITY[top.tag], "offset": offset, "length": length}
            )
        elif top.tag == "a":
            url = top.argument or "".join(self.out[top.out_index :])
            self.entities.append(
                {"type": "text_link", "offset": offset, "length": length, "url": url}
            )
        elif top.tag == "code":
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if top.argument:
                entity["language"] = top.argument  # kept only if a <pre> wraps it exactly
            self.entities.append(entity)
        elif top.tag == "pre":
            last = self.entities[-1] if self.entities else None
            pre: dict[str, Any] = {"type": "pre", "offset": offset, "length": length}
            span = (last["type"], last["offset"], last["length"]) if last is not None else None
            if last is not None and span == ("code", offset, length):
                # <pre><code class="language-x">…</code></pre> is one pre entity with a language
                self.entities.pop()
                if last.get("language"):
                    pre["language"] = last["language"]
            self.entities.append(pre)
        elif top.tag == "blockquote":
            kind = "expandable_blockquote" if top.argument else "blockquote"
            self.entities.append({"type": kind, "offset": offset, "length": length})
        elif top.tag == "tg-emoji":
            self.entities.append(
                {
                    "type": "custom_emoji",
                    "offset": offset,
                    "length": length,
                    "custom_emoji_id": top.argument,
                }
            )


def parse_html(src: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; raise :class:`HtmlParseError`."""
    parsed = _Parser(src).run()
    for entity in parsed.entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a bare <code> has no language in the Bot API
    return parsed
