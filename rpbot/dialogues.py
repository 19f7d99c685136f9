"""Finding and loading the dialogue files from disk into a validated Library."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from rpbot.engine import Library, build_library
from rpbot.engine.validation import FACTS_FILE

#: The dialogues shipped with rpbot (``dialogues/`` at the project root).
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "dialogues"


def dialogue_files(paths: Iterable[Path]) -> list[Path]:
    """Every flow file under ``paths`` (folders are searched, not recursively)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.yaml") if p.name != FACTS_FILE)
        else:
            files.append(path)
    return files


def load_library(paths: Iterable[Path] = (DEFAULT_DIR,), facts: Path | None = None) -> Library:
    """Read, parse and validate flows; raise DialogueError listing every problem.

    ``facts`` defaults to ``facts.yaml`` beside the first folder given (or the default one).
    """
    paths = list(paths)
    files = dialogue_files(paths)
    if facts is None:
        folder = next((p for p in paths if p.is_dir()), DEFAULT_DIR)
        facts = folder / FACTS_FILE
        if not facts.exists():
            facts = DEFAULT_DIR / FACTS_FILE
    sources = {_display(f): f.read_text(encoding="utf-8") for f in files}
    facts_text = facts.read_text(encoding="utf-8") if facts.exists() else None
    return build_library(sources, facts_text=facts_text)


@cache
def default_library() -> Library:
    """The shipped dialogues, loaded once per process."""
    return load_library()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
