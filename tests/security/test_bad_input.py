"""Bad input and faults, end to end: the real bot against the local Bot API emulator.

Each odd thing a person (or a stranger, or a chat) can send gets a kind reply or is ignored:
never a crash (the error handler's "Sorry, something went wrong" never appears and nothing is
logged at ERROR), never lost data (answers are saved as typed), and wherever something was
refused or ignored a WARNING line says what kind of thing it was - never its contents.

Already covered elsewhere and not repeated here: the kind replies to stickers, locations,
contacts and polls (tests/telegram/test_e2e_more.py, which this file extends with the
warnings, edits and forwards), escaping in the question's answer line and the digest's
quotes of short answers (test_e2e.py, test_digest_e2e.py), stale and forged answer buttons
(test_e2e.py) and the access table (tests/security/test_access.py).

The clock starts on Monday 23 November 2026, 18:00 London time (= UTC); nothing sleeps: the
flood moves the fake clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.sandbox.state import Chat
from rpbot.services.enrolment import UNKNOWN_TEXT
from rpbot.services.family_desk import MOVED_ON, NOT_AVAILABLE, UNKNOWN_COMMAND
from rpbot.services.flood import COOL_DOWN_TEXT
from rpbot.services.router import GROUP_TEXT
from rpbot.storage.db import Database
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    Family,
    FlowRun,
    OutboxMessage,
    ProcessedUpdate,
)
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID
from tests.telegram.helpers import (
    count,
    joined,
    labels,
    member_of,
    question,
    reply_containing,
    rows,
    runs_of,
    settled,
)

pytestmark = pytest.mark.asyncio

SORRY = "Sorry, something went wrong"
PARENT_UNSUPPORTED = "I can only read words, button taps, photos, voice notes and files here."
WORKING_WELL = "What is working well"
WORRIED = "worried about"
LONG = ("We had a long talk about school and bedtimes and it went better than last week. " * 60)[
    :4096
]

#: Odd but real answers: each is saved exactly as typed (without surrounding spaces) and
#: shown back exactly as typed.
ODD_ANSWERS = {
    "only emoji": "😀🙏🏽👨‍👩‍👧💛",
    "right to left": "مرحبا، اليوم كان جيدا \u200fשלום עולם\u200f",
    "zero-width inside": "we\u200b played\u200d cards\u2060 together",
    "html": '<b>bold</b> <a href="javascript:alert(1)">x</a> &amp; <script>alert(2)</script>',
    "markdown": "*bold* _it_ `code` [link](http://evil.example) ||spoiler|| ~strike~",
    "sql": "'; DROP TABLE answers; -- \" OR 1=1; SELECT * FROM members WHERE ''='",
    "4096 characters": LONG,
}
#: Nothing to save: the question is asked again, kindly.
EMPTY_ANSWERS = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "zero-width only": "\u200b\u200c\u200d\u2060",
}


@pytest.fixture(autouse=True)
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """INFO and up from everything, as `rpbot run` logs (the bot caps noisy libraries)."""
    caplog.set_level(logging.INFO)
    return caplog


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, str]]:
    """(level, logger, text) of every record from the bot (the emulator's own are not it)."""
    found = []
    for record in caplog.records:
        if record.name.startswith(("aiohttp", "rpbot.sandbox")):
            continue
        text = record.getMessage()
        if record.exc_info:
            text += caplog.handler.format(record)
        found.append((record.levelno, record.name, text))
    return found


def assert_logs_clean(caplog: pytest.LogCaptureFixture, *words: str) -> None:
    """No error was logged, and none of ``words`` (message contents) reached a log line."""
    records = logged(caplog)
    errors = [text for level, _, text in records if level >= logging.ERROR]
    assert errors == [], errors
    everything = "\n".join(text for _, _, text in records)
    for word in words:
        if word.strip("\u200b\u200c\u200d\u2060 \n\t"):
            assert word not in everything, f"{word[:40]!r} was logged"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [text for level, _, text in logged(caplog) if level == logging.WARNING]


def assert_warned(caplog: pytest.LogCaptureFixture, needle: str) -> None:
    assert any(needle in text for text in warnings(caplog)), (needle, warnings(caplog))


def assert_no_sorry(*users: FakeUser) -> None:
    for user in users:
        for message in user.messages:
            assert SORRY not in (message.text or ""), user.history()


async def eventually(condition: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> bool:  # noqa: ASYNC109 - a failure guard
    """Like ``settled``, for work that takes the bot a while (a flood of 100 messages)."""
    try:
        async with asyncio.timeout(timeout):
            while not await condition():  # noqa: ASYNC110 - state written by the bot's tasks
                await asyncio.sleep(0.05)
    except TimeoutError:
        return False
    return True


async def open_checkin(user: FakeUser) -> None:
    await user.send("/checkin")
    ask = await question(user)
    assert WORKING_WELL in (ask.text or ""), user.history()


# --- 1. odd texts --------------------------------------------------------------------------


async def test_odd_texts_are_saved_as_typed_and_shown_back_as_typed(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    emulator.user(PRACTITIONER_ID, "Alex")  # told when Sam joins
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    for name, typed in ODD_ANSWERS.items():
        await open_checkin(sam)
        ask = sam.messages[-1]
        await sam.send(typed)
        nxt = await question(sam)
        assert WORRIED in (nxt.text or ""), (name, sam.history())
        run = (await runs_of(database, 1001))[-1]
        (answer,) = await rows(database, Answer, run_id=run.id)
        assert answer.free_text == typed.strip(), name
        assert json.loads(answer.value_json) == typed.strip(), name

        async def closed(ask_id: int = ask.message_id) -> bool:
            message = next(m for m in sam.messages if m.message_id == ask_id)
            return not message.buttons and "→" in (message.text or "")

        assert await settled(closed), (name, sam.history())
        shown = next(m for m in sam.messages if m.message_id == ask.message_id)
        answer_line = (shown.text or "").split("→ ", 1)[1]
        if name == "4096 characters":  # shortened to fit Telegram's 4096, never dropped
            assert answer_line.endswith("…")
            assert LONG.startswith(answer_line[:-1])
            assert len(shown.text or "") <= 4096
        else:  # markup is escaped, so the person sees exactly what they typed
            assert answer_line == typed.strip(), name

    # Nothing to save: asked again, kindly; nothing stored. (Longer than Telegram allows -
    # it never delivers more than 4096 - gets a kind "shorter?".)
    answers = await count(database, Answer)
    nothing = {**EMPTY_ANSWERS, "4097 characters": LONG + " and more"}
    for name, typed in nothing.items():
        await open_checkin(sam)
        await sam.send(typed)
        again = (await sam.next_reply()).text or ""
        expected = "a bit shorter" if name == "4097 characters" else "Could you type a few words"
        assert expected in again, (name, sam.history())
        (current,) = [r for r in await runs_of(database, 1001) if r.status == "active"]
        assert json.loads(current.session_json)["stack"][-1]["step"] == "working_well"
    assert await count(database, Answer) == answers

    assert_no_sorry(sam)
    assert_logs_clean(logs, *ODD_ANSWERS.values())
    assert await count(database, OutboxMessage, status="failed") == 0


# --- 2. escaped wherever shown: the practitioner's alert and digest ------------------------


async def test_markup_and_long_words_reach_the_practitioner_as_typed(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await reply_containing(alex, "has joined")
    await open_checkin(sam)

    concern = 'I hit him with a belt <b>last night</b> & *hard* <a href="http://x">x</a>'
    await sam.send(concern)
    assert "0808 800 5000" in ((await sam.next_reply()).text or "")
    alert = await reply_containing(alex, "Safeguarding concern")
    assert f"Their words: “{concern}”" in (alert.text or ""), alert.text
    assert "&lt;b&gt;last night&lt;/b&gt; &amp; *hard*" in (alert.source_text or "")
    assert labels(alert) == ["✅ Acknowledge", "📞 I will call"]

    # The longest message Telegram delivers, with a concern in it: the alert still arrives
    # (its words continue in the next message), and every word reaches the practitioner.
    long_concern = ("I hit him with a belt last night. " + LONG)[:4096]
    await sam.send(long_concern)
    await reply_containing(sam, "0808 800 5000")
    alert = await reply_containing(alex, "Safeguarding concern")
    assert labels(alert) == ["✅ Acknowledge", "📞 I will call"]
    assert len(alert.text or "") <= 4096
    rest = await alex.next_reply()
    quoted = (alert.text or "").split("Their words: “", 1)[1].split("…", 1)[0]
    assert (rest.text or "").startswith("…")
    assert quoted + (rest.text or "")[1:].rstrip("”") == long_concern, rest.text

    # The check-in goes on; its answers are quoted in the digest as typed.
    await question(sam)  # what needs to happen
    await sam.send("*shouting* `and` <i>slammed</i> doors")
    await question(sam)  # the 0-10 scale
    await sam.press("4")
    await question(sam)  # one point higher
    await sam.send(LONG)
    await reply_containing(sam, "Check-in done")
    clock.advance(timedelta(hours=1))
    await alex.send("/digest")
    texts = []
    for _ in range(12):
        message = await alex.next_reply()
        if message.method == "sendDocument":
            break
        texts.append(message.text or "")
    family_text = next(t for t in texts if "Green family" in t)
    assert "*shouting* `and` <i>slammed</i> doors" in family_text
    assert all(len(t) <= 4096 for t in texts)

    assert await count(database, OutboxMessage, status="failed") == 0
    assert_no_sorry(sam, alex)
    assert_logs_clean(logs, concern, long_concern[:60], "slammed")


# --- 3. things that are not text -----------------------------------------------------------


async def test_stickers_edits_forwards_and_other_bots_commands_are_handled_and_warned(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await open_checkin(sam)
    await sam.send_sticker()
    await sam.send_location(51.50135, -0.14189)
    await sam.send_contact("+447700900123", "Secret Contact")
    await sam.send_poll("Pizza tonight at the secret place?")
    for _ in range(4):
        assert (await sam.next_reply()).text == PARENT_UNSUPPORTED
    for kind in ("sticker", "location", "contact", "poll"):
        assert_warned(logs, f"unsupported message ({kind})")

    # An edit of an answer already given changes nothing (and says so in the log only).
    await sam.send("We played football in the park")
    await question(sam)
    await sam.edit_last("We played football in the park EDITED")
    # A command for another bot, an unknown command, a forwarded "/stop": none acts here.
    await sam.send("/stop@otherbot")
    await sam.forward("/stop")
    nxt = await question(sam)  # the forwarded words were the answer: the flow goes on
    assert "needs to happen" in (nxt.text or ""), sam.history()
    await sam.send("/frobnicate")
    assert (await reply_containing(sam, "I don't know that command")).text == UNKNOWN_COMMAND
    (run,) = await runs_of(database, 1001)
    assert run.status == "active"
    saved = {a.name: a.free_text for a in await rows(database, Answer, run_id=run.id)}
    assert saved["working_well"] == "We played football in the park"
    assert saved["worried"] == "/stop"  # forwarded words count as what the person shares
    assert_warned(logs, "ignored (edited)")
    assert_warned(logs, "ignored (command_for_other_bot)")

    # The same kinds from a stranger and a practitioner: their usual kind answer.
    stranger = emulator.user(5555, "Stranger")
    await stranger.send_sticker()
    assert (await stranger.next_reply()).text == UNKNOWN_TEXT
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send_location()
    assert "Your tools" in ((await reply_containing(alex, "Your tools")).text or "")

    assert_no_sorry(sam, stranger, alex)
    assert_logs_clean(
        logs, "+447700900123", "Secret Contact", "secret place", "51.50135", "EDITED", "football"
    )


# --- 4. garbage button data ----------------------------------------------------------------

GARBAGE = (
    "garbage",
    "a1",
    "a1:x:y:z",
    "a1:²:1:calm",
    "a1:99999999999999999999999:1:calm",
    "a1:1:99999999999999999999999:calm",
    "m1:",
    "m1:../../etc/passwd",
    "r1:99999999999999999999:start",
    "r1:²:start",
    "s1:99999999999999999999:pause",
    "s1:1:explode",
    "x1",
    "x1:forget",
    "x1:forget:²",
    "x1:forget:99999999999999999999",
    "x1:forget:999999999999999",
    "p1",
    "p1:fam:99999999999999999999999",
    "p1:sga:²",
    "<b>hi</b>:'; DROP TABLE answers;--",
    "🙂" * 16,
)
PRACTITIONER_GARBAGE = (
    "p1",
    "p1:",
    "p1:fam",
    "p1:fam:²",
    "p1:fam:99999999999999999999999",
    "p1:inv:-1",
    "p1:invrole:1:admin",
    "p1:nation:atlantis",
    "p1:sch:1e9",
    "p1:schm:99999999999999999999",
    "p1:schf:1:99999999999999999999",
    "p1:schf:1:999",
    "p1:schd:1:someday",
    "p1:schp:",
    "p1:dg:-1",
    "p1:dgd:funday",
    "p1:dgt:9999",
    "p1:dgt:2561",
    "p1:dgt:ab:cd",
    "p1:sga:99999999999999999999",
    "p1:sgc",
    "p1:unknown:1",
    "a1:1:1:calm",
    "x1:forget:1",
    "garbage",
)


async def test_garbage_button_data_is_answered_and_changes_nothing(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("📔 Diary")
    await question(sam)
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/digestsettings")  # a message with buttons to press on
    settings_message = await reply_containing(alex, "Your weekly digest comes")
    stranger = emulator.user(5555, "Stranger")
    await stranger.send("hello")
    polite = await stranger.next_reply()
    answers_before = await count(database, Answer)
    for data in GARBAGE:
        await sam.press_data(data)
        await stranger.press_data(data, message_id=polite.message_id)
    for data in PRACTITIONER_GARBAGE:
        await alex.press_data(data, message_id=settings_message.message_id)

    sam_answers = (await sam.callback_answers())[1:]  # after the menu's press
    assert len(sam_answers) == len(GARBAGE)
    assert {a.text for a in sam_answers} <= {NOT_AVAILABLE, MOVED_ON, None} | {
        "That reminder has already been answered.",
        "That reminder no longer exists.",
    }, [a.text for a in sam_answers]
    assert len(await stranger.callback_answers()) == len(GARBAGE)
    alex_answers = await alex.callback_answers()
    assert len(alex_answers) == len(PRACTITIONER_GARBAGE)
    for data, answer in zip(PRACTITIONER_GARBAGE, alex_answers, strict=True):
        assert answer.text in (
            "That button has expired.",
            "That isn't one of your families.",
            "That isn't one of your alerts.",
        ), (data, answer.text)

    await sam.send("/help")  # everything before it has been handled
    await reply_containing(sam, "/stop")
    assert await count(database, Answer) == answers_before
    assert [r.flow_id for r in await runs_of(database, 1001)] == ["day_in_the_life"]
    async with database.transaction() as repos:
        me = await repos.practitioners.by_telegram_id(PRACTITIONER_ID)
    assert me is not None
    assert (me.digest_days, me.digest_time) == ("mon", "08:30")  # garbage changed nothing
    # Garbage names nothing real: a refusal may be audited (probing is worth knowing about),
    # never naming a real family's record.
    refused = [e for e in await rows(database, AuditEntry) if "refused" in e.action]
    assert {(e.actor_type, e.actor_id) for e in refused} <= {("practitioner", me.id)}
    assert all(e.target_id is None or e.target_id > 1000 for e in refused)
    assert_warned(logs, "button refused")
    assert_no_sorry(sam, stranger, alex)
    assert_logs_clean(logs, "DROP TABLE", "etc/passwd")


# --- 5. one button pressed 20 times in a second ---------------------------------------------


async def test_twenty_presses_of_one_button_change_the_answer_once(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("📔 Diary")
    ask = await question(sam)
    data = next(d for row in ask.buttons for label, d in row if label == "😌 Calm")
    assert data is not None
    for _ in range(20):  # all in the same poll, as a frantic thumb sends them
        await sam.press_data(data, message_id=ask.message_id)
    notices = [a.text for a in await sam.callback_answers()][1:]  # after the menu's press
    assert len(notices) == 20
    assert notices.count(None) == 1
    assert notices.count(MOVED_ON) == 19
    nxt = await question(sam)
    assert "school run" in (nxt.text or "").lower()
    (run,) = await runs_of(database, 1001)
    saved = await rows(database, Answer, run_id=run.id)
    assert [(a.name, json.loads(a.value_json)) for a in saved] == [("morning", "calm")]
    closed = next(m for m in sam.messages if m.message_id == ask.message_id)
    assert len(closed.edits) == 1  # the question shows the answer once
    assert "→ 😌 Calm" in (closed.text or "")
    questions = [m for m in sam.messages if "school run" in (m.text or "").lower()]
    assert len(questions) == 1
    assert not bot.router.flood.cooling(1001, clock.now())
    assert_no_sorry(sam)
    assert_logs_clean(logs)


# --- 6. a deactivated member and an erased one ---------------------------------------------


async def test_updates_from_deactivated_and_erased_members(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    emulator.block(1001)
    await sam.send("/menu")

    async def inactive() -> bool:
        return not (await member_of(database, 1001)).active

    assert await settled(inactive)
    assert_warned(logs, "blocked the bot")
    # They unblock and write again: welcomed back, their words saved, messages flow again.
    emulator.unblock(1001)
    await sam.send("/checkin")
    ask = await question(sam)
    assert WORKING_WELL in (ask.text or "")
    await sam.send("Back again and trying")
    await question(sam)
    assert (await member_of(database, 1001)).active
    (answer,) = await rows(database, Answer)
    assert answer.free_text == "Back again and trying"

    # Erased (/forget): the account is a stranger now; nothing new is stored about them.
    await sam.send("/forget")
    await reply_containing(sam, "delete your data")
    await sam.press("Yes, delete my data")
    await reply_containing(sam, "Done")
    await sam.send("Are you still there? my secret words")
    assert (await sam.next_reply()).text == UNKNOWN_TEXT
    await sam.press_data("a1:1:1:calm")
    await sam.send_sticker()
    assert (await sam.next_reply()).text == UNKNOWN_TEXT
    assert await count(database, Answer) == 0
    assert [r.status for r in await runs_of_all(database)] == []
    assert_no_sorry(sam)
    assert_logs_clean(logs, "Back again and trying", "my secret words")


async def runs_of_all(database: Database) -> list[FlowRun]:
    return list(await rows(database, FlowRun))


# --- 7. a flood ----------------------------------------------------------------------------


async def test_a_flood_gets_one_cool_down_message_and_is_then_ignored(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await open_checkin(sam)
    before = len(sam.messages)
    processed_before = await count(database, ProcessedUpdate)
    for number in range(100):  # 100 messages in 10 seconds
        await sam.send(f"flood message {number} with private words")
        clock.advance(timedelta(milliseconds=100))
        if number == 50:  # someone else is not slowed down by it
            await alex.send("/help")
    await reply_containing(alex, "Your tools")
    guard = bot.router.flood

    async def all_seen() -> bool:  # handled (each claims its update id) or ignored
        handled = await count(database, ProcessedUpdate) - processed_before
        return handled + guard.ignored_total >= 101

    assert await eventually(all_seen)
    clock.advance(timedelta(minutes=2))  # the cool-down is over
    await sam.send("/menu")  # handled after every message of the flood (one person's order)
    await reply_containing(sam, "What would you like to do?", within=120)

    said = [m.text or "" for m in sam.messages[before:]]
    assert said.count(COOL_DOWN_TEXT) == 1, said
    assert guard.floods_total == 1
    handled = 100 - guard.ignored_total
    # The bucket's 30, plus at most 2 a second for the 10 seconds, before the cool-down.
    assert 30 <= handled <= 51, handled
    # What was handled before the flood was noticed is kept: the check-in's answers.
    saved = [a.free_text for a in await rows(database, Answer)]
    assert saved[:3] == [f"flood message {n} with private words" for n in range(3)]
    assert len(said) <= handled + 5, said
    assert_warned(logs, "flood from Telegram user 1001")
    assert_no_sorry(sam, alex)
    assert_logs_clean(logs, "private words")


# --- 8. groups and channels ----------------------------------------------------------------


async def test_channels_and_being_added_to_a_group_are_refused_and_left(
    emulator: BotApiEmulator, bot: TelegramBot, logs: pytest.LogCaptureFixture
) -> None:
    state = emulator.state
    channel = state.chats.setdefault(-100999, Chat(id=-100999, type="channel", title="News"))
    post = state.user_message(channel, {}, {"text": "Our channel's first post"})
    del post["from"]
    post["sender_chat"] = channel.to_api()
    state.push_update("channel_post", post)

    sam = emulator.user(1001, "Sam")
    group = state.add_group(-100555, "Family group")
    member = {"status": "member", "user": state.bot_user}
    state.push_update(
        "my_chat_member",
        {
            "chat": group.to_api(),
            "from": sam.profile,
            "date": state.date(),
            "old_chat_member": {"status": "left", "user": state.bot_user},
            "new_chat_member": member,
        },
    )

    async def both_left() -> bool:
        return channel.left and group.left

    assert await settled(both_left)
    for chat in (channel, group):
        assert [m.text for m in chat.history] == [GROUP_TEXT]
    assert_warned(logs, "a channel chat was refused")
    assert_warned(logs, "a group chat was refused")
    assert_logs_clean(logs, "first post")


# --- 9. a practitioner's odd names ---------------------------------------------------------


async def test_a_practitioner_naming_a_family_oddly(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    logs: pytest.LogCaptureFixture,
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/newfamily")
    await reply_containing(alex, "family's name")
    for name in ("", "   ", "\u200b\u200d", "x" * 121):
        await alex.send(name)
        assert "name of 1-120 characters" in ((await alex.next_reply()).text or ""), repr(name)
    await alex.send("<b>Blue</b> & *Co*")
    await reply_containing(alex, "Where does the")
    await alex.press("Wales")
    await reply_containing(alex, "Added the")
    await alex.send("/families")
    listing = await reply_containing(alex, "Your families:")
    assert "• <b>Blue</b> & *Co* (Wales): 0 joined" in (listing.text or "")
    assert "<b>Blue</b> & *Co*" in labels(listing)
    assert await count(database, Family) == 2
    assert_no_sorry(alex)
    assert_logs_clean(logs, "Blue")
