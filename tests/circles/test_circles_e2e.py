"""Family circles end to end: the real bot against the local Bot API, on a FakeClock.

The clock starts on Monday 23 November 2026 at 18:00 London time (= UTC). Sweeps are driven
by the test (``bot.sweep_once()`` after moving the clock); nothing sleeps.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import AuditEntry
from rpbot.storage.tables_circles import CircleRound, CircleTurn
from rpbot.telegram.app import TelegramBot
from tests.privacy.test_privacy_e2e import documents
from tests.telegram.conftest import PRACTITIONER_ID, START
from tests.telegram.helpers import joined, labels, reply_containing, rows

pytestmark = pytest.mark.asyncio

PROMPT = "One word for how you feel today."


async def sweep_at(bot: TelegramBot, clock: FakeClock, hours: float) -> None:
    clock.set(START + timedelta(hours=hours))
    await bot.sweep_once()


def circle_messages(*users: FakeUser) -> dict[str, int]:
    """How many circle messages (⭕) each person has had (reminders are not counted)."""
    return {u.first_name: sum("⭕" in (m.text or "") for m in u.messages) for u in users}


async def green(
    emulator: BotApiEmulator, database: Database, clock: FakeClock, family: int
) -> tuple[FakeUser, FakeUser, FakeUser]:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")
    jo = await joined(emulator, database, clock, family, 1003, "Jo")
    return sam, mia, jo


async def test_a_circle_with_one_late_member_closes_at_the_deadline(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam, mia, jo = await green(emulator, database, clock, family)

    # Sam starts a circle: a prompt from the file, Mia then Sam then Jo, tonight 21:00.
    await sam.send("/circle")
    choose = await reply_containing(sam, "Which question?")
    assert f"{PROMPT[:60]}" in labels(choose)
    assert "✏️ My own question" in labels(choose)
    await sam.press(PROMPT)
    await reply_containing(sam, "Who is in this circle?")
    for name in ("Mia", "Sam", "Jo"):
        await sam.press(f"➕ {name}")
        await reply_containing(sam, "So far:")
    await sam.press("✔️ Done")
    deadlines = await reply_containing(sam, "answered by?")
    assert labels(deadlines) == ["🌙 Tonight 21:00", "📅 Tomorrow 21:00", "🗓 In 3 days"]
    await sam.press("🌙 Tonight 21:00")

    # Everyone is asked privately; the child in simpler words.
    asked_mia = await reply_containing(mia, "Circle time, Mia!")
    assert "One word for how you feel today 🙂" in (asked_mia.text or "")
    assert labels(asked_mia) == ["✍️ Answer", "🙅 Pass"]
    await reply_containing(jo, f"“{PROMPT}”")
    await reply_containing(sam, f"“{PROMPT}”")
    started = await reply_containing(sam, "The circle has started: Mia, Sam, Jo.")
    assert "Mon 23 Nov at 21:00" in (started.text or "")

    # Mia answers by typing, and agrees to share; Sam answers; Jo says nothing.
    await mia.send("Happy")
    consent = await reply_containing(mia, "Can I share your answer with your family?")
    assert labels(consent) == ["👍 Yes, share it", "🔒 Keep it private"]
    await mia.press("👍 Yes, share it")
    await reply_containing(mia, "Your family will see your answer")
    await sam.send("Tired but hopeful")
    await reply_containing(sam, "Your answer is saved")

    # Before the deadline nothing is shared.
    before = circle_messages(sam, mia, jo)
    await sweep_at(bot, clock, 2.98)  # 20:59
    [circle] = await rows(database, CircleRound)
    assert circle.status == "open"
    # At 21:00 the round closes; everyone is in quiet hours, so it is shared in the morning.
    await sweep_at(bot, clock, 3)
    [circle] = await rows(database, CircleRound)
    assert (circle.status, circle.close_reason) == ("closed", "deadline")
    assert circle_messages(sam, mia, jo) == before
    statuses = [t.status for t in await rows(database, CircleTurn)]
    assert statuses == ["answered", "answered", "late"]

    await sweep_at(bot, clock, 13.5)  # Tuesday 07:30: the end of Mia's quiet hours
    shared_mia = await reply_containing(mia, "Here's what everyone said")
    assert circle_messages(sam, jo) == {"Sam": before["Sam"], "Jo": before["Jo"]}
    await sweep_at(bot, clock, 14)  # 08:00, the adults' quiet hours end
    shared_sam = await reply_containing(sam, "The family circle is complete")
    shared_jo = await reply_containing(jo, "The family circle is complete")
    for shared in (shared_sam, shared_jo):
        text = shared.text or ""
        # In turn order: the order Sam chose; the late member kindly shown as passing.
        assert text.index("1. Mia: “Happy”") < text.index("2. Sam: “Tired but hopeful”")
        assert "3. Jo passed this time 💛" in text
    assert "1. Mia: “Happy”" in (shared_mia.text or "")
    # Nothing is sent twice.
    counts = circle_messages(sam, mia, jo)
    await sweep_at(bot, clock, 15)
    assert circle_messages(sam, mia, jo) == counts

    # The practitioner sees the round in the digest, with the programme line.
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/digest")
    texts = []
    for _ in range(12):
        message = await alex.next_reply()
        if message.method == "sendDocument":
            break
        texts.append(message.text or "")
    everything = "\n".join(texts)
    assert "Circles" in everything
    assert "“One word for how you feel today.” from Sam: 2 of 3 answered" in everything
    assert "Mia: “Happy”" in everything
    assert "Jo passed" in everything
    assert "Programme: week 1 of 8 · 0 of 8 modules done" in everything

    # Sam's own circle answer is in their /mydata export; Mia's is not.
    await sam.send("/mydata")
    files = await documents(sam, emulator)
    data = json.loads(next(text for name, text in files.items() if name.endswith(".json")))
    assert [t["answer"] for t in data["circle_answers"]] == ["Tired but hopeful"]
    page = next(text for name, text in files.items() if name.endswith(".html"))
    assert "Tired but hopeful" in page
    assert "Happy" not in json.dumps(data["circle_answers"])


async def test_a_child_who_keeps_it_private_is_not_quoted_and_the_round_closes_early(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam = await joined(emulator, database, clock, family, 1001, "Sam")
    mia = await joined(emulator, database, clock, family, 1002, "Mia", "child")
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    await alex.send("/circle")
    await reply_containing(alex, "Start a circle with which family?")
    await alex.press("Green")
    await reply_containing(alex, "Which question?")
    await alex.press("✏️ My own question")
    await reply_containing(alex, "Type the question")
    await alex.send("What is one kind thing someone did today?")
    await reply_containing(alex, "Who is in this circle?")
    await alex.press("👪 Everyone")
    await reply_containing(alex, "answered by?")
    await alex.press("📅 Tomorrow 21:00")
    await reply_containing(alex, "You'll see it in your digest")

    await reply_containing(mia, "“What is one kind thing someone did today?”")
    await mia.press("✍️ Answer")
    await reply_containing(mia, "Type your answer")
    await mia.send("Sam made pancakes")
    await reply_containing(mia, "Can I share")
    await mia.press("🔒 Keep it private")
    await reply_containing(mia, "stays private")
    await reply_containing(sam, "A family circle from Alex")
    await sam.send("Mia helped me tidy up")
    # Everyone has answered: the round closes at once (18:00 is outside quiet hours).
    shared = await reply_containing(sam, "The family circle is complete")
    assert "Mia kept their answer private 🔒" in (shared.text or "")
    assert "pancakes" not in (shared.text or "")
    assert "1. Sam: “Mia helped me tidy up”" in (shared.text or "")
    await reply_containing(mia, "Here's what everyone said")
    [circle] = await rows(database, CircleRound)
    assert (circle.status, circle.close_reason) == ("closed", "all_answered")

    # A press on the closed round's buttons changes nothing.
    await mia.press("🙅 Pass")
    answers = await mia.callback_answers()
    assert answers[-1].text == "This circle has closed - thank you 💛"


async def test_forged_circle_buttons_are_refused(
    emulator: BotApiEmulator, bot: TelegramBot, family: int, database: Database, clock: FakeClock
) -> None:
    sam, mia, jo = await green(emulator, database, clock, family)
    await sam.send("/circle")
    await reply_containing(sam, "Which question?")
    await sam.press(PROMPT)
    await reply_containing(sam, "Who is in this circle?")
    await sam.press("👪 Everyone")
    await reply_containing(sam, "answered by?")
    await sam.press("🌙 Tonight 21:00")
    await reply_containing(jo, f"“{PROMPT}”")
    sam_turn = (await rows(database, CircleTurn))[0]
    # Jo presses Sam's turn, a child tries to start a circle, Jo names another family.
    await jo.press_data(f"c1:p:{sam_turn.id}")
    await mia.press_data(f"c1:q:{family}:0")
    await jo.press_data("c1:q:999:0")
    notices = [a.text for a in await jo.callback_answers()]
    assert notices == ["That isn't available here.", "That isn't available here."]
    assert [a.text for a in await mia.callback_answers()] == ["That isn't available here."]
    turns = await rows(database, CircleTurn)
    assert [t.status for t in turns] == ["asked", "asked", "asked"]
    refused = [e.action for e in await rows(database, AuditEntry) if e.action.startswith("refused")]
    assert sorted(refused) == ["refused_circle", "refused_circle", "refused_family"]
