"""The rules file: its phrase syntax, and a clear error for every kind of broken file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from textwrap import dedent

import pytest

from rpbot.safeguarding import (
    CATEGORIES,
    DEFAULT_RULES_DIR,
    Rules,
    RulesError,
    Screener,
    load_rules,
    parse_rules,
)

HEADER = """\
language: en
version: 1
negation:
  cues: [never|not|didnt]
  not_negation: ["(didnt|did not) mean to"]
terms:
  child: [him|her, "my son|daughter"]
  grown_up: ["[my] mum|dad", "{child} teacher"]
snippets:
  digits: '\\d+'
"""


def rules_with(body: str, idioms: str = "") -> Rules:
    """Rules from the header, one category ``test`` holding ``body`` (YAML, rules: ...)."""
    text = HEADER + idioms + "categories:\n  test:\n    description: a test\n" + body
    return parse_rules(dedent(text), source="test.yaml")


def one_rule(*phrases: str, negatable: bool = False, patterns: tuple[str, ...] = ()) -> Screener:
    lines = ["    rules:", "      - id: test.rule", f"        negatable: {str(negatable).lower()}"]
    if phrases:
        lines.append("        phrases:")
        lines += [f"          - {json.dumps(phrase)}" for phrase in phrases]
    if patterns:
        lines.append("        patterns:")
        lines += [f"          - {json.dumps(pattern)}" for pattern in patterns]
    return Screener(rules_with("\n".join(lines) + "\n"))


def found(screener: Screener, text: str) -> list[str]:
    return [m.text for m in screener.screen(text).evidence]


# --- phrase syntax ---


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        ("kill", "I could KILL", ["KILL"]),
        ("kill", "kil", ["kil"]),  # a doubled letter may be single
        ("kill", "killl", ["killl"]),  # ... and "killl" is squeezed to "kil"
        ("kill", "skill", []),  # whole words only
        ("smack*", "he smacked and smacks", ["smacked", "smacks"]),
        ("hit|hits him", "hits him", ["hits him"]),
        ("(going to|gonna) go", "gonna go", ["gonna go"]),
        ("[really] sad", "really sad", ["really sad"]),
        ("[really] sad", "so sad", ["sad"]),
        ("told me * not to tell", "told me not to tell", ["told me not to tell"]),
        (
            "told me * not to tell",
            "told me very firmly not to tell",
            ["told me very firmly not to tell"],
        ),
        ("told me * not to tell", "told me one two three four not to tell", []),
        (
            "told me ** tell",
            "told me one two three four to tell",
            ["told me one two three four to tell"],
        ),
        ("hit _ hard", "hit Mia hard", ["hit Mia hard"]),
        ("hit {child}", "hit my son", ["hit my son"]),
        ("{grown_up} said", "her teacher said", ["her teacher said"]),  # terms use terms
        ("{grown_up} said", "mum said", ["mum said"]),
        ("^ help $", "help!", ["help"]),
        ("^ help $", "please, help.", ["help"]),
        ("^ help $", "help me with this", []),
        ("room {digits}", "room 101", ["room 101"]),  # a snippet inside a phrase
        ("hit him", "hit. him", []),  # never across a sentence end
        ("boyfriend ~ hes {digits}", "her boyfriend. He's 24", ["boyfriend. He's 24"]),  # ~ may
        ("boyfriend ~ hes {digits}", "boyfriend hes 24", ["boyfriend hes 24"]),
        ("boyfriend ~ hes {digits}", "boyfriend\nhes 24", []),  # ... but not across a line
        ("boyfriend ~ hes {digits}", "boyfriends hes 24", []),  # whole words still
    ],
)
def test_phrase_syntax(phrase: str, text: str, expected: list[str]) -> None:
    assert found(one_rule(phrase), text) == expected


def test_patterns_are_regular_expressions_with_terms() -> None:
    screener = one_rule(patterns=(r"\broom \d+ for {child}\b",))
    assert found(screener, "Room 12 for her") == ["Room 12 for her"]


def test_negatable_rules() -> None:
    screener = one_rule("hit {child}", negatable=True)
    assert found(screener, "I hit him") == ["hit him"]
    assert found(screener, "I would never hit him") == []
    assert found(screener, "I never said that, then I hit him") == ["hit him"]
    assert found(screener, "I didnt mean to hit him") == ["hit him"]


def test_exclusions_by_span_sentence_and_rule() -> None:
    body = """\
    rules:
      - id: test.hit
        phrases: [hit]
      - id: test.smack
        phrases: [smack]
    exclusions:
      - id: test.roof
        phrases: [hit the roof]
      - id: test.game
        scope: sentence
        only: [test.smack]
        phrases: [game]
