"""Telegram's sending limits as token buckets: about 30 messages/s overall, 1/s per chat.

Every outgoing Bot API call goes through :meth:`RateLimiter.acquire`, which waits (through an
injected sleep) until both the overall bucket and the chat's bucket have a token. A chat may
burst a few messages (a closed question plus the next one) before being held to its rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self) -> float:
        # A hair of tolerance: float rounding must not leave a wait too small to move a clock.
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Overall and per-chat token buckets with an injected clock and sleep."""

    def __init__(
        self,
        overall_per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        per_chat_burst: float = 3.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if overall_per_second <= 0 or per_chat_per_second <= 0:
            raise ValueError("rates must be positive (messages per second)")
        now = clock()
        self.clock = clock
        self.sleep = sleep
        self.per_chat = per_chat_per_second
        self.burst = max(1.0, per_chat_burst)
        # The overall bucket allows one second's worth at once, as Telegram does.
        self.overall = _Bucket(
            overall_per_second, max(1.0, overall_per_second), overall_per_second, now
        )
        self.chats: dict[int, _Bucket] = {}
        self.waited = 0.0

    async def acquire(self, chat_id: int, *, new_message: bool = True) -> None:
        """Wait until one more call for ``chat_id`` is within the limits, then take it.

        Only new messages count against the chat's own rate; edits of messages already there
        (closing a question, ticking a box) count only overall.
        """
        while True:
            now = self.clock()
            chat = self.chats.get(chat_id)
            if chat is None:
                chat = self.chats[chat_id] = _Bucket(self.per_chat, self.burst, self.burst, now)
            self.overall.refill(now)
            chat.refill(now)
            delay = max(self.overall.wait(), chat.wait() if new_message else 0.0)
            if delay <= 0:
                self.overall.tokens -= 1.0
                if new_message:
                    chat.tokens -= 1.0
                self._forget_idle(now)
                return
            self.waited += delay
            await self.sleep(delay)

    def _forget_idle(self, now: float) -> None:
        # A chat whose bucket has refilled completely behaves like a new one: drop it.
        if len(self.chats) > 10_000:
            for chat_id, bucket in list(self.chats.items()):
                bucket.refill(now)
                if bucket.tokens >= bucket.capacity:
                    del self.chats[chat_id]
