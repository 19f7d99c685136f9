"""More end to end: media, odd messages, menus per role, practitioner tools, invites, errors.

Everything goes through the real python-telegram-bot Application and the local Bot API
emulator; the database is looked at directly only to check what was stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
import uvloop
from sqlalchemy import text as sql

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.services.incoming import Handled, Incoming
from rpbot.storage.db import Database
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    Family,
    FlowRun,
    Invite,
    Member,
    OutboxMessage,
)
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, invite_code
from tests.telegram.helpers import (
    answers_of,
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

CHART_QUESTION = "chore chart"
PARENT_UNSUPPORTED = "I can only read words, button taps, photos, voice notes and files here."
CHILD_UNSUPPORTED = "I can only read words and button taps here 🙂"


async def to_chart_photo(user: FakeUser) -> None:
    """Open the household agreement and /skip every question until the chart photo one."""
    await user.press("🧹 Chores")
    for _ in range(15):
        ask = await question(user)
        if CHART_QUESTION in (ask.text or ""):
            assert "Skip ⏭" in labels(ask)
            return
        await user.send("/skip")
    raise AssertionError(f"never reached the chart photo question:\n{user.history()}")


# --- 1. media ----------------------------------------------------------------------------


async def test_a_photo_answers_the_chart_question_and_a_voice_note_is_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await to_chart_photo(sam)
    before = await count(database, Answer, name="chart_photo")

    await sam.send_voice()
    again = await sam.next_reply()
    assert again.text == "Please send a photo or a file, or tap Skip."
    assert await count(database, Answer, name="chart_photo") == before

    sent = await sam.send_photo(caption="Our chart on the fridge")
    file_id = sent["photo"][-1]["file_id"]
    assert emulator.file_bytes(file_id).startswith(b"\x89PNG")
    end = await sam.next_reply()
    assert "Thank you, Sam" in (end.text or ""), sam.history()

    (run,) = await runs_of(database, 1001)
    assert (run.flow_id, run.status) == ("household_agreement", "completed")
    (photo,) = [a for a in await answers_of(database, run.id) if a.name == "chart_photo"]
    assert json.loads(photo.value_json) == {"kind": "photo", "file_id": file_id}
    assert photo.ask_type == "media"
    assert photo.free_text == "Our chart on the fridge"
    # The question now shows what was given, without buttons.
    closed = next(m for m in sam.messages if CHART_QUESTION in (m.text or ""))
    assert "→ 📷 Photo" in (closed.text or "")
    assert not closed.buttons


async def test_a_document_answers_the_chart_question_in_another_run(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await to_chart_photo(sam)
    await sam.send("/skip")  # the first run ends without a chart
    await reply_containing(sam, "Thank you, Sam")

    await to_chart_photo(sam)
    sent = await sam.send_document(
        b"%PDF-1.4 chart", file_name="chart.pdf", mime_type="application/pdf"
    )
    file_id = sent["document"]["file_id"]
    await reply_containing(sam, "Thank you, Sam")

    first, second = await runs_of(database, 1001)
    assert (first.status, second.status) == ("completed", "completed")
    skipped = [a for a in await answers_of(database, first.id) if a.name == "chart_photo"]
    assert [json.loads(a.value_json) for a in skipped] == [None]
    (document,) = [a for a in await answers_of(database, second.id) if a.name == "chart_photo"]
    assert json.loads(document.value_json) == {"kind": "document", "file_id": file_id}


# --- 2. stickers, locations, contacts and polls where text is expected ------------------


async def test_stickers_locations_contacts_and_polls_get_a_kind_reply_and_change_nothing(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("🧭 Check-in")
    ask = await question(sam)
    assert "What is working well" in (ask.text or "")
    (run,) = await runs_of(database, 1001)
    prompt_before = json.loads(run.session_json)["prompt"]

    for kind in ("sticker", "location", "contact", "poll"):
        if kind == "sticker":
            await sam.send_sticker()
        elif kind == "location":
            await sam.send_location()
        elif kind == "contact":
            await sam.send_contact()
        else:
            await sam.send_poll("Pizza tonight?")
        reply = await sam.next_reply()
        assert reply.text == PARENT_UNSUPPORTED, sam.history()
        assert not reply.buttons

    assert await count(database, Answer) == 0
    (run,) = await runs_of(database, 1001)
    assert run.status == "active"
    assert json.loads(run.session_json)["prompt"] == prompt_before
    assert json.loads(run.session_json)["stack"][-1]["step"] == "working_well"
    assert labels(ask), "the question still has its buttons"

    # A photo with no caption on a text question is refused kindly too.
    await sam.send_photo()
    assert "could you type it instead" in ((await sam.next_reply()).text or "")

    await sam.send("We laughed a lot at tea")
    nxt = await question(sam)
    assert "worried about" in (nxt.text or "")
    (answer,) = await rows(database, Answer)
    assert (answer.name, answer.free_text) == ("working_well", "We laughed a lot at tea")


async def test_a_child_sending_a_sticker_gets_simpler_words(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    await kim.press("😊 How I feel")
    ask = await question(kim)
    await kim.send_sticker()
    assert (await kim.next_reply()).text == CHILD_UNSUPPORTED
    await kim.send_location()
    assert (await kim.next_reply()).text == CHILD_UNSUPPORTED
    assert await count(database, Answer) == 0
    await kim.press("🙂 4")
    nxt = await question(kim)
    assert nxt.message_id > ask.message_id
    assert "good thing" in (nxt.text or "")
    (answer,) = await rows(database, Answer)
    assert (answer.name, json.loads(answer.value_json)) == ("feeling", 4)


# --- 3. command menus per role ----------------------------------------------------------


def command_names(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [c["command"] for c in emulator.commands(scope={"type": "chat", "chat_id": chat_id})]


async def test_each_role_gets_its_own_command_menu(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    parent = command_names(emulator, sam.chat_id)
    assert {"diary", "checkin", "menu", "help", "stop", "chores"} <= set(parent)
    assert not {"houses", "feelings", "families", "invite"} & set(parent)

    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    child = command_names(emulator, kim.chat_id)
    assert {"houses", "feelings", "reflect", "chores", "menu", "help", "stop"} <= set(child)
    assert not {"diary", "checkin", "families", "invite"} & set(child)

    alex = emulator.user(PRACTITIONER_ID, "Alex")
    assert command_names(emulator, alex.chat_id) == []
    await alex.send("/start")
    await reply_containing(alex, "Hello Alex")
    practitioner = command_names(emulator, alex.chat_id)
    assert {"families", "family", "newfamily", "invite"} <= set(practitioner)
    assert not {"diary", "houses"} & set(practitioner)
    # Nothing was set for everyone: each list belongs to its own chat.
    assert emulator.commands() == []
    for descriptions in (sam.chat_id, kim.chat_id, alex.chat_id):
        for command in emulator.commands(scope={"type": "chat", "chat_id": descriptions}):
            assert command["description"].strip()


async def test_menu_presses_for_the_other_role_are_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    for forged in ("m1:day_in_the_life", "m1:parenting_styles", "m1:no_such_flow"):
        await kim.press_data(forged)
    for forged in ("m1:feelings_checkin", "m1:three_houses"):
        await sam.press_data(forged)
    refused = "That isn't available here."
    assert [a.text for a in await kim.callback_answers()] == [refused] * 3
    assert [a.text for a in await sam.callback_answers()] == [refused] * 2
    assert await count(database, FlowRun) == 0


async def test_a_child_cannot_open_the_parents_learning_menu(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    await kim.press_data("m1:learn")
    (answer,) = await kim.callback_answers()
    await kim.send("/help")
    said = await replies_until(kim, "I ask you easy questions")
    assert not any("module" in text for text in said), said
    assert answer.text == "That isn't available here."


# --- 4. practitioner tools --------------------------------------------------------------


async def other_practitioners_family(database: Database, clock: FakeClock) -> int:
    """Another practitioner (Bea, 9002) with the Red family; its id."""
    async with database.transaction() as repos:
        bea = await add_practitioner(repos, 9002, "Bea", clock.now())
        red = await create_family(repos, bea, "Red", "scotland", clock.now())
        assert red.id is not None
        return red.id


async def test_a_practitioner_adds_a_family_lists_families_and_views_one(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/newfamily")
    assert "family's name" in ((await alex.next_reply()).text or "")
    await alex.send("Blue")
    where = await alex.next_reply()
    assert "Where does the Blue family live?" in (where.text or "")
    assert labels(where) == ["England", "Wales", "Scotland", "Northern Ireland"]
    await alex.press("Wales")
    added = await alex.next_reply()
    assert "Added the Blue family" in (added.text or "")
    blue = [f for f in await rows(database, Family) if f.name == "Blue"]
    green = [f for f in await rows(database, Family) if f.id == family]
    assert [(f.nation, f.practitioner_id) for f in blue] == [("wales", green[0].practitioner_id)]
    # A second tap on the nation button does not make a second family.
    await alex.press("Wales")
    answers = await alex.callback_answers()
    assert "expired" in (answers[-1].text or "")
    assert await count(database, Family, name="Blue") == 1
    # Another command cancels a half-made family; its nation buttons no longer work.
    await alex.send("/newfamily")
    await alex.next_reply()
    await alex.send("Purple")
    purple = await alex.next_reply()
    await alex.send("/help")
    await alex.next_reply()
    await alex.press_data(purple.buttons[0][0][1] or "", message_id=purple.message_id)
    answers = await alex.callback_answers()
    assert "expired" in (answers[-1].text or "")
    assert await count(database, Family, name="Purple") == 0

    await joined(emulator, database, clock, family, 1001, "Sam")
    await reply_containing(alex, "Sam (parent) has joined the Green family")
    await alex.send("/families")
    listing = await alex.next_reply()
    assert "Your families:" in (listing.text or "")
    assert "• Green (England): 1 joined" in (listing.text or "")
    assert "• Blue (Wales): 0 joined" in (listing.text or "")
    assert sorted(labels(listing)) == ["Blue", "Green"]

    await alex.send("/family green")
    summary = await alex.next_reply()
    assert (summary.text or "").startswith("Green family (England)")
    assert "• Sam (parent), last active 23 Nov 18:00 UTC" in (summary.text or "")

    await alex.press("Blue")  # the button on the /families list
    blue_summary = await alex.next_reply()
    assert "Blue family (Wales)" in (blue_summary.text or "")
    assert "Nobody has joined yet." in (blue_summary.text or "")
    views = await rows(database, AuditEntry, action="view_family")
    assert [v.target_id for v in views] == [family, blue[0].id]


async def test_a_member_who_becomes_a_practitioner_is_served_as_a_practitioner(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    # Members are found with one query that also looks for a practitioner with the same
    # Telegram id; the practitioner's desk still comes first, as before.
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.send("/families")
    assert "Your families:" not in ((await sam.next_reply()).text or "")
    async with database.transaction() as repos:
        await add_practitioner(repos, 1001, "Sam Worker", clock.now())
    await sam.send("/families")
    assert "You have no families yet" in ((await sam.next_reply()).text or "")


async def test_a_practitioner_cannot_reach_another_practitioners_family(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    red = await other_practitioners_family(database, clock)
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/families")
    listing = await alex.next_reply()
    assert labels(listing) == ["Green"]

    for forged in (f"p1:fam:{red}", f"p1:inv:{red}", f"p1:invrole:{red}:parent"):
        await alex.press_data(forged, message_id=listing.message_id)
        answers = await alex.callback_answers()
        assert answers[-1].text == "That isn't one of your families.", forged
    async with database.transaction() as repos:
        me = await repos.practitioners.by_telegram_id(PRACTITIONER_ID)
    assert me is not None
    refused = await rows(database, AuditEntry, action="refused_family")
    assert [(r.actor_type, r.actor_id, r.target_id) for r in refused] == [
        ("practitioner", me.id, red)
    ] * 3
    assert await count(database, AuditEntry, action="view_family") == 0
    assert await count(database, Invite) == 0
    assert me.pending_json is None
    # Nothing about the Red family was sent: the next message is the answer to /help.
    await alex.send("/help")
    assert "Your tools" in ((await alex.next_reply()).text or "")
    assert not any("Red" in (m.text or "") for m in alex.messages)
    # /family with the other family's name does not find it either.
    await alex.send("/family Red")
    choose = await alex.next_reply()
    assert choose.text == "Which family?"
    assert labels(choose) == ["Green"]


async def test_a_family_member_pressing_practitioner_buttons_changes_nothing(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    families_before = await count(database, Family)
    invites_before = await count(database, Invite)
    audit_before = await count(database, AuditEntry)
    for forged in (
        f"p1:fam:{family}",
        f"p1:inv:{family}",
        f"p1:invrole:{family}:parent",
        f"p1:invrole:{family}:child",
        "p1:nation:england",
    ):
        await sam.press_data(forged)
    answers = await sam.callback_answers()
    assert [a.text for a in answers] == ["That isn't available here."] * 5
    assert await count(database, Family) == families_before
    assert await count(database, Invite) == invites_before
    assert await count(database, AuditEntry) == audit_before
    assert await count(database, FlowRun) == 0
    await sam.send("/help")
    assert "I help you keep your programme going" in ((await sam.next_reply()).text or "")


# --- 5. invites -------------------------------------------------------------------------


async def test_an_invite_older_than_seven_days_is_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    old = await invite_code(database, clock, family, "parent", "Sam")
    fresh_enough = await invite_code(database, clock, family, "child", "Kim")
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    # A minute before it expires an invite still works.
    await joined(emulator, database, clock, family, 2001, "Kim", "child", code=fresh_enough)

    clock.advance(timedelta(minutes=2))  # 7 days and 1 minute after it was made
    sam = emulator.user(1001, "Sam")
    await sam.send(f"/start {old}")
    refused = await sam.next_reply()
    assert "didn't work" in (refused.text or "")
    assert await count(database, Member, display_name="Sam") == 0
    (invite,) = [i for i in await rows(database, Invite) if i.member_name == "Sam"]
    assert invite.used_at is None


async def test_a_used_invite_cannot_be_used_again(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    code = await invite_code(database, clock, family, "parent", "Sam")
    sam = await joined(emulator, database, clock, family, 1001, "Sam", code=code)
    sam_id = (await member_of(database, 1001)).id
    for user_id, name in ((1002, "Pat"), (1003, "Lou")):
        other = emulator.user(user_id, name)
        await other.send(f"/start {code}")
        assert "didn't work" in ((await other.next_reply()).text or "")
    # Sam sending the link again just gets the menu; nothing changes hands.
    await sam.send(f"/start {code}")
    assert "What would you like to do" in ((await sam.next_reply()).text or "")
    assert await count(database, Member) == 1
    (invite,) = await rows(database, Invite)
    assert invite.used_by_member_id == sam_id


async def test_two_people_racing_for_one_invite_make_one_member(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    code = await invite_code(database, clock, family, "parent", "Sam")
    people = [emulator.user(1001, "Sam"), emulator.user(1002, "Pat")]
    for person in people:  # both updates arrive in the same poll
        await person.send(f"/start {code}")
    texts = [(await person.next_reply()).text or "" for person in people]
    assert sum("Welcome, Sam" in t for t in texts) == 1, texts
    assert sum("didn't work" in t for t in texts) == 1, texts
    assert await count(database, Member) == 1


async def practitioner_invites(alex: FakeUser, family_name: str, role: str, name: str) -> str:
    """Alex makes an invite through /invite; the code from the link."""
    await alex.send("/invite")
    await alex.next_reply()
    await alex.press(family_name)
    await alex.next_reply()
    await alex.press(role)
    await alex.next_reply()
    await alex.send(name)
    link = await alex.next_reply()
    match = re.search(r"\?start=([A-Za-z0-9_-]{24})", link.text or "")
    assert match, link.text
    return match.group(1)


async def table_text(database: Database, table: str) -> str:
    """Every value of every row of a table, as one string."""
    async with database.transaction() as repos:
        result = await repos.session.exec(sql(f"SELECT * FROM {table}"))  # type: ignore[call-overload]
        return "\n".join(" | ".join(str(v) for v in row) for row in result.all())


async def test_invite_codes_are_stored_only_as_hashes(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    codes = [
        await practitioner_invites(alex, "Green", "Parent", "Sam"),
        await invite_code(database, clock, family, "child", "Kim"),
    ]
    invites = await rows(database, Invite)
    assert [i.code_hash for i in invites] == [
        hashlib.sha256(code.encode()).hexdigest() for code in codes
    ]
    dump = await table_text(database, "invites")
    for code in codes:
        assert code not in dump
    await joined(emulator, database, clock, family, 1001, "Sam", code=codes[0])
    dump = await table_text(database, "invites") + await table_text(database, "audit_log")
    assert codes[0] not in dump


async def test_an_invite_code_made_in_telegram_is_nowhere_in_the_database(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    code = await practitioner_invites(alex, "Green", "Parent", "Sam")

    async def all_sent() -> bool:
        return await count(database, OutboxMessage, status="pending") == 0

    assert await settled(all_sent)
    tables = ["invites", "outbox", "audit_log", "practitioners", "counters"]
    for table in tables:
        assert code not in await table_text(database, table), table


# --- 6. help, menu, stop, back, unknown commands ----------------------------------------


async def test_help_and_menu_for_a_parent_and_a_child(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")

    await sam.send("/help")
    parent_help = (await sam.next_reply()).text or ""
    await kim.send("/help")
    child_help = (await kim.next_reply()).text or ""
    for words in (parent_help, child_help):
        assert "/back" in words
        assert "/stop" in words
    assert "practitioner" in parent_help
    assert "practitioner" not in child_help
    assert len(child_help) < len(parent_help)
    assert max(map(len, child_help.split())) <= max(map(len, parent_help.split()))

    await sam.send("/menu")
    parent_menu = await sam.next_reply()
    await kim.send("/menu")
    child_menu = await kim.next_reply()
    assert parent_menu.text == "What would you like to do?"
    assert child_menu.text == "What would you like to do? 🙂"
    assert {"📔 Diary", "🧭 Check-in", "📚 Learn", "🧹 Chores"} <= set(labels(parent_menu))
    assert set(labels(child_menu)) == {
        "🏠 Three houses",
        "😊 How I feel",
        "💭 Think it over",
        "🧹 Chores",
    }


async def test_stop_and_back_inside_a_flow(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("📔 Diary")
    first = await question(sam)
    assert "Waking up" in (first.text or "")
    await sam.send("/back")
    assert "first question" in ((await sam.next_reply()).text or "")
    await sam.press("😌 Calm")
    second = await question(sam)
    assert "school run" in (second.text or "").lower()

    await sam.send("/back")
    again = await question(sam)
    assert "Waking up" in (again.text or "")
    assert again.message_id > second.message_id
    closed = next(m for m in sam.messages if m.message_id == second.message_id)
    assert not closed.buttons
    await sam.press("🙂 OK")
    await question(sam)
    (run,) = await runs_of(database, 1001)
    assert json.loads(run.session_json)["answers"]["day_in_the_life"]["morning"] == "ok"

    await sam.send("/stop")
    stopped = await sam.next_reply()
    assert "we'll stop here" in (stopped.text or "")
    (run,) = await runs_of(database, 1001)
    assert run.status == "stopped"
    mornings = [a for a in await answers_of(database, run.id) if a.name == "morning"]
    assert json.loads(mornings[-1].value_json) == "ok"
    await sam.send("/stop")
    nothing = await sam.next_reply()
    assert "nothing in progress" in (nothing.text or "")
    assert "📔 Diary" in labels(nothing)


async def test_an_unknown_command_gets_the_menu(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    await sam.send("/frobnicate")
    reply = await sam.next_reply()
    assert reply.text == "I don't know that command. Here's the menu:"
    assert "📔 Diary" in labels(reply)
    # A parent's command is unknown to a child.
    await kim.send("/diary")
    reply = await kim.next_reply()
    assert reply.text == "I don't know that command. Here's the menu:"
    assert "😊 How I feel" in labels(reply)
    assert await count(database, FlowRun) == 0
    # Inside a flow, an unknown command leaves the flow waiting.
    await sam.press("🧭 Check-in")
    await question(sam)
    await sam.send("/frobnicate")
    assert "I don't know that command" in ((await sam.next_reply()).text or "")
    (run,) = await runs_of(database, 1001)
    assert run.status == "active"


async def replies_until(user: FakeUser, needle: str) -> list[str]:
    """The texts of the replies before the one containing ``needle`` (which is read too)."""
    before: list[str] = []
    for _ in range(10):
        reply = await user.next_reply()
        if needle in (reply.text or ""):
            return before
        before.append(reply.text or "")
    raise AssertionError(f"no reply containing {needle!r}:\n{user.history()}")


async def test_a_command_for_another_bot_is_ignored_politely(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("🧭 Check-in")
    await question(sam)
    await sam.send("/stop@otherbot")
    await sam.send("/start@otherbot")
    await sam.send("/diary@otherbot")
    # Whatever the bot says about them (if anything) is polite, and nothing happens.
    await sam.send("/help")
    said = await replies_until(sam, "Type a few words")  # the check-in's own help
    for reply in said:
        for unwanted in ("Sorry, something went wrong", "Welcome", "aside", "stop here"):
            assert unwanted not in reply
    (run,) = await runs_of(database, 1001)
    assert (run.flow_id, run.status) == ("three_questions", "active")
    assert await count(database, Answer) == 0
    # Addressed to this bot, the same command works.
    await sam.send(f"/stop@{emulator.bot_username}")
    assert "we'll stop here" in ((await sam.next_reply()).text or "")

    stranger = emulator.user(5555, "Stranger")
    await stranger.send("/start@otherbot")
    await stranger.send("/start not-a-real-code")
    said = await replies_until(stranger, "didn't work")
    assert all("Sorry, something went wrong" not in text for text in said)
    assert await count(database, Member) == 1


async def test_starting_a_second_flow_puts_the_first_aside(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("📔 Diary")
    first_question = await question(sam)
    old_diary_button = first_question.buttons[0][0][1] or ""
    await sam.press("😌 Calm")
    second_question = await question(sam)
    await sam.press("🧭 Check-in")  # on the welcome message's menu
    aside = await sam.next_reply()
    assert aside.text == "I've put 'Day in the Life diary' aside - what you shared is saved."
    checkin = await question(sam)
    assert "What is working well" in (checkin.text or "")
    notices = await sam.callback_answers()
    assert notices[-1].text == "Three-question check-in"

    diary, check = await runs_of(database, 1001)
    assert (diary.flow_id, diary.status) == ("day_in_the_life", "stopped")
    assert diary.ended_at is not None
    assert (check.flow_id, check.status) == ("three_questions", "active")
    kept = await answers_of(database, diary.id)
    assert [(a.name, json.loads(a.value_json)) for a in kept] == [("morning", "calm")]
    # The diary's open question lost its buttons; pressing an old diary button changes nothing.
    closed = next(m for m in sam.messages if m.message_id == second_question.message_id)
    assert not closed.buttons
    await sam.press_data(old_diary_button, message_id=checkin.message_id)
    notices = await sam.callback_answers()
    assert "moved on" in (notices[-1].text or "")
    assert await count(database, Answer) == 1

    # A menu command does the same.
    await sam.send("/diary")
    aside = await sam.next_reply()
    assert aside.text == "I've put 'Three-question check-in' aside - what you shared is saved."
    statuses = [r.status for r in await runs_of(database, 1001)]
    assert statuses == ["stopped", "stopped", "active"]


# --- 7. the error handler ---------------------------------------------------------------


async def test_an_error_gets_a_kind_message_and_a_log_without_words_or_token(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As `rpbot run` configures logging: INFO, with httpx (which logs URLs) kept quiet.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="httpx")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("🧭 Check-in")
    await question(sam)

    real_handle = bot.router.handle
    calls: list[Incoming] = []

    async def failing_once(incoming: Incoming) -> Handled:
        calls.append(incoming)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return await real_handle(incoming)

    monkeypatch.setattr(bot.router, "handle", failing_once)
    words = "Our secret words are marmalade-4815162342"
    await sam.send(words)
    sorry = await sam.next_reply()
    assert (sorry.text or "").startswith("Sorry, something went wrong")
    assert "answers so far are safe" in (sorry.text or "")
    assert await count(database, Answer) == 0

    # Trying again works: the flow was waiting where it was.
    await sam.send(words)
    nxt = await question(sam)
    assert "worried about" in (nxt.text or "")
    (answer,) = await rows(database, Answer)
    assert answer.free_text == words

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the error was not logged"
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in errors)
    for record in caplog.records:
        shown = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        assert "marmalade" not in shown, record
        assert emulator.token not in shown, record
    assert "marmalade" not in caplog.text
    assert emulator.token not in caplog.text


async def test_a_database_error_is_logged_without_the_persons_words(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="httpx")
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    await sam.press("🧭 Check-in")
    await question(sam)
    # The database refuses the next answer (as a full disk or a broken constraint would).
    async with database.transaction() as repos:
        await repos.session.exec(  # type: ignore[call-overload]
            sql(
                "CREATE TRIGGER refuse_answers BEFORE INSERT ON answers "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    await sam.send("Our secret words are marmalade-4815162342")
    sorry = await sam.next_reply()
    assert (sorry.text or "").startswith("Sorry, something went wrong")
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    assert "marmalade" not in caplog.text


async def test_a_failed_button_press_is_still_answered(
    emulator: BotApiEmulator,
    bot: TelegramBot,
    family: int,
    database: Database,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")

    async def failing(incoming: Incoming) -> Handled:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.router, "handle", failing)
    await sam.press("📔 Diary")
    sorry = await sam.next_reply()
    assert (sorry.text or "").startswith("Sorry, something went wrong")
    await sam.callback_answers(timeout=1.0)  # a failure guard: the answer comes at once if at all


# --- 8. ordering ------------------------------------------------------------------------


async def test_quick_messages_are_answered_and_saved_in_order(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    await sam.press("🧭 Check-in")
    await question(sam)
    await kim.press("😊 How I feel")
    await question(kim)

    texts = ["first we played", "second a row", "third more sleep", "5", "fifth a calm tea"]
    for index, typed in enumerate(texts):
        await sam.send(typed)
        if index == 1:
            await kim.press("🙂 4")
        if index == 3:
            await kim.send("I got a gold star")

    expected = [
        "What are you worried about",
        "What needs to happen next",
        "From 0 to 10",
        "What would one point higher look like",
        "Check-in done",
    ]
    replies: list[Any] = []
    while len(replies) < len(expected):
        reply = await sam.next_reply()
        if reply.text and not reply.text.startswith("Working well:"):
            replies.append(reply)
    for reply, wanted in zip(replies, expected, strict=True):
        assert wanted in (reply.text or ""), sam.history()
    assert [r.message_id for r in replies] == sorted(r.message_id for r in replies)

    # Kim's questions came while Sam's were being answered (read by text: a question
    # answered before it is read has already lost its buttons).
    good = await reply_containing(kim, "good thing")
    worry = await reply_containing(kim, "worrying you")
    assert good.message_id < worry.message_id

    (run,) = await runs_of(database, 1001)
    saved = await answers_of(database, run.id)
    assert [a.name for a in saved] == [
        "working_well",
        "worried",
        "needs_to_happen",
        "safety_scale",
        "next_point",
    ]
    values = [json.loads(a.value_json) for a in saved]
    assert values == [texts[0], texts[1], texts[2], 5, texts[4]]
    # Each question shows its own answer.
    for message in sam.messages:
        if "worried about" in (message.text or ""):
            assert "→ second a row" in (message.text or "")
    (kim_run,) = await runs_of(database, 2001)
    kim_saved = await answers_of(database, kim_run.id)
    assert [a.name for a in kim_saved] == ["feeling", "good_thing"]


# --- 9. a child's private answers -------------------------------------------------------


async def feelings_run(kim: FakeUser, share_label: str) -> None:
    await kim.press("😊 How I feel")
    await question(kim)
    await kim.press("🙂 4")
    await question(kim)
    await kim.send("I built a den")
    await question(kim)
    await kim.send("A spelling test tomorrow")
    ask = await question(kim)
    assert "worker to see" in (ask.text or ""), kim.history()
    await kim.press(share_label)
    await reply_containing(kim, "See you next time")


async def test_a_childs_answers_stay_private_unless_they_choose_to_share(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    kim = await joined(emulator, database, clock, family, 2001, "Kim", "child")
    await feelings_run(kim, "🔒 No, keep it private")
    await feelings_run(kim, "👍 Yes, they can see")

    private_run, shared_run = await runs_of(database, 2001)
    assert (private_run.status, shared_run.status) == ("completed", "completed")
    private = await answers_of(database, private_run.id)
    shared = await answers_of(database, shared_run.id)
    names = ["feeling", "good_thing", "worry", "tell_worker"]
    assert [a.name for a in private] == names
    assert [a.name for a in shared] == names
    assert {a.share for a in private} == {"private"}
    assert json.loads(private[-1].value_json) is False
    assert {a.share for a in shared} == {"practitioner"}
    assert json.loads(shared[-1].value_json) is True
    # Choosing to share one check-in does not open up the other.
    member = await member_of(database, 2001)
    async with database.transaction() as repos:
        everything = await repos.answers.for_member(member.id or 0)
    by_run = {(a.run_id, a.share) for a in everything}
    assert by_run == {(private_run.id, "private"), (shared_run.id, "practitioner")}


async def test_these_tests_run_on_uvloop_like_rpbot_run() -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
