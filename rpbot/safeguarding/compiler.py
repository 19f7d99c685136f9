"""Compiling a validated rules file: phrases to regular expressions, each with anchor words.

Phrase syntax, word by word (words are separated by spaces, matched as whole words):

- ``kill`` a word; a doubled letter also matches single (``kill`` matches "kil"), because
  people misspell and because "killll" is squeezed to "kil" by normalisation;
- ``smack*`` a word starting with ``smack`` ("smacked", "smacking");
- ``hit|hits|hitting`` one of several words;
- ``(going to|gonna)`` one of several groups of words (``|`` separates the groups);
- ``[really]``, ``[really|so]`` or ``[a bit|a little]`` optional words;
- ``*`` on its own: up to three other words here ("told me * not to tell"); ``**`` up to
  eight; ``~`` up to about 80 characters on the same line, even across a sentence end
  ("her boyfriend ~ hes {adult_age}" matches "her boyfriend. He's 24"); ``_`` exactly one
  word, any word ("been hitting _");
- ``^`` first, ``$`` last: the start, the end of the text or of a clause ("^ help $");
- ``{child}`` any phrase listed under ``terms: child:`` (terms may use terms), or a raw regular
  expression listed under ``snippets:``; these mix with words: ``{child}|baby``.

Words in a phrase are separated in the text by anything but a letter, digit or sentence end
(``GAP``), so a phrase never runs across two sentences, unless ``~`` says so.

Each phrase also gets *anchors*: for every word position it requires, the set of words that can
stand there (for a term, the words of each of its phrases' most selective position). A phrase
can only match a text that has, for every such set, at least one of its words; the screener
checks that with set lookups before running the regex, which keeps screening fast however many
rules there are. Patterns have no anchors and are always searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import pairwise
from typing import Any, NoReturn

from rpbot.safeguarding.model import (
    AnchorIndex,
    Category,
    CategorySpec,
    Exclusion,
    ExclusionSpec,
    Matcher,
    MatchersSpec,
    Negation,
    Rule,
    Rules,
    RulesError,
    RulesFile,
    RuleSpec,
    word_key,
)

#: Characters between two words of a phrase: anything but a word character or a sentence end.
GAP = r"[^\w.!?\n]+"
#: ``^`` and ``$`` in a phrase: the start and end of the text or of a clause.
CLAUSE_START = r"(?:(?<![^.!?\n;:,])|(?<=[.!?\n;:,] )|(?<=\A ))"
CLAUSE_END = r"(?= ?(?:[.!?\n;:,]|\Z))"
#: Up to three extra words, for ``*`` in a phrase; up to eight for ``**``.
_SKIP = rf"(?:\w+{GAP}){{0,3}}?"
_LONG_SKIP = rf"(?:\w+{GAP}){{0,8}}?"
#: For ``~``: a separator, or anything on the same line (up to 80 characters) between separators.
_ACROSS = r"[^\w\n](?:[^\n]{0,80}?[^\w\n])?"
#: Exactly one word, for ``_`` in a phrase.
_ANY_WORD = r"\w+"
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_SKIPS = {"*": _SKIP, "**": _LONG_SKIP, "~": _ACROSS}
_EDGES = {"^": CLAUSE_START, "$": CLAUSE_END}
_MARKS = (*_SKIPS, *_EDGES)
_TERM_REF = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_PLAIN_WORD = re.compile(r"\w+\*?")

#: Words so common that anchoring on them saves nothing; avoided when choosing anchors.
_COMMON = frozenset(
    """a about after all am an and any are as at back be been before being but by can cant could
    day did didnt do does dont down even for from get gets go going gone got had has have he her
    here him his how i if im in into is it its just know like me more my no not now of off on one
    or our out over really said say see she so some still than that the their them then there
    they this time to today too u up ur us very was we well went were what when where which who
    will with would you your""".split()  # noqa: SIM905 - a paragraph of words reads best
)

Anchors = frozenset[str] | None
_Spelling = tuple[tuple[str, ...], bool]


@dataclass(frozen=True, slots=True)
class _Piece:
    """A compiled fragment: its regex and its anchors (None: no usable anchor)."""

    regex: str
    anchors: Anchors
    words: frozenset[str] = frozenset()
    required: tuple[frozenset[str], ...] = ()
    #: For an alternation of plain words: each word's regex atoms and whether it is a prefix.
    spellings: tuple[_Spelling, ...] | None = None


@dataclass
class _Assembly:
    """A phrase's regex, built word position by word position."""

    regex: str = ""
    skip: str = ""  # the skip to put before the next word, if "*" or "**" came last
    needs_gap: bool = False  # a word is in place with no separator after it yet
    required: list[Anchors] = field(default_factory=list)
    words: set[str] = field(default_factory=set)

    def add_edge(self, regex: str) -> None:
        self.regex += regex

    def add_optional(self, piece: _Piece) -> None:
        joint = self._joint()
        if self.needs_gap:
            self.regex += f"(?:{joint}{piece.regex})?"
        else:
            self.regex += f"(?:{joint}{piece.regex}{GAP})?"
        self.words |= piece.words

    def add_word(self, piece: _Piece) -> None:
        self.regex += self._joint() + piece.regex
        self.needs_gap = True
        self.required.append(piece.anchors)
        self.words |= piece.words

    def piece(self) -> _Piece:
        return _Piece(
            self.regex, _best(self.required), frozenset(self.words), _ordered(self.required)
        )

    def _joint(self) -> str:
        if self.skip == _ACROSS and self.needs_gap:
            joint = _ACROSS  # its own separators: the next word may be in the next sentence
        else:
            joint = (GAP if self.needs_gap else "") + self.skip
        self.skip = ""
        return joint


