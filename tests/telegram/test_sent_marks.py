"""The sender's group commit of "sent" marks: fewer transactions, same guarantees."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rpbot.clock import FakeClock
from rpbot.storage.db import Database
from rpbot.telegram.sender import SentMarks
from tests.telegram.helpers import CountingDatabase

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


async def _queued(db: Database, count: int) -> list[int]:
    async with db.transaction() as repos:
        rows = [
            await repos.outbox.add(500 + i, "send", '{"text": "hi"}', NOW) for i in range(count)
        ]
    return [row.id or 0 for row in rows]


async def test_marks_made_together_share_a_transaction(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'marks.db'}")
    await db.create_all()
    try:
        ids = await _queued(db, 20)
        counting = CountingDatabase(db)
        marks = SentMarks(counting, FakeClock(NOW))  # type: ignore[arg-type]
        await asyncio.gather(*(marks.sent(row_id, 100 + n) for n, row_id in enumerate(ids)))
        assert counting.transactions == 1  # made together: written together
        # Marks made while a batch is being written wait and go together in the next one.
        counting.hold = asyncio.Event()
        first = asyncio.create_task(marks.sent(ids[0], 100))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert counting.transactions == 2  # the writer is inside the held transaction
        rest = [asyncio.create_task(marks.sent(row_id, 101)) for row_id in ids[1:6]]
        await asyncio.sleep(0)
        assert not any(task.done() for task in [first, *rest])  # nobody goes on unmarked
        counting.hold.set()
        await asyncio.gather(first, *rest)
        assert counting.transactions == 3
        counting.hold = None
        async with db.transaction() as repos:
            rows = [await repos.outbox.by_id(row_id) for row_id in ids]
        assert [(r.status, r.sent_message_id) for r in rows if r] == [
            ("sent", 100 if n == 0 else 101 if n < 6 else 100 + n) for n in range(20)
        ]
    finally:
        await db.dispose()


async def test_a_failed_write_reaches_every_waiting_delivery(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'marks.db'}")
    await db.create_all()
    try:
        ids = await _queued(db, 3)
        counting = CountingDatabase(db)
        counting.fail = RuntimeError("database is down")
        marks = SentMarks(counting, FakeClock(NOW))  # type: ignore[arg-type]
        results = await asyncio.gather(
            *(marks.sent(row_id, 1) for row_id in ids), return_exceptions=True
        )
        assert [type(r) for r in results] == [RuntimeError] * 3
        counting.fail = None
        await marks.sent(ids[0], 1)  # it recovers once the database is back
        async with db.transaction() as repos:
            row = await repos.outbox.by_id(ids[0])
        assert row is not None
        assert row.status == "sent"
    finally:
        await db.dispose()
