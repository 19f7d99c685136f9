"""Updates from one person run one at a time, in order; different people run concurrently."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from rpbot.telegram.processor import PerPersonUpdateProcessor

pytestmark = pytest.mark.asyncio


def update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Person", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text="hi")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_person_in_order_and_people_at_once() -> None:
    processor = PerPersonUpdateProcessor(16)
    log: list[str] = []
    gates = {name: asyncio.Event() for name in ("a1", "b1")}

    async def work(name: str) -> None:
        log.append(f"start {name}")
        if name in gates:
            await gates[name].wait()
        log.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(update(1, 10), work("a1"))),
        asyncio.create_task(processor.process_update(update(2, 10), work("a2"))),
        asyncio.create_task(processor.process_update(update(3, 20), work("b1"))),
    ]
    await asyncio.sleep(0)  # let the tasks reach their locks
    for _ in range(3):
        await asyncio.sleep(0)
    # a1 and b1 (different people) are both running; a2 waits for a1.
    assert "start a1" in log
    assert "start b1" in log
    assert "start a2" not in log
    gates["a1"].set()
    gates["b1"].set()
    await asyncio.gather(*tasks)
    assert log.index("end a1") < log.index("start a2")
    assert processor._locks == {}  # nothing kept once everyone is done
