"""The screener's second layer: a small trained text classifier, run in pure Python.

The rules (:mod:`rpbot.safeguarding.rules`) catch the words someone listed; this model catches
some of the concerns put in words nobody listed. A message is a concern when the rules flag it
OR the model's probability is at least its threshold (see :class:`Screener`).

The model is data, like the rules: ``dialogues/safeguarding/model_<language>.json``, written by
``bench/safeguarding_train.py`` (scikit-learn, offline, a dev dependency). At run time nothing
but this module is needed; it recomputes exactly what scikit-learn computes (a test checks it
against ``predict_proba`` to 1e-6):

1. the normalised text (:func:`rpbot.safeguarding.normalise.normalise`, as the rules see it);
2. per *block* of features: word 1-2-grams (``TfidfVectorizer(analyzer="word")``: tokens of two
   or more word characters) or character 3-5-grams inside word boundaries (``analyzer=
   "char_wb"``); counts of the n-grams in the block's vocabulary, times their idf, the block's
   vector scaled to unit length (l2) and then by the block's weight;
3. one feature for the sender ("parent" or "child"; none when not known);
4. a logistic regression per output: ``concern`` (is this a safeguarding concern at all) and one
   per category (which concern, trained on concerns only, one-vs-rest).

File format (JSON, keys sorted): ``outputs`` names the outputs (``concern`` first, then the
categories); ``intercepts[i]`` and every weight row ``[...][i]`` follow that order; each block
holds ``features: {ngram: [idf, weight_0, weight_1, ...]}``; ``sender: {parent: [weights],
child: [weights]}``; ``threshold`` is the ``concern`` probability that counts as a concern;
``category_thresholds`` the probability at which a category is named (the most likely category
is always named). Nothing here logs, and the words are never kept.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rpbot.safeguarding.model import RulesError, read_source
from rpbot.safeguarding.normalise import Normalised, normalise

__all__ = [
    "Block",
    "Classifier",
    "ModelError",
    "Prediction",
    "char_wb_ngrams",
    "load_model",
    "parse_model",
    "word_ngrams",
]

#: scikit-learn's default ``token_pattern``: words of two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
#: scikit-learn's whitespace squeeze before character n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")
#: A word as ``char_wb`` sees it: a run of non-space characters.
_WORD = re.compile(r"\S+")
FORMAT = 1
ANALYZERS = ("word", "char_wb")


class ModelError(RulesError):
    """A model file that cannot be used; the message names the file and what is wrong."""


def word_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``analyzer="word"`` n-grams of already preprocessed ``text``."""
    tokens = _TOKEN.findall(text)
    return _join_ngrams(tokens, min_n, max_n)


def _join_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``analyzer="char_wb"`` n-grams of already preprocessed ``text``."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        grams.extend(_word_char_ngrams(word, min_n, max_n))
    return grams


def _word_char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:  # a short word counts once, whole
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


