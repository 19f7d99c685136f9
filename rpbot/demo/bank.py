"""The answer banks in ``answers.yaml``: made-up names and words, picked with a seeded random.

A bank entry may hold placeholders (``{child}``, ``{grown_up}``...) and a ``[home]`` or
``[contact]`` tag; :class:`Fill` says what a family can fill, and entries it cannot are left out.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

BANK_FILE = Path(__file__).with_name("answers.yaml")
MOODS = ("good", "mixed", "hard")
STAGES = ("home", "contact")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TAG = re.compile(r"^\[(home|contact)\] ")


def seeded(*parts: object) -> random.Random:
    """A random stream for one purpose, the same on every run for the same parts.

    Seeding with a string is stable across processes (unlike ``hash``); demo data needs
    repeatability, not secrecy.
    """
    return random.Random(":".join(["rpbot-demo", *map(str, parts)]))  # noqa: S311


class BankError(ValueError):
    """The answer bank file is malformed; the message names the key."""


@dataclass(frozen=True)
class Fill:
    """What a family's answers may mention: names by placeholder, and its stage."""

    values: Mapping[str, str] = field(default_factory=dict)
    stage: str = "home"

    def render(self, entry: str) -> str | None:
        """The entry with placeholders filled, or None if it does not fit this family."""
        tag = _TAG.match(entry)
        if tag is not None:
            if tag.group(1) != self.stage:
                return None
            entry = entry[tag.end() :]
        names = _PLACEHOLDER.findall(entry)
        if any(name not in self.values for name in names):
            return None
        return _PLACEHOLDER.sub(lambda m: self.values[m.group(1)], entry)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BankError(f"{where}: expected a list of strings")
    return list(value)


def _weights(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise BankError(f"{where}: expected option: weight pairs")
    out: dict[str, float] = {}
    for key, weight in value.items():
        if not isinstance(key, str) or not isinstance(weight, int | float):
            raise BankError(f"{where}: '{key}' needs a quoted option value and a number")
        out[key] = float(weight)
    return out


def _by_mood(value: Any, where: str, parse: Any) -> dict[str, Any]:
    """``{good: x, mixed: y, hard: z}`` or one value for every mood."""
    if isinstance(value, dict) and set(value) == set(MOODS):
        return {mood: parse(value[mood], f"{where}.{mood}") for mood in MOODS}
    parsed = parse(value, where)
    return dict.fromkeys(MOODS, parsed)


@dataclass(frozen=True)
class Bank:
    """Everything in ``answers.yaml``, checked and ready to pick from."""

    nations: dict[str, float]
    practitioners: list[str]
    surnames: dict[str, list[str]]
    first_names: dict[str, list[str]]
    skip_default: float
    texts: dict[str, dict[str, list[str]]]  # "flow.name" -> mood -> entries
    skip_chance: dict[str, float]
    yes_chance: dict[str, float]
    choices: dict[str, dict[str, dict[str, float]]]  # "flow.name" -> mood -> weights
    multi: dict[str, dict[str, dict[str, float]]]
    inverted_scales: frozenset[str]

    def text(self, key: str, mood: str, fill: Fill, rng: random.Random) -> str | None:
        """A bank text for ``flow.name`` that fits the family, or None if there is none."""
        entries = [e for e in (fill.render(x) for x in self.texts.get(key, {}).get(mood, [])) if e]
        return rng.choice(entries) if entries else None

    def weights(self, kind: str, key: str, mood: str, options: Sequence[str]) -> list[float]:
        """Weights for the options of a choice or multi question (missing ones weigh 1)."""
        table = (self.multi if kind == "multi" else self.choices).get(key, {}).get(mood, {})
        return [table.get(option, 1.0) for option in options]

    def skips(self, key: str) -> float:
        """How often an optional question is skipped."""
        return self.skip_chance.get(key, self.skip_default)

    def says_yes(self, key: str) -> float:
        """How often a yes/no question is answered yes."""
        return self.yes_chance.get(key, 0.6)


def parse_bank(data: Any) -> Bank:
    """Check and convert the loaded YAML (raise BankError naming the bad key)."""
    if not isinstance(data, dict):
        raise BankError("answers.yaml: expected a mapping at the top")
    texts = {
        f"{flow}.{name}": _by_mood(value, f"texts.{flow}.{name}", _strings)
        for flow, answers in data.get("texts", {}).items()
        for name, value in answers.items()
    }
    return Bank(
        nations=_weights(data["nations"], "nations"),
        practitioners=_strings(data["practitioners"], "practitioners"),
        surnames={k: _strings(v, f"surnames.{k}") for k, v in data["surnames"].items()},
        first_names={k: _strings(v, f"first_names.{k}") for k, v in data["first_names"].items()},
        skip_default=float(data.get("skip_default", 0.1)),
        texts=texts,
        skip_chance={str(k): float(v) for k, v in data.get("skip_chance", {}).items()},
        yes_chance={str(k): float(v) for k, v in data.get("yes_chance", {}).items()},
        choices={str(k): _by_mood(v, f"choices.{k}", _weights) for k, v in data["choices"].items()},
        multi={str(k): _by_mood(v, f"multi.{k}", _weights) for k, v in data["multi"].items()},
        inverted_scales=frozenset(_strings(data.get("inverted_scales", []), "inverted_scales")),
    )


@cache
def load_bank(path: Path = BANK_FILE) -> Bank:
    """The answer bank shipped with rpbot (read once per process)."""
    return parse_bank(yaml.safe_load(path.read_text(encoding="utf-8")))