def compile_rules(spec: RulesFile, source: str) -> Rules:
    """Compile a validated rules file; raise :class:`RulesError` naming ``source`` and the rule."""
    return _Compiler(spec, source).compile()


class _Compiler:
    """Turns a validated :class:`RulesFile` into :class:`Rules`, naming the rule in errors."""

    def __init__(self, spec: RulesFile, source: str) -> None:
        self.spec = spec
        self.source = source
        self._terms: dict[str, _Piece] = {}
        self._matchers_made: list[Matcher] = []

    def compile(self) -> Rules:
        self._check_names()
        categories = tuple(self._category(name, c) for name, c in self.spec.categories.items())
        return Rules(
            source=self.source,
            language=self.spec.language,
            categories=categories,
            idioms=tuple(self._exclusion(f"idioms: {e.id}", e) for e in self.spec.idioms),
            negation=self._negation(),
            reassurances=tuple(
                matcher
                for spec in self.spec.reassurances
                for matcher in self._matchers(f"reassurances: {spec.id}", spec)
            ),
            index=_index(self._matchers_made),
        )

    # --- checks across the file ---

    def _check_names(self) -> None:
        for name in sorted(set(self.spec.terms) & set(self.spec.snippets)):
            self._fail(f"snippets: {name}", "a term has the same name; rename one")
        seen: set[str] = set()
        for name, category in self.spec.categories.items():
            for item_id in [r.id for r in category.rules] + [e.id for e in category.exclusions]:
                self._unique(item_id, seen)
            self._check_references(name, category)
        every_rule = {r.id for c in self.spec.categories.values() for r in c.rules}
        for idiom in self.spec.idioms:
            self._unique(idiom.id, seen)
            self._known_rules(f"idioms: {idiom.id}", idiom.only, every_rule)
        for reassurance in self.spec.reassurances:
            self._unique(reassurance.id, seen)

    def _check_references(self, name: str, category: CategorySpec) -> None:
        """``also`` names categories; ``only`` names rules of the same category."""
        for rule in category.rules:
            for other in rule.also:
                if other not in self.spec.categories:
                    self._fail(f"{name}: {rule.id}", f"'also' names unknown category {other}")
        own = {r.id for r in category.rules}
        for exclusion in category.exclusions:
            self._known_rules(f"{name}: {exclusion.id}", exclusion.only, own)

    def _unique(self, rule_id: str, seen: set[str]) -> None:
        if rule_id in seen:
            self._fail(rule_id, "this id is used twice; ids must be unique")
        seen.add(rule_id)

    def _known_rules(self, where: str, only: Sequence[str], known: set[str]) -> None:
        for rule_id in only:
            if rule_id not in known:
                self._fail(where, f"'only' names {rule_id}, which is not a rule it can exclude")

    # --- categories, rules, exclusions ---

    def _category(self, name: str, spec: CategorySpec) -> Category:
        rules = tuple(self._rule(name, r) for r in spec.rules)
        exclusions = tuple(self._exclusion(f"{name}: {e.id}", e) for e in spec.exclusions)
        return Category(name, spec.description, rules, exclusions)

    def _rule(self, category: str, spec: RuleSpec) -> Rule:
        matchers = self._matchers(f"{category}: {spec.id}", spec, negatable=spec.negatable)
        also = tuple(dict.fromkeys(c for c in spec.also if c != category))
        senders = frozenset(spec.senders)
        return Rule(spec.id, category, (category, *also), matchers, spec.negatable, senders)

    def _check_not_negated(self, where: str, phrase: str, piece: _Piece) -> None:
        """A negatable rule whose own words negate would never match: refuse it."""
        clash = sorted(piece.words & self._cue_words)
        if clash:
            self._fail(
                where,
                f"phrase {phrase!r} contains the negation word {clash[0]!r}, so this "
                "negatable rule would cancel itself; move it to a rule that is not negatable",
            )

    @cached_property
    def _cue_words(self) -> frozenset[str]:
        """The single-word negation cues ("never", "didnt"; not "no one")."""
        words: set[str] = set()
        for cue in self.spec.negation.cues:
            for token in _split(cue, str.isspace) or []:
                pieces = _split(token, "|".__eq__) or []
                words.update(p for p in pieces if _PLAIN_WORD.fullmatch(p))
        return frozenset(words)

    def _exclusion(self, where: str, spec: ExclusionSpec) -> Exclusion:
        matchers = self._matchers(where, spec)
        return Exclusion(spec.id, matchers, spec.scope == "sentence", frozenset(spec.only))

    def _matchers(
        self, where: str, spec: MatchersSpec, *, negatable: bool = False
    ) -> tuple[Matcher, ...]:
        phrases = [self._phrase(where, p, negatable=negatable) for p in spec.phrases]
        patterns = [self._matcher(self._pattern(where, p), ()) for p in spec.patterns]
        return (*phrases, *patterns)

    def _matcher(self, regex: re.Pattern[str], anchors: tuple[frozenset[str], ...]) -> Matcher:
        matcher = Matcher(regex, anchors, len(self._matchers_made))
        self._matchers_made.append(matcher)
        return matcher

    def _negation(self) -> Negation:
        spec = self.spec.negation
        cues = self._alternation("negation: cues", spec.cues)
        not_negation = spec.not_negation
        return Negation(
            cues=cues,
            not_negation=(
                self._alternation("negation: not_negation", not_negation) if not_negation else None
            ),
            window=spec.window,
        )

    def _alternation(self, where: str, phrases: Iterable[str]) -> re.Pattern[str]:
        body = "|".join(_bounded(self._phrase_body(where, p, ()).regex) for p in phrases)
        return self._regex(where, body)

    # --- phrases and patterns ---

    def _phrase(self, where: str, phrase: str, *, negatable: bool = False) -> Matcher:
        piece = self._phrase_body(where, phrase, ())
        if negatable:
            self._check_not_negated(where, phrase, piece)
        return self._matcher(
            self._regex(where, _bounded(piece.regex), shown=phrase), piece.required
        )

    def _pattern(self, where: str, pattern: str) -> re.Pattern[str]:
        def expand(found: re.Match[str]) -> str:
            return self._term(where, found.group(1), ()).regex

        return self._regex(where, _TERM_REF.sub(expand, pattern), shown=pattern)

    def _regex(self, where: str, pattern: str, shown: str | None = None) -> re.Pattern[str]:
        what = repr(shown if shown is not None else pattern)
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            self._fail(where, f"pattern {what} does not compile: {error}")
        if compiled.match("") is not None:
            self._fail(where, f"pattern {what} matches empty text")
        return compiled

    def _phrase_body(self, where: str, phrase: str, expanding: tuple[str, ...]) -> _Piece:
        items = self._phrase_items(where, phrase)
        if len(items) == 1 and items[0] not in _MARKS:
            # one word position: keep its spellings, so alternations of it can merge
            piece = self._token(where, items[0], expanding)
            return replace(piece, required=_ordered([piece.anchors]))
        assembly = _Assembly()
        for item in items:
            if item in _SKIPS:
                assembly.skip = _SKIPS[item]
            elif item in _EDGES:
                assembly.add_edge(_EDGES[item])
            elif _encloses(item, "[", "]"):
                assembly.add_optional(self._alternatives(where, item[1:-1], expanding))
            else:
                assembly.add_word(self._token(where, item, expanding))
        return assembly.piece()

    def _phrase_items(self, where: str, phrase: str) -> list[str]:
        """The word positions of a phrase, checked: brackets, skips, ``^`` and ``$``."""
        split = _split(phrase, str.isspace)
        if split is None:
            self._fail(where, f"phrase {phrase!r} has unbalanced brackets")
        items = [item for item in split if item]
        if all(t in _MARKS or t == "_" or _encloses(t, "[", "]") for t in items):
            self._fail(where, f"phrase {phrase!r} has no required word")
        for before, after in pairwise(items):
            if before in _SKIPS and (after in _SKIPS or after == "$"):
                self._fail(where, f"phrase {phrase!r} has {before!r} before {after!r}")
        if items[-1] in _SKIPS:
            self._fail(where, f"phrase {phrase!r} ends with a skip ('*', '**' or '~')")
        if "^" in items[1:] or "$" in items[:-1]:
            self._fail(where, f"phrase {phrase!r}: '^' can only come first and '$' last")
        return items

    def _alternatives(self, where: str, inner: str, expanding: tuple[str, ...]) -> _Piece:
        """``a b|c`` inside brackets: alternative sub-phrases."""
        pieces = _split(inner, "|".__eq__)
        if not pieces or not all(p.strip() for p in pieces):
            self._fail(where, f"empty alternative in ({inner})")
        return _either([self._phrase_body(where, p, expanding) for p in pieces])

    def _token(self, where: str, token: str, expanding: tuple[str, ...]) -> _Piece:
        """One word position: ``word``, ``a|b``, ``{term}``, ``(a b|c)`` or a mix by ``|``."""
        pieces = _split(token, "|".__eq__)
        if not pieces or not all(pieces):
            self._fail(where, f"cannot read {token!r}: an alternative is empty")
        out: list[_Piece] = []
        for piece in pieces:
            reference = _TERM_REF.fullmatch(piece)
            if piece == "_":
                out.append(_Piece(_ANY_WORD, None))
            elif reference:
                out.append(self._term(where, reference.group(1), expanding))
            elif _encloses(piece, "(", ")"):
                out.append(self._alternatives(where, piece[1:-1], expanding))
            elif any(c in piece for c in "()[]{}"):
                self._fail(where, f"cannot read {piece!r}: use {{term}}, (a|b c), [optional]")
            else:
                out.append(_word(piece))
        return _either(out)

    def _term(self, where: str, name: str, expanding: tuple[str, ...]) -> _Piece:
        if name in self.spec.snippets:
            return _Piece(f"(?:{self.spec.snippets[name]})", None, frozenset())
        if name in self._terms:
            return self._terms[name]
        if name in expanding:
            self._fail(where, f"term {{{name}}} refers to itself")
        phrases = self.spec.terms.get(name)
        if phrases is None:
            self._fail(where, f"unknown term {{{name}}}")
        inner = (*expanding, name)
        piece = _either([self._phrase_body(f"terms: {name}", p, inner) for p in phrases])
        self._terms[name] = piece
        return piece

    def _fail(self, where: str, message: str) -> NoReturn:
        raise RulesError(f"{self.source}: {where}: {message}")


