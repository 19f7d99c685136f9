"""Seeding helpers for the demo tests: tiny demo sets in temporary SQLite files."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rpbot.demo import DemoSummary, seed_demo
from rpbot.dialogues import default_library
from rpbot.storage.db import Database, upgrade
from rpbot.storage.repos import Repos

#: A Tuesday evening in winter (no clock change inside the demo weeks).
END = datetime(2026, 2, 10, 20, 0, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True)
class Seeded:
    """A seeded database and what the seeding said about it."""

    url: str
    summary: DemoSummary


def seed_file(path: Path, **options: Any) -> Seeded:
    """Migrate a new SQLite file and seed a demo set into it (``end`` defaults to END)."""
    url = f"sqlite:///{path}"
    upgrade(url)

    async def main() -> DemoSummary:
        db = Database(url)
        try:
            return await seed_demo(db, default_library(), **{"end": END, **options})
        finally:
            await db.dispose()

    return Seeded(url, asyncio.run(main()))


def query(url: str, work: Callable[[Repos], Awaitable[T]]) -> T:
    """Run ``work(repos)`` in one transaction on the database at ``url``."""

    async def main() -> T:
        db = Database(url)
        try:
            async with db.transaction() as repos:
                return await work(repos)
        finally:
            await db.dispose()

    return asyncio.run(main())


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Three families over two weeks: one quiet, one struggling, one with a blocker."""
    return seed_file(tmp_path_factory.mktemp("demo") / "demo.db", families=3, weeks=2)
