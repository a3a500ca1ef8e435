"""Invitation codes: 70 random bits in Crockford's base32, easy to read out and type."""

from __future__ import annotations

import hashlib
import re
import secrets

# Crockford's alphabet leaves out I, L, O and U: nothing to confuse with 1, 0 or V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 14  # 14 × 5 bits = 70 bits of randomness
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_code() -> str:
    """Return a fresh code grouped for reading, e.g. '7KQM-2XRT-9HVB-4D'."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalize(text: str) -> str | None:
    """Return the canonical code in `text` (any case, separators, O/0 typos), or None."""
    candidate = _SEPARATORS.sub("", text.strip()).upper().translate(_TYPO)
    if len(candidate) != LENGTH or any(ch not in ALPHABET for ch in candidate):
        return None
    return candidate


GROUPS = (4, 4, 4, 2)  # how new_code() prints a code


def looks_like_code(text: str) -> bool:
    """Whether a visitor's free text is an invitation code: one word of 14 characters, or
    the printed groups (4-4-4-2). Words of a sentence ("premier rapport", "Roof is fixed
    now") are not a code, even when their letters happen to fit the alphabet."""
    chunks = [chunk for chunk in _SEPARATORS.split(text.strip()) if chunk]
    if len(chunks) != 1 and tuple(len(chunk) for chunk in chunks) != GROUPS:
        return False
    return normalize(text) is not None


def code_hash(canonical: str) -> str:
    """Hash a canonical code: the database never holds a usable code."""
    return hashlib.sha256(canonical.encode()).hexdigest()


LABEL_LENGTH = 6


def new_label() -> str:
    """A short name for an invitation in listings, independent of its code (which it must
    not reveal: the first characters of a code would shorten a search for the rest)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LABEL_LENGTH))