def _index(matchers: Iterable[Matcher]) -> AnchorIndex:
    """Each matcher filed under the words of its most selective anchor set."""
    by_anchor: dict[str, set[int]] = {}
    always: set[int] = set()
    prefixes: set[str] = set()
    for matcher in matchers:
        for anchors in matcher.anchors:
            prefixes.update(a[:-1] for a in anchors if a.endswith("*"))
        if not matcher.anchors:
            always.add(matcher.serial)
            continue
        for anchor in matcher.anchors[0]:
            by_anchor.setdefault(anchor, set()).add(matcher.serial)
    implied = {p: tuple(f"{q}*" for q in sorted(prefixes) if p.startswith(q)) for p in prefixes}
    spellings = [(tuple(re.escape(c) for c in p), False) for p in sorted(prefixes)]
    prefix_regex = re.compile(rf"(?<!\w){_trie(spellings)}") if spellings else None
    return AnchorIndex(
        {a: frozenset(s) for a, s in by_anchor.items()}, frozenset(always), prefix_regex, implied
    )


def _bounded(regex: str) -> str:
    """A phrase's regex matched as whole words."""
    return rf"(?<!\w)(?:{regex})(?!\w)"


def _either(pieces: Sequence[_Piece]) -> _Piece:
    """Alternatives: any of the regexes; anchors are the union (None if any has none)."""
    if len(pieces) == 1:
        return pieces[0]
    spellings: tuple[_Spelling, ...] | None = None
    if all(p.spellings is not None for p in pieces):
        spellings = tuple(dict.fromkeys(s for p in pieces for s in p.spellings or ()))
        regex = _trie(spellings)
    else:
        regex = "(?:" + "|".join(p.regex for p in pieces) + ")"
    words = frozenset().union(*(p.words for p in pieces))
    anchors: set[str] = set()
    for piece in pieces:
        if piece.anchors is None:
            return _Piece(regex, None, words, spellings=spellings)
        anchors |= piece.anchors
    return _Piece(regex, frozenset(anchors), words, spellings=spellings)


