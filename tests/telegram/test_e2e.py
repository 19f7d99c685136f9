"""End to end: the real python-telegram-bot Application against the local Bot API emulator."""

from __future__ import annotations

import json
import re

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import Answer, Counter, Member
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, BotFactory, Sleeps, invite_code, join
from tests.telegram.helpers import count, labels, question, settled

pytestmark = pytest.mark.asyncio


async def test_practitioner_invites_a_parent_who_joins(
    emulator: BotApiEmulator, bot: TelegramBot, family: int
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/invite")
    assert "Invite someone to which family?" in ((await alex.next_reply()).text or "")
    await alex.press("Green")
    role = await alex.next_reply()
    assert labels(role) == ["Parent", "Child"]
    await alex.press("Parent")
    assert "first name" in (await alex.next_reply()).text
    await alex.send("Sam")
    link = await alex.next_reply()
    match = re.search(r"https://t\.me/rpbot_test_bot\?start=([A-Za-z0-9_-]{24})", link.text or "")
    assert match, link.text

    sam = emulator.user(1001, "Sam")
    await sam.send(f"/start {match.group(1)}")
    welcome = await sam.next_reply()
    assert "Welcome, Sam" in (welcome.text or "")
    assert "📔 Diary" in labels(welcome)
    joined = await alex.next_reply()
    assert "Sam (parent) has joined the Green family" in (joined.text or "")
    # The code worked once; a second person using it is refused.
    other = emulator.user(1002, "Someone")
    await other.send(f"/start {match.group(1)}")
    assert "didn't work" in ((await other.next_reply()).text or "")


async def test_a_whole_diary_by_buttons_and_text(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    await sam.press("📔 Diary")
    for label in ["😌 Calm", "🙂 OK", "😌 Calm", "🙂 OK", "😌 Calm"]:
        ask = await question(sam)
        assert label in labels(ask), sam.history()
        await sam.press(label)
    ask = await question(sam)
    await sam.send("We read a story together at bedtime")
    ask = await question(sam)
    await sam.press("4")
    last = await sam.next_reply()
    assert last.text
    async with database.transaction() as repos:
        member = await repos.members.by_telegram_id(1001)
        assert member is not None
        runs = await repos.runs.for_member(member.id or 0)
        answers = await repos.answers.for_member(member.id or 0)
    assert [r.status for r in runs] == ["completed"]
    names = [a.name for a in answers]
    assert names[:5] == ["morning", "school_run", "after_school", "tea", "bedtime"]
    assert json.loads(answers[0].value_json) == "calm"
    assert any(a.free_text == "We read a story together at bedtime" for a in answers)
    # The pressed question was edited to show the answer, without buttons.
    first = next(m for m in sam.messages if "Waking up" in (m.text or ""))
    assert "→ 😌 Calm" in (first.text or "")
    assert not first.buttons


async def test_restart_mid_flow_resumes_where_it_was(
    emulator: BotApiEmulator,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
) -> None:
    bot = await start_bot()
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    await sam.press("📔 Diary")
    await question(sam)
    await sam.press("😣 Hard")
    hard = await question(sam)
    await bot.stop()

    await start_bot()  # a new process: nothing in memory survives
    await sam.send("The toast burnt and we were late")
    after = await question(sam)
    assert "school run" in (after.text or "").lower()
    assert await count(database, Answer, name="morning_hard") == 1
    assert hard.message_id < after.message_id


async def test_stale_and_forged_buttons_change_nothing(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    await sam.press("📔 Diary")
    first = await question(sam)
    stale_data = first.buttons[0][0][1]
    await sam.press("😌 Calm")
    await question(sam)
    before = await count(database, Answer)
    await sam.press_data(stale_data or "", message_id=first.message_id)
    answers = await sam.callback_answers()
    assert any("moved on" in (a.text or "") for a in answers)
    await sam.press_data("a1:999999:1:calm")
    await sam.press_data("garbage")
    await sam.press_data("p1:fam:1")
    answers = await sam.callback_answers()
    assert len(answers) >= 4
    assert await count(database, Answer) == before


async def test_unknown_people_get_one_polite_answer_and_are_not_stored(
    emulator: BotApiEmulator, bot: TelegramBot, database: Database
) -> None:
    stranger = emulator.user(5555, "Stranger")
    await stranger.send("hello?")
    reply = await stranger.next_reply()
    assert "ask your practitioner" in (reply.text or "")
    await stranger.send("/start not-a-real-code")
    assert "didn't work" in ((await stranger.next_reply()).text or "")
    assert await count(database, Member) == 0
    async with database.transaction() as repos:
        assert await repos.counters.get("unknown_contacts") == 1
    assert await count(database, Counter) >= 1


async def test_wrong_codes_are_rate_limited(emulator: BotApiEmulator, bot: TelegramBot) -> None:
    guesser = emulator.user(6666, "Guesser")
    for attempt in range(6):
        await guesser.send(f"/start wrong{attempt}")
        reply = await guesser.next_reply()
    assert "wait an hour" in (reply.text or "")


async def test_a_duplicate_update_is_processed_once(
    emulator: BotApiEmulator,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
) -> None:
    bot = await start_bot()
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    await sam.press("📔 Diary")
    await question(sam)
    await sam.press("😣 Hard")
    await question(sam)
    await sam.send("Shouting at breakfast")
    delivered = dict(emulator.state.updates[-1])  # queued, not yet fetched by the bot
    await question(sam)
    await bot.stop()
    # Telegram re-sends updates a bot did not confirm (e.g. after kill -9): deliver it again.
    emulator.state.updates.append(delivered)
    emulator.state.updates_changed.notify()
    messages_before = len(sam.messages)
    await start_bot()
    await sam.send("/help")
    await sam.next_reply()
    assert len(sam.messages) == messages_before + 1
    assert await count(database, Answer, name="morning_hard") == 1


async def test_a_person_who_blocked_the_bot_is_marked_inactive(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    emulator.block(1001)
    await sam.send("/menu")

    async def inactive() -> bool:
        async with database.transaction() as repos:
            member = await repos.members.by_telegram_id(1001)
            return member is not None and not member.active

    assert await settled(inactive)
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/family Green")
    summary = await alex.next_reply()
    while "Green family (" not in (summary.text or ""):
        summary = await alex.next_reply()
    assert "not receiving messages" in (summary.text or "")
    async with database.transaction() as repos:
        member = await repos.members.by_telegram_id(1001)
        assert member is not None
        assert member.active is False


async def test_a_429_is_honoured(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    sleeps: Sleeps,
) -> None:
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    emulator.fail_next("sendMessage", 429, chat_id=1001, retry_after=7)
    await sam.send("/menu")
    menu = await sam.next_reply()
    assert "What would you like to do" in (menu.text or "")
    assert 7.0 in sleeps.calls


async def test_answers_with_markup_are_escaped_and_invalid_html_is_caught(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = emulator.user(1001, "Sam")
    await join(sam, await invite_code(database, clock, family, "parent", "Sam"))
    await sam.press("🧭 Check-in")
    ask = await question(sam)
    await sam.send("<b>bold</b> & <script>x</script>")
    await question(sam)
    closed = await sam.next_edit()
    assert closed.message_id == ask.message_id
    # Escaped, so the person sees exactly what they typed, not formatting.
    assert "→ <b>bold</b> & <script>x</script>" in (closed.text or "")
    assert "&lt;b&gt;" in (closed.source_text or "")
    # A message with broken HTML is caught by Telegram (400) and sent again as plain text.
    async with database.transaction() as repos:
        await repos.outbox.add(
            1001, "send", json.dumps({"text": "<b>oops", "html": True}), clock.now()
        )
    await bot.sender.flush([1001])
    plain = await sam.next_reply()
    assert plain.text == "oops"


async def test_group_chats_are_refused_politely(emulator: BotApiEmulator, bot: TelegramBot) -> None:
    sam = emulator.user(1001, "Sam")
    group = emulator.group(-100123, sam)
    await group.send(sam, "hello bot")
    reply = await group.next_reply()
    assert "private" in (reply.text or "")

    async def left() -> bool:
        return emulator.stats.calls["leaveChat"] == 1

    assert await settled(left)
