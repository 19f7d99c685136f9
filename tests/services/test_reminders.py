"""The reminder sweep, in-process, on SQLite and PostgreSQL, with a fake clock.

Every sweep runs as the bot runs it: one transaction, ``Reminders.sweep(repos, Outbox(...),
now)``; what a person would receive is read back from the outbox. Times are Europe/London,
which is UTC in November, so the local times below are also the UTC times.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlmodel import col, select

from rpbot.clock import FakeClock
from rpbot.dialogues import default_library
from rpbot.engine import ButtonInput, CommandInput, Session
from rpbot.scheduling.rules import Rule
from rpbot.services.conversation import Conversations
from rpbot.services.enrolment import add_practitioner, create_family, create_invite, redeem
from rpbot.services.incoming import Incoming
from rpbot.services.outbox import Outbox
from rpbot.services.reminder_settings import ReminderSettings
from rpbot.services.reminders import Reminders, SweepReport, parse_reminder
from rpbot.storage.db import Database
from rpbot.storage.tables import Answer, FlowRun, Member, OutboxMessage, Reminder, Schedule

pytestmark = pytest.mark.asyncio

LIBRARY = default_library()
LONDON = "Europe/London"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday noon (GMT)
PARENT_ID, CHILD_ID = 1001, 1002
REMINDER_BUTTONS = ["▶️ Start now", "⏰ Later", "🙅 Not today"]


def day(offset: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """``offset`` days after the start (Monday 23 November 2026), at hh:mm:ss UTC."""
    return START.replace(hour=hour, minute=minute, second=second) + timedelta(days=offset)


@dataclass
class Sent:
    """One outgoing message recorded in the outbox."""

    id: int
    chat_id: int
    text: str
    labels: list[str]
    data: list[str]


def as_sent(row: OutboxMessage) -> Sent:
    payload = json.loads(row.payload_json)
    buttons = [button for line in payload.get("buttons", []) for button in line]
    return Sent(
        row.id or 0,
        row.chat_id,
        payload.get("text", ""),
        [b["label"] for b in buttons],
        [b["data"] for b in buttons],
    )


@dataclass
class World:
    """A practitioner with one family, the reminder service, a fake clock and the database."""

    db: Database
    clock: FakeClock
    reminders: Reminders
    family_id: int

    async def enrol(self, role: str, name: str, user_id: int, timezone: str = LONDON) -> int:
        """Join the family through an invite, as a person would (defaults included)."""
        now = self.clock.now()
        async with self.db.transaction() as repos:
            family = await repos.families.by_id(self.family_id)
            assert family is not None
            invite = await create_invite(repos, family, role, name, now)
            incoming = Incoming(
                user_id=user_id, chat_id=user_id, kind="command", command="start", args=invite.code
            )
            member = await redeem(
                repos,
                Outbox(repos, now),
                incoming,
                now,
                secret="test-secret",
                timezone=timezone,
                reminders=self.reminders,
            )
            assert member is not None
            assert member.id is not None
            return member.id

    async def sweep(self, at: datetime | None = None, db: Database | None = None) -> SweepReport:
        """Move the clock (if given) and run one sweep as the bot does."""
        if at is not None:
            self.clock.set(at)
        now = self.clock.now()
        async with (db or self.db).transaction() as repos:
            return await self.reminders.sweep(repos, Outbox(repos, now), now)

    async def last_id(self) -> int:
        async with self.db.transaction() as repos:
            rows = (await repos.session.exec(select(OutboxMessage.id))).all()
        return max((r or 0 for r in rows), default=0)

    async def sends(self, chat_id: int, since: int = 0) -> list[Sent]:
        """Messages queued for a chat after outbox id ``since``."""
        async with self.db.transaction() as repos:
            query = (
                select(OutboxMessage)
                .where(
                    col(OutboxMessage.chat_id) == chat_id,
                    col(OutboxMessage.method) == "send",
                    col(OutboxMessage.id) > since,
                )
                .order_by(col(OutboxMessage.id))
            )
            return [as_sent(row) for row in (await repos.session.exec(query)).all()]

    async def prompts(self, chat_id: int, since: int = 0) -> list[Sent]:
        """Reminder messages (with the three buttons) queued for a chat."""
        return [s for s in await self.sends(chat_id, since) if s.labels == REMINDER_BUTTONS]

    async def rows(self, table: type[Any], **where: object) -> list[Any]:
        async with self.db.transaction() as repos:
            query: Any = select(table)
            for key, value in where.items():
                query = query.where(getattr(table, key) == value)
            return list((await repos.session.exec(query.order_by(table.id))).all())

    async def member(self, user_id: int) -> Member:
        async with self.db.transaction() as repos:
            found = await repos.members.by_telegram_id(user_id)
        assert found is not None
        return found

    async def schedule(self, user_id: int, flow_id: str) -> Schedule:
        member = await self.member(user_id)
        found = [s for s in await self.rows(Schedule, member_id=member.id) if s.flow_id == flow_id]
        assert len(found) == 1, found
        schedule: Schedule = found[0]
        return schedule

    async def add_schedule(self, user_id: int, flow_id: str, days: str, at: str) -> int:
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            schedule = await self.reminders.add(
                repos, member, flow_id, Rule.parse(days, at), self.clock.now(), "practitioner"
            )
            assert schedule.id is not None
            return schedule.id

    async def remove_defaults(self, user_id: int) -> None:
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            for schedule in await repos.schedules.for_member(member.id or 0):
                await repos.schedules.remove(schedule)

    async def press(
        self, user_id: int, reminder_id: int, action: str, message_id: int | None = 77
    ) -> str | None:
        now = self.clock.now()
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            family = await repos.families.by_id(member.family_id)
            assert family is not None
            return await self.reminders.press(
                repos, Outbox(repos, now), member, family, reminder_id, action, message_id, now
            )

    async def setting(self, user_id: int, schedule_id: int, action: str) -> None:
        now = self.clock.now()
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            settings = ReminderSettings(self.reminders)
            await settings.press(repos, Outbox(repos, now), member, schedule_id, action, now)

    async def start_flow(self, user_id: int, flow_id: str) -> None:
        now = self.clock.now()
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            family = await repos.families.by_id(member.family_id)
            assert family is not None
            await self.reminders.conversations.start(
                repos, Outbox(repos, now), member, family, flow_id, now
            )

    async def give(self, user_id: int, given: ButtonInput | CommandInput) -> None:
        """Answer the member's active run (a button value, or a command such as stop)."""
        now = self.clock.now()
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            run = await repos.runs.active_for(member.id or 0, lock=True)
            assert run is not None
            if isinstance(given, ButtonInput):
                given = ButtonInput(given.value, Session.from_json(run.session_json).prompt)
            await self.reminders.conversations.resume(
                repos, Outbox(repos, now), member, run, given, now
            )

    async def set_member(self, user_id: int, **changes: object) -> None:
        async with self.db.transaction() as repos:
            member = await repos.members.by_telegram_id(user_id)
            assert member is not None
            for key, value in changes.items():
                setattr(member, key, value)
            await repos.members.save(member)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest_asyncio.fixture
