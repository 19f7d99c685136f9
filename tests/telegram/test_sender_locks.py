"""One delivery at a time per chat, however deliveries overlap (else messages interleave)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest
from telegram import Bot

from rpbot.clock import FakeClock
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage
from rpbot.telegram.sender import OutboxSender

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def row(row_id: int, chat_id: int) -> OutboxMessage:
    return OutboxMessage(
        id=row_id, chat_id=chat_id, method="send", payload_json="{}", created_at=NOW
    )


async def test_overlapping_deliveries_to_one_chat_take_turns_in_order() -> None:
    sender = OutboxSender(cast(Bot, None), cast(Database, None), FakeClock(NOW))
    active: dict[int, int] = {}
    most = 0
    order: list[int] = []

    async def deliver_one(item: OutboxMessage) -> bool:
        nonlocal most
        active[item.chat_id] = active.get(item.chat_id, 0) + 1
        most = max(most, active[item.chat_id])
        for _ in range(3):  # sending takes a few turns of the loop
            await asyncio.sleep(0)
        active[item.chat_id] -= 1
        order.append(item.id or 0)
        return True

    sender._deliver = deliver_one  # type: ignore[method-assign]
    first = asyncio.create_task(sender.deliver([row(1, 1), row(2, 1)]))
    await asyncio.sleep(0)
    second = asyncio.create_task(sender.deliver([row(3, 1)]))  # waits for the first
    await first  # the second is woken now but does not hold the lock yet
    third = asyncio.create_task(sender.deliver([row(4, 1), row(5, 2)]))
    await asyncio.gather(second, third)
    assert most == 1
    assert [i for i in order if i != 5] == [1, 2, 3, 4]
    assert sender._locks == {}  # nothing kept once every delivery is done
