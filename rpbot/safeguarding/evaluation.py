"""Measuring the screener on labelled messages: recall and precision at the message level.

A labelled file (``tests/safeguarding/labelled_*.yaml``) is a list of messages, either at the top
level or under ``messages:``; each has ``text``, ``from`` (parent or child), ``expected`` (the
categories a practitioner would want flagged, ``[]`` for none) and optionally an ``id`` (default:
``<file stem>:<position>``). Other keys are ignored, so sets written by different people load.

Each message is screened as the bot would screen it: knowing who wrote it (``from``).
A message is a *true positive* when a concern is flagged and one is expected, a *false positive*
when a concern is flagged and none is expected, a *false negative* when none is flagged but one is
expected. Per category, recall counts the messages expecting that category which were flagged
with it. Reports name messages by id only, never by their words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rpbot.safeguarding.screener import Screener


class LabelledMessage(BaseModel):
    """One labelled message."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str = ""
    sender: Literal["parent", "child"] = Field(alias="from")
    text: str
    expected: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ...] = ()


class LabelledSetError(ValueError):
    """A labelled file that cannot be read; the message names the file and the entry."""


def load_labelled(path: Path, categories: Iterable[str] | None = None) -> list[LabelledMessage]:
    """Read a labelled file; with ``categories``, refuse labels outside them."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LabelledSetError(f"{path}: cannot be read: {error}") from error
    entries = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise LabelledSetError(f"{path}: expected a list of messages (or messages: [...])")
    known = set(categories) if categories is not None else None
    messages = [_message(path, index, entry, known) for index, entry in enumerate(entries, 1)]
    ids = [m.id for m in messages]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LabelledSetError(f"{path}: duplicate ids {', '.join(duplicates)}")
    return messages


def _message(path: Path, index: int, entry: Any, known: set[str] | None) -> LabelledMessage:
    try:
        message = LabelledMessage.model_validate(entry)
    except ValidationError as error:
        raise LabelledSetError(f"{path}: message {index}: {error}") from error
    if not message.id:
        message = message.model_copy(update={"id": f"{path.stem}:{index}"})
    unknown = sorted(set(message.expected) - known) if known is not None else []
    if unknown:
        raise LabelledSetError(f"{path}: {message.id}: unknown categories {', '.join(unknown)}")
    return message


@dataclass(frozen=True, slots=True)
class Report:
    """How the screener did on a set of labelled messages."""

    name: str
    total: int
    expected_concerns: int
    true_positives: int
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]
    category_hits: dict[str, tuple[int, int]]

    @property
    def recall(self) -> float:
        """Share of messages expecting a concern that were flagged (1.0 if none expected)."""
        if not self.expected_concerns:
            return 1.0
        return self.true_positives / self.expected_concerns

    @property
    def precision(self) -> float:
        """Share of flagged messages that expected a concern (1.0 if none flagged)."""
        flagged = self.true_positives + len(self.false_positives)
        return self.true_positives / flagged if flagged else 1.0

    def category_recall(self, category: str) -> float:
        """Share of messages expecting ``category`` that were flagged with it."""
        hits, expected = self.category_hits.get(category, (0, 0))
        return hits / expected if expected else 1.0


def evaluate(screener: Screener, messages: Sequence[LabelledMessage], name: str) -> Report:
    """Screen every message and compare with its labels."""
    true_positives = 0
    false_positives: list[str] = []
    false_negatives: list[str] = []
    hits: dict[str, list[int]] = {}
    for message in messages:
        result = screener.screen(message.text, message.sender)
        expected = bool(message.expected)
        if result.concern and expected:
            true_positives += 1
        elif result.concern:
            false_positives.append(message.id)
        elif expected:
            false_negatives.append(message.id)
        for category in message.expected:
            counts = hits.setdefault(category, [0, 0])
            counts[0] += category in result.categories
            counts[1] += 1
    return Report(
        name=name,
        total=len(messages),
        expected_concerns=sum(1 for m in messages if m.expected),
        true_positives=true_positives,
        false_positives=tuple(false_positives),
        false_negatives=tuple(false_negatives),
        category_hits={c: (h, n) for c, (h, n) in sorted(hits.items())},
    )


def labelled_files(folder: Path) -> list[Path]:
    """Every ``labelled_*.yaml`` in ``folder``, sorted."""
    return sorted(folder.glob("labelled_*.yaml"))


__all__ = [
    "LabelledMessage",
    "LabelledSetError",
    "Report",
    "evaluate",
    "labelled_files",
    "load_labelled",
]
