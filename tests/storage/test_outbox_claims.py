"""Outbox claims: several workers flushing one database each take different messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rpbot.storage.db import Database

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _queue(db: Database, count: int, chats: int = 7) -> None:
    async with db.transaction() as repos:
        for index in range(count):
            await repos.outbox.add(1000 + index % chats, "send", '{"text": "hi"}', NOW)


async def test_two_workers_claim_disjoint_messages(db: Database) -> None:
    await _queue(db, 60)
    other = Database(db.url)  # a second process: its own engine and connections
    try:

        async def claim(database: Database, worker: str) -> list[int]:
            taken: list[int] = []
            while True:
                async with database.transaction() as repos:
                    rows = await repos.outbox.claim(worker, NOW, LEASE, limit=5)
                if not rows:
                    return taken
                taken += [row.id or 0 for row in rows]

        first, second = await asyncio.gather(claim(db, "a"), claim(other, "b"))
    finally:
        await other.dispose()
    assert len(first) + len(second) == 60
    assert not set(first) & set(second)


async def test_a_lapsed_claim_is_taken_over_and_a_sent_message_never_is(db: Database) -> None:
    await _queue(db, 2, chats=1)
    async with db.transaction() as repos:
        held = await repos.outbox.claim("a", NOW, LEASE)
    assert len(held) == 2
    async with db.transaction() as repos:
        assert await repos.outbox.claim("b", NOW + timedelta(seconds=30), LEASE) == []
        await repos.outbox.mark_sent(held[0].id or 0, 55, NOW + timedelta(seconds=31))
    async with db.transaction() as repos:
        taken = await repos.outbox.claim("b", NOW + timedelta(seconds=61), LEASE)
    assert [row.id for row in taken] == [held[1].id]


async def test_released_messages_can_be_claimed_again(db: Database) -> None:
    await _queue(db, 1, chats=1)
    async with db.transaction() as repos:
        [row] = await repos.outbox.claim("a", NOW, LEASE)
        await repos.outbox.release(row.id or 0)
    async with db.transaction() as repos:
        again = await repos.outbox.claim("b", NOW, LEASE)
    assert [r.id for r in again] == [row.id]
    assert again[0].attempts == 1


async def test_scrubbing_replaces_a_secret_text_once_sent(db: Database) -> None:
    async with db.transaction() as repos:
        row = await repos.outbox.add(1, "send", '{"text": "code abc", "secret": true}', NOW)
        await repos.outbox.mark_sent(row.id or 0, 9, NOW, scrub=True)
    async with db.transaction() as repos:
        stored = await repos.outbox.by_id(row.id or 0)
    assert stored is not None
    assert "abc" not in stored.payload_json
    assert stored.status == "sent"


async def test_many_marks_in_one_statement_release_the_claims(db: Database) -> None:
    await _queue(db, 3, chats=3)
    async with db.transaction() as repos:
        claimed = await repos.outbox.claim("a", NOW, LEASE)
    first, second, third = (row.id or 0 for row in claimed)
    async with db.transaction() as repos:
        await repos.outbox.mark_sent_many([(first, 11), (second, None)], NOW + timedelta(seconds=2))
        await repos.outbox.mark_sent_many([], NOW)  # nothing to do
    async with db.transaction() as repos:
        rows = {row_id: await repos.outbox.by_id(row_id) for row_id in (first, second, third)}
    marked = [rows[first], rows[second]]
    assert [(r.status, r.sent_message_id, r.claimed_by) for r in marked if r] == [
        ("sent", 11, None),
        ("sent", None, None),
    ]
    assert all(r is not None and r.sent_at == NOW + timedelta(seconds=2) for r in marked)
    assert all(r is not None and r.attempts == 1 for r in marked)
    untouched = rows[third]
    assert untouched is not None
    assert (untouched.status, untouched.claimed_by) == ("pending", "a")