def _trie(spellings: Sequence[_Spelling]) -> str:
    """Plain words as a character trie, ``(?:k(?:il{1,2}|ick))``: fails fast on a wrong start."""
    root: dict[str, Any] = {}
    for atoms, prefix in spellings:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[_PREFIX if prefix else _END] = {}
    return _trie_node(root)


_END = ""
_PREFIX = "*"


def _trie_node(node: dict[str, Any]) -> str:
    if _PREFIX in node:
        return r"\w*"  # anything may follow, so the longer words below add nothing
    branches = [atom + _trie_node(child) for atom, child in node.items() if atom != _END]
    if _END in node:
        branches.append("")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def _selectivity(anchors: frozenset[str]) -> tuple[bool, bool, int]:
    """Sort key: sets without common words first, then without prefixes, then smaller."""
    common = any(w.rstrip("*") in _COMMON for w in anchors)
    return common, any(w.endswith("*") for w in anchors), len(anchors)


def _best(required: Sequence[Anchors]) -> Anchors:
    """The most selective anchors among a phrase's required word positions."""
    usable = [a for a in required if a is not None]
    return min(usable, key=_selectivity) if usable else None


def _ordered(required: Sequence[Anchors]) -> tuple[frozenset[str], ...]:
    """Every usable anchor set of a phrase, most selective first (checked in this order)."""
    return tuple(sorted({a for a in required if a is not None}, key=_selectivity))


