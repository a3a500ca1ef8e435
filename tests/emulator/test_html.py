"""Table-driven tests of the Telegram HTML parser, UTF-16 lengths and text limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator import HtmlParseError, parse_html, utf16_len
from bot.emulator.models import ApiError
from bot.emulator.validation import parse_formatted


def ent(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


VALID = [
    ("plain text", "plain text", []),
    ("<b>bold</b>", "bold", [ent("bold", 0, 4)]),
    ("<B>x</B>", "x", [ent("bold", 0, 1)]),
    (
        "<strong>a</strong><em>b</em><ins>c</ins><del>d</del><s>e</s><strike>f</strike><u>g</u>",
        "abcdefg",
        [
            ent("bold", 0, 1),
            ent("italic", 1, 1),
            ent("underline", 2, 1),
            ent("strikethrough", 3, 1),
            ent("strikethrough", 4, 1),
            ent("strikethrough", 5, 1),
            ent("underline", 6, 1),
        ],
    ),
    ('<span class="tg-spoiler">s</span>', "s", [ent("spoiler", 0, 1)]),
    ("<tg-spoiler>s</tg-spoiler>", "s", [ent("spoiler", 0, 1)]),
    (
        '<a href="https://example.org/?a=1&amp;b=2">link</a>',
        "link",
        [ent("text_link", 0, 4, url="https://example.org/?a=1&b=2")],
    ),
    ("<code>x</code>", "x", [ent("code", 0, 1)]),
    ("<pre>x</pre>", "x", [ent("pre", 0, 1)]),
    (
        '<pre><code class="language-python">x = 1</code></pre>',
        "x = 1",
        [ent("pre", 0, 5, language="python")],
    ),
    ("<blockquote>q</blockquote>", "q", [ent("blockquote", 0, 1)]),
    ("<blockquote expandable>q</blockquote>", "q", [ent("expandable_blockquote", 0, 1)]),
    (
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "👍",
        [ent("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
    ),
    ("&lt;&gt;&amp;&quot;&#39;&#x1F600;", "<>&\"'😀", []),
    ("😀<b>x</b>", "😀x", [ent("bold", 2, 1)]),
    ("<b>a<i>b</i></b>", "ab", [ent("bold", 0, 2), ent("italic", 1, 1)]),
    ("<b></b>x", "x", []),
    ("a\n<b>b</b>", "a\nb", [ent("bold", 2, 1)]),
]

INVALID = [
    ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
    ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<a href="x>t</a>', "Unclosed start tag at byte offset 0"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("Tom & Jerry", 'Character "&" must be escaped as "&amp;" at byte offset 4'),
    ("a &lt b", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
    ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
    ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
]


@pytest.mark.parametrize(("source", "text", "entities"), VALID)
def test_valid_html(source: str, text: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_html(source)
    assert parsed.text == text
    assert parsed.entities == entities


@pytest.mark.parametrize(("source", "message"), INVALID)
def test_invalid_html(source: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as err:
        parse_html(source)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "length"),
    [("", 0), ("abc", 3), ("é", 1), ("日本", 2), ("😀", 2), ("👍🏽", 4), ("a😀b", 4)],
)
def test_utf16_len(text: str, length: int) -> None:
    assert utf16_len(text) == length


def _error(text: str, **kwargs: Any) -> str:
    with pytest.raises(ApiError) as err:
        parse_formatted(text, kwargs.pop("parse_mode", None), **kwargs)
    assert err.value.error_code == 400
    return err.value.description


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 4096, True),
        ("a" * 4097, False),
        ("😀" * 2048, True),  # 4096 UTF-16 units
        ("😀" * 2049, False),
        ("<b>" + "a" * 4096 + "</b>", True),  # length is counted after parsing
    ],
)
def test_message_length_in_utf16(text: str, ok: bool) -> None:
    if ok:
        parse_formatted(text, "HTML")
    else:
        assert _error(text, parse_mode="HTML") == "Bad Request: message is too long"


def test_caption_length() -> None:
    parse_formatted("c" * 1024, None, caption=True)
    assert _error("c" * 1025, caption=True) == "Bad Request: message caption is too long"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "<b> </b>"])
def test_empty_text(text: str) -> None:
    assert _error(text, parse_mode="HTML") == "Bad Request: message text is empty"


def test_bad_html_description() -> None:
    assert _error("<p>x</p>", parse_mode="HTML") == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )


def test_whitespace_is_trimmed_and_entities_clipped() -> None:
    parsed = parse_formatted("\n  <b> hi </b>\n", "HTML")
    assert parsed.text == "hi"
    assert parsed.entities == [ent("bold", 0, 2)]


def test_plain_text_keeps_markup_characters() -> None:
    assert parse_formatted("1 < 2 & <b>", None).text == "1 < 2 & <b>"


def test_markdown_v2_minimal_check() -> None:
    assert parse_formatted(r"*Hi* there\.", "MarkdownV2").text == "Hi there."
    assert "reserved" in _error("Hi there.", parse_mode="MarkdownV2")


def test_unknown_parse_mode() -> None:
    assert _error("x", parse_mode="XML") == "Bad Request: unsupported parse_mode"
