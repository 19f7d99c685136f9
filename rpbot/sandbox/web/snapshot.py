"""A copy of the freshly seeded database, so "Reset demo" is a file copy, not a re-seed.

Seeding weeks of demo history runs the real services and takes a while; restoring the copy
(and the clock to when it was taken) gives exactly the same starting point in a moment.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["SeedSnapshot", "copy_database", "remove_database"]


@dataclass(frozen=True)
class SeedSnapshot:
    """A seeded database file and the sandbox time at which it was seeded."""

    path: Path
    taken_at: datetime


def remove_database(path: Path) -> None:
    """Delete a SQLite database file and its journal files, if they exist."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (even while it is open in WAL mode).

    Blocking: call it with ``asyncio.to_thread``.
    """
    remove_database(target)
    with (
        contextlib.closing(sqlite3.connect(source)) as reader,
        contextlib.closing(sqlite3.connect(target)) as writer,
    ):
        reader.backup(writer)
