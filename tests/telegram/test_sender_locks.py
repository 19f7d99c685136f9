"""One flush at a time per chat, however flushes overlap (else two could send the same rows)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest
from telegram import Bot

from rpbot.clock import FakeClock
from rpbot.storage.db import Database
from rpbot.telegram.sender import OutboxSender

pytestmark = pytest.mark.asyncio


async def test_a_flush_starting_as_another_hands_over_waits_its_turn() -> None:
    sender = OutboxSender(cast(Bot, None), cast(Database, None), FakeClock(datetime.now(UTC)))
    active: dict[int, int] = {}
    most = 0

    async def flush_chat(chat_id: int) -> None:
        nonlocal most
        active[chat_id] = active.get(chat_id, 0) + 1
        most = max(most, active[chat_id])
        for _ in range(3):  # reading and sending take a few turns of the loop
            await asyncio.sleep(0)
        active[chat_id] -= 1

    sender._flush_chat = flush_chat  # type: ignore[method-assign]
    first = asyncio.create_task(sender.flush([1]))
    await asyncio.sleep(0)
    second = asyncio.create_task(sender.flush([1]))  # waits for the first
    await first  # the second is woken now but does not hold the lock yet
    third = asyncio.create_task(sender.flush([1, 2]))
    await asyncio.gather(second, third)
    assert most == 1
    assert sender._locks == {}  # nothing kept once every flush is done
