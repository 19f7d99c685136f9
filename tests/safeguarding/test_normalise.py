"""Normalisation: what the rules see, and the map back to the person's own words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rpbot.safeguarding import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He Said NEVER Tell", "he said never tell"),
        ("ＨＥＬＰ ｍｅ", "help me"),  # full-width letters (NFKC)
        ("ﬁne", "fine"),  # ligature (NFKC)
        ("Straße", "strasse"),  # casefold, not just lower
        ("café naïve", "cafe naive"),  # accents dropped
        ("e\u0301", "e"),  # a combining accent after its letter
        ("don’t", "dont"),  # curly apostrophe straightened, then dropped
        ("don't, I'm, he's, she’ll", "dont, im, hes, shell"),  # missing apostrophes tolerated
        ("“our secret”", '"our secret"'),  # curly double quotes straightened
        ("self–harm — now", "self-harm - now"),  # dashes
        ("hiiiit", "hit"),  # three or more of one letter squeezed to one
        ("nooooo pleeease", "no please"),
        ("kill", "kill"),  # two stay two
        ("k1ll myself", "kill myself"),  # leetspeak between letters
        ("h@te d1e", "hate die"),
        ("24/7 b4 2am", "24/7 b4 2am"),  # digits that are numbers stay
        ("a\u200bb\u200dc", "abc"),  # zero-width characters dropped
        ("\u202ekms\u202c", "kms"),  # direction marks dropped
        ("lots   of\t\tspace", "lots of space"),
        ("two\n\nlines", "two\nlines"),  # a run holding a line break stays a line break
        ("", ""),
    ],
)
def test_normalised_text(text: str, expected: str) -> None:
    assert normalise(text).text == expected


def test_each_character_maps_back_to_its_origin() -> None:
    text = "Heʼs  gonna HIIIT me"
    normalised = normalise(text)
    assert normalised.text == "hes gonna hit me"
    start = normalised.text.index("hit")
    first, last = normalised.original_span(start, start + 3)
    assert text[first:last] == "HIIIT"
    assert normalised.original_span(0, 3) == (0, 4)  # "hes" is "Heʼs" in the original


def test_offsets_survive_unicode_changes() -> None:
    text = "ｉ ｗａｎｔ to die 😢"
    normalised = normalise(text)
    start = normalised.text.index("want")
    first, last = normalised.original_span(start, start + 4)
    assert text[first:last] == "ｗａｎｔ"


@given(st.text(max_size=200))
def test_any_text_normalises_with_a_consistent_map(text: str) -> None:
    normalised = normalise(text)
    assert len(normalised.starts) == len(normalised.text) == len(normalised.ends)
    for index in range(len(normalised.text)):
        first, last = normalised.original_span(index, index + 1)
        assert 0 <= first < last <= len(text)
    assert list(normalised.starts) == sorted(normalised.starts)
