"""Errors of the dialogue engine.

    EngineError                 root of every error this package raises
    └── DialogueError           dialogue files are invalid; ``problems`` lists each one

Bad answers from people are never exceptions: they become re-prompt events.
"""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Root of the engine's errors."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a dialogue file: where, and what to do about it."""

    file: str
    flow: str
    step: str
    message: str

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.flow, self.step) if p]
        return ": ".join([*parts, self.message])


class DialogueError(EngineError):
    """Dialogue files failed validation; ``problems`` has one entry per problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems) or "invalid dialogues")
