"""SQLite transactions of one Database queue in order in the process, not on busy_timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rpbot.storage.db import Database
from rpbot.storage.errors import DatabaseLockedError

pytestmark = pytest.mark.asyncio


async def test_concurrent_transactions_take_turns_first_come_first_served(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rpbot.db'}", busy_timeout_ms=2000)
    try:
        await db.create_all()
        order: list[int] = []

        async def bump(number: int) -> None:
            async with db.transaction() as repos:
                order.append(number)
                await repos.counters.increment("turns")
                await asyncio.sleep(0)  # let the others queue up meanwhile

        await asyncio.gather(*(bump(number) for number in range(30)))
        assert order == list(range(30))
        async with db.transaction() as repos:
            assert await repos.counters.get("turns") == 30
    finally:
        await db.dispose()


async def test_a_transaction_inside_another_in_one_task_says_why(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rpbot.db'}", busy_timeout_ms=50)
    try:
        await db.create_all()
        async with db.transaction() as repos:
            await repos.counters.increment("x")
            with pytest.raises(DatabaseLockedError, match="Do not open a transaction while"):
                async with db.transaction() as inner:
                    await inner.counters.get("x")
        async with db.transaction() as repos:  # the queue is free again afterwards
            assert await repos.counters.get("x") == 1
    finally:
        await db.dispose()