"""
    screener = Screener(rules_with(body))
    assert found(screener, "he hit the roof") == []
    assert found(screener, "smack in the game. hit") == ["hit"]
    assert found(screener, "hit in the game. smack") == ["hit", "smack"]


def test_idioms_apply_to_every_category() -> None:
    idioms = "idioms:\n  - id: idiom.beat\n    phrases: [beat the traffic]\n"
    screener = Screener(
        rules_with("    rules:\n      - id: t.beat\n        phrases: [beat]\n", idioms)
    )
    assert found(screener, "left early to beat the traffic") == []
    assert found(screener, "he beat me") == ["beat"]


def test_reassurances_never_cancel_a_rules_match_and_need_unique_ids() -> None:
    reassurances = "reassurances:\n  - id: reassure.beat\n    phrases: [nobody beat* me]\n"
    screener = Screener(
        rules_with("    rules:\n      - id: t.beat\n        phrases: [beat]\n", reassurances)
    )
    assert found(screener, "nobody beat me") == ["beat"]  # only hidden from the model
    assert len(screener.rules.reassurances) == 1
    clash = "reassurances:\n  - id: t.beat\n    phrases: [nobody beat* me]\n"
    with pytest.raises(RulesError, match=r"t\.beat"):
        rules_with("    rules:\n      - id: t.beat\n        phrases: [beat]\n", clash)


def test_also_adds_categories() -> None:
    text = HEADER + dedent("""\
        categories:
          first:
            description: one
            rules:
              - {id: first.rule, phrases: [boo], also: [second]}
          second:
            description: two
            rules:
              - {id: second.rule, phrases: [zzz]}
        """)
    result = Screener(parse_rules(text)).screen("boo")
    assert result.categories == ("first", "second")
    assert {m.rule for m in result.evidence} == {"first.rule"}


# --- the shipped rules ---


def test_the_shipped_rules_load_with_every_category() -> None:
    rules = load_rules(DEFAULT_RULES_DIR / "en.yaml")
    assert rules.language == "en"
    assert set(rules.category_names) == set(CATEGORIES)
    for category in rules.categories:
        assert category.description
        assert category.rules, category.name
    ids = [rule.id for rule in rules.rules]
    assert len(ids) == len(set(ids))


def test_the_shipped_phrases_all_have_anchors() -> None:
    # a phrase without anchors would run its regex on every message; keep screening fast
    rules = load_rules(DEFAULT_RULES_DIR / "en.yaml")
    unanchored = [r.id for r in rules.rules for m in r.matchers if not m.anchors]
    assert unanchored == []


# --- broken files: every error names the file and what is wrong ---


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


RULE = "categories:\n  test:\n    description: x\n    rules:\n      - id: test.rule\n"


def rule(lines: str) -> str:
    """A whole file whose one rule, ``test.rule``, ends with ``lines`` (indented as in YAML)."""
    return HEADER + RULE + lines + "\n"


BROKEN = [
    ("language: en\nversion: 1\ncategories: [oops\n", "not valid YAML"),
    (HEADER + "colour: blue\ncategories: {}\n", "colour: Extra inputs are not permitted"),
    (
        rule("        phrase: [x]"),
        r"categories\.test\.rules\.0 \(test\.rule\)\.phrase: Extra inputs are not permitted",
    ),
    (rule("        negatable: true"), "give at least one phrase or pattern"),
    (
        rule("        patterns: ['(kms']"),
        r"test\.rule: pattern '\(kms' does not compile: missing \)",
    ),
    (rule("        patterns: ['a*']"), r"test\.rule: pattern 'a\*' matches empty text"),
    (rule("        phrases: ['hit {kid}']"), r"test\.rule: unknown term \{kid\}"),
    (
        HEADER.replace("terms:\n", "terms:\n  loop: ['{loop} again']\n")
        + RULE
        + "        phrases: ['{loop}']\n",
        r"terms: loop: term \{loop\} refers to itself",
    ),
    (rule("        phrases: ['hit (him']"), r"test\.rule: phrase 'hit \(him' has unbalanced"),
    (rule("        phrases: ['[maybe] *']"), r"phrase '\[maybe\] \*' has no required word"),
    (rule("        phrases: ['hit *']"), r"phrase 'hit \*' ends with a skip"),
    (rule("        phrases: ['hit * ** him']"), r"phrase 'hit \* \*\* him' has '\*' before"),
    (rule("        phrases: ['hit ^ him']"), r"'\^' can only come first and '\$' last"),
    (
        rule("        negatable: true\n        phrases: ['not safe']"),
        r"test\.rule: phrase 'not safe' contains the negation word 'not'",
    ),
    (
        rule("        phrases: [a]\n        also: [nowhere]"),
        r"test\.rule: 'also' names unknown category nowhere",
    ),
    (
        rule("        phrases: [a]\n      - id: test.rule\n        phrases: [b]"),
        r"test\.rule: this id is used twice",
    ),
    (
        rule("        phrases: [a]\n    exclusions:\n      - {id: t.x, phrases: [b], only: [t.y]}"),
        r"test: t\.x: 'only' names t\.y",
    ),
    (
        HEADER + "categories:\n  test:\n    description: x\n    description: y\n",
        r"not valid YAML: .*duplicate key 'description'",
    ),
    (
        rule("        phrases: [a]\n        senders: [teacher]"),
        r"rules\.0 \(test\.rule\)\.senders\.0: Input should be 'parent' or 'child'",
    ),
    (
        rule("        phrases: [a]").replace("language: en", "language: English"),
        "language: String should match pattern",
    ),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_broken_rules_files_are_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert str(path) in str(raised.value)
    assert re.search(message, str(raised.value)), str(raised.value)


def test_a_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"missing\.yaml: cannot be read"):
        load_rules(tmp_path / "missing.yaml")
