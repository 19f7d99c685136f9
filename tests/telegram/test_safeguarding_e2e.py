"""Safeguarding end to end: screening, signposts, practitioner alerts, acknowledgement,
re-alerts and escalation, through the real bot and the local Bot API.

The clock starts on Monday 23 November 2026, 18:00 London time (= UTC).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.config import Settings
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import AuditEntry, SafeguardingAlert
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, BotFactory
from tests.telegram.helpers import count, joined, labels, question, rows

pytestmark = pytest.mark.asyncio

CHILD_WORDS = "my mums boyfriend hit me and said dont tell anyone"
DUTY_CHAT = -100777


async def alert_for(alex: FakeUser) -> str:
    message = await alex.next_reply()
    if "has joined" in (message.text or ""):  # the practitioner hears of a new member first
        message = await alex.next_reply()
    assert "Safeguarding concern" in (message.text or ""), alex.history()
    assert labels(message) == ["✅ Acknowledge", "📞 I will call"]
    return message.text or ""


async def test_a_childs_words_bring_childline_at_once_and_alert_the_practitioner(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")
    await mia.press("🏠 Three houses")
    await question(mia)  # how are you feeling (a scale)
    await mia.press("3")
    await question(mia)  # good things
    await mia.send(CHILD_WORDS)
    signpost = await mia.next_reply()
    assert "Childline" in (signpost.text or "")
    assert "0800 1111" in (signpost.text or "")
    assert "999" in (signpost.text or "")
    nxt = await question(mia)  # the activity carries on gently
    assert nxt.text
    text = await alert_for(alex)
    assert "Who: Mia (child), Green family" in text
    assert CHILD_WORDS in text
    assert "a child being hurt" in text
    [alert] = await rows(database, SafeguardingAlert)
    assert (alert.status, alert.role, alert.text) == ("open", "child", CHILD_WORDS)
    assert "secret_with_adult" in alert.categories
    assert CHILD_WORDS not in caplog.text
    assert "boyfriend" not in caplog.text


async def test_a_parent_gets_the_adult_helplines_and_an_idiom_is_not_a_concern(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    emulator.user(PRACTITIONER_ID, "Alex")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.send("I'm dying to see them on Saturday, we had a smashing time last week")
    reply = await sam.next_reply()
    assert "Samaritans" not in (reply.text or "")
    assert await count(database, SafeguardingAlert) == 0
    await sam.send("I feel like I want to end it all tonight")
    signpost = await sam.next_reply()
    for needle in ("999", "0808 800 5000", "116 123"):
        assert needle in (signpost.text or "")
    assert await count(database, SafeguardingAlert) == 1


async def test_acknowledged_alerts_are_not_sent_again(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.send("I hit him with a belt last night")
    await sam.next_reply()
    await alert_for(alex)
    await alex.press("📞 I will call")
    assert "you will call" in ((await alex.next_reply()).text or "")
    [alert] = await rows(database, SafeguardingAlert)
    assert (alert.status, alert.acknowledged_action) == ("acknowledged", "call")
    assert await count(database, AuditEntry, action="safeguarding_call") == 1
    before = len(alex.messages)
    clock.advance(timedelta(hours=2))
    await bot.sweep_once()
    assert len(alex.messages) == before


async def test_unacknowledged_alerts_come_again_and_go_to_the_duty_chat_once_even_at_night(
    emulator: BotApiEmulator,
    settings: Settings,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
) -> None:
    settings.safeguarding_escalation_chat_id = DUTY_CHAT
    duty = emulator.group(DUTY_CHAT, title="Duty team")
    bot = await start_bot()
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")
    clock.set(clock.now().replace(hour=23))  # inside a child's quiet hours (20:00-07:30)
    await mia.send("i want to kill myself")
    await mia.next_reply()
    await alert_for(alex)  # at once: quiet hours never delay an alert
    clock.advance(timedelta(minutes=59))
    await bot.sweep_once()
    assert duty.messages == []
    clock.advance(timedelta(minutes=2))
    await bot.sweep_once()
    assert "not yet acknowledged" in await alert_for(alex)
    [escalated] = duty.messages
    assert "Escalated: Alex has not acknowledged it yet." in (escalated.text or "")
    clock.advance(timedelta(hours=1, minutes=1))
    await bot.sweep_once()
    await alert_for(alex)
    assert len(duty.messages) == 1  # the duty chat is told once


async def test_another_practitioner_cannot_acknowledge_and_is_audited(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    from rpbot.services.enrolment import add_practitioner

    async with database.transaction() as repos:
        await add_practitioner(repos, 9002, "Other", clock.now())
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.send("he punched me in front of the kids again")
    await sam.next_reply()
    await alert_for(alex)
    [alert] = await rows(database, SafeguardingAlert)
    other = emulator.user(9002, "Other")
    await other.send("/digestsettings")  # any message with buttons to press on
    await other.next_reply()
    await other.press_data(f"p1:sga:{alert.id}")
    [answer] = await other.callback_answers()
    assert answer.text == "That isn't one of your alerts."
    [still] = await rows(database, SafeguardingAlert)
    assert still.status == "open"
    assert await count(database, AuditEntry, action="refused_alert") == 1
