"""Replies as SMS: GSM 7-bit or UCS-2 segments, pages of a few segments, numbered options."""

from __future__ import annotations

from bot.channels.sms.render import (
    MAX_SEGMENTS,
    is_gsm,
    layout,
    options,
    page,
    segments,
    text_of,
)
from bot.core.callbacks import AnnouncementAction, Review
from bot.core.replies import Button, Reply
from bot.core.text import h


def test_gsm_and_ucs2_segments() -> None:
    assert is_gsm("Rapport reçu? Très bien: 12€ [ok]") is False  # ç is not in the alphabet
    assert is_gsm("Rapport recu? Tres bien: 12€ [ok] à é") is True
    assert segments("a" * 160) == ["a" * 160]
    assert [len(s) for s in segments("a" * 161)] == [153, 8]
    # An extension character counts twice, and is never cut from its escape.
    assert segments("€" * 80) == ["€" * 80]
    assert [len(s) for s in segments("€" * 81)] == [76, 5]
    assert segments("ç" * 70) == ["ç" * 70]
    assert [len(s) for s in segments("ç" * 71)] == [67, 4]
    # An emoji is two UTF-16 units: a pair is never cut in two.
    parts = segments("🙂" * 40)
    assert "".join(parts) == "🙂" * 40 and all(len(p.encode("utf-16-le")) <= 134 for p in parts)


def test_long_texts_are_paged_at_line_ends() -> None:
    text = "\n".join(f"Ligne {i}: " + "mot " * 20 for i in range(40))
    pages = page(text)
    assert len(pages) > 1
    assert all(len(segments(p)) <= MAX_SEGMENTS for p in pages)
    assert "\n".join(pages) == text
    huge = "x" * 2000  # no line end, no space: cut where the segments end
    assert "".join(page(huge)) == huge
    assert all(len(segments(p)) <= MAX_SEGMENTS for p in page(huge))


def test_emphasis_is_dropped_and_user_text_is_shown_as_typed() -> None:
    assert text_of('<b>Rapport</b> <i>reçu</i>: <a href="https://x.org">voir</a>') == \
        "Rapport reçu: voir (https://x.org)"
    assert text_of(h("<b>*moi*</b> & co")) == "<b>*moi*</b> & co"


def test_choices_are_numbered_options() -> None:
    reply = Reply("<b>R-12</b> à revoir?", buttons=(
        (Button("Accept", Review("ok", 12)), Button("Return", Review("re", 12))),))
    result = layout(reply)
    assert result.messages == ("R-12 à revoir?\n1 Accept / 2 Return",)
    assert result.numbered == {"1": "rv:ok:12", "2": "rv:re:12"}
    # A reference too long for the bot to keep goes as its shorter stand-in.
    long = Button("X", AnnouncementAction("av", 1, "o." + "x" * 200),
                  fallback=AnnouncementAction("av", 1, "o#0"))
    assert layout(Reply("?", buttons=((long,),))).numbered == {"1": "an:av:1:o#0"}
    assert options([Button("Oui", Review("ok", 1))]) == "1 Oui"
    assert layout(Reply("")).messages == ()
