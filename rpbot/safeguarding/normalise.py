"""Text normalisation for screening, keeping a map back to the original offsets.

What the rules see (``Normalised.text``) differs from what the person wrote:

- Unicode NFKC (full-width letters, ligatures), casefolded, accents dropped ("café" → "cafe");
- curly quotes straightened, dashes made ``-``, zero-width and other format characters dropped;
- apostrophes removed, so "don't" and "dont", "he's" and "hes" read the same;
- runs of whitespace become one space (one newline if the run held a newline);
- a run of three or more of one letter becomes one letter ("hiiit" → "hit", "nooo" → "no");
- the cheap leetspeak between letters: ``k1ll`` → ``kill``, ``h@te`` → ``hate``.

Every character of ``Normalised.text`` remembers the span of the original text it came from, so
a match found in the normalised text can be reported against the person's own words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: Characters turned into a straight apostrophe (then removed) or a straight double quote.
_APOSTROPHES = "\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4`"
_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_QUOTES, '"'),
        **dict.fromkeys(_DASHES, "-"),
    }
)

#: Digits and symbols read as letters when a letter stands on both sides.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}

#: The edits made after the character-level pass, in one scan.
_EDITS = re.compile(
    r"(?P<apostrophe>')"
    r"|(?P<space>\s{2,})"
    r"|(?P<run>(?P<letter>[^\W\d_])(?P=letter){2,})"
    r"|(?<=[^\W\d_])(?P<leet>[013457@$])(?=[^\W\d_])"
)


@dataclass(frozen=True, slots=True)
class Normalised:
    """Normalised text plus, per character, the original span it came from."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind ``text[start:end]`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]


def normalise(text: str) -> Normalised:
    """Normalise ``text`` for matching; see the module docstring for what changes."""
    if text.isascii():
        first = text.lower()
        starts: Sequence[int] = range(len(text))
        ends: Sequence[int] = range(1, len(text) + 1)
    else:
        first, starts, ends = _unicode_pass(text)
    return _edit_pass(first, starts, ends)


def _unicode_pass(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC, casefold, accents and format characters dropped, quotes and dashes straightened."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(text):
        piece = _fold(text[start:end])
        out.append(piece)
        starts.extend([start] * len(piece))
        ends.extend([end] * len(piece))
    return "".join(out), starts, ends


def _clusters(text: str) -> list[tuple[int, int]]:
    """Spans of one base character and the combining marks after it."""
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(text):
        if spans and unicodedata.combining(char):
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans


def _fold(cluster: str) -> str:
    """One cluster, normalised: possibly empty, possibly several characters."""
    folded = unicodedata.normalize("NFKC", cluster).casefold().translate(_CHAR_MAP)
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if _kept(c))


def _kept(char: str) -> bool:
    """False for accents and invisible characters (zero-width, direction marks, controls)."""
    if char in "\n\t":
        return True
    return not unicodedata.combining(char) and unicodedata.category(char) not in ("Cf", "Cc")


def _edit_pass(text: str, starts: Sequence[int], ends: Sequence[int]) -> Normalised:
    """Remove apostrophes, squeeze whitespace and letter runs, read leetspeak."""
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    done = 0
    for found in _EDITS.finditer(text):
        begin, finish = found.span()
        out.append(text[done:begin])
        new_starts.extend(starts[done:begin])
        new_ends.extend(ends[done:begin])
        replacement = _replacement(found)
        if replacement:
            out.append(replacement)
            new_starts.append(starts[begin])
            new_ends.append(ends[finish - 1])
        done = finish
    if done == 0:
        return Normalised(text, starts, ends)
    out.append(text[done:])
    new_starts.extend(starts[done:])
    new_ends.extend(ends[done:])
    return Normalised("".join(out), new_starts, new_ends)


def _replacement(found: re.Match[str]) -> str:
    kind = found.lastgroup
    if kind == "space":
        return "\n" if "\n" in found.group() else " "
    if kind == "run":
        return found.group()[0]
    if kind == "leet":
        return _LEET[found.group()]
    return ""
