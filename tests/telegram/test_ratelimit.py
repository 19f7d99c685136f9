"""The rate limiter holds overall and per-chat rates, with a fake clock (no real waiting)."""

from __future__ import annotations

import pytest

from rpbot.telegram.ratelimit import RateLimiter

pytestmark = pytest.mark.asyncio


class FakeTime:
    """A monotonic clock that advances only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_overall_rate_is_held_across_many_chats() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, 1, clock=fake.clock, sleep=fake.sleep)
    for chat in range(300):
        await limiter.acquire(chat)
    # 30 may go at once, the other 270 at 30/s: 9 seconds.
    assert fake.now - 100.0 == pytest.approx(9.0, abs=0.05)


async def test_one_chat_bursts_then_keeps_to_one_per_second() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, 1, per_chat_burst=3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        await limiter.acquire(7)
    assert fake.sleeps == []
    for _ in range(5):
        await limiter.acquire(7)
    assert fake.now - 100.0 == pytest.approx(5.0, abs=0.01)


async def test_other_chats_are_not_held_up_by_a_busy_one() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, 1, per_chat_burst=1, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire(1)
    await limiter.acquire(2)
    assert fake.sleeps == []


async def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0, 1)


async def test_edits_count_only_against_the_overall_rate() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, 1, per_chat_burst=1, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire(7)
    for _ in range(5):
        await limiter.acquire(7, new_message=False)
    assert fake.sleeps == []
    await limiter.acquire(7)
    assert fake.now - 100.0 == pytest.approx(1.0, abs=0.01)