def _word(word: str) -> _Piece:
    """One word: doubled letters may be single, a trailing ``*`` makes it a prefix."""
    prefix = word.endswith("*") and len(word) > 1
    stem = word[:-1] if prefix else word
    out: list[str] = []
    for index, char in enumerate(stem):
        if index and char == stem[index - 1] and char.isalpha():
            out[-1] = re.escape(char) + "{1,2}"
        else:
            out.append(re.escape(char))
    regex = "".join(out) + (r"\w*" if prefix else "")
    anchor = word_key(stem) + ("*" if prefix else "")
    plain = _PLAIN_WORD.fullmatch(word) is not None
    return _Piece(
        regex,
        frozenset({anchor}) if plain else None,
        frozenset({word}),
        spellings=((tuple(out), prefix),),
    )


def _split(text: str, is_separator: Callable[[str], bool]) -> list[str] | None:
    """``text`` split where ``is_separator`` is true outside brackets; None if unbalanced."""
    parts: list[str] = []
    current: list[str] = []
    closing: list[str] = []
    for char in text:
        if char in _BRACKETS:
            closing.append(_BRACKETS[char])
        elif char in _BRACKETS.values() and (not closing or closing.pop() != char):
            return None
        if not closing and is_separator(char):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if closing:
        return None
    parts.append("".join(current))
    return parts


def _encloses(token: str, opening: str, closing: str) -> bool:
    """True if ``token`` is one bracketed group, ``(...)`` or ``[...]``, and not empty."""
    if len(token) < 3 or token[0] != opening or token[-1] != closing:
        return False
    depth = 0
    for index, char in enumerate(token):
        if char in _BRACKETS:
            depth += 1
        elif char in _BRACKETS.values():
            depth -= 1
            if depth == 0 and index != len(token) - 1:
                return False
    return depth == 0
