"""What every button press must pass before any feature reads it.

Callback data comes back from the phone, so a modified client can send anything (up to 64
bytes). Ids in it go to SQLite, whose integers stop at 2**63 - 1 (19 digits): a longer number
raised OverflowError deep in a query. The bot never writes a number that long (ids, offsets,
turns, indexes are small), so any run of 19 digits or more is a forged press, answered like
every other stale or forged one, before a feature parses it.
"""

from __future__ import annotations

import re

OUT_OF_RANGE = re.compile(r"\d{19,}")


def is_out_of_range(data: object) -> bool:
    """Whether the data carries a number no button of the bot ever had."""
    return isinstance(data, str) and OUT_OF_RANGE.search(data) is not None