@dataclass(frozen=True, slots=True)
class Block:
    """One tf-idf block: n-grams of one kind, their idf and one weight per output."""

    analyzer: str
    min_n: int
    max_n: int
    sublinear_tf: bool
    weight: float
    index: Mapping[str, int]
    idf: Sequence[float]
    weights: Sequence[Sequence[float]]

    def ngrams(self, text: str) -> list[str]:
        """The n-grams of normalised ``text`` this block counts (in or out of its vocabulary)."""
        if self.analyzer == "word":
            return word_ngrams(text, self.min_n, self.max_n)
        return char_wb_ngrams(text, self.min_n, self.max_n)

    def vector(self, text: str) -> dict[int, float]:
        """The block's scaled tf-idf vector of normalised ``text``: feature number → value."""
        index = self.index
        counts: dict[int, int] = {}
        for gram in self.ngrams(text):
            number = index.get(gram)
            if number is not None:
                counts[number] = counts.get(number, 0) + 1
        idf = self.idf
        if self.sublinear_tf:
            values = {n: (1.0 + math.log(c)) * idf[n] for n, c in counts.items()}
        else:
            values = {n: c * idf[n] for n, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        if not norm:
            return {}
        scale = self.weight / norm
        return {n: v * scale for n, v in values.items()}


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the model says about one message."""

    probability: float
    concern: bool
    categories: tuple[str, ...]


class Classifier:
    """A loaded model; build once (see :func:`load_model`), call :meth:`predict` many times."""

    def __init__(
        self,
        *,
        source: str,
        language: str,
        outputs: Sequence[str],
        intercepts: Sequence[float],
        blocks: Sequence[Block],
        sender: Mapping[str, Sequence[float]],
        threshold: float,
        category_thresholds: Mapping[str, float],
    ) -> None:
        self.source = source
        self.language = language
        self.outputs = tuple(outputs)
        self.categories = self.outputs[1:]
        self.intercepts = tuple(intercepts)
        self.blocks = tuple(blocks)
        self.sender = dict(sender)
        self.threshold = threshold
        self.category_thresholds = dict(category_thresholds)

    def vectors(self, text: str) -> list[dict[int, float]]:
        """Each block's vector of normalised ``text``."""
        return [block.vector(text) for block in self.blocks]

    def decision(
        self, vectors: Sequence[Mapping[int, float]], sender: str | None, output: int
    ) -> float:
        """The logistic regression's log-odds for output number ``output``."""
        total = self.intercepts[output]
        for block, vector in zip(self.blocks, vectors, strict=True):
            weights = block.weights
            for number, value in vector.items():
                total += value * weights[number][output]
        if sender is not None and sender in self.sender:
            total += self.sender[sender][output]
        return total

    def probability(self, text: str, sender: str | None = None) -> float:
        """The probability that raw ``text`` (not normalised) is a safeguarding concern."""
        return self.concern_probability(normalise(text).text, sender)

    def concern_probability(self, normalised_text: str, sender: str | None = None) -> float:
        """:meth:`probability` of already normalised text."""
        return _sigmoid(self.decision(self.vectors(normalised_text), sender, 0))

    def category_probabilities(
        self, normalised_text: str, sender: str | None = None
    ) -> dict[str, float]:
        """Per category, the probability that a concern in ``normalised_text`` is of that kind."""
        vectors = self.vectors(normalised_text)
        return {
            name: _sigmoid(self.decision(vectors, sender, number))
            for number, name in enumerate(self.outputs[1:], 1)
        }

    def predict(self, text: str, sender: str | None = None) -> Prediction:
        """Is ``text`` a concern, and if so of which categories (most likely at least)."""
        return self.predict_normalised(normalise(text).text, sender)

    def predict_normalised(self, normalised_text: str, sender: str | None = None) -> Prediction:
        """:meth:`predict` of already normalised text."""
        vectors = self.vectors(normalised_text)
        probability = _sigmoid(self.decision(vectors, sender, 0))
        if probability < self.threshold:
            return Prediction(probability, False, ())
        return Prediction(probability, True, self._categories(vectors, sender))

    def _categories(
        self, vectors: Sequence[Mapping[int, float]], sender: str | None
    ) -> tuple[str, ...]:
        scores = {
            name: _sigmoid(self.decision(vectors, sender, number))
            for number, name in enumerate(self.outputs[1:], 1)
        }
        if not scores:
            return ()
        best = max(sorted(scores), key=lambda name: scores[name])
        chosen = {n for n, p in scores.items() if p >= self.category_thresholds.get(n, 0.5)}
        return tuple(sorted(chosen | {best}))

    def evidence(
        self, normalised: Normalised, sender: str | None = None, most: int = 3
    ) -> list[tuple[int, int]]:
        """Spans of the original text: the words that pushed the ``concern`` score up most.

        Each n-gram's share of the score (its value times its weight) is given to the word it
        lies in (a word pair: half to each word); the ``most`` words scoring highest, and at
        least half the best one's score, are kept, and neighbouring kept words are joined into
        one phrase. Spans are of the original text (via ``normalised``); empty if no word
        pushed the score up.
        """
        text = normalised.text
        words = [(found.start(), found.end()) for found in _WORD.finditer(text)]
        if not words:
            return []
        scores = [0.0] * len(words)
        for block in self.blocks:
            self._credit(block, text, words, scores)
        ranked = sorted(range(len(words)), key=lambda i: (-scores[i], i))[:most]
        best = scores[ranked[0]]
        if best <= 0:
            return []
        kept = sorted(i for i in ranked if scores[i] > 0 and scores[i] >= best / 2)
        phrases: list[list[int]] = []
        for number in kept:
            if phrases and phrases[-1][-1] == number - 1:
                phrases[-1].append(number)
            else:
                phrases.append([number])
        return [
            normalised.original_span(words[phrase[0]][0], words[phrase[-1]][1])
            for phrase in phrases
        ]

    def _credit(
        self, block: Block, text: str, words: list[tuple[int, int]], scores: list[float]
    ) -> None:
        """Add each word's share of ``block``'s contribution to the ``concern`` score."""
        vector = block.vector(text)
        if not vector:
            return
        counts: dict[int, int] = {}
        located: list[tuple[int, list[int]]] = []  # (feature, words it lies in)
        if block.analyzer == "char_wb":
            for number, (start, end) in enumerate(words):
                for gram in _word_char_ngrams(text[start:end], block.min_n, block.max_n):
                    feature = block.index.get(gram)
                    if feature is not None:
                        located.append((feature, [number]))
        else:
            tokens = [(f.group(), f.start()) for f in _TOKEN.finditer(text)]
            starts = [start for start, _ in words]
            owner = [_owner(starts, start) for _, start in tokens]
            for n in range(block.min_n, block.max_n + 1):
                for i in range(len(tokens) - n + 1):
                    gram = " ".join(token for token, _ in tokens[i : i + n])
                    feature = block.index.get(gram)
                    if feature is not None:
                        located.append((feature, sorted(set(owner[i : i + n]))))
        for feature, _ in located:
            counts[feature] = counts.get(feature, 0) + 1
        for feature, owners in located:
            share = vector[feature] * block.weights[feature][0] / counts[feature] / len(owners)
            for number in owners:
                scores[number] += share


def _owner(starts: list[int], position: int) -> int:
    """The number of the word (by start offsets) holding ``position``."""
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= position:
            low = middle
        else:
            high = middle - 1
    return low


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def load_model(path: Path | str) -> Classifier:
    """Read and check a model file; raise :class:`ModelError` if it is unusable."""
    text, source = read_source(path, ModelError)
    return parse_model(text, source=source)


def parse_model(text: str, source: str = "<model>") -> Classifier:
    """Check and load the JSON text of a model file; ``source`` names it in errors."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ModelError(f"{source}: not valid JSON: {error}") from error
    try:
        return _classifier(data, source)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        if isinstance(error, ModelError):
            raise
        raise ModelError(f"{source}: not a usable model: {error!r}") from error


def _classifier(data: Any, source: str) -> Classifier:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{source}: expected a JSON object with format {FORMAT}")
    outputs = [str(o) for o in data["outputs"]]
    if not outputs or outputs[0] != "concern":
        raise ModelError(f"{source}: outputs must start with 'concern'")
    width = len(outputs)
    intercepts = _floats(data["intercepts"], width, f"{source}: intercepts")
    sender = {
        str(name): _floats(row, width, f"{source}: sender {name}")
        for name, row in data["sender"].items()
    }
    blocks = [_block(spec, width, f"{source}: block {n}") for n, spec in enumerate(data["blocks"])]
    thresholds = {str(k): float(v) for k, v in data["category_thresholds"].items()}
    unknown = sorted(set(thresholds) - set(outputs[1:]))
    if unknown:
        raise ModelError(f"{source}: category_thresholds for unknown outputs {unknown}")
    threshold = float(data["threshold"])
    if not 0.0 < threshold < 1.0:
        raise ModelError(f"{source}: threshold must be between 0 and 1")
    return Classifier(
        source=source,
        language=str(data["language"]),
        outputs=outputs,
        intercepts=intercepts,
        blocks=blocks,
        sender=sender,
        threshold=threshold,
        category_thresholds=thresholds,
    )


def _block(spec: Any, width: int, where: str) -> Block:
    analyzer = str(spec["analyzer"])
    if analyzer not in ANALYZERS:
        raise ModelError(f"{where}: analyzer must be one of {', '.join(ANALYZERS)}")
    min_n, max_n = int(spec["ngram_range"][0]), int(spec["ngram_range"][1])
    if not 1 <= min_n <= max_n:
        raise ModelError(f"{where}: bad ngram_range")
    features = sorted(spec["features"].items())
    index = {str(gram): number for number, (gram, _) in enumerate(features)}
    rows = [_floats(row, width + 1, f"{where}: feature {gram!r}") for gram, row in features]
    return Block(
        analyzer=analyzer,
        min_n=min_n,
        max_n=max_n,
        sublinear_tf=bool(spec["sublinear_tf"]),
        weight=float(spec["weight"]),
        index=index,
        idf=[row[0] for row in rows],
        weights=[row[1:] for row in rows],
    )


def _floats(values: Any, width: int, where: str) -> list[float]:
    row = [float(v) for v in values]
    if len(row) != width or not all(math.isfinite(v) for v in row):
        raise ModelError(f"{where}: expected {width} finite numbers")
    return row
