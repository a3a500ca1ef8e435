"""Form text in the chat: `${name}` replaced by the answer (as ODK's output does; empty when
the question was not asked), and the styling XLSForm authors write (ODK's Markdown subset and
HTML such as `<br/>`, `<span style>`, `<b>`) turned into the core's notation
(`bot.core.text`). Everything else is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from bot.core import text as notation

_REF = re.compile(r"\$\{([A-Za-z_][\w.\-]*)\}")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)\s*>")
_KEEP = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "s": "s", "strike": "s",
         "del": "s", "code": "code"}
_BREAK = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
_MARK = "\x00"


def _html(text: str) -> str:
    """Escape the text but keep the styling tags the notation knows; drop the others."""
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        out.append(notation.h(html.unescape(text[position:match.start()])))
        closing, name, _self = match.group(1), match.group(2).lower(), match.group(3)
        if name in _KEEP:
            out.append(f"<{'/' if closing else ''}{_KEEP[name]}>")
        elif name in _BREAK and (name == "br" or closing):
            out.append("\n")
        position = match.end()
    out.append(notation.h(html.unescape(text[position:])))
    return "".join(out)


def _markdown(text: str) -> str:
    text = re.sub(r"(?m)^#{1,6}\s+(.+)$", r"<b>\1</b>", text)
    text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"<i>\1</i>", text)
    text = re.sub(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])", r"<i>\1</i>", text)
    return re.sub(r"\[([^\]\n]+)\]\((https?://[^)\s\"<>]+)\)", r'<a href="\2">\1</a>', text)


def _balanced(text: str) -> str:
    """Close what is open and drop what closes nothing: the notation is balanced."""
    stack: list[str] = []
    out: list[str] = []
    for part in re.split(r"(</?(?:b|i|u|s|code|a)(?: href=\"[^\"]*\")?>)", text):
        match = re.fullmatch(r"<(/?)(b|i|u|s|code|a)(?: href=\"[^\"]*\")?>", part)
        if not match:
            out.append(part)
        elif not match.group(1):
            stack.append(match.group(2))
            out.append(part)
        elif stack and stack[-1] == match.group(2):
            stack.pop()
            out.append(part)
    out += [f"</{name}>" for name in reversed(stack)]
    return "".join(out)


def render(text: str, values: Mapping[str, str], limit: int = 3000) -> str:
    """The form's text in the core's notation, answers in place of `${name}` (escaped)."""
    found: list[str] = []

    def hold(match: re.Match[str]) -> str:
        found.append(values.get(match.group(1), ""))
        return f"{_MARK}{len(found) - 1}{_MARK}"

    held = _REF.sub(hold, text[:limit] + ("…" if len(text) > limit else ""))
    rendered = _balanced(_markdown(_html(held)))
    rendered = re.sub(r"\n{3,}", "\n\n", rendered).strip()
    return re.sub(f"{_MARK}(\\d+){_MARK}",
                  lambda m: notation.h(found[int(m.group(1))]), rendered)


def plain(text: str, values: Mapping[str, str]) -> str:
    """The same text without any markup (a button's label)."""
    return notation.plain(render(text, values))
