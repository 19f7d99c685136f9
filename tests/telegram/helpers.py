"""Helpers shared by the end-to-end tests: reading replies and looking at the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from rpbot.clock import FakeClock
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.sandbox.records import SentMessage
from rpbot.storage.db import Database
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Answer, FlowRun, Member, OutboxMessage
from tests.telegram.conftest import invite_code


def labels(message: SentMessage) -> list[str]:
    """The labels of a message's buttons, row by row."""
    return [label for row in message.buttons for label, _ in row]


async def question(user: FakeUser) -> SentMessage:
    """Read replies until the next question (a message with buttons or ending in '?')."""
    for _ in range(10):
        reply = await user.next_reply()
        if reply.buttons or (reply.text or "").rstrip().endswith("?"):
            return reply
    raise AssertionError(f"no question arrived:\n{user.history()}")


async def reply_containing(user: FakeUser, needle: str, *, within: int = 10) -> SentMessage:
    """Read replies until one contains ``needle`` (fails after ``within`` replies)."""
    seen: list[str] = []
    for _ in range(within):
        reply = await user.next_reply()
        if needle in (reply.text or ""):
            return reply
        seen.append(reply.text or f"[{reply.method}]")
    raise AssertionError(f"no reply containing {needle!r}; got {seen}\n{user.history()}")


async def settled(condition: Callable[[], Awaitable[bool]]) -> bool:
    """Wait (yielding to the bot's tasks) until ``condition`` holds; False after 5 s."""
    try:
        async with asyncio.timeout(5.0):
            while not await condition():  # noqa: ASYNC110 - state written by the bot's own tasks
                await asyncio.sleep(0.01)
    except TimeoutError:
        return False
    return True


async def count(database: Database, table: type, **where: object) -> int:
    """How many rows of ``table`` match ``where`` (column == value)."""
    async with database.transaction() as repos:
        query = select(func.count()).select_from(table)
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        return int((await repos.session.exec(query)).one())


async def rows(database: Database, table: type[Any], **where: object) -> list[Any]:
    """Rows of ``table`` matching ``where``, in id (insertion) order."""
    async with database.transaction() as repos:
        query = select(table)
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        query = query.order_by(col(table.id))
        return list((await repos.session.exec(query)).all())


async def member_of(database: Database, telegram_id: int) -> Member:
    """The member who joined with this Telegram id."""
    async with database.transaction() as repos:
        member = await repos.members.by_telegram_id(telegram_id)
    assert member is not None, f"nobody joined as {telegram_id}"
    return member


async def runs_of(database: Database, telegram_id: int) -> list[FlowRun]:
    """A member's flow runs, oldest first."""
    member = await member_of(database, telegram_id)
    return list(await rows(database, FlowRun, member_id=member.id))


async def answers_of(database: Database, run_id: int | None) -> list[Answer]:
    """A run's answers in the order they were saved."""
    return list(await rows(database, Answer, run_id=run_id))


async def joined(
    emulator: BotApiEmulator,
    database: Database,
    clock: FakeClock,
    family_id: int,
    user_id: int,
    name: str,
    role: str = "parent",
    *,
    code: str | None = None,
) -> FakeUser:
    """A new person who has joined the family (with ``code`` or a fresh invite).

    Everything the bot sent on joining (the welcome, and anything after it) is already read,
    so the next reply is the answer to whatever the test does next.
    """
    user = emulator.user(user_id, name)
    assert not user.messages, f"{name} has talked to the bot before"
    await user.send(f"/start {code or await invite_code(database, clock, family_id, role, name)}")
    welcome = await user.next_reply()
    assert "Welcome" in (welcome.text or "") or "Hi" in (welcome.text or ""), welcome.text

    async def all_sent() -> bool:
        return await count(database, OutboxMessage, chat_id=user.chat_id, status="pending") == 0

    assert await settled(all_sent)
    for _ in user.messages[1:]:
        await user.next_reply()
    return user


class CountingDatabase:
    """A Database stand-in counting transactions (and failing them on demand)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.transactions = 0
        self.fail: Exception | None = None
        self.hold: asyncio.Event | None = None  # when set: each transaction waits for it

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repos]:
        self.transactions += 1
        if self.hold is not None:
            await self.hold.wait()
        async with self.db.transaction() as repos:
            if self.fail is not None:
                raise self.fail
            yield repos
