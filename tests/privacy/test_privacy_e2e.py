"""/mydata, /forget and retention end to end: the real bot through the local Bot API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.engine import Session
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.enrolment import UNKNOWN_TEXT
from rpbot.services.privacy import RETENTION_JOB
from rpbot.storage.db import Database
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    FlowRun,
    Member,
    OutboxMessage,
    Reminder,
    SafeguardingAlert,
    Schedule,
)
from rpbot.telegram.app import TelegramBot
from tests.telegram.conftest import PRACTITIONER_ID, invite_code
from tests.telegram.helpers import count, joined, member_of, question, reply_containing, rows

pytestmark = pytest.mark.asyncio

SAM_ID, MIA_ID = 501, 502
SAM_WORDS = "Bedtimes are calmer <b>since Tuesday</b>"
MIA_WORDS = "My dog Biscuit and football"


async def sam_checks_in(sam: FakeUser, words: str = SAM_WORDS) -> None:
    """Sam starts a check-in and types the first answer."""
    await sam.send("/checkin")
    await question(sam)
    await sam.send(words)
    await question(sam)


async def mia_builds_houses(mia: FakeUser) -> None:
    """Mia starts the three houses, taps a face and types her good things."""
    await mia.send("/houses")
    await question(mia)
    await mia.press("😐")
    await question(mia)
    await mia.send(MIA_WORDS)
    await question(mia)


async def documents(user: FakeUser, emulator: BotApiEmulator) -> dict[str, str]:
    """Read replies until two documents came; their file names -> contents."""
    found: dict[str, str] = {}
    for _ in range(6):
        message = await user.next_reply()
        if message.method == "sendDocument":
            assert message.document is not None
            data = emulator.file_bytes(str(message.document["file_id"])).decode("utf-8")
            found[str(message.document.get("file_name"))] = data
            if len(found) == 2:
                return found
    raise AssertionError(user.history())


async def alex(emulator: BotApiEmulator) -> FakeUser:
    """The practitioner, who has opened the bot (so it can write to them)."""
    practitioner = emulator.user(PRACTITIONER_ID, "Alex")
    await practitioner.send("/help")
    await practitioner.next_reply()
    return practitioner


async def alert_for(database: Database, member: Member, text: str) -> int:
    """A safeguarding alert raised from ``member``'s words (stored directly)."""
    async with database.transaction() as repos:
        family = await repos.families.by_id(member.family_id)
        assert family is not None
        alert = await repos.alerts.add(
            SafeguardingAlert(
                family_id=member.family_id,
                member_id=member.id,
                practitioner_id=family.practitioner_id,
                role=member.role,
                categories="harm_to_child",
                text=text,
                created_at=member.created_at,
            )
        )
        assert alert.id is not None
        return alert.id


