"""Replies laid out as WhatsApp messages that Meta accepts (checked by the emulator's rules)."""

from __future__ import annotations

import pytest

from bot.channels.whatsapp.render import layout, text_of
from bot.core.callbacks import SurveyLaunch
from bot.core.replies import Button, Reply, h
from bot.emulator.whatsapp import validate


def _reply(count: int, label: str = "Option {i}", text: str = "Which one?") -> Reply:
    return Reply(text, buttons=tuple((Button(label.format(i=i), SurveyLaunch("a", str(i))),)
                                     for i in range(count)))


def _accepted_by_meta(reply: Reply) -> list[str]:
    kinds = []
    for kind, content in layout(reply).messages:
        validate(kind, {kind: content}, {})
        kinds.append(kind if kind == "text" else content["type"])
    return kinds


def test_html_becomes_whatsapp_marks() -> None:
    markup = ('<b>Eau</b> &amp; <i>assainissement</i> &lt;3 <a href="https://x.org">lien</a>'
              "\nligne")
    assert text_of(markup) == "*Eau* & _assainissement_ <3 lien (https://x.org)\nligne"


@pytest.mark.parametrize(("reply", "kinds"), [
    (Reply("Bonjour"), ["text"]),
    (_reply(3, "Oui {i}"), ["button"]),
    (_reply(2, "A label far longer than twenty {i}"), ["list"]),
    (_reply(10), ["list"]),
    (_reply(15), ["text"]),
    (_reply(3, text="x" * 3000 + "\nWhich one?"), ["text", "text", "button"]),
    (Reply("y" * 9000), ["text", "text", "text"]),
])
def test_layouts_fit_meta_limits(reply: Reply, kinds: list[str]) -> None:
    assert _accepted_by_meta(reply) == kinds


def test_long_labels_are_whole_in_the_description_and_numbers_map_to_choices() -> None:
    label = "Réhabilitation du forage communautaire de Bignona"
    [(_kind, content)] = layout(_reply(5, label + " {i}")).messages
    row = content["action"]["sections"][0]["rows"][0]
    assert row["title"].endswith("…") and len(row["title"]) == 24
    assert row["description"].startswith(label)
    numbered = layout(_reply(12))
    assert numbered.numbered["12"] == "sl:a:11"
    assert "12. Option 11" in numbered.messages[-1][1]["body"]


def test_user_text_never_styles_on_whatsapp() -> None:
    typed = "*urgent* _vite_ ~non~ ```x``` `y` my_var 5 * 3"
    shown = text_of("<b>" + h(typed) + "</b>")
    assert shown.startswith("*") and shown.endswith("*")
    inner = shown[1:-1]
    assert not any(mark in inner.replace("my_var", "") for mark in "*_~`")
    assert "my_var" in inner and "urgent" in inner
    # Spaces stay outside the marks, which must touch the words they style.
    assert text_of("<b> Eau </b>, <code>x</code>") == " *Eau* , ```x```"


def test_a_reference_too_long_for_a_reply_id_goes_as_its_stand_in() -> None:
    long = Button("X", SurveyLaunch("a", "x" * 300), fallback=SurveyLaunch("a", "k#0"))
    [(_kind, content)] = layout(Reply("?", buttons=((long,),))).messages
    assert content["action"]["buttons"][0]["reply"]["id"] == "sl:a:k#0"
    with pytest.raises(ValueError, match="256 characters"):
        layout(Reply("?", buttons=((Button("X", SurveyLaunch("a", "x" * 300)),),)))
