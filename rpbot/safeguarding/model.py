"""The rules file format (pydantic models) and the compiled rules the screener runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$")]
Text = Annotated[str, Field(min_length=1)]

_DOUBLES = re.compile(r"(\w)\1+")
_WORD = re.compile(r"\w+")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the rule."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchersSpec(_Spec):
    """Phrases (the readable syntax) and patterns (regular expressions); at least one."""

    phrases: list[Text] = []
    patterns: list[Text] = []

    @model_validator(mode="after")
    def _not_empty(self) -> MatchersSpec:
        if not self.phrases and not self.patterns:
            raise ValueError("give at least one phrase or pattern")
        return self


Sender = Literal["parent", "child"]


class RuleSpec(MatchersSpec):
    """Words that raise a concern in one category (``also``: in these categories as well).

    ``senders`` limits the rule to messages from these people when the caller says who wrote
    (a child's "I hit him" is not a parent hurting a child); default: everyone.
    """

    id: RuleId
    negatable: bool = False
    also: list[Name] = []
    senders: list[Sender] = []


class ExclusionSpec(MatchersSpec):
    """Words that cancel a concern: overlapping it (``span``) or in the same sentence.

    ``only`` limits the exclusion to the rules with these ids (default: every rule).
    """

    id: RuleId
    scope: Literal["span", "sentence"] = "span"
    only: list[RuleId] = []


class ReassuranceSpec(MatchersSpec):
    """Words that say all is well ("nobody hits me"): hidden from the trained model, which
    reads n-grams, not negation. They never cancel a rule's match."""

    id: RuleId


class CategorySpec(_Spec):
    """One category of concern: what it means, its rules and its exclusions."""

    description: Text
    rules: Annotated[list[RuleSpec], Field(min_length=1)]
    exclusions: list[ExclusionSpec] = []


class NegationSpec(_Spec):
    """Words that negate a ``negatable`` rule when they come just before it (or inside it)."""

    cues: Annotated[list[Text], Field(min_length=1)]
    not_negation: list[Text] = []
    window: Annotated[int, Field(ge=1, le=8)] = 3


class RulesFile(_Spec):
    """A whole rules file."""

    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    version: Annotated[int, Field(ge=1)]
    terms: dict[Name, Annotated[list[Text], Field(min_length=1)]] = {}
    snippets: dict[Name, Text] = {}
    negation: NegationSpec
    idioms: list[ExclusionSpec] = []
    reassurances: list[ReassuranceSpec] = []
    categories: Annotated[dict[Name, CategorySpec], Field(min_length=1)]


def word_key(text: str) -> str:
    """``text`` with doubled letters made single: how anchors and words are compared."""
    return _DOUBLES.sub(r"\1", text)


@dataclass(frozen=True, slots=True)
class Matcher:
    """One compiled phrase or pattern.

    ``anchors``: for each word position the phrase requires, the words (a trailing ``*`` marks
    a prefix) that can stand there, most selective first; the text must have one of each set
    for the regex to have any chance. Empty for patterns, which are always searched.
    ``serial`` numbers the matchers of one :class:`Rules` from 0.
    """

    regex: re.Pattern[str]
    anchors: tuple[frozenset[str], ...]
    serial: int

    def could_match(self, present: frozenset[str]) -> bool:
        """False when some required word position has none of its words in ``present``."""
        return all(not anchors.isdisjoint(present) for anchors in self.anchors)


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule: a match counts for ``categories`` (its own first)."""

    id: str
    category: str
    categories: tuple[str, ...]
    matchers: tuple[Matcher, ...]
    negatable: bool
    senders: frozenset[str] = frozenset()

    def applies_to(self, sender: str | None) -> bool:
        """True if this rule screens messages from ``sender`` (None: sender unknown)."""
        return sender is None or not self.senders or sender in self.senders


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A compiled exclusion."""

    id: str
    matchers: tuple[Matcher, ...]
    sentence: bool
    only: frozenset[str]

    def applies_to(self, rule: Rule) -> bool:
        """True if this exclusion can cancel a match of ``rule``."""
        return not self.only or rule.id in self.only


@dataclass(frozen=True, slots=True)
class Category:
    """A compiled category."""

    name: str
    description: str
    rules: tuple[Rule, ...]
    exclusions: tuple[Exclusion, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """Compiled negation: ``cues`` found in the window, unless ``not_negation`` is found too."""

    cues: re.Pattern[str]
    not_negation: re.Pattern[str] | None
    window: int


@dataclass(frozen=True, slots=True)
class AnchorIndex:
    """Which matchers a text could trigger, from its words, without running their regexes.

    ``by_anchor`` files each matcher under the words of its most selective anchor set;
    ``prefix_regex`` finds, at each word start, the longest anchor prefix, and ``prefixes``
    lists every anchor prefix that one implies (itself and the shorter ones it starts with).
    """

    by_anchor: dict[str, frozenset[int]]
    always: frozenset[int]
    prefix_regex: re.Pattern[str] | None
    prefixes: dict[str, tuple[str, ...]]

    def present(self, text: str) -> frozenset[str]:
        """The anchors found in normalised ``text``: its words, and ``prefix*`` keys."""
        keyed = word_key(text)
        found = set(_WORD.findall(keyed))
        if self.prefix_regex is not None:
            for prefix in self.prefix_regex.findall(keyed):
                found.update(self.prefixes[prefix])
        return frozenset(found)

    def candidates(self, present: frozenset[str]) -> frozenset[int]:
        """Serials of the matchers whose most selective anchors are present (or that have none)."""
        hits = [self.by_anchor[a] for a in present if a in self.by_anchor]
        return self.always.union(*hits)


@dataclass(frozen=True, slots=True)
class Rules:
    """A loaded, compiled rules file: use it with :class:`rpbot.safeguarding.Screener`."""

    source: str
    language: str
    categories: tuple[Category, ...]
    idioms: tuple[Exclusion, ...]
    negation: Negation
    index: AnchorIndex
    #: Reassurances, as matchers: what the model does not see (see :class:`ReassuranceSpec`).
    reassurances: tuple[Matcher, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, category by category."""
        return tuple(r for c in self.categories for r in c.rules)

    @property
    def category_names(self) -> tuple[str, ...]:
        """Every category, sorted."""
        return tuple(sorted(c.name for c in self.categories))


def read_source(path: Path | str, error: type[Exception]) -> tuple[str, str]:
    """A rules or model file's text and its name for messages; ``error`` if unreadable."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror or exc}") from exc
