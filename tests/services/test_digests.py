"""Digest scheduling and claiming on SQLite and PostgreSQL, with a fake clock.

A weekly digest is due at the practitioner's day and time in their own timezone, is recorded
once however many processes sweep, and is queued to the outbox exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from rpbot.dialogues import default_library
from rpbot.digest.model import DigestReport
from rpbot.services.digests import LEASE, DigestRunner, Digests, render
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.storage.db import Database
from rpbot.storage.tables import Digest, OutboxMessage, Practitioner

pytestmark = pytest.mark.asyncio

# Charts are drawn by the digest tests; here they would only slow the sweeps down.
DIGESTS = Digests(default_library(), charts=False)
JOINED = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


async def practitioner(db: Database, tz: str, days: str = "mon", at: str = "08:30") -> int:
    async with db.transaction() as repos:
        row = await add_practitioner(repos, 9001, "Alex", JOINED)
        row.timezone, row.digest_days, row.digest_time = tz, days, at
        await repos.practitioners.save(row)
        await create_family(repos, row, "Green", "england", JOINED)
        assert row.id is not None
        return row.id


async def weekly(db: Database) -> list[Digest]:
    async with db.transaction() as repos:
        query = select(Digest).where(col(Digest.kind) == "weekly").order_by(col(Digest.id))
        return list((await repos.session.exec(query)).all())


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as repos:
        return list((await repos.session.exec(select(OutboxMessage))).all())


@pytest.mark.parametrize(
    ("tz", "due"),
    [
        # Monday 23 November 2026, 08:30 local, in UTC:
        ("Europe/London", datetime(2026, 11, 23, 8, 30, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2026, 11, 22, 23, 30, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 11, 23, 13, 30, tzinfo=UTC)),
    ],
)
async def test_the_weekly_digest_is_due_once_a_week_in_the_practitioners_timezone(
    db: Database, tz: str, due: datetime
) -> None:
    await practitioner(db, tz)
    runner = DigestRunner(db, DIGESTS, "w1")
    assert await runner.run(due - timedelta(seconds=1)) == []
    rows = await runner.run(due)
    assert rows, "the digest was not sent at its time"
    assert await runner.run(due + timedelta(hours=1)) == []
    assert await runner.run(due + timedelta(days=6, hours=23)) == []
    assert await runner.run(due + timedelta(days=7)) != []
    digests = await weekly(db)
    assert [d.due_at for d in digests] == [due, due + timedelta(days=7)]
    assert digests[0].period_start == due - timedelta(days=7)
    assert {d.status for d in digests} == {"queued"}


async def test_a_digest_after_the_clocks_go_forward_stays_at_0830_local(db: Database) -> None:
    async with db.transaction() as repos:
        row = await add_practitioner(repos, 9001, "Alex", datetime(2027, 3, 24, tzinfo=UTC))
    runner = DigestRunner(db, DIGESTS, "w1")
    await runner.run(datetime(2027, 3, 24, 12, tzinfo=UTC))
    async with db.transaction() as repos:
        found = await repos.practitioners.by_id(row.id or 0)
        assert found is not None
        # Monday 29 March 2027 is in British Summer Time: 08:30 BST = 07:30 UTC.
        assert found.digest_next_at == datetime(2027, 3, 29, 7, 30, tzinfo=UTC)


async def test_two_processes_sweeping_queue_each_digest_once(
    db: Database, migrated_url: str
) -> None:
    await practitioner(db, "Europe/London")
    due = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    first, second = Database(migrated_url), Database(migrated_url)
    try:
        runners = [DigestRunner(first, DIGESTS, "a"), DigestRunner(second, DIGESTS, "b")]
        for extra in (0, 1, 2):
            now = due + timedelta(seconds=extra)
            await asyncio.gather(*(r.run(now) for r in runners), runners[0].run(now))
    finally:
        await first.dispose()
        await second.dispose()
    [digest] = await weekly(db)
    assert digest.status == "queued"
    sent = await outbox(db)
    overviews = [m for m in sent if m.method == "send" and "Weekly digest" in m.payload_json]
    assert len(overviews) == 1
    assert len([m for m in sent if m.method == "document"]) == 1


async def test_a_worker_that_dies_mid_build_is_taken_over_after_its_lease(db: Database) -> None:
    await practitioner(db, "Europe/London")
    due = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    async with db.transaction() as repos:  # worker "a" schedules and claims, then dies
        await DIGESTS.schedule_due(repos, due)
        [claimed] = await repos.digests.claim("a", due, LEASE)
    b = DigestRunner(db, DIGESTS, "b")
    assert await b.run(due + LEASE - timedelta(seconds=1)) == []  # still a's
    assert await b.run(due + LEASE + timedelta(seconds=1)) != []
    [digest] = await weekly(db)
    assert (digest.id, digest.status, digest.claimed_by) == (claimed.id, "queued", "b")
    # "a" comes back to life and tries to queue its copy: refused, nothing sent twice.
    a = DigestRunner(db, DIGESTS, "a")
    late = render(DigestReport("Alex", "Europe/London", due - timedelta(days=7), due))
    before = len(await outbox(db))
    assert await a._queue(digest.id or 0, 9001, late, due) == []
    assert len(await outbox(db)) == before


async def test_an_on_demand_digest_for_one_family_covers_the_last_seven_days(
    db: Database,
) -> None:
    pid = await practitioner(db, "Europe/London")
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    async with db.transaction() as repos:
        found = await repos.practitioners.by_id(pid)
        assert isinstance(found, Practitioner)
        families = await repos.families.for_practitioner(pid)
        digest = await DIGESTS.request(repos, found, now, families[0].id)
    assert digest is not None
    assert (digest.period_start, digest.period_end) == (now - timedelta(days=7), now)
    rows = await DigestRunner(db, DIGESTS, "w").run(now)
    texts = [r.payload_json for r in rows]
    assert any("Green family" in t for t in texts)