async def test_mydata_sends_a_page_and_a_data_file_of_their_own_data_only(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    mia = await joined(emulator, database, clock, family, MIA_ID, "Mia", "child")
    await sam_checks_in(sam)
    await mia_builds_houses(mia)
    await alert_for(database, await member_of(database, MIA_ID), "words about a secret")

    await sam.send("/mydata")
    intro = await sam.next_reply()
    assert "everything I keep about you" in (intro.text or "")
    files = await documents(sam, emulator)

    page = next(text for name, text in files.items() if name.endswith(".html"))
    data_text = next(text for name, text in files.items() if name.endswith(".json"))
    data = json.loads(data_text)
    assert data["you"]["name"] == "Sam"
    assert data["you"]["telegram_user_id"] == SAM_ID
    assert data["family"] == {"name": "Green", "nation": "england", "practitioner": "Alex"}
    typed = [a["typed_text"] for a in data["answers"]]
    assert SAM_WORDS in typed
    assert all(a["activity"] == "Three-question check-in" for a in data["answers"]), data
    assert data["activities"][0]["status"] == "In progress"
    assert {s["activity"] for s in data["reminder_schedules"]} >= {"Three-question check-in"}
    # Escaped in the page, whole in the data file; nobody else's words, no alert, no ids.
    assert "Bedtimes are calmer &lt;b&gt;since Tuesday&lt;/b&gt;" in page
    assert "<b>since" not in page
    for text in (page, data_text):
        assert "Biscuit" not in text
        assert "secret" not in text.lower()
        assert "member_id" not in text
        assert "family_id" not in text

    async with database.transaction() as repos:
        audit = await repos.audit.recent(5)
    exports = [e for e in audit if e.action == "export"]
    assert len(exports) == 1
    assert exports[0].detail == "answers=1"
    # The copies leave the outbox once delivered.
    sent = await rows(database, OutboxMessage, method="document")
    assert len(sent) == 2
    assert all("Bedtimes" not in row.payload_json for row in sent)


async def test_a_child_gets_their_own_words_and_a_parent_never_sees_them(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    mia = await joined(emulator, database, clock, family, MIA_ID, "Mia", "child")
    await mia_builds_houses(mia)

    await mia.send("/mydata")
    assert "just for you" in ((await mia.next_reply()).text or "")
    mine = await documents(mia, emulator)
    assert all(MIA_WORDS in text for text in mine.values())
    data = json.loads(next(t for n, t in mine.items() if n.endswith(".json")))
    assert [a["who_can_see_it"] for a in data["answers"]] == ["Only you", "Only you"]

    await sam.send("/mydata")
    await sam.next_reply()
    theirs = await documents(sam, emulator)
    assert all("Biscuit" not in text for text in theirs.values())


async def test_a_practitioner_gets_their_own_record(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    await joined(emulator, database, clock, family, SAM_ID, "Sam")
    practitioner = await alex(emulator)
    await practitioner.send("/family Green")
    await reply_containing(practitioner, "Green family")
    await practitioner.send("/mydata")
    await practitioner.next_reply()
    files = await documents(practitioner, emulator)
    data = json.loads(next(t for n, t in files.items() if n.endswith(".json")))
    assert data["you"]["name"] == "Alex"
    assert data["families"] == [
        {
            "name": "Green",
            "nation": "england",
            "created_at": data["families"][0]["created_at"],
            "members_joined": 1,
        }
    ]
    assert [e["action"] for e in data["activity_log"]] == ["view_family"]
    assert "Sam" not in files[next(iter(files))]


async def test_forget_asks_then_erases_and_tells_the_practitioner(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    practitioner = await alex(emulator)
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await reply_containing(practitioner, "Sam (parent) has joined")
    await sam_checks_in(sam)
    member = await member_of(database, SAM_ID)
    alert_id = await alert_for(database, member, "the words that raised it")

    await sam.send("/forget")
    ask = await sam.next_reply()
    assert "delete your data" in (ask.text or "")
    assert [label for row in ask.buttons for label, _ in row] == [
        "Yes, delete my data",
        "No, keep it",
    ]
    await sam.press("Yes, delete my data")
    goodbye = await reply_containing(sam, "your data has been deleted")
    assert "new link" in (goodbye.text or "")
    told = await reply_containing(practitioner, "asked for their data to be erased; done")
    assert "Sam (parent, Green family)" in (told.text or "")
    assert "Safeguarding alerts raised from their words are kept" in (told.text or "")

    erased = await rows(database, Member, id=member.id)
    assert erased[0].display_name == "Erased member"
    assert erased[0].telegram_user_id is None
    assert erased[0].chat_id is None
    assert not erased[0].active
    assert erased[0].pending_json is None
    for table in (Answer, FlowRun, Schedule, Reminder, OutboxMessage):
        assert await count(database, table, member_id=member.id) == 0, table
    assert await count(database, OutboxMessage, chat_id=SAM_ID, status="pending") == 0
    (alert,) = await rows(database, SafeguardingAlert, id=alert_id)
    assert alert.member_id is None
    assert alert.text == "the words that raised it"
    (entry,) = await rows(database, AuditEntry, action="erasure")
    assert entry.target_id == member.id
    assert entry.detail is not None
    assert "answers=1" in entry.detail
    assert "Bedtimes" not in entry.detail
    # The practitioner's note leaves the outbox once delivered (it names the person).
    notes = await rows(database, OutboxMessage, chat_id=PRACTITIONER_ID, status="sent")
    assert notes
    assert all("erased; done" not in r.payload_json for r in notes)

    # Now a stranger to the bot...
    await sam.send("Hello?")
    assert (await sam.next_reply()).text == UNKNOWN_TEXT
    # ...who can join again with a new invite.
    await sam.send(f"/start {await invite_code(database, clock, family, 'parent', 'Sam')}")
    assert "Welcome, Sam" in ((await sam.next_reply()).text or "")
    again = await member_of(database, SAM_ID)
    assert again.id != member.id
    assert again.display_name == "Sam"


async def test_no_keeps_everything(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await sam_checks_in(sam)
    await sam.send("/forget")
    await sam.next_reply()
    await sam.press("No, keep it")
    assert "nothing has been deleted" in ((await sam.next_reply()).text or "")
    member = await member_of(database, SAM_ID)
    assert member.display_name == "Sam"
    assert await count(database, Answer, member_id=member.id) == 1


async def test_a_yes_pressed_after_an_hour_changes_nothing(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await sam.send("/forget")
    await sam.next_reply()
    clock.advance(timedelta(hours=2))
    await sam.press("Yes, delete my data")
    (answer,) = await sam.callback_answers()
    assert (answer.text or "").startswith("That question has expired")
    assert (await member_of(database, SAM_ID)).display_name == "Sam"


@pytest.mark.parametrize("extra_settings", [{"RPBOT_ERASURE_MODE": "pseudonymise"}])
async def test_pseudonymise_keeps_the_answers_without_the_person(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    practitioner = await alex(emulator)
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await sam_checks_in(sam)
    member = await member_of(database, SAM_ID)
    alert_id = await alert_for(database, member, "kept words")
    await sam.send("/forget")
    assert "without your name" in ((await sam.next_reply()).text or "")
    await sam.press("Yes, delete my data")
    await reply_containing(sam, "your name and account have been removed")
    told = await reply_containing(practitioner, "asked for their data to be erased; done")
    assert f"kept as 'Member {member.id}'" in (told.text or "")

    (renamed,) = await rows(database, Member, id=member.id)
    assert renamed.display_name == f"Member {member.id}"
    assert renamed.telegram_user_id is None
    assert renamed.chat_id is None
    (answer,) = await rows(database, Answer, member_id=member.id)
    assert answer.free_text == SAM_WORDS
    (run,) = await rows(database, FlowRun, member_id=member.id)
    assert run.status == "stopped"
    session = Session.from_json(run.session_json)
    assert session.context == {}
    assert session.answers
    assert "Sam" not in run.session_json
    (alert,) = await rows(database, SafeguardingAlert, id=alert_id)
    assert alert.member_id is None
    assert alert.text == "kept words"
    assert await count(database, Schedule, member_id=member.id) == 0
    await sam.send("/menu")
    assert (await sam.next_reply()).text == UNKNOWN_TEXT


@pytest.mark.parametrize("extra_settings", [{"RPBOT_RETENTION_DAYS": 30}])
async def test_retention_purges_old_answers_once_an_hour(
    bot: TelegramBot, emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> None:
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await sam_checks_in(sam, "old words")
    await sam.send("/stop")
    await sam.next_reply()
    member = await member_of(database, SAM_ID)
    await bot.sweep_once()
    assert await count(database, Answer, member_id=member.id) == 1  # not old yet

    clock.advance(timedelta(days=31))
    await sam_checks_in(sam, "new words")
    await bot.sweep_once()
    answers = await rows(database, Answer, member_id=member.id)
    assert [a.free_text for a in answers] == ["new words"]
    old_run = (await rows(database, FlowRun, member_id=member.id))[0]
    assert old_run.status != "active"
    assert Session.from_json(old_run.session_json).answers == {}
    assert "old words" not in old_run.session_json
    purges = await rows(database, AuditEntry, action="retention_purge")
    assert len(purges) == 1  # the first sweep found nothing old: no entry
    assert purges[0].detail == "days=30 answers=1 sessions=1"

    async def last_run() -> int | None:
        async with database.transaction() as repos:
            return await repos.privacy.get_value(RETENTION_JOB)

    ran_at = await last_run()
    clock.advance(timedelta(minutes=59))
    await bot.sweep_once()  # within the hour: it does not run
    assert await last_run() == ran_at
    clock.advance(timedelta(minutes=2))
    await bot.sweep_once()
    assert await last_run() == (ran_at or 0) + 61
