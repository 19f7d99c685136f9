"""A sweep with more due than one batch: claimed and sent batch by batch, each item once.

``TelegramBot.sweep_once`` claims at most ``SWEEP_BATCH`` rows of each kind per transaction
and sends a batch while the next is prepared; here the batch is 3 so 10 reminders take 4.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.config import Settings
from rpbot.dialogues import default_library
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.reminders import SweepReport
from rpbot.storage.db import Database
from rpbot.storage.tables import Reminder
from rpbot.telegram import app
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, START
from tests.telegram.helpers import rows

pytestmark = pytest.mark.asyncio

MEMBERS = 10
FIRST_USER = 5001
DUE = START + timedelta(hours=1)  # 19:00 in London: outside parents' quiet hours


async def members_due(emulator: BotApiEmulator, database: Database) -> list[int]:
    """MEMBERS parents (each in a chat the emulator knows), one schedule each due at DUE."""
    async with database.transaction() as repos:
        practitioner = await repos.practitioners.add(PRACTITIONER_ID, "Alex", START)
        chats = []
        for i in range(MEMBERS):
            family = await repos.families.create(practitioner.id or 0, f"F{i}", "england", START)
            user_id = FIRST_USER + i
            emulator.user(user_id, f"Parent{i}")
            member = await repos.members.create(
                family.id or 0, "parent", f"Parent{i}", START, user_id, user_id
            )
            await repos.schedules.add(member.id or 0, "day_in_the_life", "", "19:00", DUE, START)
            chats.append(user_id)
    return chats


def new_bot(settings: Settings, database: Database, clock: FakeClock) -> TelegramBot:
    return TelegramBot(settings, database, default_library(), clock, poll_timeout=1, sweep=False)


def reminders_in(emulator: BotApiEmulator, chat_id: int) -> int:
    return sum("Day in the Life" in (m.text or "") for m in emulator.history(chat_id))


async def test_one_sweep_sends_every_batch_once_and_the_first_before_the_last_is_claimed(
    emulator: BotApiEmulator,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "SWEEP_BATCH", 3)
    chats = await members_due(emulator, database)
    clock.set(DUE)
    bot = new_bot(settings, database, clock)
    await bot.application.initialize()
    delivered_when_claiming: list[int] = []
    sweep = bot.router.sweep

    async def watched(*, limit: int, prune: bool) -> SweepReport:
        delivered_when_claiming.append(emulator.stats.messages_delivered)
        return await sweep(limit=limit, prune=prune)

    monkeypatch.setattr(bot.router, "sweep", watched)
    try:
        report = await bot.sweep_once()
        again = await bot.sweep_once()
    finally:
        await bot.application.shutdown()

    assert report.sent == MEMBERS
    assert len(report.rows) == MEMBERS
    assert again.sent == 0
    assert [reminders_in(emulator, chat) for chat in chats] == [1] * MEMBERS
    # 4 batches of 3, 3, 3, 1 (then the second sweep's empty one); the first batch was
    # sent before the third was claimed.
    assert len(delivered_when_claiming) == 5
    assert delivered_when_claiming[2] >= 3
    sent = await rows(database, Reminder, status="sent")
    assert len(sent) == MEMBERS


async def test_two_bots_sweeping_in_batches_send_each_reminder_once(
    emulator: BotApiEmulator,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "SWEEP_BATCH", 2)
    chats = await members_due(emulator, database)
    clock.set(DUE)
    bots = [new_bot(settings, database, clock) for _ in range(2)]
    for bot in bots:
        await bot.application.initialize()
    try:
        reports = await asyncio.gather(*(bot.sweep_once() for bot in bots))
    finally:
        for bot in bots:
            await bot.application.shutdown()

    assert sum(report.sent for report in reports) == MEMBERS
    assert [reminders_in(emulator, chat) for chat in chats] == [1] * MEMBERS
