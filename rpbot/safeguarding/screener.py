"""The screener: finds safeguarding concerns in a message using compiled :class:`Rules`.

For each rule of each category, every match in the normalised text is kept unless

- it overlaps an idiom ("dying to see them") or one of its category's span exclusions;
- it lies in a sentence holding one of its category's sentence exclusions ("surprise party"
  next to "don't tell mum");
- its rule is ``negatable`` and a negation cue ("never", "didn't") appears inside the match or
  in the few words before it in the same clause, with no "not really a negation" phrase
  ("didn't mean to") there.

A phrase is only searched when the message holds one of its anchor words, so most of the rules
cost a set lookup.

When the rules find nothing and the screener has a trained model (the second layer, see
:mod:`rpbot.safeguarding.classifier`), the model decides: a concern when its probability reaches
its threshold, with the categories its category models name and, as evidence, the words that
pushed its score up most (rule id ``model``). When the rules find something, their result is
kept as it is. The model does not see the words of a rule match the rules cancelled (negated,
an idiom, an exclusion), nor the rules' reassurances ("nobody hits me"): the rules have judged
those words already, and the model, which reads n-grams rather than sentences, would otherwise
undo "I would never hit her" or read "hits me" in "nobody hits me at home". When such words
cover most of the message (more than half its words), the rules have judged the message, and
the model is not asked: what is left is too little for it to read.

Nothing here logs, and the matched words are left out of ``repr`` so a logged
:class:`Screening` cannot leak what someone wrote.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from rpbot.safeguarding.classifier import Classifier
from rpbot.safeguarding.model import Category, Exclusion, Matcher, Rule, Rules
from rpbot.safeguarding.normalise import Normalised, normalise

#: Where a clause ends, for negation: a negation cue does not reach across these.
_CLAUSE_END = re.compile(r"[.!?\n;:,]|(?<!\w)(?:but|then|so|because|cos|coz)(?!\w)")
#: Where a sentence ends, for sentence exclusions.
_SENTENCE_END = re.compile(r"[.!?\n]+")
#: How far back (in characters) negation looks at most.
_LOOK_BACK = 120
#: Words, for how much of a message cancelled matches cover.
_WORDS = re.compile(r"\w+")
#: The rule id of evidence found by the trained model rather than by a rule.
MODEL_RULE = "model"


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of evidence: ``text`` is ``original[start:end]``, found by rule ``rule``."""

    category: str
    text: str = field(repr=False)
    start: int
    end: int
    rule: str


@dataclass(frozen=True, slots=True)
class Screening:
    """The result of screening one message."""

    concern: bool
    categories: tuple[str, ...]
    evidence: tuple[Match, ...]


NO_CONCERN = Screening(concern=False, categories=(), evidence=())

#: Where one exclusion matched a message: its spans and (sentence scope) its sentence numbers.
_Found = tuple[Exclusion, list[tuple[int, int]], set[int]]


class Screener:
    """Screens messages with one set of rules; build once, call :meth:`screen` many times.

    ``model``, when given, is the second layer: it decides the messages the rules pass.
    """

    def __init__(self, rules: Rules, model: Classifier | None = None) -> None:
        self.rules = rules
        self.model = model
        self._categories = {c.name: c for c in rules.categories}
        self._rules = rules.rules
        self._rule_of: dict[int, int] = {}
        for number, rule in enumerate(self._rules):
            self._rule_of.update(dict.fromkeys((m.serial for m in rule.matchers), number))

    def screen(self, text: str, sender: str | None = None) -> Screening:
        """Screen one message (any length, any characters); never raises on odd text.

        ``sender`` ("parent" or "child"), when known, skips the rules meant for the other.
        """
        if not text or text.isspace():
            return NO_CONCERN
        normalised = normalise(text)
        message = _Message(text, normalised, self.rules)
        found: dict[tuple[str, int, int], Match] = {}
        hit = sorted({self._rule_of[s] for s in message.candidates if s in self._rule_of})
        for number in hit:
            rule = self._rules[number]
            if not rule.applies_to(sender):
                continue
            for match in message.matches(self._categories[rule.category], rule):
                found.setdefault((match.category, match.start, match.end), match)
        if not found:
            masked = message.masked()
            if masked is None:
                return NO_CONCERN
            return self._by_model(text, masked, sender)
        evidence = tuple(sorted(found.values(), key=lambda m: (m.start, m.end, m.category)))
        return Screening(True, tuple(sorted({m.category for m in evidence})), evidence)

    def _by_model(self, text: str, normalised: Normalised, sender: str | None) -> Screening:
        """The model's verdict on a message the rules passed (none without a model)."""
        if self.model is None:
            return NO_CONCERN
        prediction = self.model.predict_normalised(normalised.text, sender)
        if not prediction.concern:
            return NO_CONCERN
        spans = self.model.evidence(normalised, sender) or [(0, len(text))]
        evidence = tuple(
            Match(category, text[start:end], start, end, MODEL_RULE)
            for start, end in spans
            for category in prediction.categories
        )
        return Screening(True, prediction.categories, evidence)


