"""A tailored plan changes what a member is offered and when: /plan end to end.

The clock starts on Monday 23 November 2026 at 18:00 London time (= UTC); nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import AuditEntry, FlowRun, Schedule
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, START
from tests.telegram.helpers import joined, labels, member_of, reply_containing, rows

pytestmark = pytest.mark.asyncio


async def test_a_tailored_plan_changes_what_the_member_is_offered_and_when(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    alex = emulator.user(PRACTITIONER_ID, "Alex")

    # The practitioner: /plan → Green → Sam: the law off, the diary at 20:15.
    await alex.send("/plan")
    await reply_containing(alex, "Whose programme plan?")
    await alex.press("Green")
    overview = await reply_containing(alex, "Programme plan: Green family")
    assert "Week 1 of 8" in (overview.text or "")
    await alex.press("Sam (parent)")
    plan = await reply_containing(alex, "Sam's plan")
    assert "✅ Day in the Life diary: every day at 19:30" in (plan.text or "")
    await alex.press("🚫 Turn off Smacking and the law")
    plan = await reply_containing(alex, "Sam's plan")
    assert "🚫 Smacking and the law (off)" in (plan.text or "")
    diary_row = next(i for i, row in enumerate(plan.buttons) if "Day in the Life" in row[0][0])
    await alex.press_data(plan.buttons[diary_row][1][1] or "", message_id=plan.message_id)
    await reply_containing(alex, "What time for Day in the Life diary")
    await alex.send("20:15")
    done = await reply_containing(alex, "Done. Sam:")
    assert "every day at 20:15" in (done.text or "")
    # ... and moves the first module to week 2: parenting styles is this week's.
    await alex.send("/plan Green")
    await reply_containing(alex, "Programme plan: Green family")
    await alex.press("📚 Module order")
    await reply_containing(alex, "learning modules, one a week")
    await alex.press("⬇️ 1")
    order = await reply_containing(alex, "learning modules, one a week")
    assert "Week 1: Parenting styles ← this week" in (order.text or "")

    # Sam's menu no longer offers the law; the learn menu leads with this week's module.
    await sam.send("/menu")
    menu = await sam.next_reply()
    assert "⚖️ The law" not in labels(menu)
    assert "📔 Diary" in labels(menu)
    await sam.send("/learn")
    learn = await sam.next_reply()
    assert labels(learn)[0] == "⭐ This week: Parenting styles"
    assert labels(learn)[1] == "Noticing what makes parenting hard"  # week 2 now
    # Started anyway, by command or by a forged menu button: refused, nothing starts.
    await sam.send("/law")
    refused = await sam.next_reply()
    assert "isn't part of your programme" in (refused.text or "")
    await sam.press_data("m1:physical_punishment_law")
    assert [a.text for a in await sam.callback_answers()] == ["That isn't available here."]
    member = await member_of(database, 1001)
    assert [r.flow_id for r in await rows(database, FlowRun, member_id=member.id)] == []
    refusals = [e.action for e in await rows(database, AuditEntry) if e.action == "refused_flow"]
    assert len(refusals) == 2

    # When: the diary reminder follows the plan's time (20:15, not 19:30).
    [diary] = [
        s
        for s in await rows(database, Schedule, member_id=member.id)
        if s.flow_id == "day_in_the_life"
    ]
    assert diary.time_of_day == "20:15"
    before = len(sam.messages)
    clock.set(START.replace(hour=19, minute=30))
    await bot.sweep_once()
    assert len(sam.messages) == before
    clock.set(START.replace(hour=20, minute=15))
    await bot.sweep_once()
    await reply_containing(sam, "Time for your Day in the Life diary")

    # Switching the diary off removes its schedule; on again brings the plan's time back.
    await alex.send("/plan Green")
    await reply_containing(alex, "Programme plan")
    await alex.press("Sam (parent)")
    await reply_containing(alex, "Sam's plan")
    await alex.press("🚫 Turn off Day in the Life diary")
    await reply_containing(alex, "(off)")
    assert [s.flow_id for s in await rows(database, Schedule, member_id=member.id)] == [
        "three_questions"
    ]
    await alex.press("✅ Turn on Day in the Life diary")
    await reply_containing(alex, "every day at 20:15")
    flows = {s.flow_id: s.time_of_day for s in await rows(database, Schedule, member_id=member.id)}
    assert flows == {"three_questions": "18:00", "day_in_the_life": "20:15"}
    clock.set(START + timedelta(days=1))


async def test_another_practitioners_plan_buttons_are_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    await joined(emulator, database, clock, family, 1001, "Sam")
    member = await member_of(database, 1001)
    async with database.transaction() as repos:
        from rpbot.services.enrolment import add_practitioner

        await add_practitioner(repos, 9002, "Kim", clock.now())
    kim = emulator.user(9002, "Kim")
    await kim.send("/plan")
    await kim.next_reply()
    for data in (
        f"p1:pl:{family}",
        f"p1:plm:{member.id}",
        f"p1:plf:{member.id}:0",
        f"p1:plu:{family}:0",
    ):
        await kim.press_data(data, message_id=kim.messages[-1].message_id)
    answers = [a.text for a in await kim.callback_answers()]
    assert answers == ["That isn't one of your families."] * 4
    assert await rows(database, Schedule, member_id=member.id)  # unchanged
    refused = [e for e in await rows(database, AuditEntry) if e.action == "refused_plan"]
    assert len(refused) == 4
