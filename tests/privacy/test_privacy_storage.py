"""Erasure, retention and periodic claims in storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from rpbot.engine import Session
from rpbot.engine.session import Frame
from rpbot.services.privacy import (
    ERASED_NAME,
    RETENTION_WATERMARK,
    erase_member,
    purge_expired,
    retention_tick,
)
from rpbot.storage.db import Database
from rpbot.storage.tables import AuditEntry, FlowRun, Invite, Member, SafeguardingAlert
from tests.privacy.test_encryption import NOW, WORDS, seed

pytestmark = pytest.mark.asyncio


def session_json(words: str) -> str:
    return Session(
        flow_id="three_questions",
        flow_version=1,
        status="completed",
        stack=[Frame(flow_id="three_questions", flow_version=1, step="end")],
        context={"first_name": "Sam", "child_name": "Mia"},
        answers={"three_questions": {"worried": words}},
        started_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=3),
    ).to_json()


async def with_extras(db: Database) -> Member:
    """The seeded member, with a schedule, a reminder, a used invite and a real session."""
    member_id = await seed(db)
    async with db.transaction() as repos:
        member = await repos.members.by_id(member_id)
        assert member is not None
        schedule = await repos.schedules.add(member_id, "three_questions", "sun", "18:00", NOW, NOW)
        await repos.reminders.add(member_id, "three_questions", NOW, NOW, schedule.id)
        invite = await repos.invites.create(member.family_id, "parent", "Sam", "h" * 64, NOW, NOW)
        invite.used_by_member_id, invite.used_at = member_id, NOW
        await repos.invites.save(invite)
        (run,) = await repos.runs.for_member(member_id)
        run.session_json, run.status, run.ended_at = session_json(WORDS), "completed", NOW
        await repos.runs.save(run)
        member.pending_json = '{"action": "time"}'
        await repos.members.save(member)
        return member


async def test_erasure_deletes_answers_and_keeps_alerts_de_identified(db: Database) -> None:
    member = await with_extras(db)
    async with db.transaction() as repos:
        found = await repos.members.by_id(member.id or 0)
        assert found is not None
        counts = await erase_member(repos, found, "delete", NOW)
    assert (counts.answers, counts.runs, counts.schedules, counts.reminders) == (1, 1, 1, 1)
    assert (counts.messages, counts.alerts, counts.invites) == (1, 1, 1)
    async with db.transaction() as repos:
        erased = await repos.members.by_id(member.id or 0)
        assert erased is not None
        assert erased.display_name == ERASED_NAME
        assert erased.telegram_user_id is None
        assert erased.chat_id is None
        assert erased.pending_json is None
        assert await repos.members.by_telegram_id(501) is None
        assert await repos.answers.for_member(member.id or 0) == []
        assert await repos.runs.for_member(member.id or 0) == []
        assert await repos.schedules.for_member(member.id or 0) == []
        assert await repos.outbox.pending() == []
        (alert,) = (await repos.session.exec(select(SafeguardingAlert))).all()
        assert alert.member_id is None
        assert alert.text == WORDS
        (invite,) = (await repos.session.exec(select(Invite))).all()
        assert invite.member_name == ERASED_NAME
        (entry,) = (
            await repos.session.exec(select(AuditEntry).where(col(AuditEntry.action) == "erasure"))
        ).all()
        assert entry.detail is not None
        assert entry.detail.startswith("mode=delete answers=1 runs=1")
        assert WORDS not in entry.detail


async def test_pseudonymisation_keeps_answers_and_scrubs_names(db: Database) -> None:
    member = await with_extras(db)
    async with db.transaction() as repos:
        found = await repos.members.by_id(member.id or 0)
        assert found is not None
        counts = await erase_member(repos, found, "pseudonymise", NOW)
    assert counts.answers == 0
    assert counts.extra == {"runs_scrubbed": 1}
    async with db.transaction() as repos:
        renamed = await repos.members.by_id(member.id or 0)
        assert renamed is not None
        assert renamed.display_name == f"Member {member.id}"
        assert renamed.telegram_user_id is None
        (answer,) = await repos.answers.for_member(member.id or 0)
        assert answer.free_text == WORDS
        (run,) = await repos.runs.for_member(member.id or 0)
        session = Session.from_json(run.session_json)
        assert session.context == {}
        assert session.answers == {"three_questions": {"worried": WORDS}}


async def test_retention_purges_old_answers_and_empties_old_sessions(db: Database) -> None:
    member = await with_extras(db)
    later = NOW + timedelta(days=40)
    async with db.transaction() as repos:
        (old,) = await repos.answers.for_member(member.id or 0)
        await repos.answers.add(
            old.run_id, member.id or 0, old.family_id, "three_questions", "x", "x", "text",
            '"fresh"', "fresh", "practitioner", later,
        )  # fmt: skip
    async with db.transaction() as repos:
        report = await purge_expired(repos, 30, later)
    assert (report.answers, report.sessions, report.more) == (1, 1, False)
    async with db.transaction() as repos:
        answers = await repos.answers.for_member(member.id or 0)
        assert [a.free_text for a in answers] == ["fresh"]
        (run,) = (await repos.session.exec(select(FlowRun))).all()
        session = Session.from_json(run.session_json)
        assert session.answers == {}
        assert session.context == {}
        assert session.status == "completed"
        watermark = await repos.privacy.get_value(RETENTION_WATERMARK)
    assert watermark is not None
    # Already emptied: the next purge leaves it alone.
    async with db.transaction() as repos:
        again = await purge_expired(repos, 30, later + timedelta(hours=1))
    assert (again.answers, again.sessions) == (0, 0)
    assert json.loads(run.session_json)["flow_id"] == "three_questions"


async def test_retention_runs_at_most_hourly_across_processes(db: Database) -> None:
    await with_extras(db)
    later = NOW + timedelta(days=40)
    first, second = await asyncio.gather(
        retention_tick(db, 30, later), retention_tick(db, 30, later)
    )
    assert [r is None for r in (first, second)].count(True) == 1
    assert await retention_tick(db, 30, later + timedelta(minutes=59)) is None
    assert await retention_tick(db, 30, later + timedelta(minutes=60)) is not None
    assert await retention_tick(db, None, later + timedelta(days=1)) is None
    async with db.transaction() as repos:
        purges = (
            await repos.session.exec(
                select(AuditEntry).where(col(AuditEntry.action) == "retention_purge")
            )
        ).all()
    assert [p.detail for p in purges] == ["days=30 answers=1 sessions=1"]


async def test_audit_entries_of_one_actor(db: Database) -> None:
    async with db.transaction() as repos:
        for minute in range(3):
            at = NOW + timedelta(minutes=minute)
            await repos.audit.record(at, "practitioner", 7, "view_family", "family", minute)
        await repos.audit.record(NOW, "practitioner", 8, "view_family", "family", 1)
        await repos.audit.record(NOW, "member", 7, "export", "member", 7)
        mine = await repos.privacy.audit_by("practitioner", 7, limit=2)
    assert [e.target_id for e in mine] == [1, 2]


async def test_erasure_leaves_a_message_being_sent_alone(db: Database) -> None:
    member_id = await seed(db)
    async with db.transaction() as repos:
        await repos.outbox.add(
            501, "send", '{"text": "hi"}', NOW, member_id=member_id,
            claimed_by="w1", claim_expires_at=NOW + timedelta(seconds=60),
        )  # fmt: skip
        member = await repos.members.by_id(member_id)
        assert member is not None
        counts = await erase_member(repos, member, "delete", NOW)
        left = await repos.outbox.pending()
    assert counts.messages == 1
    assert [m.claimed_by for m in left] == ["w1"]
