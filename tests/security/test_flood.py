"""The flood guard on its own: per-person token buckets on a fake clock (no sleeping).

The end-to-end flood (100 messages through the real bot) is in test_bad_input.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from rpbot.services.flood import Flood, FloodGuard, FloodPolicy

START = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
SAM, KIM = 1001, 2001


def run(guard: FloodGuard, user: int, times: list[datetime]) -> list[Flood]:
    return [guard.check(user, at) for at in times]


def every(seconds: float, count: int, start: datetime = START) -> list[datetime]:
    return [start + timedelta(seconds=seconds * n) for n in range(count)]


def test_quick_normal_use_never_trips_it() -> None:
    guard = FloodGuard()
    # A diary answered by buttons as fast as a thumb goes (a tap a second), for 10 minutes...
    assert set(run(guard, SAM, every(1.0, 600))) == {Flood.HANDLE}
    # ...a burst of ten quick messages, then one button mashed 20 times in a second.
    later = START + timedelta(minutes=11)
    assert set(run(guard, SAM, every(0.3, 10, later))) == {Flood.HANDLE}
    mashed = every(0.05, 20, later + timedelta(seconds=3))
    assert set(run(guard, SAM, mashed)) == {Flood.HANDLE}
    assert guard.floods_total == 0


def test_a_flood_of_100_in_10_seconds_gets_one_cool_down_then_is_ignored() -> None:
    guard = FloodGuard()
    verdicts = run(guard, SAM, every(0.1, 100))
    assert verdicts.count(Flood.COOL_DOWN) == 1
    first = verdicts.index(Flood.COOL_DOWN)
    assert set(verdicts[:first]) == {Flood.HANDLE}
    assert set(verdicts[first + 1 :]) == {Flood.IGNORE}
    # 30 at once, and 2 more a second while they keep coming (10 a second): about 37.
    assert 35 <= first <= 40, first
    assert guard.ignored_total == 100 - first
    assert guard.cooling(SAM, START + timedelta(seconds=10))


def test_the_cool_down_ends_and_a_second_flood_soon_after_gets_no_second_message() -> None:
    policy = FloodPolicy()
    guard = FloodGuard(policy)
    run(guard, SAM, [START] * 40)
    assert guard.cooling(SAM, START + policy.cool_down - timedelta(seconds=1))
    back = START + policy.cool_down
    assert guard.check(SAM, back) is Flood.HANDLE  # the bucket refilled while they waited
    again = run(guard, SAM, [back] * 40)
    assert Flood.COOL_DOWN not in again  # told once in ten minutes is enough
    assert again.count(Flood.IGNORE) == 11
    much_later = START + policy.notice_every + timedelta(minutes=5)
    assert Flood.COOL_DOWN in run(guard, SAM, [much_later] * 40)
    assert guard.floods_total == 3


def test_one_persons_flood_does_not_slow_anyone_else() -> None:
    guard = FloodGuard()
    run(guard, SAM, [START] * 50)
    assert guard.cooling(SAM, START)
    assert set(run(guard, KIM, [START] * 30)) == {Flood.HANDLE}


def test_idle_people_are_forgotten_and_the_clock_may_step_back() -> None:
    guard = FloodGuard()
    for user in range(1000):
        guard.check(user, START)
    assert len(guard) == 1000
    guard.check(SAM, START + timedelta(minutes=10))
    assert len(guard) == 1  # only the person just seen
    # A clock set back (the sandbox's) refills nothing and breaks nothing.
    assert guard.check(SAM, START) is Flood.HANDLE


def test_floods_are_logged_at_warning_with_counts_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    guard = FloodGuard()
    run(guard, SAM, [START] * 45)
    guard.check(KIM, START + timedelta(minutes=5))  # anyone's update logs ended cool-downs
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert lines == [
        (logging.WARNING, "flood from Telegram user 1001: updates ignored for 60 s"),
        (logging.WARNING, "flood from Telegram user 1001 over: 15 updates were ignored"),
    ]