async def world(db: Database, clock: FakeClock) -> World:
    async with db.transaction() as repos:
        practitioner = await add_practitioner(repos, 9001, "Alex", clock.now())
        family = await create_family(repos, practitioner, "Green", "england", clock.now())
        assert family.id is not None
        family_id = family.id
    return World(db, clock, Reminders(LIBRARY, Conversations(LIBRARY)), family_id)


# --- defaults -------------------------------------------------------------------------


async def test_a_parent_gets_the_default_schedules_and_adult_quiet_hours(world: World) -> None:
    since = await world.last_id()
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    member = await world.member(PARENT_ID)
    assert (member.quiet_start, member.quiet_end) == ("21:00", "08:00")
    schedules = await world.rows(Schedule, member_id=member_id)
    assert [(s.flow_id, s.days, s.time_of_day, s.created_by) for s in schedules] == [
        ("day_in_the_life", "", "19:30", "default"),
        ("three_questions", "sun", "18:00", "default"),
    ]
    assert schedules[0].next_fire_at == day(0, 19, 30)  # today, Monday
    assert schedules[1].next_fire_at == day(6, 18, 0)  # Sunday 29 November
    assert all(s.paused_until is None for s in schedules)
    # They are shown to the person when they join.
    told = [s.text for s in await world.sends(PARENT_ID, since) if "/reminders" in s.text]
    assert len(told) == 1
    assert "Day in the Life diary: every day at 19:30" in told[0]
    assert "Three-question check-in: Sundays at 18:00" in told[0]


