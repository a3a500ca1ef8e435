"""The core's text form: one notation read into spans, and the Telegram HTML written from them
byte for byte as the core wrote it (tests look at that HTML through the emulator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.channels.telegram.render import html
from bot.core.surveys.markup import render
from bot.core.text import NotationError, Plain, Styled, h, parse, plain

ROOT = Path(__file__).resolve().parents[2]


def test_spans_of_the_notation() -> None:
    spans = parse('<b>Eau &amp; <i>vie</i></b> &lt;3 <a href="https://x.org/?a=1&amp;b=2">lien</a>')
    assert spans == (
        Styled("strong", (Plain("Eau & "), Styled("emphasis", (Plain("vie"),)))),
        Plain(" <3 "),
        Styled("link", (Plain("lien"),), "https://x.org/?a=1&b=2"),
    )
    assert plain(spans) == "Eau & vie <3 lien"
    assert parse("") == ()
    assert parse("<code>x</code><u>y</u><s>z</s>") == (
        Styled("code", (Plain("x"),)), Styled("underline", (Plain("y"),)),
        Styled("strike", (Plain("z"),)))


@pytest.mark.parametrize("text", [
    "<b>open", "close</b>", "<b><i>x</b></i>", "<script>x</script>", "a < b", "<br>",
    '<b href="x">y</b>', "<a>no target</a>", "&#0;", "<B>x</B>",
])
def test_what_is_not_the_notation_is_refused(text: str) -> None:
    with pytest.raises(NotationError):
        parse(text)


def test_user_text_through_h_is_plain_whatever_it_holds() -> None:
    hostile = '<b>&amp;</b <a href="javascript:x">*_~`</a> &lt; &#60; 🙂'
    assert parse(h(hostile)) == (Plain(hostile),)
    assert html(h(hostile)) == h(hostile)
    assert h(None) == ""


def test_telegram_html_is_the_text_as_the_core_wrote_it() -> None:
    """Every catalog message and the core's own styling come out unchanged."""
    texts = ["<b>📢 Réunion</b>\n«Réunion &lt;mardi&gt; &amp; mercredi»",
             '📍 <a href="https://www.openstreetmap.org/?mlat=1.00000&amp;mlon=2.00000#map=15">'
             "1° N</a>", "<i>Reply to this message to answer.</i>",
             render("Hello **${name}**<br/>_next_ <u>u</u> ~x~ <s>s</s> <code>c</code> "
                    "[site](https://x.org/a?b=1&c=2)", {"name": "<Awa & co>"})]
    for po in sorted(ROOT.glob("locales/*/LC_MESSAGES/palabre.po")):
        with po.open("rb") as file:
            catalog = read_po(file)
        for message in catalog:
            if not message.id:
                continue  # the catalog's header
            for text in (message.id, message.string):
                texts += [t for t in (text if isinstance(text, tuple) else (text,)) if t]
    assert len(texts) > 1000
    for text in texts:
        assert html(text) == text
