"""Household agreements end to end: the real bot (PTB) against the local Bot API emulator.

A parent and a child build an agreement, the child asks for a change, both agree to v2, and
the chore reminders follow v2. The clock starts on Monday 23 November 2026 at 18:00 UTC
(18:00 in London); sweeps are run by the test after moving the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.sandbox.records import SentMessage
from rpbot.storage.db import Database
from rpbot.storage.tables import AuditEntry, Schedule
from rpbot.storage.tables_agreements import (
    AgreementItem,
    AgreementVersion,
    AgreementVote,
    ChoreLog,
)
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, START
from tests.telegram.helpers import joined, labels, member_of, reply_containing, rows

pytestmark = pytest.mark.asyncio

CHORE_REMINDER = "Time for 🧹 Chore check-in"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after the start (Monday 23 November 2026) at hh:mm London time (= UTC)."""
    return START.replace(hour=hour, minute=minute) + timedelta(days=days)


async def sweep_at(bot: TelegramBot, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    await bot.sweep_once()


async def item_question(user: FakeUser, needle: str) -> SentMessage:
    """Read replies until an agreement item with ``needle`` is asked about."""
    reply = await reply_containing(user, needle)
    assert reply.buttons, user.history()
    assert "Do you agree?" in (reply.text or "")
    return reply


async def sam_proposes_the_bins(sam: FakeUser) -> None:
    """Sam suggests one job (the bins, every day at 17:30) in the household_agreement flow."""
    await sam.send("/chores")
    await reply_containing(sam, "What would you like to suggest today?")
    await sam.send("1")  # jobs only
    await reply_containing(sam, "Which jobs could be shared out?")
    await sam.send("5")  # take the bins out
    await reply_containing(sam, "Who could do which job?")
    await sam.send("Mia takes the bins out")
    await reply_containing(sam, "How often should the jobs be done?")
    await sam.press("📅 Every day")
    await reply_containing(sam, "What time of day suits the jobs?")
    await sam.send("5.30pm")
    await reply_containing(sam, "When could the family talk")
    await sam.send("/skip")
    await reply_containing(sam, "chore chart")
    await sam.send("/skip")
    await reply_containing(sam, "Thank you, Sam")
    note = await reply_containing(sam, "draft agreement (version 1)")
    assert "/agreement" in (note.text or "")


async def test_a_family_agrees_v2_after_the_child_asks_for_a_change(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")

    # 1. Sam proposes, sees the draft and asks everyone to agree it.
    await sam_proposes_the_bins(sam)
    await sam.send("/agreement")
    draft = await reply_containing(sam, "Draft household agreement, version 1")
    assert "Take the bins out: Mia, every day at 17:30" in (draft.text or ""), sam.history()
    assert "📨 Ask everyone to agree" in labels(draft)
    await sam.press("📨 Ask everyone to agree")

    # 2. Both are asked item by item; Sam agrees, Mia asks for a change and says why.
    await reply_containing(sam, "Everyone in the family is asked to agree")
    asked = await item_question(sam, "Take the bins out")
    assert labels(asked) == ["👍 Agree", "✏️ Ask for a change"]
    await sam.press("👍 Agree")
    await reply_containing(sam, "you've been through every part")

    child_intro = await reply_containing(mia, "Your family agreement (version 1)")
    assert "Tap 👍 if you agree" in (child_intro.text or "")
    asked = await item_question(mia, "Take the bins out")
    assert labels(asked) == ["👍 I agree", "✏️ I'd like a change"]
    await mia.press("✏️ I'd like a change")
    await reply_containing(mia, "What would you change, and why?")
    await mia.send("Not every day please, I have football on Tuesdays")
    await reply_containing(mia, "Thank you for saying 💛")

    # 3. Sam (and the practitioner) see the reason; v2 is a draft.
    told = await reply_containing(sam, "Mia asked for a change to “Take the bins out”")
    assert "I have football on Tuesdays" in (told.text or "")
    assert "version 2" in (told.text or "")
    await reply_containing(alex, "Mia asked for a change")

    # 4. Sam changes the chore's days in v2 and asks everyone again.
    await sam.send("/agreement chore 1 mon,wed,fri 17:30")
    await reply_containing(sam, "Changed item 1 in the draft (version 2)")
    shown = await reply_containing(sam, "Draft household agreement, version 2")
    assert "Mondays, Wednesdays and Fridays at 17:30" in (shown.text or ""), sam.history()
    assert "Mia asked for a change" in (shown.text or "")
    await sam.send("/agreement send")
    await reply_containing(sam, "Sent version 2 to everyone")

    # 5. Both agree v2: it becomes active, and both are told.
    asked = await item_question(mia, "Mondays, Wednesdays and Fridays")
    assert "Mia asked for a change" in (asked.text or "")
    await mia.press("👍 I agree")
    await reply_containing(mia, "you've been through every part")
    await item_question(sam, "Mondays, Wednesdays and Fridays")
    await sam.press("👍 Agree")
    done = await reply_containing(sam, "Everyone has agreed")
    assert "version 2" in (done.text or "")
    kid = await reply_containing(mia, "Everyone agreed!")
    assert "I'll remind you about “Take the bins out” Mondays, Wednesdays and Fridays" in (
        kid.text or ""
    )

    versions = await rows(database, AgreementVersion)
    assert [(v.number, v.status) for v in versions] == [(1, "replaced"), (2, "active")]
    votes = await rows(database, AgreementVote)
    assert sorted((v.version_id, v.choice) for v in votes) == [
        (versions[0].id, "agree"),
        (versions[0].id, "change"),
        (versions[1].id, "agree"),
        (versions[1].id, "agree"),
    ]
    assert all(v.at is not None for v in votes)
    child = await member_of(database, 1002)
    chore = [s for s in await rows(database, Schedule, member_id=child.id) if "chore" in s.flow_id]
    assert [(s.days, s.time_of_day, s.created_by) for s in chore] == [
        ("mon,wed,fri", "17:30", "agreement")
    ]

    # 6. /agreement shows the active version and sends the printable page.
    await sam.send("/agreement")
    shown = await reply_containing(sam, "Household agreement, version 2 (agreed")
    page = await sam.next_reply()
    assert page.document is not None, sam.history()
    html = emulator.file_bytes(str(page.document["file_id"])).decode()
    assert "Take the bins out" in html
    assert "Sam (" in html
    assert "Mia (" in html

    # 7. Chore reminders follow v2: not on Tuesday, yes on Wednesday at 17:30.
    before = len(mia.messages)
    await sweep_at(bot, clock, at(1, 17, 0))
    await sweep_at(bot, clock, at(1, 17, 30))
    assert not [m for m in mia.messages[before:] if CHORE_REMINDER in (m.text or "")]
    await sweep_at(bot, clock, at(2, 17, 30))
    await reply_containing(mia, CHORE_REMINDER)

    # 8. Mia says it's done: a kind streak note, and Sam is asked to confirm.
    await mia.press("▶️ Start now")
    await reply_containing(mia, "Which chore is this about?")
    await mia.send("/skip")
    await reply_containing(mia, "Did you do it?")
    await mia.press("✅ Yes, I did it!")
    await reply_containing(mia, "How do you feel about it?")
    await mia.send("5")
    streak = await reply_containing(mia, "🧹 Take the bins out:")
    assert "first one ticked off" in (streak.text or "")
    confirm = await reply_containing(sam, "Mia says “Take the bins out” is done today. Is it?")
    assert labels(confirm) == ["✅ Yes, it's done", "🤏 Not quite"]
    await sam.press("✅ Yes, it's done")
    await reply_containing(sam, "Noticing Mia's effort")
    praise = await reply_containing(mia, "Sam says well done for “Take the bins out”!")
    assert "first one ticked off" in (praise.text or "")
    [entry] = await rows(database, ChoreLog)
    assert (entry.day, entry.status, entry.confirmed) == ("2026-11-25", "done", "yes")

    # 9. Friday: two in a row (the days of the agreement, not calendar days).
    await sweep_at(bot, clock, at(4, 17, 30))
    await reply_containing(mia, CHORE_REMINDER)
    await mia.press("▶️ Start now")
    await reply_containing(mia, "Which chore is this about?")
    await mia.send("/skip")
    await reply_containing(mia, "Did you do it?")
    await mia.press("✅ Yes, I did it!")
    await reply_containing(mia, "How do you feel about it?")
    await mia.send("4")
    streak = await reply_containing(mia, "🧹 Take the bins out:")
    assert "2 times in a row 🌟" in (streak.text or "")


async def test_v2_replaces_the_active_v1_and_its_chore_schedule(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")
    await sam_proposes_the_bins(sam)
    await sam.send("/agreement send")
    await item_question(sam, "Take the bins out")
    await sam.press("👍 Agree")
    await item_question(mia, "Take the bins out")
    await mia.press("👍 I agree")
    await reply_containing(mia, "Everyone agreed!")
    child = await member_of(database, 1002)
    [v1_schedule] = [
        s
        for s in await rows(database, Schedule, member_id=child.id)
        if s.flow_id == "chore_checkin"
    ]
    assert (v1_schedule.days, v1_schedule.created_by) == ("", "agreement")

    # Mia asks for a change of the active agreement; Sam changes the time; both agree.
    await mia.send("/agreement")
    await reply_containing(mia, "Household agreement, version 1")
    await mia.press("✏️ Ask for a change")
    await reply_containing(mia, "Which part would you like to change?")
    await mia.press("1. Take the bins out")
    await reply_containing(mia, "What would you change")
    await mia.send("Could it be after tea, at 7?")
    await reply_containing(sam, "Mia asked for a change")
    await sam.send("/agreement chore 1 daily 19:00")
    await reply_containing(sam, "Changed item 1")
    await reply_containing(sam, "Draft household agreement, version 2")
    await sam.send("/agreement send")
    await item_question(sam, "every day at 19:00")
    await sam.press("👍 Agree")
    await item_question(mia, "every day at 19:00")
    await mia.press("👍 I agree")
    await reply_containing(mia, "Everyone agreed!")

    versions = await rows(database, AgreementVersion)
    assert [(v.number, v.status) for v in versions] == [(1, "superseded"), (2, "active")]
    chores = [
        s
        for s in await rows(database, Schedule, member_id=child.id)
        if s.flow_id == "chore_checkin"
    ]
    assert [(s.days, s.time_of_day, s.created_by) for s in chores] == [("", "19:00", "agreement")]
    items = await rows(database, AgreementItem)
    assert [(i.version_id, i.schedule_id) for i in items] == [
        (versions[0].id, None),  # v1's chore schedule was removed...
        (versions[1].id, chores[0].id),  # ...and v2's made
    ]
    # Tuesday 17:30 (v1's time) brings nothing; 19:00 brings the chore reminder.
    before = len(mia.messages)
    await sweep_at(bot, clock, at(1, 17, 30))
    assert len(mia.messages) == before, mia.history()
    await sweep_at(bot, clock, at(1, 19, 0))
    await reply_containing(mia, CHORE_REMINDER)


async def test_another_familys_agreement_button_is_refused_and_audited(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await joined(emulator, database, clock, family, 1002, "Mia", "child")
    await sam_proposes_the_bins(sam)
    await sam.send("/agreement send")
    asked = await item_question(sam, "Take the bins out")
    agree_data = next(data for label, data in asked.buttons[0] if label == "👍 Agree")
    assert agree_data is not None
    assert agree_data.startswith("g1:v:")

    # Someone in another family presses Sam's item button (a forged callback).
    async with database.transaction() as repos:
        green = await repos.families.by_id(family)
        assert green is not None
        practitioner = await repos.practitioners.by_id(green.practitioner_id)
        assert practitioner is not None
        from rpbot.services.enrolment import create_family, create_invite

        other = await create_family(repos, practitioner, "Blue", "wales", clock.now())
        code = (await create_invite(repos, other, "parent", "Kim", clock.now())).code
    kim = await joined(emulator, database, clock, other.id or 0, 1003, "Kim", code=code)
    await kim.press_data(agree_data)
    [answer] = await kim.callback_answers()
    assert answer.text == "That isn't available here."
    refused = [e for e in await rows(database, AuditEntry) if e.action == "refused_agreement"]
    kim_member = await member_of(database, 1003)
    assert [(e.actor_id, e.target_type) for e in refused] == [(kim_member.id, "agreement_item")]
    assert await rows(database, AgreementVote) == []
