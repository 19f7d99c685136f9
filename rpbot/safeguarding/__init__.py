"""Safeguarding screener: a pure, data-driven classifier of messages from parents and children.

    >>> from rpbot.safeguarding import screen
    >>> screen("I'm dying to see them on Saturday").concern
    False
    >>> screen("he said its our secret").categories
    ('secret_with_adult',)

The rules are data, one YAML file per language in ``dialogues/safeguarding/`` (``en.yaml``), so a
service can review them; see :mod:`rpbot.safeguarding.rules` for the format. :func:`screen`
loads them once per process. A language without a rules file (or an unreadable language code)
falls back to the English rules: better an English rule that might match than no screening.
Callers that load their own rules use ``Screener(load_rules(path)).screen(text)``.

A second layer catches some of what the rules miss: a small trained classifier, also data
(``model_<language>.json`` beside the rules file, written by ``bench/safeguarding_train.py``),
run in pure Python (:mod:`rpbot.safeguarding.classifier`). A message is a concern when the
rules flag it OR the model's probability reaches the threshold stored with it. A rules folder
without a model file screens with the rules alone; ``Screener(rules, load_model(path))`` uses
both.

This package is pure: no Telegram, database, event loop, operating system or logging imports
(a test checks), and it never records what it screens.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rpbot.safeguarding.classifier import Classifier, ModelError, load_model, parse_model
from rpbot.safeguarding.model import Rules, RulesError
from rpbot.safeguarding.normalise import Normalised, normalise
from rpbot.safeguarding.rules import load_rules, parse_rules
from rpbot.safeguarding.screener import NO_CONCERN, Match, Screener, Screening

__all__ = [
    "CATEGORIES",
    "DEFAULT_RULES_DIR",
    "FALLBACK_LANGUAGE",
    "NO_CONCERN",
    "Classifier",
    "Match",
    "ModelError",
    "Normalised",
    "Rules",
    "RulesError",
    "Screener",
    "Screening",
    "default_screener",
    "load_model",
    "load_rules",
    "model_path",
    "normalise",
    "parse_model",
    "parse_rules",
    "rules_path",
    "screen",
]

#: The shipped rules (``dialogues/safeguarding/`` at the project root, beside the dialogues).
DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent.parent / "dialogues" / "safeguarding"
#: The language used when there are no rules for the one asked for.
FALLBACK_LANGUAGE = "en"
#: The categories every shipped rules file has.
CATEGORIES = (
    "danger_now",
    "domestic_abuse",
    "harm_by_parent",
    "harm_to_child",
    "secret_with_adult",
    "self_harm",
    "substance_misuse",
)
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@lru_cache(maxsize=64)
def rules_path(language: str = FALLBACK_LANGUAGE, rules_dir: Path | None = None) -> Path:
    """The rules file for ``language`` ("en", "en-GB", "cy"), or the English one if none."""
    folder = DEFAULT_RULES_DIR if rules_dir is None else rules_dir
    code = language.strip().lower().replace("_", "-").partition("-")[0]
    if _LANGUAGE.fullmatch(code):
        candidate = folder / f"{code}.yaml"
        if candidate.is_file():
            return candidate
    return folder / f"{FALLBACK_LANGUAGE}.yaml"


def model_path(rules: Path) -> Path | None:
    """The model file beside the rules file ``rules`` (``en.yaml``: ``model_en.json``), if any."""
    candidate = rules.with_name(f"model_{rules.stem}.json")
    return candidate if candidate.is_file() else None


@lru_cache(maxsize=16)
def _screener(path: Path) -> Screener:
    model = model_path(path)
    return Screener(load_rules(path), None if model is None else load_model(model))


def default_screener(language: str = FALLBACK_LANGUAGE, rules_dir: Path | None = None) -> Screener:
    """The screener for ``language`` from ``rules_dir`` (default: the shipped rules), cached.

    It uses the rules file and, when there is one beside it, the model file.
    """
    return _screener(rules_path(language, rules_dir))


def screen(
    text: str,
    language: str = FALLBACK_LANGUAGE,
    *,
    sender: str | None = None,
    rules_dir: Path | None = None,
) -> Screening:
    """Screen one message with the rules for ``language`` (English if there are none).

    ``sender`` ("parent" or "child"), when known, skips the rules meant only for the other
    (a child's "I hit him" is about a sibling, not a parent hurting a child). ``rules_dir`` is a
    folder of ``<language>.yaml`` rules files, for a service that keeps its own (for example
    ``Settings.dialogues_dir / "safeguarding"``); the rules are loaded once.
    """
    return default_screener(language, rules_dir).screen(text, sender)
