"""Circle and plan repositories on SQLite and PostgreSQL: claims, turn order, erasure."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from rpbot.services.circles import Circles
from rpbot.services.outbox import Outbox
from rpbot.storage.db import Database
from rpbot.storage.tables import Family, Member

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


async def family_of_three(db: Database) -> tuple[Family, list[Member]]:
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(1, "Alex", NOW)
        family = await repos.families.create(practitioner.id or 0, "Green", "england", NOW)
        members = [
            await repos.members.create(family.id or 0, role, name, NOW, 100 + i, 100 + i)
            for i, (role, name) in enumerate(
                (("parent", "Sam"), ("child", "Mia"), ("parent", "Jo"))
            )
        ]
        return family, members


async def open_round(
    db: Database, family: Family, members: list[Member], deadline: datetime
) -> int:
    async with db.transaction() as repos:
        circle = await repos.circles.create(
            family.id or 0, "practitioner", 1, "Alex", "How was today?", deadline, NOW
        )
        for position, member in enumerate(reversed(members), start=1):  # Jo, Mia, Sam
            await repos.circles.add_turn(circle.id or 0, member.id or 0, position, NOW)
        return circle.id or 0


async def test_turns_come_back_in_circle_order_and_open_turns_are_found(db: Database) -> None:
    family, members = await family_of_three(db)
    circle_id = await open_round(db, family, members, NOW + timedelta(hours=3))
    async with db.transaction() as repos:
        turns = await repos.circles.turns(circle_id)
        assert [t.member_id for t in turns] == [m.id for m in reversed(members)]
        assert await repos.circles.open_turn_for(members[0].id or 0) is None  # not asked yet
        turns[2].status, turns[2].asked_at = "asked", NOW
        await repos.circles.save(turns[2])
        found = await repos.circles.open_turn_for(members[0].id or 0)
        assert found is not None
        assert found.id == turns[2].id
        # Answers are encrypted-at-rest columns: they round-trip.
        found.answer = "Calmer 🌿"
        await repos.circles.save(found)
    async with db.transaction() as repos:
        again = await repos.circles.turn(found.id or 0)
        assert again is not None
        assert again.answer == "Calmer 🌿"


async def test_due_rounds_are_claimed_by_one_sweep_only(db: Database) -> None:
    family, members = await family_of_three(db)
    await open_round(db, family, members, NOW + timedelta(hours=1))
    await open_round(db, family, members, NOW + timedelta(hours=5))
    later = NOW + timedelta(hours=1, minutes=30)  # 19:30: the parents are not in quiet hours
    async with db.transaction() as repos:
        assert await repos.circles.due_rounds(NOW) == []
        assert len(await repos.circles.due_rounds(later)) == 1

    circles = Circles()

    async def sweep() -> None:
        async with db.transaction() as repos:
            await circles.sweep(repos, Outbox(repos, later), later)

    await asyncio.gather(sweep(), sweep())  # two workers at once: the round closes once
    async with db.transaction() as repos:
        rounds = await repos.circles.for_families([family.id or 0], NOW, later + timedelta(1))
        states = [(r.status, r.close_reason, [t.status for t in ts]) for r, ts in rounds]
        assert states == [
            ("closed", "deadline", ["late", "late", "late"]),
            ("open", None, ["asked", "asked", "asked"]),
        ]
        sent = [json.loads(m.payload_json)["text"] for m in await repos.outbox.pending()]
    shared = [text for text in sent if "The family circle is complete" in text]
    assert len(shared) == 2  # Jo and Sam once each
    assert all("1. Jo passed this time" in text for text in shared)


async def test_rows_lock_on_postgresql_so_a_second_worker_skips_them(
    db: Database, migrated_url: str
) -> None:
    if not migrated_url.startswith("postgresql"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE) instead")
    family, members = await family_of_three(db)
    await open_round(db, family, members, NOW)
    async with db.transaction() as first:
        assert len(await first.circles.due_rounds(NOW)) == 1
        async with db.transaction() as second:
            assert await second.circles.due_rounds(NOW) == []  # skipped, not waited for


async def test_erasing_a_member_forgets_their_answers_and_plan(db: Database) -> None:
    family, members = await family_of_three(db)
    circle_id = await open_round(db, family, members, NOW + timedelta(hours=3))
    sam = members[0]
    async with db.transaction() as repos:
        turn = next(t for t in await repos.circles.turns(circle_id) if t.member_id == sam.id)
        turn.status, turn.answer = "answered", "Something personal"
        await repos.circles.save(turn)
        await repos.plans.set_flow(
            family.id or 0,
            sam.id or 0,
            "day_in_the_life",
            enabled=False,
            days=None,
            time_of_day=None,
            now=NOW,
        )
    async with db.transaction() as repos:
        assert await repos.circles.erase_member(sam.id or 0, keep_answers=False) == 1
        assert await repos.plans.erase_member(sam.id or 0) == 1
    async with db.transaction() as repos:
        again = await repos.circles.turn(turn.id or 0)
        assert again is not None
        assert again.answer is None
        assert await repos.plans.flows(family.id or 0) == []


async def test_plan_rows_and_module_order(db: Database) -> None:
    family, members = await family_of_three(db)
    async with db.transaction() as repos:
        assert await repos.plans.family_plan(family.id or 0) is None
        assert await repos.plans.modules(family.id or 0) == []
        plan = await repos.plans.ensure(family.id or 0, NOW, NOW)
        assert (await repos.plans.ensure(family.id or 0, NOW, NOW)).id == plan.id
        await repos.plans.set_modules(family.id or 0, ["b", "a"])
        await repos.plans.set_modules(family.id or 0, ["a", "b", "c"])  # replaced, not added
        row = await repos.plans.set_flow(
            family.id or 0,
            members[0].id or 0,
            "x",
            enabled=True,
            days="",
            time_of_day="07:00",
            now=NOW,
        )
        same = await repos.plans.set_flow(
            family.id or 0,
            members[0].id or 0,
            "x",
            enabled=False,
            days=None,
            time_of_day=None,
            now=NOW,
        )
        assert same.id == row.id
    async with db.transaction() as repos:
        assert await repos.plans.modules(family.id or 0) == ["a", "b", "c"]
        [flow] = await repos.plans.flows(family.id or 0, members[0].id or 0)
        assert (flow.enabled, flow.time_of_day) == (False, None)
        assert await repos.plans.completed_flows(family.id or 0, ["a"]) == set()