async def test_a_child_gets_the_default_schedules_and_child_quiet_hours(world: World) -> None:
    since = await world.last_id()
    member_id = await world.enrol("child", "Kim", CHILD_ID)
    member = await world.member(CHILD_ID)
    assert (member.quiet_start, member.quiet_end) == ("20:00", "07:30")
    schedules = await world.rows(Schedule, member_id=member_id)
    assert [(s.flow_id, s.days, s.time_of_day) for s in schedules] == [
        ("chore_checkin", "", "17:00"),
        ("three_houses", "sat", "11:00"),
    ]
    assert schedules[0].next_fire_at == day(0, 17, 0)
    assert schedules[1].next_fire_at == day(5, 11, 0)  # Saturday 28 November
    told = [s.text for s in await world.sends(CHILD_ID, since) if "/reminders" in s.text]
    assert len(told) == 1
    assert "Chore check-in: every day at 17:00" in told[0]
    assert "Saturdays at 11:00" in told[0]


async def test_defaults_follow_the_members_timezone(world: World) -> None:
    member_id = await world.enrol("parent", "Ana", PARENT_ID, timezone="America/New_York")
    schedules = await world.rows(Schedule, member_id=member_id)
    # 19:30 EST on Monday 23 November is 00:30 UTC on Tuesday.
    assert schedules[0].next_fire_at == day(1, 0, 30)
    assert schedules[0].next_fire_at.astimezone(ZoneInfo("America/New_York")).hour == 19


# --- a reminder at its time -------------------------------------------------------------


async def test_a_reminder_is_sent_at_its_time_with_three_buttons_and_not_before(
    world: World,
) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    since = await world.last_id()
    report = await world.sweep(day(0, 19, 29, 59))
    assert report.sent == 0
    assert await world.prompts(PARENT_ID, since) == []
    assert await world.rows(Reminder, member_id=member_id) == []

    report = await world.sweep(day(0, 19, 30))
    assert report.sent == 1
    assert PARENT_ID in report.chats
    [prompt] = await world.prompts(PARENT_ID, since)
    assert "Time for your Day in the Life diary, Sam" in prompt.text
    [reminder] = await world.rows(Reminder, member_id=member_id)
    assert (reminder.status, reminder.flow_id) == ("sent", "day_in_the_life")
    assert reminder.due_at == day(0, 19, 30)
    assert reminder.sent_at == day(0, 19, 30)
    assert [parse_reminder(d) for d in prompt.data] == [
        (reminder.id, "start"),
        (reminder.id, "later"),
        (reminder.id, "skip"),
    ]
    # The schedule moved on to tomorrow.
    assert (await world.schedule(PARENT_ID, "day_in_the_life")).next_fire_at == day(1, 19, 30)


async def test_sweeping_again_sends_nothing_more(world: World) -> None:
    await world.enrol("parent", "Sam", PARENT_ID)
    since = await world.last_id()
    await world.sweep(day(0, 19, 30, 5))
    for seconds in (10, 15, 20, 600):
        await world.sweep(day(0, 19, 30) + timedelta(seconds=seconds))
    assert len(await world.prompts(PARENT_ID, since)) == 1


async def test_a_childs_reminder_uses_simpler_words(world: World) -> None:
    await world.enrol("child", "Kim", CHILD_ID)
    since = await world.last_id()
    await world.sweep(day(0, 17, 0))
    [prompt] = await world.prompts(CHILD_ID, since)
    assert prompt.text.startswith("⏰ Hi Kim! Time for")
    assert "Chore check-in" in prompt.text


async def test_a_member_in_new_york_is_reminded_at_1930_new_york_time(world: World) -> None:
    await world.enrol("parent", "Ana", PARENT_ID, timezone="America/New_York")
    since = await world.last_id()
    await world.sweep(day(0, 19, 30))  # 14:30 in New York
    assert await world.prompts(PARENT_ID, since) == []
    await world.sweep(day(1, 0, 30))  # 19:30 EST
    assert len(await world.prompts(PARENT_ID, since)) == 1


# --- downtime ---------------------------------------------------------------------------


