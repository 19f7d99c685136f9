"""Telegram's flood limits as token buckets on an injected clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RateLimit", "RateLimiter"]


@dataclass(frozen=True)
class RateLimit:
    """How fast the emulator lets a bot send before answering 429, like Telegram.

    ``clock`` returns seconds (monotonic); tests pass a fake one and move it forward
    instead of sleeping.
    """

    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        capacity = max(1.0, self.rate)
        self.tokens = min(capacity, self.tokens + (now - self.updated_at) * self.rate)
        self.updated_at = now

    def wait_seconds(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Token buckets for the whole bot and for each chat."""

    def __init__(self, limit: RateLimit) -> None:
        self._limit = limit
        self._overall = _Bucket(limit.overall_per_second, max(1.0, limit.overall_per_second), 0.0)
        self._overall.updated_at = limit.clock()
        self._chats: dict[int, _Bucket] = {}

    def take(self, chat_id: int | None) -> int | None:
        """Spend one send for ``chat_id``; return None if allowed, else seconds to wait."""
        now = self._limit.clock()
        buckets = [self._overall]
        if chat_id is not None:
            rate = self._limit.per_chat_per_second
            buckets.append(self._chats.setdefault(chat_id, _Bucket(rate, max(1.0, rate), now)))
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_seconds() for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return None
