"""Digests end to end: the real bot asks, builds and sends digests through the local Bot API.

The clock starts on Monday 23 November 2026, 18:00 London time (= UTC). A practitioner's
weekly digest comes on Mondays at 08:30 in their timezone unless they change it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import Digest
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, START, BotFactory
from tests.telegram.helpers import count, joined, question, rows

pytestmark = pytest.mark.asyncio

NEXT_MONDAY_0830 = START.replace(hour=8, minute=30) + timedelta(days=7)


async def checkin(sam: FakeUser, worry: str, scale: str) -> None:
    """Sam does a three-question check-in, typing ``worry`` and tapping ``scale``."""
    await sam.send("/checkin")
    await question(sam)
    await sam.send("Bedtimes are calmer")
    await question(sam)
    await sam.send(worry)
    await question(sam)
    await sam.send("Talk to school")
    await question(sam)
    await sam.press(scale)
    await question(sam)  # the scale is saved: the next question has come


def file_text(emulator: BotApiEmulator, message_document: dict[str, object]) -> str:
    stored = emulator.state.files[str(message_document["file_id"])]
    return stored.data.decode("utf-8")


async def digest_messages(alex: FakeUser, first: int) -> tuple[list[str], int, str]:
    """Read until the HTML file arrives: the texts, the number of photos, the file's id."""
    texts, photos = [], 0
    for _ in range(20):
        message = await alex.next_reply()
        if message.method == "sendPhoto":
            photos += 1
        elif message.method == "sendDocument":
            assert message.document is not None
            return texts, photos, str(message.document["file_id"])
        else:
            texts.append(message.text or "")
    raise AssertionError(alex.history())


async def test_digest_on_demand_quotes_the_checkin_escaped_with_chart_and_file(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await checkin(sam, "<b>shouting</b> & slammed doors", "4")
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    clock.advance(timedelta(hours=1))
    await alex.send("/digest")
    working = await alex.next_reply()
    assert "Putting your digest together" in (working.text or "")
    texts, photos, file_id = await digest_messages(alex, 0)
    assert "Weekly digest" in texts[0]
    assert "1 family" in texts[0]
    family_text = next(t for t in texts if "Green family" in t)
    # Telegram shows the words as typed: the markup was escaped, not interpreted.
    assert "Worries: “<b>shouting</b> & slammed doors”" in family_text
    assert "Scale 4/10" in family_text
    assert photos == 1
    html = emulator.state.files[file_id].data.decode("utf-8")
    assert "&lt;b&gt;shouting&lt;/b&gt; &amp; slammed doors" in html
    assert "<b>shouting</b>" not in html
    assert await count(database, Digest, kind="on_demand", status="queued") == 1


async def test_weekly_digest_fires_once_at_monday_0830_london(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await bot.sweep_once()  # works out the first digest time
    clock.set(NEXT_MONDAY_0830 - timedelta(minutes=1))
    await bot.sweep_once()
    assert alex.messages == []
    clock.set(NEXT_MONDAY_0830)
    await bot.sweep_once()
    texts, _photos, _ = await digest_messages(alex, 0)
    assert "Weekly digest" in texts[0]
    assert "No activity this week" in texts[0]
    before = len(alex.messages)
    clock.advance(timedelta(hours=3))
    await bot.sweep_once()
    assert len(alex.messages) == before
    [digest] = await rows(database, Digest, kind="weekly")
    assert digest.due_at == NEXT_MONDAY_0830
    assert digest.period_start == NEXT_MONDAY_0830 - timedelta(days=7)


async def test_digestsettings_moves_the_weekly_digest(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/digestsettings")
    shown = await alex.next_reply()
    assert "Mondays at 08:30 (Europe/London)" in (shown.text or "")
    await alex.press("Fri")
    assert "Fridays at 08:30" in ((await alex.next_reply()).text or "")
    await alex.press("⌨️ Type a time")
    await alex.next_reply()
    await alex.send("5pm")
    assert "Fridays at 17:00" in ((await alex.next_reply()).text or "")
    friday = START.replace(hour=17) + timedelta(days=4)
    clock.set(friday - timedelta(seconds=1))
    await bot.sweep_once()
    assert not any("Weekly digest" in (m.text or "") for m in alex.messages)
    clock.set(friday)
    await bot.sweep_once()
    assert any("Weekly digest" in (m.text or "") for m in alex.messages)


async def test_a_digest_due_while_the_bot_was_down_is_sent_once_after_restart(
    emulator: BotApiEmulator,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
) -> None:
    bot = await start_bot()
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/start")
    await alex.next_reply()
    await bot.stop()
    # Due while the bot was down: the first sweep after the restart sends it, once.
    clock.set(NEXT_MONDAY_0830 + timedelta(minutes=20))
    bot = await start_bot()
    await bot.sweep_once()
    await bot.sweep_once()
    sent = [m for m in alex.messages if "Weekly digest" in (m.text or "")]
    assert len(sent) == 1
