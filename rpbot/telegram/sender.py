"""The one way messages leave: outbox rows, sent in order per chat, within Telegram's limits.

Rows are written (and claimed by this worker) in the transaction that caused them, sent
outside any transaction, and marked sent (one UPDATE) straight after, so a crash mid-send
resumes with the rest; other workers take over rows whose claim has lapsed.
- Rate limits: every call waits on :class:`~rpbot.telegram.ratelimit.RateLimiter`
  (default 30/s overall, 1/s per chat after a short burst). Chats are sent concurrently.
- 429: wait ``retry_after`` (through the injected sleep) and try again.
- 403 (the person blocked the bot): the member is marked inactive (reminders stop; the
  practitioner sees it) and their queue is dropped, instead of retrying forever.
- 400 "message is not modified": counts as sent. Bad HTML: sent again as plain text.
- Network errors: retried with backoff, then left for the next flush.
- An edit needs the Telegram id of the message it changes: questions this process sent are
  remembered (:class:`SentQuestions`), so closing one needs no extra read of the database;
  anything else (sent by another worker, or before a restart) is read from its row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from rpbot.clock import Clock
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage
from rpbot.telegram.bot_calls import call, needs_ref
from rpbot.telegram.ratelimit import RateLimiter

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
MAX_RETRY_AFTER_TRIES = 5
NETWORK_BACKOFF = (0.5, 2.0, 5.0)  # seconds between tries after a network error
LEASE = timedelta(seconds=60)
NEW_MESSAGES = frozenset({"send", "document"})
CLAIM_BATCH = 500
REMEMBERED_QUESTIONS = 4096  # sent messages kept in memory for the edits that close them


def worker_name() -> str:
    """A name for this process's claims (host, pid and a random part)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxSender:
    """Delivers outbox rows through the Bot API."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        *,
        limiter: RateLimiter | None = None,
        worker: str | None = None,
        concurrency: int = 64,
    ) -> None:
        self.bot = bot
        self.db = db
        self.clock = clock
        self.sleep = sleep
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.worker = worker or worker_name()
        self._gate = asyncio.Semaphore(concurrency)
        self._locks: dict[int, asyncio.Lock] = {}
        self._lock_users: dict[int, int] = {}  # deliveries holding or waiting for a chat's lock
        self._marks = SentMarks(db, clock)
        self._sent = SentQuestions()

    async def deliver(self, rows: Sequence[OutboxMessage]) -> None:
        """Send rows this worker claimed (e.g. just written), in order per chat."""
        by_chat: dict[int, list[OutboxMessage]] = {}
        for row in sorted(rows, key=lambda r: r.id or 0):
            by_chat.setdefault(row.chat_id, []).append(row)
        await asyncio.gather(*(self._chat(chat, queue) for chat, queue in by_chat.items()))

    async def flush(self, chat_ids: Iterable[int]) -> None:
        """Claim and send whatever is pending for these chats."""
        for chat_id in set(chat_ids):
            async with self.db.transaction() as repos:
                rows = await repos.outbox.claim(self.worker, self.clock.now(), LEASE, chat_id)
            await self.deliver(rows)

    async def flush_all(self) -> None:
        """Claim and send everything pending (at start-up and on a timer)."""
        while True:
            async with self.db.transaction() as repos:
                rows = await repos.outbox.claim(
                    self.worker, self.clock.now(), LEASE, limit=CLAIM_BATCH
                )
            if not rows:
                return
            await self.deliver(rows)
            if len(rows) < CLAIM_BATCH:
                return

    async def _chat(self, chat_id: int, rows: list[OutboxMessage]) -> None:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._lock_users[chat_id] = self._lock_users.get(chat_id, 0) + 1
        try:
            async with self._gate, lock:
                for index, row in enumerate(rows):
                    if not await self._deliver(row):
                        await self._release(rows[index + 1 :])
                        return
        finally:
            # Forget the lock only when nobody holds or waits for it: a waiter woken by the
            # release does not hold it yet, and a new lock made meanwhile would let two
            # deliveries interleave one chat's messages.
            self._lock_users[chat_id] -= 1
            if self._lock_users[chat_id] == 0:
                del self._lock_users[chat_id]
                del self._locks[chat_id]

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Send one row; return False to stop this chat (blocked, or the network is down)."""
        ref = None
        if needs_ref(row):
            ref = self._sent.recall(row.ref_id or 0, forget=row.method == "close")
            if ref is None:
                ref = await self._ref(row)
        network_tries = 0
        for _ in range(MAX_RETRY_AFTER_TRIES + len(NETWORK_BACKOFF)):
            await self.limiter.acquire(row.chat_id, new_message=row.method in NEW_MESSAGES)
            try:
                message_id = await call(self.bot, row, ref)
            except RetryAfter as exc:
                await self.sleep(_seconds(exc.retry_after))
                continue
            except Forbidden:
                await self._blocked(row)
                return False
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    await self._mark_sent(row, None)
                    return True
                log.warning("outbox row %s refused by Telegram (%s)", row.id, exc.message[:120])
                await self._mark_failed(row, f"bad request: {exc.message[:120]}")
                return True
            except NetworkError as exc:
                if network_tries == len(NETWORK_BACKOFF):
                    log.warning(
                        "network down sending outbox row %s (%s); left for later",
                        row.id,
                        type(exc).__name__,
                    )
                    await self._release([row])
                    return False
                await self.sleep(NETWORK_BACKOFF[network_tries])
                network_tries += 1
                continue
            await self._mark_sent(row, message_id)
            return True
        await self._mark_failed(row, "rate limited too many times")
        return True

    async def _ref(self, row: OutboxMessage) -> OutboxMessage | None:
        async with self.db.transaction() as repos:
            return await repos.outbox.by_id(row.ref_id or 0)

    async def _mark_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        payload = json.loads(row.payload_json)
        if payload.get("secret") is True:  # rare: its text is scrubbed
            async with self.db.transaction() as repos:
                await repos.outbox.mark_sent(row.id or 0, message_id, self.clock.now(), scrub=True)
        else:
            await self._marks.sent(row.id or 0, message_id)
            if row.method == "send" and message_id is not None and payload.get("buttons"):
                self._sent.remember(row, message_id)
        row.status, row.sent_message_id = "sent", message_id

    async def _mark_failed(self, row: OutboxMessage, error: str) -> None:
        async with self.db.transaction() as repos:
            await repos.outbox.mark_failed(row.id or 0, error, self.clock.now())

    async def _release(self, rows: Sequence[OutboxMessage]) -> None:
        if not rows:
            return
        async with self.db.transaction() as repos:
            for row in rows:
                await repos.outbox.release(row.id or 0)

    async def _blocked(self, row: OutboxMessage) -> None:
        """The person blocked the bot: stop messaging them; the practitioner sees it."""
        now = self.clock.now()
        async with self.db.transaction() as repos:
            for pending in await repos.outbox.pending(row.chat_id, limit=1000):
                await repos.outbox.mark_failed(pending.id or 0, "blocked by the user", now)
            if row.member_id is not None:
                member = await repos.members.by_id(row.member_id)
                if member is not None and member.active:
                    member.active = False
                    await repos.members.save(member)
                    await repos.audit.record(
                        now, "system", None, "member_blocked_bot", "member", member.id
                    )
        log.warning("chat %s blocked the bot; its messages are dropped", row.chat_id)


