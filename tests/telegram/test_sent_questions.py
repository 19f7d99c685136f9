"""Questions this process sent are remembered for the edits that close them: same edit,
one database read fewer; anything not remembered is read from its row as before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio
from telegram import Bot

from rpbot.clock import FakeClock
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage
from rpbot.telegram.sender import OutboxSender, SentQuestions
from tests.telegram.helpers import CountingDatabase

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
CHAT = 700
QUESTION = {"text": "How was bedtime?", "buttons": [[{"label": "Calm", "data": "v1:c"}]]}


@dataclass
class Sent:
    message_id: int


class RecordingBot:
    """The two Bot API calls a question and its closing make, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Sent:
        self.calls.append(("send", {"chat_id": chat_id, "text": text}))
        return Sent(message_id=5000 + len(self.calls))

    async def edit_message_text(self, text: str, **kwargs: Any) -> bool:
        self.calls.append(("edit_text", {"text": text, **kwargs}))
        return True

    async def edit_message_reply_markup(self, chat_id: int, message_id: int, **kw: Any) -> bool:
        self.calls.append(("edit_buttons", {"chat_id": chat_id, "message_id": message_id}))
        return True


async def _queue(db: Database, method: str, payload: dict[str, Any], ref: int | None = None) -> int:
    async with db.transaction() as repos:
        row = await repos.outbox.add(CHAT, method, json.dumps(payload), NOW, ref_id=ref)
    return row.id or 0


async def _rows(db: Database, *ids: int) -> list[OutboxMessage]:
    async with db.transaction() as repos:
        rows = [await repos.outbox.by_id(row_id) for row_id in ids]
    return [row for row in rows if row is not None]


def _sender(bot: RecordingBot, db: CountingDatabase) -> OutboxSender:
    return OutboxSender(cast(Bot, bot), cast(Database, db), FakeClock(NOW))


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'questions.db'}")
    await database.create_all()
    yield database
    await database.dispose()


async def test_closing_a_remembered_question_gives_the_same_edit_without_a_read(
    db: Database,
) -> None:
    bot = RecordingBot()
    counting = CountingDatabase(db)
    sender = _sender(bot, counting)
    question = await _queue(db, "send", QUESTION)
    await sender.deliver(await _rows(db, question))
    assert bot.calls[-1][0] == "send"
    close = await _queue(db, "close", {"answer": "Calm"}, ref=question)
    before = counting.transactions
    await sender.deliver(await _rows(db, close))
    assert counting.transactions - before == 1  # the "sent" mark only: no read of the question
    remembered_edit = bot.calls[-1]
    assert remembered_edit == (
        "edit_text",
        {
            "text": "How was bedtime?\n\n<i>→ Calm</i>",
            "chat_id": CHAT,
            "message_id": 5001,
            "parse_mode": "HTML",
        },
    )
    # A sender that never sent the question (another worker, or after a restart) reads it
    # from its row and makes exactly the same edit.
    fresh = _sender(bot, counting)
    again = await _queue(db, "close", {"answer": "Calm"}, ref=question)
    before = counting.transactions
    await fresh.deliver(await _rows(db, again))
    assert counting.transactions - before == 2  # the read, then the mark
    assert bot.calls[-1] == remembered_edit


async def test_closing_forgets_and_a_later_edit_reads_the_row(db: Database) -> None:
    bot = RecordingBot()
    counting = CountingDatabase(db)
    sender = _sender(bot, counting)
    question = await _queue(db, "send", QUESTION)
    await sender.deliver(await _rows(db, question))
    buttons = await _queue(db, "edit", {"buttons": []}, ref=question)
    before = counting.transactions
    await sender.deliver(await _rows(db, buttons))
    assert counting.transactions - before == 1  # still remembered after an edit of buttons
    close = await _queue(db, "close", {"answer": "Calm"}, ref=question)
    await sender.deliver(await _rows(db, close))
    late = await _queue(db, "edit", {"buttons": []}, ref=question)
    before = counting.transactions
    await sender.deliver(await _rows(db, late))
    assert counting.transactions - before == 2  # forgotten once closed: read from the row
    assert bot.calls[-1] == ("edit_buttons", {"chat_id": CHAT, "message_id": 5001})


async def test_only_questions_not_secret_and_not_too_many_are_remembered(
    db: Database,
) -> None:
    bot = RecordingBot()
    sender = _sender(bot, CountingDatabase(db))
    plain = await _queue(db, "send", {"text": "Thank you"})
    secret = await _queue(db, "send", {**QUESTION, "secret": True})
    await sender.deliver(await _rows(db, plain, secret))
    assert len(sender._sent) == 0
    small = SentQuestions(size=2)
    rows = [
        OutboxMessage(id=n, chat_id=CHAT, method="send", payload_json="{}", created_at=NOW)
        for n in (1, 2, 3)
    ]
    for n, row in enumerate(rows):
        small.remember(row, 100 + n)
    assert small.recall(1) is None  # the oldest went first
    recalled = small.recall(3)
    assert recalled is not None
    assert (recalled.id, recalled.sent_message_id, recalled.status) == (3, 102, "sent")
    assert recalled is not rows[2]  # a copy: later changes to the delivered row do not leak
