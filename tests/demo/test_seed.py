"""A seeded database: its shape, its story, and nothing left for a bot to send."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from rpbot.demo.timeline import LOCAL
from rpbot.storage.repos import Repos
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    Family,
    FlowRun,
    Member,
    OutboxMessage,
    Reminder,
    Schedule,
)
from tests.demo.conftest import END, Seeded, query, seed_file

Rows = tuple[list[Family], list[Member], list[Answer], list[FlowRun], list[Reminder]]


def everything(url: str) -> Rows:
    async def work(repos: Repos) -> Rows:
        s = repos.session
        return (
            list((await s.exec(select(Family).order_by(col(Family.id)))).all()),
            list((await s.exec(select(Member).order_by(col(Member.id)))).all()),
            list((await s.exec(select(Answer).order_by(col(Answer.id)))).all()),
            list((await s.exec(select(FlowRun).order_by(col(FlowRun.id)))).all()),
            list((await s.exec(select(Reminder).order_by(col(Reminder.id)))).all()),
        )

    return query(url, work)


def test_every_family_has_parents_and_children_with_default_reminders(seeded: Seeded) -> None:
    families, members, *_ = everything(seeded.url)
    assert len(families) == 3
    for family in families:
        roles = {m.role for m in members if m.family_id == family.id}
        assert roles == {"parent", "child"}

    async def schedules(repos: Repos) -> list[Schedule]:
        return list((await repos.session.exec(select(Schedule))).all())

    # Joined through the real invite path: two default reminders each.
    assert len(query(seeded.url, schedules)) == 2 * len(members)


def test_a_check_in_scale_every_week_and_the_scale_moves(seeded: Seeded) -> None:
    families, _, answers, _, _ = everything(seeded.url)
    quiet = [f for f in families if "quiet" in _story(seeded, f)]
    assert len(quiet) == 1
    for family in families:
        scales = [
            a
            for a in answers
            if a.family_id == family.id and a.name == "safety_scale" and a.value_json != "null"
        ]
        weeks = {(END - a.created_at) // timedelta(days=7) for a in scales}
        assert weeks == ({1} if family in quiet else {0, 1}), family.name
        assert all(0 <= int(a.value_json) <= 10 for a in scales)


def test_children_share_some_answers_and_keep_others_private(seeded: Seeded) -> None:
    _, members, answers, _, _ = everything(seeded.url)
    children = {m.id for m in members if m.role == "child"}
    houses = [a for a in answers if a.member_id in children and a.flow_id == "three_houses"]
    assert {"private", "family"} <= {a.share for a in houses}
    # The sharing choice covers the whole run: one level per run.
    for run_id in {a.run_id for a in houses}:
        assert len({a.share for a in houses if a.run_id == run_id}) == 1


def test_one_quiet_family_and_one_member_who_blocked_the_bot(seeded: Seeded) -> None:
    families, members, answers, runs, _ = everything(seeded.url)
    week_ago = END - timedelta(days=7)
    active = {a.family_id for a in answers if a.created_at > week_ago}
    active |= {r.family_id for r in runs if r.started_at > week_ago}
    assert len([f for f in families if f.id not in active]) == 1
    inactive = [m for m in members if not m.active]
    assert len(inactive) == 1

    async def audit(repos: Repos) -> list[AuditEntry]:
        query_ = select(AuditEntry).where(col(AuditEntry.action) == "member_blocked_bot")
        return list((await repos.session.exec(query_)).all())

    assert [e.target_id for e in query(seeded.url, audit)] == [inactive[0].id]


def test_reminders_started_declined_ignored_and_runs_expired(seeded: Seeded) -> None:
    _, _, _, runs, reminders = everything(seeded.url)
    statuses = {r.status for r in reminders}
    assert {"started", "sent", "declined"} <= statuses  # "sent": ignored
    assert any(r.reason == "inactive" for r in reminders)  # to the member who blocked the bot
    expired = [r for r in runs if r.status == "expired"]
    assert expired
    assert all(r.ended_at and r.ended_at >= r.expires_at for r in expired)
    assert {"completed", "expired"} <= {r.status for r in runs}
    assert "active" not in {r.status for r in runs}  # nothing is left in progress at the end


def test_times_look_real(seeded: Seeded) -> None:
    _, _members, answers, runs, _ = everything(seeded.url)
    start = seeded.summary.start
    assert all(start <= a.created_at <= END for a in answers)
    assert all(start <= r.started_at <= END for r in runs)
    hours = {
        flow: {a.created_at.astimezone(LOCAL).hour for a in answers if a.flow_id == flow}
        for flow in ("day_in_the_life", "chore_checkin", "three_questions")
    }
    assert hours["day_in_the_life"] <= set(range(13, 23))
    assert hours["chore_checkin"] <= set(range(10, 20))
    assert hours["three_questions"] <= set(range(18, 22))
    sundays = {
        a.created_at.astimezone(LOCAL).weekday() for a in answers if a.name == "safety_scale"
    }
    assert sundays == {6}


def test_no_outbox_row_is_left_for_a_bot_to_send(seeded: Seeded) -> None:
    async def pending(repos: Repos) -> list[OutboxMessage]:
        return await repos.outbox.pending(limit=10)

    assert query(seeded.url, pending) == []

    async def old(repos: Repos) -> list[OutboxMessage]:
        cutoff = END - timedelta(days=9)
        query_ = select(OutboxMessage).where(col(OutboxMessage.created_at) < cutoff)
        return list((await repos.session.exec(query_)).all())

    assert query(seeded.url, old) == []  # pruned daily, as the running bot does


def test_the_summary_matches_the_database(seeded: Seeded) -> None:
    summary = seeded.summary
    _, _, answers, runs, _ = everything(seeded.url)
    assert summary.answers == len(answers)
    assert sum(summary.runs.values()) == len(runs)
    assert summary.counts.refused == 0  # every press was one the bot accepted
    assert summary.counts.expired >= 1
    assert summary.counts.nudged >= 1
    assert summary.lines()[0].startswith("Demo set 1: 3 families")


def test_the_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    first = seed_file(tmp_path / "a.db", families=1, weeks=1, seed=3)
    second = seed_file(tmp_path / "b.db", families=1, weeks=1, seed=3)

    def rows(seeded: Seeded) -> list[tuple[object, ...]]:
        families, members, answers, runs, reminders = everything(seeded.url)
        return [
            *((f.name, f.nation, f.created_at) for f in families),
            *((m.display_name, m.role, m.telegram_user_id, m.last_active_at) for m in members),
            *(
                (a.id, a.member_id, a.flow_id, a.name, a.value_json, a.free_text, a.share)
                for a in answers
            ),
            *((a.created_at,) for a in answers),
            *((r.flow_id, r.status, r.started_at, r.ended_at) for r in runs),
            *((r.flow_id, r.status, r.due_at, r.sent_at, r.answered_at) for r in reminders),
        ]

    assert len(rows(first)) > 50
    assert rows(first) == rows(second)
    assert first.summary.families == second.summary.families


def _story(seeded: Seeded, family: Family) -> str:
    return next(f.story for f in seeded.summary.families if f.name == family.name)
