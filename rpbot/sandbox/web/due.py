"""Read-only questions the sandbox asks the database: what falls due next, what is kept.

These are plain reads; the sweep that acts on due rows is the bot's own
(:meth:`rpbot.telegram.app.TelegramBot.sweep_once`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from rpbot.storage.db import Database
from rpbot.storage.tables import (
    Answer,
    FlowRun,
    OutboxMessage,
    ProcessedUpdate,
    Reminder,
    Schedule,
)

__all__ = ["Continuity", "Kept", "continuity", "kept", "next_due"]

_OPEN_REMINDERS = ("pending", "waiting", "snoozed")


async def next_due(db: Database) -> datetime | None:
    """The earliest instant at which the sweep has something to do, or None.

    Candidates: schedules' ``next_fire_at``; open reminders' ``send_at``; active runs'
    ``nudge_at`` and ``expires_at``. A reminder waiting for its person to finish another
    flow is left out while that flow is active: it cannot go before the flow ends, and the
    flow's own nudge, expiry or the person's answer is what moves it on.
    """
    async with db.transaction() as repos:
        session = repos.session
        busy = select(FlowRun.member_id).where(col(FlowRun.status) == "active")
        candidates: list[Any] = [
            select(func.min(Schedule.next_fire_at)),
            select(func.min(Reminder.send_at)).where(
                col(Reminder.status).in_(_OPEN_REMINDERS),
                (col(Reminder.status) != "waiting") | col(Reminder.member_id).not_in(busy),
            ),
            select(func.min(FlowRun.nudge_at)).where(col(FlowRun.status) == "active"),
            select(func.min(FlowRun.expires_at)).where(col(FlowRun.status) == "active"),
        ]
        found: list[datetime] = []
        for query in candidates:
            value = (await session.exec(query)).one()
            if value is not None:
                found.append(value)
    return min(found, default=None)


@dataclass(frozen=True)
class Kept:
    """What the database holds that a restart must not lose."""

    answers: int
    active_runs: int
    open_reminders: int


async def kept(db: Database) -> Kept:
    """Count saved answers, flows in progress and reminders still to send."""
    async with db.transaction() as repos:
        session = repos.session
        answers = (await session.exec(select(func.count()).select_from(Answer))).one()
        runs = (
            await session.exec(
                select(func.count()).select_from(FlowRun).where(col(FlowRun.status) == "active")
            )
        ).one()
        reminders = (
            await session.exec(
                select(func.count())
                .select_from(Reminder)
                .where(col(Reminder.status).in_(_OPEN_REMINDERS))
            )
        ).one()
    return Kept(int(answers), int(runs), int(reminders))


@dataclass(frozen=True)
class Continuity:
    """Where a new emulator must carry on so a kept database still makes sense to it.

    Telegram's update ids and each chat's message ids only grow. A fresh emulator starting
    at 1 would hand the bot update ids it has already processed (and so ignores), and would
    reuse message ids that the bot's outbox remembers as its old questions.
    """

    next_update_id: int
    next_message_ids: dict[int, int]


async def continuity(db: Database) -> Continuity:
    """The first update id and, per chat, the first message id a new emulator should use."""
    async with db.transaction() as repos:
        session = repos.session
        last_update = (await session.exec(select(func.max(ProcessedUpdate.update_id)))).one()
        rows = await session.exec(
            select(OutboxMessage.chat_id, func.max(OutboxMessage.sent_message_id))
            .where(col(OutboxMessage.sent_message_id).is_not(None))
            .group_by(col(OutboxMessage.chat_id))
        )
        messages = {int(chat): int(last) + 1 for chat, last in rows.all() if last is not None}
    return Continuity(int(last_update or 0) + 1, messages)
