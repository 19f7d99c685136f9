"""Sending what the outbox holds, in order per chat, and recording what happened.

Rows are read in one short transaction, sent outside any transaction, and marked sent (with
the Telegram message id) straight after, so a crash mid-send resumes with the rest.
- 403 (the person blocked the bot): the member is marked inactive and their queue dropped.
- 429: wait ``retry_after`` (through an injected sleep) and try again.
- 400 "message is not modified": counts as sent. Bad HTML: sent again as plain text.
- Network errors: left pending for the next flush.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from rpbot.clock import Clock
from rpbot.services.outbox import rows_from_json
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
MAX_RETRY_AFTER_TRIES = 5
FLUSH_BATCH = 20  # rows read per transaction while flushing a chat


class OutboxSender:
    """Delivers pending outbox rows through the Bot API."""

    def __init__(self, bot: Bot, db: Database, clock: Clock, sleep: Sleep = asyncio.sleep) -> None:
        self.bot = bot
        self.db = db
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[int, asyncio.Lock] = {}
        self._lock_users: dict[int, int] = {}  # flushes holding or waiting for a chat's lock

    async def flush(self, chat_ids: Iterable[int]) -> None:
        """Send everything pending for these chats, oldest first."""
        for chat_id in sorted(set(chat_ids)):
            lock = self._locks.setdefault(chat_id, asyncio.Lock())
            self._lock_users[chat_id] = self._lock_users.get(chat_id, 0) + 1
            try:
                async with lock:
                    await self._flush_chat(chat_id)
            finally:
                # Forget the lock only when no flush holds or waits for it: a waiter woken by
                # the release does not hold it yet, and a new lock made meanwhile would let
                # two flushes send the same rows.
                self._lock_users[chat_id] -= 1
                if self._lock_users[chat_id] == 0:
                    del self._lock_users[chat_id]
                    del self._locks[chat_id]

    async def flush_all(self) -> None:
        """Send everything pending for every chat (at start-up and on a timer)."""
        async with self.db.transaction() as repos:
            rows = await repos.outbox.pending(limit=1000)
        await self.flush({row.chat_id for row in rows})

    async def _flush_chat(self, chat_id: int) -> None:
        while True:
            async with self.db.transaction() as repos:
                rows = await repos.outbox.pending(chat_id, limit=FLUSH_BATCH)
                refs = {
                    row.ref_id: await repos.outbox.by_id(row.ref_id)
                    for row in rows
                    if row.ref_id is not None
                }
            if not rows:
                return
            for row in rows:
                if not await self._deliver(row, refs.get(row.ref_id) if row.ref_id else None):
                    return
            if len(rows) < FLUSH_BATCH:
                # That was everything. Whoever adds rows flushes their chats after committing
                # (waiting for this flush's lock), so reading again would only find nothing.
                return

    async def _deliver(self, row: OutboxMessage, ref: OutboxMessage | None) -> bool:
        """Send one row; return False to stop this chat's flush (blocked or network down)."""
        for _ in range(MAX_RETRY_AFTER_TRIES):
            try:
                message_id = await self._call(row, ref)
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
                log.warning("outbox row %s refused by Telegram (%s)", row.id, _reason(exc))
                await self._mark_failed(row, f"bad request: {_reason(exc)}")
                return True
            except NetworkError as exc:
                log.warning(
                    "network error sending outbox row %s (%s); will retry",
                    row.id,
                    type(exc).__name__,
                )
                async with self.db.transaction() as repos:
                    fresh = await repos.outbox.by_id(row.id or 0)
                    if fresh is not None:
                        fresh.attempts += 1
                        await repos.session.flush()
                return False
            await self._mark_sent(row, message_id)
            return True
        await self._mark_failed(row, "rate limited too many times")
        return True

    async def _call(self, row: OutboxMessage, ref: OutboxMessage | None) -> int | None:
        payload: dict[str, Any] = json.loads(row.payload_json)
        chat_id = row.chat_id
        if row.method == "send":
            text = payload["text"] if payload.get("html") else html.escape(payload["text"])
            markup = _keyboard(payload.get("buttons"))
            try:
                sent = await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except BadRequest as exc:
                if "entities" not in exc.message.lower():
                    raise
                log.warning("outbox row %s had invalid HTML; sending it as plain text", row.id)
                sent = await self.bot.send_message(
                    chat_id, html.unescape(_strip_tags(text)), reply_markup=markup
                )
            return sent.message_id
        if row.method == "edit" and payload.get("message_id") is not None:
            await self.bot.edit_message_reply_markup(
                chat_id, int(payload["message_id"]), reply_markup=_keyboard(payload.get("buttons"))
            )
            return None
        if row.method in ("edit", "close"):
            if ref is None or ref.sent_message_id is None:
                return None  # the message it edits was never sent: nothing to change
            if row.method == "edit":
                await self.bot.edit_message_reply_markup(
                    chat_id,
                    int(ref.sent_message_id),
                    reply_markup=_keyboard(payload.get("buttons")),
                )
                return None
            original = json.loads(ref.payload_json)
            text = original["text"] if original.get("html") else html.escape(original["text"])
            if payload.get("answer"):
                text += f"\n\n<i>→ {html.escape(payload['answer'])}</i>"
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=int(ref.sent_message_id),
                parse_mode=ParseMode.HTML,
            )
            return None
        if row.method == "commands":
            commands = [BotCommand(name, description) for name, description in payload["commands"]]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
            return None
        if row.method == "document":
            document = InputFile(payload["content"].encode("utf-8"), filename=payload["filename"])
            message: Message = await self.bot.send_document(
                chat_id, document, caption=payload.get("caption")
            )
            return message.message_id
        if row.method == "leave":
            await self.bot.leave_chat(chat_id)
            return None
        log.warning("outbox row %s has unknown method %s; dropped", row.id, row.method)
        return None

    async def _mark_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        async with self.db.transaction() as repos:
            await repos.outbox.mark_sent(row.id or 0, message_id, self.clock.now())

    async def _mark_failed(self, row: OutboxMessage, error: str) -> None:
        async with self.db.transaction() as repos:
            await repos.outbox.mark_failed(row.id or 0, error, self.clock.now())

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


def _keyboard(data: Any) -> InlineKeyboardMarkup | None:
    rows = rows_from_json(data)
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _reason(exc: BadRequest) -> str:
    # Telegram's description names the problem, never the message text.
    return exc.message[:120]


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]*>", "", text)