async def test_after_two_hours_down_recent_items_are_sent_once_and_older_ones_skipped(
    world: World, migrated_url: str
) -> None:
    await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    old = await world.add_schedule(PARENT_ID, "three_questions", "daily", "10:55")
    recent = await world.add_schedule(PARENT_ID, "day_in_the_life", "daily", "11:05")
    latest = await world.add_schedule(PARENT_ID, "fair_process", "daily", "12:45")
    await world.sweep(day(1, 10, 50))  # the last sweep before the bot stopped
    since = await world.last_id()

    # Down from 10:55 until 12:56: a new process on a new connection sweeps.
    restarted = Database(migrated_url)
    try:
        report = await world.sweep(day(1, 12, 56), db=restarted)
        assert (report.sent, report.missed) == (2, 1)
        for seconds in (5, 10, 60):
            await world.sweep(day(1, 12, 56) + timedelta(seconds=seconds), db=restarted)
    finally:
        await restarted.dispose()

    prompts = await world.prompts(PARENT_ID, since)
    assert len(prompts) == 2
    assert any("Day in the Life diary" in p.text for p in prompts)
    assert any("Fair process" in p.text for p in prompts)
    by_schedule = {r.schedule_id: r for r in await world.rows(Reminder)}
    assert (by_schedule[old].status, by_schedule[old].reason) == ("skipped", "missed")
    assert by_schedule[old].due_at == day(1, 10, 55)
    assert by_schedule[recent].status == "sent"
    assert by_schedule[latest].status == "sent"
    # The next occurrences are tomorrow's, at the same local times.
    schedules = {s.id: s for s in await world.rows(Schedule)}
    assert schedules[old].next_fire_at == day(2, 10, 55)
    assert schedules[recent].next_fire_at == day(2, 11, 5)
    assert schedules[latest].next_fire_at == day(2, 12, 45)


@pytest.mark.parametrize(("back_at", "expected"), [((3, 19, 45), 1), ((3, 23, 0), 0)])
async def test_a_daily_reminder_missed_for_three_days_sends_at_most_one(
    world: World, back_at: tuple[int, int, int], expected: int
) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    since = await world.last_id()
    await world.sweep(day(0, 19, 0))  # then the bot is down for three days
    report = await world.sweep(day(*back_at))
    await world.sweep(day(*back_at) + timedelta(minutes=5))
    prompts = await world.prompts(PARENT_ID, since)
    assert len(prompts) == expected
    diary = await world.rows(Reminder, member_id=member_id)
    assert [r.due_at for r in diary] == [day(n, 19, 30) for n in range(4)]
    missed = [r for r in diary if (r.status, r.reason) == ("skipped", "missed")]
    assert len(missed) == 4 - expected
    assert report.missed == 4 - expected
    assert (await world.schedule(PARENT_ID, "day_in_the_life")).next_fire_at == day(4, 19, 30)


# --- busy, quiet hours ------------------------------------------------------------------


async def test_a_member_in_another_flow_gets_the_reminder_once_that_flow_ends(
    world: World,
) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.sweep(day(0, 19, 0))
    await world.start_flow(PARENT_ID, "three_questions")
    since = await world.last_id()

    report = await world.sweep(day(0, 19, 30))
    assert report.waiting == 1
    [reminder] = await world.rows(Reminder, member_id=member_id)
    assert reminder.status == "waiting"
    for minute in (31, 36, 41, 50):
        await world.sweep(day(0, 19, minute))
    assert await world.prompts(PARENT_ID, since) == []

    await world.give(PARENT_ID, CommandInput("stop"))
    assert [r.status for r in await world.rows(FlowRun, member_id=member_id)] != ["active"]
    for minute in (52, 57, 58, 59):
        await world.sweep(day(0, 20, minute))
    prompts = await world.prompts(PARENT_ID, since)
    assert len(prompts) == 1
    assert "Day in the Life diary" in prompts[0].text
    [reminder] = await world.rows(Reminder, member_id=member_id)
    assert reminder.status == "sent"


