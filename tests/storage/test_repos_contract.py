"""The repository contract, run unchanged on SQLite and (when configured) PostgreSQL.

Reads that check what the database holds happen in a new transaction, so they see stored rows,
not objects remembered by the session that wrote them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from rpbot.storage.db import Database
from rpbot.storage.errors import NaiveDatetimeError, RowNotFoundError, StorageError
from rpbot.storage.repos import Repos
from rpbot.storage.tables import FlowRun

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night UK clocks go forward
BIG = 2**40 + 123  # past 32 bits: Telegram user, chat and update ids are 64-bit
SUPERGROUP = -1_001_234_567_890  # supergroup chat ids are large and negative


async def seed(db: Database) -> tuple[int, int, int]:
    """A practitioner, a family and a parent; return their ids."""
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(BIG, "Alex", NOW)
        assert practitioner.id is not None
        family = await repos.families.create(practitioner.id, "Green", "england", NOW)
        assert family.id is not None
        member = await repos.members.create(family.id, "parent", "Sam", NOW, telegram_user_id=501)
        assert member.id is not None
        return practitioner.id, family.id, member.id


async def start_run(repos: Repos, member_id: int, family_id: int, flow: str = "diary") -> FlowRun:
    return await repos.runs.create(
        member_id, family_id, flow, 3, '{"step": "morning"}', NOW, NOW + timedelta(days=3)
    )


def assert_utc(value: datetime | None, expected: datetime) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    assert value == expected


# --- transactions -------------------------------------------------------------------------


async def test_repos_expose_every_repository_and_the_session(db: Database) -> None:
    async with db.transaction() as repos:
        names = "practitioners families members invites invite_attempts runs answers outbox"
        for name in [*names.split(), "updates", "counters", "audit", "session"]:
            assert getattr(repos, name) is not None


async def test_transaction_commits_on_normal_exit(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.practitioners.add(1, "Alex", NOW)
    async with db.transaction() as repos:
        assert [p.name for p in await repos.practitioners.all()] == ["Alex"]


async def test_an_exception_rolls_the_whole_transaction_back(db: Database) -> None:
    class BoomError(Exception):
        pass

    with pytest.raises(BoomError):  # noqa: PT012
        async with db.transaction() as repos:
            practitioner = await repos.practitioners.add(1, "Alex", NOW)
            assert practitioner.id is not None
            await repos.families.create(practitioner.id, "Green", "england", NOW)
            await repos.counters.increment("unknown_senders")
            assert await repos.updates.claim(10, NOW)
            raise BoomError
    async with db.transaction() as repos:
        assert await repos.practitioners.all() == []
        assert await repos.families.by_name("Green") == []
        assert await repos.counters.get("unknown_senders") == 0
        assert await repos.updates.claim(10, NOW)


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.families.create(999, "Nobody's", "wales", NOW)


# --- datetimes ------------------------------------------------------------------------------


async def test_aware_datetimes_come_back_aware_utc(db: Database) -> None:
    london_summer = datetime(2026, 7, 1, 9, 15, 30, 123456, tzinfo=ZoneInfo("Europe/London"))
    kolkata = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(1, "Alex", london_summer)
        assert practitioner.id is not None
        family = await repos.families.create(practitioner.id, "Green", "england", kolkata)
        assert family.id is not None
        member = await repos.members.create(family.id, "parent", "Sam", NOW)
        assert member.id is not None
    async with db.transaction() as repos:
        stored = await repos.practitioners.by_id(practitioner.id)
        assert stored is not None
        assert_utc(stored.created_at, london_summer)
        assert stored.created_at.hour == 8  # 09:15 BST is 08:15 UTC
        stored_family = await repos.families.by_id(family.id)
        assert stored_family is not None
        assert_utc(stored_family.created_at, kolkata)
        stored_member = await repos.members.by_id(member.id)
        assert stored_member is not None
        assert_utc(stored_member.created_at, NOW)
        assert stored_member.last_active_at is None


@pytest.mark.parametrize(
    "call",
    [
        "practitioners.add",
        "families.create",
        "outbox.add",
        "updates.claim",
        "updates.prune",
        "audit.record",
        "invite_attempts.record_failure",
        "invite_attempts.failures",
        "runs.create",
    ],
)
async def test_naive_datetimes_are_refused_with_a_clear_error(db: Database, call: str) -> None:
    naive = datetime(2026, 3, 29, 0, 30)
    window = timedelta(minutes=15)
    async with db.transaction() as repos:
        calls = {
            "practitioners.add": lambda: repos.practitioners.add(1, "Alex", naive),
            "families.create": lambda: repos.families.create(1, "Green", "england", naive),
            "outbox.add": lambda: repos.outbox.add(1, "sendMessage", "{}", naive),
            "updates.claim": lambda: repos.updates.claim(1, naive),
            "updates.prune": lambda: repos.updates.prune(naive),
            "audit.record": lambda: repos.audit.record(naive, "system", None, "test"),
            "invite_attempts.record_failure": lambda: repos.invite_attempts.record_failure(
                "h", naive, window
            ),
            "invite_attempts.failures": lambda: repos.invite_attempts.failures("h", naive, window),
            "runs.create": lambda: repos.runs.create(1, 1, "diary", 1, "{}", NOW, naive),
        }
        with pytest.raises(NaiveDatetimeError, match="no timezone; pass an aware UTC datetime"):
            await calls[call]()


async def test_saving_a_row_with_a_naive_datetime_is_refused(db: Database) -> None:
    _, _, member_id = await seed(db)
    with pytest.raises(NaiveDatetimeError, match=r"members\.last_active_at") as caught:  # noqa: PT012
        async with db.transaction() as repos:
            member = await repos.members.by_id(member_id)
            assert member is not None
            member.last_active_at = datetime(2026, 3, 29, 1, 0)
            await repos.members.save(member)
    assert isinstance(caught.value, StorageError)
    assert isinstance(caught.value, ValueError)


# --- people ---------------------------------------------------------------------------------


async def test_practitioners(db: Database) -> None:
    async with db.transaction() as repos:
        alex = await repos.practitioners.add(BIG, "Alex", NOW)
        bo = await repos.practitioners.add(BIG + 1, "Bo", NOW, timezone="Europe/Belfast")
        assert alex.id is not None
        assert bo.id is not None
    async with db.transaction() as repos:
        found = await repos.practitioners.by_telegram_id(BIG)
        assert found is not None
        assert (found.id, found.name, found.telegram_user_id) == (alex.id, "Alex", BIG)
        assert found.timezone == "Europe/London"
        assert found.language == "en"
        assert_utc(found.created_at, NOW)
        assert await repos.practitioners.by_telegram_id(BIG + 2) is None
        assert await repos.practitioners.by_id(10_000) is None
        assert [p.name for p in await repos.practitioners.all()] == ["Alex", "Bo"]
        by_id = await repos.practitioners.by_id(bo.id)
        assert by_id is not None
        assert by_id.timezone == "Europe/Belfast"
        by_id.chat_id = BIG + 1
        by_id.pending_json = '{"awaiting": "family_name"}'
        await repos.practitioners.save(by_id)
    async with db.transaction() as repos:
        saved = await repos.practitioners.by_id(bo.id)
        assert saved is not None
        assert (saved.chat_id, saved.pending_json) == (BIG + 1, '{"awaiting": "family_name"}')


async def test_a_telegram_user_is_one_practitioner(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.practitioners.add(BIG, "Alex", NOW)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.practitioners.add(BIG, "Alex again", NOW)


async def test_families(db: Database) -> None:
    async with db.transaction() as repos:
        alex = await repos.practitioners.add(1, "Alex", NOW)
        bo = await repos.practitioners.add(2, "Bo", NOW)
        assert alex.id is not None
        assert bo.id is not None
        green = await repos.families.create(alex.id, "Green", "england", NOW)
        await repos.families.create(alex.id, "Adams", "wales", NOW)
        await repos.families.create(bo.id, "GREEN", "scotland", NOW)
        assert green.id is not None
    async with db.transaction() as repos:
        stored = await repos.families.by_id(green.id)
        assert stored is not None
        assert (stored.name, stored.nation, stored.practitioner_id) == ("Green", "england", alex.id)
        assert_utc(stored.created_at, NOW)
        assert await repos.families.by_id(10_000) is None
        assert [f.nation for f in await repos.families.by_name("green")] == ["england", "scotland"]
        assert await repos.families.by_name("Gree") == []
        assert [f.name for f in await repos.families.for_practitioner(alex.id)] == [
            "Adams",
            "Green",
        ]
        assert await repos.families.for_practitioner(10_000) == []


async def test_a_practitioner_cannot_hold_two_families_of_one_name(db: Database) -> None:
    practitioner_id, _, _ = await seed(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.families.create(practitioner_id, "Green", "england", NOW)


async def test_members(db: Database) -> None:
    _, family_id, sam_id = await seed(db)
    async with db.transaction() as repos:
        mia = await repos.members.create(
            family_id,
            "child",
            "Mia",
            NOW,
            telegram_user_id=BIG,
            chat_id=BIG,
            timezone="Europe/Dublin",
            language="cy",
        )
        assert mia.id is not None
    async with db.transaction() as repos:
        sam = await repos.members.by_id(sam_id)
        assert sam is not None
        assert (sam.role, sam.display_name, sam.telegram_user_id, sam.chat_id) == (
            "parent",
            "Sam",
            501,
            None,
        )
        assert (sam.timezone, sam.language, sam.active) == ("Europe/London", "en", True)
        found = await repos.members.by_telegram_id(BIG)
        assert found is not None
        assert (found.id, found.chat_id, found.timezone, found.language) == (
            mia.id,
            BIG,
            "Europe/Dublin",
            "cy",
        )
        assert await repos.members.by_telegram_id(BIG + 1) is None
        # Mia shares her Telegram id with the practitioner (seed), who is found alongside;
        # Sam is a member only.
        identified = await repos.members.identify(BIG)
        assert identified is not None
        assert identified[2] is not None
        assert (identified[0].id, identified[1].id, identified[2].name) == (
            mia.id,
            family_id,
            "Alex",
        )
        sam_only = await repos.members.identify(501)
        assert sam_only is not None
        assert (sam_only[0].id, sam_only[1].id, sam_only[2]) == (sam_id, family_id, None)
        assert await repos.members.identify(BIG + 1) is None
        assert await repos.members.by_id(10_000) is None
        assert [m.display_name for m in await repos.members.in_family(family_id)] == ["Sam", "Mia"]
        assert await repos.members.in_family(10_000) == []
        found.active = False
        found.last_active_at = NOW + timedelta(hours=1)
        await repos.members.save(found)
    async with db.transaction() as repos:
        saved = await repos.members.by_id(mia.id)
        assert saved is not None
        assert saved.active is False
        assert_utc(saved.last_active_at, NOW + timedelta(hours=1))


async def test_a_telegram_user_is_one_member(db: Database) -> None:
    _, family_id, _ = await seed(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.members.create(family_id, "parent", "Sam again", NOW, telegram_user_id=501)


async def test_invites(db: Database) -> None:
    _, family_id, sam_id = await seed(db)
    expires = NOW + timedelta(days=7)
    async with db.transaction() as repos:
        first = await repos.invites.create(family_id, "child", "Mia", "a" * 64, NOW, expires)
        await repos.invites.create(family_id, "parent", "Jo", "b" * 64, NOW, expires)
        assert first.id is not None
    async with db.transaction() as repos:
        invite = await repos.invites.by_hash("a" * 64)
        assert invite is not None
        assert (invite.id, invite.role, invite.member_name) == (first.id, "child", "Mia")
        assert_utc(invite.created_at, NOW)
        assert_utc(invite.expires_at, expires)
        assert invite.used_at is None
        assert invite.used_by_member_id is None
        assert await repos.invites.by_hash("c" * 64) is None
        assert [i.member_name for i in await repos.invites.for_family(family_id)] == ["Mia", "Jo"]
        assert await repos.invites.for_family(10_000) == []
        invite.used_at = NOW + timedelta(hours=2)
        invite.used_by_member_id = sam_id
        await repos.invites.save(invite)
    async with db.transaction() as repos:
        used = await repos.invites.by_hash("a" * 64)
        assert used is not None
        assert_utc(used.used_at, NOW + timedelta(hours=2))
        assert used.used_by_member_id == sam_id


async def test_invite_codes_are_unique(db: Database) -> None:
    _, family_id, _ = await seed(db)
    async with db.transaction() as repos:
        await repos.invites.create(family_id, "child", "Mia", "a" * 64, NOW, NOW)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.invites.create(family_id, "child", "Mia", "a" * 64, NOW, NOW)


async def test_invite_attempts_count_within_a_window_then_start_a_new_one(db: Database) -> None:
    window = timedelta(minutes=15)
    async with db.transaction() as repos:
        attempts = repos.invite_attempts
        assert await attempts.failures("user-a", NOW, window) == 0
        assert await attempts.record_failure("user-a", NOW, window) == 1
        assert await attempts.record_failure("user-a", NOW + timedelta(minutes=5), window) == 2
    async with db.transaction() as repos:
        attempts = repos.invite_attempts
        last_moment = NOW + window - timedelta(microseconds=1)
        assert await attempts.record_failure("user-a", last_moment, window) == 3
        assert await attempts.failures("user-a", last_moment, window) == 3
        assert await attempts.failures("user-b", last_moment, window) == 0
        # The window is measured from its first failure: at NOW + window it has passed.
        assert await attempts.failures("user-a", NOW + window, window) == 0
        assert await attempts.record_failure("user-b", NOW, window) == 1
    async with db.transaction() as repos:
        attempts = repos.invite_attempts
        later = NOW + window
        assert await attempts.record_failure("user-a", later, window) == 1
        assert await attempts.record_failure("user-a", later + timedelta(minutes=1), window) == 2
        assert await attempts.failures("user-a", later + timedelta(minutes=14), window) == 2
        assert await attempts.failures("user-a", later + window, window) == 0
        assert await attempts.failures("user-b", NOW + timedelta(minutes=1), window) == 1


# --- runs and answers -----------------------------------------------------------------------


async def test_runs(db: Database) -> None:
    _, family_id, member_id = await seed(db)
    async with db.transaction() as repos:
        run = await start_run(repos, member_id, family_id)
        assert run.id is not None
    async with db.transaction() as repos:
        active = await repos.runs.active_for(member_id)
        assert active is not None
        assert (active.id, active.status, active.flow_id, active.flow_version) == (
            run.id,
            "active",
            "diary",
            3,
        )
        assert active.session_json == '{"step": "morning"}'
        assert_utc(active.started_at, NOW)
        assert_utc(active.updated_at, NOW)
        assert_utc(active.expires_at, NOW + timedelta(days=3))
        assert active.ended_at is None
        locked = await repos.runs.active_for(member_id, lock=True)
        assert locked is active
        assert await repos.runs.by_id(run.id) is active
        assert await repos.runs.by_id(run.id, lock=True) is active
        assert await repos.runs.by_id(10_000) is None
        assert await repos.runs.by_id(10_000, lock=True) is None
        assert await repos.runs.active_for(10_000) is None
        active.status = "completed"
        active.session_json = '{"step": null}'
        active.updated_at = active.ended_at = NOW + timedelta(minutes=4)
        await repos.runs.save(active)
        assert await repos.runs.active_for(member_id) is None
        second = await start_run(repos, member_id, family_id, "three_questions")
    async with db.transaction() as repos:
        runs = await repos.runs.for_member(member_id)
        assert [(r.flow_id, r.status) for r in runs] == [
            ("diary", "completed"),
            ("three_questions", "active"),
        ]
        assert_utc(runs[0].ended_at, NOW + timedelta(minutes=4))
        assert runs[0].session_json == '{"step": null}'
        locked = await repos.runs.active_for(member_id, lock=True)
        assert locked is not None
        assert locked.id == second.id
        assert await repos.runs.for_member(10_000) == []


async def test_one_active_run_per_member_but_many_ended_ones(db: Database) -> None:
    _, family_id, member_id = await seed(db)
    async with db.transaction() as repos:
        await start_run(repos, member_id, family_id)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await start_run(repos, member_id, family_id, "three_questions")
    for status in ("completed", "stopped", "expired"):
        async with db.transaction() as repos:
            run = await repos.runs.active_for(member_id, lock=True)
            assert run is not None
            run.status = status
            run.ended_at = NOW
            await repos.runs.save(run)
            await start_run(repos, member_id, family_id)
    async with db.transaction() as repos:
        sibling = await repos.members.create(family_id, "child", "Mia", NOW)
        assert sibling.id is not None
        await start_run(repos, sibling.id, family_id)  # another member's run is independent
        statuses = [r.status for r in await repos.runs.for_member(member_id)]
        assert statuses == ["completed", "stopped", "expired", "active"]


async def test_answers(db: Database) -> None:
    _, family_id, member_id = await seed(db)
    async with db.transaction() as repos:
        run = await start_run(repos, member_id, family_id)
        assert run.id is not None
        run_id = run.id

        async def add(step: str, flow: str, minutes: int, free_text: str | None = None) -> int:
            answer = await repos.answers.add(
                run_id,
                member_id,
                family_id,
                flow,
                step,
                step,
                "text" if free_text else "choice",
                '"hard"' if not free_text else f'"{free_text}"',
                free_text,
                "practitioner",
                NOW + timedelta(minutes=minutes),
            )
            assert answer.id is not None
            return answer.id

        await add("morning", "diary", 2)
        await add("morning_hard", "diary", 1, "Shoes again")
        await add("feeling", "feelings_checkin", 2)
    async with db.transaction() as repos:
        stored = await repos.answers.for_run(run_id)
        assert [a.step_id for a in stored] == ["morning", "morning_hard", "feeling"]
        first = stored[0]
        assert (first.flow_id, first.name, first.ask_type, first.value_json) == (
            "diary",
            "morning",
            "choice",
            '"hard"',
        )
        assert (first.free_text, first.share, first.family_id) == (None, "practitioner", family_id)
        assert_utc(first.created_at, NOW + timedelta(minutes=2))
        assert stored[1].free_text == "Shoes again"
        # Ordered by when they were given, then by id.
        by_member = await repos.answers.for_member(member_id)
        assert [a.step_id for a in by_member] == ["morning_hard", "morning", "feeling"]
        assert await repos.answers.for_member(10_000) == []
        assert await repos.answers.for_run(10_000) == []
        assert await repos.answers.set_share(run_id, "diary", "private") == 2
        assert await repos.answers.set_share(run_id, "diary", "private") == 0
        assert await repos.answers.set_share(run_id, "other_flow", "private") == 0
        assert first.share == "private"  # the session's objects follow the update
    async with db.transaction() as repos:
        shares = {a.step_id: a.share for a in await repos.answers.for_run(run_id)}
        assert shares == {
            "morning": "private",
            "morning_hard": "private",
            "feeling": "practitioner",
        }


# --- outbox ---------------------------------------------------------------------------------


async def test_outbox(db: Database) -> None:
    _, _, member_id = await seed(db)
    async with db.transaction() as repos:
        first = await repos.outbox.add(BIG, "sendMessage", '{"text": "Hi"}', NOW)
        question = await repos.outbox.add(
            SUPERGROUP, "sendMessage", "{}", NOW, member_id=member_id, run_id=7, prompt=1
        )
        again = await repos.outbox.add(
            SUPERGROUP, "sendMessage", "{}", NOW, member_id=member_id, run_id=7, prompt=1
        )
        assert first.id is not None
        assert question.id is not None
        assert again.id is not None
        edit = await repos.outbox.add(
            SUPERGROUP, "editMessageReplyMarkup", "{}", NOW, ref_id=question.id, run_id=7
        )
        assert edit.id is not None
    async with db.transaction() as repos:
        stored = await repos.outbox.by_id(first.id)
        assert stored is not None
        assert (stored.chat_id, stored.method, stored.payload_json) == (
            BIG,
            "sendMessage",
            '{"text": "Hi"}',
        )
        assert (stored.status, stored.attempts, stored.sent_message_id) == ("pending", 0, None)
        assert stored.member_id is None
        assert_utc(stored.created_at, NOW)
        assert stored.sent_at is None
        assert await repos.outbox.by_id(10_000) is None
        assert [m.id for m in await repos.outbox.pending()] == [
            first.id,
            question.id,
            again.id,
            edit.id,
        ]
        assert [m.id for m in await repos.outbox.pending(chat_id=SUPERGROUP)] == [
            question.id,
            again.id,
            edit.id,
        ]
        assert [m.id for m in await repos.outbox.pending(limit=2)] == [first.id, question.id]
        latest = await repos.outbox.question_for(7, 1)
        assert latest is not None
        assert latest.id == again.id
        assert await repos.outbox.question_for(7, 2) is None
        assert await repos.outbox.question_for(8, 1) is None
        await repos.outbox.mark_sent(first.id, BIG + 5, NOW + timedelta(seconds=1))
        await repos.outbox.mark_failed(question.id, "Forbidden: bot was blocked " * 20, NOW)
        await repos.outbox.mark_sent(edit.id, None, NOW + timedelta(seconds=2))
    async with db.transaction() as repos:
        assert [m.id for m in await repos.outbox.pending()] == [again.id]
        sent = await repos.outbox.by_id(first.id)
        assert sent is not None
        assert (sent.status, sent.attempts, sent.sent_message_id) == ("sent", 1, BIG + 5)
        assert_utc(sent.sent_at, NOW + timedelta(seconds=1))
        failed = await repos.outbox.by_id(question.id)
        assert failed is not None
        assert (failed.status, failed.attempts) == ("failed", 1)
        assert failed.error is not None
        assert failed.error.startswith("Forbidden: bot was blocked")
        assert len(failed.error) == 200
        edited = await repos.outbox.by_id(edit.id)
        assert edited is not None
        assert (edited.status, edited.sent_message_id, edited.ref_id) == ("sent", None, question.id)
        with pytest.raises(RowNotFoundError, match="no outbox message with id 10000"):
            await repos.outbox.mark_sent(10_000, 1, NOW)
        with pytest.raises(RowNotFoundError):
            await repos.outbox.mark_failed(10_000, "gone", NOW)


# --- bookkeeping ----------------------------------------------------------------------------


async def test_claiming_an_update_twice_is_true_then_false(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.updates.claim(BIG, NOW) is True
        assert await repos.updates.claim(BIG, NOW) is False
        assert await repos.updates.claim(1, NOW) is True
    async with db.transaction() as repos:
        assert await repos.updates.claim(BIG, NOW + timedelta(seconds=1)) is False


async def test_concurrent_claims_of_one_update_let_exactly_one_through(db: Database) -> None:
    async def claim(update_id: int) -> bool:
        async with db.transaction() as repos:
            return await repos.updates.claim(update_id, NOW)

    # The first round also opens the pool's connections; later rounds overlap completely.
    for update_id in (BIG, BIG + 1, BIG + 2):
        results = await asyncio.gather(*(claim(update_id) for _ in range(4)))
        assert sorted(results) == [False, False, False, True]


async def test_pruning_forgets_old_updates(db: Database) -> None:
    async with db.transaction() as repos:
        for hours, update_id in ((0, 1), (1, 2), (2, BIG)):
            assert await repos.updates.claim(update_id, NOW + timedelta(hours=hours))
    async with db.transaction() as repos:
        assert await repos.updates.prune(NOW + timedelta(hours=1, minutes=30)) == 2
        assert await repos.updates.prune(NOW + timedelta(hours=1, minutes=30)) == 0
    async with db.transaction() as repos:
        assert await repos.updates.claim(1, NOW) is True  # forgotten, so new again
        assert await repos.updates.claim(BIG, NOW) is False


async def test_counters_upsert(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.counters.get("unknown_senders") == 0
        assert await repos.counters.increment("unknown_senders") == 1
        assert await repos.counters.increment("unknown_senders", by=5) == 6
        assert await repos.counters.increment("blocked") == 1
    async with db.transaction() as repos:
        assert await repos.counters.get("unknown_senders") == 6
        assert await repos.counters.increment("unknown_senders", by=-2) == 4
        assert await repos.counters.get("blocked") == 1


async def test_concurrent_increments_are_not_lost(db: Database) -> None:
    async def bump() -> int:
        async with db.transaction() as repos:
            return await repos.counters.increment("hits")

    results = await asyncio.gather(*(bump() for _ in range(5)))
    assert sorted(results) == [1, 2, 3, 4, 5]
    async with db.transaction() as repos:
        assert await repos.counters.get("hits") == 5


async def test_audit(db: Database) -> None:
    async with db.transaction() as repos:
        first = await repos.audit.record(NOW, "practitioner", BIG, "family.create", "family", 1)
        await repos.audit.record(NOW + timedelta(minutes=1), "system", None, "run.expire")
        await repos.audit.record(
            NOW + timedelta(minutes=1), "member", 3, "privacy.export", "member", BIG, "x" * 400
        )
        assert first.id is not None
    async with db.transaction() as repos:
        recent = await repos.audit.recent()
        assert [e.action for e in recent] == ["privacy.export", "run.expire", "family.create"]
        newest, _, oldest = recent
        assert (oldest.actor_type, oldest.actor_id, oldest.target_type, oldest.target_id) == (
            "practitioner",
            BIG,
            "family",
            1,
        )
        assert oldest.detail is None
        assert_utc(oldest.at, NOW)
        assert newest.target_id == BIG
        assert newest.detail is not None
        assert len(newest.detail) == 300
        assert [e.action for e in await repos.audit.recent(limit=1)] == ["privacy.export"]


async def test_big_ids_round_trip(db: Database) -> None:
    huge = 2**62 + 1
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(huge, "Alex", NOW)
        practitioner.chat_id = SUPERGROUP
        await repos.practitioners.save(practitioner)
        assert practitioner.id is not None
        family = await repos.families.create(practitioner.id, "Green", "england", NOW)
        assert family.id is not None
        await repos.members.create(family.id, "parent", "Sam", NOW, huge, SUPERGROUP)
        message = await repos.outbox.add(SUPERGROUP, "sendMessage", "{}", NOW)
        assert message.id is not None
        await repos.outbox.mark_sent(message.id, huge, NOW)
        assert await repos.updates.claim(huge, NOW)
    async with db.transaction() as repos:
        stored = await repos.practitioners.by_telegram_id(huge)
        assert stored is not None
        assert stored.chat_id == SUPERGROUP
        member = await repos.members.by_telegram_id(huge)
        assert member is not None
        assert member.chat_id == SUPERGROUP
        sent = await repos.outbox.by_id(message.id)
        assert sent is not None
        assert (sent.chat_id, sent.sent_message_id) == (SUPERGROUP, huge)
        assert await repos.updates.claim(huge, NOW) is False


async def test_lock_holds_the_run_row_on_postgresql(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; every SQLite transaction holds the write lock")
    _, family_id, member_id = await seed(db)
    async with db.transaction() as repos:
        run = await start_run(repos, member_id, family_id)
        assert run.id is not None
    async with db.transaction() as holder:
        assert await holder.runs.active_for(member_id, lock=True) is not None
        with pytest.raises(DBAPIError, match="lock timeout"):  # noqa: PT012
            async with db.transaction() as other:
                await (await other.session.connection()).exec_driver_sql(
                    "SET LOCAL lock_timeout = '50ms'"
                )
                assert await other.runs.by_id(run.id) is not None  # plain reads are not blocked
                await other.runs.by_id(run.id, lock=True)