class SentQuestions:
    """The last questions (messages with buttons) this process sent, for the edits that
    change them: the buttons pressed, then the question closed with its answer under it.

    Only a row whose "sent" mark is committed is remembered, holding what its row in the
    database holds (the id, the message id and the payload), so a recalled row gives the same
    edit as a read one. Closing a question forgets it; at most ``size`` are kept, the oldest
    dropped first (a miss only means the row is read from the database). Messages marked
    secret are never remembered: their text is scrubbed once sent. What is held is the bot's
    own question text, in this process's memory only (an erasure removes the rows; the copy
    here goes when the question is closed, pushed out, or the process stops).
    """

    def __init__(self, size: int = REMEMBERED_QUESTIONS) -> None:
        self.size = size
        self._rows: OrderedDict[int, OutboxMessage] = OrderedDict()

    def remember(self, row: OutboxMessage, message_id: int) -> None:
        if row.id is None:
            return
        self._rows[row.id] = OutboxMessage(
            id=row.id,
            chat_id=row.chat_id,
            method=row.method,
            payload_json=row.payload_json,
            status="sent",
            sent_message_id=message_id,
            created_at=row.created_at,
        )
        self._rows.move_to_end(row.id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def recall(self, row_id: int, *, forget: bool = False) -> OutboxMessage | None:
        if forget:
            return self._rows.pop(row_id, None)
        return self._rows.get(row_id)

    def __len__(self) -> int:
        return len(self._rows)


class SentMarks:
    """Group commit for "sent" marks: one transaction for the messages sent meanwhile.

    Each delivery waits until its own mark is committed before it goes on, exactly as with
    one transaction per message, so a crash can re-send at most the messages in flight (one
    per chat, as before); only the number of transactions shrinks. The first mark after a
    quiet spell is written at once; while a batch is being written, the next one gathers.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._waiting: list[tuple[int, int | None, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def sent(self, row_id: int, message_id: int | None) -> None:
        """Mark one message sent; returns once the mark is committed (or raises why not)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row_id, message_id, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.db.transaction() as repos:
                    await repos.outbox.mark_sent_many(
                        [(row_id, message_id) for row_id, message_id, _ in batch],
                        self.clock.now(),
                    )
            except asyncio.CancelledError:  # shutting down: nobody's mark is known to be in
                for *_, done in batch + self._waiting:
                    done.cancel()
                self._waiting = []
                raise
            except Exception as exc:  # each waiting delivery sees the failure
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
