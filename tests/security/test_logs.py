"""Logs never hold the bot token or anything a person typed, even with everything at DEBUG.

A realistic session through the real bot and the local Bot API: a practitioner invites a
parent and a child, they join, the parent does a check-in with free text, the child's words
raise a safeguarding concern, the practitioner acknowledges it and asks for a digest, and the
parent asks for a copy of their data. Then no log record, at any level, from any logger of
the bot or its libraries, holds the token, an invite code or a word anyone typed.

The emulator's own records (``aiohttp``, ``rpbot.sandbox``) are left out: they stand in for
Telegram's servers, which see everything anyway, and are not part of the bot.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from rpbot.clock import FakeClock
from rpbot.logs import CAPS
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage.db import Database
from rpbot.storage.tables import Answer, SafeguardingAlert
from tests.telegram.conftest import PRACTITIONER_ID, BotFactory
from tests.telegram.helpers import count, question, reply_containing

PARENT_NAME, CHILD_NAME = "Zanthia", "Quillon"
PARENT_WORDS = (
    "Breakfast went calmly, marmalade-7731 on toast",
    "Shouting at bedtime about the tablet-5520",
    "Ask the school-9914 for a meeting",
    "A calm evening with the puzzle-3382",
)
CHILD_WORDS = (
    "We built a den-6642 in the garden",
    "my mums boyfriend hit me and said dont tell anyone kestrel-1180",
)


async def invite(alex: FakeUser, role: str, name: str) -> str:
    await alex.send("/invite")
    await reply_containing(alex, "Invite someone to which family?")
    await alex.press("Green")
    await reply_containing(alex, "Invite a parent or a child")
    await alex.press(role)
    await reply_containing(alex, "first name")
    await alex.send(name)
    link = await reply_containing(alex, "joining link")
    match = re.search(r"\?start=([A-Za-z0-9_-]{24})", link.text or "")
    assert match, link.text
    return match.group(1)


@pytest.mark.asyncio
async def test_a_whole_session_at_debug_logs_no_words_and_no_token(
    emulator: BotApiEmulator,
    start_bot: BotFactory,
    family: int,
    database: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await start_bot()  # started at DEBUG too: getMe, the command menus, polling
    alex = emulator.user(PRACTITIONER_ID, "Alex")
    codes = [await invite(alex, "Parent", PARENT_NAME), await invite(alex, "Child", CHILD_NAME)]

    parent = emulator.user(1001, PARENT_NAME)
    await parent.send(f"/start {codes[0]}")
    await reply_containing(parent, "Welcome")
    child = emulator.user(1002, CHILD_NAME)
    await child.send(f"/start {codes[1]}")
    await reply_containing(child, "Hi")

    # The parent's check-in, typed.
    await parent.send("/checkin")
    await question(parent)
    for words in PARENT_WORDS[:3]:
        await parent.send(words)
        await question(parent)
    await parent.press("7")
    await question(parent)
    await parent.send(PARENT_WORDS[3])
    await reply_containing(parent, "Check-in done")

    # The child's feelings check-in: a worry that is a safeguarding concern.
    await child.send("/feelings")
    await question(child)
    await child.press("🙂 4")
    await question(child)
    await child.send(CHILD_WORDS[0])
    await question(child)
    await child.send(CHILD_WORDS[1])
    await reply_containing(child, "Childline")
    alert = await reply_containing(alex, "Safeguarding concern")
    assert CHILD_WORDS[1] in (alert.text or "")
    await alex.press("✅ Acknowledge")
    await reply_containing(alex, "Recorded at")

    # The practitioner's digest, the parent's copy of their data.
    clock.advance(timedelta(hours=1))
    await alex.send("/digest")
    for _ in range(12):
        if (await alex.next_reply()).method == "sendDocument":
            break
    await parent.send("/mydata")
    await reply_containing(parent, "everything I keep about you")
    for _ in range(2):
        assert (await parent.next_reply()).method == "sendDocument"

    assert await count(database, Answer) >= 7
    assert await count(database, SafeguardingAlert) == 1
    records = [r for r in caplog.records if not r.name.startswith(("aiohttp", "rpbot.sandbox"))]
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    # The bot logs what happened, by ids and kinds (here: the flow, the alert, the digest).
    names = {r.name for r in records}
    assert {"rpbot.services.safeguarding", "rpbot.services.digests"} <= names, names
    secrets = [emulator.token, *codes, *PARENT_WORDS, *CHILD_WORDS, PARENT_NAME, CHILD_NAME]
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += caplog.handler.format(record)
        for secret in secrets:
            assert secret not in text, (record.name, record.levelname, secret, text[:300])


def test_library_loggers_that_see_contents_are_capped() -> None:
    """Every library known to log contents or the token at DEBUG or INFO has a cap."""
    assert CAPS["httpx"] >= logging.WARNING
    for name in ("telegram", "aiosqlite", "sqlalchemy.engine", "httpcore"):
        assert CAPS[name] >= logging.INFO, name