async def test_a_reminder_for_the_flow_already_running_is_not_sent(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.start_flow(PARENT_ID, "day_in_the_life")
    since = await world.last_id()
    await world.sweep(day(0, 19, 30))
    assert await world.prompts(PARENT_ID, since) == []
    [reminder] = await world.rows(Reminder, member_id=member_id)
    assert (reminder.status, reminder.reason) == ("skipped", "already_started")


async def test_a_reminder_still_waiting_at_the_next_occurrence_is_superseded(
    world: World,
) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.start_flow(PARENT_ID, "three_questions")
    since = await world.last_id()
    # The member stays in the check-in all evening and all the next day.
    for when in (day(0, 19, 30), day(0, 20, 0), day(0, 23, 0), day(1, 8, 0), day(1, 12, 0)):
        await world.sweep(when)
    [first] = await world.rows(Reminder, member_id=member_id)
    assert first.status == "waiting"

    await world.sweep(day(1, 19, 30))
    first, second = await world.rows(Reminder, member_id=member_id)
    assert (first.status, first.reason) == ("skipped", "superseded")
    assert first.due_at == day(0, 19, 30)
    assert second.status == "waiting"
    assert second.due_at == day(1, 19, 30)

    await world.give(PARENT_ID, CommandInput("stop"))
    for minute in (40, 45, 50):
        await world.sweep(day(1, 19, minute))
    assert len(await world.prompts(PARENT_ID, since)) == 1
    assert [r.status for r in await world.rows(Reminder, member_id=member_id)] == [
        "skipped",
        "sent",
    ]


async def test_a_reminder_due_in_quiet_hours_is_sent_at_their_end(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    await world.add_schedule(PARENT_ID, "day_in_the_life", "daily", "22:00")
    since = await world.last_id()
    report = await world.sweep(day(0, 22, 0))
    assert report.deferred == 1
    [reminder] = await world.rows(Reminder, member_id=member_id)
    assert reminder.send_at == day(1, 8, 0)
    await world.sweep(day(1, 7, 59, 59))
    assert await world.prompts(PARENT_ID, since) == []
    await world.sweep(day(1, 8, 0))
    assert len(await world.prompts(PARENT_ID, since)) == 1


async def test_nothing_is_sent_inside_quiet_hours(world: World) -> None:
    await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    await world.add_schedule(PARENT_ID, "day_in_the_life", "daily", "22:00")
    await world.add_schedule(PARENT_ID, "three_questions", "daily", "06:00")
    since = await world.last_id()
    when = day(0, 21, 0)
    while when < day(1, 8, 0):
        await world.sweep(when)
        when += timedelta(minutes=30)
    assert await world.prompts(PARENT_ID, since) == []


@pytest.mark.parametrize(
    ("nights", "expected"),
    [
        # The night of the March change (Sunday 28th): 01:30 does not exist; 02:30 BST.
        (
            [datetime(2027, 3, d, 22, 0, tzinfo=UTC) for d in (26, 27, 28)],
            [datetime(2027, 3, 27, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
             datetime(2027, 3, 29, 0, 30, tzinfo=UTC)],
        ),
        # The night of the October change (Sunday 31st): 01:30 happens twice; the first.
        (
            [datetime(2027, 10, d, 22, 0, tzinfo=UTC) for d in (29, 30, 31)],
            [datetime(2027, 10, 30, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
             datetime(2027, 11, 1, 1, 30, tzinfo=UTC)],
        ),
    ],
    ids=["march", "october"],
)  # fmt: skip
async def test_sweeping_through_the_dst_nights_sends_one_reminder_a_night(
    world: World, nights: list[datetime], expected: list[datetime]
) -> None:
    world.clock.set(nights[0] - timedelta(hours=1))
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.set_member(PARENT_ID, quiet_start="12:00", quiet_end="12:00")  # none
    await world.remove_defaults(PARENT_ID)
    await world.add_schedule(PARENT_ID, "day_in_the_life", "daily", "01:30")
    since = await world.last_id()
    for night in nights:
        when = night
        while when <= night + timedelta(hours=5):  # 22:00 to 03:00 UTC, every 10 minutes
            await world.sweep(when)
            when += timedelta(minutes=10)
    sent = await world.rows(Reminder, member_id=member_id)
    assert [r.due_at for r in sent] == expected
    assert {r.status for r in sent} == {"sent"}
    assert [r.sent_at for r in sent] == expected  # each on time, to the sweep
    assert len(await world.prompts(PARENT_ID, since)) == 3


async def test_the_evening_reminder_stays_at_1930_local_over_the_march_change(
    world: World,
) -> None:
    world.clock.set(datetime(2027, 3, 26, 12, 0, tzinfo=UTC))
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    for d in (26, 27, 28, 29):
        for hour, minute in ((18, 30), (19, 30)):
            await world.sweep(datetime(2027, 3, d, hour, minute, tzinfo=UTC))
    diary = [
        r.sent_at
        for r in await world.rows(Reminder, member_id=member_id)
        if r.flow_id == "day_in_the_life"
    ]
    assert diary == [
        datetime(2027, 3, 26, 19, 30, tzinfo=UTC),
        datetime(2027, 3, 27, 19, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 18, 30, tzinfo=UTC),  # 19:30 BST
        datetime(2027, 3, 29, 18, 30, tzinfo=UTC),
    ]


# --- the person's answer ----------------------------------------------------------------


async def sent_reminder(world: World) -> tuple[int, int]:
    """The parent's 19:30 reminder, sent; (reminder id, outbox id before it)."""
    await world.enrol("parent", "Sam", PARENT_ID)
    since = await world.last_id()
    await world.sweep(day(0, 19, 30))
    [prompt] = await world.prompts(PARENT_ID, since)
    parsed = parse_reminder(prompt.data[0])
    assert parsed is not None
    return parsed[0], since


async def test_later_sends_the_reminder_again_after_an_hour(world: World) -> None:
    reminder_id, since = await sent_reminder(world)
    world.clock.set(day(0, 19, 35))
    assert await world.press(PARENT_ID, reminder_id, "later") is None
    replies = await world.sends(PARENT_ID, since)
    assert any("remind you again in an hour" in r.text for r in replies)
    [reminder] = await world.rows(Reminder, id=reminder_id)
    assert (reminder.status, reminder.send_at) == ("snoozed", day(0, 20, 35))

    for when in (day(0, 19, 40), day(0, 20, 0), day(0, 20, 34, 59)):
        await world.sweep(when)
    assert len(await world.prompts(PARENT_ID, since)) == 1
    await world.sweep(day(0, 20, 35))
    prompts = await world.prompts(PARENT_ID, since)
    assert len(prompts) == 2
    assert prompts[1].data == prompts[0].data  # the same reminder, asked again
    await world.sweep(day(0, 20, 40))
    assert len(await world.prompts(PARENT_ID, since)) == 2


async def test_not_today_sends_nothing_more_that_day(world: World) -> None:
    reminder_id, since = await sent_reminder(world)
    world.clock.set(day(0, 19, 31))
    await world.press(PARENT_ID, reminder_id, "skip")
    assert any("Maybe another day" in r.text for r in await world.sends(PARENT_ID, since))
    [reminder] = await world.rows(Reminder, id=reminder_id)
    assert reminder.status == "declined"
    for when in (day(0, 20, 31), day(0, 20, 40), day(1, 8, 0), day(1, 19, 29)):
        await world.sweep(when)
    assert len(await world.prompts(PARENT_ID, since)) == 1
    # Tomorrow is another day.
    await world.sweep(day(1, 19, 30))
    assert len(await world.prompts(PARENT_ID, since)) == 2


async def test_start_now_starts_the_flow_and_removes_the_buttons(world: World) -> None:
    reminder_id, _ = await sent_reminder(world)
    mark = await world.last_id()
    world.clock.set(day(0, 19, 32))
    assert await world.press(PARENT_ID, reminder_id, "start", message_id=4242) is None
    [reminder] = await world.rows(Reminder, id=reminder_id)
    assert (reminder.status, reminder.answered_at) == ("started", day(0, 19, 32))
    member = await world.member(PARENT_ID)
    [run] = await world.rows(FlowRun, member_id=member.id)
    assert (run.flow_id, run.status) == ("day_in_the_life", "active")
    edits = [
        json.loads(r.payload_json)
        for r in await world.rows(OutboxMessage, chat_id=PARENT_ID, method="edit")
        if (r.id or 0) > mark
    ]
    assert edits == [{"buttons": [], "message_id": 4242}]
    assert any(s.labels for s in await world.sends(PARENT_ID, mark))  # the first question
    # A second press on the same reminder changes nothing.
    notice = await world.press(PARENT_ID, reminder_id, "later")
    assert notice == "That reminder has already been answered."
    assert len(await world.rows(FlowRun, member_id=member.id)) == 1


async def test_someone_elses_reminder_cannot_be_answered(world: World) -> None:
    reminder_id, _ = await sent_reminder(world)
    await world.enrol("parent", "Jo", 1003)
    notice = await world.press(1003, reminder_id, "start")
    assert notice == "That reminder has already been answered."
    [reminder] = await world.rows(Reminder, id=reminder_id)
    assert reminder.status == "sent"


async def test_a_member_who_blocked_the_bot_gets_nothing(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.set_member(PARENT_ID, active=False)
    since = await world.last_id()
    for offset in range(3):
        await world.sweep(day(offset, 19, 30))
        await world.sweep(day(offset, 19, 45))
    assert await world.sends(PARENT_ID, since) == []
    reminders = await world.rows(Reminder, member_id=member_id)
    assert {(r.status, r.reason) for r in reminders} <= {("skipped", "inactive")}


# --- nudges and expiry ------------------------------------------------------------------

NUDGE = "Your Day in the Life diary is still open"


async def test_a_waiting_flow_gets_exactly_one_nudge(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    await world.start_flow(PARENT_ID, "day_in_the_life")  # nudge_after: 3h
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.nudge_at == day(0, 15, 0)
    since = await world.last_id()
    await world.sweep(day(0, 14, 59, 59))
    assert not [s for s in await world.sends(PARENT_ID, since) if NUDGE in s.text]
    report = await world.sweep(day(0, 15, 0))
    assert report.nudged == 1
    for when in (day(0, 15, 5), day(0, 18, 0), day(0, 20, 0), day(1, 9, 0), day(1, 14, 0)):
        await world.sweep(when)
    nudges = [s for s in await world.sends(PARENT_ID, since) if NUDGE in s.text]
    assert len(nudges) == 1
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert (run.status, run.nudge_at) == ("active", None)


async def test_a_nudge_due_in_quiet_hours_waits_for_their_end(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    world.clock.set(day(0, 19, 0))
    await world.start_flow(PARENT_ID, "day_in_the_life")  # nudge due 22:00, inside 21-08
    since = await world.last_id()
    when = day(0, 22, 0)
    while when < day(1, 8, 0):
        await world.sweep(when)
        when += timedelta(minutes=20)
    assert await world.sends(PARENT_ID, since) == []
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.nudge_at == day(1, 8, 0)
    await world.sweep(day(1, 8, 0))
    await world.sweep(day(1, 8, 5))
    nudges = [s for s in await world.sends(PARENT_ID, since) if NUDGE in s.text]
    assert len(nudges) == 1


async def test_an_expired_run_is_closed_answers_kept_and_the_person_told_once(
    world: World,
) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    await world.start_flow(PARENT_ID, "day_in_the_life")  # expires_after: 3d
    await world.give(PARENT_ID, ButtonInput("calm"))
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.expires_at == day(3, 12, 0)
    answers = await world.rows(Answer, run_id=run.id)
    assert [a.name for a in answers] == ["morning"]
    await world.sweep(day(0, 15, 0))  # the nudge
    since = await world.last_id()

    await world.sweep(day(3, 11, 59, 59))
    assert await world.sends(PARENT_ID, since) == []
    report = await world.sweep(day(3, 12, 0))
    assert report.expired == 1
    for when in (day(3, 12, 5), day(3, 18, 0), day(4, 12, 0)):
        await world.sweep(when)
    told = [s for s in await world.sends(PARENT_ID, since) if "closed" in s.text]
    assert len(told) == 1
    assert "answers are saved" in told[0].text
    assert len(await world.sends(PARENT_ID, since)) == 1
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.status == "expired"
    assert [a.name for a in await world.rows(Answer, run_id=run.id)] == ["morning"]


async def test_an_expiry_in_quiet_hours_is_told_at_their_end(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    await world.remove_defaults(PARENT_ID)
    await world.set_member(PARENT_ID, quiet_start="11:00", quiet_end="13:00")
    world.clock.set(day(0, 10, 0))  # nudge at 13:00 (after quiet hours), expiry day 3 12:00
    await world.start_flow(PARENT_ID, "day_in_the_life")
    await world.sweep(day(0, 13, 0))
    since = await world.last_id()
    for when in (day(3, 12, 0), day(3, 12, 30), day(3, 12, 59)):
        await world.sweep(when)
    assert await world.sends(PARENT_ID, since) == []
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.status == "active"
    assert run.expires_at == day(3, 13, 0)
    await world.sweep(day(3, 13, 0))
    await world.sweep(day(3, 13, 5))
    told = [s for s in await world.sends(PARENT_ID, since) if "closed" in s.text]
    assert len(told) == 1
    [run] = await world.rows(FlowRun, member_id=member_id)
    assert run.status == "expired"


# --- pausing ----------------------------------------------------------------------------


async def test_a_paused_schedule_sends_nothing_until_resumed(world: World) -> None:
    member_id = await world.enrol("parent", "Sam", PARENT_ID)
    diary = await world.schedule(PARENT_ID, "day_in_the_life")
    await world.setting(PARENT_ID, diary.id or 0, "pause")
    paused = await world.schedule(PARENT_ID, "day_in_the_life")
    assert paused.paused_until == day(7, 12, 0)
    since = await world.last_id()
    for offset in range(3):
        await world.sweep(day(offset, 19, 30))
    assert await world.prompts(PARENT_ID, since) == []
    assert not [r for r in await world.rows(Reminder, member_id=member_id) if r.status == "sent"]

    world.clock.set(day(2, 20, 0))
    await world.setting(PARENT_ID, diary.id or 0, "resume")
    resumed = await world.schedule(PARENT_ID, "day_in_the_life")
    assert resumed.paused_until is None
    assert resumed.next_fire_at == day(3, 19, 30)
    await world.sweep(day(3, 19, 30))
    assert len(await world.prompts(PARENT_ID, since)) == 1


async def test_pausing_also_holds_back_a_reminder_already_waiting(world: World) -> None:
    await world.enrol("parent", "Sam", PARENT_ID)
    await world.start_flow(PARENT_ID, "three_questions")
    since = await world.last_id()
    await world.sweep(day(0, 19, 30))  # the diary reminder waits for the check-in
    diary = await world.schedule(PARENT_ID, "day_in_the_life")
    world.clock.set(day(0, 19, 40))
    await world.setting(PARENT_ID, diary.id or 0, "pause")
    await world.give(PARENT_ID, CommandInput("stop"))
    await world.sweep(day(0, 19, 50))
    assert await world.prompts(PARENT_ID, since) == []


async def test_a_week_long_pause_ends_by_itself(world: World) -> None:
    await world.enrol("parent", "Sam", PARENT_ID)
    diary = await world.schedule(PARENT_ID, "day_in_the_life")
    await world.setting(PARENT_ID, diary.id or 0, "pause")
    since = await world.last_id()
    for offset in range(7):
        await world.sweep(day(offset, 19, 30))
    diary_prompts = [
        p for p in await world.prompts(PARENT_ID, since) if "Day in the Life" in p.text
    ]
    assert diary_prompts == []
    await world.sweep(day(7, 19, 30))  # paused until day 7 12:00
    diary_prompts = [
        p for p in await world.prompts(PARENT_ID, since) if "Day in the Life" in p.text
    ]
    assert len(diary_prompts) == 1


# --- no duplicates with two bot processes -----------------------------------------------


async def test_two_sweepers_on_one_database_send_each_reminder_once(
    world: World, migrated_url: str
) -> None:
    members = 24
    for number in range(members):
        await world.enrol("parent", f"P{number}", 2000 + number)
    first, second = Database(migrated_url), Database(migrated_url)
    # Every evening for a week, and the Sunday check-in at 18:00 on the 29th.
    rounds = sorted([day(offset, 19, 30) for offset in range(7)] + [day(6, 18, 0)])
    try:
        for when in rounds:
            for extra in (0, 1, 2):  # a few sweeps each time, by both processes at once
                world.clock.set(when + timedelta(seconds=extra))
                reports = await asyncio.gather(
                    world.sweep(db=first), world.sweep(db=second), world.sweep(db=first)
                )
                assert sum(r.sent for r in reports) == (members if extra == 0 else 0)
    finally:
        await first.dispose()
        await second.dispose()

    reminders = await world.rows(Reminder)
    assert len(reminders) == members * len(rounds)
    keys = [(r.schedule_id, r.due_at) for r in reminders]
    assert len(set(keys)) == len(keys)
    assert {r.status for r in reminders} == {"sent"}
    prompts = [
        as_sent(row)
        for row in await world.rows(OutboxMessage, method="send")
        if "Time for" in row.payload_json
    ]
    assert len(prompts) == members * len(rounds)
    data = [p.data[0] for p in prompts]
    assert len(set(data)) == len(data)


async def test_two_sweepers_nudge_and_expire_each_run_once(world: World, migrated_url: str) -> None:
    members = 12
    for number in range(members):
        await world.enrol("parent", f"P{number}", 2000 + number)
        await world.remove_defaults(2000 + number)
        await world.start_flow(2000 + number, "day_in_the_life")
    first, second = Database(migrated_url), Database(migrated_url)
    try:
        for when in (day(0, 15, 0), day(0, 15, 1), day(3, 12, 0), day(3, 12, 1)):
            world.clock.set(when)
            reports = await asyncio.gather(
                world.sweep(db=first), world.sweep(db=second), world.sweep(db=second)
            )
            nudged, expired = sum(r.nudged for r in reports), sum(r.expired for r in reports)
            assert (nudged, expired) == {
                day(0, 15, 0): (members, 0),
                day(3, 12, 0): (0, members),
            }.get(when, (0, 0))
    finally:
        await first.dispose()
        await second.dispose()
    for number in range(members):
        texts = [s.text for s in await world.sends(2000 + number)]
        assert sum(NUDGE in t for t in texts) == 1
        assert sum("has closed" in t for t in texts) == 1
    assert {r.status for r in await world.rows(FlowRun)} == {"expired"}
