"""Which getUpdates entries are quarantined, and what PTB gets in their place."""

from __future__ import annotations

import json

from bot.channels.telegram import poison

MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
           "from": {"id": 5, "is_bot": False, "first_name": "A"}}


def _update(update_id: int, **fields: object) -> dict[str, object]:
    return {"update_id": update_id, **fields}


def test_readable_updates_pass_untouched() -> None:
    batch = [
        _update(1, message={**MESSAGE, "text": "nul\x00 and RTL \u202e and e\u0301"}),
        _update(2, message={**MESSAGE, "text": "x", "a_field_of_tomorrow": {"n": 1}}),
        _update(3, a_kind_of_tomorrow={"id": "1"}),  # unknown kinds: PTB keeps them aside
    ]
    good, quarantined, handed = poison.split(batch)
    assert good == batch and handed == batch and quarantined == []


def test_lone_surrogates_are_replaced_and_unparsable_updates_stubbed() -> None:
    batch = [
        _update(1, message={**MESSAGE, "text": "ok"}),
        _update(2, message={**MESSAGE, "text": "trois \udcff puits \U0001f600"}),
        _update(3, poll={"id": "9"}),  # a poll without the fields PTB requires
        {"no_id": True},
    ]
    good, quarantined, handed = poison.split(batch)
    assert [u["update_id"] for u in good] == [1, 2]
    assert good[1]["message"]["text"] == "trois \ufffd puits \U0001f600"  # a pair is kept
    assert [(q[0], q[2].split(":")[0]) for q in quarantined] == [(3, "cannot be parsed")]
    assert all(q[1].isascii() and json.loads(q[1])["update_id"] == q[0] for q in quarantined)
    assert handed == [batch[0], good[1], {"update_id": 3}]
