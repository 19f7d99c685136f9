"""Reminders end to end: the real bot (PTB) against the local Bot API emulator.

The bots here are started with ``sweep=False``: a test moves the FakeClock and calls
``bot.sweep_once()``, which claims what is due and sends it before returning, so "nothing
arrived" can be checked straight after it without waiting. The clock starts on Monday
23 November 2026 at 18:00 UTC, which is 18:00 in London (GMT).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.config import Settings
from rpbot.dialogues import default_library
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.scheduling.runner import SWEEP_JOB, SweepScheduler
from rpbot.services.conversation import Conversations
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.services.reminders import Reminders
from rpbot.storage.db import Database
from rpbot.storage.tables import Member, OutboxMessage, Reminder, Schedule
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, START, BotFactory, Sleeps
from tests.telegram.helpers import count, joined, labels, member_of, question, rows, settled

pytestmark = pytest.mark.asyncio

REMINDER_BUTTONS = ["▶️ Start now", "⏰ Later", "🙅 Not today"]
DIARY_PROMPT = "Time for your Day in the Life diary"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after the start (Monday 23 November 2026) at hh:mm London time (= UTC)."""
    return START.replace(hour=hour, minute=minute) + timedelta(days=days)


async def sweep_at(bot: TelegramBot, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    await bot.sweep_once()


async def nothing_new(user: FakeUser, bot: TelegramBot, clock: FakeClock, *times: datetime) -> None:
    """Sweep at each time; the person receives nothing."""
    before = len(user.messages)
    for when in times:
        await sweep_at(bot, clock, when)
    assert len(user.messages) == before, user.history()


async def diary_reminder(user: FakeUser) -> int:
    """Read the diary reminder; its message id."""
    reminder = await user.next_reply()
    assert DIARY_PROMPT in (reminder.text or ""), user.history()
    assert labels(reminder) == REMINDER_BUTTONS
    return reminder.message_id


async def sam_joins(
    emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> FakeUser:
    return await joined(emulator, database, clock, family, 1001, "Sam")


async def test_the_diary_reminder_arrives_at_1930_and_start_now_starts_it(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await nothing_new(sam, bot, clock, at(0, 19, 29))
    await sweep_at(bot, clock, at(0, 19, 30))
    message_id = await diary_reminder(sam)

    await sam.press("▶️ Start now")
    first = await question(sam)
    assert "Waking up" in (first.text or ""), sam.history()

    async def buttons_gone() -> bool:
        shown = next(m for m in sam.messages if m.message_id == message_id)
        return not shown.buttons

    assert await settled(buttons_gone), sam.history()
    member = await member_of(database, 1001)
    [reminder] = await rows(database, Reminder, member_id=member.id)
    assert reminder.status == "started"
    # A later sweep does not remind Sam about the diary they are already doing.
    await nothing_new(sam, bot, clock, at(0, 19, 45), at(0, 20, 0))


async def test_later_reminds_again_after_an_hour(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sweep_at(bot, clock, at(0, 19, 30))
    await diary_reminder(sam)
    clock.set(at(0, 19, 31))
    await sam.press("⏰ Later")
    assert "remind you again in an hour" in ((await sam.next_reply()).text or "")
    await nothing_new(sam, bot, clock, at(0, 19, 45), at(0, 20, 30))
    await sweep_at(bot, clock, at(0, 20, 31))
    await diary_reminder(sam)
    await nothing_new(sam, bot, clock, at(0, 20, 40))


async def test_not_today_stops_the_reminders_for_the_day(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sweep_at(bot, clock, at(0, 19, 30))
    await diary_reminder(sam)
    await sam.press("🙅 Not today")
    assert "Maybe another day" in ((await sam.next_reply()).text or "")
    await nothing_new(sam, bot, clock, at(0, 20, 30), at(0, 20, 45), at(1, 12, 0))
    await sweep_at(bot, clock, at(1, 19, 30))
    await diary_reminder(sam)


async def test_someone_who_blocked_the_bot_is_not_reminded_again(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    emulator.block(sam.chat_id)
    await sweep_at(bot, clock, at(0, 19, 30))  # Telegram answers 403
    assert not (await member_of(database, 1001)).active
    attempts = emulator.stats.calls["sendMessage"]
    for offset in (1, 2, 3):
        await sweep_at(bot, clock, at(offset, 19, 30))
    assert emulator.stats.calls["sendMessage"] == attempts
    member = await member_of(database, 1001)
    later = [r for r in await rows(database, Reminder, member_id=member.id) if r.status != "sent"]
    assert {(r.status, r.reason) for r in later} == {("skipped", "inactive")}
    # Writing to the bot again (unblocked) brings the reminders back.
    emulator.unblock(sam.chat_id)
    clock.set(at(4, 9, 0))
    await sam.send("/menu")
    await sam.next_reply()
    await sweep_at(bot, clock, at(4, 19, 30))
    await diary_reminder(sam)


async def test_reminders_lists_the_defaults_and_the_time_can_be_changed(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sam.send("/reminders")
    listing = await sam.next_reply()
    assert (listing.text or "").splitlines() == [
        "Your reminders:",
        "• Day in the Life diary: every day at 19:30",
        "• Three-question check-in: Sundays at 18:00",
    ]
    assert labels(listing) == [
        "🕐 Change time 1",
        "⏸ Pause 1 for a week",
        "🕐 Change time 2",
        "⏸ Pause 2 for a week",
    ]
    await sam.press("🕐 Change time 1")
    assert "What time would suit you?" in ((await sam.next_reply()).text or "")
    await sam.send("8pm")
    done = await sam.next_reply()
    assert done.text == "Done: Day in the Life diary: every day at 20:00."
    await sam.send("/reminders")
    assert "• Day in the Life diary: every day at 20:00" in ((await sam.next_reply()).text or "")
    diary = next(s for s in await rows(database, Schedule) if s.flow_id == "day_in_the_life")
    assert (diary.time_of_day, diary.next_fire_at) == ("20:00", at(0, 20, 0))

    await nothing_new(sam, bot, clock, at(0, 19, 30), at(0, 19, 59))
    await sweep_at(bot, clock, at(0, 20, 0))
    await diary_reminder(sam)


async def test_a_bad_time_is_asked_again(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sam.send("/reminders")
    await sam.next_reply()
    await sam.press("🕐 Change time 1")
    await sam.next_reply()
    await sam.send("whenever")
    assert "Please type a time like 7pm or 19:30" in ((await sam.next_reply()).text or "")
    await sam.send("7.45pm")
    assert (await sam.next_reply()).text == "Done: Day in the Life diary: every day at 19:45."


async def test_pausing_for_a_week_sends_nothing_that_week(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sam.send("/reminders")
    await sam.next_reply()
    await sam.press("⏸ Pause 1 for a week")
    paused = await sam.next_reply()
    assert paused.text == "Paused for a week: Day in the Life diary: every day at 19:30."
    await sam.send("/reminders")
    listing = await sam.next_reply()
    assert "• Day in the Life diary: every day at 19:30 (paused until 30 Nov)" in (
        listing.text or ""
    )
    assert "▶️ Resume 1" in labels(listing)

    before = len(sam.messages)
    for offset in range(7):
        await sweep_at(bot, clock, at(offset, 19, 30))
    diary = [m for m in sam.messages[before:] if DIARY_PROMPT in (m.text or "")]
    assert diary == [], sam.history()
    # The week is over on Monday 30 November at 18:00: that evening's reminder comes.
    await sweep_at(bot, clock, at(7, 19, 30))
    assert [m for m in sam.messages[before:] if DIARY_PROMPT in (m.text or "")]


async def test_resume_brings_a_paused_reminder_back(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await sam_joins(emulator, database, clock, family)
    await sam.send("/reminders")
    await sam.next_reply()
    await sam.press("⏸ Pause 1 for a week")
    await sam.next_reply()
    await nothing_new(sam, bot, clock, at(0, 19, 30))
    clock.set(at(1, 9, 0))
    await sam.send("/reminders")
    await sam.next_reply()
    await sam.press("▶️ Resume 1")
    assert (await sam.next_reply()).text == "Back on: Day in the Life diary: every day at 19:30."
    await sweep_at(bot, clock, at(1, 19, 30))
    await diary_reminder(sam)


# --- practitioners ----------------------------------------------------------------------


async def alex_and_sam(
    emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> tuple[FakeUser, FakeUser]:
    """The practitioner Alex, who is told when Sam joins the Green family."""
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    sam = await sam_joins(emulator, database, clock, family)
    assert "Sam (parent) has joined the Green family" in ((await alex.next_reply()).text or "")
    return alex, sam


async def open_schedule(alex: FakeUser) -> str:
    """/schedule -> Green -> Sam; the list's text."""
    await alex.send("/schedule")
    choose = await alex.next_reply()
    assert choose.text == "Reminders for which family?"
    await alex.press("Green")
    whose = await alex.next_reply()
    assert whose.text == "Whose reminders?"
    assert labels(whose) == ["Sam (parent)"]
    await alex.press("Sam (parent)")
    listing = await alex.next_reply()
    return listing.text or ""


async def test_a_practitioner_adds_a_reminder_that_arrives_at_its_local_time(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex, sam = await alex_and_sam(emulator, database, clock, family)
    listing = await open_schedule(alex)
    assert listing.splitlines() == [
        "Reminders for Sam:",
        "1. Day in the Life diary: every day at 19:30",
        "2. Three-question check-in: Sundays at 18:00",
    ]
    await alex.press("➕ Add a reminder")
    which = await alex.next_reply()
    assert which.text == "Which activity should Sam be reminded about?"
    assert "Fair process: rules that feel fair" in labels(which)
    await alex.press("Fair process: rules that feel fair")
    days = await alex.next_reply()
    assert days.text == "Which days?"
    assert labels(days)[:3] == ["Every day", "Weekdays", "Weekends"]
    await alex.press("Every day")
    when = await alex.next_reply()
    assert when.text == "What time, in Sam's time (Europe/London)? e.g. 19:30"
    await alex.send("18:15")
    added = await alex.next_reply()
    assert added.text == "Added for Sam: Fair process: rules that feel fair: every day at 18:15."
    shown = await alex.next_reply()
    assert "3. Fair process: rules that feel fair: every day at 18:15" in (shown.text or "")

    member = await member_of(database, 1001)
    [schedule] = [
        s for s in await rows(database, Schedule, member_id=member.id) if s.created_by != "default"
    ]
    assert (schedule.flow_id, schedule.days, schedule.time_of_day) == ("fair_process", "", "18:15")
    assert schedule.created_by == "practitioner"
    assert schedule.next_fire_at == at(0, 18, 15)

    await nothing_new(sam, bot, clock, at(0, 18, 14))
    await sweep_at(bot, clock, at(0, 18, 15))
    reminder = await sam.next_reply()
    assert "Time for your Fair process: rules that feel fair" in (reminder.text or "")
    assert labels(reminder) == REMINDER_BUTTONS


async def test_a_practitioner_adds_a_weekday_reminder(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex, sam = await alex_and_sam(emulator, database, clock, family)
    await open_schedule(alex)
    await alex.press("➕ Add a reminder")
    await alex.next_reply()
    await alex.press("Family rituals")
    await alex.next_reply()
    await alex.press("Weekdays")
    await alex.next_reply()
    await alex.send("7:15pm")
    assert (await alex.next_reply()).text == "Added for Sam: Family rituals: weekdays at 19:15."
    member = await member_of(database, 1001)
    [schedule] = [
        s for s in await rows(database, Schedule, member_id=member.id) if s.flow_id == "rituals"
    ]
    assert (schedule.days, schedule.time_of_day) == ("mon,tue,wed,thu,fri", "19:15")
    await sweep_at(bot, clock, at(0, 19, 15))  # Monday
    reminder = await sam.next_reply()
    assert "Time for your Family rituals" in (reminder.text or "")
    [schedule] = [
        s for s in await rows(database, Schedule, member_id=member.id) if s.flow_id == "rituals"
    ]
    assert schedule.next_fire_at == at(1, 19, 15)


async def test_a_practitioner_pauses_and_removes_reminders_with_buttons(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex, sam = await alex_and_sam(emulator, database, clock, family)
    await open_schedule(alex)
    await alex.press("⏸ Pause 1")
    assert (await alex.next_reply()).text == (
        "Paused for a week: Day in the Life diary: every day at 19:30 for Sam."
    )
    await alex.press("🗑 Remove 2")
    assert (await alex.next_reply()).text == (
        "Removed: Three-question check-in: Sundays at 18:00 for Sam."
    )
    member = await member_of(database, 1001)
    schedules = await rows(database, Schedule, member_id=member.id)
    assert [s.flow_id for s in schedules] == ["day_in_the_life"]
    assert schedules[0].paused_until == at(7, 18, 0)
    listing = await open_schedule(alex)
    assert listing.splitlines() == [
        "Reminders for Sam:",
        "1. Day in the Life diary: every day at 19:30 (paused)",
    ]
    await nothing_new(sam, bot, clock, *(at(offset, 19, 30) for offset in range(7)))
    await alex.press("▶️ Resume 1")
    assert (await alex.next_reply()).text == (
        "Resumed: Day in the Life diary: every day at 19:30 for Sam."
    )
    await sweep_at(bot, clock, at(7, 19, 30))
    await diary_reminder(sam)


async def test_a_forged_schedule_button_for_another_practitioners_member_is_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    async with database.transaction() as repos:
        other = await add_practitioner(repos, 9002, "Blair", clock.now())
        brown = await create_family(repos, other, "Brown", "wales", clock.now())
        stranger = await repos.members.create(
            brown.id or 0, "parent", "Lee", clock.now(), telegram_user_id=3003, chat_id=3003
        )
        reminders = Reminders(default_library(), Conversations(default_library()))
        [theirs, _] = await reminders.create_defaults(repos, stranger, clock.now())
        their_schedule, their_member = theirs.id, stranger.id
    alex, _ = await alex_and_sam(emulator, database, clock, family)
    await open_schedule(alex)
    before = len(alex.messages)
    for data in (
        f"p1:schr:{their_schedule}",
        f"p1:schp:{their_schedule}",
        f"p1:schm:{their_member}",
        f"p1:scha:{their_member}",
        "p1:schr:notanumber",
        "p1:schr",
    ):
        await alex.press_data(data)
    answers = await alex.callback_answers()
    assert [a.text for a in answers[-6:]] == ["That isn't one of your families."] * 6
    assert len(alex.messages) == before, alex.history()  # nothing about Lee was shown
    [kept] = [s for s in await rows(database, Schedule) if s.id == their_schedule]
    assert kept.paused_until is None
    lee = await rows(database, Member, id=their_member)
    assert [m.display_name for m in lee] == ["Lee"]


async def test_a_forged_days_button_is_refused_not_an_error(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex, _ = await alex_and_sam(emulator, database, clock, family)
    await open_schedule(alex)
    await alex.press("➕ Add a reminder")
    await alex.next_reply()
    await alex.press("Family rituals")
    assert (await alex.next_reply()).text == "Which days?"
    member = await member_of(database, 1001)
    before = len(alex.messages)
    await alex.press_data(f"p1:schd:{member.id}:funday")
    answers = await alex.callback_answers()
    assert answers[-1].text == "That button has expired."
    assert not any("went wrong" in (m.text or "") for m in alex.messages[before:])


# --- the sweep scheduler ----------------------------------------------------------------


async def test_the_sweep_scheduler_sweeps_at_start_and_keeps_going_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    first, second = asyncio.Event(), asyncio.Event()

    async def sweep() -> None:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            first.set()
            raise RuntimeError("database unavailable")
        second.set()

    scheduler = SweepScheduler(sweep, seconds=3600)  # only the sweep at start falls due
    with caplog.at_level(logging.ERROR, logger="rpbot.scheduling.runner"):
        scheduler.start()
        try:
            await asyncio.wait_for(first.wait(), 5)
            job = scheduler.scheduler.get_job(SWEEP_JOB)
            assert job is not None, "a failing sweep removed the job"
            # Bring the next sweep forward rather than wait an hour for it.
            job.modify(next_run_time=datetime.now(UTC))
            await asyncio.wait_for(second.wait(), 5)
        finally:
            scheduler.shutdown()
    assert calls == [1, 2]
    assert any("sweep failed" in r.getMessage() for r in caplog.records)
    await asyncio.sleep(0)  # AsyncIOScheduler.shutdown takes effect on the loop's next turn
    assert not scheduler.scheduler.running


async def test_a_restarted_bot_sends_what_fell_due_while_it_was_down(
    emulator: BotApiEmulator,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    sleeps: Sleeps,
) -> None:
    first = await start_bot()
    sam = await sam_joins(emulator, database, clock, family)
    await first.stop()
    clock.set(at(0, 20, 15))  # down over 19:30; back within the grace window

    # A bot with its own scheduler: its sweep at start sends the missed reminder. (The next
    # one would be an hour later: no sweep of the scheduler's is left running at stop.)
    hourly = settings.model_copy(update={"sweep_seconds": 3600.0})
    restarted = TelegramBot(
        hourly, database, default_library(), clock, sleep=sleeps, poll_timeout=1, sweep=True
    )
    await restarted.start()
    try:
        await diary_reminder(sam)

        async def all_sent() -> bool:
            return await count(database, OutboxMessage, status="pending") == 0

        assert await settled(all_sent)  # the scheduler's sweep has finished
        await restarted.sweep_once()
        assert len([m for m in sam.messages if DIARY_PROMPT in (m.text or "")]) == 1
    finally:
        await restarted.stop()
