"""Invitation codes: randomness, alphabet, tolerant reading."""

from __future__ import annotations

import math

import pytest

from bot.core import codes


def test_codes_carry_at_least_64_bits_and_no_ambiguous_characters() -> None:
    assert math.log2(len(codes.ALPHABET)) * codes.LENGTH >= 64
    assert not set("ILOU") & set(codes.ALPHABET)
    generated = {codes.new_code() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert codes.normalize(code) == code.replace("-", "")


@pytest.mark.parametrize(("typed", "expected"), [
    ("7KQM-2XRT-9HVB-4D", "7KQM2XRT9HVB4D"),
    ("7kqm 2xrt 9hvb 4d", "7KQM2XRT9HVB4D"),
    ("  7KQM2XRT9HVB4D\n", "7KQM2XRT9HVB4D"),
    ("OOOO-IIII-LLLL-00", "0000111111110" + "0"),
    ("7KQM-2XRT-9HVB", None),          # too short
    ("7KQM-2XRT-9HVB-4DX", None),      # too long
    ("7KQM-2XRT-9HVB-4U", None),       # U is not in the alphabet
    ("bonjour tout le monde", None),
    ("", None),
])
def test_normalize(typed: str, expected: str | None) -> None:
    assert codes.normalize(typed) == expected


def test_only_hashes_are_stored() -> None:
    canonical = "7KQM2XRT9HVB4D"
    assert codes.code_hash(canonical) != canonical
    assert len(codes.code_hash(canonical)) == 64
    labels = {codes.new_label() for _ in range(100)}
    assert all(len(label) == 6 and set(label) <= set(codes.ALPHABET) for label in labels)


@pytest.mark.parametrize(("typed", "is_code"), [
    ("7KQM-2XRT-9HVB-4D", True),
    ("7kqm 2xrt 9hvb 4d", True),
    ("7KQM2XRT9HVB4D", True),
    # Sentences whose letters fit the alphabet and make 14 characters: not codes.
    ("premier rapport", False),
    ("Roof is fixed now", False),
    ("Three wells done", False),
    ("Add the receipts", False),
    ("7KQM2XR T9HVB4D", False),
])
def test_only_a_code_shaped_text_is_taken_for_a_code(typed: str, is_code: bool) -> None:
    assert codes.looks_like_code(typed) is is_code