class _Message:
    """One message being screened, with what is worked out about it at most once."""

    def __init__(self, original: str, normalised: Normalised, rules: Rules) -> None:
        self.original = original
        self.normalised = normalised
        self.text = normalised.text
        self.rules = rules
        self.present = rules.index.present(self.text)
        self.candidates = rules.index.candidates(self.present)
        self._excluded: dict[str, list[_Found]] = {}
        self.cancelled: list[tuple[int, int]] = []

    def matches(self, category: Category, rule: Rule) -> Iterator[Match]:
        """The evidence from ``rule`` that survives exclusions and negation."""
        for start, end in self._spans(rule.matchers):
            if self._is_excluded(category, rule, start, end) or (
                rule.negatable and self._is_negated(start, end)
            ):
                self.cancelled.append((start, end))
                continue
            yield from self._evidence(rule, start, end)

    def masked(self) -> Normalised | None:
        """The normalised text with the cancelled matches and the reassurances ("nobody hits
        me") blanked out (offsets unchanged), for the model.

        None when that blanks out more than half the words: the rules have judged the message.
        """
        hidden = [*self.cancelled, *self._spans(self.rules.reassurances)]
        if not hidden:
            return self.normalised
        chars = list(self.text)
        for start, end in hidden:
            chars[start:end] = " " * (end - start)
        text = "".join(chars)
        if 2 * len(_WORDS.findall(text)) < len(_WORDS.findall(self.text)):
            return None
        return replace(self.normalised, text=text)

    def _spans(self, matchers: tuple[Matcher, ...]) -> Iterator[tuple[int, int]]:
        for matcher in matchers:
            if matcher.serial in self.candidates and matcher.could_match(self.present):
                for found in matcher.regex.finditer(self.text):
                    if found.end() > found.start():
                        yield found.span()

    def _evidence(self, rule: Rule, start: int, end: int) -> Iterator[Match]:
        first, last = self.normalised.original_span(start, end)
        words = self.original[first:last]
        for category in rule.categories:
            yield Match(category, words, first, last, rule.id)

    def _is_excluded(self, category: Category, rule: Rule, start: int, end: int) -> bool:
        for exclusion, spans, sentences in self._exclusions(category):
            if not exclusion.applies_to(rule):
                continue
            if any(s < end and start < e for s, e in spans):
                return True
            if sentences and self._sentence(start) in sentences:
                return True
        return False

    def _exclusions(self, category: Category) -> list[_Found]:
        """Where each exclusion for ``category`` (idioms included) matched, found once."""
        found = self._excluded.get(category.name)
        if found is None:
            found = [self._find(e) for e in (*self.rules.idioms, *category.exclusions)]
            self._excluded[category.name] = found
        return found

    def _find(self, exclusion: Exclusion) -> _Found:
        spans = list(self._spans(exclusion.matchers))
        if exclusion.sentence:
            return exclusion, [], {self._sentence(start) for start, _ in spans}
        return exclusion, spans, set()

    @cached_property
    def _sentence_ends(self) -> list[int]:
        return [found.end() for found in _SENTENCE_END.finditer(self.text)]

    def _sentence(self, position: int) -> int:
        return bisect_right(self._sentence_ends, position)

    def _is_negated(self, start: int, end: int) -> bool:
        """True if a negation cue is in the match or just before it, in the same clause."""
        negation = self.rules.negation
        before = self.text[max(0, start - _LOOK_BACK) : start]
        clause_starts = [found.end() for found in _CLAUSE_END.finditer(before)]
        if clause_starts:
            before = before[clause_starts[-1] :]
        words = before.split()[-negation.window :]
        window = " ".join([*words, self.text[start:end]])
        if not negation.cues.search(window):
            return False
        return negation.not_negation is None or not negation.not_negation.search(window)
